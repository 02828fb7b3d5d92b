/**
 * The local S3 stand-in through the real SDK client and the handlers' own code: the ingest's
 * storeBody and the consumers' readBody, path-style over REST-XML, with S3's errors and injected faults.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyRefOf } from '../../lib/domain/fastio-envelope';
import { close, createAwsEndpoint, listen } from '../../lib/local/aws-endpoint';
import type { LocalDynamoDb } from '../../lib/local/dynamodb';
import type { LocalEventBus } from '../../lib/local/event-bus';
import { FaultRegistry } from '../../lib/local/faults';
import { Flow } from '../../lib/local/flow';
import { LocalS3 } from '../../lib/local/s3';
import type { LocalSecret } from '../../lib/local/secrets';
import { storeBody } from '../../lambdas/ingest/store-body';
import { readBody } from '../../lambdas/shared/fastio-body';

const BUCKET = 'dev-fastio-bodies-000000000000-us-east-1';
const faults = new FaultRegistry();
const s3 = new LocalS3([{ logicalId: 'BodyBucket', name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }], faults);
let server: Server;
let client: S3Client;

beforeAll(async () => {
  server = createAwsEndpoint({ dynamodb: {} as LocalDynamoDb, bus: {} as LocalEventBus, secret: {} as LocalSecret, s3, flow: new Flow() });
  const port = await listen(server, 0);
  client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  client?.destroy();
  await close(server);
});

describe('the S3 stand-in', () => {
  const raw = Buffer.concat([Buffer.from('{"event_type":"file.uploaded","pad":"'), Buffer.alloc(3 * 1024 * 1024, 0x61), Buffer.from('"}')]);
  const ref = bodyRefOf(BUCKET, raw);

  it('stores what the ingest puts and gives the exact bytes back to the consumers’ reader', async () => {
    await expect(storeBody(client, ref, raw)).resolves.toEqual({ ok: true });
    expect(s3.object(BUCKET, ref.key)?.body.equals(raw)).toBe(true);
    expect((await readBody(ref, client)).equals(raw)).toBe(true);
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: ref.key }))).resolves.toMatchObject({ ContentLength: raw.length });
  });

  it('answers NoSuchKey and NoSuchBucket as S3 does', async () => {
    await expect(readBody({ ...ref, key: 'bodies/sha256/missing' }, client)).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(storeBody(client, { ...ref, bucket: 'someone-elses-bucket' }, raw)).resolves.toMatchObject({ ok: false, errorCode: 'NoSuchBucket' });
  });

  it('refuses a body whose sha256 is not the one sent (BadDigest)', async () => {
    const wrong = { ...ref, sha256: '0'.repeat(64) };
    await expect(storeBody(client, wrong, raw)).resolves.toMatchObject({ ok: false, errorCode: 'BadDigest' });
  });

  it('fails a call on purpose when a fault is injected, then works again', async () => {
    faults.add({ service: 's3', operation: 'PutObject', errorCode: 'SlowDown', times: 1 });
    await expect(storeBody(client, ref, raw)).resolves.toMatchObject({ ok: false, errorCode: 'SlowDown' });
    await expect(storeBody(client, ref, raw)).resolves.toEqual({ ok: true });
    faults.add({ service: 's3', operation: 'GetObject', times: 1 });
    await expect(readBody(ref, client)).rejects.toMatchObject({ name: 'InternalError' });
  });
});
