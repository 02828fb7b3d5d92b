/**
 * The recovery log: one entry per message a recovery command moved or re-delivered (`dlq redrive`,
 * `reconcile --recover`), who ran it and when, so `trace` still tells an event's whole story after
 * the dead letter is gone. On AWS a JSON-lines object per command run under its own prefix of the
 * recorder bucket; locally a JSON-lines file in the state directory (lib/local/recovery-log.ts).
 * Pure types and the line format here.
 */
import type { TimeWindow } from '../ops/time-window';
import type { DeadLetter } from './sources';

/**
 * Where the AWS recovery log lives in the recorder bucket: one object per action,
 * `recovery/dt=YYYY-MM-DD/<time>-<random>.json`, named by the CLI (never by anything a sender
 * controls), apart from the prefixes Athena reads.
 */
export const RECOVERY_LOG_PREFIX = 'recovery/';

export type RecoveryCommand = 'dlq redrive' | 'reconcile --recover';

export interface RecoveryAction {
  /** When it was done, ISO 8601. */
  readonly at: string;
  /** Who: the caller's AWS identity (ARN), or the local user. */
  readonly by: string;
  readonly command: RecoveryCommand;
  /** `redrive`: a dead letter re-delivered from its queue; `deliver`: a recorded event re-delivered to a target. */
  readonly action: 'redrive' | 'deliver';
  readonly route: string;
  readonly target?: string;
  /** The dead-letter queue's handle (`<route>/<target>/<role>`), for a redrive. */
  readonly queue?: string;
  readonly messageId?: string;
  /** undefined when the message held no readable event. */
  readonly fastioEventId?: string;
  readonly outcome: 'delivered' | 'failed';
  /** Why it failed. */
  readonly reason?: string;
  /** The dead letter a redrive took, as it was: when it landed and why, so trace still shows it once it is gone. */
  readonly deadLetter?: { readonly sentAt?: string; readonly reason: string };
}

export interface RecoveryLog {
  /** Records what one command run did; never throws past the caller's recovery (see recordRecovery). */
  append(actions: readonly RecoveryAction[]): Promise<void>;
  /** Every action on one Fast.io event done in [from, to]. */
  actionsOf(fastioEventId: string, window: TimeWindow): Promise<RecoveryAction[]>;
  /** Every action done in [from, to]. */
  actionsIn(window: TimeWindow): Promise<RecoveryAction[]>;
}

/**
 * A redrive's entry for the dead letter it took, before its outcome: the letter as it was, since
 * once redriven it is gone from its queue and trace shows it from the log.
 */
export function redriveOf(letter: Pick<DeadLetter, 'route' | 'target' | 'queue' | 'messageId' | 'fastioEventId' | 'sentAt' | 'reason'>) {
  return {
    action: 'redrive' as const,
    route: letter.route,
    target: letter.target,
    queue: letter.queue,
    messageId: letter.messageId,
    ...(letter.fastioEventId === undefined ? {} : { fastioEventId: letter.fastioEventId }),
    deadLetter: { ...(letter.sentAt === undefined ? {} : { sentAt: letter.sentAt }), reason: letter.reason },
  };
}

/** The line format of both logs. */
export function recoveryLines(actions: readonly RecoveryAction[]): string {
  return actions.map((action) => `${JSON.stringify(action)}\n`).join('');
}

const str = (value: unknown): value is string => typeof value === 'string' && value !== '';

function deadLetterOf(value: unknown): { deadLetter?: { sentAt?: string; reason: string } } {
  if (value === null || typeof value !== 'object') return {};
  const letter = value as Record<string, unknown>;
  if (!str(letter.reason)) return {};
  return { deadLetter: { ...(str(letter.sentAt) ? { sentAt: letter.sentAt } : {}), reason: letter.reason } };
}

/** Every recovery action in a log's text (a local file, an S3 object); blank and unreadable lines are skipped. */
export function parseRecoveryLines(text: string): RecoveryAction[] {
  return text.split('\n').flatMap((line) => {
    const action = line.trim() === '' ? undefined : parseRecoveryLine(line);
    return action === undefined ? [] : [action];
  });
}

/** Parses one line; undefined for anything that is not a recovery action (a torn last line, say). */
export function parseRecoveryLine(line: string): RecoveryAction | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const entry = value as Record<string, unknown>;
  if (!str(entry.at) || !str(entry.by) || !str(entry.route)) return undefined;
  if (entry.command !== 'dlq redrive' && entry.command !== 'reconcile --recover') return undefined;
  if (entry.action !== 'redrive' && entry.action !== 'deliver') return undefined;
  if (entry.outcome !== 'delivered' && entry.outcome !== 'failed') return undefined;
  return {
    at: entry.at,
    by: entry.by,
    command: entry.command,
    action: entry.action,
    route: entry.route,
    ...(str(entry.target) ? { target: entry.target } : {}),
    ...(str(entry.queue) ? { queue: entry.queue } : {}),
    ...(str(entry.messageId) ? { messageId: entry.messageId } : {}),
    ...(str(entry.fastioEventId) ? { fastioEventId: entry.fastioEventId } : {}),
    outcome: entry.outcome,
    ...(str(entry.reason) ? { reason: entry.reason } : {}),
    ...deadLetterOf(entry.deadLetter),
  };
}
