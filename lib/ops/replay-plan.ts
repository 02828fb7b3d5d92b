/**
 * Which targets a replay reaches, decided before it starts. Each target has its own rule, so a
 * replay's FilterArns name single targets; a target whose policy is `skip` (or whose route refuses
 * replays) never takes a copy, and `replay start` prints the whole plan before any copy is sent.
 */
import {
  acceptsReplays,
  describeTarget,
  isOwnTarget,
  replayPolicyOf,
  targetHandle,
  targetName,
  type Route,
  type RouteTarget,
} from '../domain/route-types';
import { UsageError } from './command';

export interface PlannedTarget {
  readonly route: string;
  readonly target: string;
  /** `<route>/<target>`, the handle the CLI and the local pipeline name a target by. */
  readonly handle: string;
  readonly describe: string;
  readonly receives: boolean;
  /** Why it receives or skips the copies, in a few words. */
  readonly reason: string;
  /** Set for a target that takes copies without the project's idempotency (ARN and bus kinds). */
  readonly warning?: string;
}

export interface PlanRequest {
  readonly routes: readonly Route[];
  /** Target names within `routes` (`--target`); empty = every target of them. */
  readonly targetNames: readonly string[];
  readonly allRoutes: boolean;
  readonly table: readonly Route[];
}

function skipReason(target: RouteTarget): string {
  if (target.replays === 'skip') return "its replays: 'skip'";
  return target.kind === 'http' ? 'an http target skips replays by default (it would post again)' : 'a topic target skips replays by default (it would notify again)';
}

function planTarget(route: Route, target: RouteTarget, chosen: boolean): PlannedTarget {
  const name = targetName(target);
  const base = { route: route.name, target: name, handle: targetHandle(route.name, name), describe: describeTarget(target) };
  if (!chosen) return { ...base, receives: false, reason: 'not chosen by --target' };
  if (!acceptsReplays(route)) return { ...base, receives: false, reason: 'its route refuses replays (replay-name must be absent)' };
  if (replayPolicyOf(target) === 'skip') return { ...base, receives: false, reason: skipReason(target) };
  if (isOwnTarget(target)) return { ...base, receives: true, reason: 'idempotent: redoes only what did not complete' };
  return {
    ...base,
    receives: true,
    reason: 'not the project’s own code',
    warning: `${base.handle} (${base.describe}) takes replay copies without the project's idempotency: it gets a second copy of every event it already had (set replays: 'skip' on it, or leave it out with --target)`,
  };
}

/** Every target of the chosen routes (or of the whole table), each marked as receiving or skipping. */
export function replayPlan(request: PlanRequest): PlannedTarget[] {
  const routes = request.allRoutes ? request.table : request.routes;
  if (request.targetNames.length > 0) {
    if (request.allRoutes) throw new UsageError('--target picks targets of the routes given with --route: give --route with it, not --all-routes');
    const known = new Set(routes.flatMap((route) => route.targets.map(targetName)));
    const unknown = request.targetNames.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new UsageError(`--target ${unknown.join(', ')}: no such target of ${routes.map((route) => route.name).join(', ')}; targets: ${[...known].join(', ')}`);
    }
  }
  const chosen = (target: RouteTarget) => request.targetNames.length === 0 || request.targetNames.includes(targetName(target));
  return routes.flatMap((route) => route.targets.map((target) => planTarget(route, target, chosen(target))));
}

/** Marks receiving targets that the deployment does not have (no rule deployed for them) as skipping. */
export function withDeployed(plan: readonly PlannedTarget[], deployed: (entry: PlannedTarget) => boolean): PlannedTarget[] {
  return plan.map((entry) => {
    if (!entry.receives || deployed(entry)) return entry;
    const { warning: _warning, ...rest } = entry;
    return { ...rest, receives: false, reason: 'not deployed (its configuration is not set)' };
  });
}

/** The plan as the lines `replay start` prints before it starts. */
export function planLines(plan: readonly PlannedTarget[]): string[] {
  const width = Math.max(...plan.map((entry) => entry.handle.length));
  return plan.map((entry) => `  ${entry.receives ? 'receives' : 'skips   '}  ${entry.handle.padEnd(width)}  ${entry.describe}: ${entry.reason}`);
}
