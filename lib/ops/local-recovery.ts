/**
 * `--local` for the recovery commands: the same replay and dead-letter operations against the
 * pipeline `npm start` runs, through its control endpoint (lib/local/control-client.ts).
 */
import {
  localArchiveRetentionDays,
  localDeadLetterQueues,
  localPeek,
  localRedrive,
  localReplay,
  localReplayStatus,
  localReplays,
  localStatus,
  localStateDir,
  type LocalReplay,
} from '../local/control-client';
import { LocalRecoveryLog, localActor } from '../local/recovery-log';
import { redriveActions } from './recorder-local-sources';
import { OperationFailed, UsageError, receivedTimes, type CommandIo } from './command';
import type { PlannedTarget } from './replay-plan';
import { targetHandle } from '../domain/route-types';
import { assertWithinRetention, formatDuration } from './time-window';

/** One line per target of a local replay: what its rule took, and what it did not match. */
function printTargetCounts(io: CommandIo, replay: Pick<LocalReplay, 'targets' | 'delivered' | 'notMatched'>): void {
  for (const target of replay.targets) {
    const refused = replay.notMatched[target] ?? 0;
    io.out(`  ${target}: ${replay.delivered[target] ?? 0} delivered${refused ? `, ${refused} not matched by its rule` : ''}`);
  }
}

/** The `<route>/<target>` handles of the targets the running pipeline has a rule for. */
export async function localTargetHandles(): Promise<string[]> {
  const routes = (await localStatus()).routes;
  return Array.isArray(routes) ? routes.map((rule) => targetHandle(String((rule as { route?: unknown }).route), String((rule as { target?: unknown }).target))) : [];
}

export async function replayLocally(
  request: { from: Date; to: Date; targets?: readonly string[]; allRoutes?: boolean; name?: string; now: Date },
  io: CommandIo,
  json: boolean,
  /** What `replay start` printed before starting; --json carries it instead, as on AWS. */
  plan?: readonly PlannedTarget[],
): Promise<number> {
  // The same retention check as on AWS, against the archive retention the templates synthesize.
  assertWithinRetention({ from: request.from, to: request.to }, (await localArchiveRetentionDays()) ?? undefined, request.now);
  const result = await localReplay({
    from: request.from,
    to: request.to,
    ...(request.allRoutes === true ? { allRoutes: true } : { targets: request.targets ?? [] }),
    ...(request.name === undefined ? {} : { name: request.name }),
  });
  if (json) {
    io.out(JSON.stringify({ ...result, ...(plan === undefined ? {} : { plan }) }, null, 2));
    return 0;
  }
  io.out(`replay ${result.name} ${result.state} (local): ${result.eventsReplayed} archived event(s) from ${result.from} to ${result.to}`);
  printTargetCounts(io, result);
  return 0;
}

export async function listLocally(io: CommandIo, json: boolean): Promise<number> {
  const queues = await localDeadLetterQueues();
  if (json) {
    io.out(JSON.stringify(queues, null, 2));
    return 0;
  }
  const width = Math.max(5, ...queues.map((queue) => queue.name.length));
  io.out(`${'QUEUE'.padEnd(width)}  ${'DEPTH'.padStart(6)}  OLDEST (local pipeline)`);
  for (const queue of queues) {
    io.out(`${queue.name.padEnd(width)}  ${String(queue.depth).padStart(6)}  ${queue.oldestAgeSeconds === null ? '-' : `${queue.oldestAgeSeconds} s`}`);
  }
  return 0;
}

export async function peekLocally(queueName: string, count: number, io: CommandIo, json: boolean): Promise<number> {
  const messages = await localPeek(queueName, { max: count });
  if (json) {
    io.out(JSON.stringify({ queue: queueName, messages }, null, 2));
    return 0;
  }
  io.out(`${queueName}: ${messages.length} message${messages.length === 1 ? '' : 's'} (left in place, local pipeline)`);
  for (const message of messages) {
    const detail = (message.event?.detail ?? {}) as Record<string, unknown>;
    io.out(`  ${message.messageId} sent ${message.sentAt}, ${receivedTimes(message.receiveCount)}: ${String(message.event?.['detail-type'] ?? '?')} ${String(detail.eventId ?? message.problem ?? '')}`);
    for (const [key, value] of Object.entries(message.failure)) if (value !== undefined) io.out(`    ${key}: ${value}`);
  }
  return 0;
}

export async function redriveLocally(queueName: string, max: number | undefined, io: CommandIo, json: boolean): Promise<number> {
  const result = await localRedrive(queueName, max === undefined ? {} : { max });
  // Each message moved or failed, by whom and when, for `trace` after the dead letter is gone.
  await new LocalRecoveryLog(localStateDir()).append(redriveActions('dlq redrive', result, localActor(), new Date()));
  if (json) io.out(JSON.stringify(result, null, 2));
  else {
    io.out(`${result.queue} → ${result.destination}: moved ${result.moved} / failed ${result.failed} / left ${result.left} (local pipeline)`);
    for (const failure of result.failures) io.err(`  ${failure.messageId}: ${failure.reason}`);
  }
  return result.failed > 0 ? 1 : 0;
}

/** The fields `replay status|list --json` show on AWS, plus what a local replay knows exactly. */
function localReplayView(replay: LocalReplay) {
  return {
    replayName: replay.name,
    state: replay.state,
    from: replay.from,
    to: replay.to,
    replayStartTime: replay.replayStartTime,
    replayEndTime: replay.replayEndTime,
    targets: replay.targets,
    eventsReplayed: replay.eventsReplayed,
    delivered: replay.delivered,
    notMatched: replay.notMatched,
  };
}

function localWindowText(replay: LocalReplay): string {
  return `${replay.from} → ${replay.to} (${formatDuration(Date.parse(replay.to) - Date.parse(replay.from))})`;
}

export async function replayStatusLocally(name: string, io: CommandIo, json: boolean): Promise<number> {
  let replay: LocalReplay;
  try {
    replay = await localReplayStatus(name);
  } catch (error) {
    // On AWS an unknown replay is a failed lookup (exit 1), not bad input: the same here.
    throw error instanceof UsageError ? new OperationFailed(error.message) : error;
  }
  if (json) {
    io.out(JSON.stringify(localReplayView(replay), null, 2));
    return 0;
  }
  io.out(`replay ${replay.name} ${replay.state} (local pipeline)`);
  io.out(`  window    ${localWindowText(replay)}`);
  io.out(`  events    ${replay.eventsReplayed} archived event(s) replayed`);
  printTargetCounts(io, replay);
  io.out(`  started   ${replay.replayStartTime}`);
  io.out(`  ended     ${replay.replayEndTime}`);
  return 0;
}

export async function replayListLocally(state: string | undefined, io: CommandIo, json: boolean): Promise<number> {
  const replays = (await localReplays()).filter((replay) => state === undefined || replay.state === state).reverse();
  if (json) {
    io.out(JSON.stringify(replays.map(localReplayView), null, 2));
    return 0;
  }
  if (replays.length === 0) {
    io.out(`no replays${state ? ` in state ${state}` : ''} in the local pipeline`);
    return 0;
  }
  const nameWidth = Math.max(4, ...replays.map((replay) => replay.name.length));
  io.out(`${'NAME'.padEnd(nameWidth)}  ${'STATE'.padEnd(10)}  ${'STARTED'.padEnd(24)}  WINDOW`);
  for (const replay of replays) {
    io.out(`${replay.name.padEnd(nameWidth)}  ${replay.state.padEnd(10)}  ${replay.replayStartTime.padEnd(24)}  ${localWindowText(replay)}`);
  }
  return 0;
}
