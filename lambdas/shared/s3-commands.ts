/**
 * The S3 client and the only commands the functions use, imported with `import()` on first use
 * (claim-check bodies only). Through this module, not `import('@aws-sdk/client-s3')`: a dynamic
 * import of the package keeps every one of its commands in the bundle; named re-exports let esbuild
 * drop the rest.
 */
export { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
