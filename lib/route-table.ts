/**
 * THE ROUTE TABLE: where to change a route.
 *
 * Each entry becomes one EventBridge rule on the bus with its whole target chain (see
 * lib/stacks/routing-stack.ts). Patterns are plain EventBridge JSON, exactly what the AWS console and
 * `aws events test-event-pattern` take, and they match the normalized envelope the ingest
 * publishes (lib/domain/fastio-envelope.ts): `detail.extension` is lower-case without the dot,
 * `detail.sizeBytes` a number, `detail.agentId` present only when an agent acted.
 *
 * Every route carries sample events that must and must not match; `npm test` runs them all, and
 * `npm run -s ops -- routes test <file>` explains a match or a miss before you deploy.
 */

import type { ConsumerAccess, Route } from './domain/route-types';

export * from './domain/route-types';

/** Agents of your own organisation; their deletions are expected and need no review. */
export const TRUSTED_AGENT_IDS = ['agent-indexer', 'agent-backup'] as const;

const DOCUMENT_EXTENSIONS = ['pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'rtf', 'txt', 'md', 'csv'] as const;
export const VIDEO_EXTENSIONS = ['mp4', 'mov', 'mkv', 'avi', 'webm', 'm4v'] as const;
export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'gif', 'tif', 'tiff', 'heic', 'webp', 'raw', 'psd'] as const;

/** The catalog consumer's one write: a conditional UpdateItem per file. */
const CATALOG_WRITER: ConsumerAccess = { tables: [{ table: 'catalog', actions: ['dynamodb:UpdateItem'] }] };
/**
 * The audit consumer appends one record per event and keeps the verbatim payload, which a
 * claim-checked event holds only by reference in the body bucket.
 */
const AUDIT_WRITER: ConsumerAccess = { tables: [{ table: 'audit', actions: ['dynamodb:PutItem'] }], readsBodies: true };

export const routeTable: readonly Route[] = [
  {
    name: 'documents',
    description: 'Office documents and text files of any size are catalogued by the buffered catalog consumer.',
    pattern: {
      source: ['fastio'],
      'detail-type': [{ prefix: 'file.' }],
      // The ingest lower-cases extensions already; ignoring case here keeps the route right for
      // events published by other producers on the same bus too.
      detail: { extension: DOCUMENT_EXTENSIONS.map((extension) => ({ 'equals-ignore-case': extension })) },
    },
    targets: [{ kind: 'queue', consumer: 'catalog-consumer', access: CATALOG_WRITER }],
    samples: {
      matching: [
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-1', workspaceId: 'ws-1', fileId: 'f-1', extension: 'pdf', sizeBytes: 2048 } },
        { 'detail-type': 'file.deleted', detail: { eventId: 'evt-2', workspaceId: 'ws-1', fileId: 'f-2', extension: 'DOCX' } },
        { 'detail-type': 'file.created', detail: { eventId: 'evt-3', workspaceId: 'ws-1', fileId: 'f-3', extension: 'xlsx', agentId: 'agent-7' } },
      ],
      notMatching: [
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-4', workspaceId: 'ws-1', fileId: 'f-4', extension: 'png', sizeBytes: 2048 } },
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-5', workspaceId: 'ws-1', fileId: 'f-5' } },
        { 'detail-type': 'agent.task.completed', detail: { eventId: 'evt-6', extension: 'pdf', agentId: 'agent-7' } },
      ],
    },
  },
  {
    name: 'large-media',
    description: 'Videos and images of 100 MiB or more go through the review workflow.',
    pattern: {
      source: ['fastio'],
      'detail-type': ['file.created', 'file.uploaded', 'file.updated'],
      detail: {
        extension: [...VIDEO_EXTENSIONS, ...IMAGE_EXTENSIONS],
        // sizeMiB, not sizeBytes: EventBridge compares numbers only up to 5.0e9, about 4.7 GiB.
        sizeMiB: [{ numeric: ['>=', 100] }],
      },
    },
    targets: [{ kind: 'workflow', workflow: 'review' }],
    samples: {
      matching: [
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-10', workspaceId: 'ws-1', fileId: 'f-10', extension: 'mp4', sizeBytes: 524_288_000, sizeMiB: 500 } },
        { 'detail-type': 'file.created', detail: { eventId: 'evt-11', workspaceId: 'ws-1', fileId: 'f-11', extension: 'tiff', sizeBytes: 104_857_600, sizeMiB: 100 } },
        // 8 GiB: beyond the range EventBridge's numeric operator compares, which is why the rule uses sizeMiB.
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-16', workspaceId: 'ws-1', fileId: 'f-16', extension: 'mkv', sizeBytes: 8_589_934_592, sizeMiB: 8192 } },
      ],
      notMatching: [
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-12', workspaceId: 'ws-1', fileId: 'f-12', extension: 'mp4', sizeBytes: 104_857_599, sizeMiB: 99 } },
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-13', workspaceId: 'ws-1', fileId: 'f-13', extension: 'mp4', sizeMiB: '500' } },
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-14', workspaceId: 'ws-1', fileId: 'f-14', extension: 'pdf', sizeBytes: 524_288_000, sizeMiB: 500 } },
        { 'detail-type': 'file.deleted', detail: { eventId: 'evt-15', workspaceId: 'ws-1', fileId: 'f-15', extension: 'mov', sizeBytes: 524_288_000, sizeMiB: 500 } },
      ],
    },
  },
  {
    name: 'agent-activity',
    description: 'Every action taken by an AI agent is written to the agent audit trail.',
    pattern: {
      source: ['fastio'],
      detail: { agentId: [{ exists: true }] },
    },
    targets: [{ kind: 'function', consumer: 'agent-audit', access: AUDIT_WRITER }],
    samples: {
      matching: [
        { 'detail-type': 'file.created', detail: { eventId: 'evt-20', workspaceId: 'ws-1', fileId: 'f-20', agentId: 'agent-7' } },
        { 'detail-type': 'agent.task.completed', detail: { eventId: 'evt-21', workspaceId: 'ws-1', agentId: 'agent-indexer' } },
      ],
      notMatching: [{ 'detail-type': 'file.created', detail: { eventId: 'evt-22', workspaceId: 'ws-1', fileId: 'f-22' } }],
    },
  },
  {
    name: 'untrusted-agent-deletions',
    description:
      'Deletions by agents outside the trusted list are sent for review. Replays are delivered: the review workflow notifies once per event, so a replay only finishes reviews that did not complete.',
    pattern: {
      source: ['fastio'],
      'detail-type': ['file.deleted'],
      detail: { agentId: [{ 'anything-but': [...TRUSTED_AGENT_IDS] }] },
    },
    targets: [{ kind: 'workflow', workflow: 'review' }],
    samples: {
      matching: [
        { 'detail-type': 'file.deleted', detail: { eventId: 'evt-30', workspaceId: 'ws-1', fileId: 'f-30', extension: 'pdf', agentId: 'agent-7' } },
        {
          'detail-type': 'file.deleted',
          'replay-name': 'recovery-2026-11-22',
          detail: { eventId: 'evt-33', workspaceId: 'ws-1', fileId: 'f-33', agentId: 'agent-7' },
        },
      ],
      notMatching: [
        { 'detail-type': 'file.deleted', detail: { eventId: 'evt-31', workspaceId: 'ws-1', fileId: 'f-31', agentId: 'agent-backup' } },
        { 'detail-type': 'file.deleted', detail: { eventId: 'evt-32', workspaceId: 'ws-1', fileId: 'f-32' } },
      ],
    },
  },
  {
    name: 'video-uploads',
    description:
      'Fan-out: every uploaded video under 100 MiB is catalogued and announced in a chat channel (larger ones go to review through large-media). The announcement is an HTTPS webhook (Slack, Teams, ...) and is deployed only when slackWebhookUrl and slackWebhookSecretArn are configured.',
    pattern: {
      source: ['fastio'],
      'detail-type': ['file.uploaded'],
      detail: { extension: [...VIDEO_EXTENSIONS], sizeMiB: [{ numeric: ['<', 100] }] },
    },
    targets: [
      { name: 'catalog', kind: 'queue', consumer: 'catalog-consumer', access: CATALOG_WRITER },
      {
        name: 'slack',
        kind: 'http',
        url: { fromConfig: 'slackWebhookUrl' },
        // An incoming webhook authenticates by its URL; API destinations still need a connection,
        // so the connection sends a header the receiver ignores, its value kept in Secrets Manager.
        authorization: { type: 'api-key', headerName: 'X-Fastio-Relay', secretArn: { fromConfig: 'slackWebhookSecretArn' } },
        rateLimitPerSecond: 1,
        // Every sender-controlled value (file name, workspace id) is a JSON value of its own, which
        // EventBridge escapes, in a plain_text object, which Slack never parses for mentions or links:
        // a file named `<!channel>` or `Bob "final" cut.mp4` is shown as written. The top-level `text`
        // (the notification preview, parsed as mrkdwn) holds no event value.
        input: {
          paths: { file: '$.detail.fileName', workspace: '$.detail.workspaceId', size: '$.detail.sizeMiB' },
          // sizeMiB is a number the ingest computes (lib/domain/fastio-envelope.ts) and this route's
          // numeric pattern only matches a number, so it is digits, never text, inside "<size> MiB".
          trustedPlaceholders: ['size'],
          template:
            '{"text": "A video was uploaded to Fast.io.", "blocks": [' +
            '{"type": "section", "text": {"type": "plain_text", "text": "A video was uploaded to Fast.io."}}, ' +
            '{"type": "section", "fields": [' +
            '{"type": "plain_text", "text": "File"}, {"type": "plain_text", "text": <file>}, ' +
            '{"type": "plain_text", "text": "Size"}, {"type": "plain_text", "text": "<size> MiB"}, ' +
            '{"type": "plain_text", "text": "Workspace"}, {"type": "plain_text", "text": <workspace>}]}]}',
        },
      },
    ],
    samples: {
      matching: [
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-40', workspaceId: 'ws-1', fileId: 'f-40', fileName: 'demo.mp4', extension: 'mp4', sizeBytes: 1_048_576, sizeMiB: 1 } },
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-41', workspaceId: 'ws-1', fileId: 'f-41', fileName: 'talk.webm', extension: 'webm', sizeBytes: 52_428_800, sizeMiB: 50 } },
      ],
      notMatching: [
        { 'detail-type': 'file.updated', detail: { eventId: 'evt-42', workspaceId: 'ws-1', fileId: 'f-42', extension: 'mp4', sizeMiB: 1 } },
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-43', workspaceId: 'ws-1', fileId: 'f-43', extension: 'png', sizeMiB: 1 } },
        // Large videos are large-media's: they are reviewed, not announced.
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-44', workspaceId: 'ws-1', fileId: 'f-44', extension: 'mp4', sizeBytes: 524_288_000, sizeMiB: 500 } },
      ],
    },
  },
];

export function findRoute(name: string, table: readonly Route[] = routeTable): Route | undefined {
  return table.find((route) => route.name === name);
}
