import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config';
import { FASTIO_SOURCE } from '../domain/fastio-envelope';
import { bodyBucketName } from '../constructs/body-bucket';
import { FlightRecorder } from '../constructs/flight-recorder';
import { createSecureBucket } from '../constructs/secure-bucket';
import { QUEUE_RETENTION } from '../constructs/secure-queue';
import { StatefulOutput } from '../stack-outputs';

export interface StatefulStackProps extends StackProps {
  readonly config: AppConfig;
}

/**
 * Everything that holds data: the bus and its archive, the signing secret and the consumers'
 * tables. It changes rarely and is never replaced by a routine deploy; every resource is RETAINed.
 */
export class StatefulStack extends Stack {
  public readonly eventBus: events.EventBus;
  public readonly archive: events.Archive;
  public readonly signingSecret: secretsmanager.ISecret;
  /** One item per file, written by the catalog consumer and the review workflow. */
  public readonly catalogTable: dynamodb.TableV2;
  /** Agent actions in time order, per agent, expiring by TTL. */
  public readonly auditTable: dynamodb.TableV2;
  /** Powertools Idempotency records of completed consumer work. */
  public readonly idempotencyTable: dynamodb.TableV2;
  /** The ingest's claims on Fast.io event ids, so a resend within the dedupe window is not published again (decision 16). */
  public readonly dedupeTable: dynamodb.TableV2;
  /** Claim-checked raw bodies of deliveries too large to travel in the event (DESIGN.md decision 12). */
  public readonly bodyBucket: s3.Bucket;
  /** Every bus event recorded to S3 and searchable with Athena (DESIGN.md decision 14). */
  public readonly recorder: FlightRecorder;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.eventBus = new events.EventBus(this, 'EventBus', { eventBusName: `${config.stage}-fastio` });
    this.eventBus.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.archive = this.eventBus.archive('Archive', {
      archiveName: `${config.stage}-fastio-all`,
      description: 'Every event the ingest published, for replay during incident recovery.',
      eventPattern: { source: [FASTIO_SOURCE] },
      retention: Duration.days(config.archiveRetentionDays),
    });
    this.archive.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.signingSecret = config.signingSecretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'SigningSecret', config.signingSecretArn)
      : this.createSigningSecret(config.stage);

    this.catalogTable = this.createTable('CatalogTable', {
      partitionKey: { name: 'workspaceId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'fileId', type: dynamodb.AttributeType.STRING },
    });
    this.auditTable = this.createTable('AuditTable', {
      partitionKey: { name: 'agentId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'occurredAtEventId', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
    });
    this.idempotencyTable = this.createTable('IdempotencyTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
    });

    // Items expire at the end of the dedupe window (cdk.json ingestDedupeHours); expiresAt is checked in
    // the claim's condition too, as TTL deletes up to days late.
    this.dedupeTable = this.createTable('DedupeTable', {
      partitionKey: { name: 'eventId', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
    });

    this.bodyBucket = this.createBodyBucket(config.stage, config.archiveRetentionDays);

    this.recorder = new FlightRecorder(this, 'FlightRecorder', {
      stage: config.stage,
      eventBus: this.eventBus,
      archiveRetentionDays: config.archiveRetentionDays,
    });

    this.output(StatefulOutput.eventBusName, this.eventBus.eventBusName);
    this.output(StatefulOutput.eventBusArn, this.eventBus.eventBusArn);
    this.output(StatefulOutput.archiveName, this.archive.archiveName);
    this.output(StatefulOutput.archiveArn, this.archive.archiveArn);
    this.output(StatefulOutput.signingSecretArn, this.signingSecret.secretArn);
    this.output(StatefulOutput.catalogTableName, this.catalogTable.tableName);
    this.output(StatefulOutput.auditTableName, this.auditTable.tableName);
    this.output(StatefulOutput.idempotencyTableName, this.idempotencyTable.tableName);
    this.output(StatefulOutput.bodyBucketName, this.bodyBucket.bucketName);
    this.output(StatefulOutput.recorderBucketName, this.recorder.bucket.bucketName);
    this.output(StatefulOutput.recorderStreamName, this.recorder.deliveryStream.ref);
    this.output(StatefulOutput.recorderRuleArn, this.recorder.rule.ruleArn);
    this.output(StatefulOutput.recorderDlqUrl, this.recorder.deadLetterQueue.queueUrl);
    this.output(StatefulOutput.recorderDlqArn, this.recorder.deadLetterQueue.queueArn);
    this.output(StatefulOutput.recorderDatabaseName, this.recorder.databaseName);
    this.output(StatefulOutput.recorderTableName, this.recorder.tableName);
    this.output(StatefulOutput.recorderWorkGroupName, this.recorder.workGroupName);
    this.output(StatefulOutput.recorderBufferSeconds, String(this.recorder.bufferingInterval.toSeconds()));
    this.output(StatefulOutput.queryResultsBucketName, this.recorder.queryResultsBucket.bucketName);
  }

  /**
   * Bodies must outlive every event that points at them: an archived event can be replayed for
   * archiveRetentionDays, and a dead letter redriven for 14 days after that.
   */
  private createBodyBucket(stage: string, archiveRetentionDays: number): s3.Bucket {
    const bucket = createSecureBucket(this, 'BodyBucket', {
      bucketName: bodyBucketName(stage),
      expiry: { id: 'expire-after-archive-and-dead-letter-retention', expiration: Duration.days(archiveRetentionDays + QUEUE_RETENTION.toDays()) },
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the ingest role writes (under the sha256 of a verified delivery, logged with its event id) and only consumer roles read; server access logs would need a second bucket to say the same. Enable CloudTrail S3 data events when an access audit is required.',
    });
    return bucket;
  }

  private createSigningSecret(stage: string): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'SigningSecret', {
      secretName: `${stage}/fastio/webhook-signing-secret`,
      description: 'Fast.io webhook signing secret. Replace the generated placeholder with `aws secretsmanager put-secret-value`.',
      // A random placeholder, so a fresh deployment rejects every delivery until the real secret is set.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Fast.io issues the signing secret; rotating it means changing it in Fast.io and running put-secret-value, which the ingest honours with an AWSPREVIOUS grace period. A rotation Lambda cannot change it at Fast.io.',
    });
    return secret;
  }

  private createTable(id: string, props: Pick<dynamodb.TablePropsV2, 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'>): dynamodb.TableV2 {
    return new dynamodb.TableV2(this, id, {
      ...props,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private output(key: string, value: string): void {
    new CfnOutput(this, key, { value });
  }
}
