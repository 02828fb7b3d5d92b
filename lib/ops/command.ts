import type { ParseArgsConfig } from 'node:util';

/** Bad input from the operator: exit code 2, one line, no AWS call made. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure on the AWS side (or of the local pipeline) after the input was accepted: exit code 1. */
export class OperationFailed extends Error {
  override readonly name = 'OperationFailed';
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Where a command writes: injected so tests capture output and the CLI stays free of globals. */
export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** True when stderr is a terminal, so progress bars redraw in place instead of printing lines. */
  readonly interactive: boolean;
}

export interface CommandInput {
  readonly positionals: string[];
  readonly options: OptionValues;
  readonly io: CommandIo;
}

export interface OpsCommand {
  /** Words that select the command, e.g. ['replay', 'start']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** One line of synopsis after the command words, e.g. '--from <time> --to <time>'. */
  readonly usage: string;
  readonly options: OptionSpec;
  /** Inclusive bounds on positional arguments. */
  readonly positionals?: { readonly min: number; readonly max: number };
  /** Resolves to the process exit code. */
  run(input: CommandInput): Promise<number>;
}

/** How the operator writes an option: `-n` for a one-letter name, `--stage` otherwise. */
export function flag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`${flag(name)} needs a value`);
  return value;
}

/**
 * Refuses options that mean nothing in the mode `when` selects (e.g. --stage with --local),
 * instead of ignoring them: an operator who typed one expected it to do something.
 */
export function refuseOptions(options: OptionValues, names: readonly string[], when: string, why: string): void {
  const given = names.filter((name) => options[name] !== undefined);
  if (given.length === 0) return;
  const list = given.map(flag).join(' and ');
  throw new UsageError(`${list} ${given.length === 1 ? 'does' : 'do'} not apply with ${when}: ${why}`);
}

export function requiredStringOption(options: OptionValues, name: string): string {
  const value = stringOption(options, name);
  if (value === undefined || value === '') throw new UsageError(`${flag(name)} is required`);
  return value;
}

export function stringListOption(options: OptionValues, name: string): string[] {
  const value = options[name];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item !== 'string') throw new UsageError(`${flag(name)} needs a value`);
    return item;
  });
}

export function integerOption(options: OptionValues, name: string, bounds: { min: number; max: number }): number | undefined {
  const raw = stringOption(options, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new UsageError(`${flag(name)} must be an integer from ${bounds.min} to ${bounds.max}, got "${raw}"`);
  }
  return value;
}

/** A message's receive count in words: `not received yet`, `received once`, `received 3 times` (never `received 0x`). */
export function receivedTimes(count: number): string {
  if (count <= 0) return 'not received yet';
  return count === 1 ? 'received once' : `received ${count} times`;
}

export { OPS_COMMAND } from '../domain/resource-names';
