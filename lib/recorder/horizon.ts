/**
 * A target's retry horizon: how long after an event's `time` evidence of its fate can still be on
 * its way. Before it, no record means "not yet" (`pending`); after it, no record means `missing`
 * (own targets) or `unconfirmed` (targets known only by EventBridge's delivery record).
 *
 *   horizon = EventBridge's maximum event age for the target (TARGET_RETRY_POLICY)
 *           + the delivery lag after EventBridge hands the event over (the target's own retries)
 *           + the log lag (a bus-log record reaches S3 minutes after it is written).
 *
 * The numbers are those the stacks deploy (lib/targets/*), repeated here as plain numbers so the
 * operator CLI need not load aws-cdk-lib; test/recorder/horizon.test.ts holds them equal.
 */
import { MAX_RECEIVE_COUNT } from '../domain/max-receive-count';
import { isOwnTarget } from '../domain/route-types';
import type { TrackedTarget } from './sources';

const MINUTE_MS = 60_000;

/** TARGET_RETRY_POLICY.maxEventAge (lib/targets/target-support.ts): EventBridge retries a target this long. */
export const TARGET_MAX_EVENT_AGE_MS = 120 * MINUTE_MS;
/** BUFFER_VISIBILITY_TIMEOUT (lib/targets/own-queue-target.ts): one consumer attempt on a buffered message. */
export const BUFFER_VISIBILITY_TIMEOUT_MS = 3 * MINUTE_MS;
/** ASYNC_INVOKE_POLICY.maxEventAge (lib/targets/own-function-target.ts): Lambda retries an async invoke this long. */
export const ASYNC_INVOKE_MAX_EVENT_AGE_MS = 60 * MINUTE_MS;
/** The longest execution timeout a workflow of either type has (lib/workflows/workflow-support.ts: Standard 15 min, Express 5 min). */
export const WORKFLOW_TIMEOUT_MS = 15 * MINUTE_MS;
/**
 * How late a bus-log record (or a completion record's read) can trail the event it records.
 * CloudWatch Logs delivers vended logs to S3 in batches a few minutes apart; three times the usual
 * five minutes leaves room for a slow batch without holding a clean run back for long.
 */
export const LOG_LAG_MS = 15 * MINUTE_MS;

/** After EventBridge delivered: how long the target itself may take to leave a completion record or a dead letter. */
export function deliveryLagMs(target: TrackedTarget): number {
  const routeTarget = target.target;
  // A target outside the project is done when EventBridge delivered it: its success record says so.
  if (!isOwnTarget(routeTarget)) return 0;
  switch (routeTarget.kind) {
    case 'queue':
      return MAX_RECEIVE_COUNT * BUFFER_VISIBILITY_TIMEOUT_MS;
    case 'function':
      return ASYNC_INVOKE_MAX_EVENT_AGE_MS;
    case 'workflow':
      return WORKFLOW_TIMEOUT_MS;
  }
}

/** The target's retry horizon in milliseconds after the event's `time`. */
export function retryHorizonMs(target: TrackedTarget): number {
  return TARGET_MAX_EVENT_AGE_MS + deliveryLagMs(target) + LOG_LAG_MS;
}

/** The longest horizon of these targets: how far past a window its evidence can arrive. */
export function longestHorizonMs(targets: readonly TrackedTarget[]): number {
  return targets.reduce((longest, target) => Math.max(longest, retryHorizonMs(target)), TARGET_MAX_EVENT_AGE_MS + LOG_LAG_MS);
}
