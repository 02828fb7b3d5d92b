/**
 * Every operator command, and the bench, run as real subprocesses with bad input: each answers with
 * exactly one line on stderr and exit code 2 (wrong input, nothing done) or 1 (the operation failed).
 *
 * AWS is an endpoint nobody listens on and the local pipeline a state directory with nothing in it,
 * so the failures are real ones and no AWS account is involved. Each process costs about a second
 * of tsx start-up, so they run a few at a time, once, before the assertions.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAYLOAD = 'test/fixtures/payloads/document-uploaded.json';
const EVENT = JSON.stringify({ id: '1', account: '123456789012', source: 'fastio', time: '2026-11-22T10:00:00Z', region: 'eu-west-1', 'detail-type': 'file.uploaded', detail: {} });
const PATTERN = '{"source":["fastio"]}';
/** Nothing listens on the discard port: every AWS call is refused at once. */
const DEAD_ENDPOINT = 'http://127.0.0.1:9';
const CONCURRENCY = 4;

interface Case {
  readonly argv: readonly string[];
  readonly code: 1 | 2;
  /** A part of the one stderr line that shows it is the right explanation. */
  readonly says: string;
  /** bin/ops.ts unless said otherwise. */
  readonly script?: 'bin/ops.ts' | 'bin/bench.ts' | 'bin/local.ts';
}

const cases: readonly Case[] = [
  // ---- the command line itself
  { argv: ['bogus'], code: 2, says: 'unknown command "bogus"' },
  { argv: ['dlq'], code: 2, says: '"dlq" needs a subcommand: dlq list, dlq peek, dlq redrive' },
  // ---- sign / send
  { argv: ['sign'], code: 2, says: 'usage: npm run -s ops -- sign <payload.json>' },
  { argv: ['sign', PAYLOAD, '--secret', 's', '--timestamp', '1700000000'], code: 2, says: '--timestamp does not apply with --scheme body-hmac' },
  { argv: ['send', PAYLOAD, '--url', 'http://127.0.0.1:9/x', '--local'], code: 2, says: '--url and --local are two destinations' },
  { argv: ['send', PAYLOAD, '--url', `${DEAD_ENDPOINT}/webhooks/fastio`, '--secret', 's', '--json'], code: 1, says: 'could not reach http://127.0.0.1:9' },
  { argv: ['send', PAYLOAD, '--local'], code: 1, says: 'no local signing secret' },
  // ---- replay
  { argv: ['replay', 'start', '--from', '-1h', '--to', '-30m'], code: 2, says: 'choose where replayed events go' },
  { argv: ['replay', 'start', '--from', '-1h', '--to', '-30m', '--route', 'documents', '--local', '--stage', 'prod'], code: 2, says: '--stage does not apply with --local' },
  { argv: ['replay', 'start', '--from', '-2h', '--to', '-1h', '--route', 'documents'], code: 1, says: 'cannot reach AWS (ECONNREFUSED' },
  { argv: ['replay', 'status', 'incident-1'], code: 1, says: 'cannot reach AWS (ECONNREFUSED' },
  { argv: ['replay', 'list', '--state', 'NOPE'], code: 2, says: '--state "NOPE" is invalid' },
  { argv: ['replay', 'cancel'], code: 2, says: 'usage: npm run -s ops -- replay cancel <name>' },
  { argv: ['replay', 'cancel', 'incident-1'], code: 1, says: 'cannot reach AWS (ECONNREFUSED' },
  { argv: ['replay', 'cancel', 'incident-1', '--local'], code: 2, says: 'there is no local replay cancel: the local pipeline re-sends all of a replay\'s events before `replay start --local` returns' },
  // ---- dlq
  { argv: ['dlq', 'list', '--local', '--depth-only'], code: 2, says: '--depth-only does not apply with --local' },
  { argv: ['dlq', 'list'], code: 1, says: 'cannot reach AWS (ECONNREFUSED' },
  { argv: ['dlq', 'list', '--local'], code: 1, says: 'no local pipeline is running: start it with `npm start` in another terminal (no ' },
  { argv: ['dlq', 'peek', 'documents/queue/buffer-dlq', '-n', '-1'], code: 2, says: '-n must be an integer from 1 to 100, got "-1"' },
  { argv: ['dlq', 'peek', 'documents/queue/buffer-dlq', '-n', 'abc'], code: 2, says: '-n must be an integer from 1 to 100, got "abc"' },
  { argv: ['dlq', 'peek', 'documents/queue/buffer-dlq'], code: 1, says: 'cannot reach AWS (ECONNREFUSED' },
  { argv: ['dlq', 'redrive', 'documents/nope'], code: 2, says: 'unknown queue "documents/nope"' },
  { argv: ['dlq', 'redrive', 'documents/queue/buffer-dlq', '--rate', '5', '--local'], code: 2, says: '--rate does not apply with --local' },
  { argv: ['dlq', 'redrive', 'agent-activity/function/on-failure', '--max', '1'], code: 1, says: 'cannot reach AWS (ECONNREFUSED' },
  // ---- pattern / routes
  { argv: ['pattern', 'test', '--pattern', PATTERN, '--json'], code: 2, says: '--event is required' },
  { argv: ['pattern', 'test', '--pattern', PATTERN, '--event', EVENT, '--live'], code: 1, says: 'cannot reach AWS (ECONNREFUSED' },
  { argv: ['routes', 'test', 'no-such-file.json'], code: 2, says: 'cannot read file no-such-file.json (ENOENT)' },
  // ---- faults
  { argv: ['faults', 'add', '--service', 'events'], code: 2, says: 'faults are injected into the pipeline `npm start` runs, not into AWS: add --local' },
  { argv: ['faults', 'list', '--local'], code: 1, says: 'no local pipeline is running' },
  { argv: ['faults', 'add', '--service', 'dynamodb', '--operation', 'Scan', '--table', 'catalog', '--local'], code: 2, says: 'the local dynamodb stand-in never fails Scan (the handlers do not call it); --operation must be one of GetItem, PutItem, UpdateItem, DeleteItem' },
  { argv: ['faults', 'add', '--service', 'sqs', '--table', 'catalog', '--local'], code: 2, says: '--table applies to --service dynamodb only, not sqs' },
  { argv: ['faults', 'add', '--service', 'dynamodb', '--route', 'documents', '--local'], code: 2, says: '--route applies to --service events only' },
  // ---- bench
  { script: 'bin/bench.ts', argv: ['--bogus'], code: 2, says: "Unknown option '--bogus'; usage: npm run bench" },
  { script: 'bin/bench.ts', argv: ['--only', 'ingest,nope'], code: 2, says: 'unknown section "nope"' },
  { script: 'bin/bench.ts', argv: ['--only'], code: 2, says: "Option '--only <value>' argument missing" },
  // ---- npm start: the mistake in one line, not followed by the whole usage
  { script: 'bin/local.ts', argv: ['--port', 'abc'], code: 2, says: '--port must be an integer from 0 to 65535, got "abc"; see npm start -- --help' },
  { script: 'bin/local.ts', argv: ['--bogus'], code: 2, says: "Unknown option '--bogus'" },
];

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let stateDir: string;
const outcomes = new Map<Case, Outcome>();

function run(entry: Case, env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry.script ?? 'bin/ops.ts', ...entry.argv], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ops-errors-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: stateDir,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIATESTTESTTESTTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret-access-key',
    AWS_CONFIG_FILE: join(stateDir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(stateDir, 'no-credentials'),
    AWS_ENDPOINT_URL: DEAD_ENDPOINT,
    AWS_MAX_ATTEMPTS: '1',
    FASTIO_LOCAL_DIR: stateDir,
  };
  const queue = [...cases];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) outcomes.set(next, await run(next, env));
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}, 300_000);

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('every command with bad input', () => {
  it.each(cases.map((entry) => [`${{ 'bin/bench.ts': 'bench', 'bin/local.ts': 'start', 'bin/ops.ts': 'ops' }[entry.script ?? 'bin/ops.ts']} ${entry.argv.join(' ')}`, entry] as const))(
    '%s: one line on stderr, right exit code',
    (_name, entry) => {
      const outcome = outcomes.get(entry);
      const lines = outcome?.stderr.split('\n').filter((line, index, all) => line !== '' || index < all.length - 1);
      expect(lines).toHaveLength(1);
      expect(lines?.[0]).toMatch(/^error: /);
      expect(lines?.[0]).toContain(entry.says);
      expect(outcome?.code).toBe(entry.code);
    },
  );
});
