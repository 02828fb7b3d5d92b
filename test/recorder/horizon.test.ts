/**
 * The retry horizon's numbers are those the stacks deploy: the CLI keeps plain copies (it does not
 * load aws-cdk-lib), so a change to a retry policy that is not carried over fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ASYNC_INVOKE_POLICY } from '../../lib/targets/own-function-target';
import { BUFFER_VISIBILITY_TIMEOUT } from '../../lib/targets/own-queue-target';
import { TARGET_RETRY_POLICY } from '../../lib/targets/target-support';
import {
  ASYNC_INVOKE_MAX_EVENT_AGE_MS,
  BUFFER_VISIBILITY_TIMEOUT_MS,
  LOG_LAG_MS,
  retryHorizonMs,
  TARGET_MAX_EVENT_AGE_MS,
  WORKFLOW_TIMEOUT_MS,
} from '../../lib/recorder/horizon';
import { MAX_RECEIVE_COUNT } from '../../lib/domain/max-receive-count';
import { trackedTargets } from '../../lib/recorder/sources';
import type { Route } from '../../lib/domain/route-types';

const ROUTE: Route = {
  name: 'mixed',
  description: 'one target of each horizon',
  pattern: { source: ['fastio'] },
  targets: [
    { kind: 'queue', consumer: 'catalog-consumer' },
    { kind: 'function', consumer: 'agent-activity-consumer' },
    { kind: 'workflow', workflow: 'review' },
    { kind: 'bus', eventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/other' },
  ],
  samples: { matching: [], notMatching: [] },
};

describe('retry horizon', () => {
  it('uses the maximum event age, buffer visibility and async-invoke age the stacks deploy', () => {
    expect(TARGET_MAX_EVENT_AGE_MS).toBe(TARGET_RETRY_POLICY.maxEventAge.toMilliseconds());
    expect(BUFFER_VISIBILITY_TIMEOUT_MS).toBe(BUFFER_VISIBILITY_TIMEOUT.toMilliseconds());
    expect(ASYNC_INVOKE_MAX_EVENT_AGE_MS).toBe(ASYNC_INVOKE_POLICY.maxEventAge.toMilliseconds());
  });

  it("covers every synthesized workflow's execution timeout (Express 5 min, Standard 15 min)", () => {
    const template = readFileSync('cdk.out/dev-fastio-routing.template.json', 'utf8');
    const timeouts = [...template.matchAll(/\\"TimeoutSeconds\\":(\d+)/g)].map((match) => Number(match[1]) * 1000);
    expect(timeouts.length).toBeGreaterThan(0);
    for (const timeout of timeouts) expect(timeout).toBeLessThanOrEqual(WORKFLOW_TIMEOUT_MS);
  });

  it("is the maximum event age plus the target's own retries plus the log lag, per kind", () => {
    const [queue, fn, workflow, bus] = trackedTargets(ROUTE).map(retryHorizonMs);
    expect(queue).toBe(TARGET_MAX_EVENT_AGE_MS + MAX_RECEIVE_COUNT * BUFFER_VISIBILITY_TIMEOUT_MS + LOG_LAG_MS);
    expect(fn).toBe(TARGET_MAX_EVENT_AGE_MS + ASYNC_INVOKE_MAX_EVENT_AGE_MS + LOG_LAG_MS);
    expect(workflow).toBe(TARGET_MAX_EVENT_AGE_MS + WORKFLOW_TIMEOUT_MS + LOG_LAG_MS);
    expect(bus).toBe(TARGET_MAX_EVENT_AGE_MS + LOG_LAG_MS);
  });
});
