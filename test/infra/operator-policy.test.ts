/**
 * The operator policy allows every call `npm run ops` makes, on the resources it makes them on, and
 * grants nothing the CLI does not call. The calls are collected by running the real commands against
 * aws-sdk-client-mock, with stack outputs and the policy document both resolved from the same
 * synthesized app (lib/local/assembly.ts's resolver: account 000000000000, us-east-1).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
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
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createSecretCommands, type SecretInput } from '../../lib/ops/secret-commands';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, ListMessageMoveTasksCommand, ReceiveMessageCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
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
import { MonitoringOutput } from '../../lib/stack-outputs';
import { capture, fakeRuntime } from '../ops/support';
import { ARNS, allKindsTable } from './all-kinds-table';
import { synthesize } from './synthesize';

/** IAM service prefix of each client, and the commands whose IAM action is not their API name. */
const CLIENTS = {
  cloudformation: CloudFormationClient,
  events: EventBridgeClient,
  sqs: SQSClient,
  lambda: LambdaClient,
  states: SFNClient,
  secretsmanager: SecretsManagerClient,
  athena: AthenaClient,
  dynamodb: DynamoDBClient,
  s3: S3Client,
  sns: SNSClient,
} as const;

/** The recorder's names from the stateful outputs: what Athena touches with the caller's credentials. */
const recorder = { workGroup: '', recordBucket: '', resultsBucket: '' };
const ACTION_NAMES: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };


interface Permission {
  readonly action: string;
  readonly resource: string;
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

const arn = (service: string, resource: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;

function queueArnOf(url: string): string {
  const { hostname, pathname } = new URL(url);
  const [, account, name] = pathname.split('/');
  return `arn:aws:sqs:${hostname.split('.')[1] ?? LOCAL_REGION}:${account}:${name}`;
}

/** Queues and topics with a customer-managed key: sending to them also uses the key, through the service. */
const keyOf = new Map<string, string>();

/** What IAM evaluates for one SDK call: its action on each resource the call names. */
function permissionsOf(service: string, commandName: string, input: Record<string, unknown>): Permission[] {
  const api = `${service}:${commandName.replace(/Command$/, '')}`;
  const action = ACTION_NAMES[api] ?? api;
  const on = (resource: string): Permission => ({ action, resource });
  switch (action) {
    case 'cloudformation:DescribeStacks':
      return [on(arn('cloudformation', `stack/${String(input.StackName)}/5c0a1c10-0000-4000-8000-000000000000`))];
    case 'events:DescribeArchive':
      return [on(arn('events', `archive/${String(input.ArchiveName)}`))];
    case 'events:StartReplay':
      return [on(arn('events', `replay/${String(input.ReplayName)}`)), on(String(input.EventSourceArn))];
    case 'events:DescribeReplay':
    case 'events:CancelReplay':
      return [on(arn('events', `replay/${String(input.ReplayName)}`))];
    case 'events:ListReplays':
    case 'events:TestEventPattern':
      return [on('*')];
    case 'sqs:StartMessageMoveTask': {
      // SQS also checks that the caller may read and delete at the source and send to the destination.
      const source = String(input.SourceArn);
      const moves = [on(source), ...['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].map((extra) => ({ action: extra, resource: source }))];
      return input.DestinationArn ? [...moves, { action: 'sqs:SendMessage', resource: String(input.DestinationArn) }] : moves;
    }
    case 'sqs:ListMessageMoveTasks':
      return [on(String(input.SourceArn))];
    case 'lambda:InvokeFunction':
      return [on(String(input.FunctionName))];
    case 'sns:Publish':
      return withKey(on(String(input.TopicArn)));
    case 'events:PutEvents':
      return (input.Entries as { EventBusName: string }[]).map((entry) => on(entry.EventBusName));
    case 'events:DescribeApiDestination':
      return [on(arn('events', `api-destination/${String(input.Name)}`))];
    case 'secretsmanager:GetSecretValue':
      return [on(String(input.SecretId))];
    case 'sqs:SendMessage':
      return withKey(on(queueArnOf(String(input.QueueUrl))));
    case 'states:StartExecution':
      return [on(String(input.stateMachineArn))];
    case 'athena:StartQueryExecution': {
      // Athena reads the table's catalog entries, its objects and writes the results as the caller.
      const database = String((input.QueryExecutionContext as { Database?: string } | undefined)?.Database);
      const table = /FROM "[^"]+"\."([^"]+)"/.exec(String(input.QueryString))?.[1] ?? '';
      const s3 = (resource: string) => `arn:aws:s3:::${resource}`;
      return [
        on(arn('athena', `workgroup/${String(input.WorkGroup)}`)),
        ...['catalog', `database/${database}`, `table/${database}/${table}`].flatMap((resource) =>
          ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'].map((glueAction) => ({ action: glueAction, resource: arn('glue', resource) })),
        ),
        ...['s3:GetBucketLocation', 's3:ListBucket'].map((s3Action) => ({ action: s3Action, resource: s3(recorder.recordBucket) })),
        { action: 's3:GetObject', resource: s3(`${recorder.recordBucket}/events/dt=2026-11-22/hour=10/r.json.gz`) },
        ...['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'].map((s3Action) => ({ action: s3Action, resource: s3(recorder.resultsBucket) })),
        ...['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'].map((s3Action) => ({ action: s3Action, resource: s3(`${recorder.resultsBucket}/results/q-1.csv`) })),
      ];
    }
    case 'athena:GetQueryExecution':
    case 'athena:GetQueryResults':
      // IAM checks them on the workgroup the query ran in.
      return [on(arn('athena', `workgroup/${recorder.workGroup}`))];
    case 'dynamodb:BatchGetItem':
      return Object.keys(input.RequestItems as Record<string, unknown>).map((table) => on(arn('dynamodb', `table/${table}`)));
    case 's3:GetObject':
      return [on(`arn:aws:s3:::${String(input.Bucket)}/${String(input.Key)}`)];
    case 'secretsmanager:PutSecretValue':
    case 'secretsmanager:ListSecretVersionIds':
      return [on(String(input.SecretId))];
    default:
      if (service === 'sqs' && typeof input.QueueUrl === 'string') return [on(queueArnOf(input.QueueUrl))];
      throw new Error(`the test does not know which resource ${action} acts on: teach permissionsOf`);
  }
}

function withKey(permission: Permission): Permission[] {
  const key = keyOf.get(permission.resource);
  return key === undefined ? [permission] : [permission, { action: 'kms:GenerateDataKey', resource: key }, { action: 'kms:Decrypt', resource: key }];
}

function glob(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return regex.test(value);
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

function allows(statements: readonly Statement[], permission: Permission): boolean {
  return statements.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      list(statement.Action).some((action) => glob(action, permission.action)) &&
      list(statement.Resource).some((resource) => glob(resource, permission.resource)),
  );
}

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
  const monitoring = assembly.stacks.find((stack) => stack.stackName.endsWith('-fastio-monitoring')) as StackArtifact;
  const policyRef = (monitoring.template.Outputs?.[MonitoringOutput.operatorPolicyArn]?.Value as { Ref: string }).Ref;
  const document = monitoring.template.Resources[policyRef]?.Properties?.PolicyDocument as { Statement: unknown[] };
  statements = resolver.resolve(document.Statement, monitoring, 'OperatorPolicy') as Statement[];
});

/** Runs each operator command the way an incident would, against mocks answering like AWS. */
async function collectCalls(): Promise<Permission[]> {
  const stubs = {
    cloudformation: mockClient(CLIENTS.cloudformation),
    events: mockClient(CLIENTS.events),
    sqs: mockClient(CLIENTS.sqs),
    lambda: mockClient(CLIENTS.lambda),
    states: mockClient(CLIENTS.states),
    secretsmanager: mockClient(CLIENTS.secretsmanager),
    athena: mockClient(CLIENTS.athena),
    dynamodb: mockClient(CLIENTS.dynamodb),
    s3: mockClient(CLIENTS.s3),
    sns: mockClient(CLIENTS.sns),
  };
  const mocks = Object.entries(stubs) as [string, { calls(): { args: unknown[] }[]; restore(): void }][];
  const mock = <K extends keyof typeof stubs>(service: K) => stubs[service];
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
  mock('sqs').on(ReceiveMessageCommand).callsFake(() => {
    const Messages = waiting;
    waiting = [];
    return { Messages };
  });
  mock('sqs').on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' } });
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
  mock('s3').on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(objectBytes) } } as never);
  // http targets are reached over HTTPS, not through an SDK: answered here, outside the policy.
  const httpFetch: typeof fetch = async (url) => (String(url).includes('token') ? Response.json({ access_token: 't' }) : new Response(null, { status: 200 }));
  const fake = fakeRuntime(now);
  const runtime = { ...fake.runtime, fetch: httpFetch };
  const commands: OpsCommand[] = [...createDlqCommands(runtime, allKindsTable), ...createReplayCommands(runtime, allKindsTable), createPatternTestCommand({ eventBridge: () => new EventBridgeClient({ region: LOCAL_REGION }) }), ...createSecretCommands(fake.runtime, GENERATED_SECRET), createTraceCommand(runtime, allKindsTable), createReconcileCommand(runtime, allKindsTable)];
  const runExpecting = async (expected: number, ...argv: string[]) => {
    const captured = capture();
    const code = await runCli(commands, argv, captured.io);
    if (code !== expected) throw new Error(`ops ${argv.join(' ')} exited ${code}: ${captured.stderr()}`);
  };
  const run = async (...argv: string[]) => runExpecting(0, ...argv);

  try {
    await run('dlq', 'list');
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
    // Nothing completes behind the mocks; the window is within its targets' retry horizon, so recovery ends pending: exit 3.
    await runExpecting(3, 'reconcile', '--from', '2026-11-22T10:00:00Z', '--to', '2026-11-22T11:00:00Z', '--recover');
    await run('pattern', 'test', '--pattern', '{"source":["fastio"]}', '--event', JSON.stringify(event), '--live');

    return mocks.flatMap(([service, stub]) =>
      stub.calls().flatMap((call) => {
        const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
        return permissionsOf(service, command.constructor.name, command.input);
      }),
    );
  } finally {
    for (const [, stub] of mocks) stub.restore();
  }
}

describe('operator policy', () => {
  let permissions: Permission[];
  beforeAll(async () => {
    permissions = await collectCalls();
  });

  it('allows every call the ops commands make, on the resource they make it on', () => {
    expect(permissions.length).toBeGreaterThan(50);
    const denied = permissions.filter((permission) => !allows(statements, permission)).map((permission) => `${permission.action} on ${permission.resource}`);
    expect([...new Set(denied)]).toEqual([]);
  });

  it('grants no action the ops commands do not call', () => {
    const called = new Set(permissions.map((permission) => permission.action));
    const granted = new Set(statements.flatMap((statement) => list(statement.Action)));
    expect([...granted].filter((action) => !called.has(action))).toEqual([]);
  });

  it('is scoped: only ListReplays and TestEventPattern, which take no resource, have a * resource', () => {
    const unscopedStatements = statements.filter((statement) => list(statement.Resource).includes('*'));
    expect(unscopedStatements.flatMap((statement) => list(statement.Action)).sort()).toEqual(['events:ListReplays', 'events:TestEventPattern']);
    // They take no resource, so the one statement that names all resources is held to the deployment's Region.
    expect(unscopedStatements.map((statement) => statement.Condition)).toEqual([{ StringEquals: { 'aws:RequestedRegion': LOCAL_REGION } }]);
    // A queue of another deployment is not covered.
    expect(allows(statements, { action: 'sqs:ReceiveMessage', resource: arn('sqs', 'prod-fastio-routing-documents-buffer-dlq') })).toBe(false);
    expect(allows(statements, { action: 'cloudformation:DescribeStacks', resource: arn('cloudformation', 'stack/other-stack/1') })).toBe(false);
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

  it('lets the operator rotate the signing secret, and only that secret', () => {
    const secretArn = statements.flatMap((statement) => list(statement.Resource)).find((resource) => resource.includes(':secretsmanager:')) ?? '';
    for (const action of ['secretsmanager:PutSecretValue', 'secretsmanager:ListSecretVersionIds']) expect(allows(statements, { action, resource: secretArn }), action).toBe(true);
    expect(allows(statements, { action: 'secretsmanager:GetSecretValue', resource: secretArn })).toBe(false);
  });
});
