/**
 * Names of the stack outputs the operator CLI reads. The stacks write them through these helpers
 * and the CLI reads them through the same ones, so renaming a resource cannot break `ops`.
 */
import type { DeadLetterRole } from './constructs/secure-queue';

export const StatefulOutput = {
  eventBusName: 'EventBusName',
  eventBusArn: 'EventBusArn',
  archiveName: 'ArchiveName',
  archiveArn: 'ArchiveArn',
  signingSecretArn: 'SigningSecretArn',
  catalogTableName: 'CatalogTableName',
  auditTableName: 'AuditTableName',
  idempotencyTableName: 'IdempotencyTableName',
  bodyBucketName: 'BodyBucketName',
  recorderBucketName: 'RecorderBucketName',
  recorderStreamName: 'RecorderStreamName',
  recorderRuleArn: 'RecorderRuleArn',
  recorderDlqUrl: 'RecorderDlqUrl',
  recorderDlqArn: 'RecorderDlqArn',
  recorderDatabaseName: 'RecorderDatabaseName',
  recorderTableName: 'RecorderTableName',
  recorderWorkGroupName: 'RecorderWorkGroupName',
  /** The recorder stream's buffering interval in seconds (its BufferingHints): `ops reconcile` calls no window clean until it passed. */
  recorderBufferSeconds: 'RecorderBufferSeconds',
  queryResultsBucketName: 'QueryResultsBucketName',
} as const;

export const MonitoringOutput = {
  operatorPolicyArn: 'OperatorPolicyArn',
} as const;

export const IngestOutput = {
  webhookUrl: 'WebhookUrl',
  ingestFunctionName: 'IngestFunctionName',
  /** How long the ingest accepts AWSPREVIOUS after a rotation (`ops secret rotate` reports it). */
  rotationGraceHours: 'RotationGraceHours',
} as const;

/** Resources of a target's chain in the routing stack. */
type ChainResource =
  | 'BufferQueueUrl'
  | 'BufferQueueArn'
  | 'FunctionArn'
  | 'StateMachineArn'
  | `${DeadLetterQueueKey}Url`
  | `${DeadLetterQueueKey}Arn`;

type DeadLetterQueueKey = 'BufferDlq' | 'TargetDlq' | 'OnFailureQueue' | 'FailureQueue' | 'SubscriptionDlq' | 'RecorderDlq';

export const DEAD_LETTER_KEYS: Record<DeadLetterRole, DeadLetterQueueKey> = {
  'buffer-dlq': 'BufferDlq',
  'target-dlq': 'TargetDlq',
  'on-failure': 'OnFailureQueue',
  'workflow-failures': 'FailureQueue',
  'subscription-dlq': 'SubscriptionDlq',
  'recorder-dlq': 'RecorderDlq',
};

function pascalCase(kebab: string): string {
  return kebab
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/** The recorder's target DLQ (lib/constructs/flight-recorder.ts) feeds a Firehose stream, which `dlq redrive` does not deliver to. */
export const RECORDER_REDRIVE_UNSUPPORTED = 'redrive of the flight recorder DLQ is not supported: its events are still in the archive';

/** The operator-facing name of a dead-letter queue, e.g. 'documents/queue/buffer-dlq'. */
export function deadLetterQueueName(routeName: string, role: DeadLetterRole): string {
  return `${routeName}/${role}`;
}

/** Per-target resources of a route in the routing stack. */
export type TargetResource =
  | ChainResource
  /** The target's own rule: one per target, so a replay's FilterArns can name single targets. */
  | 'RuleArn'
  | 'TopicArn'
  | 'ApiDestinationArn'
  | 'ConnectionArn'
  | 'DestinationArn'
  /** The statement a queue target's customer-managed key policy must hold (the stack cannot write it). */
  | 'KeyPolicyStatement'
  /** The Secrets Manager secret an http target's authorization names, as deployed (`ops dlq redrive` authenticates with it). */
  | 'SecretArn';

/** Every TargetResource once (a Record, so the compiler says when the type and this list differ). */
const EVERY_TARGET_RESOURCE: Record<TargetResource, true> = {
  // Every target has these two: a clash is reported on them first.
  DestinationArn: true,
  TargetDlqUrl: true,
  RuleArn: true,
  BufferQueueUrl: true,
  BufferQueueArn: true,
  FunctionArn: true,
  StateMachineArn: true,
  BufferDlqUrl: true,
  BufferDlqArn: true,
  TargetDlqArn: true,
  OnFailureQueueUrl: true,
  OnFailureQueueArn: true,
  FailureQueueUrl: true,
  FailureQueueArn: true,
  SubscriptionDlqUrl: true,
  SubscriptionDlqArn: true,
  RecorderDlqUrl: true,
  RecorderDlqArn: true,
  TopicArn: true,
  ApiDestinationArn: true,
  ConnectionArn: true,
  KeyPolicyStatement: true,
  SecretArn: true,
};
/** The output keys a target may have, for the route table's check that no two targets share one. */
export const TARGET_RESOURCES = Object.keys(EVERY_TARGET_RESOURCE) as readonly TargetResource[];

/**
 * e.g. targetOutputKey('video-uploads', 'slack', 'TargetDlqUrl') === 'RouteVideoUploadsTargetSlackTargetDlqUrl'.
 * Names can still run together (route `partner` + target `target-eu` and route `partner-target` + target
 * `eu`), so the route table validation refuses a table where two targets get one key.
 */
export function targetOutputKey(routeName: string, targetName: string, resource: TargetResource): string {
  return `Route${pascalCase(routeName)}Target${pascalCase(targetName)}${resource}`;
}

/** The operator-facing handle of a target's dead-letter queue, e.g. 'video-uploads/slack/target-dlq'. */
export function targetDeadLetterQueueName(routeName: string, targetName: string, role: DeadLetterRole): string {
  return `${routeName}/${targetName}/${role}`;
}
