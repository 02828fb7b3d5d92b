/**
 * Runs inside a worker thread: the local "execution environment" of one function. Like Lambda's
 * Node.js runtime it captures stdout/stderr (so Powertools' JSON logs can be filed per function
 * and per invocation), imports the handler module once (module scope = a warm container, with the
 * function's own environment variables), then serves one invocation at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { WorkerInit, WorkerInvoke, WorkerMessage, SerializedError } from './lambda-protocol';

const init = workerData as WorkerInit;
let captured: string[] = [];

function capture(stream: NodeJS.WriteStream): void {
  const write = (chunk: unknown, ...rest: unknown[]): boolean => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    callback?.();
    return true;
  };
  stream.write = write as typeof stream.write;
}
capture(process.stdout);
capture(process.stderr);

function takeLogs(): string[] {
  const lines = captured.join('').split('\n').filter((line) => line.trim() !== '');
  captured = [];
  return lines;
}

function serialize(error: unknown): SerializedError {
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

function post(message: WorkerMessage): void {
  parentPort?.postMessage(message);
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let handler: Handler;
try {
  const module = (await import(pathToFileURL(init.handlerFile).href)) as Record<string, unknown>;
  const exported = module[init.handlerExport];
  if (typeof exported !== 'function') throw Object.assign(new Error(`${init.handlerFile} does not export ${init.handlerExport}`), { name: 'Runtime.HandlerNotFound' });
  handler = exported as Handler;
  post({ type: 'ready', logs: takeLogs() });
} catch (error) {
  post({ type: 'init-error', error: serialize(error), logs: takeLogs() });
  process.exit(1);
}

parentPort?.on('message', (message: WorkerInvoke) => {
  void (async () => {
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: init.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: init.functionArn,
      memoryLimitInMB: String(init.memorySize),
      awsRequestId: message.requestId,
      logGroupName: `/aws/lambda/${init.functionName}`,
      logStreamName: init.logStreamName,
      getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    try {
      const result = await handler(message.event, context);
      // Lambda returns the JSON serialization of the result.
      const payload: unknown = result === undefined ? null : JSON.parse(JSON.stringify(result));
      post({ type: 'result', id: message.id, ok: true, payload, logs: takeLogs() });
    } catch (error) {
      post({ type: 'result', id: message.id, ok: false, error: serialize(error), logs: takeLogs() });
    }
  })();
});
