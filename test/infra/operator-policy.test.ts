/**
 * The operator policy allows every call `npm run ops` makes, on the resources it makes them on, and
 * grants nothing the CLI does not call. The calls are collected by running the real commands against
 * aws-sdk-client-mock, with stack outputs and the policy document both resolved from the same
 * synthesized app (lib/local/assembly.ts's resolver: account 000000000000, us-east-1).
 */
import { readdirSync } from 'node:fs';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CancelReplayCommand,
  DescribeApiDestinationCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  ListReplaysCommand,
  PutEventsCommand,
  StartReplayCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { createSecretCommands, type SecretInput } from '../../lib/ops/secret-commands';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteMessageCommand, GetQueueAttributesCommand, ListMessageMoveTasksCommand, ListQueuesCommand, ListQueueTagsCommand, ReceiveMessageCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { PutRecordCommand } from '@aws-sdk/client-firehose';
import { gzipSync } from 'node:zlib';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { IntrinsicResolver, LOCAL_ACCOUNT, LOCAL_REGION, loadAssembly, type CloudAssembly, type StackArtifact } from '../../lib/local/assembly';
import { runCli } from '../../lib/ops/cli';
import type { OpsCommand } from '../../lib/ops/command';
import { createDlqCommands } from '../../lib/ops/dlq-commands';
import { deadLetterQueues } from '../../lib/ops/deployment';
import { createPatternTestCommand } from '../../lib/ops/pattern-commands';
import { createReconcileCommand } from '../../lib/ops/reconcile-command';
import { createReplayCommands } from '../../lib/ops/replay-commands';
import { createTraceCommand } from '../../lib/ops/trace-command';
import { MonitoringOutput, StatefulOutput } from '../../lib/stack-outputs';
import { capture, fakeRuntime } from '../ops/support';
import { targetName, type RouteTarget } from '../../lib/route-table';
import { ARNS, allKindsTable } from './all-kinds-table';
import { denials, resourceTypesOf, type IamRequest, type PolicyDocument } from './iam-evaluator';
import { synthesize } from './synthesize';

/** The IAM service prefix of each SDK client, by its SDK service id (client.config.serviceId). */
const IAM_PREFIX: Record<string, string> = {
  CloudFormation: 'cloudformation',
  EventBridge: 'events',
  SQS: 'sqs',
  Lambda: 'lambda',
  SFN: 'states',
  'Secrets Manager': 'secretsmanager',
  Athena: 'athena',
  DynamoDB: 'dynamodb',
  S3: 's3',
  SNS: 'sns',
  Firehose: 'firehose',
  'CloudWatch Logs': 'logs',
  Glue: 'glue',
  STS: 'sts',
};
/** Commands whose IAM action is not their API name. */
const ACTION_NAMES: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction', 's3:ListObjectsV2': 's3:ListBucket' };

/** The recorder's names from the stateful outputs: what Athena touches with the caller's credentials. */
const recorder = { workGroup: '', recordBucket: '', resultsBucket: '' };

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

const arn = (service: string, resource: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;
const s3 = (resource: string) => `arn:aws:s3:::${resource}`;
const REGION_CONTEXT = { 'aws:RequestedRegion': LOCAL_REGION };

function queueArnOf(url: string): string {
  const { hostname, pathname } = new URL(url);
  const [, account, name] = pathname.split('/');
  return `arn:aws:sqs:${hostname.split('.')[1] ?? LOCAL_REGION}:${account}:${name}`;
}

/** Queues and topics with a customer-managed key: sending to them also uses the key, through the service. */
const keyOf = new Map<string, string>();
/** The key policies of the keys the stacks create. */
const keyPolicyOf = new Map<string, PolicyDocument>();
/**
 * A key of someone else's queue: its owner writes the key policy. KMS needs the key policy to allow
 * too; this is the default one (it lets IAM policies of the key's account decide).
 */
const DELEGATING_KEY_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};
/** An API destination's name to the IAM ARN of its connection (DescribeApiDestination requires both). */
const connectionOf = new Map<string, string>();
/** Glue tables (database/table) with partition projection: Athena then never calls GetPartitions. */
const projectedTables = new Set<string>();

/**
 * What IAM authorizes for one SDK call: each action with every resource the call names for it.
 * Which resource types an action requires is not decided here but by the Service Authorization
 * Reference (test/infra/iam-evaluator.ts): a request that leaves one out fails the test.
 */
function requestsOf(service: string, commandName: string, input: Record<string, unknown>, source: string): IamRequest[] {
  const api = `${service}:${commandName.replace(/Command$/, '')}`;
  const action = ACTION_NAMES[api] ?? api;
  const on = (...resources: string[]): IamRequest => ({ action, resources, context: REGION_CONTEXT, source });
  const also = (other: string, ...resources: string[]): IamRequest => ({ action: other, resources, context: REGION_CONTEXT, source });
  switch (action) {
    case 'cloudformation:DescribeStacks':
      return [on(arn('cloudformation', `stack/${String(input.StackName)}/5c0a1c10-0000-4000-8000-000000000000`))];
    case 'events:DescribeArchive':
      return [on(arn('events', `archive/${String(input.ArchiveName)}`))];
    case 'events:StartReplay':
      return [on(arn('events', `replay/${String(input.ReplayName)}`), String(input.EventSourceArn), String((input.Destination as { Arn: string }).Arn))];
    case 'events:DescribeReplay':
    case 'events:CancelReplay':
      return [on(arn('events', `replay/${String(input.ReplayName)}`))];
    case 'events:ListReplays':
    case 'events:TestEventPattern':
    case 'sqs:ListQueues':
      return [on('*')];
    case 'sqs:StartMessageMoveTask': {
      // SQS also checks that the caller may read and delete at the source and send to the destination.
      const source = String(input.SourceArn);
      const moves = [on(source), ...['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].map((extra) => also(extra, source))];
      return input.DestinationArn ? [...moves, also('sqs:SendMessage', String(input.DestinationArn))] : moves;
    }
    case 'sqs:ListMessageMoveTasks':
      return [on(String(input.SourceArn))];
    case 'lambda:InvokeFunction':
      return [on(String(input.FunctionName))];
    case 'sns:Publish':
      return withKey(on(String(input.TopicArn)), 'sns');
    case 'events:PutEvents':
      return (input.Entries as { EventBusName: string }[]).map((entry) => on(entry.EventBusName));
    case 'events:DescribeApiDestination': {
      const name = String(input.Name);
      return [on(arn('events', `api-destination/${name}`), ...(connectionOf.has(name) ? [connectionOf.get(name) as string] : []))];
    }
    case 'secretsmanager:GetSecretValue':
    case 'secretsmanager:PutSecretValue':
    case 'secretsmanager:ListSecretVersionIds':
      return [on(String(input.SecretId))];
    case 'sqs:SendMessage':
      return withKey(on(queueArnOf(String(input.QueueUrl))), 'sqs');
    case 'states:StartExecution':
      return [on(String(input.stateMachineArn))];
    case 'athena:StartQueryExecution': {
      // Athena reads the table's catalog entries and objects and writes the results as the caller.
      const database = String((input.QueryExecutionContext as { Database?: string } | undefined)?.Database);
      const tables = [...String(input.QueryString).matchAll(/FROM "[^"]+"\."([^"]+)"/g)].map((match) => match[1] as string);
      const glue = (resource: string) => arn('glue', resource);
      return [
        on(arn('athena', `workgroup/${String(input.WorkGroup)}`)),
        also('glue:GetDatabase', glue('catalog'), glue(`database/${database}`)),
        ...tables.flatMap((table) => {
          const resources = [glue('catalog'), glue(`database/${database}`), glue(`table/${database}/${table}`)];
          return [also('glue:GetTable', ...resources), ...(projectedTables.has(`${database}/${table}`) ? [] : [also('glue:GetPartitions', ...resources)])];
        }),
        ...['s3:GetBucketLocation', 's3:ListBucket'].map((s3Action) => also(s3Action, s3(recorder.recordBucket))),
        also('s3:GetObject', s3(`${recorder.recordBucket}/events/dt=2026-11-22/hour=10/r.json.gz`)),
        ...['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'].map((s3Action) => also(s3Action, s3(recorder.resultsBucket))),
        ...['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'].map((s3Action) => also(s3Action, s3(`${recorder.resultsBucket}/results/q-1.csv`))),
      ];
    }
    case 'athena:GetQueryExecution':
    case 'athena:GetQueryResults':
      // IAM checks them on the workgroup the query ran in.
      return [on(arn('athena', `workgroup/${recorder.workGroup}`))];
    case 'firehose:PutRecord':
      return [on(arn('firehose', `deliverystream/${String(input.DeliveryStreamName)}`))];
    case 'dynamodb:BatchGetItem':
      return Object.keys(input.RequestItems as Record<string, unknown>).map((table) => on(arn('dynamodb', `table/${table}`)));
    case 's3:GetObject':
    case 's3:PutObject':
      return [on(s3(`${String(input.Bucket)}/${String(input.Key)}`))];
    case 's3:ListBucket':
      return [{ ...on(s3(String(input.Bucket))), context: { ...REGION_CONTEXT, 's3:prefix': String(input.Prefix ?? '') } }];
    case 'sts:GetCallerIdentity':
      // STS authorizes it for every caller; no policy can deny it (AWS STS API reference).
      return [];
    default:
      if (service === 'sqs' && typeof input.QueueUrl === 'string') return [on(queueArnOf(input.QueueUrl))];
      throw new Error(`the test does not know which resources ${action} acts on (${source}): teach requestsOf`);
  }
}

/** A send to a queue or topic with a customer-managed key also uses the key, through that service only. */
function withKey(request: IamRequest, via: 'sqs' | 'sns'): IamRequest[] {
  const key = keyOf.get(request.resources[0] ?? '');
  if (key === undefined) return [request];
  const context = { ...REGION_CONTEXT, 'kms:ViaService': `${via}.${LOCAL_REGION}.amazonaws.com` };
  const resourcePolicy = keyPolicyOf.get(key) ?? DELEGATING_KEY_POLICY;
  return [request, ...['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({ action, resources: [key], context, source: request.source, resourcePolicy }))];
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** `secret rotate --generate` without a terminal or files: the value never leaves the test. */
const GENERATED_SECRET: SecretInput = {
  stdinIsTerminal: () => true,
  readStdin: () => Promise.reject(new Error('no stdin here')),
  readFile: () => Promise.reject(new Error('no files here')),
  generate: () => 'operator-policy-test-secret',
};

let assembly: CloudAssembly;
let resolver: IntrinsicResolver;
let statements: Statement[];
let policy: PolicyDocument;

/**
 * The local resolver names resources it has no ARN format for `arn:aws:local:…:<logical id>`; a
 * KMS key gets the ARN AWS gives it, so the evaluator sees the resource type the action requires.
 */
function withKeyArns<T>(value: T): T {
  let text = JSON.stringify(value);
  for (const stack of assembly.stacks) {
    for (const [id, resource] of Object.entries(stack.template.Resources)) {
      if (resource.Type === 'AWS::KMS::Key') text = text.split(`arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${id}`).join(arn('kms', `key/${id}`));
    }
  }
  return JSON.parse(text) as T;
}

function stackNamed(name: string): StackArtifact {
  return resolver.stack(name);
}

function outputsOf(stack: StackArtifact) {
  return Object.entries(stack.template.Outputs ?? {}).flatMap(([key, output]) => {
    // The API endpoint exists only once deployed; no ops command reads it, so it is left out.
    if (key === 'WebhookUrl') return [];
    return [{ OutputKey: key, OutputValue: String(resolver.resolve(output.Value, stack, key)) }];
  });
}

beforeAll(() => {
  // A table with every target kind, so the policy is checked for each of them.
  assembly = loadAssembly(synthesize({}, allKindsTable).app.synth().directory);
  resolver = new IntrinsicResolver(assembly);
  for (const route of allKindsTable) {
    for (const target of route.targets) if (target.kind === 'queue' && 'queueArn' in target && typeof target.encryption === 'object') keyOf.set(target.queueArn, target.encryption.kmsKeyArn);
  }
  const routing = assembly.stacks.find((stack) => stack.stackName.endsWith('-fastio-routing')) as StackArtifact;
  for (const [id, resource] of Object.entries(routing.template.Resources)) {
    if (resource.Type === 'AWS::SNS::Topic' && resource.Properties?.KmsMasterKeyId !== undefined) {
      keyOf.set(String(resolver.resolve({ Ref: id }, routing, id)), String(resolver.resolve(resource.Properties.KmsMasterKeyId, routing, id)));
    }
  }
  for (const [id, resource] of Object.entries(routing.template.Resources)) {
    if (resource.Type !== 'AWS::Events::ApiDestination') continue;
    const name = String(resolver.resolve({ Ref: id }, routing, id));
    const connection = (resource.Properties?.ConnectionArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    // IAM names a connection without the id its ARN attribute ends in.
    connectionOf.set(name, arn('events', `connection/${String(resolver.resolve({ Ref: connection }, routing, connection))}`));
  }
  const stateful = assembly.stacks.find((stack) => stack.stackName.endsWith('-fastio-stateful')) as StackArtifact;
  for (const resource of Object.values(stateful.template.Resources)) {
    if (resource.Type !== 'AWS::Glue::Table') continue;
    const table = resolver.resolve(resource.Properties, stateful, 'GlueTable') as { DatabaseName: string; TableInput: { Name: string; Parameters?: Record<string, string> } };
    if (table.TableInput.Parameters?.['projection.enabled'] === 'true') projectedTables.add(`${table.DatabaseName}/${table.TableInput.Name}`);
  }
  const monitoring = assembly.stacks.find((stack) => stack.stackName.endsWith('-fastio-monitoring')) as StackArtifact;
  const policyRef = (monitoring.template.Outputs?.[MonitoringOutput.operatorPolicyArn]?.Value as { Ref: string }).Ref;
  const document = monitoring.template.Resources[policyRef]?.Properties?.PolicyDocument as { Statement: unknown[] };
  statements = withKeyArns(resolver.resolve(document.Statement, monitoring, 'OperatorPolicy') as Statement[]);
  for (const [resource, key] of keyOf) keyOf.set(resource, withKeyArns(key));
  for (const [id, resource] of Object.entries(routing.template.Resources)) {
    if (resource.Type === 'AWS::KMS::Key') keyPolicyOf.set(arn('kms', `key/${id}`), withKeyArns(resolver.resolve(resource.Properties?.KeyPolicy, routing, id) as PolicyDocument));
  }
  policy = { Version: '2012-10-17', Statement: statements };
});

/**
 * Commands that make no AWS call, with the reason; every other command of lib/ops must be run by
 * collectCalls, so a new command cannot escape the policy check.
 */
const NO_AWS_CALLS: Record<string, string> = {
  sign: 'signs a payload on this machine',
  send: 'posts to the webhook URL it is given, over HTTPS, unsigned by AWS',
  'faults add': 'writes the local pipeline fault file',
  'faults list': 'reads the local pipeline fault file',
  'faults clear': 'writes the local pipeline fault file',
  'faults purge': 'empties the local pipeline queues',
  'new consumer': 'writes source files from templates',
  'routes test': 'matches patterns on this machine',
  receive: 'serves HTTPS on loopback for local http targets',
};

function isCommand(value: unknown): value is OpsCommand {
  return typeof value === 'object' && value !== null && Array.isArray((value as OpsCommand).path) && typeof (value as OpsCommand).run === 'function';
}

/** Every command lib/ops exports (what bin/ops.ts registers), found by reading the modules. */
async function exportedCommandPaths(): Promise<string[]> {
  const directory = new URL('../../lib/ops/', import.meta.url);
  const paths = new Set<string>();
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.ts'))) {
    const module = (await import(new URL(file, directory).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      for (const candidate of Array.isArray(value) ? value : [value]) if (isCommand(candidate)) paths.add(candidate.path.join(' '));
    }
  }
  return [...paths].sort();
}

/** The stub of the SDK's base client, answering any client's commands. */
interface BaseStub {
  on(command: abstract new (...args: never[]) => unknown): { resolves(output: object): unknown; callsFake(fake: (input: never) => unknown): unknown };
  calls(): { args: unknown[]; thisValue: unknown }[];
  restore(): void;
}

interface Collected {
  readonly requests: IamRequest[];
  /** The command paths collectCalls ran. */
  readonly ran: Set<string>;
}

/** Runs each operator command the way an incident would, against mocks answering like AWS. */
async function collectCalls(): Promise<Collected> {
  // Every SDK v3 client inherits send from one base class: stubbing it catches every client a
  // command creates, including ones added after this test was written.
  const sdk = mockClient(Object.getPrototypeOf(SQSClient) as typeof SQSClient) as unknown as BaseStub;
  const mock = (_service: string) => sdk;
  const requests: IamRequest[] = [];
  const ran = new Set<string>();
  const stateful = assembly.stacks.find((stack) => stack.stackName.endsWith('-fastio-stateful')) as StackArtifact;
  const archiveName = outputsOf(stateful).find((output) => output.OutputKey === 'ArchiveName')?.OutputValue;
  const busArn = outputsOf(stateful).find((output) => output.OutputKey === 'EventBusArn')?.OutputValue;
  const now = new Date('2026-11-22T12:00:00Z');
  const statefulOutput = (key: string) => outputsOf(stateful).find((output) => output.OutputKey === key)?.OutputValue ?? '';
  recorder.workGroup = statefulOutput('RecorderWorkGroupName');
  recorder.recordBucket = statefulOutput('RecorderBucketName');
  recorder.resultsBucket = statefulOutput('QueryResultsBucketName');
  mock('cloudformation').on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    const stack = stackNamed(input.StackName);
    return { Stacks: [{ StackName: stack.stackName, StackStatus: 'UPDATE_COMPLETE', CreationTime: now, Outputs: outputsOf(stack) }] };
  });
  mock('events').on(DescribeArchiveCommand).resolves({ ArchiveName: archiveName, EventSourceArn: busArn, RetentionDays: 30 });
  mock('events').on(StartReplayCommand).resolves({ ReplayArn: arn('events', 'replay/r'), State: 'STARTING' });
  mock('events').on(DescribeReplayCommand).resolves({ State: 'COMPLETED' });
  mock('events').on(CancelReplayCommand).resolves({ State: 'CANCELLING' });
  mock('states').on(StartExecutionCommand).resolves({ executionArn: arn('states', 'execution:m:e'), startDate: now });
  mock('events').on(ListReplaysCommand).resolves({ Replays: [] });
  mock('events').on(TestEventPatternCommand).resolves({ Result: true });
  // The next receive hands out what a test step put here, once.
  let waiting: { MessageId: string; ReceiptHandle: string; Body: string; Attributes: Record<string, string> }[] = [];
  // The recorder DLQ keeps its letter until it is deleted, as SQS does: reconcile reads it, --recover re-records it.
  const recorderDlqUrl = outputsOf(stateful).find((output) => output.OutputKey === StatefulOutput.recorderDlqUrl)?.OutputValue ?? '';
  let recorderLetters: { MessageId: string; ReceiptHandle: string; Body: string; Attributes: Record<string, string> }[] = [];
  mock('sqs').on(DeleteMessageCommand).callsFake((input: { ReceiptHandle: string }) => {
    recorderLetters = recorderLetters.filter((letter) => letter.ReceiptHandle !== input.ReceiptHandle);
    return {};
  });
  mock('firehose').on(PutRecordCommand).resolves({ RecordId: 'fh-1' });
  mock('sqs').on(ReceiveMessageCommand).callsFake((input: { QueueUrl: string }) => {
    if (input.QueueUrl === recorderDlqUrl) return { Messages: recorderLetters };
    const Messages = waiting;
    waiting = [];
    return { Messages };
  });
  mock('sqs').on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' } });
  // One retained queue that no output names any more: dlq list shows it, peek and redrive take it.
  const routingStack = assembly.stacks.find((stack) => stack.stackName.endsWith('-fastio-routing')) as StackArtifact;
  const orphanName = `${routingStack.stackName}-OldTargetDlq-AbC123`;
  const firstRoute = allKindsTable[0] as (typeof allKindsTable)[number];
  mock('sqs').on(ListQueuesCommand).resolves({ QueueUrls: [`https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${orphanName}`] });
  mock('sqs').on(ListQueueTagsCommand).resolves({ Tags: { stage: 'dev', route: firstRoute.name, target: targetName(firstRoute.targets[0] as RouteTarget), role: 'target-dlq' } });
  mock('sqs').on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
  mock('sqs').on(ListMessageMoveTasksCommand).resolves({ Results: [{ TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1 }] });
  mock('lambda').on(InvokeCommand).resolves({ StatusCode: 202 });
  mock('sns').on(PublishCommand).resolves({ MessageId: 'sns-1' });
  mock('events').on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  mock('events').on(DescribeApiDestinationCommand).resolves({ InvocationEndpoint: 'https://hooks.example.com/in', HttpMethod: 'POST' });
  mock('secretsmanager').on(GetSecretValueCommand).resolves({ SecretString: 'operator-policy-test-credential' });
  mock('secretsmanager').on(PutSecretValueCommand).resolves({ VersionId: 'v-new', VersionStages: ['AWSCURRENT'] });
  mock('secretsmanager').on(ListSecretVersionIdsCommand).resolves({ Versions: [{ VersionId: 'v-new', VersionStages: ['AWSCURRENT'], CreatedDate: now }] });
  const event = { version: '0', id: 'e-1', 'detail-type': 'file.uploaded', source: 'fastio', account: LOCAL_ACCOUNT, time: '2026-11-22T10:00:00Z', region: LOCAL_REGION, resources: [], detail: { eventId: 'evt-1' } };
  const bodies: Record<string, string> = {
    'target-dlq': JSON.stringify(event),
    'buffer-dlq': JSON.stringify(event),
    'on-failure': JSON.stringify({ requestContext: { condition: 'RetriesExhausted' }, requestPayload: event }),
    'workflow-failures': JSON.stringify({ executionArn: 'x', error: 'e', cause: 'c', input: event }),
    'subscription-dlq': JSON.stringify({ Type: 'Notification', MessageId: 'sns-1', TopicArn: 'x', Message: JSON.stringify(event) }),
  };
  // The recorder holds one event of each route, none completed: reconcile --recover re-delivers each.
  const recorded = allKindsTable.map((route, index) => ({ ...event, id: `rec-${index}`, ...route.samples.matching[0], detail: { ...route.samples.matching[0]?.detail, eventId: `evt-r${index}` } }));
  const recordObject = `s3://${recorder.recordBucket}/events/dt=2026-11-22/hour=10/r.json.gz`;
  const columns = ['id', 'time', 'detail_type', 'd_eventid', 'd_extension', 'd_sizemib', 'd_agentid', 'record_object'];
  const cell = (value: unknown) => (value === undefined ? {} : { VarCharValue: String(value) });
  mock('athena').on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  mock('athena').on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  mock('athena').on(GetQueryResultsCommand).resolves({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: columns.map((Name) => ({ Name, Type: 'varchar' })) },
      Rows: [
        { Data: columns.map((name) => ({ VarCharValue: name })) },
        ...recorded.map((copy) => ({ Data: [copy.id, copy.time, copy['detail-type'], copy.detail.eventId, (copy.detail as Record<string, unknown>).extension, (copy.detail as Record<string, unknown>).sizeMiB, (copy.detail as Record<string, unknown>).agentId, recordObject].map(cell) })),
      ],
    },
  });
  mock('dynamodb').on(BatchGetItemCommand).resolves({ Responses: {} });
  const objectBytes = gzipSync(recorded.map((copy) => JSON.stringify(copy)).join('\n'));
  // The recovery log: what the recovery commands wrote under recovery/ is listed and read back by trace and reconcile.
  const recoveryObjects = new Map<string, string>();
  mock('s3').on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    recoveryObjects.set(input.Key, String(input.Body));
    return {};
  });
  mock('s3').on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({ Contents: [...recoveryObjects.keys()].filter((key) => key.startsWith(input.Prefix)).map((Key) => ({ Key })), IsTruncated: false }));
  mock('s3').on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const logged = recoveryObjects.get(input.Key);
    if (logged !== undefined) return { Body: { transformToString: async () => logged } } as never;
    return { Body: { transformToByteArray: async () => new Uint8Array(objectBytes) } } as never;
  });
  mock('sts').on(GetCallerIdentityCommand).resolves({ Arn: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/operator/alice`, Account: LOCAL_ACCOUNT });
  // http targets are reached over HTTPS, not through an SDK: answered here, outside the policy.
  const httpFetch: typeof fetch = async (url) => (String(url).includes('token') ? Response.json({ access_token: 't' }) : new Response(null, { status: 200 }));
  const fake = fakeRuntime(now);
  const runtime = { ...fake.runtime, fetch: httpFetch };
  const commands: OpsCommand[] = [...createDlqCommands(runtime, allKindsTable), ...createReplayCommands(runtime, allKindsTable), createPatternTestCommand({ eventBridge: () => new EventBridgeClient({ region: LOCAL_REGION }) }), ...createSecretCommands(fake.runtime, GENERATED_SECRET), createTraceCommand(runtime, allKindsTable), createReconcileCommand(runtime, allKindsTable)];
  const runExpecting = async (expected: number, ...argv: string[]) => {
    const captured = capture();
    const path = commands.find((command) => command.path.every((word, index) => argv[index] === word))?.path.join(' ') ?? argv.join(' ');
    const before = sdk.calls().length;
    const code = await runCli(commands, argv, captured.io);
    if (code !== expected) throw new Error(`ops ${argv.join(' ')} exited ${code}: ${captured.stderr()}`);
    ran.add(path);
    for (const call of sdk.calls().slice(before)) {
      const client = call.thisValue as { config: { serviceId: string } };
      const service = IAM_PREFIX[client.config.serviceId];
      if (service === undefined) throw new Error(`ops ${path} calls ${client.config.serviceId}: add its IAM prefix to IAM_PREFIX`);
      const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
      requests.push(...requestsOf(service, command.constructor.name, command.input, `ops ${argv.join(' ').slice(0, 120)}`));
    }
  };
  const run = async (...argv: string[]) => runExpecting(0, ...argv);

  try {
    await run('dlq', 'list');
    waiting = [{ MessageId: 'o-1', ReceiptHandle: 'rh-o-1', Body: bodies['target-dlq'] ?? '', Attributes: { SentTimestamp: String(now.getTime() - 60_000) } }];
    await run('dlq', 'peek', orphanName);
    waiting = [{ MessageId: 'o-2', ReceiptHandle: 'rh-o-2', Body: bodies['target-dlq'] ?? '', Attributes: { SentTimestamp: String(now.getTime() - 60_000) } }];
    await run('dlq', 'redrive', orphanName, '--max', '1');
    for (const queue of deadLetterQueues(allKindsTable)) {
      const deadLetter = (id: string) => ({ MessageId: id, ReceiptHandle: `rh-${id}`, Body: bodies[queue.role] ?? '', Attributes: { SentTimestamp: String(now.getTime() - 60_000) } });
      waiting = [deadLetter('m-1')];
      await run('dlq', 'peek', queue.name);
      waiting = [deadLetter('m-2')];
      // A subscription DLQ is not redriven (lib/ops/target-redelivery.ts says why).
      if (queue.role !== 'subscription-dlq') await run('dlq', 'redrive', queue.name, '--max', '1');
      if (queue.role === 'buffer-dlq') await run('dlq', 'redrive', queue.name, '--wait');
    }
    for (const route of allKindsTable) await run('replay', 'start', '--from', '-2h', '--to', '-1h', '--route', route.name, '--name', `r-${route.name}`, '--wait');
    await run('replay', 'start', '--from', '-2h', '--to', '-1h', '--all-routes', '--name', 'r-all');
    await run('replay', 'status', 'r-all');
    await run('replay', 'list');
    await run('replay', 'list', '--state', 'COMPLETED');
    await run('replay', 'cancel', 'r-all');
    await run('secret', 'rotate', '--generate');
    await run('trace', 'evt-r0');
    // One event EventBridge could not hand to Firehose: --recover puts it back on the recorder stream.
    recorderLetters = [{ MessageId: 'rdlq-1', ReceiptHandle: 'rh-rdlq-1', Body: JSON.stringify({ ...event, id: 'rec-dlq', time: '2026-11-22T10:30:00Z', detail: { eventId: 'evt-rdlq' } }), Attributes: { SentTimestamp: String(now.getTime() - 60_000) } }];
    // Nothing completes behind the mocks and the window is within the targets' retry horizon, so
    // recovery ends with events still pending: exit 3.
    await runExpecting(3, 'reconcile', '--from', '2026-11-22T10:00:00Z', '--to', '2026-11-22T11:00:00Z', '--recover');
    await run('pattern', 'test', '--pattern', '{"source":["fastio"]}', '--event', JSON.stringify(event), '--live');

    return { requests, ran };
  } finally {
    sdk.restore();
  }
}

describe('operator policy', () => {
  let collected: Collected;
  let problems: string[];
  beforeAll(async () => {
    collected = await collectCalls();
    problems = [];
    const seen = new Set<string>();
    for (const request of collected.requests) {
      const key = JSON.stringify([request.action, request.resources, request.context]);
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(...(await denials(policy, request, LOCAL_ACCOUNT)));
    }
  }, 60_000);

  it('runs every command lib/ops exports against AWS, except those that make no AWS call', async () => {
    const exported = await exportedCommandPaths();
    expect(exported.filter((path) => !collected.ran.has(path) && !(path in NO_AWS_CALLS))).toEqual([]);
    // A command listed as making no AWS call must still exist.
    expect(Object.keys(NO_AWS_CALLS).filter((path) => !exported.includes(path))).toEqual([]);
  });

  it('allows every call of every command, with every resource the Service Authorization Reference requires for its action', () => {
    expect(collected.requests.length).toBeGreaterThan(50);
    expect([...new Set(problems)]).toEqual([]);
  });

  it('evaluates the recovery log: dlq redrive writes under recovery/, trace and reconcile list and read it back', () => {
    const recovery = collected.requests.filter(
      (request) => request.resources.some((resource) => resource.includes(`:::${recorder.recordBucket}/recovery/`)) || String(request.context?.['s3:prefix'] ?? '').startsWith('recovery/'),
    );
    expect(new Set(recovery.map((request) => request.action))).toEqual(new Set(['s3:PutObject', 's3:GetObject', 's3:ListBucket']));
    expect(recovery.filter((request) => request.action === 's3:PutObject').map((request) => request.source)).toEqual(expect.arrayContaining([expect.stringContaining('ops dlq redrive')]));
    expect(recovery.filter((request) => request.action === 's3:GetObject').map((request) => request.source)).toEqual(expect.arrayContaining([expect.stringContaining('ops trace')]));
  });

  it('grants no action the ops commands do not call', () => {
    const called = new Set(collected.requests.map((request) => request.action));
    const granted = new Set(statements.flatMap((statement) => list(statement.Action)));
    expect([...granted].filter((action) => !called.has(action))).toEqual([]);
  });

  it('grants "*" only for actions that take no resource, and only in the deployment\'s Region', async () => {
    const unscoped = statements.filter((statement) => list(statement.Resource).includes('*'));
    for (const action of unscoped.flatMap((statement) => list(statement.Action))) expect(await resourceTypesOf(action), action).toEqual([]);
    expect(unscoped.map((statement) => statement.Condition)).toEqual(unscoped.map(() => ({ StringEquals: { 'aws:RequestedRegion': LOCAL_REGION } })));
  });

  it('covers no queue or stack of another deployment', async () => {
    expect(await denials(policy, { action: 'sqs:ReceiveMessage', resources: [arn('sqs', 'prod-fastio-routing-documents-buffer-dlq')], context: REGION_CONTEXT, source: 'another stage' }, LOCAL_ACCOUNT)).toHaveLength(1);
    expect(await denials(policy, { action: 'cloudformation:DescribeStacks', resources: [arn('cloudformation', 'stack/other-stack/1')], context: REGION_CONTEXT, source: 'another stack' }, LOCAL_ACCOUNT)).toHaveLength(1);
    // Outside the Region, even the actions that take no resource are refused.
    expect(await denials(policy, { action: 'events:ListReplays', resources: ['*'], context: { 'aws:RequestedRegion': 'eu-north-1' }, source: 'another Region' }, LOCAL_ACCOUNT)).toHaveLength(1);
  });

  it('refuses StartReplay without its destination bus and DescribeApiDestination without its connection, as AWS does', async () => {
    const starts = collected.requests.filter((request) => request.action === 'events:StartReplay');
    const describes = collected.requests.filter((request) => request.action === 'events:DescribeApiDestination');
    expect(starts.length).toBeGreaterThan(0);
    expect(describes.length).toBeGreaterThan(0);
    for (const request of [...starts, ...describes]) {
      const withoutLast = { ...request, resources: request.resources.slice(0, -1) };
      expect((await denials(policy, withoutLast, LOCAL_ACCOUNT)).join('\n')).toMatch(/also requires a (event-bus|connection) resource/);
    }
  });

  it('re-records the recorder DLQ with PutRecord on the recorder stream alone', async () => {
    const puts = collected.requests.filter((request) => request.action === 'firehose:PutRecord');
    expect(puts.length).toBeGreaterThan(0);
    for (const request of puts) expect(await denials(policy, request, LOCAL_ACCOUNT)).toEqual([]);
    const resourcesOf = statements.filter((statement) => list(statement.Action).includes('firehose:PutRecord')).flatMap((statement) => list(statement.Resource));
    expect(resourcesOf).toEqual([puts[0]?.resources[0]]);
  });

  it('redelivers to each target alone: PutEvents only to the other bus, never to our own', () => {
    const resourcesOf = (action: string) => statements.filter((statement) => list(statement.Action).includes(action)).flatMap((statement) => list(statement.Resource));
    expect(resourcesOf('events:PutEvents')).toEqual([ARNS.bus]);
    expect(resourcesOf('sqs:SendMessage')).toEqual(expect.arrayContaining([ARNS.plainQueue, ARNS.managedQueue, ARNS.kmsQueue]));
    expect(resourcesOf('lambda:InvokeFunction')).toContain(ARNS.function);
    expect(resourcesOf('states:StartExecution')).toContain(ARNS.stateMachine);
    expect(resourcesOf('sns:Publish')).toContain(ARNS.topic);
    expect(resourcesOf('secretsmanager:GetSecretValue').sort()).toEqual([ARNS.apiKeySecret, ARNS.clientSecret, ARNS.passwordSecret].sort());
    // The queue's key only through SQS.
    const keyStatement = statements.find((statement) => list(statement.Resource).includes(ARNS.queueKey));
    expect(keyStatement?.Condition).toEqual({ StringLike: { 'kms:ViaService': `sqs.${LOCAL_REGION}.amazonaws.com` } });
  });

  it('lets the operator rotate the signing secret, and never read it', async () => {
    const secretArn = collected.requests.find((request) => request.action === 'secretsmanager:PutSecretValue')?.resources[0] ?? '';
    const asOperator = (action: string) => denials(policy, { action, resources: [secretArn], context: REGION_CONTEXT, source: 'the signing secret' }, LOCAL_ACCOUNT);
    for (const action of ['secretsmanager:PutSecretValue', 'secretsmanager:ListSecretVersionIds']) expect(await asOperator(action), action).toEqual([]);
    expect(await asOperator('secretsmanager:GetSecretValue')).toHaveLength(1);
  });
});
