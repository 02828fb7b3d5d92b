/**
 * The route table's vocabulary: patterns, targets and samples. Pure types and the few helpers that
 * name things, shared by the stacks, the local pipeline, the operator CLI and the cost model, so
 * all of them read a route the same way. The table itself is lib/route-table.ts.
 */
import type { TargetInput } from './input-transform';

// One definition of a target's input, beside the code that applies it exactly as EventBridge does.
export type { TargetInput };

/**
 * A value taken from the deployment's configuration (cdk.json context or `-c key=value`), for what
 * differs per deployment and must not be committed, such as a webhook URL. A target whose value is
 * not configured is not deployed.
 */
export interface ConfigRef {
  readonly fromConfig: string;
}

/** A string written in the table, or one read from the deployment's configuration. */
export type Configurable = string | ConfigRef;

/** One comparison in a pattern's value list: `{ "prefix": "x" }`, `{ "numeric": [">", 0] }`, ... */
export interface PatternOperator {
  readonly [operator: string]: PatternOperand;
}
export type PatternOperand = string | number | boolean | null | readonly PatternOperand[] | PatternOperator;
export type PatternValue = string | number | boolean | null | PatternOperator;

/** A nested object of the event: every leaf is a list of allowed values, objects nest. */
export interface PatternObject {
  readonly [field: string]: readonly PatternValue[] | PatternObject | readonly PatternObject[];
}

/**
 * A full EventBridge event pattern. Top-level fields are the envelope's, typed by name so a typo
 * such as `detailType` fails the compile; `replay-name` is here because replays are a routing
 * decision (CDK's own EventPattern type has no such field).
 */
export interface RoutePattern {
  readonly source: readonly ['fastio'];
  readonly 'detail-type'?: readonly PatternValue[];
  readonly detail?: PatternObject;
  readonly 'replay-name'?: readonly [{ readonly exists: false }];
  readonly $or?: readonly PatternObject[];
}

/** Fields every target has. */
interface TargetBase {
  /**
   * Kebab-case, unique within the route; names the target's resources and its CLI handle
   * (`<route>/<target>/<dlq-role>`).
   * @default the target's kind
   */
  readonly name?: string;
  /**
   * Applied by EventBridge before delivery: `{ path }` is InputPath, `{ paths, template }` is
   * InputTransformer (InputPathsMap and InputTemplate).
   * @default the whole event
   */
  readonly input?: TargetInput;
  /**
   * What this target does with a copy re-sent by an archive replay (`ops replay start`): `deliver`
   * it, or `skip` it (its rule then requires `replay-name` to be absent). Each target has a rule of
   * its own, so one target of a route can skip replays while the others take them.
   * @default 'deliver' for own targets (idempotent) and for ARN and bus targets (with a warning at
   *   replay start), 'skip' for `http` and `topic` (they would post or notify again)
   */
  readonly replays?: ReplayPolicy;
}

/** Access a handler of your own needs beyond its idempotency records; each becomes one grant. */
export interface ConsumerAccess {
  /** The project's own tables: sets CATALOG_TABLE_NAME / AUDIT_TABLE_NAME and grants exactly these actions. */
  readonly tables?: readonly { readonly table: 'catalog' | 'audit'; readonly actions: readonly DynamoDbDataAction[] }[];
  /** Reads the verbatim body of claim-checked events from the body bucket (`readPayload`). */
  readonly readsBodies?: boolean;
  /** Buckets that exist elsewhere: sets the environment variable to the name and grants read or write. */
  readonly buckets?: readonly { readonly bucketName: string; readonly environment: string; readonly access: 'read' | 'write' | 'read-write' }[];
}

export type DynamoDbDataAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem';

/** A handler of your own in `lambdas/<consumer>/handler.ts`, behind an SQS buffer with partial batch responses. */
export interface OwnQueueTarget extends TargetBase {
  readonly kind: 'queue';
  /** The handler's folder in `lambdas/`. */
  readonly consumer: string;
  readonly access?: ConsumerAccess;
}

/** A handler of your own in `lambdas/<consumer>/handler.ts`, invoked asynchronously with an on-failure destination. */
export interface OwnFunctionTarget extends TargetBase {
  readonly kind: 'function';
  readonly consumer: string;
  readonly access?: ConsumerAccess;
}

/** A state machine of your own, by its name in lib/workflows/index.ts. */
export interface OwnWorkflowTarget extends TargetBase {
  readonly kind: 'workflow';
  readonly workflow: string;
}

/** A queue that exists in the account: the stack writes its queue policy for this rule. */
export interface QueueArnTarget extends TargetBase {
  readonly kind: 'queue';
  readonly queueArn: string;
  /**
   * How the queue is encrypted: EventBridge needs kms:GenerateDataKey and kms:Decrypt on a
   * customer-managed key, which only its key policy can give, so the key must be named.
   */
  readonly encryption: 'none' | 'sqs-managed' | { readonly kmsKeyArn: string };
}

export interface FunctionArnTarget extends TargetBase {
  readonly kind: 'function';
  readonly functionArn: string;
}

export interface WorkflowArnTarget extends TargetBase {
  readonly kind: 'workflow';
  readonly stateMachineArn: string;
}

export type TopicSubscription =
  | { readonly email: string }
  | { readonly queueArn: string }
  | { readonly url: string };

/** SNS fan-out: to an existing topic, or one the stack creates (KMS-encrypted, TLS-only) with these subscriptions. */
export interface TopicTarget extends TargetBase {
  readonly kind: 'topic';
  /** @default a topic the stack creates */
  readonly topicArn?: string;
  /** Only for a topic the stack creates. */
  readonly subscriptions?: readonly TopicSubscription[];
}

/** How an API destination authenticates; the values live in Secrets Manager, named by ARN. */
export type HttpAuthorization =
  | { readonly type: 'api-key'; readonly headerName: string; readonly secretArn: Configurable }
  | { readonly type: 'basic'; readonly username: string; readonly passwordSecretArn: Configurable }
  | {
      readonly type: 'oauth-client-credentials';
      readonly tokenUrl: string;
      readonly clientId: string;
      readonly clientSecretArn: Configurable;
      readonly scope?: string;
    };

/** Any HTTPS endpoint (a Slack or Teams incoming webhook, a SaaS API) through an EventBridge API destination. */
export interface HttpTarget extends TargetBase {
  readonly kind: 'http';
  /** https only. */
  readonly url: Configurable;
  /** @default 'POST' */
  readonly method?: 'POST' | 'PUT' | 'PATCH' | 'GET' | 'DELETE' | 'HEAD';
  readonly authorization: HttpAuthorization;
  /** @default 300, EventBridge's default for an API destination */
  readonly rateLimitPerSecond?: number;
  /**
   * The header that carries the Fast.io event id on every request (deliveries, retries, replays,
   * redrives alike), so the receiver can drop a second copy.
   * @default 'Idempotency-Key'
   */
  readonly idempotencyKeyHeader?: string;
}

/** The header name an http target sends the Fast.io event id in. */
export function idempotencyKeyHeaderOf(target: HttpTarget): string {
  return target.idempotencyKeyHeader ?? 'Idempotency-Key';
}

/** Where EventBridge reads the Idempotency-Key header's value from: the normalized envelope's event id. */
export const IDEMPOTENCY_KEY_PATH = '$.detail.eventId';

/** Another event bus, in this or another account or Region. */
export interface BusTarget extends TargetBase {
  readonly kind: 'bus';
  readonly eventBusArn: string;
}

export type RouteTarget =
  | OwnQueueTarget
  | OwnFunctionTarget
  | OwnWorkflowTarget
  | QueueArnTarget
  | FunctionArnTarget
  | WorkflowArnTarget
  | TopicTarget
  | HttpTarget
  | BusTarget;

export type TargetKind = RouteTarget['kind'];

/** A sample for the route's tests: a full EventBridge event as the bus would deliver it. */
export interface SampleEvent {
  readonly 'detail-type': string;
  readonly detail: Record<string, unknown>;
  readonly 'replay-name'?: string;
}

export interface Route {
  /** Lower-case kebab-case; names the rule, its resources and its CLI handles. */
  readonly name: string;
  readonly description: string;
  readonly pattern: RoutePattern;
  /** One to five; each gets its own rule (same pattern), DLQ, retry policy and alarms. */
  readonly targets: readonly RouteTarget[];
  /** Events that must match, and events that must not; `npm test` fails when either list is empty. */
  readonly samples: { readonly matching: readonly SampleEvent[]; readonly notMatching: readonly SampleEvent[] };
}

/** The target's name: its own, else its kind. */
export function targetName(target: RouteTarget): string {
  return target.name ?? target.kind;
}

/** A target's handle, `<route>/<target>`: how the CLI, the local pipeline and reconcile name one target of one route. */
export function targetHandle(route: string, target: string): string {
  return `${route}/${target}`;
}

/** Whether the project owns the target's code (a handler in lambdas/ or a workflow in lib/workflows). */
export function isOwnTarget(target: RouteTarget): target is OwnQueueTarget | OwnFunctionTarget | OwnWorkflowTarget {
  return 'consumer' in target || 'workflow' in target;
}

/** The handler folder of an own queue or function target. */
export function consumerOf(target: RouteTarget): string | undefined {
  return 'consumer' in target ? target.consumer : undefined;
}

/** Whether a route's rule delivers events re-sent by an archive replay. */
export function acceptsReplays(route: Route): boolean {
  return route.pattern['replay-name'] === undefined;
}

/** What a target does with a copy re-sent by an archive replay. */
export type ReplayPolicy = 'deliver' | 'skip';

/**
 * A target's default for replay copies (DESIGN decision 17). Own targets are idempotent
 * (completion records, the review guard), so they take them. An `http` or `topic` target would
 * post or notify again, so it skips them. ARN and bus targets belong to someone else and take
 * them: whether that is safe is their owner's business, so `replay start` warns about them.
 */
export function defaultReplayPolicy(target: RouteTarget): ReplayPolicy {
  return target.kind === 'http' || target.kind === 'topic' ? 'skip' : 'deliver';
}

/** The target's replay policy: its own `replays`, else its kind's default. */
export function replayPolicyOf(target: RouteTarget): ReplayPolicy {
  return target.replays ?? defaultReplayPolicy(target);
}

/** Whether this target of the route receives replay copies: the route must accept them, and the target must not skip them. */
export function targetAcceptsReplays(route: Route, target: RouteTarget): boolean {
  return acceptsReplays(route) && replayPolicyOf(target) === 'deliver';
}

/** Whether a target that takes replay copies does so without idempotency of the project's own (ARN and bus kinds). */
export function takesReplaysWithoutIdempotency(route: Route, target: RouteTarget): boolean {
  return targetAcceptsReplays(route, target) && !isOwnTarget(target);
}

/**
 * The pattern of the rule that delivers this target: the route's own pattern, plus
 * `"replay-name": [{ "exists": false }]` for a target that skips replay copies, so EventBridge
 * filters them out for that target alone. A route that refuses replays already has it.
 */
export function targetRulePattern(route: Route, target: RouteTarget): RoutePattern {
  if (targetAcceptsReplays(route, target) || !acceptsReplays(route)) return route.pattern;
  return { ...route.pattern, 'replay-name': [{ exists: false }] };
}

/** A target in a few words for operators, e.g. `queue catalog-consumer` or `http https://hooks.slack.com/…`. */
export function describeTarget(target: RouteTarget): string {
  const configured = (value: Configurable) => (typeof value === 'string' ? value : `<config ${value.fromConfig}>`);
  switch (target.kind) {
    case 'queue':
      return 'consumer' in target ? `queue ${target.consumer}` : `queue ${target.queueArn}`;
    case 'function':
      return 'consumer' in target ? `function ${target.consumer}` : `function ${target.functionArn}`;
    case 'workflow':
      return 'workflow' in target ? `workflow ${target.workflow}` : `workflow ${target.stateMachineArn}`;
    case 'topic':
      return target.topicArn === undefined ? 'topic (created by the stack)' : `topic ${target.topicArn}`;
    case 'http':
      return `http ${target.method ?? 'POST'} ${configured(target.url)}`;
    case 'bus':
      return `bus ${target.eventBusArn}`;
  }
}
