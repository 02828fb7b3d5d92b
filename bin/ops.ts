#!/usr/bin/env -S npx tsx
/**
 * The operator CLI: `npm run ops -- <command>`. Every command lives in lib/ops/ and is listed here.
 */
import { runCli } from '../lib/ops/cli';
import type { OpsCommand } from '../lib/ops/command';
import { dlqCommands } from '../lib/ops/dlq-commands';
import { patternCommands } from '../lib/ops/pattern-commands';
import { replayCommands } from '../lib/ops/replay-commands';
import { secretCommands } from '../lib/ops/secret-commands';
import { sendCommand, signCommand } from '../lib/ops/sign-command';

const commands: OpsCommand[] = [
  // Each command module exports its OpsCommand objects; register them in this list.
  signCommand,
  sendCommand,
  ...replayCommands,
  ...dlqCommands,
  ...patternCommands,
  ...secretCommands,
];

const exitCode = await runCli(commands, process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stderr.isTTY === true,
});
process.exitCode = exitCode;
