/**
 * A copy of the synthesized cloud assembly with one extra route added to the routing template, for
 * end-to-end tests of target kinds the shipped route table does not use. The templates are copied
 * and the asset folders linked (the functions run from the same bundles and sources).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAssembly } from '../../lib/local/assembly';
import { PROJECT_ROOT } from '../../lib/local/pipeline';

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
}

export interface PatchedAssembly {
  readonly dir: string;
  remove(): void;
}

/** Copies cdk.out (synthesizing it when missing) and lets `patch` edit the routing template. */
export async function patchedAssembly(patch: (routing: Template) => void): Promise<PatchedAssembly> {
  const source = await ensureAssembly({ projectRoot: PROJECT_ROOT, policy: 'if-missing', log: () => undefined });
  const dir = mkdtempSync(join(tmpdir(), 'fastio-assembly-'));
  for (const entry of readdirSync(source)) {
    const from = join(source, entry);
    if (statSync(from).isDirectory()) symlinkSync(from, join(dir, entry), 'dir');
    else cpSync(from, join(dir, entry));
  }
  const routingFile = readdirSync(dir).find((name) => name.endsWith('-routing.template.json'));
  if (!routingFile) throw new Error(`no routing template in ${source}`);
  const routing = JSON.parse(readFileSync(join(dir, routingFile), 'utf8')) as Template;
  patch(routing);
  writeFileSync(join(dir, routingFile), JSON.stringify(routing));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The EventBusName of the routing template's rules (a reference to the stateful stack's bus). */
export function busNameOf(routing: Template): unknown {
  const rule = Object.values(routing.Resources).find((resource) => resource.Type === 'AWS::Events::Rule');
  if (!rule) throw new Error('the routing template has no rule');
  return rule.Properties?.EventBusName;
}
