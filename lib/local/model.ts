/**
 * What the local pipeline runs, read from the synthesized templates: the bus and its archive, the
 * signing secret, the tables, the claim-check bucket, every queue with its redrive policy, every function with its
 * environment, timeout and async-invoke settings, the SQS event source mappings, the state
 * machines' definitions, the webhook route and its throttling, and the route rules with their
 * targets, retry policies and target dead-letter queues.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { DeadLetterRole } from '../constructs/secure-queue';
import { putTargetsProblem, type TargetInput } from '../domain/input-transform';
import { consumerOf, routeTable } from '../route-table';
import { DEAD_LETTER_KEYS, deadLetterQueueName, targetDeadLetterQueueName } from '../stack-outputs';
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

/** An AWS::Events::ApiDestination (an http target) with what its connection sends. */
export interface ApiDestinationDefinition {
  readonly name: string;
  readonly arn: string;
  readonly endpoint: string;
  readonly method: string;
  /** The connection's authorization header name (`x-api-key`, `Authorization`); absent when unknown. */
  readonly authorizationHeader?: string;
}

export interface TopicDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

/**
 * queue, function, workflow: a resource of this app, run locally; http: an API destination, really
 * called; elsewhere: a target whose resource is not run here (a queue, function, state machine, topic
 * or bus by ARN, or a topic of this app), recorded as delivered.
 */
export type TargetKind = 'queue' | 'function' | 'workflow' | 'http' | 'elsewhere';

export interface RuleTargetDefinition {
  readonly id: string;
  /** The route table's name of the target, when the template has one chain per target. */
  readonly name?: string;
  readonly kind: TargetKind;
  /** The target's ARN (for a function of this app, as everywhere: its ARN; resourceName is its name). */
  readonly arn: string;
  readonly resourceName: string;
  /** The target's InputPath or InputTransformer, as the template has it. */
  readonly input?: TargetInput;
  /** For kind http: the API destination and its connection's authorization header. */
  readonly apiDestination?: ApiDestinationDefinition;
  /** For kind http: HttpParameters.HeaderParameters as the template has them (values may be JSON paths). */
  readonly headerParameters?: Readonly<Record<string, string>>;
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
  /** The route's target this rule delivers (its construct path: one rule per target). */
  readonly target: string;
  readonly pattern: unknown;
  readonly enabled: boolean;
  readonly targets: readonly RuleTargetDefinition[];
}

export interface DeadLetterQueueRef {
  /**
   * Operator-facing name: `<route>/<target>/<role>` for a target's chain (`video-uploads/slack/target-dlq`),
   * `<route>/<role>` for a route's single chain (lib/stack-outputs.ts).
   */
  readonly name: string;
  readonly route: string;
  /** The route target whose chain the queue belongs to, when the layout has one per target. */
  readonly target?: string;
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

/** The header a connection authorizes with: the API key's name, or Authorization for basic and OAuth. */
function authorizationHeaderOf(props: Record<string, unknown>, resolve: (value: unknown) => unknown): string | undefined {
  const auth = (props.AuthParameters ?? {}) as { ApiKeyAuthParameters?: { ApiKeyName?: unknown } };
  switch (props.AuthorizationType) {
    case 'API_KEY':
      return auth.ApiKeyAuthParameters?.ApiKeyName === undefined ? undefined : String(resolve(auth.ApiKeyAuthParameters.ApiKeyName));
    case 'BASIC':
    case 'OAUTH_CLIENT_CREDENTIALS':
      return 'Authorization';
    default:
      return undefined;
  }
}

/**
 * Where a resource sits in a route: `Route-<route>/Target-<target>/<id>/…` (one chain per target)
 * or `Route-<route>/<id>/…` (one chain per route).
 */
function placeInRoute(path: string | undefined): { route: string; target?: string; constructId: string } | undefined {
  const info = routeOfConstructPath(path);
  if (!info) return undefined;
  const [first = '', second] = info.rest.split('/');
  if (first.startsWith('Target-') && second !== undefined) return { route: info.route, target: first.slice('Target-'.length), constructId: second };
  return { route: info.route, constructId: first };
}

function queueNameInRoute(place: { route: string; target?: string }, role: DeadLetterRole): string {
  return place.target === undefined ? deadLetterQueueName(place.route, role) : targetDeadLetterQueueName(place.route, place.target, role);
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
      // realpath: an assembly whose asset folders are links to another's still finds the sources.
      if (entries.length === 1) return resolvePath(dirname(realpathSync(map)), sourceRoot ?? '', entries[0] as string);
    }
  }
  const routeEntry = routeTable.find((candidate) => candidate.name === route);
  const folder = routeEntry ? routeEntry.targets.map(consumerOf).find((folder) => folder !== undefined) : label === 'ingest' ? 'ingest' : undefined;
  const file = folder === undefined ? undefined : join(projectRoot, 'lambdas', folder, 'handler.ts');
  if (file === undefined || !existsSync(file)) throw new Error(`cannot find the handler source of function ${label}`);
  return file;
}

const SUPPORTED_TARGET_KEYS = new Set(['Id', 'Arn', 'DeadLetterConfig', 'RetryPolicy', 'RoleArn', 'InputPath', 'InputTransformer', 'HttpParameters']);

/** Resource types a target can point at that run locally. */
const LOCAL_TARGET_KINDS: Readonly<Record<string, TargetKind>> = {
  'AWS::SQS::Queue': 'queue',
  'AWS::Lambda::Function': 'function',
  'AWS::StepFunctions::StateMachine': 'workflow',
  'AWS::Events::ApiDestination': 'http',
  // A topic of this app: its subscribers are not emulated, so the delivery is recorded.
  'AWS::SNS::Topic': 'elsewhere',
};

/** A target's InputPath / InputTransformer from the template, checked as PutTargets would. */
function targetInputOf(target: Record<string, unknown>, resolve: (value: unknown, where: string) => unknown, where: string): TargetInput | undefined {
  let input: TargetInput | undefined;
  if (target.InputPath !== undefined) input = { path: String(resolve(target.InputPath, `${where}.InputPath`)) };
  const transformer = target.InputTransformer as { InputPathsMap?: unknown; InputTemplate?: unknown } | undefined;
  if (transformer !== undefined) {
    if (input) throw new Error(`${where}: only one of InputPath and InputTransformer may be set`);
    const paths = (resolve(transformer.InputPathsMap ?? {}, `${where}.InputTransformer.InputPathsMap`) ?? {}) as Record<string, unknown>;
    input = { paths: Object.fromEntries(Object.entries(paths).map(([key, value]) => [key, String(value)])), template: String(resolve(transformer.InputTemplate, `${where}.InputTransformer.InputTemplate`)) };
  }
  const problem = input === undefined ? undefined : putTargetsProblem(input);
  if (problem) throw new Error(`${where}: ${problem}`);
  return input;
}

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
    const place = placeInRoute(cdkPath(resource));
    const role = place ? ROLE_BY_CONSTRUCT_ID[place.constructId] : undefined;
    const prefix = place ? [place.route, ...(place.target === undefined ? [] : [place.target])].join('/') : '';
    const label = place ? (role ? queueNameInRoute(place, role) : `${prefix}/${place.constructId.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`) : logicalId;
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
    const place = placeInRoute(cdkPath(resource));
    const route = place?.route ?? logicalId;
    const targets = ((props.Targets ?? []) as Record<string, unknown>[]).map((target, index): RuleTargetDefinition => {
      const where = `${logicalId}.Targets[${index}]`;
      for (const key of Object.keys(target)) {
        if (!SUPPORTED_TARGET_KEYS.has(key)) throw new Error(`${where}: the target property ${key} is not emulated by the local pipeline`);
      }
      const referenced = resolver.referencedResource(target.Arn, stack);
      const arn = referenced?.arn ?? String(resolver.resolve(target.Arn, stack, `${where}.Arn`));
      // A target not among this app's resources exists elsewhere (named by ARN): recorded, not run.
      const kind: TargetKind | undefined = referenced ? LOCAL_TARGET_KINDS[referenced.type] : arn.startsWith('arn:') ? 'elsewhere' : undefined;
      if (!kind) throw new Error(`${where}: a ${referenced?.type ?? `target ${arn}`} is not emulated by the local pipeline`);
      const retry = (target.RetryPolicy ?? {}) as { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
      const dlq = (target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
      const input = targetInputOf(target, (value, at) => resolver.resolve(value, stack, at), where);
      const httpParameters = (target.HttpParameters ?? {}) as { HeaderParameters?: Record<string, unknown>; PathParameterValues?: unknown; QueryStringParameters?: unknown };
      if (httpParameters.PathParameterValues !== undefined || httpParameters.QueryStringParameters !== undefined) {
        throw new Error(`${where}: HttpParameters path and query string parameters are not emulated by the local pipeline`);
      }
      const headerParameters = httpParameters.HeaderParameters === undefined ? undefined : Object.fromEntries(Object.entries(httpParameters.HeaderParameters).map(([name, value]) => [name, String(resolver.resolve(value, stack, `${where}.HttpParameters.HeaderParameters.${name}`))]));
      // The route target's name, from where its resources sit (`Route-<route>/Target-<name>/…`).
      const placed = [resolver.referencedResource(dlq, stack), resolver.referencedResource(target.RoleArn, stack), referenced].map((resource) => (resource ? placeInRoute(cdkPath(resource.stack.template.Resources[resource.logicalId] as CfnResource))?.target : undefined));
      const name = placed.find((candidate) => candidate !== undefined);
      return {
        id: String(target.Id ?? `Target${index}`),
        ...(name === undefined ? {} : { name }),
        kind,
        arn,
        resourceName: referenced?.name ?? arn,
        ...(input === undefined ? {} : { input }),
        ...(kind === 'http' && referenced ? { apiDestination: apiDestinationOf(referenced.stack, referenced.logicalId, arn) } : {}),
        ...(headerParameters === undefined ? {} : { headerParameters }),
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
      target: place?.target ?? logicalId,
      pattern: props.EventPattern,
      enabled: props.State === undefined || props.State === 'ENABLED',
      targets,
    };
  }).filter((rule): rule is RuleDefinition => rule !== undefined);

  /** An AWS::Events::ApiDestination and the authorization header its AWS::Events::Connection sends. */
  function apiDestinationOf(stack: StackArtifact, logicalId: string, arn: string): ApiDestinationDefinition {
    const props = stack.template.Resources[logicalId]?.Properties ?? {};
    const where = `${logicalId}`;
    const endpoint = String(resolver.resolve(props.InvocationEndpoint, stack, `${where}.InvocationEndpoint`));
    const connection = resolver.referencedResource(props.ConnectionArn, stack);
    const connectionProps = connection ? (connection.stack.template.Resources[connection.logicalId]?.Properties ?? {}) : {};
    const authorizationHeader = authorizationHeaderOf(connectionProps, (value) => resolver.resolve(value, connection?.stack ?? stack, `${connection?.logicalId ?? where}.AuthParameters`));
    return {
      name: physicalResource(stack, logicalId).name,
      arn,
      endpoint,
      method: String(props.HttpMethod ?? 'POST').toUpperCase(),
      ...(authorizationHeader === undefined ? {} : { authorizationHeader }),
    };
  }

  const deadLetterQueues = all('AWS::SQS::Queue', (stack, logicalId, resource): DeadLetterQueueRef | undefined => {
    const place = placeInRoute(cdkPath(resource));
    const role = place ? ROLE_BY_CONSTRUCT_ID[place.constructId] : undefined;
    if (!place || !role) return undefined;
    return { name: queueNameInRoute(place, role), route: place.route, ...(place.target === undefined ? {} : { target: place.target }), role, queueArn: physicalResource(stack, logicalId).arn };
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
