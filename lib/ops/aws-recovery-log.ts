/**
 * The recovery log on AWS (lib/recorder/recovery-log.ts): each action a recovery command took is
 * one JSON object in the recorder bucket, `recovery/dt=<day>/<time>-<random>.json`, written by the
 * operator's own credentials (the operator policy grants PutObject and GetObject under that prefix
 * only) and read back by `trace` and `reconcile`. Who did it is the caller's ARN from STS.
 *
 * The key holds the action's time and a random suffix, nothing from the event: a file name or an
 * event id is sender-controlled, so it stays inside the object as JSON data. The objects expire
 * with the records they explain (the bucket's lifecycle rule).
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { parseRecoveryLines, recoveryLines, RECOVERY_LOG_PREFIX, type RecoveryAction, type RecoveryLog } from '../recorder/recovery-log';
import type { TimeWindow } from './time-window';

const DAY_MS = 86_400_000;
/** `recovery/dt=2026-11-22/2026-11-22T10-45-00.123Z-<uuid>.json`: the time, with ':' as '-'. */
const KEY = /^recovery\/dt=\d{4}-\d{2}-\d{2}\/(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2}(?:\.\d+)?Z)-[0-9a-f-]+\.json$/;

function dayPrefix(at: number): string {
  return `${RECOVERY_LOG_PREFIX}dt=${new Date(at).toISOString().slice(0, 10)}/`;
}

/** The object key of one action (exported for tests). */
export function recoveryObjectKey(action: Pick<RecoveryAction, 'at'>, id: string = randomUUID()): string {
  const at = Date.parse(action.at);
  return `${dayPrefix(at)}${new Date(at).toISOString().replace(/:/g, '-')}-${id}.json`;
}

function timeOfKey(key: string): number | undefined {
  const match = KEY.exec(key);
  return match === null ? undefined : Date.parse(`${match[1] as string}:${match[2] as string}:${match[3] as string}`);
}

/** Who runs this CLI, as AWS knows it: the caller's ARN (an assumed role names its session). */
export async function callerIdentity(sts: STSClient): Promise<string> {
  const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
  return Arn ?? 'unknown AWS identity';
}

export class S3RecoveryLog implements RecoveryLog {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** One PutObject per action; every action is tried, and the first failure is thrown after all were. */
  async append(actions: readonly RecoveryAction[]): Promise<void> {
    let failure: unknown;
    for (const action of actions) {
      try {
        await this.s3.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: recoveryObjectKey(action), Body: recoveryLines([action]), ContentType: 'application/x-ndjson' }),
        );
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  async actionsOf(fastioEventId: string, window: TimeWindow): Promise<RecoveryAction[]> {
    return (await this.actionsIn(window)).filter((action) => action.fastioEventId === fastioEventId);
  }

  /** The objects of each day of the window whose key time is in it, read and parsed; anything else in the prefix is skipped. */
  async actionsIn(window: TimeWindow): Promise<RecoveryAction[]> {
    const from = window.from.getTime();
    // The key's time is the action's own: a second of slack for a clock read just before the window's end.
    const to = window.to.getTime() + 1000;
    const keys: string[] = [];
    for (let day = Math.floor(from / DAY_MS) * DAY_MS; day <= to; day += DAY_MS) {
      let token: string | undefined;
      do {
        const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: dayPrefix(day), ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          const at = object.Key === undefined ? undefined : timeOfKey(object.Key);
          if (at !== undefined && at >= from && at <= to) keys.push(object.Key as string);
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    }
    const actions: RecoveryAction[] = [];
    for (const key of keys) {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      actions.push(...parseRecoveryLines((await object.Body?.transformToString('utf8')) ?? ''));
    }
    return actions.sort((a, b) => a.at.localeCompare(b.at));
  }
}

/** One recovery action before the recorder stamps who, when and which command. */
export type RecoveryEntry = Omit<RecoveryAction, 'at' | 'by' | 'command'>;

/**
 * Writes what a recovery command did to the recovery log, stamped with the caller's ARN (asked of
 * STS once per run) and the time. A failed write is returned as one line, never thrown: the
 * recovery itself happened, and a dead letter already deleted must not be reported as failed.
 */
export class AwsRecoveryRecorder {
  #by: Promise<string> | undefined;

  constructor(
    private readonly log: RecoveryLog,
    private readonly sts: STSClient,
    private readonly command: RecoveryAction['command'],
    private readonly now: () => Date,
  ) {}

  async record(entries: readonly RecoveryEntry[]): Promise<string | undefined> {
    if (entries.length === 0) return undefined;
    try {
      this.#by ??= callerIdentity(this.sts);
      const by = await this.#by;
      const at = this.now().toISOString();
      await this.log.append(entries.map((entry) => ({ at, by, command: this.command, ...entry })));
      return undefined;
    } catch (error) {
      this.#by = undefined;
      return `the recovery log could not record ${entries.length} action(s) (trace will not show them): ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}
