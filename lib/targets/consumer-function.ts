import { Duration, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { grantBodyAccess } from '../constructs/body-bucket';
import { ProjectFunction, type ProjectFunctionProps } from '../constructs/project-function';
import type { OwnFunctionTarget, OwnQueueTarget, Route } from '../domain/route-types';
import type { RouteResources } from './target-support';

export const CONSUMER_TIMEOUT = Duration.seconds(30);

export interface ConsumerFunctionProps {
  readonly route: Route;
  readonly target: OwnQueueTarget | OwnFunctionTarget;
  readonly targetName: string;
  readonly resources: RouteResources;
  readonly asyncInvoke?: ProjectFunctionProps['asyncInvoke'];
}

/**
 * A handler of your own (`lambdas/<consumer>/handler.ts`) with exactly the grants it declares next
 * to its route: its idempotency records, the project tables with the listed actions, the claim-checked
 * bodies when it keeps verbatim payloads, and buckets of your own by name. ROUTE_NAME and
 * TARGET_NAME tell the handler which route and target it serves, so its completion records can be
 * found by both.
 */
export function createConsumerFunction(scope: Construct, props: ConsumerFunctionProps): ProjectFunction {
  const { route, target, resources } = props;
  const fn = new ProjectFunction(scope, 'Consumer', {
    handlerFolder: target.consumer,
    serviceName: `fastio-${route.name}`,
    timeout: CONSUMER_TIMEOUT,
    asyncInvoke: props.asyncInvoke,
  })
    .withEnvironment('ROUTE_NAME', route.name)
    .withEnvironment('TARGET_NAME', props.targetName)
    .withEnvironment('IDEMPOTENCY_TABLE_NAME', resources.idempotencyTable.tableName, (grantee) =>
      // Exactly what Powertools' DynamoDBPersistenceLayer calls.
      resources.idempotencyTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'),
    );
  const tables = { catalog: resources.catalogTable, audit: resources.auditTable };
  for (const { table, actions } of target.access?.tables ?? []) {
    fn.withEnvironment(`${table.toUpperCase()}_TABLE_NAME`, tables[table].tableName, (grantee) => tables[table].grant(grantee, ...actions));
  }
  // Only handlers that keep the verbatim payload read claim-checked bodies; the others use normalized fields.
  if (target.access?.readsBodies) grantBodyAccess(fn, resources.stage, 's3:GetObject');
  for (const [index, { bucketName, environment, access }] of (target.access?.buckets ?? []).entries()) {
    const bucket = s3.Bucket.fromBucketName(scope, `Bucket${index}`, bucketName);
    const grant = access === 'read' ? bucket.grantRead(fn) : access === 'write' ? bucket.grantWrite(fn) : bucket.grantReadWrite(fn);
    fn.addEnvironment(environment, bucketName);
    // CDK's bucket grants name object actions by prefix (s3:GetObject*, s3:Abort*) on the bucket's
    // objects; they are acknowledged finding by finding, for this bucket only.
    const wildcardActions = new Set(grant.principalStatements.flatMap((statement) => statement.actions).filter((action) => action.includes('*')));
    const reason = `The handler declares ${access} access to bucket ${bucketName} next to its route; CDK's ${access} grant covers that bucket and its objects only.`;
    for (const action of wildcardActions) Validations.of(fn.role ?? fn).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
    Validations.of(fn.role ?? fn).acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucketName}/*]`, reason });
  }
  return fn;
}
