/**
 * Checks a route table before anything is built, so a mistake stops synth with one line naming the
 * route and the field, instead of a CloudFormation rollback twenty minutes later. Also resolves the
 * values a table takes from the deployment's configuration.
 */
import { TARGET_RESOURCES, targetOutputKey } from '../stack-outputs';
import { routeConstructId, routeLogicalIdPrefix, targetConstructId, targetLogicalIdPrefix } from '../synthesized-template';
import { InvalidPatternError, validatePattern } from './pattern-matcher';
import { TARGET_ALARMS, ruleStatementSid, stateMachineNameOf, targetAlarmName } from './resource-names';
import { targetName, type Configurable, type Route, type RouteTarget } from './route-types';

/** A route table that cannot be deployed: synth stops with this one line. */
export class RouteTableError extends Error {
  override readonly name = 'RouteTableError';
}

/**
 * Targets per route. Each target has its own rule now, so EventBridge's 5 targets per rule no longer
 * binds; the limit stays at 5 because every target costs a rule of the bus's 300 (capacity in `npm run cost`).
 */
export const MAX_TARGETS_PER_ROUTE = 5;

/** Strict kebab-case: words of lower-case letters and digits joined by single dashes, starting with a letter. */
const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_ROUTE_NAME = 40;
const MAX_TARGET_NAME = 30;
const nameProblem = (what: string, name: string, max: number): string | undefined =>
  KEBAB_CASE.test(name) && name.length <= max
    ? undefined
    : `${what} "${name}" is invalid: use kebab-case (lower-case letters and digits, words joined by single '-', starting with a letter), at most ${max} characters`;
const PARTITION = 'arn:aws[a-z-]*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d';
const ACCOUNT = '\\d{12}';

/** The ARN shapes the table accepts, by field. */
export const ARN_PATTERNS = {
  queueArn: new RegExp(`^${PARTITION}:sqs:${REGION}:${ACCOUNT}:[A-Za-z0-9_-]{1,75}(?:\\.fifo)?$`),
  functionArn: new RegExp(`^${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$`),
  stateMachineArn: new RegExp(`^${PARTITION}:states:${REGION}:${ACCOUNT}:stateMachine:[A-Za-z0-9_-]{1,80}$`),
  topicArn: new RegExp(`^${PARTITION}:sns:${REGION}:${ACCOUNT}:[A-Za-z0-9_-]{1,256}(?:\\.fifo)?$`),
  eventBusArn: new RegExp(`^${PARTITION}:events:${REGION}:${ACCOUNT}:event-bus/[A-Za-z0-9._/-]{1,256}$`),
  kmsKeyArn: new RegExp(`^${PARTITION}:kms:${REGION}:${ACCOUNT}:key/[A-Za-z0-9-]{1,128}$`),
  secretArn: new RegExp(`^${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`),
} as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface RouteTableChecks {
  /** Whether `lambdas/<folder>/handler.ts` exists. */
  readonly consumerExists: (folder: string) => boolean;
  /** Names of the workflows lib/workflows offers. */
  readonly workflows: readonly string[];
  /** One-line problem with a target's input, or undefined (EventBridge's own rules, lib/domain/input-transform.ts). */
  readonly inputProblem?: (input: NonNullable<RouteTarget['input']>) => string | undefined;
}

function httpsUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  return url.protocol === 'https:' ? undefined : 'is not an https URL';
}

/** Problems of one target, as `field: what is wrong` lines (the caller names route and target). */
function targetProblem(target: RouteTarget, checks: RouteTableChecks): string | undefined {
  const arn = (field: keyof typeof ARN_PATTERNS, value: Configurable | undefined, what: string): string | undefined =>
    typeof value === 'string' && !ARN_PATTERNS[field].test(value) ? `${field} "${value}" is not ${what}` : undefined;
  const secretProblem = (field: string, value: Configurable): string | undefined =>
    typeof value === 'string' && !ARN_PATTERNS.secretArn.test(value) ? `${field} "${value}" is not a complete Secrets Manager secret ARN` : undefined;
  const badName = target.name === undefined ? undefined : nameProblem('name', target.name, MAX_TARGET_NAME);
  if (badName) return badName;
  if (target.replays !== undefined && target.replays !== 'deliver' && target.replays !== 'skip') {
    return `replays "${String(target.replays)}" is neither 'deliver' nor 'skip'`;
  }
  if (target.input !== undefined) {
    const problem = checks.inputProblem?.(target.input);
    if (problem !== undefined) return `input: ${problem}`;
  }
  switch (target.kind) {
    case 'queue':
      if ('consumer' in target) return checks.consumerExists(target.consumer) ? undefined : `consumer "${target.consumer}" has no lambdas/${target.consumer}/handler.ts`;
      if (target.encryption === undefined) {
        return `encryption is missing: say 'none', 'sqs-managed' or { kmsKeyArn } for the queue's customer-managed key, which EventBridge must be allowed to use`;
      }
      return (
        arn('queueArn', target.queueArn, 'an SQS queue ARN') ??
        (typeof target.encryption === 'object' ? arn('kmsKeyArn', target.encryption.kmsKeyArn, 'a KMS key ARN') : undefined)
      );
    case 'function':
      if ('consumer' in target) return checks.consumerExists(target.consumer) ? undefined : `consumer "${target.consumer}" has no lambdas/${target.consumer}/handler.ts`;
      return arn('functionArn', target.functionArn, 'a Lambda function ARN');
    case 'workflow':
      if ('workflow' in target) {
        return checks.workflows.includes(target.workflow) ? undefined : `workflow "${target.workflow}" is not one of lib/workflows: ${checks.workflows.join(', ')}`;
      }
      return arn('stateMachineArn', target.stateMachineArn, 'a Step Functions state machine ARN');
    case 'topic': {
      if (target.topicArn !== undefined && target.subscriptions !== undefined) {
        return 'subscriptions are only for a topic the stack creates; subscribe to an existing topic where it is defined';
      }
      const topic = arn('topicArn', target.topicArn, 'an SNS topic ARN');
      if (topic) return topic;
      for (const [index, subscription] of (target.subscriptions ?? []).entries()) {
        if ('email' in subscription && !EMAIL.test(subscription.email)) return `subscriptions[${index}].email "${subscription.email}" is not an email address`;
        if ('queueArn' in subscription && !ARN_PATTERNS.queueArn.test(subscription.queueArn)) {
          return `subscriptions[${index}].queueArn "${subscription.queueArn}" is not an SQS queue ARN`;
        }
        if ('url' in subscription) {
          const problem = httpsUrlProblem(subscription.url);
          if (problem) return `subscriptions[${index}].url "${subscription.url}" ${problem}`;
        }
      }
      return undefined;
    }
    case 'http': {
      if (typeof target.url === 'string') {
        const problem = httpsUrlProblem(target.url);
        if (problem) return `url "${target.url}" ${problem}`;
      }
      if (target.rateLimitPerSecond !== undefined && (!Number.isInteger(target.rateLimitPerSecond) || target.rateLimitPerSecond < 1 || target.rateLimitPerSecond > 300)) {
        return `rateLimitPerSecond ${target.rateLimitPerSecond} is invalid: expected an integer from 1 to 300`;
      }
      const auth = target.authorization;
      switch (auth?.type) {
        case 'api-key':
          if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,512}$/.test(auth.headerName)) return `authorization.headerName "${auth.headerName}" is not an HTTP header name`;
          return secretProblem('authorization.secretArn', auth.secretArn);
        case 'basic':
          return secretProblem('authorization.passwordSecretArn', auth.passwordSecretArn);
        case 'oauth-client-credentials': {
          const problem = httpsUrlProblem(auth.tokenUrl);
          if (problem) return `authorization.tokenUrl "${auth.tokenUrl}" ${problem}`;
          return secretProblem('authorization.clientSecretArn', auth.clientSecretArn);
        }
        default:
          return `authorization is missing or has an unknown type: use api-key, basic or oauth-client-credentials, with the value in Secrets Manager`;
      }
    }
    case 'bus':
      return arn('eventBusArn', target.eventBusArn, 'an event bus ARN');
  }
}

/** Rejects, before anything is built, what EventBridge would reject at deploy time or what would collide. */
export function validateRouteTable(routes: readonly Route[], checks: RouteTableChecks): void {
  const seen = new Set<string>();
  for (const route of routes) {
    const badName = nameProblem('route name', route.name, MAX_ROUTE_NAME);
    if (badName) throw new RouteTableError(badName);
    if (seen.has(route.name)) throw new RouteTableError(`route name "${route.name}" appears twice in the route table`);
    seen.add(route.name);
    try {
      validatePattern(route.pattern);
    } catch (error) {
      if (!(error instanceof InvalidPatternError)) throw error;
      throw new RouteTableError(`route "${route.name}": ${error.message}`);
    }
    const targets = route.targets ?? [];
    if (targets.length < 1 || targets.length > MAX_TARGETS_PER_ROUTE) {
      throw new RouteTableError(`route "${route.name}": targets has ${targets.length} entries; a rule takes 1 to ${MAX_TARGETS_PER_ROUTE}`);
    }
    const names = new Set<string>();
    for (const target of targets) {
      const name = targetName(target);
      if (names.has(name)) {
        throw new RouteTableError(`route "${route.name}": two targets are named "${name}"; give one a different name`);
      }
      names.add(name);
      const problem = targetProblem(target, checks);
      if (problem) throw new RouteTableError(`route "${route.name}" target "${name}": ${problem}`);
    }
  }
  checkGeneratedNames(routes);
}

/** A name the stacks generate from a route's and a target's names, with what kind of name it is. */
interface GeneratedName {
  readonly kind: string;
  readonly value: string;
}

/** The stack name is the same for every route, so any one shows whether two names collide. */
const ANY_STACK = 'stack';

/**
 * Every name the stacks derive from a route and its targets, through the functions the stacks name
 * with. Output keys are listed for every resource a target may have, whatever its kind: two targets
 * that could share a key are refused even if neither has that resource today.
 */
export function generatedNames(route: Route): { readonly target?: string; readonly names: readonly GeneratedName[] }[] {
  const own: GeneratedName[] = [
    { kind: 'construct id', value: routeConstructId(route.name) },
    { kind: 'logical id prefix', value: routeLogicalIdPrefix(route.name) },
  ];
  const perTarget = (route.targets ?? []).map((target) => {
    const name = targetName(target);
    return {
      target: name,
      names: [
        { kind: 'construct path', value: `${routeConstructId(route.name)}/${targetConstructId(name)}` },
        { kind: 'logical id prefix', value: targetLogicalIdPrefix(route.name, name) },
        ...TARGET_RESOURCES.map((resource) => ({ kind: 'stack output key', value: targetOutputKey(route.name, name, resource) })),
        ...TARGET_ALARMS.map((alarm) => ({ kind: 'alarm name', value: targetAlarmName(route.name, name, alarm) })),
        { kind: 'policy statement id', value: ruleStatementSid(route.name, name) },
        ...(target.kind === 'workflow' && 'workflow' in target ? [{ kind: 'state machine name', value: stateMachineNameOf(ANY_STACK, route.name, name) }] : []),
      ],
    };
  });
  return [{ names: own }, ...perTarget];
}

/** Refuses a table in which two routes or targets would get one construct id, output key or resource name. */
function checkGeneratedNames(routes: readonly Route[]): void {
  const owners = new Map<string, string>();
  for (const route of routes) {
    for (const { target, names } of generatedNames(route)) {
      const owner = target === undefined ? `route "${route.name}"` : `route "${route.name}" target "${target}"`;
      for (const { kind, value } of names) {
        const key = `${kind}\u0000${value}`;
        const first = owners.get(key);
        if (first !== undefined && first !== owner) {
          throw new RouteTableError(`${first} and ${owner} both generate the ${kind} "${value}": rename one of them`);
        }
        owners.set(key, owner);
      }
    }
  }
}

/** Anything that answers context lookups: a construct's `node`, or a plain map. */
export interface ContextLookup {
  tryGetContext(key: string): unknown;
}

function configured(value: Configurable, context: ContextLookup): string | undefined {
  if (typeof value === 'string') return value;
  const raw = context.tryGetContext(value.fromConfig);
  return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
}

/** The config keys a target's values come from (`{ fromConfig }`); empty when the table names them all. */
export function configKeysOf(target: RouteTarget): string[] {
  if (target.kind !== 'http') return [];
  const auth = target.authorization;
  const values: Configurable[] = [target.url];
  if (auth.type === 'api-key') values.push(auth.secretArn);
  else if (auth.type === 'basic') values.push(auth.passwordSecretArn);
  else values.push(auth.clientSecretArn);
  return values.flatMap((value) => (typeof value === 'string' ? [] : [value.fromConfig]));
}

/** Per target, the config keys it needs together; loadConfig refuses a group half set. */
export function configKeyGroups(routes: readonly Route[]): { owner: string; keys: string[] }[] {
  return routes.flatMap((route) =>
    (route.targets ?? [])
      .map((target) => ({ owner: `route "${route.name}" target "${targetName(target)}"`, keys: configKeysOf(target) }))
      .filter((group) => group.keys.length > 0),
  );
}

/**
 * The table as this deployment builds it: every `{ fromConfig }` replaced by its configured value,
 * targets whose values are not configured left out, and routes left without targets left out.
 */
export function resolveRouteTable(routes: readonly Route[], context: ContextLookup): Route[] {
  const resolved: Route[] = [];
  for (const route of routes) {
    const targets: RouteTarget[] = [];
    for (const target of route.targets ?? []) {
      const value = resolveTarget(target, context);
      if (value) targets.push(value);
    }
    if (targets.length > 0) resolved.push({ ...route, targets });
  }
  return resolved;
}

function resolveTarget(target: RouteTarget, context: ContextLookup): RouteTarget | undefined {
  if (target.kind !== 'http') return target;
  const url = configured(target.url, context);
  if (url === undefined) return undefined;
  const auth = target.authorization;
  switch (auth?.type) {
    case 'api-key': {
      const secretArn = configured(auth.secretArn, context);
      return secretArn === undefined ? undefined : { ...target, url, authorization: { ...auth, secretArn } };
    }
    case 'basic': {
      const passwordSecretArn = configured(auth.passwordSecretArn, context);
      return passwordSecretArn === undefined ? undefined : { ...target, url, authorization: { ...auth, passwordSecretArn } };
    }
    case 'oauth-client-credentials': {
      const clientSecretArn = configured(auth.clientSecretArn, context);
      return clientSecretArn === undefined ? undefined : { ...target, url, authorization: { ...auth, clientSecretArn } };
    }
    default:
      return { ...target, url };
  }
}
