/**
 * `npm run synth` ends every failure in one line and a non-zero exit, never a stack trace (issue 20
 * item 6, issue 21 item 2). Each case edits lib/route-table.ts in one scratch copy of the project
 * (bin, lib, lambdas and the config files; node_modules linked) and runs the real `npm run synth` there.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TABLE = 'lib/route-table.ts';
const ORIGINAL = readFileSync(join(ROOT, TABLE), 'utf8');
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'fastio-synth-errors-'));
  for (const entry of ['bin', 'lib', 'lambdas', 'package.json', 'package-lock.json', 'cdk.json', 'tsconfig.json']) {
    cpSync(join(ROOT, entry), join(scratch, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface SynthRun {
  readonly code: number;
  /** stderr, without blank lines. */
  readonly errorLines: string[];
  /** stdout, without npm's `> script` banner and blank lines. */
  readonly outputLines: string[];
}

/** Writes the route table and runs `npm run synth` in the scratch copy, VERBOSE unset. */
function synthWith(table: string): Promise<SynthRun> {
  writeFileSync(join(scratch, TABLE), table);
  const { VERBOSE: _verbose, ...env } = process.env;
  return new Promise((done) => {
    execFile('npm', ['run', 'synth'], { cwd: scratch, env, timeout: 300_000 }, (error, stdout, stderr) => {
      const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
      done({
        code: typeof error?.code === 'number' ? error.code : error ? 1 : 0,
        errorLines: lines(stderr),
        outputLines: lines(stdout).filter((line) => !line.startsWith('> ')),
      });
    });
  });
}

/** 1-based line and column of the first occurrence of `text` in `source`. */
function positionOf(source: string, text: string): string {
  const before = source.slice(0, source.indexOf(text));
  const lines = before.split('\n');
  return `${lines.length}:${(lines.at(-1)?.length ?? 0) + 1}`;
}

describe('npm run synth with a broken route table', () => {
  it('reports a type error as one line with file:line:col and the compiler message', async () => {
    // GIVEN a typo in a target kind
    const table = ORIGINAL.replace("kind: 'queue'", "kind: 'queu'");
    // WHEN synthesizing
    const run = await synthWith(table);
    // THEN one line, where the typo is, with the compiler's suggestion, and a non-zero exit
    expect(run.code).not.toBe(0);
    expect(run.errorLines).toEqual([expect.stringMatching(new RegExp(`^lib/route-table\\.ts:${positionOf(table, "kind: 'queu'").split(':')[0]}:\\d+: Type '"queu"' is not assignable to type .*Did you mean '"queue"'\\?`))]);
    expect(run.outputLines).toEqual([]);
  });

  it('reports a missing bracket as one line with file:line:col', async () => {
    // GIVEN the first target list without its closing bracket
    const table = ORIGINAL.replace(/(targets: \[\{[^\n]*\})\],/, '$1,');
    expect(table).not.toBe(ORIGINAL);
    const run = await synthWith(table);
    expect(run.code).not.toBe(0);
    expect(run.errorLines).toEqual([expect.stringMatching(/^lib\/route-table\.ts:\d+:\d+: .*expected\.( \(and \d+ more: npx tsc --noEmit lists them\))?$/)]);
    expect(run.outputLines).toEqual([]);
  });

  it('reports two routes whose generated names collide as one line naming both, not a construct stack trace', async () => {
    // GIVEN route partner + target target-eu and route partner-target + target eu, which both name RoutePartnerTargetTargetEu…
    const bus = (name: string, route: string, detailType: string) =>
      `  { name: '${route}', description: 'Partner feed.', pattern: { source: ['fastio'], 'detail-type': ['${detailType}'] }, ` +
      `targets: [{ kind: 'bus', name: '${name}', eventBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/partner' }], samples: { matching: [], notMatching: [] } },\n`;
    const table = ORIGINAL.replace(/\n\];\n/, `\n${bus('target-eu', 'partner', 'partner.a')}${bus('eu', 'partner-target', 'partner.b')}];\n`);
    expect(table).not.toBe(ORIGINAL);
    const run = await synthWith(table);
    expect(run.code).not.toBe(0);
    expect(run.errorLines).toHaveLength(1);
    expect(run.errorLines[0]).toMatch(/^error: .*partner.*target-eu.*partner-target.*eu/);
    expect(run.errorLines[0]).not.toMatch(/\bat \S+:\d+:\d+/);
  });
});
