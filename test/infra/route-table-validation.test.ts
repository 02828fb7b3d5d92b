import { describe, expect, it } from 'vitest';
import { RouteTableError, validateRouteTable } from '../../lib/domain/route-validation';
import type { Route, RouteTarget } from '../../lib/route-table';
import { WORKFLOW_NAMES } from '../../lib/workflows';
import { ARNS, allKindsTable } from './all-kinds-table';
import { buildApp, synthesizeOrExplain } from '../../lib/stacks/fastio-app';
import { cdkJsonContext, synthesize } from './synthesize';

const checks = { consumerExists: (folder: string) => ['catalog-consumer', 'agent-audit'].includes(folder), workflows: WORKFLOW_NAMES };
const route = (targets: readonly RouteTarget[]): Route => ({ ...(allKindsTable[0] as Route), name: 'uploads', targets });
const problem = (targets: readonly RouteTarget[]) => {
  try {
    validateRouteTable([route(targets)], checks);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(RouteTableError);
    return (error as Error).message;
  }
};

describe('route table mistakes stop synth with one line naming route, target and field', () => {
  it('accepts the all-kinds table', () => {
    expect(() => validateRouteTable(allKindsTable, checks)).not.toThrow();
  });

  it.each([
    ['an unknown consumer folder', [{ kind: 'queue', consumer: 'transcriber' }], 'route "uploads" target "queue": consumer "transcriber" has no lambdas/transcriber/handler.ts'],
    ['an unknown workflow', [{ kind: 'workflow', workflow: 'approve' }], 'route "uploads" target "workflow": workflow "approve" is not one of lib/workflows: review'],
    ['a malformed queue ARN', [{ kind: 'queue', queueArn: 'arn:aws:sqs:eu-west-1:1234:q', encryption: 'none' }], 'route "uploads" target "queue": queueArn "arn:aws:sqs:eu-west-1:1234:q" is not an SQS queue ARN'],
    ['a function ARN that names a queue', [{ kind: 'function', functionArn: ARNS.plainQueue }], `route "uploads" target "function": functionArn "${ARNS.plainQueue}" is not a Lambda function ARN`],
    [
      'a URL that is not https',
      [{ kind: 'http', url: 'http://hooks.example.com/x', authorization: { type: 'api-key', headerName: 'x-api-key', secretArn: ARNS.apiKeySecret } }],
      'route "uploads" target "http": url "http://hooks.example.com/x" is not an https URL',
    ],
    [
      'a queue ARN without encryption',
      [{ kind: 'queue', queueArn: ARNS.plainQueue } as unknown as RouteTarget],
      `route "uploads" target "queue": encryption is missing: say 'none', 'sqs-managed' or { kmsKeyArn } for the queue's customer-managed key, which EventBridge must be allowed to use`,
    ],
    [
      'two targets with one name',
      [
        { kind: 'queue', consumer: 'catalog-consumer' },
        { kind: 'queue', queueArn: ARNS.plainQueue, encryption: 'none' },
      ],
      'route "uploads": two targets are named "queue"; give one a different name',
    ],
    ['six targets', Array.from({ length: 6 }, (_, index) => ({ kind: 'bus', name: `bus-${index}`, eventBusArn: ARNS.bus })), 'route "uploads": targets has 6 entries; a rule takes 1 to 5'],
  ] as const)('%s', (_what, targets, expected) => {
    const message = problem(targets as readonly RouteTarget[]);
    expect(message).toBe(expected);
    expect(message).not.toContain('\n');
  });

  it('rejects an input EventBridge would refuse, through the routing stack', () => {
    const broken = [route([{ kind: 'queue', consumer: 'catalog-consumer', input: { path: 'detail' } }])];
    expect(() => synthesize({}, broken)).toThrow(/^route "uploads" target "queue": input: [^\n]+$/);
  });

  it('refuses at synth, in one line naming route, target and placeholder, a placeholder inside a JSON string', () => {
    // GIVEN an http target whose template puts the file name inside a string literal
    const template = '{"text": "Video <file> was uploaded"}';
    const broken = [route([{ kind: 'http', name: 'chat', url: 'https://hooks.example.com/x', authorization: { type: 'api-key', headerName: 'x-api-key', secretArn: ARNS.apiKeySecret }, input: { paths: { file: '$.detail.fileName' }, template } }])];
    // WHEN the routing stack is built THEN synth stops with that one line
    expect(() => synthesize({}, broken)).toThrow(/^route "uploads" target "chat": input: input template puts <file> inside a JSON string[^\n]+$/);
  });

  it('stops the routing stack before anything is built', () => {
    const broken = [route([{ kind: 'queue', consumer: 'transcriber' }])];
    expect(() => synthesize({}, broken)).toThrow(RouteTableError);
  });

  it('makes the app (bin/app.ts) print one error line and exit 1', () => {
    // GIVEN the real app with a table whose http target is not https
    const broken = [route([{ kind: 'http', url: 'http://example.com', authorization: { type: 'basic', username: 'u', passwordSecretArn: ARNS.passwordSecret } }])];
    const written: string[] = [];
    const exit = (code: number): never => {
      throw new Error(`exit ${code}`);
    };
    // WHEN bin/app.ts's entry point synthesizes it
    expect(() => synthesizeOrExplain(() => buildApp({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } }, broken), { stderr: { write: (text) => written.push(text) }, exit })).toThrow('exit 1');
    // THEN one line, no stack trace
    expect(written).toEqual(['error: route "uploads" target "http": url "http://example.com" is not an https URL\n']);
  });
});
