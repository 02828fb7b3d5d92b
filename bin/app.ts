#!/usr/bin/env -S npx tsx
/**
 * The CDK app: `npm run synth`, `npx cdk deploy --all`.
 *
 * Every way it can fail ends as one line on stderr and exit 1, never a stack trace (VERBOSE=1 adds it):
 * - a type or syntax error in the route table (the file a route change edits) is found by the
 *   compiler before anything runs: `lib/route-table.ts:LINE:COL: <compiler message>`;
 * - a mistake in cdk.json or the route table: `error: <what and where>`;
 * - anything else (a syntax error elsewhere, a construct clash): `error: <its message>`.
 * The app's modules are imported only after the check, so a broken route table never reaches esbuild.
 */
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const PROJECT_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const ROUTE_TABLE = resolve(PROJECT_ROOT, 'lib/route-table.ts');
const verbose = (): boolean => !['', '0', 'false'].includes((process.env.VERBOSE ?? '').trim().toLowerCase());

function fail(line: string, error?: unknown): never {
  process.stderr.write(`${line}\n`);
  if (verbose() && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/**
 * Type-checks the route table and what it imports with the project's compiler options: the same
 * verdict as `tsc --noEmit` for that file, in a few seconds (the whole app would take as long as
 * the synth itself; `npm test` checks everything). Returns the first error as one line.
 */
function routeTableTypeError(): string | undefined {
  const config = ts.readConfigFile(resolve(PROJECT_ROOT, 'tsconfig.json'), (file) => ts.sys.readFile(file));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, PROJECT_ROOT);
  const program = ts.createProgram({ rootNames: [ROUTE_TABLE], options: { ...options, noEmit: true } });
  const ours = (diagnostic: ts.Diagnostic) => diagnostic.file === undefined || !diagnostic.file.fileName.includes('/node_modules/');
  const diagnostics = [...program.getSyntacticDiagnostics(), ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...program.getSemanticDiagnostics()]
    .filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error && ours(diagnostic))
    // The route table's own errors first: that is the file being edited.
    .sort((a, b) => Number(b.file?.fileName === ROUTE_TABLE) - Number(a.file?.fileName === ROUTE_TABLE));
  const [first] = diagnostics;
  if (first === undefined) return undefined;
  const message = oneLine(ts.flattenDiagnosticMessageText(first.messageText, ' '));
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more: npx tsc --noEmit lists them)` : '';
  if (first.file === undefined || first.start === undefined) return `error: ${message}${more}`;
  const { line, character } = first.file.getLineAndCharacterOfPosition(first.start);
  return `${relative(PROJECT_ROOT, first.file.fileName)}:${line + 1}:${character + 1}: ${message}${more}`;
}

/** An esbuild syntax error (tsx compiles each module with it) as `file:line:col: text`. */
function syntaxErrorLine(error: unknown): string | undefined {
  const errors = (error as { errors?: { text?: string; location?: { file?: string; line?: number; column?: number } | null }[] } | null)?.errors;
  const located = Array.isArray(errors) ? errors.find((entry) => entry.location?.file) : undefined;
  if (located?.location?.file !== undefined) {
    const { file, line, column } = located.location;
    return `${relative(PROJECT_ROOT, resolve(PROJECT_ROOT, file))}:${line ?? 0}:${(column ?? 0) + 1}: ${oneLine(located.text ?? '')}`;
  }
  const match = error instanceof Error ? /^(\S+?):(\d+):(\d+): ERROR: (.*)$/m.exec(error.message) : null;
  return match ? `${relative(PROJECT_ROOT, resolve(PROJECT_ROOT, match[1]!))}:${match[2]}:${Number(match[3]) + 1}: ${match[4]}` : undefined;
}

/** Any other failure, as its first line; the error's class when it is not a plain Error says what kind of failure it is. */
function failureLine(error: unknown): string {
  if (!(error instanceof Error)) return `error: ${oneLine(String(error))}`;
  const first = error.message.split('\n').find((line) => line.trim() !== '') ?? '';
  const kind = error.name === 'Error' || error.name === 'ValidationError' ? '' : `${error.name}: `;
  return `error: ${kind}${oneLine(first)}${verbose() ? '' : ' (VERBOSE=1 shows the stack trace)'}`;
}

const typeError = routeTableTypeError();
if (typeError !== undefined) fail(typeError);

try {
  const { buildApp, synthesizeOrExplain } = await import('../lib/stacks/fastio-app');
  // Mistakes in cdk.json and the route table: one line and exit 1, written by synthesizeOrExplain.
  synthesizeOrExplain(() => buildApp());
} catch (error) {
  fail(syntaxErrorLine(error) ?? failureLine(error), error);
}
