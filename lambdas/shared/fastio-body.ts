/**
 * The one way a consumer reads the verbatim Fast.io payload (DESIGN.md decision 12): inline from the
 * event, or, when the ingest claim-checked a large body, from S3, checked against the reference's
 * size and sha256 before it is trusted.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { BodyRef } from '../../lib/domain/fastio-envelope';
import { forcePathStyle } from './s3-addressing';

/** A claim-checked body that cannot be read back as the reference describes it. */
export class FastioBodyError extends Error {
  override readonly name = 'FastioBodyError';
}

export interface PayloadCarrier {
  readonly payload?: Record<string, unknown>;
  readonly bodyRef?: BodyRef;
}

let defaultClient: Promise<S3Client> | undefined;

/**
 * Imported and created on first use: a consumer that only ever sees inline payloads (over 99% of
 * events) never loads the S3 client, at cold start or later.
 */
function s3(): Promise<S3Client> {
  defaultClient ??= import('./s3-commands').then(({ S3Client }) => new S3Client({ forcePathStyle: forcePathStyle() }));
  return defaultClient;
}

const describeRef = (ref: BodyRef): string => `s3://${ref.bucket}/${ref.key}`;

/** The exact raw bytes of a claim-checked delivery, verified against its reference. */
export async function readBody(ref: BodyRef, client?: S3Client): Promise<Buffer> {
  const { GetObjectCommand } = await import('./s3-commands');
  const output = await (client ?? (await s3())).send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  if (output.Body === undefined) throw new FastioBodyError(`claim-checked body ${describeRef(ref)} has no content`);
  const bytes = Buffer.from(await output.Body.transformToByteArray());
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== ref.sizeBytes || sha256 !== ref.sha256) {
    throw new FastioBodyError(
      `claim-checked body ${describeRef(ref)} does not match its reference: expected ${ref.sizeBytes} bytes with sha256 ${ref.sha256}, got ${bytes.length} bytes with sha256 ${sha256}`,
    );
  }
  return bytes;
}

/** The verbatim payload object: `detail.payload`, or the claim-checked body parsed as the ingest did. */
export async function readPayload(detail: PayloadCarrier, client?: S3Client): Promise<Record<string, unknown>> {
  if (detail.payload !== undefined) return detail.payload;
  if (detail.bodyRef === undefined) throw new FastioBodyError('the event carries neither a payload nor a body reference');
  const text = (await readBody(detail.bodyRef, client)).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw new FastioBodyError(`claim-checked body ${describeRef(detail.bodyRef)} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FastioBodyError(`claim-checked body ${describeRef(detail.bodyRef)} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
