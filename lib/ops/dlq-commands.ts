/**
 * `dlq list|peek|redrive`: every dead-letter and failure queue of a deployment, what is in them,
 * and sending each dead letter back to where it failed.
 *
 * Choices, written down because they decide what an operator can trust:
 * - `dlq list` depth is SQS's ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible.
 *   The age of the oldest message is only knowable from CloudWatch (not used here) or by looking
 *   at messages: list receives up to 10 with VisibilityTimeout 0 (nothing is hidden; these queues
 *   have no redrive policy, so the receive count it bumps changes nothing) and reports the oldest
 *   SentTimestamp it saw. It is exact only when every message was seen; otherwise it is printed as
 *   a lower bound ("≥"). `--depth-only` skips the look.
 * - `dlq peek` receives with a short VisibilityTimeout (so repeated receives return different
 *   messages) and sets each one's visibility back to 0 at once. Should that fail, the message
 *   reappears by itself when the 30 s timeout ends; peek says so and exits 1.
 * - `dlq redrive` of a buffer DLQ uses an SQS message move task (SQS moves them, rate-limited);
 *   every other queue, and a buffer DLQ with --max, is redriven message by message: re-deliver the
 *   original event to the route's target, then delete the message, never the other way round.
 *   A message that cannot be re-delivered stays in the queue: it is kept hidden for the rest of the
 *   run (so the run does not retry it in a loop) and made visible again at the end, so `dlq peek`
 *   shows it straight away. If the process dies first, it reappears when its 5-minute visibility
 *   timeout ends. Nothing is ever deleted without a successful re-delivery.
 */
import { listLocally, peekLocally, redriveLocally } from './local-recovery';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { stackNames } from '../config';
import { findRoute, routeTable, targetName, type Route } from '../route-table';
import { BUFFER_QUEUE_ROLE, QUEUE_TAGS, type DeadLetterRole } from '../constructs/secure-queue';
import { MAX_RECEIVE_COUNT } from '../domain/max-receive-count';
import { deadLetterReason } from '../recorder/dead-letter-reason';
import { redriveOf } from '../recorder/recovery-log';
import type { DeadLetter } from '../recorder/sources';
import { AwsRecoveryRecorder, S3RecoveryLog, type RecoveryEntry } from './aws-recovery-log';
import { describeError } from './cli';
import { StatefulOutput } from '../stack-outputs';
import { OPS_COMMAND, OperationFailed, UsageError, integerOption, refuseOptions, type CommandIo, type OpsCommand, type OptionValues } from './command';
import { defaultRuntime, deploymentOptions, explainAwsError, regionOption, stageOption, withAwsErrors, type AwsClients, type OpsRuntime } from './aws-runtime';
import { absentTargetText, deadLetterOutputKeys, deadLetterQueues, deployedDeadLetterQueues, findDeadLetterQueue, loadStackOutputs, type AbsentTarget, type DeadLetterQueueRef, type StackOutputs } from './deployment';
import { redeliveryFor, SUBSCRIPTION_DLQ_REFUSAL, type DeadLetterContent } from './target-redelivery';
import { Progress } from './progress';
import { formatDuration } from './time-window';

/** How long peeked messages would stay hidden if making them visible again failed. */
export const PEEK_VISIBILITY_SECONDS = 30;
/** How long a message being redriven stays hidden: far longer than one re-delivery takes. */
export const REDRIVE_VISIBILITY_SECONDS = 300;
/** Long polling asks every SQS server, so a small queue does not look empty by chance. */
const WAIT_SECONDS = 1;
const MOVE_TASK_TERMINAL = ['COMPLETED', 'CANCELLED', 'FAILED'];

// ---- reading dead letters -------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseObject(body: string | undefined): JsonObject | undefined {
  if (body === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** The event inside a dead letter, and the exact payload to re-deliver (lib/ops/target-redelivery.ts). */
type Extracted = ({ readonly ok: true } & DeadLetterContent) | { readonly ok: false; readonly reason: string };

function isEvent(value: unknown): value is JsonObject {
  return isObject(value) && typeof value['detail-type'] === 'string' && isObject(value.detail);
}

/**
 * What a hop behind the target was given: the event, or (with the target's input applied) whatever
 * the input made of it, which need not be an event.
 */
function given(queue: DeadLetterQueueRef, value: unknown, problem: string): Extracted {
  if (isEvent(value)) return { ok: true, event: value, payload: JSON.stringify(value), original: false };
  if (queue.target.input !== undefined && value !== undefined) return { ok: true, event: undefined, payload: typeof value === 'string' ? value : JSON.stringify(value), original: false };
  return { ok: false, reason: problem };
}

export function extractEvent(queue: DeadLetterQueueRef, body: string | undefined): Extracted {
  const parsed = parseObject(body);
  switch (queue.role) {
    case 'target-dlq':
    case 'recorder-dlq':
      // EventBridge dead-letters the original event, before the target's input is applied.
      if (parsed === undefined) return { ok: false, reason: 'body is not a JSON object' };
      return isEvent(parsed) && body !== undefined ? { ok: true, event: parsed, payload: body, original: true } : { ok: false, reason: 'body is not an EventBridge event' };
    case 'buffer-dlq': {
      // The buffer queue's message as the rule delivered it: re-deliver the body unchanged.
      if (body === undefined) return { ok: false, reason: 'message has no body' };
      if (isEvent(parsed)) return { ok: true, event: parsed, payload: body, original: false };
      if (queue.target.input !== undefined) return { ok: true, event: undefined, payload: body, original: false };
      return { ok: false, reason: parsed === undefined ? 'body is not a JSON object' : 'body is not an EventBridge event' };
    }
    case 'on-failure':
      // A Lambda destination record: the event is its requestPayload.
      if (parsed === undefined) return { ok: false, reason: 'body is not a JSON object' };
      return given(queue, parsed.requestPayload, 'Lambda failure record has no EventBridge event in requestPayload');
    case 'workflow-failures':
      // The workflow's catch: {executionArn, error, cause, input}.
      if (parsed === undefined) return { ok: false, reason: 'body is not a JSON object' };
      return given(queue, parsed.input, 'workflow failure message has no EventBridge event in input');
    case 'subscription-dlq': {
      // SNS dead-letters its notification: the envelope (Type, TopicArn, Message, ...) or, with raw delivery, the message.
      const message = typeof parsed?.Message === 'string' ? parsed.Message : body;
      const event = parseObject(message);
      return message === undefined ? { ok: false, reason: 'message has no body' } : { ok: true, event: isEvent(event) ? event : undefined, payload: message, original: false };
    }
  }
}

/** A dead letter as trace, reconcile and the recovery log describe it, from its queue's message. */
export function describeDeadLetter(queue: DeadLetterQueueRef, message: Message, extracted: Extracted = extractEvent(queue, message.Body)): DeadLetter {
  const detail = extracted.ok ? (extracted.event?.detail as Record<string, unknown> | undefined) : undefined;
  const sent = Number(message.Attributes?.SentTimestamp);
  const receives = Number(message.Attributes?.ApproximateReceiveCount);
  return {
    queue: queue.name,
    route: queue.route.name,
    target: queue.targetName,
    role: queue.role,
    messageId: message.MessageId ?? '',
    ...(typeof detail?.eventId === 'string' ? { fastioEventId: detail.eventId } : {}),
    reason: extracted.ok ? deadLetterReason(failureDetails(queue, message), queue.role) : `unreadable: ${extracted.reason}`,
    ...(Number.isFinite(sent) ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(Number.isFinite(receives) ? { receiveCount: receives } : {}),
  };
}

function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

/** Why the message failed, as each kind of queue records it. */
export function failureDetails(queue: DeadLetterQueueRef, message: Message): Record<string, string | undefined> {
  const parsed = parseObject(message.Body);
  switch (queue.role) {
    case 'target-dlq':
    case 'recorder-dlq':
      return {
        rule: attribute(message, 'RULE_ARN'),
        target: attribute(message, 'TARGET_ARN'),
        errorCode: attribute(message, 'ERROR_CODE'),
        errorMessage: attribute(message, 'ERROR_MESSAGE'),
        exhaustedRetryCondition: attribute(message, 'EXHAUSTED_RETRY_CONDITION'),
        retryAttempts: attribute(message, 'RETRY_ATTEMPTS'),
      };
    case 'buffer-dlq':
      return {
        reason: `the consumer failed it ${MAX_RECEIVE_COUNT} times (see the consumer's logs for the error)`,
        receiveCount: message.Attributes?.ApproximateReceiveCount,
      };
    case 'on-failure': {
      const context = isObject(parsed?.requestContext) ? parsed.requestContext : {};
      const response = isObject(parsed?.responseContext) ? parsed.responseContext : {};
      const payload = isObject(parsed?.responsePayload) ? parsed.responsePayload : {};
      return {
        condition: str(context.condition),
        approximateInvokeCount: str(context.approximateInvokeCount),
        functionArn: str(context.functionArn),
        functionError: str(response.functionError),
        errorType: str(payload.errorType),
        errorMessage: str(payload.errorMessage) ?? (typeof parsed?.responsePayload === 'string' ? parsed.responsePayload : undefined),
      };
    }
    case 'workflow-failures':
      return { executionArn: str(parsed?.executionArn), error: str(parsed?.error), cause: str(parsed?.cause) };
    case 'subscription-dlq':
      return { topicArn: str(parsed?.TopicArn), snsMessageId: str(parsed?.MessageId), reason: 'SNS could not deliver it to a subscription after its delivery retries' };
  }
}

/** Short labels for the text output of `dlq peek` (the JSON keeps the field names). */
const FAILURE_LABELS: Record<string, string> = {
  rule: 'rule',
  target: 'target',
  errorCode: 'code',
  errorMessage: 'error',
  exhaustedRetryCondition: 'gave up',
  retryAttempts: 'retries',
  reason: 'why',
  receiveCount: 'receives',
  condition: 'condition',
  approximateInvokeCount: 'invokes',
  functionArn: 'function',
  functionError: 'fn error',
  errorType: 'type',
  executionArn: 'execution',
  error: 'error',
  cause: 'cause',
  topicArn: 'topic',
  snsMessageId: 'sns id',
};

function eventSummary(event: JsonObject): string {
  const detail = isObject(event.detail) ? event.detail : {};
  const parts = [str(event['detail-type']) ?? '?', str(detail.eventId) ?? ''].filter((part) => part !== '');
  const meta = [str(event.id) ? `id ${str(event.id)}` : '', str(event.time) ? `time ${str(event.time)}` : ''].filter((part) => part !== '');
  return `${parts.join(' ')}${meta.length > 0 ? ` (${meta.join(', ')})` : ''}`;
}

function sentAt(message: Message): Date | undefined {
  const raw = message.Attributes?.SentTimestamp;
  const ms = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

// ---- shared plumbing ------------------------------------------------------------------------------

interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

interface ResolvedQueue {
  readonly queue: DeadLetterQueueRef;
  readonly url: string;
  readonly arn: string;
  readonly outputs: StackOutputs;
}

async function resolveQueue(clients: AwsClients, stage: string, queue: DeadLetterQueueRef): Promise<ResolvedQueue> {
  const outputs = await loadStackOutputs(clients.cloudFormation, stackNames(stage).routing);
  const absent = deployedDeadLetterQueues(outputs, [{ ...queue.route, targets: [queue.target] }]).absent[0];
  if (absent !== undefined) throw new OperationFailed(absentTargetText(absent, outputs.stackName));
  const keys = deadLetterOutputKeys(queue);
  return { queue, url: outputs.get(keys.url), arn: outputs.get(keys.arn), outputs };
}

/** What `--local` makes meaningless: the pipeline `npm start` runs is one deployment in no region. */
function refuseWithLocal(options: OptionValues, extra: readonly string[] = []): void {
  if (options.local !== true) return;
  refuseOptions(options, ['stage', 'region', ...extra], '--local', 'it works on the pipeline `npm start` runs');
}

function queueArgument(positionals: readonly string[], table: readonly Route[]): DeadLetterQueueRef | undefined {
  const name = positionals[0] ?? '';
  try {
    return findDeadLetterQueue(name, table);
  } catch (error) {
    // An SQS queue name (no '/'): an orphaned queue dlq list showed, looked up when the stage is known.
    if (ORPHAN_NAME.test(name)) return undefined;
    throw error;
  }
}

// ---- orphaned queues ------------------------------------------------------------------------------

/** What SQS allows in a queue name, and no handle has (handles have '/'). */
const ORPHAN_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * A retained queue of this stage's routing stack that no stack output names: it was left behind
 * when its logical id changed (README "Upgrading without stranding dead letters"). Its tags say
 * which target it served; it is redriven to that target as the stack has it now.
 */
export interface OrphanedQueue {
  readonly queueName: string;
  readonly url: string;
  readonly tags: Readonly<Record<string, string>>;
  /** The current target and role it belongs to, or why it has none. */
  readonly ref: DeadLetterQueueRef | { readonly problem: string };
}

const ROLES: readonly string[] = ['target-dlq', 'buffer-dlq', 'on-failure', 'workflow-failures', 'subscription-dlq'] satisfies DeadLetterRole[];

function queueNameOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

function queueArnOfUrl(url: string): string {
  const { hostname, pathname } = new URL(url);
  const [, account, name] = pathname.split('/');
  return `arn:aws:sqs:${hostname.split('.')[1] ?? ''}:${account}:${name}`;
}

function orphanRef(queueName: string, tags: Record<string, string>, table: readonly Route[]): OrphanedQueue['ref'] {
  const routeName = tags[QUEUE_TAGS.route];
  const target = tags[QUEUE_TAGS.target];
  const tagged = tags[QUEUE_TAGS.role];
  if (routeName === undefined || target === undefined || tagged === undefined) return { problem: `${queueName} has no route, target and role tags` };
  // A buffer queue's messages are what the rule delivered, as in its buffer DLQ.
  const role = tagged === BUFFER_QUEUE_ROLE ? 'buffer-dlq' : tagged;
  if (!ROLES.includes(role)) return { problem: `${queueName} has the unknown role ${tagged}` };
  const route = findRoute(routeName, table);
  const spec = route?.targets.find((candidate) => targetName(candidate) === target);
  if (route === undefined || spec === undefined) return { problem: `${queueName} held ${routeName}/${target}, which the route table no longer has` };
  return { name: queueName, route, target: spec, targetName: target, role: role as DeadLetterRole };
}

/** The routing stack's queues that no output names, with their tags; `only` limits it to one name. */
export async function findOrphanedQueues(sqs: SQSClient, outputs: StackOutputs, stage: string, table: readonly Route[], only?: string): Promise<OrphanedQueue[]> {
  // By queue name, not URL: the same queue has more than one URL form (the legacy
  // <region>.queue.amazonaws.com host, an endpoint override's host), and names are unique per account and Region.
  const named = new Set(outputs.allValues().filter((value) => /^https?:\/\//.test(value)).map(queueNameOf));
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: only ?? `${outputs.stackName}-`, MaxResults: 1000, NextToken }));
    urls.push(...(page?.QueueUrls ?? []));
    NextToken = page?.NextToken;
  } while (NextToken);
  const orphans: OrphanedQueue[] = [];
  for (const url of urls) {
    const queueName = queueNameOf(url);
    if (named.has(queueName) || !queueName.startsWith(`${outputs.stackName}-`) || (only !== undefined && queueName !== only)) continue;
    const tags = (await sqs.send(new ListQueueTagsCommand({ QueueUrl: url })))?.Tags ?? {};
    // CloudFormation names the stack's queues after it, and the app tags each with its stage.
    if (tags.stage !== stage) continue;
    orphans.push({ queueName, url, tags, ref: orphanRef(queueName, tags, table) });
  }
  return orphans;
}

/** An orphaned queue named on the command line, resolved as a queue of its current target. */
async function resolveOrphan(clients: AwsClients, stage: string, name: string, table: readonly Route[]): Promise<ResolvedQueue> {
  const outputs = await loadStackOutputs(clients.cloudFormation, stackNames(stage).routing);
  const found = (await findOrphanedQueues(clients.sqs, outputs, stage, table, name))[0];
  if (found === undefined) {
    throw new UsageError(`unknown queue "${name}": neither a queue handle (${deadLetterQueueNames(table)}) nor an orphaned queue of ${outputs.stackName} (${OPS_COMMAND} dlq list shows them)`);
  }
  if ('problem' in found.ref) throw new OperationFailed(`${found.ref.problem}: it can be peeked with aws sqs receive-message --queue-url ${found.url}, not redriven`);
  return { queue: found.ref, url: found.url, arn: queueArnOfUrl(found.url), outputs };
}

function deadLetterQueueNames(table: readonly Route[]): string {
  return deadLetterQueues(table).map((queue) => queue.name).join(', ');
}

// ---- dlq list -------------------------------------------------------------------------------------

interface QueueRow {
  readonly name: string;
  readonly url?: string;
  readonly visible?: number;
  readonly inFlight?: number;
  readonly depth?: number;
  readonly oldestAgeSeconds?: number | null;
  readonly oldestAgeExact?: boolean;
  readonly sampled?: number;
  readonly error?: string;
  /** For a queue no output names: the handle it held (<route>/<target>/<role>), or why it has none. */
  readonly orphaned?: string;
}

function listCommand(runtime: OpsRuntime, table: readonly Route[]): OpsCommand {
  return {
    path: ['dlq', 'list'],
    summary: 'every dead-letter and failure queue of the deployment with its depth and the age of its oldest message',
    usage: '[--depth-only] [--stage <s>] [--region <r>] [--local] [--json]',
    options: { ...deploymentOptions, 'depth-only': { type: 'boolean' }, local: { type: 'boolean' } },
    async run({ options, io }) {
      refuseWithLocal(options, ['depth-only']);
      if (options.local === true) return listLocally(io, options.json === true);
      const stage = stageOption(options);
      const region = regionOption(options);
      const depthOnly = options['depth-only'] === true;
      return withAwsErrors(async () => {
        const clients = runtime.clients(region);
        const outputs = await loadStackOutputs(clients.cloudFormation, stackNames(stage).routing);
        const now = runtime.now().getTime();
        const rows: QueueRow[] = [];
        let firstError: unknown;
        const deployed = deployedDeadLetterQueues(outputs, table);
        const orphans = await findOrphanedQueues(clients.sqs, outputs, stage, table);
        const candidates = [
          ...deployed.queues.map((queue) => ({ name: queue.name, url: () => outputs.get(deadLetterOutputKeys(queue).url), orphaned: undefined })),
          ...orphans.map((orphan) => ({ name: orphan.queueName, url: () => orphan.url, orphaned: 'problem' in orphan.ref ? orphan.ref.problem : `was ${orphan.ref.route.name}/${orphan.ref.targetName}/${orphan.tags[QUEUE_TAGS.role] ?? orphan.ref.role}` })),
        ];
        for (const queue of candidates) {
          try {
            const url = queue.url();
            const { visible, inFlight } = await queueDepth(clients.sqs, url);
            let oldest: { ageSeconds: number; exact: boolean; sampled: number } | undefined;
            if (!depthOnly && visible > 0) {
              const { Messages } = await clients.sqs.send(
                new ReceiveMessageCommand({
                  QueueUrl: url,
                  MaxNumberOfMessages: 10,
                  VisibilityTimeout: 0,
                  WaitTimeSeconds: WAIT_SECONDS,
                  MessageSystemAttributeNames: ['SentTimestamp'],
                }),
              );
              const sent = (Messages ?? []).map(sentAt).filter((date): date is Date => date !== undefined);
              if (sent.length > 0) {
                const oldestSent = Math.min(...sent.map((date) => date.getTime()));
                oldest = { ageSeconds: Math.max(0, Math.floor((now - oldestSent) / 1000)), exact: sent.length >= visible && inFlight === 0, sampled: sent.length };
              }
            }
            rows.push({
              name: queue.name,
              ...(queue.orphaned === undefined ? {} : { orphaned: queue.orphaned }),
              url,
              visible,
              inFlight,
              depth: visible + inFlight,
              oldestAgeSeconds: oldest?.ageSeconds ?? null,
              oldestAgeExact: oldest?.exact ?? (visible + inFlight === 0),
              sampled: oldest?.sampled ?? 0,
            });
          } catch (error) {
            firstError ??= error;
            rows.push({ name: queue.name, ...(queue.orphaned === undefined ? {} : { orphaned: queue.orphaned }), error: describeError(explainAwsError(error)) });
          }
        }
        if (rows.length > 0 && rows.every((row) => row.error !== undefined)) throw firstError;

        if (options.json === true) {
          const notDeployed = deployed.absent.map((target: AbsentTarget) => ({ name: target.name, deployed: false, note: absentTargetText(target, outputs.stackName) }));
          io.out(JSON.stringify([...rows, ...notDeployed], null, 2));
        } else {
          const width = Math.max(5, ...rows.map((row) => row.name.length));
          io.out(`${'QUEUE'.padEnd(width)}  ${'DEPTH'.padStart(6)}  ${'VISIBLE'.padStart(7)}  ${'IN FLIGHT'.padStart(9)}  OLDEST`);
          for (const row of rows) {
            if (row.error !== undefined) {
              io.out(`${row.name.padEnd(width)}  unavailable: ${row.error}`);
              continue;
            }
            const oldest =
              row.oldestAgeSeconds === null || row.oldestAgeSeconds === undefined
                ? row.depth === 0
                  ? '-'
                  : depthOnly
                    ? 'not looked at (--depth-only)'
                    : 'unknown (no message could be seen)'
                : row.oldestAgeExact
                  ? formatDuration(row.oldestAgeSeconds * 1000)
                  : `≥ ${formatDuration(row.oldestAgeSeconds * 1000)} (oldest of ${row.sampled} seen)`;
            io.out(
              `${row.name.padEnd(width)}  ${String(row.depth).padStart(6)}  ${String(row.visible).padStart(7)}  ${String(row.inFlight).padStart(9)}  ${oldest}${row.orphaned === undefined ? '' : `  orphaned: ${row.orphaned}`}`,
            );
          }
          const orphanedRows = rows.filter((row) => row.orphaned !== undefined);
          if (orphanedRows.length > 0) {
            io.out(`orphaned = a retained queue of ${outputs.stackName} that no stack output names (left by a logical id change): peek and redrive it by its name; redrive delivers to its target as deployed now`);
          }
          const total = rows.reduce((sum, row) => sum + (row.depth ?? 0), 0);
          const nonEmpty = rows.filter((row) => (row.depth ?? 0) > 0).length;
          io.out('');
          const unreadable = rows.filter((row) => row.error !== undefined).length;
          io.out(
            `${total} dead letter${total === 1 ? '' : 's'} in ${nonEmpty} queue${nonEmpty === 1 ? '' : 's'}${unreadable > 0 ? ` and ${unreadable} queue(s) unreadable` : ''} (depth = visible + in flight, approximate)`,
          );
          if (!depthOnly) {
            io.out('OLDEST = age since SentTimestamp of the oldest message seen (a buffer DLQ keeps the time the event entered the buffer queue; messages expire 14 days after it);');
            io.out('"≥" means not every message could be seen, so the true oldest may be older.');
          }
          for (const target of deployed.absent) io.out(`not deployed: ${absentTargetText(target, outputs.stackName)}`);
          if (total > 0) io.out(`inspect: ${OPS_COMMAND} dlq peek <queue>    redrive: ${OPS_COMMAND} dlq redrive <queue>`);
        }
        const failedRows = rows.filter((row) => row.error !== undefined);
        if (failedRows.length > 0) {
          io.err(`error: ${failedRows.length} of ${rows.length} queues could not be read: ${failedRows.map((row) => row.name).join(', ')}`);
          return 1;
        }
        return 0;
      });
    },
  };
}

// ---- dlq peek -------------------------------------------------------------------------------------

function peekCommand(runtime: OpsRuntime, table: readonly Route[]): OpsCommand {
  return {
    path: ['dlq', 'peek'],
    summary: 'show dead letters and why they failed, without removing them',
    usage: '<queue> [-n <count>] [--stage <s>] [--region <r>] [--local] [--json]',
    options: { ...deploymentOptions, n: { type: 'string', short: 'n' }, local: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    async run({ positionals, options, io }) {
      const named = queueArgument(positionals, table);
      refuseWithLocal(options);
      const stage = stageOption(options);
      const region = regionOption(options);
      const count = integerOption(options, 'n', { min: 1, max: 100 }) ?? 10;
      if (options.local === true) return peekLocally(named?.name ?? findDeadLetterQueue(positionals[0] ?? '', table).name, count, io, options.json === true);
      return withAwsErrors(async () => {
        const clients = runtime.clients(region);
        const resolved = named === undefined ? await resolveOrphan(clients, stage, positionals[0] ?? '', table) : await resolveQueue(clients, stage, named);
        const { queue, url } = resolved;
        const messages: Message[] = [];
        const handles: string[] = [];
        const seen = new Set<string>();
        let releaseFailures = 0;
        try {
          while (messages.length < count) {
            const { Messages } = await clients.sqs.send(
              new ReceiveMessageCommand({
                QueueUrl: url,
                MaxNumberOfMessages: Math.min(10, count - messages.length),
                VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
                WaitTimeSeconds: WAIT_SECONDS,
                MessageAttributeNames: ['All'],
                MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
              }),
            );
            const batch = Messages ?? [];
            if (batch.length === 0) break;
            let fresh = 0;
            for (const message of batch) {
              if (message.ReceiptHandle) handles.push(message.ReceiptHandle);
              const id = message.MessageId ?? message.ReceiptHandle ?? '';
              if (seen.has(id) || messages.length >= count) continue;
              seen.add(id);
              messages.push(message);
              fresh += 1;
            }
            if (fresh === 0) break;
          }
        } finally {
          for (const handle of handles) {
            try {
              await clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 }));
            } catch {
              releaseFailures += 1;
            }
          }
        }

        const now = runtime.now().getTime();
        const views = messages.map((message) => {
          const extracted = extractEvent(queue, message.Body);
          const sent = sentAt(message);
          return {
            messageId: message.MessageId,
            sentAt: sent?.toISOString(),
            ageSeconds: sent ? Math.max(0, Math.floor((now - sent.getTime()) / 1000)) : undefined,
            receiveCount: message.Attributes?.ApproximateReceiveCount,
            failure: failureDetails(queue, message),
            event: extracted.ok ? extracted.event : undefined,
            problem: extracted.ok ? undefined : extracted.reason,
            // What the target's input made of the event, which is not an event itself.
            body: extracted.ok && extracted.event !== undefined ? undefined : message.Body,
          };
        });

        if (options.json === true) {
          io.out(JSON.stringify({ queue: queue.name, messages: views }, null, 2));
        } else if (views.length === 0) {
          io.out(`${queue.name}: no visible messages`);
        } else {
          io.out(`${queue.name}: ${views.length} message${views.length === 1 ? '' : 's'} (left in place)`);
          views.forEach((view, index) => {
            io.out('');
            const age = view.ageSeconds === undefined ? '' : ` (${formatDuration(view.ageSeconds * 1000)} ago)`;
            io.out(`#${index + 1} message ${view.messageId ?? '?'} sent ${view.sentAt ?? '?'}${age}`);
            io.out(`   event    ${view.event ? eventSummary(view.event) : view.problem === undefined ? 'none (the payload is what the target\'s input made of it)' : `unreadable: ${view.problem}`}`);
            for (const [key, value] of Object.entries(view.failure)) {
              if (value !== undefined) io.out(`   ${(FAILURE_LABELS[key] ?? key).padEnd(8)} ${value}`);
            }
            if (view.body !== undefined) io.out(`   ${'body'.padEnd(8)} ${(view.body ?? '').slice(0, 500)}`);
          });
        }
        if (releaseFailures > 0) {
          io.err(`error: ${releaseFailures} peeked message(s) could not be made visible again: they reappear by themselves within ${PEEK_VISIBILITY_SECONDS} s`);
          return 1;
        }
        return 0;
      });
    },
  };
}

// ---- dlq redrive ----------------------------------------------------------------------------------

interface RedriveSummary {
  readonly queue: string;
  readonly mode: 'redeliver' | 'message-move-task';
  readonly destination: string;
  readonly moved: number;
  readonly failed: number;
  readonly left: number | null;
  readonly failures: { messageId: string; reason: string }[];
  readonly aborted?: string;
  readonly taskStatus?: string;
}

function printRedriveSummary(summary: RedriveSummary, json: boolean, io: CommandIo): number {
  if (json) {
    io.out(JSON.stringify(summary, null, 2));
  } else {
    io.out(`redrive ${summary.queue} → ${summary.destination}`);
    io.out(`  moved ${summary.moved} / failed ${summary.failed} / left ${summary.left === null ? 'unknown' : `≈ ${summary.left}`} in the queue`);
    // The reason next to the count: the progress notes went to stderr and may be lost in a log.
    for (const failure of summary.failures) io.out(`  failed ${failure.messageId}: ${failure.reason}`);
  }
  if (summary.aborted !== undefined) {
    io.err(`error: redrive stopped early: ${summary.aborted}; moved ${summary.moved}, failed ${summary.failed}; the rest is still in ${summary.queue} (run it again)`);
    return 1;
  }
  if (summary.failed > 0) {
    io.err(
      `error: ${summary.failed === 1 ? '1 message' : `${summary.failed} messages`} could not be re-delivered and ${summary.failed === 1 ? 'stays' : 'stay'} in ${summary.queue}; see why with: ${OPS_COMMAND} dlq peek ${summary.queue}`,
    );
    return 1;
  }
  return 0;
}

interface RedriveContext {
  readonly resolved: ResolvedQueue;
  readonly clients: AwsClients;
  readonly runtime: OpsRuntime;
  readonly io: CommandIo;
  readonly max: number | undefined;
  readonly rate: number | undefined;
  readonly start: QueueDepth;
  /** Where each message's redrive is recorded (undefined, with a warning, when the recovery log cannot be found). */
  readonly recovery: AwsRecoveryRecorder | undefined;
}

/**
 * The recovery log of the deployment (its recorder bucket, from the stateful stack's outputs).
 * Not found is a warning, not a refusal: a redrive that fixes an incident must not wait on its log.
 */
async function recoveryRecorderOf(clients: AwsClients, stage: string, runtime: OpsRuntime, io: CommandIo): Promise<AwsRecoveryRecorder | undefined> {
  try {
    const stateful = await loadStackOutputs(clients.cloudFormation, stackNames(stage).stateful);
    return new AwsRecoveryRecorder(new S3RecoveryLog(clients.s3, stateful.get(StatefulOutput.recorderBucketName)), clients.sts, 'dlq redrive', runtime.now);
  } catch (error) {
    io.err(`warning: no recovery log (trace will not show this redrive): ${describeError(explainAwsError(error))}`);
    return undefined;
  }
}

/** Re-delivers message by message; deletes each one only after its re-delivery succeeded. */
async function redeliverMessages(context: RedriveContext): Promise<RedriveSummary> {
  const { resolved, clients, runtime, io, max, rate, start } = context;
  const { queue, url } = resolved;
  const entries: RecoveryEntry[] = [];
  const redelivery = await redeliveryFor(queue, resolved.outputs, clients, runtime.fetch);
  // Without --max: what was visible at the start. Dead letters that arrive meanwhile wait for the
  // next run, so a redrive against a still-broken target cannot chase its own tail.
  const limit = max ?? start.visible;
  const progress = new Progress(io, `redrive ${queue.name}`);
  const failures: { messageId: string; reason: string }[] = [];
  const failedIds = new Set<string>();
  const hidden: string[] = [];
  const interval = rate === undefined ? 0 : 1000 / rate;
  let nextAt = 0;
  let moved = 0;
  let attempted = 0;
  let aborted: string | undefined;

  const draw = () => {
    const total = Math.max(attempted, Math.min(limit, start.visible));
    progress.update(total > 0 ? attempted / total : 1, `${attempted}/${total} moved ${moved} failed ${failures.length}`);
  };
  const fail = (messageId: string, reason: string, handle: string | undefined) => {
    failures.push({ messageId, reason });
    failedIds.add(messageId);
    if (handle !== undefined) hidden.push(handle);
    progress.note(`failed: message ${messageId}: ${reason}`);
  };

  io.err(`redriving up to ${Math.min(limit, start.visible)} message(s) from ${queue.name} to ${redelivery.destination}`);
  draw();
  try {
    while (attempted < limit) {
      const { Messages } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, limit - attempted),
          VisibilityTimeout: REDRIVE_VISIBILITY_SECONDS,
          WaitTimeSeconds: WAIT_SECONDS,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      const batch = Messages ?? [];
      if (batch.length === 0) break;
      let fresh = 0;
      for (const message of batch) {
        const messageId = message.MessageId ?? '?';
        const handle = message.ReceiptHandle;
        if (failedIds.has(messageId) || attempted >= limit) {
          // Already failed in this run (it reappeared), or beyond --max: put it back untouched.
          if (handle !== undefined) hidden.push(handle);
          continue;
        }
        fresh += 1;
        attempted += 1;
        const extracted = extractEvent(queue, message.Body);
        const taken = redriveOf({ ...describeDeadLetter(queue, message, extracted), messageId });
        const failed = (reason: string) => {
          fail(messageId, reason, handle);
          entries.push({ ...taken, outcome: 'failed', reason });
        };
        if (!extracted.ok) {
          failed(extracted.reason);
        } else {
          if (interval > 0) {
            const now = runtime.now().getTime();
            if (now < nextAt) await runtime.sleep(nextAt - now);
            nextAt = Math.max(now, nextAt) + interval;
          }
          let delivered = false;
          try {
            await redelivery.deliver(extracted);
            delivered = true;
            if (handle === undefined) throw new Error('message has no receipt handle');
            await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handle }));
            moved += 1;
            entries.push({ ...taken, outcome: 'delivered' });
          } catch (error) {
            const why = describeError(explainAwsError(error));
            failed(
              delivered
                ? `re-delivered, but could not be deleted (${why}): it stays in the queue and the next redrive delivers it again, which idempotent consumers absorb`
                : `re-delivery failed: ${why}`,
            );
          }
        }
        if (io.interactive) draw();
      }
      if (!io.interactive) draw();
      if (fresh === 0) break;
    }
  } catch (error) {
    aborted = describeError(explainAwsError(error));
  }

  // Failed messages were kept hidden so this run would not retry them; make them visible again now.
  let stillHidden = 0;
  for (const handle of hidden) {
    try {
      await clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 }));
    } catch {
      stillHidden += 1;
    }
  }
  if (stillHidden > 0) {
    progress.note(`note: ${stillHidden} message(s) could not be made visible again; they reappear within ${REDRIVE_VISIBILITY_SECONDS / 60} minutes`);
  }

  const warning = await context.recovery?.record(entries);
  if (warning !== undefined) io.err(`warning: ${warning}`);

  let left: number | null = null;
  try {
    const end = await queueDepth(clients.sqs, url);
    left = end.visible + end.inFlight;
  } catch {
    left = null;
  }
  return {
    queue: queue.name,
    mode: 'redeliver',
    destination: redelivery.destination,
    moved,
    failed: failures.length,
    left,
    failures,
    ...(aborted === undefined ? {} : { aborted }),
  };
}

/** A buffer DLQ back into its buffer queue with an SQS message move task, optionally watched. */
async function moveMessages(context: RedriveContext, wait: boolean, json: boolean): Promise<RedriveSummary | undefined> {
  const { resolved, clients, runtime, io, rate } = context;
  const bufferArn = resolved.outputs.target(resolved.queue, 'BufferQueueArn');
  const destination = `buffer queue ${bufferArn} (SQS message move task)`;
  const started = await clients.sqs.send(
    new StartMessageMoveTaskCommand({ SourceArn: resolved.arn, DestinationArn: bufferArn, ...(rate === undefined ? {} : { MaxNumberOfMessagesPerSecond: rate }) }),
  );
  if (!wait) {
    if (json) {
      io.out(JSON.stringify({ queue: resolved.queue.name, mode: 'message-move-task', destination, taskHandle: started.TaskHandle, status: 'RUNNING', waited: false }, null, 2));
    } else {
      io.out(`message move task started: ${resolved.queue.name} → ${destination}`);
      io.out(`  task ${started.TaskHandle ?? '?'} moves about ${context.start.visible} messages${rate === undefined ? '' : ` at ${rate}/s`}`);
      io.out(`  not waited for (add --wait to watch it finish); ${OPS_COMMAND} dlq list shows the depth falling`);
    }
    return undefined;
  }
  const progress = new Progress(io, `redrive ${resolved.queue.name}`);
  let task: ListMessageMoveTasksResultEntry | undefined;
  for (;;) {
    const { Results } = await clients.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: resolved.arn, MaxResults: 1 }));
    task = Results?.[0];
    const movedSoFar = task?.ApproximateNumberOfMessagesMoved ?? 0;
    const toMove = task?.ApproximateNumberOfMessagesToMove;
    progress.update(
      task?.Status === 'COMPLETED' ? 1 : toMove ? movedSoFar / toMove : undefined,
      `${task?.Status ?? 'UNKNOWN'} moved ${movedSoFar}${toMove === undefined ? '' : `/${toMove}`}`,
    );
    if (task?.Status !== undefined && MOVE_TASK_TERMINAL.includes(task.Status)) break;
    await runtime.sleep(runtime.pollIntervalMs);
  }
  const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
  const toMove = task?.ApproximateNumberOfMessagesToMove ?? moved;
  const aborted =
    task?.Status === 'COMPLETED' ? undefined : `message move task ${task?.Status ?? 'UNKNOWN'}${task?.FailureReason ? `: ${task.FailureReason}` : ''}`;
  return {
    queue: resolved.queue.name,
    mode: 'message-move-task',
    destination,
    moved,
    failed: 0,
    left: Math.max(0, toMove - moved),
    failures: [],
    taskStatus: task?.Status,
    ...(aborted === undefined ? {} : { aborted }),
  };
}

function redriveCommand(runtime: OpsRuntime, table: readonly Route[]): OpsCommand {
  return {
    path: ['dlq', 'redrive'],
    summary: 'send each dead letter back to where it failed (deleted only after re-delivery succeeded)',
    usage: '<queue> [--max <n>] [--rate <per-second>] [--wait] [--stage <s>] [--region <r>] [--local] [--json]',
    options: { ...deploymentOptions, max: { type: 'string' }, rate: { type: 'string' }, wait: { type: 'boolean' }, local: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    async run({ positionals, options, io }) {
      const named = queueArgument(positionals, table);
      if (named?.role === 'subscription-dlq') throw new UsageError(`${named.name} cannot be redriven: ${SUBSCRIPTION_DLQ_REFUSAL}`);
      // A local redrive hands every message over at once: there is no rate to limit.
      refuseWithLocal(options, ['rate']);
      const stage = stageOption(options);
      const region = regionOption(options);
      const max = integerOption(options, 'max', { min: 1, max: 1_000_000 });
      // SQS message move tasks accept at most 500 messages per second.
      const rate = integerOption(options, 'rate', { min: 1, max: 500 });
      const json = options.json === true;
      if (options.local === true) return redriveLocally(named?.name ?? findDeadLetterQueue(positionals[0] ?? '', table).name, max, io, json);
      return withAwsErrors(async () => {
        const clients = runtime.clients(region);
        const orphaned = named === undefined;
        const resolved = orphaned ? await resolveOrphan(clients, stage, positionals[0] ?? '', table) : await resolveQueue(clients, stage, named);
        const { queue } = resolved;
        if (queue.role === 'subscription-dlq') throw new UsageError(`${queue.name} cannot be redriven: ${SUBSCRIPTION_DLQ_REFUSAL}`);
        const start = await queueDepth(clients.sqs, resolved.url);
        if (start.visible === 0) {
          const note =
            start.inFlight > 0
              ? `${queue.name} has no visible messages (${start.inFlight} in flight: being peeked or redriven right now); try again in a few minutes`
              : `${queue.name} is empty: nothing to redrive`;
          if (json) io.out(JSON.stringify({ queue: queue.name, moved: 0, failed: 0, left: start.inFlight, failures: [] }, null, 2));
          else io.out(note);
          return 0;
        }
        // An orphan is redriven message by message to its target: a move task would need its buffer's ARN pinned.
        const moveTask = queue.role === 'buffer-dlq' && max === undefined && !orphaned;
        // A move task is SQS's: this CLI never sees its messages, so there is nothing per event to record.
        const context: RedriveContext = { resolved, clients, runtime, io, max, rate, start, recovery: moveTask ? undefined : await recoveryRecorderOf(clients, stage, runtime, io) };
        if (moveTask) {
          const summary = await moveMessages(context, options.wait === true, json);
          return summary === undefined ? 0 : printRedriveSummary(summary, json, io);
        }
        return printRedriveSummary(await redeliverMessages(context), json, io);
      });
    },
  };
}

/** `table` is the route table the deployment was built from (tests pass one with every target kind). */
export function createDlqCommands(runtime: OpsRuntime = defaultRuntime, table: readonly Route[] = routeTable): OpsCommand[] {
  return [listCommand(runtime, table), peekCommand(runtime, table), redriveCommand(runtime, table)];
}

export const dlqCommands: readonly OpsCommand[] = createDlqCommands();
