/**
 * The local S3 stand-in for the claim-check bucket: objects in memory, reached over S3's REST-XML
 * protocol with path-style addressing (`/<bucket>/<key>`), for exactly the operations the handlers
 * call: PutObject (the ingest), GetObject (consumers reading a body back) and HeadObject. Honours a
 * sent `x-amz-checksum-sha256` as S3 does (BadDigest on mismatch). Not emulated: versioning,
 * lifecycle expiry, multipart uploads, listing, IAM.
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsServiceError } from './aws-service-error';
import type { FaultRegistry } from './faults';

/** An error of the local S3 stand-in, answered as S3 does (an XML <Error> document). */
export class S3Error extends AwsServiceError {}

export interface BucketDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly sha256: string;
  readonly lastModified: number;
}

export interface S3Request {
  readonly method: string;
  /** The request path, e.g. `/dev-fastio-bodies-000000000000-us-east-1/bodies/sha256/ab…`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface S3Answer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const xmlEscape = (text: string): string => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function header(request: S3Request, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class LocalS3 {
  readonly #objects = new Map<string, StoredObject>();
  /** Every call, in order, for tests that count effects. */
  readonly operations: { operation: string; bucket: string; key: string; outcome: 'ok' | string }[] = [];

  constructor(
    readonly buckets: readonly BucketDefinition[],
    private readonly faults?: FaultRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  object(bucket: string, key: string): StoredObject | undefined {
    return this.#objects.get(`${bucket}/${key}`);
  }

  get size(): number {
    return this.#objects.size;
  }

  handle(request: S3Request): S3Answer {
    const requestId = randomUUID();
    const [bucket = '', ...rest] = request.path.replace(/^\//, '').split('?')[0]?.split('/') ?? [];
    const key = rest.map((segment) => decodeURIComponent(segment)).join('/');
    const method = request.method.toUpperCase();
    const operation = method === 'PUT' ? 'PutObject' : method === 'GET' ? 'GetObject' : method === 'HEAD' ? 'HeadObject' : `${method} object`;
    try {
      const answer = this.dispatch(operation, bucket, key, request);
      this.operations.push({ operation, bucket, key, outcome: 'ok' });
      return { ...answer, headers: { 'x-amz-request-id': requestId, ...answer.headers } };
    } catch (error) {
      const failure = error instanceof AwsServiceError ? error : new S3Error('InternalError', error instanceof Error ? error.message : String(error), 500);
      this.operations.push({ operation, bucket, key, outcome: failure.code });
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(failure.code)}</Code><Message>${xmlEscape(failure.message)}</Message><Key>${xmlEscape(key)}</Key><RequestId>${requestId}</RequestId></Error>`;
      // A HEAD answer has no body; the SDK reads the status alone.
      const body = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(xml);
      return { statusCode: failure.statusCode, headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId }, body };
    }
  }

  private dispatch(operation: string, bucket: string, key: string, request: S3Request): Omit<S3Answer, 'headers'> & { headers: Record<string, string> } {
    if (!['PutObject', 'GetObject', 'HeadObject'].includes(operation) || key === '') {
      throw new S3Error('NotImplemented', `[local S3 stand-in] ${request.method} ${request.path} is not supported by the stand-in (the handlers only put, get and head objects)`, 501);
    }
    if (!this.buckets.some((candidate) => candidate.name === bucket)) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404);
    const fault = this.faults?.take({ service: 's3', operation });
    if (fault) {
      const code = fault.errorCode ?? 'InternalError';
      throw new S3Error(code, fault.message ?? `injected by the local stand-in (fault #${fault.id})`, fault.statusCode ?? (code === 'InternalError' ? 500 : code === 'SlowDown' || code === 'ServiceUnavailable' ? 503 : 400));
    }
    if (operation === 'PutObject') return this.put(bucket, key, request);
    const stored = this.object(bucket, key);
    if (stored === undefined) throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404);
    const headers = {
      'content-type': stored.contentType,
      'content-length': String(stored.body.length),
      etag: stored.etag,
      'last-modified': new Date(stored.lastModified).toUTCString(),
    };
    return { statusCode: 200, headers, body: operation === 'HeadObject' ? Buffer.alloc(0) : stored.body };
  }

  private put(bucket: string, key: string, request: S3Request): Omit<S3Answer, 'headers'> & { headers: Record<string, string> } {
    if (header(request, 'content-encoding')?.includes('aws-chunked')) {
      throw new S3Error('NotImplemented', '[local S3 stand-in] aws-chunked uploads are not supported by the stand-in (send the body in one piece)', 501);
    }
    const { body } = request;
    const sha256 = createHash('sha256').update(body).digest('base64');
    const sent = header(request, 'x-amz-checksum-sha256');
    if (sent !== undefined && sent !== sha256) throw new S3Error('BadDigest', 'The SHA256 you specified did not match the calculated checksum.', 400);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    this.#objects.set(`${bucket}/${key}`, { body: Buffer.from(body), contentType: header(request, 'content-type') ?? 'binary/octet-stream', etag, sha256, lastModified: this.now() });
    return { statusCode: 200, headers: { etag, ...(sent === undefined ? {} : { 'x-amz-checksum-sha256': sha256 }) }, body: Buffer.alloc(0) };
  }
}
