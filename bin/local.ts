#!/usr/bin/env -S npx tsx
/**
 * `npm start`: the whole pipeline on loopback, no AWS account needed (DESIGN.md decision 11).
 * Real handler code, the route table as synthesized, the real state machine definitions, and
 * local stand-ins for EventBridge, SQS, Lambda, Step Functions, DynamoDB and Secrets Manager.
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT, PROJECT_ROOT, startPipeline, type LocalPipeline } from '../lib/local/pipeline';
import { RECORDER_BUFFER_SECONDS } from '../lib/local/recorder';
import { OPS_COMMAND } from '../lib/ops/command';

const USAGE = `usage: npm start -- [--port <n>] [--dir <state dir>] [--verbose] [--no-synth] [--time-scale <n>]

  --port <n>     port of the webhook endpoint on 127.0.0.1 (default: $PORT or ${DEFAULT_PORT}; 0 = any free port)
  --dir <path>   where local state lives: signing secret, archive, logs (default: .local)
  --verbose      also print every line the functions log (always written to <dir>/logs/)
  --no-synth     run cdk.out as it is, even when lib/ or lambdas/ changed since it was synthesized
  --time-scale <n>  divide every AWS-side wait by n (visibility timeouts, retry delays, backoff) to watch
                 retries and dead-lettering quickly; default 1 = as deployed (e.g. 180 s visibility)`;

/** One line: the whole usage under it would bury the mistake (`--help` prints it). */
function fail(message: string): never {
  process.stderr.write(`error: ${message}; see npm start -- --help\n`);
  process.exit(2);
}

const startedAt = performance.now();
let args;
try {
  args = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: 'string' },
      dir: { type: 'string' },
      verbose: { type: 'boolean' },
      'no-synth': { type: 'boolean' },
      'time-scale': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (args.values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const rawPort = args.values.port ?? process.env.PORT ?? String(DEFAULT_PORT);
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`--port must be an integer from 0 to 65535, got "${rawPort}"`);

const rawScale = args.values['time-scale'] ?? '1';
const timeScale = Number(rawScale);
if (!Number.isFinite(timeScale) || timeScale <= 0) fail(`--time-scale must be a positive number, got "${rawScale}"`);

const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const out = (line: string) => process.stdout.write(`${line}\n`);
const bold = (text: string) => (color ? `\u001b[1m${text}\u001b[0m` : text);

let pipeline: LocalPipeline;
try {
  pipeline = await startPipeline({
    port,
    ...(args.values.dir ? { stateDir: args.values.dir } : {}),
    synth: args.values['no-synth'] ? 'never' : 'if-stale',
    timeScale,
    output: out,
    color,
    verbose: args.values.verbose === true,
  });
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

const here = (path: string) => relative(process.cwd(), path) || '.';
const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
out('');
out(`${bold('fastio-eventbridge local pipeline')} listening on ${bold(pipeline.url)} (ready in ${seconds} s)`);
out(`  webhook     POST ${pipeline.webhookUrl}`);
out(`  routes      ${pipeline.model.rules.map((rule) => `${rule.route} → ${rule.targets.map((t) => t.kind).join(', ')}`).join('; ')}`);
out(`  secret      ${here(pipeline.secretFile)}${pipeline.secretCreated ? ' (generated now)' : ''}`);
out(`  archive     ${here(pipeline.archive.file)}; function logs in ${here(`${pipeline.options.stateDir}/logs`)}/`);
out(`  recorder    ${here(pipeline.recorder.dir)}/dt=…/hour=…/ (every bus event, replays included; buffered ${pipeline.options.recorderBufferSeconds ?? RECORDER_BUFFER_SECONDS} AWS seconds as Firehose does)`);
out(`  control     ${pipeline.url}/_local/status  (dlq, replay, tables, faults)`);
if (timeScale !== 1) out(`  time        AWS waits divided by ${timeScale} (a 180 s visibility timeout lasts ${(180 / timeScale).toFixed(2)} s)`);
out('');
out(`Send a signed test webhook from a second terminal:`);
const dirPrefix = args.values.dir ? `FASTIO_LOCAL_DIR=${here(pipeline.options.stateDir)} ` : '';
out(`  ${dirPrefix}${OPS_COMMAND} send test/fixtures/payloads/document-uploaded.json --local`);
out(`Other payloads: ${here(`${PROJECT_ROOT}test/fixtures/payloads`)}/ (agent-file-created, large-video-uploaded, file-deleted, image-small)`);
out('');

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  out(`\n${signal}: stopping the local pipeline…`);
  await pipeline.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
