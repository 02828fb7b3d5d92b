#!/usr/bin/env -S npx tsx
/**
 * `npm run bench [-- --json] [-- --check] [-- --only ingest,bundles,cost,matcher,pipeline]`: prints
 * performance figures measured on this machine, each with its goal (issue 22). A script, not a test:
 * it reports numbers; with --check it exits 1 when a figure misses its goal.
 */
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { build } from 'esbuild';
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUNDLE_BANNER, BUNDLE_MAIN_FIELDS, BUNDLE_TARGET } from '../lib/constructs/bundle-options';
import { ensureAssembly, loadAssembly } from '../lib/local/assembly';
import { atMost, checkOutcome, formatFigure as format, type Figure, type Goal } from '../lib/bench/goals';
import costAssumptions from '../lib/cost/assumptions.json';
import costPrices from '../lib/cost/aws-prices.json';
import { estimateDesign, totalsByService } from '../lib/cost/cost-model';
import { readTemplateFacts, type CfnTemplate } from '../lib/cost/template-facts';
import { stackTemplateFile, type StackRole } from '../lib/synthesized-template';
import { parseArgsProblem } from '../lib/ops/cli';
import { compilePattern } from '../lib/domain/pattern-matcher';
import { routeTable } from '../lib/route-table';
import { completeEvent } from '../lib/domain/route-samples';
import { signWebhook } from '../lib/domain/webhook-signature';
import type { Delivery } from '../lib/local/load-driver';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const figures: Figure[] = [];
const record = (figure: Figure) => figures.push(figure);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A transport that answers every request at once, so only our code and the SDK's are measured. */
function cannedTransport(respond: (target: string) => unknown) {
  return {
    handle: async (request: { headers: Record<string, string> }) => ({
      response: {
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: Readable.from([Buffer.from(JSON.stringify(respond(request.headers['x-amz-target'] ?? '')))]),
      },
    }),
  };
}

function awsAnswer(target: string): unknown {
  // The dedupe's conditional claim and its mark: both succeed (a first delivery).
  if (target.endsWith('PutItem') || target.endsWith('UpdateItem')) return {};
  if (target.endsWith('PutEvents')) return { FailedEntryCount: 0, Entries: [{ EventId: '11111111-2222-3333-4444-555555555555' }] };
  if (target.endsWith('GetSecretValue')) return { SecretString: BENCH_SECRET, VersionId: 'v1', CreatedDate: 1_600_000_000 };
  throw new Error(`the bench transport has no answer for ${target}`);
}

const BENCH_SECRET = 'bench-signing-secret-0123456789abcdef';
const FUNCTION_ENV: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIABENCHMARK000000',
  AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
  EVENT_BUS_NAME: 'bench-bus',
  SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-AbCdEf',
  BODY_BUCKET_NAME: 'bench-bodies',
  CATALOG_TABLE_NAME: 'bench-catalog',
  AUDIT_TABLE_NAME: 'bench-audit',
  IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
  DEDUPE_TABLE_NAME: 'bench-dedupe',
  DEDUPE_WINDOW_HOURS: '24',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'FastioEventBridge',
  // The pinned SDK runs on Node 20; its notice about future versions is noise in the figures.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Runs `work` with stdout silenced: Logger and Metrics write there, as they do in Lambda. */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await work();
  } finally {
    process.stdout.write = write;
  }
}

async function timePerCall(iterations: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(100, iterations); i += 1) await call();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) await call();
  return Number(process.hrtime.bigint() - started) / 1000 / iterations;
}

async function benchIngest(): Promise<void> {
  Object.assign(process.env, FUNCTION_ENV);
  const body = readFileSync(join(ROOT, 'test/fixtures/payloads/document-uploaded.json'));
  const { handler } = await import('../lambdas/ingest/handler');
  const clients = await import('../lambdas/ingest/clients');
  for (const client of [clients.eventBridge, clients.secretsManager, clients.dynamoDb]) {
    (client.config as { requestHandler: unknown }).requestHandler = cannedTransport(awsAnswer);
  }
  // The floor's clients as anyone would write them; a second pair with the ingest's own client
  // settings (cacheMiddleware) shows what is left of the handler once the SDK's share is equal.
  const floorClients = (config: { cacheMiddleware?: boolean }) => {
    const bus = new EventBridgeClient(config);
    (bus.config as { requestHandler: unknown }).requestHandler = cannedTransport(awsAnswer);
    const table = new DynamoDBClient(config);
    (table.config as { requestHandler: unknown }).requestHandler = cannedTransport(awsAnswer);
    return { bus, table };
  };
  const defaultClients = floorClients({});
  const cachedClients = floorClients({ cacheMiddleware: true });
  const floorTable = defaultClients.table;

  let request = 0;
  const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 6_000 } as Context;
  // Every request is a new Fast.io event id (a first delivery), signed once each: signing is Fast.io's work.
  const bodies = Array.from({ length: 64 }, (_, i) => {
    const raw = Buffer.from(JSON.stringify({ ...(JSON.parse(body.toString('utf8')) as object), event_id: `evt_bench_${i}` }));
    return { raw, headers: signWebhook({ rawBody: raw, secret: BENCH_SECRET, scheme: 'body-hmac' }) };
  });
  // The API Gateway events are built before timing: making them is API Gateway's work, not the handler's.
  const events = bodies.map(
    ({ raw, headers }, i) =>
      ({
        version: '2.0',
        routeKey: 'POST /webhooks/fastio',
        rawPath: '/webhooks/fastio',
        rawQueryString: '',
        headers: { 'content-type': 'application/json', ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) },
        requestContext: { requestId: `bench-${i}`, http: { method: 'POST', path: '/webhooks/fastio', sourceIp: '127.0.0.1' } },
        body: raw.toString('utf8'),
        isBase64Encoded: false,
      }) as unknown as APIGatewayProxyEventV2,
  );
  const invoke = () => {
    request += 1;
    return handler(events[request % events.length] as APIGatewayProxyEventV2, context);
  };
  // The dedupe's two writes per request as the ingest makes them: a conditional claim, then the mark.
  const dedupeWrites = async (eventId: string) => {
    await floorTable.send(
      new PutItemCommand({
        TableName: 'bench-dedupe',
        Item: { eventId: { S: eventId }, status: { S: 'publishing' } },
        ConditionExpression: 'attribute_not_exists(eventId)',
      }),
    );
    await floorTable.send(
      new UpdateItemCommand({
        TableName: 'bench-dedupe',
        Key: { eventId: { S: eventId } },
        UpdateExpression: 'SET #status = :published',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':published': { S: 'published' } },
      }),
    );
  };
  // The floor: what any verifying publisher with a resend dedupe must do for the same delivery.
  const floorWith = ({ bus, table }: { bus: EventBridgeClient; table: DynamoDBClient }) => async () => {
    const mac = createHmac('sha256', BENCH_SECRET).update(body).digest('hex');
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    await table.send(
      new PutItemCommand({
        TableName: 'bench-dedupe',
        Item: { eventId: { S: String(parsed.event_id) }, status: { S: 'publishing' } },
        ConditionExpression: 'attribute_not_exists(eventId)',
      }),
    );
    await bus.send(
      new PutEventsCommand({ Entries: [{ EventBusName: 'bench-bus', Source: 'fastio', DetailType: String(parsed.event_type), Detail: JSON.stringify({ mac, payload: parsed }) }] }),
    );
    await table.send(
      new UpdateItemCommand({
        TableName: 'bench-dedupe',
        Key: { eventId: { S: String(parsed.event_id) } },
        UpdateExpression: 'SET #status = :published',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':published': { S: 'published' } },
      }),
    );
  };
  const floor = floorWith(defaultClients);
  const cachedFloor = floorWith(cachedClients);
  const response = await quietly(invoke);
  if (response.statusCode !== 202) throw new Error(`the ingest answered ${response.statusCode} in the bench; expected 202`);

  // Warm-up until the JIT has settled both paths, then short paired rounds in alternating order:
  // each round's ratio compares the two under the same machine load and heap state, and the
  // median of 40 such ratios is steady where a ratio of two separate medians is not.
  await quietly(() => timePerCall(2_000, invoke));
  await timePerCall(2_000, floor);
  const handlerRounds: number[] = [];
  const floorRounds: number[] = [];
  const ratios: number[] = [];
  const cachedRatios: number[] = [];
  const dedupeRounds: number[] = [];
  let dedupeCall = 0;
  for (let round = 0; round < 40; round += 1) {
    const measureHandler = () => quietly(() => timePerCall(150, invoke));
    const measureFloor = () => timePerCall(150, floor);
    let handlerMicros: number;
    let floorMicros: number;
    if (round % 2 === 0) {
      handlerMicros = await measureHandler();
      floorMicros = await measureFloor();
    } else {
      floorMicros = await measureFloor();
      handlerMicros = await measureHandler();
    }
    handlerRounds.push(handlerMicros);
    floorRounds.push(floorMicros);
    ratios.push(handlerMicros / floorMicros);
    if (round % 4 === 0) dedupeRounds.push(await timePerCall(150, () => dedupeWrites(`evt_dedupe_${(dedupeCall += 1)}`)));
    if (round % 4 === 1) cachedRatios.push((await quietly(() => timePerCall(150, invoke))) / (await timePerCall(150, cachedFloor)));
  }
  record({ section: 'ingest', name: 'warm handler, per request (median of 40 rounds)', value: median(handlerRounds), unit: 'µs' });
  record({ section: 'ingest', name: 'floor (HMAC + JSON.parse + claim + PutEvents + mark), per request', value: median(floorRounds), unit: 'µs' });
  record({ section: 'ingest', name: 'handler / floor (median of the rounds\' paired ratios)', value: median(ratios), unit: '×', goal: atMost(1.3) });
  record({ section: 'ingest', name: 'handler / floor on clients configured as the ingest\'s (cacheMiddleware), 10 rounds', value: median(cachedRatios), unit: '×' });
  record({
    section: 'ingest',
    name: 'resend dedupe: conditional claim + mark, per request (in-process SDK transport, no network; add the table round trips, ~2 × 5 ms on AWS)',
    value: median(dedupeRounds),
    unit: 'µs',
  });
}

const FUNCTIONS = ['ingest', 'catalog-consumer', 'agent-audit'] as const;

/**
 * The SDK clients each function needs on every request, and the cold-import goal against them
 * (issue 22). Anything else in a bundle (the S3 client of the claim-check) must not cost its cold start.
 */
const COLD_IMPORT_BASELINES: Record<(typeof FUNCTIONS)[number], { readonly packages: readonly string[]; readonly goal: Goal; readonly bundleGoal?: Goal }> = {
  ingest: { packages: ['client-eventbridge', 'client-secrets-manager', 'client-dynamodb'], goal: atMost(1.1), bundleGoal: atMost(400, ' KiB') },
  'catalog-consumer': { packages: ['client-dynamodb', 'lib-dynamodb'], goal: atMost(1.2) },
  'agent-audit': { packages: ['client-dynamodb', 'lib-dynamodb'], goal: atMost(1.2) },
};

async function bundle(outfile: string, stdin: string) {
  return build({
    stdin: { contents: stdin, resolveDir: ROOT, loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    minify: true,
    mainFields: [...BUNDLE_MAIN_FIELDS],
    banner: { js: BUNDLE_BANNER },
    logLevel: 'silent',
  });
}

/** Each function's asset directory in the synthesized assembly, by handler folder (from its source map). */
function deployedAssets(assemblyDir: string): Map<string, string> {
  const assets = new Map<string, string>();
  for (const stack of loadAssembly(assemblyDir).stacks) {
    for (const resource of Object.values(stack.template.Resources)) {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || typeof assetPath !== 'string') continue;
      const map = join(assemblyDir, assetPath, 'index.mjs.map');
      if (!existsSync(map)) continue;
      const { sources = [] } = JSON.parse(readFileSync(map, 'utf8')) as { sources?: string[] };
      const folder = sources.map((source) => /(?:^|\/)lambdas\/([^/]+)\/handler\.ts$/.exec(source)?.[1]).find((name) => name !== undefined);
      if (folder !== undefined) assets.set(folder, join(assemblyDir, assetPath));
    }
  }
  return assets;
}

/**
 * The files Node loads when it imports `entry`: it and every chunk it imports statically, and
 * theirs. Chunks reached only by `import("./…")` are left out: they load on first use.
 */
export function staticImportClosure(entry: string): string[] {
  const files = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(file, 'utf8');
    for (const match of code.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{][^"'();]*?from\s*)?["'](\.\.?\/[^"']+)["']/g)) {
      visit(join(dirname(file), match[1] as string));
    }
  };
  visit(entry);
  return [...files];
}

/** Source that imports one SDK client package and creates its client, as the handlers do. */
async function clientConstruction(pkg: string): Promise<string> {
  if (pkg === 'lib-dynamodb') {
    return "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; import { DynamoDBClient as BaseDynamoDBClient } from '@aws-sdk/client-dynamodb'; export const documentClient = DynamoDBDocumentClient.from(new BaseDynamoDBClient({}));";
  }
  const exported = Object.keys(await import(`@aws-sdk/${pkg}`));
  const className = exported.find((name) => name.endsWith('Client') && !name.endsWith('ServiceClient'));
  if (!className) throw new Error(`@aws-sdk/${pkg} exports no client class`);
  return `import { ${className} } from '@aws-sdk/${pkg}'; export const ${className.charAt(0).toLowerCase()}${className.slice(1)} = new ${className}({});`;
}

/** Milliseconds for a fresh Node process to import a module. */
function coldImportMillis(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...FUNCTION_ENV }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr.split('\n')[0]}`);
  return Number(result.stdout);
}

/** Medians over alternating runs of the two imports, so machine load affects both alike. */
function pairedColdImports(file: string, baseline: string, runs: number): { fileMs: number; baselineMs: number } {
  const fileSamples: number[] = [];
  const baselineSamples: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    fileSamples.push(coldImportMillis(file));
    baselineSamples.push(coldImportMillis(baseline));
  }
  return { fileMs: median(fileSamples), baselineMs: median(baselineSamples) };
}

async function benchBundles(): Promise<void> {
  // What deploys: the function assets of the synthesized assembly (synthesized first if stale).
  const assemblyDir = await ensureAssembly({ projectRoot: ROOT, policy: 'if-stale', log: (line) => process.stderr.write(`${line}\n`) });
  const assets = deployedAssets(assemblyDir);
  const outDir = mkdtempSync(join(tmpdir(), 'fastio-bench-'));
  for (const name of FUNCTIONS) {
    const assetDir = assets.get(name);
    if (assetDir === undefined) throw new Error(`no function asset in ${assemblyDir} bundles lambdas/${name}/handler.ts`);
    const entry = join(assetDir, 'index.mjs');
    const closure = staticImportClosure(entry);
    const size = closure.reduce((total, file) => total + statSync(file).size, 0);
    // The baseline imports the SDK clients every request needs and creates one of each.
    const { packages: clientPackages, goal, bundleGoal } = COLD_IMPORT_BASELINES[name];
    const baselineSource = (await Promise.all(clientPackages.map((pkg) => clientConstruction(pkg)))).join('\n');
    const baselineFile = join(outDir, `${name}-sdk-only.mjs`);
    await bundle(baselineFile, baselineSource);
    const { fileMs: handlerMs, baselineMs } = pairedColdImports(entry, baselineFile, 25);
    const label = `${name}: index.mjs + its static imports in cdk.out (${closure.length} files)`;
    record({ section: 'bundles', name: label, value: size / 1024, unit: 'KiB', ...(bundleGoal ? { goal: bundleGoal } : {}) });
    record({ section: 'bundles', name: `${name}: cold import of the deployed index.mjs`, value: handlerMs, unit: 'ms' });
    record({ section: 'bundles', name: `${name}: SDK clients only (${clientPackages.join(', ')})`, value: baselineMs, unit: 'ms' });
    record({ section: 'bundles', name: `${name}: cold import / SDK clients only`, value: handlerMs / baselineMs, unit: '×', goal });
  }
  writeFileSync(join(outDir, 'README'), 'Bundles built by npm run bench; safe to delete.\n');
}

/** Every route's samples, completed into full bus events as the route tests do. */
function sampleEvents(): unknown[] {
  return routeTable.flatMap((route) => [...route.samples.matching, ...route.samples.notMatching].map((sample) => completeEvent(sample).event));
}

/** 100 rules mixing every operator family, over the normalized envelope's fields. */
function syntheticPatterns(): unknown[] {
  const patterns: unknown[] = [];
  for (let i = 0; i < 100; i += 1) {
    const variant = i % 10;
    const detail: Record<string, unknown> = [
      { extension: ['pdf', 'docx', `ext${i}`] },
      { extension: [{ 'equals-ignore-case': `PDF${i % 3 === 0 ? '' : i}` }] },
      { fileName: [{ prefix: `report-${i}` }, { suffix: '.pdf' }] },
      { sizeBytes: [{ numeric: ['>=', i * 1000, '<', i * 1000 + 500_000] }] },
      { agentId: [{ exists: true }], workspaceId: [{ 'anything-but': [`ws-${i}`, 'ws-blocked'] }] },
      { fileName: [{ wildcard: `*-${i}*.pdf` }] },
      { agentId: [{ exists: false }], extension: [{ 'anything-but': { prefix: 'tmp' } }] },
      { payload: { metadata: { source_ip: [{ cidr: `10.${i}.0.0/16` }] } } },
      { sizeBytes: [{ numeric: ['>', 100 * i] }], extension: [{ suffix: { 'equals-ignore-case': 'X' } }] },
      { eventId: [{ prefix: 'evt-' }], workspaceId: [`ws-${i}`, 'ws-1'] },
    ][variant] as Record<string, unknown>;
    const pattern: Record<string, unknown> = { source: ['fastio'], detail };
    if (i % 7 === 0) pattern.$or = [{ 'detail-type': ['file.created'] }, { 'detail-type': [{ prefix: 'file.up' }] }];
    patterns.push(pattern);
  }
  return patterns;
}

function eventsPerSecond(patterns: unknown[], events: unknown[], seconds: number): number {
  const compiled = patterns.map((pattern) => compilePattern(pattern));
  let matched = 0;
  let evaluated = 0;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const started = process.hrtime.bigint();
  while (process.hrtime.bigint() < deadline) {
    for (const event of events) {
      for (const rule of compiled) if (rule.matches(event)) matched += 1;
      evaluated += 1;
    }
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  if (matched < 0) throw new Error('unreachable');
  return evaluated / elapsed;
}

function benchMatcher(): void {
  const events = sampleEvents();
  record({ section: 'matcher', name: `route table (${routeTable.length} rules), events matched against every rule`, value: eventsPerSecond(routeTable.map((r) => r.pattern), events, 2), unit: 'events/s' });
  record({ section: 'matcher', name: '100 synthetic rules mixing all operators', value: eventsPerSecond(syntheticPatterns(), events, 2), unit: 'events/s' });
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const PIPELINE_IN_FLIGHT = 24;
const PIPELINE_ROUND = 2000;
const PIPELINE_LATENCY_SECONDS = 10;

/**
 * The local pipeline end to end (`npm start`'s, in this process, sender included, so both share the
 * machine's cores), at time scale 1: every AWS-side wait as deployed (the SQS batching window of
 * 1 s, visibility timeouts); the stage throttling of the template is off. Webhooks are the
 * reliability suites' mix (documents, agent actions, large media, untrusted deletions, unrouted
 * images) and "consumed" means the same conservation check: each route the webhook matches
 * completed exactly once.
 */
async function benchPipeline(): Promise<void> {
  const support = await import('../lib/local/load-driver');
  const running = await support.startReliabilityPipeline({ timeScale: 1, apiThrottle: false });
  const client = new support.WebhookClient(running.pipeline.webhookUrl, running.secret, PIPELINE_IN_FLIGHT);
  const verify = async (deliveries: readonly Delivery[]) => {
    const report = await support.waitForConservation(running, deliveries, 120_000);
    await support.quiesce(running.pipeline, 120_000);
    const final = support.checkConservation(running, deliveries, { requireCompleted: true });
    const problems = [...report.problems, ...final.problems];
    if (problems.length > 0) throw new Error(`the conservation check failed in the bench: ${problems.slice(0, 3).join('; ')}`);
  };
  try {
    // Throughput: rounds of webhooks sent as fast as PIPELINE_IN_FLIGHT concurrent requests allow,
    // timed until the conservation check holds for all of them; after a warm-up, median of 3.
    const rounds: { accepted: number; consumed: number }[] = [];
    for (let round = 0; round <= 3; round += 1) {
      const webhooks = support.makeMix(`bench${round}`, round === 0 ? PIPELINE_ROUND / 2 : PIPELINE_ROUND);
      const started = performance.now();
      const deliveries = await support.deliverAll(client, webhooks, { concurrency: PIPELINE_IN_FLIGHT, retryDelayMs: 100, maxRounds: 10 });
      const acceptedAt = performance.now();
      await support.waitForConservation(running, deliveries, 120_000);
      const consumedAt = performance.now();
      await verify(deliveries);
      if (round > 0) rounds.push({ accepted: webhooks.length / ((acceptedAt - started) / 1000), consumed: webhooks.length / ((consumedAt - started) / 1000) });
    }
    const throughput = median(rounds.map((round) => round.consumed));
    const label = `${PIPELINE_IN_FLIGHT} in flight, median of ${rounds.length} × ${PIPELINE_ROUND.toLocaleString('en-US')}, time scale 1`;
    record({ section: 'pipeline', name: `signed webhooks accepted and consumed (${label})`, value: throughput, unit: 'webhooks/s' });
    record({ section: 'pipeline', name: `signed webhooks accepted (202) only, same rounds`, value: median(rounds.map((round) => round.accepted)), unit: 'webhooks/s' });

    // Latency at a fixed rate below saturation: open loop, one request every 1/rate s for 10 s.
    const rate = Math.max(1, Math.round(throughput / 2));
    const webhooks = support.makeMix('latency', rate * PIPELINE_LATENCY_SECONDS);
    const openLoop = new support.WebhookClient(running.pipeline.webhookUrl, running.secret, 256);
    const deliveries: Delivery[] = [];
    const answers: Promise<void>[] = [];
    const started = performance.now();
    for (let i = 0; i < webhooks.length; i += 1) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const webhook = webhooks[i] as (typeof webhooks)[number];
      const delivery: Delivery = { webhook, statuses: [], firstSentAt: Number.NaN, acceptedStartedAt: undefined, acceptedAt: undefined };
      deliveries.push(delivery);
      answers.push(
        openLoop.post(webhook).then((result) => {
          delivery.firstSentAt = result.startedAt;
          delivery.statuses.push(result.status);
          if (result.status !== 202) throw new Error(`the ingest answered ${result.status} in the latency run`);
          delivery.acceptedStartedAt = result.startedAt;
          delivery.acceptedAt = result.answeredAt;
        }),
      );
    }
    await Promise.all(answers);
    openLoop.close();
    await verify(deliveries);
    const toAccepted = deliveries.map((delivery) => (delivery.acceptedAt as number) - delivery.firstSentAt);
    const toCatalog = deliveries
      .filter((delivery) => delivery.webhook.routes.includes('documents'))
      .map((delivery) => (running.effects.catalogWrites.get(delivery.webhook.eventId)?.firstOkAt as number) - delivery.firstSentAt);
    const at = `at ${rate}/s (50% of throughput) for ${PIPELINE_LATENCY_SECONDS} s, time scale 1`;
    record({ section: 'pipeline', name: `request → 202, p50 ${at}`, value: percentile(toAccepted, 50), unit: 'ms' });
    record({ section: 'pipeline', name: `request → 202, p99`, value: percentile(toAccepted, 99), unit: 'ms' });
    record({ section: 'pipeline', name: `request → catalog write (documents route, 1 s batching window), p50`, value: percentile(toCatalog, 50), unit: 'ms' });
    record({ section: 'pipeline', name: `request → catalog write (documents route), p99`, value: percentile(toCatalog, 99), unit: 'ms' });
  } finally {
    client.close();
    await running.stop();
  }
}

/** The cost figures of issue 22's table, from the synthesized templates as `npm run cost` prices them. */
async function benchCost(): Promise<void> {
  const assemblyDir = await ensureAssembly({ projectRoot: ROOT, policy: 'if-stale', log: (line) => process.stderr.write(`${line}\n`) });
  const template = (role: StackRole): CfnTemplate | undefined => {
    const file = stackTemplateFile(assemblyDir, role);
    return file === undefined ? undefined : (JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate);
  };
  const [stateful, ingest, routing] = (['stateful', 'ingest', 'routing'] as const).map((role) => {
    const found = template(role);
    if (found === undefined) throw new Error(`the ${role} stack's template is not in ${assemblyDir}`);
    return found;
  }) as [CfnTemplate, CfnTemplate, CfnTemplate];
  const monitoring = template('monitoring');
  const facts = readTemplateFacts({ stateful, ingest, routing, ...(monitoring ? { monitoring } : {}) }, routeTable);
  const design = estimateDesign(facts, costPrices, costAssumptions);
  const total = totalsByService(design, 1_000_000).reduce((sum, entry) => sum + entry.perMillion, 0);
  const review = design.variable.filter((line) => line.service === 'Step Functions').reduce((sum, line) => sum + line.perMillion, 0);
  record({ section: 'cost', name: 'per million webhooks, full path (resend dedupe and bus logs included)', value: total, unit: '$', goal: atMost(8) });
  record({ section: 'cost', name: 'review workflows per million webhooks (Step Functions lines)', value: review, unit: '$', goal: atMost(0.5) });
}

const SECTIONS: Record<string, () => Promise<void> | void> = { ingest: benchIngest, bundles: benchBundles, cost: benchCost, matcher: benchMatcher, pipeline: benchPipeline };

const USAGE = `usage: npm run bench [-- --json] [-- --check] [-- --only ${Object.keys(SECTIONS).join(',')}]`;

const HELP = `${USAGE}

Measures the ingest's warm cost against its floor, the deployed bundles' size and cold import
against their SDK clients, the cost per million webhooks, the pattern matcher and the local
pipeline, and prints each figure with its goal.
  --json    print the machine and the figures as JSON
  --check   exit 1 when a figure misses its goal (after printing them all)
  --only    run only these sections (comma-separated)
  --help    print this text
`;

/** Bad arguments: exit 2 and one line, as the ops CLI does, before anything is measured. */
class BenchUsageError extends Error {}

function parseBenchArgs(): { json: boolean; check: boolean; help: boolean; sections: string[] } {
  let values: { json?: boolean; check?: boolean; help?: boolean; only?: string };
  try {
    ({ values } = parseArgs({ options: { json: { type: 'boolean' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, only: { type: 'string' } }, strict: true }));
  } catch (error) {
    throw new BenchUsageError(parseArgsProblem(error));
  }
  const sections = values.only === undefined ? Object.keys(SECTIONS) : values.only.split(',');
  for (const name of sections) {
    if (!SECTIONS[name]) throw new BenchUsageError(`unknown section "${name}"; choose from ${Object.keys(SECTIONS).join(', ')}`);
  }
  return { json: values.json === true, check: values.check === true, help: values.help === true, sections };
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  Object.assign(process.env, FUNCTION_ENV);
  for (const name of args.sections) await (SECTIONS[name] as () => Promise<void> | void)();
  const machine = { node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', date: new Date().toISOString() };
  if (args.json) {
    const out = figures.map((figure) => ({ ...figure, goal: figure.goal?.text, met: figure.goal?.met(figure.value) }));
    process.stdout.write(`${JSON.stringify({ machine, figures: out }, null, 2)}\n`);
  } else {
    printTable(machine);
  }
  const outcome = checkOutcome(figures, args.check);
  if (outcome.message !== undefined) process.stderr.write(`${outcome.message}\n`);
  process.exitCode = outcome.exitCode;
}

function printTable(machine: { node: string; cpus: number; cpuModel: string; date: string }): void {
  process.stdout.write(`Node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.date}\n\n`);
  const width = Math.max(...figures.map((figure) => figure.name.length)) + 2;
  let section = '';
  for (const figure of figures) {
    if (figure.section !== section) {
      section = figure.section;
      process.stdout.write(`${section}\n`);
    }
    const goal = figure.goal ? `  (goal ${figure.goal.text}${figure.goal.met(figure.value) ? '' : ', MISSED'})` : '';
    process.stdout.write(`  ${figure.name.padEnd(width)}${format(figure.value).padStart(12)} ${figure.unit}${goal}\n`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof BenchUsageError) {
    process.stderr.write(`error: ${error.message}; ${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}\n`);
  process.exitCode = 1;
});
