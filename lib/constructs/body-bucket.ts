import { Aws, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BODY_KEY_PREFIX } from '../domain/fastio-envelope';

/**
 * The claim-check bucket's name (DESIGN.md decision 12). Deterministic, so the stacks that use it
 * grant on an ARN they can spell, and the one wildcard in it (the content-addressed object keys)
 * can be acknowledged precisely.
 */
export function bodyBucketName(stage: string): string {
  return `${stage}-fastio-bodies-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}

export type BodyAccess = 's3:PutObject' | 's3:GetObject';

/**
 * Grants one object action on the claim-checked bodies and nothing else: no listing, no bucket
 * actions, no multipart or tagging actions (which `grantPut`/`grantRead` would add).
 */
export function grantBodyAccess(grantee: iam.IGrantable, stage: string, action: BodyAccess): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: [action],
    resourceArns: [`arn:${Aws.PARTITION}:s3:::${bodyBucketName(stage)}/${BODY_KEY_PREFIX}*`],
  });
  const principal = grantee.grantPrincipal;
  if (principal instanceof iam.Role) {
    Validations.of(principal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${stage}-fastio-bodies-<AWS::AccountId>-<AWS::Region>/${BODY_KEY_PREFIX}*]`,
      reason: 'Body objects are keyed by the sha256 of each delivery, unknown until it arrives; the grant covers only that key prefix of the one bucket, with a single object action.',
    });
  }
  return grant;
}
