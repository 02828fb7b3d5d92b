/**
 * A consumer's failure log line carries the error's name, message and code, never its stack trace
 * (issue 20 item 7); the stack appears only with VERBOSE or at DEBUG level.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batch, captureConsole, fakeContext, fakeIdempotencyTable, fastioEvent, sqsMessage } from './support';

const FUNCTION_NAME = vi.hoisted(() => {
  const name = 'error-log-consumer-fn';
  // Read by lambdas/shared/idempotency.ts and powertools.ts at import (cold start).
  process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency-table';
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_DEV = 'true'; // Logger and Metrics print through the global console
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_SERVICE_NAME = 'error-log-consumer';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'FastioEventBridge';
  return name;
});

import { defineQueueConsumer } from '../../lambdas/shared/define-queue-consumer';
import { logger } from '../../lambdas/shared/powertools';

const ddb = mockClient(DynamoDBClient);
let output: ReturnType<typeof captureConsole>;

/** A consumer whose downstream call fails the way Node's sockets do: a name, a message and a code. */
const consumer = defineQueueConsumer(async () => {
  throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
});
const failureLine = async () => {
  await consumer(batch(sqsMessage('m1', fastioEvent('evt-log-1'))), fakeContext(FUNCTION_NAME)).catch((error: unknown) => error);
  return output.logs().find((line) => line.level === 'ERROR');
};

beforeEach(() => {
  ddb.reset();
  fakeIdempotencyTable(ddb);
  output = captureConsole();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  logger.setLogLevel('INFO');
});

describe('a consumer failure log line', () => {
  it('carries the error name, message and code, and no stack', async () => {
    const line = await failureLine();
    expect(line?.error).toEqual({ name: 'Error', message: 'socket hang up', code: 'ECONNRESET' });
    expect(JSON.stringify(line)).not.toContain('stack');
  });

  it('carries the stack with VERBOSE set', async () => {
    vi.stubEnv('VERBOSE', '1');
    const line = await failureLine();
    expect((line?.error as { stack?: string }).stack).toMatch(/^Error: socket hang up\n\s+at /);
  });

  it('carries the stack at DEBUG level', async () => {
    logger.setLogLevel('DEBUG');
    const line = await failureLine();
    expect((line?.error as { stack?: string }).stack).toMatch(/^Error: socket hang up\n/);
  });
});
