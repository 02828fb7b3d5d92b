/**
 * `ops new consumer`: what it writes and prints, what it refuses (one line, exit 2, nothing
 * written), and that what it writes is a working consumer: generated into this checkout under
 * unique names, type-checked with the project's compiler options, its test run by vitest, removed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { PROJECT_ROOT, newConsumerCommand } from '../../lib/ops/new-consumer-command';
import { capture } from './support';

const run = async (argv: string[]) => {
  const captured = capture();
  const code = await runCli([newConsumerCommand], ['new', 'consumer', ...argv], captured.io);
  return { code, ...captured };
};

/** Every file below `dir`, relative to it. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'new-consumer-'));
  mkdirSync(join(root, 'lambdas', 'shared'), { recursive: true });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('new consumer: writes', () => {
  it.each([
    ['queue', 'defineQueueConsumer'],
    ['function', 'defineEventConsumer'],
  ])('a %s consumer: its handler on %s and its test, and prints the route to paste in the targets format', async (kind, helper) => {
    const { code, out, err } = await run(['thumbnails', '--kind', kind, '--root', root]);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(filesUnder(root)).toEqual(['lambdas/thumbnails/handler.ts', 'test/consumers/thumbnails.test.ts']);
    expect(readFileSync(join(root, 'lambdas/thumbnails/handler.ts'), 'utf8')).toContain(`export const handler = ${helper}(`);
    expect(readFileSync(join(root, 'test/consumers/thumbnails.test.ts'), 'utf8')).toContain("import { handler } from '../../lambdas/thumbnails/handler';");
    expect(out[0]).toBe('wrote lambdas/thumbnails/handler.ts and test/consumers/thumbnails.test.ts');
    const entry = out.slice(2).join('\n');
    expect(entry).toContain(`targets: [{ kind: '${kind}', consumer: 'thumbnails' }],`);
    expect(entry).toMatch(/^ {2}\{\n {4}name: 'thumbnails',\n {4}description: .*\n {4}pattern: \{ source: \['fastio'\]/);
    expect(entry).toMatch(/samples: \{\n\s+matching: \[.*\],\n\s+notMatching: \[[\s\S]*?\],\n\s+\},\n {2}\},$/);
  });
});

describe('new consumer --json', () => {
  it('GIVEN --json WHEN a consumer is written THEN stdout is one JSON document with the files and the route entry the text prints', async () => {
    const text = await run(['thumbnails', '--kind', 'queue', '--root', root]);
    rmSync(join(root, 'lambdas', 'thumbnails'), { recursive: true });
    rmSync(join(root, 'test'), { recursive: true });
    const { code, out, err } = await run(['thumbnails', '--kind', 'queue', '--root', root, '--json']);

    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(JSON.parse(out.join('\n'))).toEqual({
      name: 'thumbnails',
      kind: 'queue',
      wrote: ['lambdas/thumbnails/handler.ts', 'test/consumers/thumbnails.test.ts'],
      routeEntry: text.out.slice(2).join('\n'),
    });
  });
});

describe('new consumer: refuses, in one line, writing nothing', () => {
  it('to overwrite a consumer it wrote before (even one edited since)', async () => {
    await run(['thumbnails', '--kind', 'queue', '--root', root]);
    writeFileSync(join(root, 'lambdas/thumbnails/handler.ts'), '// my edits\n');

    const { code, out, err } = await run(['thumbnails', '--kind', 'function', '--root', root]);

    expect({ code, out, err }).toEqual({ code: 2, out: [], err: ['error: lambdas/thumbnails already exists; nothing was written (pick another name, or remove it first)'] });
    expect(readFileSync(join(root, 'lambdas/thumbnails/handler.ts'), 'utf8')).toBe('// my edits\n');
  });

  it('a name whose test file exists already', async () => {
    mkdirSync(join(root, 'test/consumers'), { recursive: true });
    writeFileSync(join(root, 'test/consumers/thumbnails.test.ts'), '// mine\n');

    const { code, err } = await run(['thumbnails', '--kind', 'queue', '--root', root]);

    expect({ code, err }).toEqual({ code: 2, err: ['error: test/consumers/thumbnails.test.ts already exists; nothing was written (pick another name, or remove it first)'] });
    expect(filesUnder(root)).toEqual(['test/consumers/thumbnails.test.ts']);
  });

  it('a name taken by a lambdas/ folder of this checkout (the default root)', async () => {
    const { code, err } = await run(['catalog-consumer', '--kind', 'queue']);

    expect({ code, err }).toEqual({ code: 2, err: ['error: lambdas/catalog-consumer already exists; nothing was written (pick another name, or remove it first)'] });
    expect(readdirSync(join(PROJECT_ROOT, 'lambdas', 'catalog-consumer'))).toEqual(['handler.ts']);
  });

  it.each(['Thumbnails', 'my_consumer', 'my--consumer', 'trailing-', '9lives', 'shared/x'])('a name that is not kebab-case: %s', async (name) => {
    const { code, err } = await run([name, '--kind', 'queue', '--root', root]);

    expect({ code, err }).toEqual({ code: 2, err: [`error: consumer name must be kebab-case (lower-case letters, digits, single hyphens; starting with a letter), got "${name}"`] });
    expect(filesUnder(root)).toEqual([]);
  });

  it('a name too long for the resource names built from it', async () => {
    const { code, err } = await run(['a'.repeat(41), '--kind', 'queue', '--root', root]);

    expect({ code, err }).toEqual({ code: 2, err: ['error: consumer name must be at most 40 characters (it names the function and its queues), got 41'] });
  });

  it.each([
    [['--kind', 'workflow'], 'error: --kind must be queue or function, got "workflow"'],
    [[], 'error: --kind is required'],
    [['--kind'], "error: Option '--kind <value>' argument missing; usage: npm run -s ops -- new consumer <name> --kind queue|function [--root <project dir>] [--json]"],
  ])('a missing or unknown kind: %j', async (kindArgs, line) => {
    const { code, err } = await run(['thumbnails', '--root', root, ...kindArgs]);

    expect({ code, err }).toEqual({ code: 2, err: [line] });
    expect(filesUnder(root)).toEqual([]);
  });

  it('a root that is not the project', async () => {
    const { code, err } = await run(['thumbnails', '--kind', 'queue', '--root', join(root, 'lambdas')]);

    expect({ code, err }).toEqual({ code: 2, err: [`error: ${join(root, 'lambdas')} is not the project: it has no lambdas/ folder`] });
  });
});

describe('new consumer: what it writes works', () => {
  /** Type errors in `files` under the project's own compiler options, one line each. */
  const typeErrors = (files: string[]): string[] => {
    const config = ts.getParsedCommandLineOfConfigFile(join(PROJECT_ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (config === undefined) throw new Error('cannot read tsconfig.json');
    const program = ts.createProgram(files, config.options);
    return ts
      .getPreEmitDiagnostics(program)
      .map((diagnostic) => `${diagnostic.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
  };

  it('the generated handlers and tests of both kinds compile, and their tests pass', async () => {
    // GIVEN a consumer of each kind generated into this checkout, under names nothing else uses
    const names = ['queue', 'function'].map((kind) => [`zz-generated-${process.pid}-${kind}`, kind] as const);
    const written = names.flatMap(([name]) => [join(PROJECT_ROOT, 'lambdas', name), join(PROJECT_ROOT, 'test', 'consumers', `${name}.test.ts`)]);
    try {
      for (const [name, kind] of names) expect((await run([name, '--kind', kind])).code).toBe(0);
      const files = names.flatMap(([name]) => [join(PROJECT_ROOT, 'lambdas', name, 'handler.ts'), join(PROJECT_ROOT, 'test', 'consumers', `${name}.test.ts`)]);

      // WHEN they are type-checked and their tests run
      const errors = typeErrors(files);
      const vitest = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'vitest'), ['run', ...names.map(([name]) => `test/consumers/${name}.test.ts`)], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      });

      // THEN both are clean and all four generated tests pass
      expect(errors).toEqual([]);
      expect(vitest.status, vitest.stdout + vitest.stderr).toBe(0);
      expect(vitest.stdout).toMatch(/Tests\s+4 passed \(4\)/);
    } finally {
      for (const path of written) rmSync(path, { recursive: true, force: true });
    }
    expect(written.filter((path) => existsSync(path))).toEqual([]);
  }, 180_000);
});
