/**
 * AWS SDK clients of the ingest function, created once per container, and the deadline that bounds
 * every call they make.
 *
 * No local-mode branches: the SDK honours the standard AWS_ENDPOINT_URL(_<SERVICE>) variables, and
 * tests mock the client classes with aws-sdk-client-mock.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { forcePathStyle } from '../shared/s3-addressing';

type HandleOptions = NonNullable<Parameters<NodeHttpHandler['handle']>[1]>;

/**
 * The deadline of the invocation in progress. Lambda runs one invocation at a time in a container
 * (and so does the local runtime, lib/local/lambda-runtime.ts), so one slot is enough: no
 * AsyncLocalStorage, whose promise hooks cost every promise of every request (issue 22's profile),
 * and no per-call `abortSignal` option, which would turn off the clients' middleware cache.
 */
let invocationDeadline: AbortSignal | undefined;

/**
 * Runs `body` with every AWS call it makes (directly, or through Powertools' Parameters provider)
 * aborted once `budgetMs` have passed. The pinned @smithy/node-http-handler only logs a warning when
 * `requestTimeout` passes on a connection that never answers; an abort signal is what ends the call.
 */
export async function withDeadline<T>(budgetMs: number, body: (deadline: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  // Cleared as soon as the invocation ends, so a busy container does not keep a timer per past request.
  const timer = setTimeout(() => controller.abort(new Error(`the invocation deadline (${budgetMs} ms) passed`)), Math.max(0, budgetMs));
  const outer = invocationDeadline;
  invocationDeadline = controller.signal;
  try {
    return await body(controller.signal);
  } finally {
    clearTimeout(timer);
    invocationDeadline = outer;
  }
}

/** Every request of a client goes through here, so no call site can forget the deadline. */
class DeadlineBoundHttpHandler extends NodeHttpHandler {
  override handle(request: Parameters<NodeHttpHandler['handle']>[0], options: HandleOptions = {}): ReturnType<NodeHttpHandler['handle']> {
    const deadline = invocationDeadline;
    if (deadline === undefined) return super.handle(request, options);
    const own = options.abortSignal as AbortSignal | undefined;
    const abortSignal = own === undefined ? deadline : AbortSignal.any([own, deadline]);
    return super.handle(request, { ...options, abortSignal });
  }
}

/**
 * Two attempts of at most 2 s each, plus backoff, and never past the invocation deadline. The
 * middleware stack is resolved once per command type instead of on every send (the SDK's
 * `cacheMiddleware`): nothing here adds middleware after the first call.
 */
const bounded = () => ({
  maxAttempts: 2,
  cacheMiddleware: true,
  requestHandler: new DeadlineBoundHttpHandler({ connectionTimeout: 1_000, requestTimeout: 2_000 }),
});

export const eventBridge = new EventBridgeClient(bounded());
/** Used only through the Powertools Parameters provider in signing-secret.ts. */
export const secretsManager = new SecretsManagerClient(bounded());
/** The resend dedupe table (resend-guard.ts). */
export const dynamoDb = new DynamoDBClient(bounded());

let s3Client: Promise<S3Client> | undefined;

/**
 * The claim-check's client, loaded on first use: under 1% of bodies are claim-checked, so no cold
 * start pays for importing and building it (issue 22).
 */
export function s3(): Promise<S3Client> {
  s3Client ??= import('../shared/s3-commands').then(
    ({ S3Client }) =>
      new S3Client({
        ...bounded(),
        forcePathStyle: forcePathStyle(),
        // The ingest sends its own SHA-256 checksum with each body; no second (CRC32) one by default.
        requestChecksumCalculation: 'WHEN_REQUIRED',
      }),
  );
  return s3Client;
}
