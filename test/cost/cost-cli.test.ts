/**
 * `npm run cost` as an operator runs it: the real command in a child process. Usage errors are one
 * line on stderr with exit code 2; a reader that stops early (`| head`) ends it quietly.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCost(args: readonly string[], options: { closeStdout?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'bin/cost.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Like `| head` that has read enough: the read end goes away before the report is written.
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('npm run cost, bad input', () => {
  it.each([
    { args: ['--bogus'], message: "error: Unknown option '--bogus'; usage: npm run cost -- [--events-per-month N] [--detail] [--json]" },
    { args: ['--events-per-month', '-5'], message: 'error: --events-per-month must be a non-negative integer, got "-5"' },
    { args: ['--events-per-month'], message: "error: Option '--events-per-month <value>' argument missing; usage: npm run cost -- [--events-per-month N] [--detail] [--json]" },
    { args: ['--events-per-month', '1e6'], message: 'error: --events-per-month must be a non-negative integer, got "1e6"' },
    { args: ['monthly'], message: "error: Unexpected argument 'monthly'; usage: npm run cost -- [--events-per-month N] [--detail] [--json]" },
  ])('$args: one line on stderr, exit 2, no report', async ({ args, message }) => {
    const run = await runCost(args);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([message]);
    expect(run.stdout).toBe('');
  }, 30_000);
});

describe('npm run cost --help', () => {
  it('prints the usage and every option on stdout and exits 0', async () => {
    const run = await runCost(['--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(lines(run.stdout)[0]).toBe('usage: npm run cost -- [--events-per-month N] [--detail] [--json]');
    for (const option of ['--events-per-month N', '--detail', '--json', '--help']) expect(run.stdout).toContain(`  ${option}`);
  }, 30_000);
});

describe('npm run cost, output closed early', () => {
  beforeAll(() => {
    // The report reads the synthesized templates; CI synthesizes before testing.
    if (!existsSync(`${ROOT}cdk.out/Ingest.template.json`)) execFileSync('npx', ['cdk', 'synth', '--quiet'], { cwd: ROOT, stdio: 'ignore' });
  }, 180_000);

  it('--detail | head: exits 0 without a word on stderr', async () => {
    const run = await runCost(['--detail'], { closeStdout: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  }, 30_000);
});
