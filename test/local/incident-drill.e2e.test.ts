/**
 * The incident drill, through the local pipeline and the operator CLI's `--local` commands:
 * 500 signed webhooks across every route while faults put some of them in dead-letter queues, one
 * DLQ purged by hand (its events now exist only in the flight recorder), then
 * - `ops reconcile --local` reports exactly those events per route and target, and exits 1;
 * - `ops trace --local` shows where a failed event waits and why;
 * - `ops reconcile --local --recover` redrives the dead letters, re-delivers the purged events to
 *   their target alone, and exits 0 with every route complete;
 * - `ops trace --local` shows the recovered event completed;
 * and, counted by effects per Fast.io event id (catalog writes, audit records, reviews and their
 * notifications), nothing was processed twice on the way.
 */
import { routeTable } from '../../lib/route-table';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DIR_ENV_VAR } from '../../lib/local/control-client';
import {
  WebhookClient,
  accepted,
  checkConservation,
  deliverAll,
  makeMix,
  makeWebhook,
  quiesce,
  startReliabilityPipeline,
  type RunningPipeline,
  type Webhook,
} from '../../lib/local/load-driver';
import { defaultRuntime, type OpsRuntime } from '../../lib/ops/aws-runtime';
import { runCli } from '../../lib/ops/cli';
import type { CommandIo } from '../../lib/ops/command';
import { faultsCommands } from '../../lib/ops/faults-commands';
import { createReconcileCommand } from '../../lib/ops/reconcile-command';
import { defaultSourceFactories } from '../../lib/ops/recorder-sources';
import { createTraceCommand } from '../../lib/ops/trace-command';
import type { ReconcileReport } from '../../lib/recorder/reconcile';
import type { TraceReport } from '../../lib/recorder/reconcile';
import { longestHorizonMs } from '../../lib/recorder/horizon';
import { trackedTargets } from '../../lib/recorder/sources';

const RUN = 'drill';
const AUDIT_BROKEN_AGENT = 'agt_audit_broken';

// The CLI as `npm run ops` builds it, polling the pipeline often (its AWS waits are scaled by 1000).
const runtime: OpsRuntime = { ...defaultRuntime, pollIntervalMs: 50 };
const commands = [createReconcileCommand(runtime, routeTable, defaultSourceFactories(runtime)), createTraceCommand(runtime, routeTable, defaultSourceFactories(runtime)), ...faultsCommands];

async function ops(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false };
  const code = await runCli(commands, argv, io);
  return { code, out, err };
}

let running: RunningPipeline;
let client: WebhookClient;
const previousDir = process.env[LOCAL_DIR_ENV_VAR];
beforeAll(async () => {
  running = await startReliabilityPipeline({ timeScale: 1000 });
  client = new WebhookClient(running.pipeline.webhookUrl, running.secret, 16);
  // The CLI finds the pipeline through pipeline.json in its state directory, as after `npm start`.
  process.env[LOCAL_DIR_ENV_VAR] = running.pipeline.options.stateDir;
});
afterAll(async () => {
  if (previousDir === undefined) delete process.env[LOCAL_DIR_ENV_VAR];
  else process.env[LOCAL_DIR_ENV_VAR] = previousDir;
  client?.close();
  await running?.stop();
});

/** `{route/target: sorted ids}` of a report's missing or dead-lettered events. */
function idsBy(report: ReconcileReport, what: 'missing' | 'deadLettered'): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const route of report.routes) {
    for (const target of route.targets) {
      const ids = what === 'missing' ? [...target.missing] : target.deadLettered.map((letter) => letter.fastioEventId);
      if (ids.length > 0) result[`${route.route}/${target.target}`] = ids.sort();
    }
  }
  return result;
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

describe('incident drill', () => {
  it('500 webhooks, faults, a purged DLQ: reconcile finds exactly what is missing and dead-lettered, --recover completes every route, nothing runs twice', { timeout: 90_000 }, async () => {
    const { pipeline } = running;
    const started = performance.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const from = new Date(Date.now() - 60_000).toISOString();

    // ---- faults: a rule that cannot deliver, a consumer that cannot write some files, an audit
    // that fails for one agent, a review notification that cannot be published.
    const webhooks: Webhook[] = makeMix(RUN, 500).map((webhook, index) =>
      webhook.kind === 'agent-action' && index % 100 === 1 ? makeWebhook(RUN, index, 'agent-action', { agentId: AUDIT_BROKEN_AGENT }) : webhook,
    );
    const auditBroken = webhooks.filter((webhook) => webhook.rawBody.includes(AUDIT_BROKEN_AGENT));
    const catalogBroken = webhooks.filter((webhook) => webhook.kind === 'document').slice(60, 65);
    pipeline.faults.add({ service: 'events', operation: 'Deliver', route: 'documents', errorCode: 'NO_PERMISSIONS', message: 'Access denied', times: 8 });
    for (const webhook of catalogBroken) {
      pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', key: { fileId: webhook.fileId }, errorCode: 'ResourceNotFoundException', message: 'Requested resource not found' });
    }
    const addedAudit = await ops('faults', 'add', '--service', 'dynamodb', '--operation', 'PutItem', '--table', 'audit', '--key', `agentId=${AUDIT_BROKEN_AGENT}`, '--error-code', 'ResourceNotFoundException', '--local');
    expect(addedAudit.code).toBe(0);
    pipeline.faults.add({ service: 'sns', operation: 'Publish', errorCode: 'AuthorizationErrorException', message: 'not authorized to publish', times: 3 });

    // ---- 500 signed webhooks, as Fast.io sends them
    const deliveries = await deliverAll(client, webhooks, { concurrency: 16, retryDelayMs: 100, maxRounds: 20 });
    expect(deliveries.every(accepted)).toBe(true);
    const sentAt = Date.now();
    phase(`sent (${deliveries.reduce((n, d) => n + d.statuses.length, 0)} requests)`);
    await quiesce(pipeline);
    phase('quiet');

    const during = checkConservation(running, deliveries);
    expect(during.problems).toEqual([]);
    expect(during.pending).toBe(0);
    const dead = (queue: string) => sorted(during.deadLetteredIds[queue] ?? []);
    expect(dead('documents/queue/target-dlq')).toHaveLength(8);
    expect(dead('documents/queue/buffer-dlq')).toEqual(sorted(catalogBroken.map((webhook) => webhook.eventId)));
    expect(dead('agent-activity/function/on-failure')).toEqual(sorted(auditBroken.map((webhook) => webhook.eventId)));
    const workflowDead = [...dead('large-media/workflow/workflow-failures'), ...dead('untrusted-agent-deletions/workflow/workflow-failures')];
    expect(workflowDead).toHaveLength(3);

    // ---- one DLQ purged by hand: its events are now only in the flight recorder
    const purged = await ops('faults', 'purge', 'agent-activity/function/on-failure', '--local');
    expect(purged).toMatchObject({ code: 0, out: [`agent-activity/function/on-failure: ${auditBroken.length} message(s) deleted; \`reconcile --local\` lists their events as missing`] });
    pipeline.faults.remove();

    // ---- reconcile: exactly those, per route and target; exit 1
    // Once the last webhook is past every target's retry horizon, scaled by the pipeline's 1000: younger ones are pending.
    const horizonMs = longestHorizonMs(routeTable.flatMap(trackedTargets)) / 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, sentAt + horizonMs + 1_000 - Date.now())));
    const first = await ops('reconcile', '--from', from, '--to', 'now', '--local', '--json');
    expect(first.code, first.err.join('\n')).toBe(1);
    phase('reconciled');
    const report = JSON.parse(first.out.join('\n')) as ReconcileReport;
    expect(idsBy(report, 'missing')).toEqual({ 'agent-activity/function': dead('agent-activity/function/on-failure') });
    const deadByRoute: Record<string, string[]> = {
      'documents/queue': sorted([...dead('documents/queue/target-dlq'), ...dead('documents/queue/buffer-dlq')]),
      ...(dead('large-media/workflow/workflow-failures').length > 0 ? { 'large-media/workflow': dead('large-media/workflow/workflow-failures') } : {}),
      ...(dead('untrusted-agent-deletions/workflow/workflow-failures').length > 0 ? { 'untrusted-agent-deletions/workflow': dead('untrusted-agent-deletions/workflow/workflow-failures') } : {}),
    };
    expect(idsBy(report, 'deadLettered')).toEqual(deadByRoute);
    const expectedEvents = (route: string) => webhooks.filter((webhook) => webhook.routes.includes(route)).length;
    for (const route of report.routes) {
      const [target] = route.targets;
      expect(route.events, route.route).toBe(expectedEvents(route.route));
      const missing = target?.missing.length ?? 0;
      const deadLettered = target?.deadLettered.length ?? 0;
      expect(target?.counts, route.route).toEqual({ completed: route.events - missing - deadLettered, confirmed: 0, 'dead-lettered': deadLettered, pending: 0, missing, unconfirmed: 0, unverifiable: 0 });
    }
    expect(report).toMatchObject({ events: 500, missing: auditBroken.length, deadLettered: 8 + catalogBroken.length + 3, clean: false });

    // ---- trace a dead-lettered event: where it waits, and why
    const waiting = dead('documents/queue/buffer-dlq')[0] as string;
    const before = await ops('trace', waiting, '--from', from, '--local', '--json');
    expect(before.code).toBe(0);
    const beforeTrace = JSON.parse(before.out.join('\n')) as TraceReport;
    expect(beforeTrace.routes.map((route) => [route.route, route.targets.map((target) => target.status)])).toEqual([['documents', ['dead-lettered']]]);
    expect(beforeTrace.routes[0]?.targets[0]?.deadLetters).toEqual([
      expect.objectContaining({ queue: 'documents/queue/buffer-dlq', reason: expect.stringContaining('the consumer failed it'), receiveCount: expect.any(Number) }),
    ]);

    // ---- recover: redrive the dead letters, re-deliver the purged ones to the audit alone; exit 0
    const recovered = await ops('reconcile', '--from', from, '--to', 'now', '--local', '--recover', '--json');
    phase('recovered');
    expect(recovered.code, recovered.err.join('\n')).toBe(0);
    const { recovery, after } = JSON.parse(recovered.out.join('\n')) as { recovery: { delivered: number; redriven: number; recorded: number; failures: string[] }; after: ReconcileReport };
    expect(recovery).toEqual({ delivered: auditBroken.length, redriven: 8 + catalogBroken.length + 3, recorded: 0, failures: [] });
    expect(after).toMatchObject({ missing: 0, deadLettered: 0, clean: true, events: 500 });
    for (const route of after.routes) expect(route.targets[0]?.counts.completed, route.route).toBe(expectedEvents(route.route));

    // ---- trace the recovered event: the whole story stays, in time order: the dead letter (why),
    // the redrive (by whom), then completed (issue 19 finding 6: it used to show the completion only)
    const afterTrace = await ops('trace', waiting, '--from', from, '--local');
    expect(afterTrace.code).toBe(0);
    const story = afterTrace.out.join('\n');
    expect(story).toMatch(
      /route documents matched\n {2}queue \(.*\)\n(?: {4}\S+ {2}EventBridge: .*\n)* {4}\S+ {2}dead-lettered in documents\/queue\/buffer-dlq: the consumer failed it.*\n {4}\S+ {2}redriven from documents\/queue\/buffer-dlq by .+ \(local\) \(reconcile --recover\): delivered\n {4}status: completed \d{4}-\d{2}-\d{2}T/,
    );

    // ---- nothing processed twice: every effect of every accepted webhook exactly once, no DLQ holds anything
    await quiesce(pipeline);
    const final = checkConservation(running, deliveries, { requireCompleted: true });
    expect(final.problems).toEqual([]);
    expect(pipeline.deadLetterQueues().filter((queue) => queue.depth > 0)).toEqual([]);
    phase('checked');
    process.stderr.write(`incident drill: ${phases.join(', ')}; dead-lettered ${JSON.stringify(during.deadLettered)}, purged ${auditBroken.length}\n`);
  });
});
