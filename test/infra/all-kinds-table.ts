/**
 * A route table that uses every target kind and every ARN variant, for the tests that must cover all
 * of them (the operator CLI and its policy; the stacks' per-target resources). Its ARNs name account
 * 111122223333, so nothing here can be mistaken for a resource of the deployment itself.
 */
import type { Route, RoutePattern, SampleEvent } from '../../lib/route-table';

export const OTHER_ACCOUNT = '111122223333';
const region = 'us-east-1';
const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${OTHER_ACCOUNT}:${resource}`;

export const ALL_KINDS = {
  queueArn: arn('sqs', 'their-queue'),
  encryptedQueueArn: arn('sqs', 'their-encrypted-queue'),
  kmsKeyArn: arn('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab'),
  functionArn: arn('lambda', 'function:their-function'),
  stateMachineArn: arn('states', 'stateMachine:their-workflow'),
  topicArn: arn('sns', 'their-topic'),
  eventBusArn: arn('events', 'event-bus/their-bus'),
  apiKeySecretArn: arn('secretsmanager', 'secret:their-api-key-AbCdEf'),
  subscriberQueueArn: arn('sqs', 'their-subscriber'),
} as const;

const pattern = (detailType: string): RoutePattern => ({ source: ['fastio'], 'detail-type': [detailType] });
const samples = (detailType: string): Route['samples'] => {
  const event = (type: string): SampleEvent => ({ 'detail-type': type, detail: { eventId: `evt-${type}`, workspaceId: 'ws-1', fileId: 'f-1' } });
  return { matching: [event(detailType)], notMatching: [event('file.never')] };
};

/** Five routes, each target kind at least once; `announce` takes its URL and secret from config. */
export const allKindsTable: readonly Route[] = [
  {
    name: 'own',
    description: 'The three own kinds, one with an InputPath.',
    pattern: pattern('file.uploaded'),
    targets: [
      { kind: 'queue', consumer: 'catalog-consumer', access: { tables: [{ table: 'catalog', actions: ['dynamodb:UpdateItem'] }] } },
      { kind: 'function', consumer: 'agent-audit', access: { tables: [{ table: 'audit', actions: ['dynamodb:PutItem'] }], readsBodies: true } },
      { kind: 'workflow', workflow: 'review', input: { path: '$.detail' } },
    ],
    samples: samples('file.uploaded'),
  },
  {
    name: 'existing',
    description: 'Resources that exist elsewhere, by ARN.',
    pattern: pattern('file.created'),
    targets: [
      { kind: 'queue', queueArn: ALL_KINDS.queueArn, encryption: 'sqs-managed' },
      { name: 'encrypted-queue', kind: 'queue', queueArn: ALL_KINDS.encryptedQueueArn, encryption: { kmsKeyArn: ALL_KINDS.kmsKeyArn } },
      { kind: 'function', functionArn: ALL_KINDS.functionArn },
      { kind: 'workflow', stateMachineArn: ALL_KINDS.stateMachineArn },
    ],
    samples: samples('file.created'),
  },
  {
    name: 'fan-out',
    description: 'SNS: a created topic with subscriptions and an existing topic; another bus.',
    pattern: pattern('file.updated'),
    targets: [
      { kind: 'topic', subscriptions: [{ queueArn: ALL_KINDS.subscriberQueueArn }, { email: 'ops@example.com' }] },
      { name: 'their-topic', kind: 'topic', topicArn: ALL_KINDS.topicArn },
      { kind: 'bus', eventBusArn: ALL_KINDS.eventBusArn },
    ],
    samples: samples('file.updated'),
  },
  {
    name: 'webhooks',
    description: 'An HTTPS endpoint with an API key and an InputTransformer.',
    pattern: pattern('file.deleted'),
    targets: [
      {
        kind: 'http',
        url: 'https://hooks.example.com/services/T000/B000/XXXX',
        authorization: { type: 'api-key', headerName: 'X-Api-Key', secretArn: ALL_KINDS.apiKeySecretArn },
        rateLimitPerSecond: 10,
        input: { paths: { file: '$.detail.fileId', type: '$.detail-type' }, template: '{"text": "<type>: <file>"}' },
      },
    ],
    samples: samples('file.deleted'),
  },
  {
    name: 'announce',
    description: 'An http target from config, off unless announceUrl and announceSecretArn are set.',
    pattern: pattern('file.moved'),
    targets: [
      { kind: 'queue', consumer: 'catalog-consumer', access: { tables: [{ table: 'catalog', actions: ['dynamodb:UpdateItem'] }] } },
      {
        name: 'chat',
        kind: 'http',
        url: { fromConfig: 'announceUrl' },
        method: 'PUT',
        authorization: { type: 'basic', username: 'fastio', passwordSecretArn: { fromConfig: 'announceSecretArn' } },
      },
    ],
    samples: samples('file.moved'),
  },
];
