/**
 * Every queue the project creates carries its stage, route, target and role as tags, so
 * `ops dlq list` can name a retained queue that no stack output names any more (an orphan after
 * a logical id change) and redrive it to its target.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { deadLetterQueues } from '../../lib/ops/deployment';
import { targetName } from '../../lib/route-table';
import { allKindsTable } from './all-kinds-table';
import { synthesize, type SynthesizedApp } from './synthesize';

type Tags = Record<string, string>;

function queueTags(template: SynthesizedApp['templates']['routing']): Tags[] {
  return Object.values(template.findResources('AWS::SQS::Queue')).map((queue) =>
    Object.fromEntries(((queue.Properties?.Tags ?? []) as { Key: string; Value: string }[]).map((tag) => [tag.Key, tag.Value])),
  );
}

describe('queue tags', () => {
  let synthesized: SynthesizedApp;
  beforeAll(() => {
    synthesized = synthesize({ stage: 'qa' }, allKindsTable);
  });

  it('tags each dead-letter queue of every route target with its stage, route, target and role', () => {
    const tagged = queueTags(synthesized.templates.routing);
    for (const queue of deadLetterQueues(allKindsTable)) {
      expect(tagged, queue.name).toContainEqual(expect.objectContaining({ stage: 'qa', route: queue.route.name, target: queue.targetName, role: queue.role }));
    }
  });

  it('tags each buffer queue with its route and target and the role buffer', () => {
    const tagged = queueTags(synthesized.templates.routing);
    const buffered = allKindsTable.flatMap((route) => route.targets.filter((target) => target.kind === 'queue' && 'consumer' in target).map((target) => ({ route: route.name, target: targetName(target) })));
    expect(buffered.length).toBeGreaterThan(0);
    for (const owner of buffered) expect(tagged).toContainEqual(expect.objectContaining({ stage: 'qa', ...owner, role: 'buffer' }));
  });

  it('leaves no queue of the routing stack without route, target and role', () => {
    const tagged = queueTags(synthesized.templates.routing);
    expect(tagged.filter((tags) => !tags.route || !tags.target || !tags.role || tags.stage !== 'qa')).toEqual([]);
    expect(tagged).toHaveLength(deadLetterQueues(allKindsTable).length + allKindsTable.flatMap((route) => route.targets.filter((target) => target.kind === 'queue' && 'consumer' in target)).length);
  });

  it('tags the recorder dead-letter queue with its role', () => {
    synthesized.templates.stateful.hasResourceProperties('AWS::SQS::Queue', { Tags: Match.arrayWith([{ Key: 'role', Value: 'recorder-dlq' }, { Key: 'stage', Value: 'qa' }]) });
  });
});
