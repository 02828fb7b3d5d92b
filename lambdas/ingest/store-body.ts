import type { S3Client } from '@aws-sdk/client-s3';
import type { BodyRef } from '../../lib/domain/fastio-envelope';
import { describeCallError } from './publish';

export type StoreResult = { readonly ok: true } | { readonly ok: false; readonly errorCode: string; readonly errorMessage: string };

/**
 * Stores the exact raw body under its reference (claim-check). S3 verifies the SHA-256 it is sent,
 * so a body damaged on the way is refused instead of stored. A resend of the same delivery writes
 * the same key with the same bytes, which is harmless.
 */
export async function storeBody(client: S3Client, ref: BodyRef, rawBody: Buffer): Promise<StoreResult> {
  try {
    // Loaded with the client, on the first claim-checked body only.
    const { PutObjectCommand } = await import('../shared/s3-commands');
    await client.send(
      new PutObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        Body: rawBody,
        ContentLength: rawBody.length,
        ContentType: 'application/octet-stream',
        ChecksumSHA256: Buffer.from(ref.sha256, 'hex').toString('base64'),
      }),
    );
    return { ok: true };
  } catch (error) {
    return { ok: false, ...describeCallError(error) };
  }
}
