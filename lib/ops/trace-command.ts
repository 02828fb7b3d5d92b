/**
 * `ops trace <fastio-event-id>`: one event's journey, from the flight recorder, the completion
 * records and the dead-letter queues (lib/recorder/reconcile.ts trace). Exit 0 when the event was
 * recorded in the window (whatever became of it), 1 when it was not or a source failed, 2 for bad input.
 */
import { routeTable, type Route } from '../route-table';
import { trace, type TraceReport, type TraceTarget } from '../recorder/reconcile';
import { trackedTargets } from '../recorder/sources';
import { OperationFailed, UsageError, stringOption, type CommandIo, type OpsCommand } from './command';
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

function targetLines(target: TraceTarget): string[] {
  const head = `  ${target.target} (${target.describe}): `;
  const lines: string[] = [];
  switch (target.status) {
    case 'completed': {
      const attempt = target.completed?.attempt === undefined ? 'attempt not recorded' : `attempt ${target.completed.attempt}`;
      lines.push(`${head}completed ${target.completed?.at ?? '(time not recorded)'}, ${attempt} [${target.completed?.record ?? ''}]`);
      break;
    }
    case 'confirmed': {
      const success = target.deliveries.find((record) => record.status === 'succeeded');
      lines.push(`${head}confirmed: EventBridge delivered it ${success?.at ?? ''}${success?.attempt === undefined ? '' : `, attempt ${success.attempt}`}`);
      break;
    }
    case 'dead-lettered':
      lines.push(`${head}dead-lettered`);
      break;
    case 'pending':
      lines.push(`${head}pending: ${target.why ?? 'no evidence yet'}`);
      break;
    case 'missing':
      lines.push(`${head}missing: ${target.why ?? 'no completion record and no dead letter'}`);
      break;
    case 'unconfirmed':
      lines.push(`${head}unconfirmed: ${target.why ?? 'no delivery record'}`);
      break;
    case 'unverifiable':
      lines.push(`${head}unverifiable: no completion record, and older than the records' expiry`);
      break;
  }
  for (const letter of target.deadLetters) {
    lines.push(`    in ${letter.queue}${letter.sentAt === undefined ? '' : ` since ${letter.sentAt}`}${letter.receiveCount === undefined ? '' : ` (received ${letter.receiveCount}×)`}: ${letter.reason}`);
  }
  return lines;
}

export function printTrace(report: TraceReport, io: CommandIo): void {
  io.out(`event ${report.fastioEventId} (searched ${report.from} .. ${report.to})`);
  const received = report.received;
  if (received === undefined) return;
  const body = received.body.store === 'inline' ? 'body inline' : `body in the claim-check store (s3://${received.body.ref.bucket}/${received.body.ref.key})`;
  io.out(`received  ${received.time}  ${received.detailType}  ${size(received.sizeBytes)}  ${received.quarantined ? 'QUARANTINED' : 'not quarantined'}  ${body}  (EventBridge id ${received.id})`);
  const replays = report.copies.filter((copy) => copy.replayName !== undefined);
  const resends = report.copies.length - replays.length - 1;
  io.out(
    `copies    ${report.copies.length}: ${Math.max(0, resends) === 0 ? 'no Fast.io resend' : `${resends} Fast.io resend${resends === 1 ? '' : 's'}`}, ${replays.length === 0 ? 'no replay' : `replayed by ${[...new Set(replays.map((copy) => copy.replayName))].join(', ')}`}`,
  );
  if (report.routes.length === 0) {
    io.out('routes    none matched');
    return;
  }
  for (const route of report.routes) {
    io.out(`route ${route.route}${route.replays.length === 0 ? '' : ` (covered by replays: ${route.replays.join(', ')})`}`);
    for (const target of route.targets) for (const line of targetLines(target)) io.out(line);
  }
}

export function createTraceCommand(
  runtime: OpsRuntime = defaultRuntime,
  table: readonly Route[] = routeTable,
  factories: RecorderSourceFactories = defaultSourceFactories(runtime),
): OpsCommand {
  return {
    path: ['trace'],
    summary: "one Fast.io event's journey: received, every route it matched, and per target completed, dead-lettered (where, why) or missing",
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
