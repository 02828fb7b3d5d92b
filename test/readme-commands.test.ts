/**
 * Every command README.md shows must work, so README cannot drift from the code. Commands come from
 * its ```bash blocks and from inline code that starts with a project command; each is checked as far
 * as this machine can without AWS:
 * - `npx cdk deploy|diff|destroy <stacks>`: the stacks are in `npx cdk ls` (run for real);
 * - `npm run -s ops -- …` (or without -s): the subcommand exists and accepts every flag (`--help` appended); commands
 *   in bash blocks are also run for real with AWS and the local pipeline unreachable, so their
 *   arguments pass all local validation (exit 1 from the unreachable endpoint, never 2); `new consumer`
 *   writes into a scratch project, never into this checkout;
 * - `aws cloudformation describe-stacks`: the stack exists and the queried OutputKey is an output of
 *   its synthesized template; every aws command's operation and options are in the table below;
 * - `npm run <script>`, `npm start|test|ci`, `bash <file>`: the script or file exists;
 *   anything else: the program is on PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quiesce } from '../lib/local/load-driver';
import { stackTemplateFile } from '../lib/synthesized-template';
import { startTestPipeline, TEST_TIME_SCALE } from './local/support';
import { ASYNC_INVOKE_MAX_EVENT_AGE_MS, BUFFER_VISIBILITY_TIMEOUT_MS, LOG_LAG_MS, longestHorizonMs, TARGET_MAX_EVENT_AGE_MS, WORKFLOW_TIMEOUT_MS } from '../lib/recorder/horizon';
import { MAX_RECEIVE_COUNT } from '../lib/domain/max-receive-count';
import { RECONCILE_EXIT, TARGET_STATUSES } from '../lib/recorder/reconcile';
import { trackedTargets } from '../lib/recorder/sources';
import { routeTable, type RouteTarget } from '../lib/route-table';
import { defaultReplayPolicy } from '../lib/domain/route-types';
import { HTTP_DRILL } from './local/http-drill-setup';

const ROOT = new URL('..', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

interface ReadmeCommand {
  /** The words, shell quoting removed. */
  readonly words: string[];
  /** As written, for messages. */
  readonly text: string;
  /** From a bash block (complete, runnable) or inline code (may hold <placeholders>). */
  readonly source: 'block' | 'inline';
}

/** Shell words of one line: quotes removed, an unquoted # starts a comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i] as string;
    if (char === "'" || char === '"') {
      const end = line.indexOf(char, i + 1);
      if (end < 0) throw new Error(`unbalanced quote in README command: ${line}`);
      current = (current ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(char)) {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else if (char === '#' && current === undefined) {
      break;
    } else {
      current = (current ?? '') + char;
    }
  }
  if (current !== undefined) words.push(current);
  return words;
}

/** `X=$(cmd …)` is the command inside; `a && b` are two commands. */
function commandsOfLine(line: string): string[] {
  const substitution = /^\s*[A-Za-z_][A-Za-z0-9_]*=\$\((.*)\)\s*$/.exec(line);
  return (substitution ? (substitution[1] as string) : line).split(/\s&&\s/);
}

const PROJECT_PREFIXES = ['npm ', 'npx ', 'aws ', 'bash '];

function readmeCommands(opsWords: ReadonlySet<string>): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  const add = (text: string, source: ReadmeCommand['source']) => {
    for (const part of commandsOfLine(text)) {
      const words = shellWords(part);
      if (words.length > 0) commands.push({ words, text: part.trim(), source });
    }
  };
  const outsideBlocks = README.replace(/```bash\n([\s\S]*?)```/g, (_, body: string) => {
    for (const line of body.replace(/\\\n\s*/g, ' ').split('\n')) add(line, 'block');
    return '';
  }).replace(/```[\s\S]*?```/g, '');
  for (const match of outsideBlocks.matchAll(/`([^`\n]+)`/g)) {
    const span = match[1] as string;
    const first = span.split(' ')[0] ?? '';
    // `dlq peek <queue>` in prose is an ops command without its `npm run ops --` prefix.
    if (PROJECT_PREFIXES.some((prefix) => span.startsWith(prefix))) add(span, 'inline');
    else if (opsWords.has(first) && span.includes(' ')) add(`npm run -s ops -- ${span}`, 'inline');
  }
  return commands;
}

// ---- the operator CLI, in this process: bin/ops.ts as it is, whatever it registers -------------

let runs = 0;
async function runOps(argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  const argvBefore = process.argv;
  process.argv = [process.argv[0] as string, 'bin/ops.ts', ...argv];
  try {
    runs += 1;
    // A fresh evaluation of the entry point per run; everything it imports stays cached.
    await import(/* @vite-ignore */ `${new URL('../bin/ops.ts', import.meta.url).href}?run=${runs}`);
    return { code: Number(process.exitCode ?? 0), out: out.join(''), err: err.join('') };
  } finally {
    process.exitCode = undefined;
    process.argv = argvBefore;
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

// ---- aws CLI operations README may use, with their options (AWS CLI reference) --------------------

const AWS_GLOBAL_OPTIONS = ['--query', '--output', '--region', '--profile', '--endpoint-url', '--no-cli-pager'];
const AWS_OPERATIONS: Record<string, readonly string[]> = {
  'sts get-caller-identity': [],
  'cloudformation describe-stacks': ['--stack-name'],
  'secretsmanager create-secret': ['--name', '--secret-string', '--secret-binary', '--description', '--kms-key-id', '--tags'],
  'secretsmanager put-secret-value': ['--secret-id', '--secret-string', '--secret-binary', '--client-request-token', '--version-stages'],
  'events test-event-pattern': ['--event-pattern', '--event'],
  'events put-permission': ['--event-bus-name', '--action', '--principal', '--statement-id', '--condition', '--policy'],
  'iam attach-user-policy': ['--user-name', '--policy-arn'],
  'iam attach-role-policy': ['--role-name', '--policy-arn'],
  'iam attach-group-policy': ['--group-name', '--policy-arn'],
};

const CDK_SUBCOMMANDS = ['bootstrap', 'deploy', 'diff', 'destroy', 'ls', 'list', 'synth'];

function withoutPlaceholders(word: string): string {
  // `<stage>` in prose, `$STAGE` in blocks (README's deploy section sets it first).
  return word.replace(/<stage>|\$\{?STAGE\}?/g, 'dev');
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** `-c key=value` pairs of a cdk command, which select what `cdk ls` must list. */
function cdkContext(words: readonly string[]): string[] {
  const context: string[] = [];
  words.forEach((word, i) => {
    if ((word === '-c' || word === '--context') && words[i + 1]) context.push('-c', words[i + 1] as string);
  });
  return context;
}

let lsDir: string;
const listed = new Map<string, string[]>();
function cdkLs(context: readonly string[]): string[] {
  const key = context.join(' ');
  const cached = listed.get(key);
  if (cached) return cached;
  // Into a scratch directory: other tests read cdk.out while this one runs.
  const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'cdk'), ['ls', '--output', join(lsDir, String(listed.size)), ...context], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  if (result.status !== 0) throw new Error(`npx cdk ls ${key} failed:\n${result.stderr}`);
  const stacks = result.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  listed.set(key, stacks);
  return stacks;
}

function outputKeysOf(stackName: string): Set<string> {
  cdkLs([]);
  const role = /-fastio-(stateful|ingest|routing|monitoring)$/.exec(stackName)?.[1] as 'stateful' | 'ingest' | 'routing' | 'monitoring' | undefined;
  const file = role === undefined ? undefined : stackTemplateFile(join(lsDir, '0'), role);
  if (file === undefined) return new Set();
  return new Set(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { Outputs?: Record<string, unknown> }).Outputs ?? {}));
}

/** README's `--value-file <f>` names the operator's own file; the dry run gets one with a sample value. */
function withScratchValueFiles(argv: readonly string[]): string[] {
  return argv.map((word, i) => {
    if (argv[i - 1] !== '--value-file' || word === '-') return word;
    const file = join(lsDir, basename(word));
    writeFileSync(file, 'readme-sample-signing-secret\n');
    return file;
  });
}

/** `new consumer` writes a handler and a test: the dry run writes them into a scratch project, never into this checkout. */
function withScratchProject(argv: readonly string[]): string[] {
  if (argv[0] !== 'new' || argv[1] !== 'consumer') return [...argv];
  const project = join(lsDir, 'project');
  mkdirSync(join(project, 'lambdas'), { recursive: true });
  return [...argv, '--root', project];
}

/** Problems with one command, empty when it checks out. */
async function problems(command: ReadmeCommand): Promise<string[]> {
  const [program, ...args] = command.words.map(withoutPlaceholders) as [string, ...string[]];
  const found: string[] = [];
  // A shell variable set for the commands after it (`STAGE=dev`).
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(program) && args.length === 0) return [];
  if (program === 'npm') {
    // `npm run -s ops`: -s (--silent) only drops npm's banner.
    const [verb, script, separator, ...rest] = args.filter((word, index) => index !== 1 || (word !== '-s' && word !== '--silent'));
    if (verb === 'ci') return existsSync(join(ROOT, 'package-lock.json')) ? [] : ['npm ci needs package-lock.json'];
    if (verb === 'start' || verb === 'test') return PACKAGE.scripts[verb] ? [] : [`package.json has no "${verb}" script`];
    if (verb !== 'run' || script === undefined) return [`unsupported npm command`];
    if (!PACKAGE.scripts[script]) return [`package.json has no "${script}" script`];
    if (script !== 'ops' || separator === undefined) return [];
    if (separator !== '--') return ['ops arguments must follow --'];
    // `npm run ops -- <command>` in prose names no command.
    if (rest[0]?.startsWith('<')) return [];
    const help = await runOps([...rest, '--help']);
    if (help.code !== 0) return [`ops rejects it: ${help.err.trim() || help.out.trim()}`];
    if (command.source === 'block') {
      const dry = await runOps(withScratchProject(withScratchValueFiles(rest)));
      if (dry.code !== 0 && dry.code !== 1) found.push(`ops exits ${dry.code} with AWS unreachable: ${dry.err.trim()}`);
    }
    return found;
  }
  if (program === 'npx') {
    const [tool, subcommand, ...rest] = args;
    if (tool !== 'cdk') return onPath('npx') ? [] : ['npx is not installed'];
    if (subcommand === undefined) return [];
    if (!CDK_SUBCOMMANDS.includes(subcommand ?? '')) return [`unknown cdk subcommand ${subcommand ?? ''}`];
    if (!['deploy', 'diff', 'destroy'].includes(subcommand ?? '')) return [];
    const stacks = rest.filter((word, i) => !word.startsWith('-') && !['-c', '--context'].includes(rest[i - 1] ?? ''));
    if (stacks.length === 0 && !rest.includes('--all')) return ['names no stack and no --all'];
    const known = cdkLs(cdkContext(rest));
    return stacks.filter((stack) => !known.includes(stack)).map((stack) => `no stack ${stack} (cdk ls: ${known.join(', ')})`);
  }
  if (program === 'aws') {
    const operation = `${args[0] ?? ''} ${args[1] ?? ''}`;
    const allowed = AWS_OPERATIONS[operation];
    if (allowed === undefined) return [`aws ${operation} is not in this test's table: check it in the AWS CLI reference and add it`];
    for (const word of args.slice(2)) {
      if (word.startsWith('--') && !allowed.includes(word) && !AWS_GLOBAL_OPTIONS.includes(word)) found.push(`aws ${operation} has no option ${word}`);
    }
    if (operation === 'cloudformation describe-stacks') {
      const stack = args[args.indexOf('--stack-name') + 1] ?? '';
      if (!cdkLs([]).includes(stack)) found.push(`no stack ${stack}`);
      const query = args[args.indexOf('--query') + 1] ?? '';
      for (const match of query.matchAll(/OutputKey==`?'?([A-Za-z0-9]+)/g)) {
        if (!outputKeysOf(stack).has(match[1] as string)) found.push(`stack ${stack} has no output ${match[1] as string}`);
      }
    }
    return found;
  }
  if (program === 'bash') return existsSync(join(ROOT, args[0] ?? '')) ? [] : [`no file ${args[0] ?? ''}`];
  return onPath(program) ? [] : [`${program} is not installed`];
}

// ---- the test --------------------------------------------------------------------------------------

let commands: ReadmeCommand[];

beforeAll(async () => {
  lsDir = mkdtempSync(join(tmpdir(), 'readme-cdk-ls-'));
  const help = await runOps(['help']);
  const opsWords = new Set([...help.out.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((match) => match[1] as string));
  commands = readmeCommands(opsWords);
  // Real runs must never reach AWS or somebody's local pipeline.
  vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:9');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDREADME');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'readme');
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_PROFILE', '');
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
  vi.stubEnv('FASTIO_LOCAL_DIR', join(lsDir, 'no-local-pipeline'));
}, 60_000);

afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(lsDir, { recursive: true, force: true });
});

describe('README commands', () => {
  it('are found: every bash block line and every inline project command', () => {
    expect(commands.filter((command) => command.source === 'block').length).toBeGreaterThan(10);
    const texts = commands.map((command) => command.text);
    for (const start of ['npm run -s ops -- dlq peek', 'npm run -s ops -- replay start', 'npm run -s ops -- new consumer', 'npx cdk deploy --all', 'npx cdk deploy <stage>-fastio-routing', 'aws cloudformation describe-stacks']) {
      expect(texts.some((text) => text.startsWith(start)), start).toBe(true);
    }
  });

  it('run ops as `npm run -s ops`, so npm prints no banner above the output', () => {
    const banner = commands.filter((command) => /^npm run ops --/.test(command.text)).map((command) => command.text);
    expect(banner).toEqual([]);
  });

  it('all work: stacks, output keys, ops subcommands, flags and arguments exist', async () => {
    const report: string[] = [];
    for (const command of commands) {
      for (const problem of await problems(command)) report.push(`${command.text}: ${problem}`);
    }
    expect(report).toEqual([]);
    // `new consumer` ran for real, into the scratch project only.
    expect(existsSync(join(lsDir, 'project', 'lambdas', 'my-consumer', 'handler.ts'))).toBe(true);
    expect(existsSync(join(ROOT, 'lambdas', 'my-consumer'))).toBe(false);
  }, 300_000);

  it('a drifted command fails the check', async () => {
    const drifted = (text: string): ReadmeCommand => ({ text, words: shellWords(text), source: 'block' });
    expect(await problems(drifted('npx cdk deploy Routing'))).toEqual([expect.stringContaining('no stack Routing')]);
    expect(await problems(drifted('npm run ops -- dlq peek documents/queue/buffer-dlq --count 5'))).toEqual([expect.stringContaining('ops rejects it')]);
    expect(await problems(drifted('npm run ops -- dlq drain documents/queue/buffer-dlq'))).toEqual([expect.stringContaining('ops rejects it')]);
    expect(await problems(drifted('npm run ops -- dlq peek documents/nope'))).toEqual([expect.stringContaining('ops exits 2')]);
    expect(await problems(drifted(`aws cloudformation describe-stacks --stack-name dev-fastio-ingest --query "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue"`))).toEqual([
      'stack dev-fastio-ingest has no output ApiUrl',
    ]);
    expect(await problems(drifted('aws secretsmanager put-secret-value --secret-arn x'))).toEqual(['aws secretsmanager put-secret-value has no option --secret-arn']);
  }, 120_000);
});

/** The `npm run -s ops -- …` lines of a README section's bash blocks, as argument lists. */
function sectionOpsCommands(heading: string): string[][] {
  const start = README.indexOf(`\n### ${heading}\n`);
  const rest = README.slice(start + 1);
  const end = rest.slice(1).search(/\n##+ /);
  const section = end < 0 ? rest : rest.slice(0, end + 1);
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].flatMap((match) =>
    (match[1] as string)
      .split('\n')
      .filter((line) => line.startsWith('npm run -s ops -- '))
      .map((line) => shellWords(line).slice(5)),
  );
}

describe('README: incident drill', () => {
  it('runs in order against a local pipeline: reconcile finds the dead letters and the purged event (exit 1), --recover ends clean (exit 0)', async () => {
    const commands = sectionOpsCommands('Incident drill');
    expect(commands.map((argv) => argv.slice(0, 2).join(' '))).toEqual([
      'faults add',
      'faults add',
      'send test/fixtures/payloads/document-uploaded.json',
      'send test/fixtures/payloads/agent-file-created.json',
      'send test/fixtures/payloads/large-video-uploaded.json',
      'dlq list',
      'faults purge',
      'faults clear',
      'reconcile --from',
      'trace evt_01JD8S7T2A5C8E1G4J7L0N3P6C',
      'reconcile --from',
      'trace evt_01JD8S7T2A5C8E1G4J7L0N3P6C',
    ]);
    const local = await startTestPipeline();
    vi.stubEnv('FASTIO_LOCAL_DIR', local.stateDir);
    try {
      const results: { code: number; out: string; err: string }[] = [];
      let sentAt = Date.now();
      for (const argv of commands) {
        // Until the last webhook is past every target's retry horizon (scaled): younger events are pending, not missing.
        if (argv[0] === 'reconcile') await new Promise((resolve) => setTimeout(resolve, Math.max(0, sentAt + longestHorizonMs(routeTable.flatMap(trackedTargets)) / TEST_TIME_SCALE - Date.now())));
        results.push(await runOps(argv));
        if (argv[0] === 'send') sentAt = Date.now();
        // A human reads the output before typing the next command; the pipeline finishes meanwhile.
        await quiesce(local.pipeline);
      }
      const [, , , , , listed, purged, , first, traced, recovered, tracedAfter] = results;
      expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
      expect(listed?.out).toMatch(/^documents\/queue\/target-dlq\s+2\s/m);
      expect(listed?.out).toMatch(/^agent-activity\/function\/on-failure\s+1\s/m);
      expect(purged?.out).toContain('agent-activity/function/on-failure: 1 message(s) deleted');
      // EVENTS COMPLETED CONFIRMED DEAD-LETTERED PENDING MISSING UNCONFIRMED UNVERIFIABLE
      expect(first?.out).toMatch(/^documents\/queue\s+2\s+0\s+0\s+2\s+0\s+0\s+0\s+0$/m);
      expect(first?.out).toMatch(/^agent-activity\/function\s+1\s+0\s+0\s+0\s+0\s+1\s+0\s+0$/m);
      expect(first?.out).toContain('agent-activity/function  evt_01JD8S7T2A5C8E1G4J7L0N3P6C');
      expect(traced?.out).toMatch(/\d{4}-\S+ {2}dead-lettered in documents\/queue\/target-dlq \((received once|received \d+ times)\): NO_PERMISSIONS/);
      expect(traced?.out).toMatch(/missing: no completion record and no dead letter/);
      expect(recovered?.out).toMatch(/^after recovery:/m);
      expect(recovered?.out).toMatch(/^large-media\/workflow\s+1\s+1\s/m);
      expect(tracedAfter?.out.match(/status: completed \d{4}-/g)).toHaveLength(2);
      // After recovery the story stays: the dead letter and its redrive, from the recovery log.
      expect(tracedAfter?.out).toMatch(/dead-lettered in documents\/queue\/target-dlq: NO_PERMISSIONS[\s\S]*redriven from documents\/queue\/target-dlq by .+ \(reconcile --recover\): delivered/);
      expect(local.pipeline.deadLetterQueues().filter((queue) => queue.depth > 0)).toEqual([]);
    } finally {
      vi.stubEnv('FASTIO_LOCAL_DIR', join(lsDir, 'no-local-pipeline'));
      await local.stop();
    }
  }, 120_000);
});

describe('README: drill an http target', () => {
  /** The section's inline commands, as shell words. */
  const section = (() => {
    const start = README.indexOf('\n### Drill an http target\n');
    const rest = README.slice(start + 1);
    const end = rest.slice(1).search(/\n##+ /);
    return end < 0 ? rest : rest.slice(0, end + 1);
  })();
  const inline = [...section.matchAll(/`([^`\n]+)`/g)].map((match) => shellWords(match[1] as string));
  const starting = (...words: string[]) => inline.filter((command) => words.every((word, index) => command[index] === word));

  it('is the drill test/local/http-drill.e2e.test.ts runs: the same target, config keys, secret, time scale and failing answer', () => {
    expect(section).toContain('`test/local/http-drill.e2e.test.ts`');
    // GIVEN README's commands
    const [synth] = starting('npx', 'cdk', 'synth');
    const [start] = starting('npm', 'start', '--');
    const [receive] = starting('npm', 'run', '-s', 'ops', '--', 'receive');
    expect({ synth: synth !== undefined, start: start !== undefined, receive: receive !== undefined }).toEqual({ synth: true, start: true, receive: true });
    const context = Object.fromEntries(
      (synth as string[]).flatMap((word, index, words) => (words[index - 1] === '-c' ? [word.split('=', 2) as [string, string]] : [])),
    );
    const port = (receive as string[])[(receive as string[]).indexOf('--port') + 1];
    // THEN they configure exactly what the e2e configures, at the receiver README starts
    expect(context).toEqual(HTTP_DRILL.context(`https://127.0.0.1:${port ?? ''}`));
    expect(Number((start as string[])[(start as string[]).indexOf('--time-scale') + 1])).toBe(HTTP_DRILL.timeScale);
    expect(start).toContain('--no-synth');
    expect(section).toContain(`\`${HTTP_DRILL.route}/${HTTP_DRILL.target}\``);
    expect(section).toContain(`\`--status ${HTTP_DRILL.failingStatus}\``);
  });

  it("runs its receive command's flags through the real command (a usage error would exit 2)", async () => {
    const [receive] = starting('npm', 'run', '-s', 'ops', '--', 'receive');
    const help = await runOps([...(receive as string[]).slice(5), '--help']);
    expect(help.code, help.err).toBe(0);
  });
});

// ---- README's shape: a newcomer can navigate it ----------------------------------------------------

/** README without its fenced blocks: a `#` line inside a bash block is a comment, not a heading. */
function proseOf(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return `#${heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')}`;
}

function headingsOf(markdown: string): { level: number; text: string }[] {
  return [...proseOf(markdown).matchAll(/^(#{1,6}) (.+)$/gm)].map((match) => ({ level: (match[1] as string).length, text: match[2] as string }));
}

/** The lines of the section under `## <heading>`, up to the next `## ` heading. */
function sectionLines(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`## ${heading}`);
  if (start < 0) return [];
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** Paragraphs outside fenced blocks, tables and headings; each list item starts one of its own. */
function paragraphsOf(markdown: string): string[] {
  const paragraphs: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length > 0) paragraphs.push(current.map((line) => line.trim()).join(' '));
    current = [];
  };
  for (const line of proseOf(markdown).split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('|') || trimmed.startsWith('#')) flush();
    else {
      if (/^\s*([-*]|\d+\.)\s/.test(line)) flush();
      current.push(line);
    }
  }
  flush();
  return paragraphs;
}

const QUICK_START = 'Quick start (no AWS account needed)';

describe('README shape', () => {
  it('opens with a table of contents whose every link is a heading, and which lists every ## section', () => {
    const contents = sectionLines(README, 'Contents');
    const headings = headingsOf(README);
    expect(headings.find((heading) => heading.level === 2)?.text).toBe('Contents');
    const links = contents.flatMap((line) => [...line.matchAll(/\]\((#[^)]+)\)/g)].map((match) => match[1] as string));
    const anchors = new Set(headings.map((heading) => anchorOf(heading.text)));
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
    const sections = headings.filter((heading) => heading.level === 2 && heading.text !== 'Contents').map((heading) => anchorOf(heading.text));
    expect(sections.filter((section) => !links.includes(section))).toEqual([]);
  });

  it('has no in-page link to a heading that does not exist', () => {
    const anchors = new Set(headingsOf(README).map((heading) => anchorOf(heading.text)));
    const links = [...proseOf(README).matchAll(/\]\((#[^)]+)\)/g)].map((match) => match[1] as string);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });

  it('keeps Quick start under 40 lines, starting from a fresh clone', () => {
    const quickStart = sectionLines(README, QUICK_START);
    expect(quickStart.length).toBeGreaterThan(0);
    expect(quickStart.length).toBeLessThan(40);
    expect(quickStart.join('\n')).toContain('```bash\nnpm ci\nnpm start\n```');
  });

  it('has no paragraph over 700 characters', () => {
    expect(paragraphsOf(README).filter((paragraph) => paragraph.length > 700).map((paragraph) => `${paragraph.length}: ${paragraph.slice(0, 80)}…`)).toEqual([]);
  });

  it('puts the local incident drill in the section of "See a dead letter locally", apart from the AWS runbook', () => {
    const sectionOf = (heading: string) => {
      let section = '';
      for (const { level, text } of headingsOf(README)) {
        if (level === 2) section = text;
        if (text === heading) return section;
      }
      return undefined;
    };
    expect(sectionOf('Incident drill')).toBe(sectionOf('See a dead letter locally'));
    expect(sectionOf('Incident drill')).not.toBe('Incident recovery');
  });

  it('the shape checks catch a drifted README', () => {
    const drifted = `## Contents\n\n- [Gone](#gone)\n\n## ${QUICK_START}\n\n${'line\n'.repeat(45)}\n${'word '.repeat(150)}\n`;
    const anchors = new Set(headingsOf(drifted).map((heading) => anchorOf(heading.text)));
    expect(anchors.has('#gone')).toBe(false);
    expect(sectionLines(drifted, QUICK_START).length).toBeGreaterThanOrEqual(40);
    expect(paragraphsOf(drifted).some((paragraph) => paragraph.length > 700)).toBe(true);
  });
});

/** The text of a README section under `### <heading>`, up to the next heading of any level. */
function subsectionText(heading: string): string {
  const start = README.indexOf(`\n### ${heading}\n`);
  if (start < 0) return '';
  const rest = README.slice(start + 1);
  const end = rest.slice(1).search(/\n#+ /);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

/** A duration as README writes it: whole hours as `N h`, otherwise minutes. */
function readmeDuration(ms: number): string {
  const minutes = ms / 60_000;
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

describe('README: Verify', () => {
  const verify = proseOf(subsectionText('4. Verify'));

  it('states every status reconcile gives, each as a list item of its own', () => {
    expect(verify).not.toBe('');
    for (const status of TARGET_STATUSES) expect(verify, status).toMatch(new RegExp(`^- \`${status}\`: `, 'm'));
  });

  it('states every exit code reconcile ends with, and what each means', () => {
    const exits = paragraphsOf(verify).find((paragraph) => paragraph.startsWith('Exit codes:')) ?? '';
    expect(exits).toContain(`\`${RECONCILE_EXIT.clean}\` every event completed, confirmed or unverifiable`);
    expect(exits).toContain(`\`${RECONCILE_EXIT.failed}\` anything missing or dead-lettered`);
    expect(exits).toContain(`\`${RECONCILE_EXIT.notYet}\` only pending or unconfirmed`);
  });

  it('states the retry horizon with the figures the CLI uses', () => {
    const horizon = paragraphsOf(verify).find((paragraph) => paragraph.startsWith('The retry horizon')) ?? '';
    expect(horizon).toContain(`EventBridge's maximum event age (${readmeDuration(TARGET_MAX_EVENT_AGE_MS)})`);
    expect(horizon).toContain(`queue consumer ${readmeDuration(MAX_RECEIVE_COUNT * BUFFER_VISIBILITY_TIMEOUT_MS)}`);
    expect(horizon).toContain(`function ${readmeDuration(ASYNC_INVOKE_MAX_EVENT_AGE_MS)}`);
    expect(horizon).toContain(`workflow ${readmeDuration(WORKFLOW_TIMEOUT_MS)}`);
    expect(horizon).toContain(`${readmeDuration(LOG_LAG_MS)} of log lag`);
  });
});

describe('README: the target kinds table', () => {
  it("says each kind's default replay policy as the code has it", () => {
    const rows = README.split('\n').filter((line) => /^ {3}\| [a-z ]+(?:by ARN)? \| `\{ kind: '/.test(line));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const [label = '', fields = '', replays = ''] = row.slice(5).split(' | ');
      const kind = /kind: '(\w+)'/.exec(fields)?.[1];
      expect(replays.replace(/`/g, '').split(',')[0], label).toBe(defaultReplayPolicy({ kind } as RouteTarget));
    }
  });
});

