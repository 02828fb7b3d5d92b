/**
 * Shared events and case types for the EventBridge pattern-matcher conformance suite.
 * Events are copied from the Amazon EventBridge User Guide and the aws/event-ruler README.
 */

export interface MatchCase {
  name: string;
  pattern: unknown;
  event: unknown;
  expected: boolean;
}

export interface InvalidCase {
  name: string;
  pattern: unknown;
  /** JSON path the InvalidPatternError must carry. */
  path: string;
}

/** "Creating event patterns" — the Amazon EC2 state-change event. */
export const EC2_EVENT = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
  },
} as const;

/** "Matching null values and empty strings" — the EC2 Auto Scaling event. */
export const AUTOSCALING_EVENT = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    eventVersion: '',
    responseElements: null,
  },
} as const;

/** "Creating event patterns" (value matching) — the (truncated) Amazon Macie alert. */
export const MACIE_EVENT = {
  version: '0',
  id: '3e355723-fca9-4de3-9fd7-154c289d6b59',
  'detail-type': 'Macie Alert',
  source: 'aws.macie',
  account: '123456789012',
  time: '2017-04-24T22:28:49Z',
  region: 'us-east-1',
  resources: [
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id',
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id',
  ],
  detail: {
    'notification-type': 'ALERT_CREATED',
    name: 'Scanning bucket policies',
    tags: ['Custom_Alert', 'Insider'],
    'risk-score': 80,
    trigger: {
      'rule-arn': 'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id',
      'alert-type': 'basic',
      risk: 8,
    },
  },
} as const;

/**
 * The sample event used throughout "Content filtering" / the aws/event-ruler README
 * (c-count, d-count, x-limit, source-ip).
 */
export const FILTER_EVENT = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
} as const;

/** Returns FILTER_EVENT with `detail` fields replaced/added (a key set to undefined is removed). */
export function filterEventWith(detail: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...FILTER_EVENT.detail, ...detail };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return { ...FILTER_EVENT, detail: merged };
}

/** A one-field event/pattern pair helper: `{ [field]: value }`. */
export function one(field: string, value: unknown): Record<string, unknown> {
  return { [field]: value };
}
