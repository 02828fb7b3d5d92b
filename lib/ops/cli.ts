import { parseArgs } from 'node:util';
import { OPS_COMMAND, OperationFailed, UsageError, type CommandIo, type OpsCommand, type OptionSpec } from './command';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

function findCommand(commands: readonly OpsCommand[], argv: readonly string[]): OpsCommand | undefined {
  // Longest path first, so 'replay start' wins over a hypothetical 'replay'.
  const byDepth = [...commands].sort((a, b) => b.path.length - a.path.length);
  return byDepth.find((command) => command.path.every((word, index) => argv[index] === word));
}

function helpText(commands: readonly OpsCommand[]): string {
  const lines = commands.flatMap((command) => [`  ${[...command.path, command.usage].join(' ')}`, `      ${command.summary}`]);
  return [`usage: ${OPS_COMMAND} <command> [options]`, '', 'commands:', ...lines].join('\n');
}

/** The commands under a group word such as 'dlq', for `ops dlq` alone. */
function groupCommands(commands: readonly OpsCommand[], word: string | undefined): OpsCommand[] {
  return commands.filter((command) => command.path.length > 1 && command.path[0] === word);
}

/** The option an argument names: `--from` or its short form `-n`. */
function optionNamed(arg: string, options: OptionSpec): string | undefined {
  if (arg.startsWith('--')) return arg.slice(2);
  if (/^-[A-Za-z]$/.test(arg)) return Object.entries(options).find(([, spec]) => spec.short === arg.slice(1))?.[0];
  return undefined;
}

/**
 * `--from -2h` reads naturally, but parseArgs takes any value starting with '-' for an option.
 * Join a string option (long, or short as in `-n -1`) with a following negative value (a relative
 * time or number) into `--from=-2h`, so the command's own check explains what is wrong with it.
 */
export function joinNegativeValues(args: readonly string[], options: OptionSpec): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    const next = args[index + 1];
    const name = optionNamed(arg, options);
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`--${name}=${next}`);
      index += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/**
 * Explains any error in one line. AWS SDK errors carry a name such as AccessDeniedException or
 * CredentialsProviderError; the message alone is often ambiguous without it.
 */
export function describeError(error: unknown): string {
  if (error instanceof UsageError || error instanceof OperationFailed) return error.message;
  if (error instanceof Error) {
    const firstLine = error.message.split('\n')[0] ?? '';
    if (error.name === 'CredentialsProviderError') return `no AWS credentials found (${firstLine})`;
    return error.name && error.name !== 'Error' ? `${error.name}: ${firstLine}` : firstLine;
  }
  return String(error);
}

/**
 * What node:util parseArgs said, as one clause: its first line, first sentence (some of its
 * messages run over three lines). The ops CLI, bench and cost all answer bad arguments with it.
 */
export function parseArgsProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').split('. ')[0] ?? '';
}

function isParseArgsError(error: unknown): error is TypeError {
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/** Runs one CLI invocation and returns its exit code; never throws. */
export async function runCli(commands: readonly OpsCommand[], argv: readonly string[], io: CommandIo): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    io.out(helpText(commands));
    return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  const command = findCommand(commands, argv);
  const group = groupCommands(commands, argv[0]);
  if (!command && group.length > 0) {
    const words = group.map((candidate) => candidate.path.join(' ')).join(', ');
    if (argv[1] === 'help' || argv[1] === '--help' || argv[1] === '-h') {
      io.out(helpText(group));
      return EXIT_OK;
    }
    const what = argv.length > 1 && !argv[1]?.startsWith('-') ? `unknown command "${argv.slice(0, 2).join(' ')}"` : `"${argv[0]}" needs a subcommand`;
    io.err(`error: ${what}: ${words}; run "${OPS_COMMAND} ${argv[0]} --help" for their options`);
    return EXIT_USAGE;
  }
  if (!command) {
    io.err(`error: unknown command "${argv.slice(0, 2).join(' ')}"; run "${OPS_COMMAND} help" for the list`);
    return EXIT_USAGE;
  }
  try {
    const parsed = parseArgs({
      args: joinNegativeValues(argv.slice(command.path.length), command.options),
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help === true) {
      io.out(`usage: ${OPS_COMMAND} ${[...command.path, command.usage].join(' ')}\n${command.summary}`);
      return EXIT_OK;
    }
    const bounds = command.positionals ?? { min: 0, max: 0 };
    if (parsed.positionals.length < bounds.min || parsed.positionals.length > bounds.max) {
      throw new UsageError(`usage: ${OPS_COMMAND} ${[...command.path, command.usage].join(' ')}`);
    }
    return await command.run({ positionals: parsed.positionals, options: parsed.values, io });
  } catch (error) {
    if (isParseArgsError(error)) {
      // Node's own wording, plus where to look.
      io.err(`error: ${parseArgsProblem(error)}; usage: ${OPS_COMMAND} ${[...command.path, command.usage].join(' ')}`);
      return EXIT_USAGE;
    }
    io.err(`error: ${describeError(error)}`);
    return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  }
}
