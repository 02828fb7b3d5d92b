import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export interface SecureBucketProps {
  readonly bucketName: string;
  /** The one lifecycle rule: objects expire this long after they were written. */
  readonly expiry: { readonly id: string; readonly expiration: Duration };
}

/**
 * An S3 bucket with the project's secure defaults: SSE-S3, all public access blocked, TLS only,
 * ACLs disabled, RETAINed, objects expiring by one lifecycle rule (and abandoned uploads after a day).
 */
export function createSecureBucket(scope: Construct, id: string, props: SecureBucketProps): s3.Bucket {
  return new s3.Bucket(scope, id, {
    bucketName: props.bucketName,
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ ...props.expiry, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
  });
}
