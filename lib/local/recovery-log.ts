/**
 * The local recovery log (lib/recorder/recovery-log.ts): <stateDir>/recovery-log.jsonl, one line
 * per message a recovery command moved or re-delivered, appended synchronously by the CLI that did
 * it and read by `ops trace --local`. It persists across restarts, like the recorder.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { TimeWindow } from '../ops/time-window';
import { parseRecoveryLines, recoveryLines, type RecoveryAction, type RecoveryLog } from '../recorder/recovery-log';

export const RECOVERY_LOG_FILE = 'recovery-log.jsonl';

export function recoveryLogFile(stateDir: string): string {
  return join(stateDir, RECOVERY_LOG_FILE);
}

export class LocalRecoveryLog implements RecoveryLog {
  constructor(readonly stateDir: string) {}

  async append(actions: readonly RecoveryAction[]): Promise<void> {
    if (actions.length === 0) return;
    mkdirSync(this.stateDir, { recursive: true });
    appendFileSync(recoveryLogFile(this.stateDir), recoveryLines(actions));
  }

  async actionsOf(fastioEventId: string, window: TimeWindow): Promise<RecoveryAction[]> {
    return (await this.actionsIn(window)).filter((action) => action.fastioEventId === fastioEventId);
  }

  async actionsIn(window: TimeWindow): Promise<RecoveryAction[]> {
    return this.all().filter((action) => Date.parse(action.at) >= window.from.getTime() && Date.parse(action.at) <= window.to.getTime() + 1000);
  }

  all(): RecoveryAction[] {
    const file = recoveryLogFile(this.stateDir);
    if (!existsSync(file)) return [];
    return parseRecoveryLines(readFileSync(file, 'utf8'));
  }
}

/** Who ran a local recovery: the local user, marked as such. */
export function localActor(): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER ?? process.env.USERNAME;
  }
  return `${name === undefined || name === '' ? 'unknown user' : name} (local)`;
}

/** The route and target of a dead-letter queue handle `<route>/<target>/<role>` (or `<route>/<role>`). */
export function queueTarget(queue: string): { route: string; target?: string } {
  const parts = queue.split('/');
  return parts.length >= 3 ? { route: parts[0] as string, target: parts[1] as string } : { route: parts[0] ?? queue };
}
