import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** What a log line says about an error: enough to act on, nothing of the code's insides. */
export interface LoggedError {
  readonly name: string;
  readonly message: string;
  /** Node's `code` (ECONNRESET), or the `Code` of an AWS service error, when the error has one. */
  readonly code?: string | number;
  readonly cause?: LoggedError | string;
  /** Only at DEBUG/TRACE level or with VERBOSE set: a stack trace is noise (and internals) in an operator's log. */
  readonly stack?: string;
}

/** Whether log lines carry stack traces: VERBOSE=1|true, or the logger at DEBUG or TRACE. */
function stacksWanted(): boolean {
  const verbose = process.env.VERBOSE?.trim().toLowerCase();
  if (verbose !== undefined && verbose !== '' && verbose !== '0' && verbose !== 'false') return true;
  return ['DEBUG', 'TRACE'].includes(logger.getLevelName());
}

/** The one way this project turns an error into log fields: name, message, code, cause; the stack only when asked. */
export function loggedError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields = error as Error & { code?: unknown; Code?: unknown };
  const code = [fields.code, fields.Code].find((value): value is string | number => typeof value === 'string' || typeof value === 'number');
  const cause = error.cause === undefined || depth >= 3 ? undefined : error.cause instanceof Error ? loggedError(error.cause, depth + 1) : String(error.cause);
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(cause === undefined ? {} : { cause }),
    ...(stacksWanted() && error.stack !== undefined ? { stack: error.stack } : {}),
  };
}

/**
 * One Logger and one Metrics per container, shared by every module of a function.
 * Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_METRICS_NAMESPACE, which the project's function construct sets.
 */
export const logger = new Logger({
  // Runs before Powertools' own serialization, so its error format (which keeps the stack) never sees an Error.
  jsonReplacerFn: (_key: string, value: unknown) => (value instanceof Error ? loggedError(value) : value),
});
export const metrics = new Metrics();
