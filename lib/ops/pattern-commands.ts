/**
 * `pattern test` and `routes test`: check event patterns and the route table before deploying.
 *
 * `pattern test` is a local `aws events test-event-pattern`: same input rules, same output
 * (`{"Result": true}` as the AWS CLI prints it), judged by lib/domain/pattern-matcher.ts; `--live` asks
 * EventBridge's TestEventPattern instead, to cross-check the local matcher on AWS.
 *
 * `routes test` runs one event, or a raw Fast.io payload normalized exactly as the ingest does, through
 * every route of lib/route-table.ts and explains each miss by the first field that failed.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { QUARANTINE_DETAIL_TYPE } from '../domain/fastio-envelope';
import { validateTargetInput } from '../domain/input-transform';
import { RouteTableError, validateRouteTable } from '../domain/route-validation';
import { InvalidPatternError, compilePattern, type CompiledPattern } from '../domain/pattern-matcher';
import { completeEvent, eventFromPayload, evaluateRoutes, type BusEvent, type RouteResult } from '../domain/route-samples';
import { describeTarget, routeTable, targetName, type Route, type RouteTarget } from '../route-table';
import { regionOption, withAwsErrors } from './aws-runtime';
import { describeError } from './cli';
import { OperationFailed, UsageError, requiredStringOption, stringOption, type CommandIo, type OpsCommand } from './command';

/**
 * Envelope fields TestEventPattern requires of the event. The API reference also lists `resources`, but
 * EventBridge accepts events without it (LocalStack's AWS-validated TestEventPattern drops it for that
 * reason), so it is not required here either: what passes here passes `--live`.
 */
export const TEST_EVENT_REQUIRED_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

/** EventBridge replay names: 1-64 letters, digits, '.', '-', '_'. */
const REPLAY_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** UTF-8 text without a byte-order mark, or a usage error naming `what`. */
function decodeText(bytes: Buffer, what: string): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UsageError(`${what} is not UTF-8 text`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON (${firstLine(error)})`);
  }
}

async function readBytes(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path} (${errorCode(error)})`);
  }
}

/** `--name <file|json>`: inline JSON when the value starts with `{`, otherwise a file path. */
async function jsonArgument(name: string, raw: string): Promise<unknown> {
  if (raw.trimStart().startsWith('{')) return parseJson(raw, `--${name}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(raw);
  } catch (error) {
    throw new UsageError(`cannot read --${name} file ${raw} (${errorCode(error)}); pass a file path or inline JSON starting with {`);
  }
  const text = decodeText(bytes, `--${name} file ${raw}`);
  return parseJson(text, `--${name} file ${raw}`);
}

/** The problem part of an InvalidPatternError message ("Invalid event pattern at <path>: <problem>"). */
function patternProblem(error: InvalidPatternError): string {
  const prefix = `Invalid event pattern at ${error.path}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

function compileOrUsageError(pattern: unknown): CompiledPattern {
  try {
    return compilePattern(pattern);
  } catch (error) {
    if (error instanceof InvalidPatternError) {
      throw new UsageError(`--pattern is not a valid event pattern at ${error.path}: ${patternProblem(error)}`);
    }
    throw error;
  }
}

/** What TestEventPattern demands of the event: a JSON object with the envelope fields. */
function checkTestEvent(event: unknown): JsonObject {
  if (!isObject(event)) throw new UsageError(`--event must be a JSON object (an EventBridge event), got ${kindOf(event)}`);
  const missing = TEST_EVENT_REQUIRED_FIELDS.filter((field) => !Object.hasOwn(event, field));
  if (missing.length > 0) {
    throw new UsageError(
      `--event is missing ${missing.map((field) => `"${field}"`).join(', ')} (TestEventPattern requires ${TEST_EVENT_REQUIRED_FIELDS.join(', ')})`,
    );
  }
  return event;
}

/** Exactly what `aws events test-event-pattern` prints (the AWS CLI's JSON output, 4-space indent). */
export function formatTestResult(result: boolean): string {
  return JSON.stringify({ Result: result }, null, 4);
}

export interface PatternCommandDeps {
  /** The client for `--live`; the default uses the standard credential chain, `--region` overriding the region. */
  readonly eventBridge: (region: string | undefined) => EventBridgeClient;
}

const defaultDeps: PatternCommandDeps = {
  eventBridge: (region) => new EventBridgeClient(region === undefined ? {} : { region }),
};

/** The local matcher's verdict, or why it rejects the pattern; never throws. */
function localVerdict(pattern: unknown, event: JsonObject): { result: boolean } | { invalid: string } {
  try {
    return { result: compilePattern(pattern).matches(event) };
  } catch (error) {
    return { invalid: error instanceof InvalidPatternError ? `${error.path}: ${patternProblem(error)}` : firstLine(error) };
  }
}

async function testOnAws(deps: PatternCommandDeps, region: string | undefined, pattern: unknown, event: JsonObject, io: CommandIo): Promise<boolean> {
  // Both sides judge the same JSON: the parsed values, compact, as CDK writes a pattern into the template.
  const request = { EventPattern: JSON.stringify(pattern), Event: JSON.stringify(event) };
  const local = localVerdict(pattern, event);
  let result: boolean | undefined;
  try {
    ({ Result: result } = await withAwsErrors(() => deps.eventBridge(region).send(new TestEventPatternCommand(request))));
  } catch (error) {
    if ('result' in local && error instanceof Error && error.name === 'InvalidEventPatternException') {
      // A disagreement worth knowing about, kept on the one error line.
      throw new OperationFailed(`${describeError(error)} (the local matcher accepts this pattern; EventBridge is authoritative)`);
    }
    throw error;
  }
  if (typeof result !== 'boolean') throw new OperationFailed('EventBridge answered TestEventPattern without a Result');
  if ('invalid' in local) io.err(`warning: the local matcher rejects this pattern (at ${local.invalid}) but EventBridge accepts it`);
  else if (local.result !== result) io.err(`warning: the local matcher says ${local.result}, EventBridge says ${result}; EventBridge is authoritative`);
  return result;
}

export function createPatternTestCommand(deps: PatternCommandDeps = defaultDeps): OpsCommand {
  return {
    path: ['pattern', 'test'],
    summary: 'test an event pattern against an event, like aws events test-event-pattern (--live: on AWS)',
    // The output is JSON already (what the AWS CLI prints); --json is accepted like on every command.
    usage: '--pattern <file|json> --event <file|json> [--live [--region <r>]] [--json]',
    options: { pattern: { type: 'string' }, event: { type: 'string' }, live: { type: 'boolean' }, region: { type: 'string' }, json: { type: 'boolean' } },
    async run({ options, io }) {
      const patternRaw = requiredStringOption(options, 'pattern');
      const eventRaw = requiredStringOption(options, 'event');
      const live = options.live === true;
      const region = regionOption(options);
      if (region !== undefined && !live) throw new UsageError('--region applies only with --live');
      const pattern = await jsonArgument('pattern', patternRaw);
      const event = checkTestEvent(await jsonArgument('event', eventRaw));
      let result: boolean;
      if (live) {
        // The pattern's grammar is left to EventBridge here: that is what the cross-check is for.
        if (!isObject(pattern)) throw new UsageError(`--pattern must be a JSON object, got ${kindOf(pattern)}`);
        result = await testOnAws(deps, region, pattern, event, io);
      } else {
        result = compileOrUsageError(pattern).matches(event);
      }
      io.out(formatTestResult(result));
      return 0;
    },
  };
}

export const patternTestCommand = createPatternTestCommand();

// ---------------------------------------------------------------------------------------------------
// routes test
// ---------------------------------------------------------------------------------------------------

export type RoutesTestInput = 'event' | 'fastio-payload';

export interface RoutesTestResult {
  /** Whether the file was taken as a full event or as a raw Fast.io webhook body. */
  readonly input: RoutesTestInput;
  /** The event the rules see (completed with placeholders, and `replay-name` with --replay-name). */
  readonly event: BusEvent;
  /** Envelope fields that were missing from the input and got placeholders. */
  readonly filled: readonly string[];
  readonly routes: readonly RouteResult[];
}

/**
 * A file holding a full event (`detail-type` and `detail`) is taken as it is, missing envelope fields
 * filled in; anything else is the raw body of a webhook and goes through the ingest's normalization.
 */
export function routesTestEvent(bytes: Buffer, what: string, replayName: string | undefined, table: readonly Route[] = routeTable): RoutesTestResult {
  const parsed = parseJson(decodeText(bytes, what), what);
  if (!isObject(parsed)) throw new UsageError(`${what} must hold a JSON object (an EventBridge event or a Fast.io payload), got ${kindOf(parsed)}`);
  let input: RoutesTestInput;
  let completed: { event: BusEvent; filled: readonly string[] };
  if (Object.hasOwn(parsed, 'detail-type') && Object.hasOwn(parsed, 'detail')) {
    const detailType = parsed['detail-type'];
    const detail = parsed.detail;
    if (typeof detailType !== 'string' || detailType === '') throw new UsageError(`${what}: "detail-type" must be a non-empty string`);
    if (!isObject(detail)) throw new UsageError(`${what}: "detail" must be a JSON object, got ${kindOf(detail)}`);
    input = 'event';
    completed = completeEvent({ ...parsed, 'detail-type': detailType, detail });
  } else {
    input = 'fastio-payload';
    // The exact file bytes, as the ingest receives the body.
    completed = eventFromPayload(bytes);
  }
  const event: BusEvent = replayName === undefined ? completed.event : { ...completed.event, 'replay-name': replayName };
  return { input, event, filled: completed.filled, routes: evaluateRoutes(event, table) };
}

/** A route's targets on one line of the table. */
function targetText(targets: readonly RouteTarget[]): string {
  return targets.map(describeTarget).join(' + ');
}

function withoutPayload(detail: BusEvent['detail']): string {
  const { payload, ...rest } = detail;
  return `${JSON.stringify(rest)}${payload === undefined ? '' : ' (payload omitted)'}`;
}

export function formatRoutesTest(result: RoutesTestResult): string[] {
  const { event } = result;
  const lines: string[] = [];
  const origin = result.input === 'fastio-payload' ? 'raw Fast.io payload, normalized as the ingest does' : 'event';
  lines.push(`event    ${event['detail-type']} from ${JSON.stringify(event.source)} (${origin})`);
  lines.push(`detail   ${withoutPayload(event.detail)}`);
  if (event['detail-type'] === QUARANTINE_DETAIL_TYPE) {
    lines.push(`note     the ingest would quarantine this payload (reason: ${String(event.detail.reason)}); no route matches quarantined events unless one asks for them`);
  }
  if (event['replay-name'] !== undefined) lines.push(`replay   simulated replay, replay-name ${JSON.stringify(event['replay-name'])}`);
  if (result.filled.length > 0) lines.push(`filled   ${result.filled.join(', ')} (placeholders for what EventBridge sets)`);
  lines.push('');
  const nameWidth = Math.max(5, ...result.routes.map((route) => route.name.length)) + 2;
  const targetWidth = Math.max(6, ...result.routes.map((route) => targetText(route.targets).length)) + 2;
  lines.push(`${'route'.padEnd(nameWidth)}${'target'.padEnd(targetWidth)}${'replays'.padEnd(11)}result`);
  for (const route of result.routes) {
    const replays = route.acceptsReplays ? 'delivered' : 'refused';
    lines.push(`${route.name.padEnd(nameWidth)}${targetText(route.targets).padEnd(targetWidth)}${replays.padEnd(11)}${route.matched ? 'MATCH' : 'no match'}`);
    if (route.failure) lines.push(`    at ${route.failure.path}: ${route.failure.reason}`);
  }
  const matched = result.routes.filter((route) => route.matched).map((route) => route.name);
  lines.push('');
  lines.push(
    matched.length === 0
      ? `no route matches: the event stays on the bus (and in the archive) only`
      : `${matched.length} of ${result.routes.length} routes match: ${matched.join(', ')}`,
  );
  return lines;
}

export function createRoutesTestCommand(table: readonly Route[] = routeTable): OpsCommand {
  return {
    path: ['routes', 'test'],
    summary: 'show which routes an event or a raw Fast.io payload reaches, and why the others miss',
    usage: '<event-or-payload.json> [--replay-name <name>] [--json]',
    options: { json: { type: 'boolean' }, 'replay-name': { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run({ positionals, options, io }) {
      const path = positionals[0] ?? '';
      const replayName = stringOption(options, 'replay-name');
      if (replayName !== undefined && !REPLAY_NAME.test(replayName)) {
        throw new UsageError(`--replay-name "${replayName}" is invalid: 1-64 characters from letters, digits, '.', '-' and '_'`);
      }
      await checkTable(table);
      const bytes = await readBytes(path, 'file');
      const result = routesTestEvent(bytes, path, replayName, table);
      if (options.json === true) {
        const routes = result.routes.map(({ name, targets, acceptsReplays, matched, failure }) => ({
          name,
          targets: targets.map((target) => ({ name: targetName(target), kind: target.kind, to: describeTarget(target) })),
          acceptsReplays,
          matched,
          ...(failure === undefined ? {} : { failure }),
        }));
        io.out(JSON.stringify({ input: result.input, event: result.event, routes }, null, 2));
      } else {
        for (const line of formatRoutesTest(result)) io.out(line);
      }
      return 0;
    },
  };
}

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The checks synth makes, before any matching: a MATCH for a route that cannot deploy (its consumer
 * folder missing, an invalid pattern) would tell the operator the change works when it does not.
 */
async function checkTable(table: readonly Route[]): Promise<void> {
  // Loaded here only: the workflows pull in aws-cdk-lib, which every other command would pay for at start-up.
  const { WORKFLOW_NAMES } = await import('../workflows');
  try {
    validateRouteTable(table, {
      consumerExists: (folder) => existsSync(join(PROJECT_ROOT, 'lambdas', folder, 'handler.ts')),
      workflows: WORKFLOW_NAMES,
      inputProblem: validateTargetInput,
    });
  } catch (error) {
    if (error instanceof RouteTableError) throw new UsageError(`the route table is invalid, fix lib/route-table.ts first: ${error.message}`);
    throw error;
  }
}

export const routesTestCommand = createRoutesTestCommand();

export const patternCommands: readonly OpsCommand[] = [patternTestCommand, routesTestCommand];
