/**
 * What the local pipeline runs, read from the synthesized templates: the bus and its archive, the
 * signing secret, the tables, the claim-check bucket, every queue with its redrive policy, every function with its
 * environment, timeout and async-invoke settings, the SQS event source mappings, the state
 * machines' definitions, the webhook route and its throttling, and the route rules with their
 * targets, retry policies and target dead-letter queues.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { DeadLetterRole } from '../constructs/secure-queue';
import { consumerOf, routeTable } from '../route-table';
import { DEAD_LETTER_KEYS, deadLetterQueueName } from '../stack-outputs';
import { routeOfConstructPath } from '../synthesized-template';
import { IntrinsicResolver, cdkPath, loadAssembly, physicalResource, type CfnResource, type CloudAssembly, type PhysicalResource, type StackArtifact } from './assembly';
import type { KeyAttribute, TableDefinition } from './dynamodb';
import type { BucketDefinition } from './s3';
import type { QueueDefinition } from './sqs';

export interface FunctionDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** For the terminal and log file names: `ingest`, `documents/catalog-consumer`. */
  readonly label: string;
  readonly route?: string;
  /** Absolute path of the handler module in lambdas/. */
  readonly handlerFile: string;
  readonly handlerExport: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** The template's environment variables, resolved to local names. */
  readonly environment: Readonly<Record<string, string>>;
}

export interface InvokeConfig {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly onFailureQueueArn?: string;
}

export interface EventSourceMappingDefinition {
  readonly functionName: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly maximumConcurrency?: number;
}

export interface StateMachineDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly route?: string;
  readonly definition: Record<string, unknown>;
}

export interface TopicDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

export type TargetKind = 'queue' | 'function' | 'workflow';

export interface RuleTargetDefinition {
  readonly id: string;
  readonly kind: TargetKind;
  /** Queue ARN, function name, or state machine ARN. */
  readonly arn: string;
  readonly resourceName: string;
  readonly deadLetterQueueArn?: string;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
}

export interface RecorderRuleDefinition {
  readonly logicalId: string;
  readonly pattern: unknown;
  readonly streamName: string;
  readonly deadLetterQueueArn?: string;
}

export interface RuleDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The route of lib/route-table.ts this rule was built from (its construct path). */
  readonly route: string;
  readonly pattern: unknown;
  readonly enabled: boolean;
  readonly targets: readonly RuleTargetDefinition[];
}

export interface DeadLetterQueueRef {
  /** Operator-facing name, e.g. `documents/buffer-dlq` (lib/stack-outputs.ts deadLetterQueueName). */
  readonly name: string;
  readonly route: string;
  readonly role: DeadLetterRole;
  readonly queueArn: string;
}

export interface WebhookRoute {
  readonly method: string;
  readonly path: string;
  readonly routeKey: string;
  readonly functionName: string;
}

export interface LocalModel {
  readonly assembly: CloudAssembly;
  readonly bus: { readonly name: string; readonly arn: string };
  /** retentionDays: the synthesized RetentionDays (absent or 0 = indefinitely, as on AWS). */
  readonly archive: { readonly name: string; readonly pattern: unknown; readonly retentionDays?: number };
  readonly secret: { readonly name: string; readonly arn: string };
  readonly tables: readonly TableDefinition[];
  readonly buckets: readonly BucketDefinition[];
  readonly queues: readonly QueueDefinition[];
  readonly functions: readonly FunctionDefinition[];
  readonly invokeConfigs: ReadonlyMap<string, InvokeConfig>;
  readonly eventSourceMappings: readonly EventSourceMappingDefinition[];
  readonly stateMachines: readonly StateMachineDefinition[];
  readonly topics: readonly TopicDefinition[];
  readonly rules: readonly RuleDefinition[];
  /**
   * Rules whose target is a Firehose stream (the flight recorder's catch-all rule). They are not
   * routes and the pipeline does not deliver to them; a local recorder can be built on them.
   */
  readonly recorderRules: readonly RecorderRuleDefinition[];
  readonly deadLetterQueues: readonly DeadLetterQueueRef[];
  readonly webhookRoutes: readonly WebhookRoute[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number } | undefined;
}

const ROLE_BY_CONSTRUCT_ID: Readonly<Record<string, DeadLetterRole>> = Object.fromEntries(
  Object.entries(DEAD_LETTER_KEYS).map(([role, key]) => [key, role as DeadLetterRole]),
);

function resourcesOf(stack: StackArtifact, type: string): [string, CfnResource][] {
  return Object.entries(stack.template.Resources).filter(([, resource]) => resource.Type === type);
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : fallback;
}

/**
 * The handler source of a function: the one `lambdas/<name>/handler.ts` among the sources of its
 * bundled asset (esbuild's source map), else the route table's consumer for its route.
 */
function handlerFileOf(projectRoot: string, assemblyDir: string, resource: CfnResource, route: string | undefined, label: string): string {
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath === 'string') {
    const map = join(assemblyDir, assetPath, 'index.mjs.map');
    if (existsSync(map)) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(map, 'utf8')) as { sources?: string[]; sourceRoot?: string };
      const entries = (sources ?? []).filter((source) => /(^|\/)lambdas\/[^/]+\/handler\.ts$/.test(source));
      if (entries.length === 1) return resolvePath(dirname(map), sourceRoot ?? '', entries[0] as string);
    }
  }
  const routeEntry = routeTable.find((candidate) => candidate.name === route);
  const folder = routeEntry ? routeEntry.targets.map(consumerOf).find((folder) => folder !== undefined) : label === 'ingest' ? 'ingest' : undefined;
  const file = folder === undefined ? undefined : join(projectRoot, 'lambdas', folder, 'handler.ts');
  if (file === undefined || !existsSync(file)) throw new Error(`cannot find the handler source of function ${label}`);
  return file;
}

const SUPPORTED_TARGET_KEYS = new Set(['Id', 'Arn', 'DeadLetterConfig', 'RetryPolicy', 'RoleArn']);

export function loadModel(projectRoot: string, assemblyDir: string): LocalModel {
  const assembly = loadAssembly(assemblyDir);
  const resolver = new IntrinsicResolver(assembly);
  const all = <T>(type: string, build: (stack: StackArtifact, logicalId: string, resource: CfnResource) => T): T[] =>
    assembly.stacks.flatMap((stack) => resourcesOf(stack, type).map(([logicalId, resource]) => build(stack, logicalId, resource)));
  const single = (type: string): PhysicalResource => {
    const found = all(type, (stack, logicalId) => physicalResource(stack, logicalId));
    if (found.length !== 1) throw new Error(`expected one ${type} in the cloud assembly, found ${found.length}`);
    return found[0] as PhysicalResource;
  };

  const busResource = single('AWS::Events::EventBus');
  const archive = all('AWS::Events::Archive', (stack, logicalId, resource) => ({
    name: physicalResource(stack, logicalId).name,
    pattern: resource.Properties?.EventPattern,
    retentionDays: typeof resource.Properties?.RetentionDays === 'number' ? resource.Properties.RetentionDays : undefined,
  }))[0];
  const secretResource = single('AWS::SecretsManager::Secret');

  const tables = all('AWS::DynamoDB::GlobalTable', tableOf).concat(all('AWS::DynamoDB::Table', tableOf));
  function tableOf(stack: StackArtifact, logicalId: string, resource: CfnResource): TableDefinition {
    const physical = physicalResource(stack, logicalId);
    const schema = (resource.Properties?.KeySchema ?? []) as { AttributeName: string; KeyType: string }[];
    const types = (resource.Properties?.AttributeDefinitions ?? []) as { AttributeName: string; AttributeType: KeyAttribute['type'] }[];
    const key = (keyType: string): KeyAttribute | undefined => {
      const entry = schema.find((candidate) => candidate.KeyType === keyType);
      if (!entry) return undefined;
      return { name: entry.AttributeName, type: types.find((t) => t.AttributeName === entry.AttributeName)?.AttributeType ?? 'S' };
    };
    const partitionKey = key('HASH');
    if (!partitionKey) throw new Error(`table ${logicalId} has no partition key`);
    const sortKey = key('RANGE');
    return { name: physical.name, arn: physical.arn, logicalId, partitionKey, ...(sortKey ? { sortKey } : {}) };
  }

  const buckets = all('AWS::S3::Bucket', (stack, logicalId): BucketDefinition => {
    const physical = physicalResource(stack, logicalId);
    return { logicalId, name: physical.name, arn: physical.arn };
  });

  const queues = all('AWS::SQS::Queue', (stack, logicalId, resource): QueueDefinition => {
    const physical = physicalResource(stack, logicalId);
    const redrive = resource.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
    const info = routeOfConstructPath(cdkPath(resource));
    const constructId = info?.rest.split('/')[0];
    const role = constructId === undefined ? undefined : ROLE_BY_CONSTRUCT_ID[constructId];
    const label = info && constructId ? (role ? deadLetterQueueName(info.route, role) : `${info.route}/${constructId.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`) : logicalId;
    return {
      logicalId,
      label,
      name: physical.name,
      arn: physical.arn,
      url: physical.url ?? physical.ref,
      visibilityTimeoutSeconds: num(resource.Properties?.VisibilityTimeout, 30),
      ...(redrive
        ? { redrive: { deadLetterArn: String(resolver.resolve(redrive.deadLetterTargetArn, stack, `${logicalId}.RedrivePolicy`)), maxReceiveCount: num(redrive.maxReceiveCount, 10) } }
        : {}),
    };
  });

  const functions = all('AWS::Lambda::Function', (stack, logicalId, resource): FunctionDefinition => {
    const physical = physicalResource(stack, logicalId);
    const routeInfo = routeOfConstructPath(cdkPath(resource));
    const folderHint = routeInfo ? undefined : (cdkPath(resource) ?? '').split('/')[1];
    const provisionalLabel = routeInfo ? routeInfo.route : folderHint === 'IngestFunction' ? 'ingest' : logicalId;
    const handlerFile = handlerFileOf(projectRoot, assemblyDir, resource, routeInfo?.route, provisionalLabel);
    const folder = /lambdas\/([^/]+)\/handler\.ts$/.exec(handlerFile)?.[1] ?? logicalId;
    const label = routeInfo ? `${routeInfo.route}/${folder}` : folder;
    const variables = ((resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(variables)) environment[key] = String(resolver.resolve(value, stack, `${logicalId}.Environment.${key}`));
    const handler = String(resource.Properties?.Handler ?? 'index.handler');
    return {
      logicalId,
      name: physical.name,
      arn: physical.arn,
      label,
      ...(routeInfo ? { route: routeInfo.route } : {}),
      handlerFile,
      handlerExport: handler.slice(handler.lastIndexOf('.') + 1),
      timeoutSeconds: num(resource.Properties?.Timeout, 3),
      memorySize: num(resource.Properties?.MemorySize, 128),
      environment,
    };
  });
  const functionByRef = (value: unknown, stack: StackArtifact, where: string): FunctionDefinition => {
    const target = resolver.referencedResource(value, stack);
    const fn = functions.find((candidate) => candidate.logicalId === target?.logicalId);
    if (!fn) throw new Error(`${where}: not a function of this app`);
    return fn;
  };

  const invokeConfigs = new Map<string, InvokeConfig>();
  for (const stack of assembly.stacks) {
    for (const [logicalId, resource] of resourcesOf(stack, 'AWS::Lambda::EventInvokeConfig')) {
      const fn = functionByRef(resource.Properties?.FunctionName, stack, logicalId);
      const destination = (resource.Properties?.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
      invokeConfigs.set(fn.name, {
        maximumRetryAttempts: num(resource.Properties?.MaximumRetryAttempts, 2),
        maximumEventAgeSeconds: num(resource.Properties?.MaximumEventAgeInSeconds, 21_600),
        ...(destination === undefined ? {} : { onFailureQueueArn: String(resolver.resolve(destination, stack, `${logicalId}.DestinationConfig`)) }),
      });
    }
  }

  const eventSourceMappings = all('AWS::Lambda::EventSourceMapping', (stack, logicalId, resource): EventSourceMappingDefinition => {
    const props = resource.Properties ?? {};
    const queueArn = String(resolver.resolve(props.EventSourceArn, stack, `${logicalId}.EventSourceArn`));
    if (!queues.some((queue) => queue.arn === queueArn)) throw new Error(`${logicalId}: only SQS event sources are emulated locally (got ${queueArn})`);
    const scaling = props.ScalingConfig as { MaximumConcurrency?: number } | undefined;
    return {
      functionName: functionByRef(props.FunctionName, stack, logicalId).name,
      queueArn,
      batchSize: num(props.BatchSize, 10),
      maximumBatchingWindowSeconds: num(props.MaximumBatchingWindowInSeconds, 0),
      reportBatchItemFailures: Array.isArray(props.FunctionResponseTypes) && props.FunctionResponseTypes.includes('ReportBatchItemFailures'),
      ...(scaling?.MaximumConcurrency === undefined ? {} : { maximumConcurrency: scaling.MaximumConcurrency }),
    };
  });

  const stateMachines = all('AWS::StepFunctions::StateMachine', (stack, logicalId, resource): StateMachineDefinition => {
    const physical = physicalResource(stack, logicalId);
    const raw = resource.Properties?.DefinitionString ?? resource.Properties?.Definition;
    const resolved = resolver.resolve(raw, stack, `${logicalId}.DefinitionString`);
    const definition = (typeof resolved === 'string' ? JSON.parse(resolved) : resolved) as Record<string, unknown>;
    const route = routeOfConstructPath(cdkPath(resource))?.route;
    return { logicalId, name: physical.name, arn: physical.arn, ...(route ? { route } : {}), definition };
  });

  const topics = all('AWS::SNS::Topic', (stack, logicalId): TopicDefinition => {
    const physical = physicalResource(stack, logicalId);
    return { logicalId, name: physical.name, arn: physical.arn };
  });

  // Only rules on the app's bus run here (a rule on the default bus, e.g. for AWS service events, cannot fire locally).
  const onAppBus = (stack: StackArtifact, resource: CfnResource) =>
    resource.Properties?.EventBusName !== undefined && resolver.resolve(resource.Properties.EventBusName, stack, 'EventBusName') === busResource.name;
  const firehoseTarget = (stack: StackArtifact, resource: CfnResource) => {
    const targets = (resource.Properties?.Targets ?? []) as Record<string, unknown>[];
    const referenced = targets.length === 1 ? resolver.referencedResource(targets[0]?.Arn, stack) : undefined;
    return referenced?.type === 'AWS::KinesisFirehose::DeliveryStream' ? { target: targets[0] as Record<string, unknown>, streamName: referenced.name } : undefined;
  };
  const recorderRules = all('AWS::Events::Rule', (stack, logicalId, resource): RecorderRuleDefinition | undefined => {
    const recorder = onAppBus(stack, resource) ? firehoseTarget(stack, resource) : undefined;
    if (!recorder) return undefined;
    const dlq = (recorder.target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
    return {
      logicalId,
      pattern: resource.Properties?.EventPattern,
      streamName: recorder.streamName,
      ...(dlq === undefined ? {} : { deadLetterQueueArn: String(resolver.resolve(dlq, stack, `${logicalId}.DeadLetterConfig`)) }),
    };
  }).filter((rule): rule is RecorderRuleDefinition => rule !== undefined);
  const rules = all('AWS::Events::Rule', (stack, logicalId, resource): RuleDefinition | undefined => {
    if (!onAppBus(stack, resource) || firehoseTarget(stack, resource)) return undefined;
    const physical = physicalResource(stack, logicalId);
    const props = resource.Properties ?? {};
    const route = routeOfConstructPath(cdkPath(resource))?.route ?? logicalId;
    const targets = ((props.Targets ?? []) as Record<string, unknown>[]).map((target, index): RuleTargetDefinition => {
      const where = `${logicalId}.Targets[${index}]`;
      for (const key of Object.keys(target)) {
        if (!SUPPORTED_TARGET_KEYS.has(key)) throw new Error(`${where}: the target property ${key} is not emulated by the local pipeline`);
      }
      const referenced = resolver.referencedResource(target.Arn, stack);
      const kind: TargetKind | undefined =
        referenced?.type === 'AWS::SQS::Queue' ? 'queue' : referenced?.type === 'AWS::Lambda::Function' ? 'function' : referenced?.type === 'AWS::StepFunctions::StateMachine' ? 'workflow' : undefined;
      if (!referenced || !kind) throw new Error(`${where}: only SQS queue, Lambda function and state machine targets are emulated locally`);
      const retry = (target.RetryPolicy ?? {}) as { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
      const dlq = (target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
      return {
        id: String(target.Id ?? `Target${index}`),
        kind,
        arn: referenced.arn,
        resourceName: referenced.name,
        ...(dlq === undefined ? {} : { deadLetterQueueArn: String(resolver.resolve(dlq, stack, `${where}.DeadLetterConfig`)) }),
        // EventBridge's defaults when a target has no retry policy: 185 attempts, 24 hours.
        maximumRetryAttempts: num(retry.MaximumRetryAttempts, 185),
        maximumEventAgeSeconds: num(retry.MaximumEventAgeInSeconds, 86_400),
      };
    });
    return {
      logicalId,
      name: physical.name,
      arn: `arn:aws:events:us-east-1:000000000000:rule/${busResource.name}/${physical.name}`,
      route,
      pattern: props.EventPattern,
      enabled: props.State === undefined || props.State === 'ENABLED',
      targets,
    };
  }).filter((rule): rule is RuleDefinition => rule !== undefined);

  const deadLetterQueues = all('AWS::SQS::Queue', (stack, logicalId, resource): DeadLetterQueueRef | undefined => {
    const info = routeOfConstructPath(cdkPath(resource));
    const constructId = info?.rest.split('/')[0];
    const role = constructId === undefined ? undefined : ROLE_BY_CONSTRUCT_ID[constructId];
    if (!info || !role) return undefined;
    return { name: deadLetterQueueName(info.route, role), route: info.route, role, queueArn: physicalResource(stack, logicalId).arn };
  }).filter((ref): ref is DeadLetterQueueRef => ref !== undefined);

  const webhookRoutes = all('AWS::ApiGatewayV2::Route', (stack, logicalId, resource): WebhookRoute => {
    const routeKey = String(resource.Properties?.RouteKey ?? '');
    const [method = '', path = ''] = routeKey.split(' ');
    const target = String(resolver.resolve(resource.Properties?.Target, stack, `${logicalId}.Target`));
    const integrationId = target.replace(/^integrations\//, '');
    const integration = stack.template.Resources[integrationId];
    if (!integration || integration.Type !== 'AWS::ApiGatewayV2::Integration') throw new Error(`${logicalId}: integration ${integrationId} not found`);
    if (integration.Properties?.IntegrationType !== 'AWS_PROXY' || String(integration.Properties?.PayloadFormatVersion) !== '2.0') {
      throw new Error(`${logicalId}: only Lambda proxy integrations with payload format 2.0 are emulated locally`);
    }
    return { method, path, routeKey, functionName: functionByRef(integration.Properties?.IntegrationUri, stack, `${logicalId}.IntegrationUri`).name };
  });

  const stage = all('AWS::ApiGatewayV2::Stage', (_stack, _logicalId, resource) => resource.Properties?.DefaultRouteSettings as { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number } | undefined)[0];

  return {
    assembly,
    bus: { name: busResource.name, arn: busResource.arn },
    archive: {
      name: archive?.name ?? `${busResource.name}-archive`,
      pattern: archive?.pattern ?? { source: [{ prefix: '' }] },
      ...(archive?.retentionDays === undefined ? {} : { retentionDays: archive.retentionDays }),
    },
    secret: { name: secretResource.name, arn: secretResource.arn },
    tables,
    buckets,
    queues,
    functions,
    invokeConfigs,
    eventSourceMappings,
    stateMachines,
    topics,
    rules,
    recorderRules,
    deadLetterQueues,
    webhookRoutes,
    throttle: stage?.ThrottlingRateLimit !== undefined ? { rateLimit: stage.ThrottlingRateLimit, burstLimit: stage.ThrottlingBurstLimit ?? stage.ThrottlingRateLimit } : undefined,
  };
}
