import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError, type CommandIo } from '../../lib/ops/command';
import { deadLetterOutputKeys, deadLetterQueues, findDeadLetterQueue, resolveRoutes } from '../../lib/ops/deployment';
import { Progress, renderBar } from '../../lib/ops/progress';
import { routeTable, targetName } from '../../lib/route-table';
import { configKeysOf } from '../../lib/domain/route-validation';
import { StatefulOutput, targetOutputKey } from '../../lib/stack-outputs';
import { stackTemplateFile } from '../../lib/synthesized-template';
import { allKindsTable } from '../infra/all-kinds-table';
import { routingOutputs, statefulOutputs } from './support';

function templateOutputKeys(file: string): Set<string> {
  const template = JSON.parse(readFileSync(file, 'utf8')) as { Outputs?: Record<string, unknown> };
  return new Set(Object.keys(template.Outputs ?? {}));
}

const routingTemplate = stackTemplateFile('cdk.out', 'routing');
const statefulTemplate = stackTemplateFile('cdk.out', 'stateful');

describe('names resolved from stack outputs', () => {
  it('names one dead-letter queue per hop of each target, the target named by its kind unless named', () => {
    // A table of the test's own: one route with a target of each own kind and a named http target.
    const table = allKindsTable.filter((route) => route.name === 'own-kinds');
    expect(deadLetterQueues(table).map((queue) => queue.name)).toEqual([
      'own-kinds/queue/target-dlq',
      'own-kinds/queue/buffer-dlq',
      'own-kinds/function/target-dlq',
      'own-kinds/function/on-failure',
      'own-kinds/workflow/target-dlq',
      'own-kinds/workflow/workflow-failures',
      'own-kinds/teams/target-dlq',
    ]);
    expect(deadLetterOutputKeys(findDeadLetterQueue('own-kinds/function/on-failure', table))).toEqual({
      url: 'RouteOwnKindsTargetFunctionOnFailureQueueUrl',
      arn: 'RouteOwnKindsTargetFunctionOnFailureQueueArn',
    });
  });

  it('refuses unknown routes and queues with the valid names', () => {
    expect(() => resolveRoutes(['documents', 'nope'])).toThrow(UsageError);
    expect(() => findDeadLetterQueue('documents/target-dlq')).toThrow('valid names: documents/queue/target-dlq');
    expect(resolveRoutes(['documents', 'documents']).map((route) => route.name)).toEqual(['documents']);
  });

  it.skipIf(routingTemplate === undefined || statefulTemplate === undefined)('reads only outputs the synthesized stacks really have', () => {
    const routing = templateOutputKeys(routingTemplate ?? '');
    const stateful = templateOutputKeys(statefulTemplate ?? '');
    expect(stateful.has(StatefulOutput.eventBusArn)).toBe(true);
    expect(stateful.has(StatefulOutput.archiveArn)).toBe(true);
    for (const route of routeTable) {
      for (const target of route.targets.filter((candidate) => configKeysOf(candidate).length === 0)) expect(routing.has(targetOutputKey(route.name, targetName(target), 'RuleArn'))).toBe(true);
    }
    // The slack target takes its URL from config, which cdk.json leaves empty: it is not synthesized.
    for (const queue of deadLetterQueues().filter((candidate) => candidate.target.kind !== 'http' || typeof candidate.target.url === 'string')) {
      const keys = deadLetterOutputKeys(queue);
      expect(routing.has(keys.url), keys.url).toBe(true);
      expect(routing.has(keys.arn), keys.arn).toBe(true);
    }
    // The test fixtures mirror the real outputs, no more.
    for (const output of routingOutputs) expect(routing.has(output.OutputKey ?? ''), output.OutputKey).toBe(true);
    for (const output of statefulOutputs) expect(stateful.has(output.OutputKey ?? ''), output.OutputKey).toBe(true);
  });
});

describe('progress', () => {
  it('renders a bar with a percentage, clamped, and an unknown one', () => {
    expect(renderBar(0.5)).toBe(`[${'#'.repeat(15)}${'-'.repeat(15)}]  50%`);
    expect(renderBar(1.7)).toBe(`[${'#'.repeat(30)}] 100%`);
    expect(renderBar(undefined)).toBe(`[${'-'.repeat(30)}]    ?`);
  });

  it('on a terminal redraws in place and keeps notes above the bar', () => {
    const err: string[] = [];
    const io: CommandIo = { out: () => undefined, err: (line) => err.push(line), interactive: true };
    const progress = new Progress(io, 'x');
    progress.update(0, 'a');
    progress.update(0.5, 'b');
    progress.note('failed: m2');
    progress.update(1, 'c');
    expect(err).toEqual([
      `x ${renderBar(0)} a`,
      `\x1b[1A\x1b[2Kx ${renderBar(0.5)} b`,
      '\x1b[1A\x1b[2Kfailed: m2',
      `x ${renderBar(1)} c`,
    ]);
  });

  it('off a terminal prints only the finished bar and the notes, so a pipe gets a summary line', () => {
    const err: string[] = [];
    const io: CommandIo = { out: () => undefined, err: (line) => err.push(line), interactive: false };
    const progress = new Progress(io, 'x');
    progress.update(0, 'a');
    progress.update(undefined, 'b');
    progress.update(0.5, 'c');
    progress.note('failed: m2');
    progress.update(1, 'd');
    expect(err).toEqual(['failed: m2', `x ${renderBar(1)} d`]);
  });
});
