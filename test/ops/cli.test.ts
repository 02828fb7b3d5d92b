import { describe, expect, it } from 'vitest';
import { describeError, joinNegativeValues, runCli } from '../../lib/ops/cli';
import { OperationFailed, UsageError, type CommandIo, type OpsCommand } from '../../lib/ops/command';

function capture(): { io: CommandIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false }, out, err };
}

const echo: OpsCommand = {
  path: ['echo', 'value'],
  summary: 'prints --value',
  usage: '--value <v>',
  options: { value: { type: 'string' } },
  async run({ options, io }) {
    if (options.value === 'usage') throw new UsageError('--value "usage" is not allowed');
    if (options.value === 'aws') throw new OperationFailed('the AWS call failed');
    if (options.value === 'bug') throw new TypeError('cannot read properties of undefined\n    at somewhere (file.ts:1:1)');
    io.out(String(options.value));
    return 0;
  },
};

describe('runCli', () => {
  it('runs the command its words select', async () => {
    const { io, out } = capture();
    expect(await runCli([echo], ['echo', 'value', '--value', 'x'], io)).toBe(0);
    expect(out).toEqual(['x']);
  });

  it('takes a negative value after a string option, as in --from -2h', async () => {
    const { io, out } = capture();
    expect(await runCli([echo], ['echo', 'value', '--value', '-2h'], io)).toBe(0);
    expect(out).toEqual(['-2h']);
  });

  it.each([
    [['nope'], 2, 'error: unknown command "nope"; run "npm run -s ops -- help" for the list'],
    [['echo', 'value', '--bogus'], 2, "error: Unknown option '--bogus'; usage: npm run -s ops -- echo value --value <v>"],
    [['echo', 'value', '--value'], 2, "error: Option '--value <value>' argument missing; usage: npm run -s ops -- echo value --value <v>"],
    [['echo', 'value', 'extra'], 2, 'error: usage: npm run -s ops -- echo value --value <v>'],
    [['echo', 'value', '--value', 'usage'], 2, 'error: --value "usage" is not allowed'],
    [['echo', 'value', '--value', 'aws'], 1, 'error: the AWS call failed'],
    [['echo', 'value', '--value', 'bug'], 1, 'error: TypeError: cannot read properties of undefined'],
  ])('answers %j with exit %i and one line', async (argv, code, line) => {
    const { io, err } = capture();
    expect(await runCli([echo], argv, io)).toBe(code);
    expect(err).toEqual([line]);
  });

  it('lists every command with its synopsis on help', async () => {
    const { io, out } = capture();
    expect(await runCli([echo], ['help'], io)).toBe(0);
    expect(out.join('\n')).toContain('  echo value --value <v>\n      prints --value');
  });
});

describe('joinNegativeValues', () => {
  it('joins only string options followed by a negative-looking value', () => {
    const options = { from: { type: 'string' as const }, wait: { type: 'boolean' as const } };
    expect(joinNegativeValues(['--from', '-2h', '--wait', '-3', 'x'], options)).toEqual(['--from=-2h', '--wait', '-3', 'x']);
  });

  it('joins a short option with its negative value under the long name, so -n -1 reaches the command', () => {
    const options = { n: { type: 'string' as const, short: 'n' } };
    expect(joinNegativeValues(['-n', '-1'], options)).toEqual(['--n=-1']);
  });
});

describe('command groups', () => {
  const list: OpsCommand = { ...echo, path: ['echo', 'list'], summary: 'lists' };

  it('names the subcommands of a group given alone, in one line', async () => {
    const { io, err } = capture();
    expect(await runCli([echo, list], ['echo'], io)).toBe(2);
    expect(err).toEqual(['error: "echo" needs a subcommand: echo value, echo list; run "npm run -s ops -- echo --help" for their options']);
  });

  it('prints the help of a group on --help', async () => {
    const { io, out } = capture();
    expect(await runCli([echo, list], ['echo', '--help'], io)).toBe(0);
    expect(out.join('\n')).toContain('  echo list --value <v>\n      lists');
  });
});

describe('describeError', () => {
  it('names missing credentials plainly', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(describeError(error)).toBe('no AWS credentials found (Could not load credentials from any providers)');
  });
});
