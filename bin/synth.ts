#!/usr/bin/env -S npx tsx
/**
 * `npm run synth`: `cdk synth --quiet` (arguments after `--` are passed on) with only what a user needs.
 * The CDK CLI 2.1148 has no option for these lines, so they are left out here:
 * - "Bundling asset <path>..." (aws-cdk-lib writes it for every function),
 * - "Supply a stack id (...) to display its template." (the CLI, whenever the app has several stacks),
 * - "<app command>: Subprocess exited with error 1" after the app's own one-line error (bin/app.ts).
 * Everything else (the app's error line, cdk-nag and schema findings, "Successfully synthesized to …")
 * is passed through; VERBOSE=1 passes everything. The exit code is the CLI's.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PROJECT_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const verbose = !['', '0', 'false'].includes((process.env.VERBOSE ?? '').trim().toLowerCase());

const NOISE = [/^Bundling asset \S+\.\.\.$/, /^Supply a stack id \(.*\) to display its template\.$/];
const SUBPROCESS_FAILED = /: Subprocess exited with error \d+$/;

const localCdk = resolve(PROJECT_ROOT, 'node_modules/.bin/cdk');
const [command, args] = existsSync(localCdk) ? [localCdk, ['synth', '--quiet']] : ['npx', ['cdk', 'synth', '--quiet']];
const child = spawn(command, [...args, ...process.argv.slice(2)], { cwd: PROJECT_ROOT, stdio: ['inherit', 'pipe', 'pipe'] });

let printedError = false;
/** Forwards a stream line by line, leaving out the noise; resolves when it ends. */
const forward = (from: NodeJS.ReadableStream, to: NodeJS.WriteStream, isStderr: boolean): Promise<void> =>
  new Promise((done) => {
    const lines = createInterface({ input: from, crlfDelay: Infinity });
    lines.on('line', (raw) => {
      // The CLI colours its own messages; match on the text.
      const line = raw.replace(/\u001b\[[0-9;]*m/g, '');
      if (!verbose) {
        if (NOISE.some((pattern) => pattern.test(line.trim()))) return;
        if (SUBPROCESS_FAILED.test(line) && printedError) return;
      }
      if (isStderr && line.trim() !== '') printedError = true;
      to.write(`${raw}\n`);
    });
    lines.on('close', done);
  });

const streams = Promise.all([forward(child.stdout, process.stdout, false), forward(child.stderr, process.stderr, true)]);
child.on('error', (error) => {
  process.stderr.write(`error: cannot run the CDK CLI: ${error.message}\n`);
  process.exit(1);
});
child.on('close', async (code, signal) => {
  await streams;
  process.exit(code ?? (signal ? 1 : 0));
});
