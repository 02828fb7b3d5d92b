/** Messages between the local Lambda runtime (main thread) and a function's worker thread. */

export interface WorkerInit {
  readonly handlerFile: string;
  readonly handlerExport: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly memorySize: number;
  readonly logStreamName: string;
}

export interface WorkerInvoke {
  readonly id: number;
  readonly requestId: string;
  readonly event: unknown;
  /** Epoch ms when the function times out. */
  readonly deadline: number;
}

/** A function error as Lambda reports it (the Node.js runtime's errorType / errorMessage / trace). */
export interface SerializedError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly logs: readonly string[] }
  | { readonly type: 'init-error'; readonly error: SerializedError; readonly logs: readonly string[] }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly payload: unknown; readonly logs: readonly string[] }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: SerializedError; readonly logs: readonly string[] };
