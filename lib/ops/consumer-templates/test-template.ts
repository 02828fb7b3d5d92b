/**
 * The test `ops new consumer` writes to `test/consumers/<name>.test.ts`. It passes against the
 * generated handler and shows how to test one: the environment set before the import (the handler
 * reads it at cold start), Powertools' idempotency table answered in memory, a duplicate done once,
 * a malformed event rejected alone. Its effect is a log line; a real consumer counts its writes.
 */
import { OPS_COMMAND } from '../command';
import type { ConsumerKind } from './consumer-kind';

const TESTS: Record<ConsumerKind, (name: string) => string> = {
  queue: (name) => `describe('${name}', () => {
  it('handles an event once, even when it is delivered twice (at-least-once delivery, a replay)', async () => {
    expect(await handler(batch(sqsMessage('m1', fastioEvent('evt-1'))), context)).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(sqsMessage('m2', fastioEvent('evt-1'))), context)).toEqual({ batchItemFailures: [] });

    expect(handled()).toEqual(['evt-1']);
  });

  it('fails a message that is not a Fast.io event alone; the rest of the batch is handled', async () => {
    const response = await handler(batch(sqsMessage('good', fastioEvent('evt-2')), sqsMessage('bad', 'not an event')), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(handled()).toEqual(['evt-2']);
  });
});
`,
  function: (name) => `describe('${name}', () => {
  it('handles an event once, even when it is delivered twice (at-least-once delivery, a replay)', async () => {
    await expect(handler(fastioEvent('evt-1'), context)).resolves.toBe('handled');
    await expect(handler(fastioEvent('evt-1'), context)).resolves.toBe('handled');

    expect(handled()).toEqual(['evt-1']);
  });

  it('throws for an event that is not a Fast.io event, so Lambda sends it to the on-failure queue', async () => {
    await expect(handler({ ...fastioEvent('evt-2'), source: 'aws.s3' }, context)).rejects.toThrow('Invalid Fast.io event: source must be "fastio"');

    expect(handled()).toEqual([]);
  });
});
`,
};

export function testSource(name: string, kind: ConsumerKind): string {
  const sqsHelpers = kind === 'queue' ? 'batch, ' : '';
  const sqsMessage = kind === 'queue' ? ', sqsMessage' : '';
  return `/**
 * ${name}: written by \`${OPS_COMMAND} new consumer\` with its handler. Replace the log-line effect
 * with yours: mock your client with aws-sdk-client-mock and count its writes per event id.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ${sqsHelpers}captureConsole, fakeContext, fakeIdempotencyTable${sqsMessage} } from './support';

const FUNCTION_NAME = vi.hoisted(() => {
  // Read by the handler at import (cold start), so set before imports are evaluated.
  process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency-table';
  process.env.AWS_LAMBDA_FUNCTION_NAME = '${name}-fn';
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_DEV = 'true'; // Logger and Metrics print through the global console
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_SERVICE_NAME = '${name}';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'FastioEventBridge';
  return '${name}-fn';
});

import { handler } from '../../lambdas/${name}/handler';

/** A Fast.io event as the bus delivers it (lambdas/shared/fastio-event.ts). */
const fastioEvent = (eventId: string) => ({
  version: '0',
  id: \`eb-\${eventId}\`,
  'detail-type': 'file.uploaded',
  source: 'fastio',
  account: '123456789012',
  time: '2024-05-01T10:00:00Z',
  region: 'us-east-1',
  resources: [] as string[],
  detail: {
    eventId,
    eventType: 'file.uploaded',
    workspaceId: 'ws-1',
    fileId: 'file-1',
    fileName: 'report.pdf',
    extension: 'pdf',
    sizeBytes: 1234,
    payload: { event_id: eventId, event_type: 'file.uploaded' },
  },
});

const context = fakeContext(FUNCTION_NAME);
const ddb = mockClient(DynamoDBClient);
let output: ReturnType<typeof captureConsole>;
/** The event ids the handler did its work for: here, its log line. */
const handled = () => output.logs().filter((line) => line.message === 'Fast.io event handled').map((line) => line.eventId);

beforeEach(() => {
  ddb.reset();
  fakeIdempotencyTable(ddb);
  output = captureConsole();
});

afterEach(() => {
  vi.restoreAllMocks();
});

${TESTS[kind](name)}`;
}
