/**
 * The CLI tells people to run it the way README does, `npm run -s ops -- …` (no npm banner), from
 * one constant: its usage lines, hints and next-step lines (issue 21).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { OPS_COMMAND, type CommandIo } from '../../lib/ops/command';
import { faultsCommands } from '../../lib/ops/faults-commands';
import { PROJECT_ROOT } from '../../lib/local/pipeline';

function capture(): { io: CommandIo; lines: string[] } {
  const lines: string[] = [];
  return { io: { out: (line) => lines.push(line), err: (line) => lines.push(line), interactive: false }, lines };
}

/** Every `npm run … ops --` command README shows, as written. */
function readmeOpsCommands(): string[] {
  return readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8').match(/npm run(?: -s)? ops --/g) ?? [];
}

describe('how the CLI names itself', () => {
  it('is the form README runs, npm run -s ops --', () => {
    // GIVEN README's commands
    const shown = readmeOpsCommands();
    expect(shown.length).toBeGreaterThan(0);
    // THEN each is the CLI's own form
    expect(new Set(shown)).toEqual(new Set([OPS_COMMAND]));
    expect(OPS_COMMAND).toBe('npm run -s ops --');
  });

  it('an unknown command points at help in that form', async () => {
    const { io, lines } = capture();
    expect(await runCli(faultsCommands, ['nope'], io)).toBe(2);
    expect(lines).toEqual([`error: unknown command "nope"; run "${OPS_COMMAND} help" for the list`]);
  });

  it('a usage error names the command in that form', async () => {
    const { io, lines } = capture();
    expect(await runCli(faultsCommands, ['faults', 'add', '--bogus'], io)).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`; usage: ${OPS_COMMAND.replace(/[-]/g, '\\-')} faults add `));
  });

  it('no code line under lib/ops or bin spells the banner form npm run ops --', () => {
    // GIVEN the CLI's sources and the entry points (comments aside: they may name the script)
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []));
    const offenders = [...files(join(PROJECT_ROOT, 'lib/ops')), ...files(join(PROJECT_ROOT, 'bin'))].flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\/\/|\*|\/\*\*)/.test(line) && /npm run ops --|'npm', 'run', 'ops'/.test(line))
        .map((line) => `${file}: ${line.trim()}`),
    );
    // THEN none does
    expect(offenders).toEqual([]);
  });
});
