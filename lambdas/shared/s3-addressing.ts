/**
 * S3 addresses buckets as `<bucket>.<endpoint>` by default. An endpoint override (AWS_ENDPOINT_URL_S3
 * or AWS_ENDPOINT_URL: the local pipeline's loopback stand-in, an S3-compatible store) has no such
 * DNS names, so the functions' S3 clients address buckets by path exactly when one is set; on AWS
 * nothing changes.
 */
export function forcePathStyle(): boolean {
  return Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
}
