/**
 * The local Lambda service: each function of the template runs its real handler module in its own
 * worker thread (its own environment variables from the template, its own module scope: one warm
 * container), one invocation at a time, killed and cold-started again when it exceeds the
 * template's timeout. Asynchronous invocation adds Lambda's event queue: retries from the
 * function's EventInvokeConfig and the on-failure destination record.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Activity } from './activity';
import { ALREADY_DONE_LOG_MESSAGE } from '../domain/completion-records';
import { describeWait, type Clock } from './clock';
import type { Flow } from './flow';
import type { SerializedError, WorkerInit, WorkerInvoke, WorkerMessage } from './lambda-protocol';
import { SDK_NODE_NOTICE_SWITCH } from './node20-polyfills';
import type { FunctionDefinition, InvokeConfig } from './model';
import type { LocalQueue } from './sqs';

export interface InvocationOutcome {
  readonly requestId: string;
  readonly ok: boolean;
  readonly payload?: unknown;
  readonly error?: SerializedError;
  /** What the function wrote to stdout/stderr during the invocation (Powertools' JSON lines). */
  readonly logs: readonly string[];
  readonly durationMs: number;
}

export interface LocalFunctionOptions {
  /** Extra environment, read at each cold start: the AWS endpoint, dummy credentials, the region. */
  readonly environment: () => Readonly<Record<string, string>>;
  /** Receives every line the function writes, with the invocation's request id. */
  readonly onLogs: (fn: FunctionDefinition, lines: readonly string[], requestId: string | undefined) => void;
  /** Overrides the template's timeout (tests); real seconds. */
  readonly timeoutSeconds?: number;
}

/** tsx's ESM API, registered inside each worker so the TypeScript handlers load as they are. */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('tsx/package.json'));
  const esm = join(packageDir, 'dist', 'esm', 'api', 'index.mjs');
  return pathToFileURL(existsSync(esm) ? esm : require.resolve('tsx/esm/api')).href;
}

const WORKER_MODULE = new URL('./lambda-worker.ts', import.meta.url).href;

type InitOutcome = { ok: true } | { ok: false; error: SerializedError };

export class LocalFunction {
  #worker: Worker | undefined;
  #ready: Promise<InitOutcome> | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, (message: WorkerMessage | { type: 'crash'; error: SerializedError }) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Cold starts so far (a timeout or crash throws the container away). */
  coldStarts = 0;

  constructor(
    readonly definition: FunctionDefinition,
    private readonly options: LocalFunctionOptions,
  ) {}

  get name(): string {
    return this.definition.name;
  }

  get label(): string {
    return this.definition.label;
  }

  private environment(): Record<string, string> {
    // NODE_OPTIONS cannot apply to a worker thread; everything else is the template's environment.
    const template = Object.fromEntries(Object.entries(this.definition.environment).filter(([key]) => key !== 'NODE_OPTIONS'));
    const fn = this.definition;
    return {
      PATH: process.env.PATH ?? '',
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      // The SDK's Node-version notice is about this machine's Node 20, not Lambda's runtime; the
      // switch the local entry points set reaches the functions' workers too (README "Node.js versions").
      ...(process.env[SDK_NODE_NOTICE_SWITCH] ? { [SDK_NODE_NOTICE_SWITCH]: process.env[SDK_NODE_NOTICE_SWITCH] } : {}),
      ...template,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${this.coldStarts}`,
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      ...this.options.environment(),
    };
  }

  private start(): Promise<InitOutcome> {
    this.coldStarts += 1;
    const init: WorkerInit = {
      handlerFile: this.definition.handlerFile,
      handlerExport: this.definition.handlerExport,
      functionName: this.definition.name,
      functionArn: this.definition.arn,
      memorySize: this.definition.memorySize,
      logStreamName: `local/[$LATEST]${this.coldStarts}`,
    };
    const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((api) => { (api.register ?? api.default.register)(); return import(${JSON.stringify(WORKER_MODULE)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: init, env: this.environment(), execArgv: [], stdout: true, stderr: true });
    this.#worker = worker;
    // Anything written before the worker captured its streams still ends up in the function's log.
    for (const stream of [worker.stdout, worker.stderr]) {
      stream.on('data', (chunk: Buffer) => this.options.onLogs(this.definition, chunk.toString('utf8').split('\n').filter(Boolean), undefined));
    }
    const ready = new Promise<InitOutcome>((resolve) => {
      const onMessage = (message: WorkerMessage) => {
        if (message.type === 'ready') {
          this.options.onLogs(this.definition, message.logs, undefined);
          resolve({ ok: true });
        } else if (message.type === 'init-error') {
          this.options.onLogs(this.definition, message.logs, undefined);
          resolve({ ok: false, error: message.error });
        } else if (message.type === 'result') {
          this.#pending.get(message.id)?.(message);
        }
      };
      worker.on('message', onMessage);
      worker.on('error', (error) => {
        const serialized: SerializedError = { errorType: 'Runtime.ExitError', errorMessage: `the execution environment crashed: ${error.message}`, trace: (error.stack ?? '').split('\n') };
        resolve({ ok: false, error: serialized });
        this.crash(worker, serialized);
      });
      worker.on('exit', (code) => {
        const serialized: SerializedError = { errorType: 'Runtime.ExitError', errorMessage: `RequestId: exited with code ${code}`, trace: [] };
        resolve({ ok: false, error: serialized });
        this.crash(worker, serialized);
      });
    });
    return ready;
  }

  private crash(worker: Worker, error: SerializedError): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#ready = undefined;
    for (const [, settle] of this.#pending) settle({ type: 'crash', error });
    this.#pending.clear();
  }

  /** Starts the execution environment now (a provisioned warm container); init errors surface on invoke. */
  async warm(): Promise<void> {
    this.#ready ??= this.start();
    await this.#ready;
  }

  /** Synchronous invocation (RequestResponse), queued behind any invocation in progress. */
  invoke(event: unknown, requestId: string = randomUUID()): Promise<InvocationOutcome> {
    const run = this.#queue.then(() => this.invokeNow(event, requestId));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  private async invokeNow(event: unknown, requestId: string): Promise<InvocationOutcome> {
    const started = performance.now();
    if (this.#closed) return { requestId, ok: false, error: { errorType: 'Runtime.Closed', errorMessage: 'the local pipeline is stopping', trace: [] }, logs: [], durationMs: 0 };
    this.#ready ??= this.start();
    const init = await this.#ready;
    if (!init.ok) {
      // As on Lambda: the init error fails this invocation; the next one initializes again.
      const worker = this.#worker;
      this.#worker = undefined;
      this.#ready = undefined;
      await worker?.terminate();
      return { requestId, ok: false, error: init.error, logs: [], durationMs: performance.now() - started };
    }
    const worker = this.#worker as Worker;
    const timeoutSeconds = this.options.timeoutSeconds ?? this.definition.timeoutSeconds;
    const id = this.#nextId++;
    const message: WorkerInvoke = { id, requestId, event, deadline: Date.now() + timeoutSeconds * 1000 };
    const reply = await new Promise<WorkerMessage | { type: 'crash'; error: SerializedError } | { type: 'timeout' }>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ type: 'timeout' });
      }, timeoutSeconds * 1000);
      this.#pending.set(id, (answer) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(answer);
      });
      worker.postMessage(message);
    });
    const durationMs = performance.now() - started;
    if (reply.type === 'timeout') {
      // Lambda stops the environment; the next invocation is a cold start.
      this.#worker = undefined;
      this.#ready = undefined;
      await worker.terminate();
      return { requestId, ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`, trace: [] }, logs: [], durationMs };
    }
    if (reply.type === 'crash') return { requestId, ok: false, error: reply.error, logs: [], durationMs };
    if (reply.type !== 'result') return { requestId, ok: false, error: { errorType: 'Runtime.Unknown', errorMessage: 'unexpected message from the execution environment', trace: [] }, logs: [], durationMs };
    this.options.onLogs(this.definition, reply.logs, requestId);
    return reply.ok
      ? { requestId, ok: true, payload: reply.payload, logs: reply.logs, durationMs }
      : { requestId, ok: false, error: reply.error, logs: reply.logs, durationMs };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    for (const [, settle] of this.#pending) settle({ type: 'crash', error: { errorType: 'Runtime.Closed', errorMessage: 'the local pipeline stopped during the invocation', trace: [] } });
    this.#pending.clear();
    await worker?.terminate();
  }
}

/** Parses a function's JSON log lines (Powertools Logger), skipping anything else. */
export function logRecords(lines: readonly string[]): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) records.push(value as Record<string, unknown>);
    } catch {
      // not JSON
    }
  }
  return records;
}

/** "message: ErrorName: error message" from a Powertools error log record. */
export function describeLogRecord(record: Record<string, unknown>): string {
  const error = record.error as { name?: unknown; message?: unknown } | undefined;
  const detail = error && typeof error.message === 'string' ? `: ${typeof error.name === 'string' ? `${error.name}: ` : ''}${error.message}` : '';
  return `${String(record.message ?? '')}${detail}`;
}

/** The destination record Lambda sends for an asynchronous invocation that failed for good. */
export interface OnFailureRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetriesExhausted' | 'EventAgeExceeded';
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext: { readonly statusCode: number; readonly executedVersion: string; readonly functionError: string };
  readonly responsePayload: { readonly errorType: string; readonly errorMessage: string; readonly trace: readonly string[] };
}

/** Lambda waits about a minute before the first retry of an async invocation and two before the second. */
export const ASYNC_RETRY_DELAYS_SECONDS = [60, 120];

export interface AsyncInvokerDeps {
  readonly clock: Clock;
  readonly flow: Flow;
  readonly activity: Activity;
  readonly queueByArn: (arn: string) => LocalQueue | undefined;
  readonly signal: AbortSignal;
}

/** Lambda's asynchronous invocation: accept (202), then invoke with retries, then the destination. */
export class AsyncInvoker {
  constructor(
    readonly fn: LocalFunction,
    readonly config: InvokeConfig | undefined,
    private readonly deps: AsyncInvokerDeps,
  ) {}

  /** Accepts an event as Lambda's Invoke with InvocationType Event does; returns the request id. */
  accept(payload: unknown, describe: string): string {
    const requestId = randomUUID();
    void this.deps.activity.track(this.process(payload, requestId, describe));
    return requestId;
  }

  private async process(payload: unknown, requestId: string, describe: string): Promise<void> {
    const { clock, flow } = this.deps;
    const label = this.fn.label;
    const acceptedAt = clock.now();
    const maxRetries = this.config?.maximumRetryAttempts ?? 2;
    const maxAgeMs = (this.config?.maximumEventAgeSeconds ?? 21_600) * 1000;
    let attempt = 0;
    let last: InvocationOutcome | undefined;
    let condition: OnFailureRecord['requestContext']['condition'] = 'RetriesExhausted';
    for (;;) {
      attempt += 1;
      last = await this.fn.invoke(payload, requestId);
      if (last.ok) {
        const skipped = logRecords(last.logs).some((record) => record.message === ALREADY_DONE_LOG_MESSAGE);
        const what = skipped ? 'already done, skipped (its work completed before: a duplicate delivery)' : JSON.stringify(last.payload);
        flow.emit('ok', label, `${describe}: ${what} (attempt ${attempt}, ${Math.round(last.durationMs)} ms)`, { requestId, attempt });
        return;
      }
      const error = last.error as SerializedError;
      if (attempt > maxRetries) break;
      const delaySeconds = ASYNC_RETRY_DELAYS_SECONDS[attempt - 1] ?? 120;
      // Event age in AWS time: real elapsed time times the time scale, plus the wait ahead.
      if ((clock.now() - acceptedAt) * clock.timeScale + delaySeconds * 1000 > maxAgeMs) {
        condition = 'EventAgeExceeded';
        break;
      }
      flow.emit('fail', label, `${describe}: ${error.errorType}: ${error.errorMessage} (attempt ${attempt} of ${maxRetries + 1}; Lambda retries in ${describeWait(clock, delaySeconds * 1000)})`, { requestId, attempt });
      await clock.sleep(delaySeconds * 1000, this.deps.signal);
      if (this.deps.signal.aborted) return;
    }
    const error = last.error as SerializedError;
    const record: OnFailureRecord = {
      version: '1.0',
      timestamp: new Date(clock.now()).toISOString(),
      requestContext: { requestId, functionArn: `${this.fn.definition.arn}:$LATEST`, condition, approximateInvokeCount: attempt },
      requestPayload: payload,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: error.errorType, errorMessage: error.errorMessage, trace: error.trace },
    };
    const destination = this.config?.onFailureQueueArn === undefined ? undefined : this.deps.queueByArn(this.config.onFailureQueueArn);
    flow.emit('fail', label, `${describe}: ${error.errorType}: ${error.errorMessage} (attempt ${attempt}, ${condition})`, { requestId, attempt });
    if (destination) {
      destination.send(JSON.stringify(record));
    } else {
      flow.emit('warn', label, `${describe}: dropped (no on-failure destination)`);
    }
  }
}
