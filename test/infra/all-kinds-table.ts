/**
 * A route table that uses every target kind and every ARN variant, with input paths and
 * transformers on some, so the tests can synthesize all of lib/targets at once.
 */
import type { Route, SampleEvent } from '../../lib/route-table';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const REGION = 'eu-west-1';

export const ARNS = {
  plainQueue: `arn:aws:sqs:${REGION}:${ACCOUNT}:plain-queue`,
  managedQueue: `arn:aws:sqs:${REGION}:${ACCOUNT}:managed-queue`,
  kmsQueue: `arn:aws:sqs:${REGION}:${ACCOUNT}:kms-queue`,
  queueKey: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  function: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:transcribe`,
  stateMachine: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:ingest-media`,
  topic: `arn:aws:sns:${REGION}:${ACCOUNT}:media-news`,
  bus: `arn:aws:events:us-west-2:${OTHER_ACCOUNT}:event-bus/partner-bus`,
  subscribedQueue: `arn:aws:sqs:${REGION}:${ACCOUNT}:subscriber`,
  apiKeySecret: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:slack-webhook-AbCdEf`,
  passwordSecret: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:teams-password-GhIjKl`,
  clientSecret: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:crm-client-MnOpQr`,
} as const;

export const TRANSFORMER = {
  paths: { file: '$.detail.fileName', workspace: '$.detail.workspaceId' },
  template: '{"file": <file>, "workspace": <workspace>}',
} as const;

const samples: { matching: SampleEvent[]; notMatching: SampleEvent[] } = {
  matching: [{ 'detail-type': 'file.uploaded', detail: { eventId: 'evt-1', workspaceId: 'ws-1', fileId: 'f-1' } }],
  notMatching: [{ 'detail-type': 'file.deleted', detail: { eventId: 'evt-2', workspaceId: 'ws-1', fileId: 'f-2' } }],
};

export const allKindsTable: readonly Route[] = [
  {
    name: 'own-kinds',
    description: 'Every target of your own, and an http target with basic authorization.',
    pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'] },
    targets: [
      {
        kind: 'queue',
        consumer: 'catalog-consumer',
        access: {
          tables: [{ table: 'catalog', actions: ['dynamodb:UpdateItem'] }],
          buckets: [{ bucketName: 'media-archive-bucket', environment: 'ARCHIVE_BUCKET', access: 'read' }],
        },
      },
      { kind: 'function', consumer: 'agent-audit', access: { tables: [{ table: 'audit', actions: ['dynamodb:PutItem'] }], readsBodies: true } },
      { kind: 'workflow', workflow: 'review' },
      {
        kind: 'http',
        name: 'teams',
        url: 'https://example.webhook.office.com/webhookb2/abc',
        authorization: { type: 'basic', username: 'fastio', passwordSecretArn: ARNS.passwordSecret },
        input: TRANSFORMER,
      },
    ],
    samples,
  },
  {
    name: 'arn-kinds',
    description: 'Every ARN variant of queue, function and workflow targets.',
    pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'] },
    targets: [
      { kind: 'queue', name: 'plain-queue', queueArn: ARNS.plainQueue, encryption: 'none', input: TRANSFORMER },
      { kind: 'queue', name: 'managed-queue', queueArn: ARNS.managedQueue, encryption: 'sqs-managed' },
      { kind: 'queue', name: 'kms-queue', queueArn: ARNS.kmsQueue, encryption: { kmsKeyArn: ARNS.queueKey } },
      { kind: 'function', functionArn: ARNS.function, input: { path: '$.detail' } },
      { kind: 'workflow', stateMachineArn: ARNS.stateMachine },
    ],
    samples,
  },
  {
    name: 'fan-out-kinds',
    description: 'Topics, http with api-key and OAuth, and another bus.',
    pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'] },
    targets: [
      { kind: 'topic', name: 'existing-topic', topicArn: ARNS.topic },
      {
        kind: 'topic',
        name: 'new-topic',
        subscriptions: [{ email: 'media@example.com' }, { queueArn: ARNS.subscribedQueue }, { url: 'https://hooks.example.com/fastio' }],
        input: { path: '$.detail' },
      },
      {
        kind: 'http',
        name: 'slack',
        url: 'https://hooks.slack.com/services/T000/B000/XXXX',
        authorization: { type: 'api-key', headerName: 'x-api-key', secretArn: ARNS.apiKeySecret },
        rateLimitPerSecond: 10,
        input: TRANSFORMER,
      },
      {
        kind: 'http',
        name: 'crm',
        url: 'https://api.example.com/events',
        method: 'PUT',
        idempotencyKeyHeader: 'X-Request-Id',
        authorization: { type: 'oauth-client-credentials', tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'fastio', clientSecretArn: ARNS.clientSecret, scope: 'events.write' },
      },
      { kind: 'bus', eventBusArn: ARNS.bus },
    ],
    samples,
  },
];
