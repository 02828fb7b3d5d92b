/**
 * The route change as README's "Changing a route safely" tells a newcomer to make it, in a scratch copy
 * of this checkout (no node_modules, cdk.out or .git; node_modules linked): scaffold a consumer, paste
 * the printed entry, `npm run test:routes`. And the mistakes that must stop `npm run synth` and
 * `npm start` with one line: an unknown config key, a half-set Slack pair.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../lib/ops/new-consumer-command';

const LEFT_OUT = new Set(['node_modules', 'cdk.out', '.git', '.local']);
const copies: string[] = [];

function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'route-change-'));
  copies.push(dir);
  cpSync(PROJECT_ROOT, dir, { recursive: true, filter: (source) => !LEFT_OUT.has(source.slice(PROJECT_ROOT.length).split('/')[0] ?? '') });
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const run = (cwd: string, command: string, args: string[], timeout = 180_000) =>
  spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' } });

/** Pastes `entry` as the last route of routeTable, where README says to put it. */
function pasteRoute(dir: string, entry: string): void {
  const file = join(dir, 'lib', 'route-table.ts');
  const source = readFileSync(file, 'utf8');
  const end = source.indexOf('\n];', source.indexOf('export const routeTable'));
  writeFileSync(file, `${source.slice(0, end)}\n${entry}${source.slice(end)}`);
}

afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a route change, start to finish', () => {
  it('ops new consumer, paste the printed entry: npm run test:routes passes with no other edit', () => {
    // GIVEN a fresh copy and a queue consumer scaffolded into it
    const dir = scratchCopy();
    const scaffold = run(dir, 'npx', ['tsx', 'bin/ops.ts', 'new', 'consumer', 'my-consumer', '--kind', 'queue']);
    expect(scaffold.status, scaffold.stderr).toBe(0);
    const lines = scaffold.stdout.trimEnd().split('\n');
    expect(lines[1]).toContain('npm run test:routes');
    pasteRoute(dir, lines.slice(2).join('\n'));

    // WHEN the route-change tests run
    const started = Date.now();
    const tests = run(dir, 'npm', ['run', '-s', 'test:routes'], 300_000);
    const seconds = (Date.now() - started) / 1000;

    // THEN they pass, the new consumer's own test among them. The time is a figure, printed, not an
    // assertion: a timed test fails on a loaded machine and proves nothing on an idle one.
    console.log(`route change: npm run test:routes passed in ${seconds.toFixed(1)} s`);
    expect(tests.status, tests.stdout.slice(-3000) + tests.stderr.slice(-2000)).toBe(0);
    expect(tests.stdout).toContain('test/consumers/my-consumer.test.ts');
    expect(tests.stdout).toContain('test/routes/route-table.test.ts');
  });
});

describe('config mistakes stop synth and npm start', () => {
  const cdkSynth = (dir: string, ...context: string[]) =>
    run(dir, join(dir, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', join(dir, 'scratch.out'), ...context.flatMap((pair) => ['-c', pair])]);

  it.each([
    [['stgae=prod'], /^error: config stgae="prod": unknown key; the known keys are .*\bstage\b/m],
    [['slackWebhookUrl=https://hooks.slack.com/services/T000/B000/XXXX'], /^error: config slackWebhookUrl is set but slackWebhookSecretArn is not: route "video-uploads" target "slack" needs slackWebhookUrl and slackWebhookSecretArn together/m],
  ])('cdk synth -c %j fails with the config line', (context, line) => {
    const dir = scratchCopy();
    const synth = cdkSynth(dir, ...context);
    expect(synth.status).not.toBe(0);
    expect(synth.stderr).toMatch(line);
  });

  it('npm start refuses to start (exit 1, one line) when synth fails, though a previous cdk.out exists', () => {
    // GIVEN a previous cloud assembly, then an unknown key added to cdk.json
    const dir = scratchCopy();
    cpSync(join(PROJECT_ROOT, 'cdk.out'), join(dir, 'cdk.out'), { recursive: true, filter: (source) => !source.includes('/asset.') });
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(join(dir, 'cdk.out', 'manifest.json'), past, past);
    const cdkJson = JSON.parse(readFileSync(join(dir, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
    cdkJson.context.stgae = 'prod';
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify(cdkJson, null, 2));

    // WHEN npm start runs
    const start = run(dir, 'npx', ['tsx', 'bin/local.ts', '--port', '0', '--dir', join(dir, '.local')], 300_000);

    // THEN it names the mistake in one line and never runs the old assembly
    expect(start.status).toBe(1);
    expect(start.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: cdk synth failed: config stgae="prod": unknown key; the known keys are .* \(`npm start -- --no-synth` runs the previous cdk.out as it is\)$/)]);
    expect(start.stdout).not.toContain('listening on');
  });
});
