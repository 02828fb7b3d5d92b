/**
 * An upgrade never strands a dead letter. Queues, tables, buckets and keys are retained with
 * CloudFormation-generated names, so a changed logical id makes CloudFormation create a new, empty
 * resource and drop the old one from the stack, messages and items included, where no stack output
 * names it any more. test/infra/retained-logical-ids.json pins every retained resource's logical id
 * per stack, as `npm run synth` (cdk.json's config) deploys it. A pinned id may leave only with a
 * migration step in README: an entry in the file's `migrations` naming that README heading's anchor.
 *
 * A new retained resource is pinned with: UPDATE_RETAINED_IDS=1 npx vitest run test/infra/retained-logical-ids.test.ts
 * (it adds ids, never removes one).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAssembly, type CloudAssembly } from '../../lib/local/assembly';

const LIST = new URL('./retained-logical-ids.json', import.meta.url);
const README = new URL('../../README.md', import.meta.url);

interface PinnedList {
  /** Stack (its name without `<stage>-fastio-`) to logical id to resource type. */
  readonly stacks: Record<string, Record<string, string>>;
  /** `<stack>/<logical id>` to the README anchor (`#...`) of the step that moves its contents. */
  readonly migrations: Record<string, string>;
}

const RETAINED = new Set(['Retain', 'RetainExceptOnCreate']);

/** Every retained resource of the synthesized app, per stack, as the pinned list writes it. */
export function retainedLogicalIds(assembly: CloudAssembly): Record<string, Record<string, string>> {
  const stacks: Record<string, Record<string, string>> = {};
  for (const stack of assembly.stacks) {
    const key = stack.stackName.replace(/^.*?-fastio-/, '');
    for (const [id, resource] of Object.entries(stack.template.Resources)) {
      const policy = (resource as { DeletionPolicy?: string }).DeletionPolicy;
      if (policy !== undefined && RETAINED.has(policy)) (stacks[key] ??= {})[id] = resource.Type;
    }
  }
  return stacks;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return `#${heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')}`;
}

/** What a pinned list lets disappear: the ids gone from `current` without a README migration step. */
export function strandedIds(pinned: PinnedList, current: Record<string, Record<string, string>>, readme: string): string[] {
  const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1] as string)));
  const problems: string[] = [];
  for (const [stack, ids] of Object.entries(pinned.stacks)) {
    for (const [id, type] of Object.entries(ids)) {
      if (current[stack]?.[id] === type) continue;
      const migration = pinned.migrations[`${stack}/${id}`];
      if (migration !== undefined && anchors.has(migration)) continue;
      problems.push(
        migration === undefined
          ? `${stack}/${id} (${type}) is no longer retained under that logical id: its contents would be stranded; keep the id, or add a README migration step and its anchor to migrations`
          : `${stack}/${id}: migration ${migration} is no heading in README`,
      );
    }
  }
  return problems;
}

let pinned: PinnedList;
let current: Record<string, Record<string, string>>;
let readme: string;

beforeAll(() => {
  // The app as deployed with cdk.json's config: `npm run synth` writes it.
  current = retainedLogicalIds(loadAssembly('cdk.out'));
  pinned = JSON.parse(readFileSync(LIST, 'utf8')) as PinnedList;
  readme = readFileSync(README, 'utf8');
  if (process.env.UPDATE_RETAINED_IDS === '1') {
    const stacks = structuredClone(pinned.stacks);
    for (const [stack, ids] of Object.entries(current)) Object.assign((stacks[stack] ??= {}), ids, stacks[stack]);
    pinned = { stacks, migrations: pinned.migrations };
    writeFileSync(LIST, `${JSON.stringify(pinned, null, 2)}\n`);
  }
});

describe('retained logical ids', () => {
  it('keeps every pinned retained resource under its logical id and type, unless README has its migration step', () => {
    expect(strandedIds(pinned, current, readme)).toEqual([]);
  });

  it('pins every retained resource the app has', () => {
    const unpinned = Object.entries(current).flatMap(([stack, ids]) => Object.keys(ids).filter((id) => pinned.stacks[stack]?.[id] === undefined).map((id) => `${stack}/${id}`));
    expect(unpinned).toEqual([]);
  });

  it('pins the queues, tables, buckets, keys, bus, archive and secret', () => {
    const types = new Set(Object.values(pinned.stacks).flatMap((ids) => Object.values(ids)));
    for (const type of ['AWS::SQS::Queue', 'AWS::DynamoDB::GlobalTable', 'AWS::S3::Bucket', 'AWS::KMS::Key']) expect(types, type).toContain(type);
  });

  it('fails for a renamed queue and accepts it once README has the migration step', () => {
    // GIVEN a pinned queue whose logical id changed
    const stack = Object.keys(pinned.stacks).find((name) => Object.values(pinned.stacks[name] ?? {}).includes('AWS::SQS::Queue')) as string;
    const [id] = Object.entries(pinned.stacks[stack] ?? {}).find(([, type]) => type === 'AWS::SQS::Queue') as [string, string];
    const renamed = { ...current, [stack]: Object.fromEntries(Object.entries(current[stack] ?? {}).map(([key, type]) => [key === id ? `${key}Renamed` : key, type])) };
    // THEN it is stranded without a migration, and with one whose heading is missing
    expect(strandedIds(pinned, renamed, readme)).toEqual([expect.stringContaining(`${stack}/${id} (AWS::SQS::Queue) is no longer retained`)]);
    const withMigration = { ...pinned, migrations: { [`${stack}/${id}`]: '#move-the-old-queue' } };
    expect(strandedIds(withMigration, renamed, readme)).toEqual([`${stack}/${id}: migration #move-the-old-queue is no heading in README`]);
    // AND accepted once README has the step
    expect(strandedIds(withMigration, renamed, `${readme}\n### Move the old queue\n`)).toEqual([]);
  });
});
