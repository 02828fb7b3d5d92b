/**
 * `new consumer <name> --kind queue|function`: writes `lambdas/<name>/handler.ts` and
 * `test/consumers/<name>.test.ts` from the templates in consumer-templates/, and prints the route to
 * paste into lib/route-table.ts. It never overwrites: a name whose folder or test exists is refused.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, requiredStringOption, stringOption, type OpsCommand } from './command';
import { CONSUMER_KINDS, type ConsumerKind } from './consumer-templates/consumer-kind';
import { handlerSource } from './consumer-templates/handler-template';
import { routeEntrySource } from './consumer-templates/route-entry';
import { testSource } from './consumer-templates/test-template';

/** This checkout, found as lib/local/pipeline.ts finds it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Lower-case kebab-case, as route and target names are; short enough for the resource names built from it. */
const KEBAB_CASE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME_CHARS = 40;

function consumerName(raw: string): string {
  if (!KEBAB_CASE.test(raw)) throw new UsageError(`consumer name must be kebab-case (lower-case letters, digits, single hyphens; starting with a letter), got "${raw}"`);
  if (raw.length > MAX_NAME_CHARS) throw new UsageError(`consumer name must be at most ${MAX_NAME_CHARS} characters (it names the function and its queues), got ${raw.length}`);
  return raw;
}

function consumerKind(raw: string): ConsumerKind {
  if (!(CONSUMER_KINDS as readonly string[]).includes(raw)) throw new UsageError(`--kind must be ${CONSUMER_KINDS.join(' or ')}, got "${raw}"`);
  return raw as ConsumerKind;
}

export const newConsumerCommand: OpsCommand = {
  path: ['new', 'consumer'],
  summary: 'write lambdas/<name>/handler.ts and its test for a consumer of your own, and print its route to paste into lib/route-table.ts',
  usage: `<name> --kind ${CONSUMER_KINDS.join('|')} [--root <project dir>] [--json]`,
  options: { kind: { type: 'string' }, root: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ positionals, options, io }) {
    const name = consumerName(positionals[0] as string);
    const kind = consumerKind(requiredStringOption(options, 'kind'));
    const root = resolve(stringOption(options, 'root') ?? PROJECT_ROOT);
    if (!existsSync(join(root, 'lambdas'))) throw new UsageError(`${root} is not the project: it has no lambdas/ folder`);
    const folder = join(root, 'lambdas', name);
    const testFile = join(root, 'test', 'consumers', `${name}.test.ts`);
    for (const path of [folder, testFile]) {
      if (existsSync(path)) throw new UsageError(`${relative(root, path)} already exists; nothing was written (pick another name, or remove it first)`);
    }
    const handlerFile = join(folder, 'handler.ts');
    mkdirSync(folder, { recursive: true });
    mkdirSync(join(root, 'test', 'consumers'), { recursive: true });
    writeFileSync(handlerFile, handlerSource(name, kind), { flag: 'wx' });
    writeFileSync(testFile, testSource(name, kind), { flag: 'wx' });
    if (options.json === true) {
      io.out(JSON.stringify({ name, kind, wrote: [relative(root, handlerFile), relative(root, testFile)], routeEntry: routeEntrySource(name, kind) }, null, 2));
      return 0;
    }
    io.out(`wrote ${relative(root, handlerFile)} and ${relative(root, testFile)}`);
    io.out(`next: add this route to routeTable in lib/route-table.ts, adjust its pattern and samples, then run npm run test:routes:`);
    io.out(routeEntrySource(name, kind));
    return 0;
  },
};
