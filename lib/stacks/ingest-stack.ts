import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config';
import { grantBodyAccess } from '../constructs/body-bucket';
import { ProjectFunction } from '../constructs/project-function';
import { IngestOutput } from '../stack-outputs';

export interface IngestStackProps extends StackProps {
  readonly config: AppConfig;
  readonly eventBus: events.IEventBus;
  readonly signingSecret: secretsmanager.ISecret;
  /** Where bodies above `config.claimCheckThresholdBytes` are stored; the ingest may only put objects. */
  readonly bodyBucket: s3.IBucket;
  /** Resend dedupe claims (conditional PutItem, UpdateItem to mark or release); unused while ingestDedupeHours is 0. */
  readonly dedupeTable: dynamodb.ITableV2;
}

export const WEBHOOK_PATH = '/webhooks/fastio';

/**
 * The public edge: an HTTP API with one route whose Lambda integration verifies the Fast.io
 * signature and is the only writer to the bus. The check cannot live in an HTTP API Lambda
 * authorizer, because authorizers never receive the request body the HMAC is computed over.
 */
export class IngestStack extends Stack {
  public readonly httpApi: apigwv2.HttpApi;
  public readonly ingestFunction: ProjectFunction;
  public readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.ingestFunction = new ProjectFunction(this, 'IngestFunction', {
      handlerFolder: 'ingest',
      serviceName: 'fastio-ingest',
      // Fast.io expects an answer within a few seconds; a slow PutEvents should become a 503 it retries.
      timeout: Duration.seconds(6),
      memorySize: 1024,
      // Its own share of the account's concurrency: a consumer backlog can never starve the edge.
      reservedConcurrentExecutions: config.ingestReservedConcurrency,
    })
      .withEnvironment('EVENT_BUS_NAME', props.eventBus.eventBusName, (grantee) => props.eventBus.grantPutEventsTo(grantee))
      // GetSecretValue only: grantRead would add DescribeSecret, which the ingest never calls.
      .withEnvironment('SIGNING_SECRET_ARN', props.signingSecret.secretArn, (grantee) =>
        iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [props.signingSecret.secretArn] }),
      )
      .withEnvironment('SIGNATURE_SCHEME', config.signatureScheme)
      .withEnvironment('SIGNATURE_TOLERANCE_SECONDS', String(config.signatureToleranceSeconds))
      .withEnvironment('ROTATION_GRACE_HOURS', String(config.rotationGraceHours))
      .withEnvironment('BODY_BUCKET_NAME', props.bodyBucket.bucketName, (grantee) => grantBodyAccess(grantee, config.stage, 's3:PutObject'))
      .withEnvironment('CLAIM_CHECK_THRESHOLD_BYTES', String(config.claimCheckThresholdBytes))
      .withEnvironment('DEDUPE_WINDOW_HOURS', String(config.ingestDedupeHours));
    if (config.ingestDedupeHours > 0) {
      // Claims are written, never read: a conditional PutItem returns the old item when it refuses.
      this.ingestFunction.withEnvironment('DEDUPE_TABLE_NAME', props.dedupeTable.tableName, (grantee) =>
        props.dedupeTable.grant(grantee, 'dynamodb:PutItem', 'dynamodb:UpdateItem'),
      );
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.httpApi = new apigwv2.HttpApi(this, 'WebhookApi', {
      apiName: `${config.stage}-fastio-webhooks`,
      description: 'Receives Fast.io webhooks; the integration verifies each signature before publishing.',
      createDefaultStage: false,
    });
    this.httpApi.addRoutes({
      path: WEBHOOK_PATH,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('VerifyAndPublish', this.ingestFunction, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTimeEpoch',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Fast.io authenticates with an HMAC signature over the body, which no API Gateway authorizer can see; the integration verifies it and rejects unsigned requests with 401 before anything is published.',
    });

    new CfnOutput(this, IngestOutput.webhookUrl, { value: `${this.httpApi.apiEndpoint}${WEBHOOK_PATH}` });
    new CfnOutput(this, IngestOutput.ingestFunctionName, { value: this.ingestFunction.functionName });
    new CfnOutput(this, IngestOutput.rotationGraceHours, { value: String(config.rotationGraceHours) });
  }
}
