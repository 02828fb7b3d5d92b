#!/usr/bin/env -S npx tsx
/**
 * `npm run cost -- [--events-per-month N] [--detail] [--json]`: AWS cost per million webhooks and per
 * month, by service, read from the synthesized templates (synthesized first when cdk.out is missing
 * or older than the sources, as `npm start` does) and the price list in lib/cost/aws-prices.json,
 * beside AWS's direct inbound-webhook design. Only the targets that deploy are priced.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import assumptions from '../lib/cost/assumptions.json';
import prices from '../lib/cost/aws-prices.json';
import { capacityLines, estimateCapacity, readCapacityFacts } from '../lib/cost/capacity';
import { estimateDesign, estimateDirectWebhook, totalsByService, type CostEstimate } from '../lib/cost/cost-model';
import { deployedRoutes, readTemplateFacts, type CfnTemplate } from '../lib/cost/template-facts';
import { ensureAssembly } from '../lib/local/assembly';
import { stackTemplateFile, type StackRole } from '../lib/synthesized-template';
import { joinNegativeValues, parseArgsProblem } from '../lib/ops/cli';
import { routeTable } from '../lib/route-table';

const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
const CDK_OUT = fileURLToPath(new URL('../cdk.out/', import.meta.url));

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

function template(role: StackRole, required: boolean): CfnTemplate | undefined {
  const file = stackTemplateFile(CDK_OUT, role);
  if (file === undefined) {
    if (required) fail(`the ${role} stack's template is not in ${CDK_OUT}: run "npm run synth" first`);
    return undefined;
  }
  return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
}

const usd = (value: number) => `$${value < 10 ? value.toFixed(4) : value.toFixed(2)}`;

function printEstimate(title: string, estimate: CostEstimate, eventsPerMonth: number, detail: boolean): number {
  const totals = totalsByService(estimate, eventsPerMonth);
  const perMillion = totals.reduce((sum, total) => sum + total.perMillion, 0);
  const perMonth = totals.reduce((sum, total) => sum + total.perMonth, 0);
  process.stdout.write(`\n${title}\n  ${'service'.padEnd(26)}${'per 1M webhooks'.padStart(16)}${'per month'.padStart(14)}\n`);
  for (const total of totals) {
    process.stdout.write(`  ${total.service.padEnd(26)}${usd(total.perMillion).padStart(16)}${usd(total.perMonth).padStart(14)}\n`);
  }
  process.stdout.write(`  ${'total'.padEnd(26)}${usd(perMillion).padStart(16)}${usd(perMonth).padStart(14)}\n`);
  if (detail) {
    for (const line of estimate.variable) process.stdout.write(`    ${line.service}: ${line.item}: ${usd(line.perMillion)} per 1M\n`);
    for (const line of estimate.fixed) process.stdout.write(`    ${line.service}: ${line.item}: ${usd(line.perMonth)} per month\n`);
  }
  return perMonth;
}

// `npm run cost -- --detail | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  process.stderr.write(`error: cannot write the report (${error.code ?? error.message})\n`);
  process.exit(1);
});

const USAGE = 'usage: npm run cost -- [--events-per-month N] [--detail] [--json]';
const HELP = `${USAGE}

AWS cost of what deploys under the current config (cdk.json, -c values of the last synth), per
million webhooks and per month, by service, beside AWS's direct inbound-webhook design, and the
capacity the templates allow. Synthesizes first when cdk.out is missing or older than the sources.

  --events-per-month N  monthly volume the per-month column is for (default 1000000)
  --detail              every cost line under its service
  --json                the facts, lines, totals and capacity as JSON
  --help                this text
Prices: lib/cost/aws-prices.json. Traffic and durations: lib/cost/assumptions.json.
`;
const OPTIONS = { 'events-per-month': { type: 'string' }, detail: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } } as const;

function parseOptions(): { eventsPerMonth: number; detail: boolean; json: boolean } {
  let values;
  try {
    // joinNegativeValues: `--events-per-month -5` is a bad number, not an unknown option `-5`.
    ({ values } = parseArgs({ args: joinNegativeValues(process.argv.slice(2), OPTIONS), options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    fail(`${parseArgsProblem(error)}; ${USAGE}`);
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const raw = values['events-per-month'];
  const eventsPerMonth = raw === undefined ? 1_000_000 : /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(eventsPerMonth)) fail(`--events-per-month must be a non-negative integer, got "${raw}"`);
  return { eventsPerMonth, detail: values.detail === true, json: values.json === true };
}

const { eventsPerMonth, ...values } = parseOptions();

// The figures are about what deploys: a cdk.out older than lib/ or lambdas/ is synthesized again,
// and a synth that fails stops the report instead of pricing the previous templates.
try {
  await ensureAssembly({
    projectRoot: PROJECT_ROOT,
    policy: 'if-stale',
    log: (line) => {
      if (line.startsWith('warning: cdk synth failed')) throw new Error('cdk synth failed, so cdk.out is not what deploys: run "npm run synth" to see why');
      process.stderr.write(`${line}\n`);
    },
  });
} catch (error) {
  fail((error instanceof Error ? error.message : String(error)).split('\n')[0] as string);
}

const ingestTemplate = template('ingest', true) as CfnTemplate;
const routingTemplate = template('routing', true) as CfnTemplate;
const statefulTemplate = template('stateful', true) as CfnTemplate;
const facts = readTemplateFacts(
  { stateful: statefulTemplate, ingest: ingestTemplate, routing: routingTemplate, monitoring: template('monitoring', false) },
  routeTable,
);
const routes = deployedRoutes(routingTemplate, routeTable);
const shares = assumptions.routeShare.value as Record<string, number>;
const unpriced = routes.map((route) => route.name).filter((name) => shares[name] === undefined);
const capacity = estimateCapacity(readCapacityFacts(ingestTemplate, { stateful: statefulTemplate, routing: routingTemplate, routes }), routes, {
  ingestDurationMs: assumptions.durationMs.value.ingest,
  routeShare: assumptions.routeShare.value,
  recordedEventBytes: assumptions.payloadBytes.value + assumptions.eventEnvelopeBytes.value,
});
const design = estimateDesign(facts, prices, assumptions);
const direct = estimateDirectWebhook(facts, prices, assumptions);

if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ eventsPerMonth, unpricedRoutes: unpriced, prices: { region: prices.region, checked: prices.checked }, facts, design: { lines: design, totals: totalsByService(design, eventsPerMonth) }, directWebhook: { lines: direct, totals: totalsByService(direct, eventsPerMonth) }, capacity }, null, 2)}\n`,
  );
} else {
  process.stdout.write(`AWS list prices, ${prices.region}, checked ${prices.checked}; ${eventsPerMonth.toLocaleString('en-US')} webhooks a month; assumptions in lib/cost/assumptions.json\n`);
  if (unpriced.length > 0) process.stdout.write(`note: no traffic share in lib/cost/assumptions.json for route(s) ${unpriced.join(', ')}: priced as 0% of webhooks\n`);
  const ours = printEstimate('fastio-eventbridge (API, verify, bus + archive, routes, consumers, workflow)', design, eventsPerMonth, values.detail);
  const theirs = printEstimate("AWS's inbound-webhook design (function URL → Lambda → PutEvents)", direct, eventsPerMonth, values.detail);
  process.stdout.write(`\nThe API, archive, buffering, consumers and workflow add ${usd(ours - theirs)} a month at this volume.\n`);
  process.stdout.write(`\ncapacity (from the templates; AWS default quotas per account and Region, see README)\n${capacityLines(capacity).join('\n')}\n`);
}
