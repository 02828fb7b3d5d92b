#!/usr/bin/env -S npx tsx
/**
 * The operator CLI: `npm run ops -- <command>`. Every command lives in lib/ops/ and is listed here.
 */
import { runCli } from '../lib/ops/cli';
import type { OpsCommand } from '../lib/ops/command';
import { dlqCommands } from '../lib/ops/dlq-commands';
import { faultsCommands } from '../lib/ops/faults-commands';
import { newConsumerCommand } from '../lib/ops/new-consumer-command';
import { patternCommands } from '../lib/ops/pattern-commands';
import { receiveCommand } from '../lib/ops/receive-command';
import { reconcileCommand } from '../lib/ops/reconcile-command';
import { replayCommands } from '../lib/ops/replay-commands';
import { secretCommands } from '../lib/ops/secret-commands';
import { sendCommand, signCommand } from '../lib/ops/sign-command';
import { traceCommand } from '../lib/ops/trace-command';

// The AWS SDK warns once per process, in nine lines, that its releases after January 2027 need
// Node 22; README's "Node.js versions" says what that means here. Only that notice is switched off
// (through the SDK's own variable, unless the operator set it): every other warning still prints.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const commands: OpsCommand[] = [
  // Each command module exports its OpsCommand objects; register them in this list.
  signCommand,
  sendCommand,
  receiveCommand,
  ...replayCommands,
  ...dlqCommands,
  ...patternCommands,
  ...faultsCommands,
  ...secretCommands,
  newConsumerCommand,
  traceCommand,
  reconcileCommand,
];

const exitCode = await runCli(commands, process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stderr.isTTY === true,
});
process.exitCode = exitCode;
