/**
 * The local pipeline's event bus log: the records EventBridge writes at log level INFO for each
 * target invocation (lib/recorder/bus-log.ts has the schema), as JSON lines in
 * <stateDir>/bus-log.jsonl, appended synchronously so `ops reconcile|trace --local` read them while
 * the pipeline runs. Beside it, bus-log-targets.json maps each rule and target ARN to its route and
 * target, as the deployed stack outputs do for the AWS source.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBusLogObject, type BusLogMessageType, type BusLogRecord } from '../recorder/bus-log';

export const BUS_LOG_FILE = 'bus-log.jsonl';
export const BUS_LOG_TARGETS_FILE = 'bus-log-targets.json';

export interface BusLogTarget {
  readonly route: string;
  readonly target: string;
  readonly ruleArn: string;
  readonly targetArn: string;
}

export interface InvocationRecord {
  readonly type: Extract<BusLogMessageType, 'INVOCATION_SUCCESS' | 'INVOCATION_ATTEMPT_RETRYABLE_FAILURE' | 'INVOCATION_ATTEMPT_PERMANENT_FAILURE' | 'INVOCATION_FAILURE' | 'INVOCATION_DLQ'>;
  readonly eventId: string;
  readonly ruleArn: string;
  readonly targetArn: string;
  /** The attempt (for an attempt record) or the attempts made in all (for a final one). */
  readonly attempts: number;
  readonly at: number;
  readonly error?: { readonly code: string; readonly message: string };
}

const ERROR_LEVEL = new Set<InvocationRecord['type']>(['INVOCATION_ATTEMPT_RETRYABLE_FAILURE', 'INVOCATION_ATTEMPT_PERMANENT_FAILURE', 'INVOCATION_FAILURE', 'INVOCATION_DLQ']);

export class LocalBusLog {
  constructor(
    readonly stateDir: string,
    readonly busArn: string,
  ) {}

  /** Written once at start: which route and target each rule and target ARN is. */
  writeTargets(targets: readonly BusLogTarget[]): void {
    mkdirSync(this.stateDir, { recursive: true });
    writeFileSync(join(this.stateDir, BUS_LOG_TARGETS_FILE), JSON.stringify(targets, null, 2));
  }

  write(record: InvocationRecord): void {
    const final = record.type === 'INVOCATION_SUCCESS' || record.type === 'INVOCATION_FAILURE' || record.type === 'INVOCATION_DLQ';
    const line: BusLogRecord = {
      resource_arn: this.busArn,
      event_id: record.eventId,
      message_timestamp_ms: record.at,
      message_type: record.type,
      log_level: ERROR_LEVEL.has(record.type) ? 'ERROR' : 'INFO',
      details: {
        rule_arn: record.ruleArn,
        target_arn: record.targetArn,
        ...(final ? { total_attempts: record.attempts } : { attempt_count: record.attempts, attempt_type: record.attempts === 1 ? 'FIRST' : 'RETRY' }),
        ...(record.type === 'INVOCATION_SUCCESS' ? { final_invocation_status: 'SUCCESS' } : {}),
      },
      ...(record.error === undefined ? {} : { error: { error_message: `${record.error.code}: ${record.error.message}`, aws_service: 'events' } }),
    };
    mkdirSync(this.stateDir, { recursive: true });
    appendFileSync(join(this.stateDir, BUS_LOG_FILE), `${JSON.stringify(line)}\n`);
  }
}

/** The records and the ARN map a state directory holds (empty when the pipeline never ran there). */
export function readLocalBusLog(stateDir: string): { records: BusLogRecord[]; targets: BusLogTarget[] } {
  const logFile = join(stateDir, BUS_LOG_FILE);
  const targetsFile = join(stateDir, BUS_LOG_TARGETS_FILE);
  const records = existsSync(logFile) ? parseBusLogObject(readFileSync(logFile, 'utf8')).records : [];
  let targets: BusLogTarget[] = [];
  try {
    targets = existsSync(targetsFile) ? (JSON.parse(readFileSync(targetsFile, 'utf8')) as BusLogTarget[]) : [];
  } catch {
    targets = [];
  }
  return { records, targets };
}
