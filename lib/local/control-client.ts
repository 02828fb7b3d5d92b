/**
 * Talks to a running local pipeline (`npm start`) through its control endpoint, for the operator
 * CLI's `--local` flags: `send --local`, and replay / dlq commands against the loopback pipeline.
 * The pipeline writes its URL to `<state dir>/pipeline.json` when it starts; the state dir is this
 * checkout's `.local` (as for `npm start`) unless FASTIO_LOCAL_DIR (or an explicit option) says otherwise.
 *
 * Errors: bad input (unknown route or queue, bad window) is a UsageError (exit 2); a pipeline
 * that is not running or fails is an OperationFailed (exit 1).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OperationFailed, UsageError } from '../ops/command';
import type { ReplayResult } from './event-bus';
import type { ActiveFault, FaultSpec } from './faults';
import type { ArnDelivery, DeadLetterQueueStatus, DeliverResult, LocalReplay, PeekedMessage, PipelineFile, RedriveResult } from './control-surface';
import type { ArchiveRecord } from './archive';

export type { ActiveFault, ArnDelivery, DeadLetterQueueStatus, DeliverResult, FaultSpec, LocalReplay, PeekedMessage, PipelineFile, RedriveResult, ReplayResult };

export const LOCAL_DIR_ENV_VAR = 'FASTIO_LOCAL_DIR';
const TIMEOUT_MS = 30_000;

export interface LocalOptions {
  /** Base URL of the pipeline (http://127.0.0.1:4000); default from pipeline.json. */
  readonly url?: string;
  /** Where the pipeline keeps its state; default $FASTIO_LOCAL_DIR or the checkout's .local. */
  readonly stateDir?: string;
}

/** `.local` of this checkout, where `npm start` keeps its state by default. */
const DEFAULT_STATE_DIR = fileURLToPath(new URL('../../.local', import.meta.url));

export function localStateDir(options: LocalOptions = {}): string {
  return resolve(options.stateDir ?? process.env[LOCAL_DIR_ENV_VAR] ?? DEFAULT_STATE_DIR);
}

/** The running pipeline's pipeline.json, or undefined when none was written. */
export function readPipelineFile(options: LocalOptions = {}): PipelineFile | undefined {
  const file = join(localStateDir(options), 'pipeline.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PipelineFile;
  } catch {
    return undefined;
  }
}

const NOT_RUNNING = 'no local pipeline is running: start it with `npm start` in another terminal';

/** Base URL of the pipeline: the option, else pipeline.json. */
export function localBaseUrl(options: LocalOptions = {}): string {
  if (options.url !== undefined) return options.url.replace(/\/+$/, '').replace(/\/_local$/, '');
  const file = readPipelineFile(options);
  if (file === undefined) throw new OperationFailed(`${NOT_RUNNING} (no ${join(localStateDir(options), 'pipeline.json')})`);
  return file.url;
}

/** The signing secret the local pipeline verifies with. */
export function readLocalSecret(options: LocalOptions = {}): string {
  const file = join(localStateDir(options), 'signing-secret');
  if (!existsSync(file)) throw new OperationFailed(`no local signing secret at ${file}: start the local pipeline once with \`npm start\``);
  const secret = readFileSync(file, 'utf8').trim();
  if (secret === '') throw new OperationFailed(`the local signing secret ${file} is empty`);
  return secret;
}

/** Where `send --local` posts and what it signs with. */
export function localSendTarget(options: LocalOptions = {}): { webhookUrl: string; secret: string } {
  const secret = readLocalSecret(options);
  if (options.url !== undefined) return { webhookUrl: options.url, secret };
  const file = readPipelineFile(options);
  if (file === undefined) throw new OperationFailed(`${NOT_RUNNING} (no ${join(localStateDir(options), 'pipeline.json')})`);
  return { webhookUrl: file.webhookUrl, secret };
}

async function call<T>(options: LocalOptions, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const base = localBaseUrl(options);
  let response: Response;
  try {
    response = await fetch(`${base}/_local${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    throw new OperationFailed(`${NOT_RUNNING}: ${base} did not answer (${cause})`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new OperationFailed(`${base} is not a local pipeline (HTTP ${response.status}: ${text.slice(0, 200)})`);
  }
  if (response.ok) return parsed as T;
  const message = typeof parsed === 'object' && parsed !== null && 'message' in parsed ? String((parsed as { message: unknown }).message) : text;
  if (response.status === 400 || response.status === 404) throw new UsageError(message);
  throw new OperationFailed(`the local pipeline failed: ${message}`);
}

export interface LocalReplayRequest {
  readonly from: Date | string;
  readonly to: Date | string;
  /** The targets whose rules receive the replayed events, as `<route>/<target>`; omit with allRoutes. */
  readonly targets?: readonly string[];
  readonly allRoutes?: boolean;
  /** Default `local-<timestamp>`. */
  readonly name?: string;
}

/**
 * Replays archived events of [from, to) with `replay-name` set, to the chosen targets' rules only
 * (a rule whose pattern refuses replays drops them). Resolves when every event has been handed to
 * its rules; the consumers then process them as they would any delivery.
 */
export function localReplay(request: LocalReplayRequest, options: LocalOptions = {}): Promise<ReplayResult> {
  const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : value);
  return call<ReplayResult>(options, 'POST', '/replay', {
    from: iso(request.from),
    to: iso(request.to),
    ...(request.allRoutes ? { allRoutes: true } : { targets: request.targets ?? [] }),
    ...(request.name === undefined ? {} : { name: request.name }),
  });
}

/** Every replay the running pipeline ran, oldest first. */
export async function localReplays(options: LocalOptions = {}): Promise<LocalReplay[]> {
  return (await call<{ replays: LocalReplay[] }>(options, 'GET', '/replays')).replays;
}

/** One replay by name; an unknown name is a UsageError (HTTP 404). */
export function localReplayStatus(name: string, options: LocalOptions = {}): Promise<LocalReplay> {
  return call<LocalReplay>(options, 'GET', `/replays/${encodeURIComponent(name)}`);
}

/** The archive's retention as synthesized, in days; null when it keeps events indefinitely. */
export async function localArchiveRetentionDays(options: LocalOptions = {}): Promise<number | null> {
  const value = (await localStatus(options)).archiveRetentionDays;
  return typeof value === 'number' ? value : null;
}

/** Makes the stand-ins fail matching calls (see lib/local/faults.ts); returns the fault with its id. */
export function localAddFault(spec: FaultSpec, options: LocalOptions = {}): Promise<ActiveFault> {
  return call<ActiveFault>(options, 'POST', '/faults', spec);
}

export async function localFaults(options: LocalOptions = {}): Promise<ActiveFault[]> {
  return (await call<{ faults: ActiveFault[] }>(options, 'GET', '/faults')).faults;
}

/** Removes one fault by id, or every fault; resolves to how many were removed. */
export async function localClearFaults(id: number | undefined, options: LocalOptions = {}): Promise<number> {
  return (await call<{ removed: number }>(options, 'DELETE', `/faults${id === undefined ? '' : `?id=${id}`}`)).removed;
}

/** Every dead-letter queue (names like `documents/queue/buffer-dlq`) with depth and oldest age. */
export async function localDeadLetterQueues(options: LocalOptions = {}): Promise<DeadLetterQueueStatus[]> {
  return (await call<{ queues: DeadLetterQueueStatus[] }>(options, 'GET', '/dlq')).queues;
}

/** The messages of one dead-letter queue, with the original event and why it failed; nothing is received. */
export async function localPeek(name: string, params: { max?: number } = {}, options: LocalOptions = {}): Promise<PeekedMessage[]> {
  const query = new URLSearchParams({ name, ...(params.max === undefined ? {} : { max: String(params.max) }) });
  return (await call<{ messages: PeekedMessage[] }>(options, 'GET', `/dlq/peek?${query.toString()}`)).messages;
}

/**
 * Sends dead letters back where they failed: a buffer DLQ to its buffer queue; a target DLQ,
 * on-failure queue or workflow-failures queue re-delivers the original event to the route's
 * target. A message is deleted only after its re-delivery was accepted.
 */
export function localRedrive(name: string, params: { max?: number; messageIds?: readonly string[] } = {}, options: LocalOptions = {}): Promise<RedriveResult> {
  return call<RedriveResult>(options, 'POST', '/dlq/redrive', { name, ...(params.max === undefined ? {} : { max: params.max }), ...(params.messageIds === undefined ? {} : { messageIds: params.messageIds }) });
}

/** Deletes every message of one dead-letter queue (the incident drill's lost dead letters). */
export function localPurge(name: string, options: LocalOptions = {}): Promise<{ queue: string; purged: number }> {
  return call<{ queue: string; purged: number }>(options, 'POST', '/dlq/purge', { name });
}

/** Delivers events to one target of a route alone, never through the bus. */
export function localDeliver(route: string, target: string | undefined, events: readonly unknown[], options: LocalOptions = {}): Promise<DeliverResult> {
  return call<DeliverResult>(options, 'POST', '/deliver', { route, ...(target === undefined ? {} : { target }), events });
}

/** The items of one local table ("catalog", "audit", "idempotency" or its name), as plain values. */
export async function localTableItems(table: string, options: LocalOptions = {}): Promise<Record<string, unknown>[]> {
  return (await call<{ items: Record<string, unknown>[] }>(options, 'GET', `/tables/${encodeURIComponent(table)}`)).items;
}

/**
 * What the running pipeline sent to targets that exist elsewhere (a queue, function, state machine,
 * topic or bus by ARN, or a topic of this app), oldest first, with the exact bodies; one route's only
 * when given.
 */
export async function localArnDeliveries(params: { route?: string } = {}, options: LocalOptions = {}): Promise<ArnDelivery[]> {
  const query = params.route === undefined ? '' : `?${new URLSearchParams({ route: params.route }).toString()}`;
  return (await call<{ deliveries: ArnDelivery[] }>(options, 'GET', `/deliveries${query}`)).deliveries;
}

/** What the running pipeline runs (routes, functions, tables, archive size). */
export function localStatus(options: LocalOptions = {}): Promise<Record<string, unknown>> {
  return call<Record<string, unknown>>(options, 'GET', '/status');
}

/** The archived event with this EventBridge id, or undefined when the archive has none (its pattern did not match). */
export async function localArchivedEvent(id: string, options: LocalOptions = {}): Promise<ArchiveRecord | undefined> {
  try {
    return await call<ArchiveRecord>(options, 'GET', `/events/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error instanceof UsageError) return undefined;
    throw error;
  }
}
