/**
 * `ops trace <fastio-event-id>`: one event's journey, from the flight recorder, the completion
 * records, the dead-letter queues and the recovery log (lib/recorder/reconcile.ts trace): each copy
 * received, each route matched and per target what happened, oldest first, then its status; and
 * for every route it did not match, the first field that failed. Exit 0 when the event was
 * recorded in the window (whatever became of it), 1 when it was not or a source failed, 2 for bad input.
 */
import { routeTable, type Route } from '../route-table';
import { trace, type TraceReport, type TraceTarget } from '../recorder/reconcile';
import type { RecoveryAction } from '../recorder/recovery-log';
import type { DeliveryStatus } from '../recorder/sources';
import { trackedTargets } from '../recorder/sources';
import { OperationFailed, UsageError, receivedTimes, stringOption, type CommandIo, type OpsCommand } from './command';
import { defaultRuntime, deploymentOptions, withAwsErrors, type OpsRuntime } from './aws-runtime';
import { defaultSourceFactories, sourcesFor, type RecorderSourceFactories } from './recorder-sources';
import { parseWindow } from './time-window';

/** The default window: the last 24 hours. */
export const TRACE_DEFAULT_FROM = 'now-24h';

/** Fast.io event ids as the ingest normalizes them (its own, or a sha256): bounded, printable. */
const EVENT_ID = /^[\x21-\x7e]{1,256}$/;

function size(bytes: number | undefined): string {
  if (bytes === undefined) return 'size unknown';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The final word on one target, as a phrase. */
function statusText(target: TraceTarget): string {
  switch (target.status) {
    case 'completed': {
      const attempt = target.completed?.attempt === undefined ? 'attempt not recorded' : `attempt ${target.completed.attempt}`;
      return `completed ${target.completed?.at ?? '(time not recorded)'}, ${attempt} [${target.completed?.record ?? ''}]`;
    }
    case 'confirmed': {
      const success = target.deliveries.find((record) => record.status === 'succeeded');
      const recovered = target.recovery.filter((action) => action.outcome === 'delivered').at(-1);
      if (success === undefined && recovered !== undefined) return `confirmed: re-delivered ${recovered.at} by ${recovered.by} (${recovered.command}), the target accepted it`;
      return `confirmed: EventBridge delivered it ${success?.at ?? ''}${success?.attempt === undefined ? '' : `, attempt ${success.attempt}`}`;
    }
    case 'dead-lettered':
      return 'dead-lettered';
    case 'pending':
      return `pending: ${target.why ?? 'no evidence yet'}`;
    case 'missing':
      return `missing: ${target.why ?? 'no completion record and no dead letter'}`;
    case 'unconfirmed':
      return `unconfirmed: ${target.why ?? 'no delivery record'}`;
    case 'unverifiable':
      return "unverifiable: no completion record, and older than the records' expiry";
    default:
      return String(target.status);
  }
}

/** What each bus-log outcome says, in words. */
const DELIVERY_WORDS: Readonly<Record<DeliveryStatus, string>> = {
  succeeded: 'delivered',
  retrying: 'attempt failed, retrying',
  throttled: 'attempt throttled, retrying',
  'attempt-failed': 'attempt failed',
  failed: 'gave up',
  'dead-lettered': 'gave up, sent to the dead-letter queue',
};

function recoveryText(action: RecoveryAction): string {
  const what = action.action === 'redrive' ? `redriven from ${action.queue ?? 'its dead-letter queue'}` : 're-delivered to this target alone';
  const outcome = action.outcome === 'delivered' ? 'delivered' : `failed: ${action.reason ?? 'no reason recorded'}`;
  return `${what} by ${action.by} (${action.command}): ${outcome}`;
}

/**
 * One target's story, oldest first: every piece of evidence with its time (EventBridge's delivery
 * records, dead letters, recovery actions), then its status now. An entry without a time sorts first.
 */
function targetLines(target: TraceTarget): string[] {
  const entries: StoryEntry[] = [
    ...target.deliveries.map((record) => ({
      kind: 'delivery' as const,
      at: record.at,
      text: `EventBridge: ${DELIVERY_WORDS[record.status]}${record.attempt === undefined ? '' : ` (attempt ${record.attempt})`}${record.reason === undefined ? '' : `: ${record.reason}`}`,
    })),
    ...target.deadLetters.map((letter) => ({
      kind: 'dead-letter' as const,
      at: letter.sentAt ?? '',
      text: `dead-lettered in ${letter.queue}${letter.receiveCount === undefined ? '' : ` (${receivedTimes(letter.receiveCount)})`}: ${letter.reason}`,
    })),
    // A dead letter a redrive took is gone from its queue: the recovery log kept how it was.
    ...target.recovery.flatMap((action) =>
      action.deadLetter === undefined || target.deadLetters.some((letter) => letter.messageId === action.messageId)
        ? []
        : [{ kind: 'dead-letter' as const, at: action.deadLetter.sentAt ?? '', text: `dead-lettered in ${action.queue ?? 'its dead-letter queue'}: ${action.deadLetter.reason}` }],
    ),
    ...target.recovery.map((action) => ({ kind: 'recovery' as const, at: action.at, text: recoveryText(action) })),
  ];
  return [
    `  ${target.target} (${target.describe})`,
    ...causalOrder(entries).map((entry) => `    ${entry.at === '' ? '(time unknown)' : entry.at}  ${entry.text}`),
    `    status: ${statusText(target)}`,
  ];
}

/**
 * A buffer dead letter's time is its SentTimestamp, which SQS keeps from when the message entered
 * the source queue: the instant of EventBridge's delivery into it, often a millisecond before the
 * delivery record. A dead letter therefore sorts just after a delivery record up to a second later,
 * so a story never shows the letter before the delivery that queued it; nothing else moves.
 */
const ENQUEUE_SLACK_MS = 1_000;

/** One line of a target's story: what kind of evidence it is, its time ('' when unknown) and its words. */
export interface StoryEntry {
  readonly kind: 'delivery' | 'dead-letter' | 'recovery';
  readonly at: string;
  readonly text: string;
}

export function causalOrder(entries: readonly StoryEntry[]): StoryEntry[] {
  const ms = (entry: StoryEntry): number => (entry.at === '' ? Number.NEGATIVE_INFINITY : Date.parse(entry.at));
  const deliveries = entries.filter((entry) => entry.kind === 'delivery').map(ms);
  const key = (entry: StoryEntry): number => {
    const at = ms(entry);
    if (entry.kind !== 'dead-letter' || at === Number.NEGATIVE_INFINITY) return at;
    const queuedBy = deliveries.filter((delivered) => delivered >= at && delivered - at <= ENQUEUE_SLACK_MS);
    return queuedBy.length === 0 ? at : Math.max(...queuedBy) + 0.5;
  };
  return [...entries].sort((a, b) => key(a) - key(b) || a.at.localeCompare(b.at));
}

function copyLine(copy: TraceReport['copies'][number], first: NonNullable<TraceReport['received']>): string {
  if (copy.id === first.id) {
    const body = first.body.store === 'inline' ? 'body inline' : `body in the claim-check store (s3://${first.body.ref.bucket}/${first.body.ref.key})`;
    return `received  ${copy.time}  original  ${first.detailType}  ${size(first.sizeBytes)}  ${first.quarantined ? 'QUARANTINED' : 'not quarantined'}  ${body}  (EventBridge id ${copy.id})`;
  }
  const kind = copy.replayName === undefined ? 'Fast.io resend' : `replay ${copy.replayName}`;
  return `received  ${copy.time}  ${kind}  (EventBridge id ${copy.id})`;
}

export function printTrace(report: TraceReport, io: CommandIo): void {
  io.out(`event ${report.fastioEventId} (searched ${report.from} .. ${report.to})`);
  const received = report.received;
  if (received === undefined) return;
  for (const copy of report.copies) io.out(copyLine(copy, received));
  if (report.routes.length === 0) io.out('routes    none matched');
  for (const route of report.routes) {
    io.out(`route ${route.route} matched${route.replays.length === 0 ? '' : ` (covered by replays: ${route.replays.join(', ')})`}`);
    for (const target of route.targets) for (const line of targetLines(target)) io.out(line);
  }
  for (const miss of report.notMatched) io.out(`route ${miss.route} not matched: ${miss.path === '' ? miss.reason : `${miss.path}: ${miss.reason}`}`);
}

export function createTraceCommand(
  runtime: OpsRuntime = defaultRuntime,
  table: readonly Route[] = routeTable,
  factories: RecorderSourceFactories = defaultSourceFactories(runtime),
): OpsCommand {
  return {
    path: ['trace'],
    summary: "one Fast.io event's journey in time order: each copy received, every route it matched (and why the others did not), per target its dead letters, recovery actions and status",
    usage: '<fastio-event-id> [--from <time>] [--to <time>] [--stage <s>] [--region <r>] [--local] [--json]',
    options: { ...deploymentOptions, from: { type: 'string' }, to: { type: 'string' }, local: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    async run({ positionals, options, io }) {
      const fastioEventId = positionals[0] ?? '';
      if (!EVENT_ID.test(fastioEventId)) throw new UsageError(`"${fastioEventId}" is not a Fast.io event id: 1-256 printable characters without spaces`);
      const now = runtime.now();
      const window = parseWindow(stringOption(options, 'from') ?? TRACE_DEFAULT_FROM, stringOption(options, 'to') ?? 'now', now);
      const factory = sourcesFor(factories, options);
      const targets = table.flatMap(trackedTargets);
      return withAwsErrors(async () => {
        const sources = await factory({ targets, options });
        const report = await trace(fastioEventId, window, table, sources, now);
        if (options.json === true) io.out(JSON.stringify(report, null, 2));
        else printTrace(report, io);
        if (report.received === undefined) {
          throw new OperationFailed(`event ${fastioEventId} is not in the flight recorder between ${report.from} and ${report.to} (widen --from/--to?)`);
        }
        return 0;
      });
    },
  };
}

export const traceCommand = createTraceCommand();
