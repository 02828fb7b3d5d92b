/**
 * `faults add|list|clear --local`: make the local stand-ins fail chosen AWS calls (lib/local/faults.ts),
 * to watch retries, dead-letter queues and redrive on this machine before an incident does it on AWS.
 * Only the pipeline `npm start` runs has stand-ins to break, so `--local` is required.
 */
import { localAddFault, localClearFaults, localFaults, localPurge, type ActiveFault, type FaultSpec } from '../local/control-client';
import { INTERCEPTED_OPERATIONS, type FaultService } from '../local/faults';
import { OPS_COMMAND, UsageError, integerOption, requiredStringOption, stringListOption, stringOption, type CommandIo, type OpsCommand, type OptionValues } from './command';
import { resolveRoutes } from './deployment';

const SERVICES = Object.keys(INTERCEPTED_OPERATIONS) as readonly FaultService[];

function requireLocal(options: OptionValues): void {
  if (options.local !== true) throw new UsageError('faults are injected into the pipeline `npm start` runs, not into AWS: add --local');
}

/** `--key fileId=file_1` (repeatable): only items whose key attributes have these values. */
function keyOption(options: OptionValues): Record<string, string> | undefined {
  const pairs = stringListOption(options, 'key');
  if (pairs.length === 0) return undefined;
  const key: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([^=]+)=(.*)$/.exec(pair);
    if (!match) throw new UsageError(`--key must be <attribute>=<value>, got "${pair}"`);
    key[match[1] as string] = match[2] as string;
  }
  return key;
}

export function describeFault(fault: ActiveFault): string {
  const scope = [
    fault.operation,
    fault.table === undefined ? undefined : `table ${fault.table}`,
    fault.route === undefined ? undefined : `route ${fault.route}`,
    fault.queue === undefined ? undefined : `queue ${fault.queue}`,
    fault.key === undefined ? undefined : `key ${Object.entries(fault.key).map(([name, value]) => `${name}=${value}`).join(',')}`,
  ].filter((part) => part !== undefined);
  const times = fault.times === undefined ? 'every call' : `${fault.times} call(s)`;
  return `#${fault.id} ${fault.service}${scope.length > 0 ? ` ${scope.join(' ')}` : ''} fails ${times} with ${fault.errorCode ?? 'the default error'} (${fault.hits} so far)`;
}

function print(io: CommandIo, json: boolean, value: unknown, lines: () => string[]): number {
  if (json) io.out(JSON.stringify(value, null, 2));
  else for (const line of lines()) io.out(line);
  return 0;
}

const addCommand: OpsCommand = {
  path: ['faults', 'add'],
  summary: 'make the local stand-ins fail matching AWS calls (events Deliver = a rule cannot reach its target)',
  usage: `--service ${SERVICES.join('|')} [--operation <op>] [--table <name>] [--route <name>] [--queue <handle>] [--key <attr>=<value>...] [--error-code <code>] [--message <text>] [--times <n>] --local [--json]`,
  options: {
    service: { type: 'string' },
    operation: { type: 'string' },
    table: { type: 'string' },
    route: { type: 'string' },
    queue: { type: 'string' },
    key: { type: 'string', multiple: true },
    'error-code': { type: 'string' },
    message: { type: 'string' },
    times: { type: 'string' },
    local: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ options, io }) {
    requireLocal(options);
    const service = requiredStringOption(options, 'service');
    if (!(SERVICES as readonly string[]).includes(service)) throw new UsageError(`--service must be one of ${SERVICES.join(', ')}, got "${service}"`);
    const operation = stringOption(options, 'operation');
    const operations = INTERCEPTED_OPERATIONS[service as FaultService];
    if (operation !== undefined && !operations.some((candidate) => candidate.toLowerCase() === operation.toLowerCase())) {
      throw new UsageError(`the local ${service} stand-in never fails ${operation} (the handlers do not call it); --operation must be one of ${operations.join(', ')}`);
    }
    if (stringOption(options, 'table') !== undefined && service !== 'dynamodb') throw new UsageError(`--table applies to --service dynamodb only, not ${service}`);
    const route = stringOption(options, 'route');
    if (route !== undefined && service !== 'events') throw new UsageError(`--route applies to --service events only (a rule that cannot deliver to its target), not ${service}`);
    if (route !== undefined) resolveRoutes([route]);
    const queue = stringOption(options, 'queue');
    // Whether the pipeline has the queue is for the control surface to say (it knows the synthesized queues).
    if (queue !== undefined && service !== 'sqs') throw new UsageError(`--queue applies to --service sqs only (SendMessage to that queue), not ${service}`);
    const key = keyOption(options);
    const times = integerOption(options, 'times', { min: 1, max: 1_000_000 });
    const optional = (name: keyof FaultSpec, value: string | undefined) => (value === undefined ? {} : { [name]: value });
    const spec: FaultSpec = {
      service: service as FaultService,
      ...optional('operation', operation),
      ...optional('table', stringOption(options, 'table')),
      ...optional('route', route),
      ...optional('queue', queue),
      ...optional('errorCode', stringOption(options, 'error-code')),
      ...optional('message', stringOption(options, 'message')),
      ...(key === undefined ? {} : { key }),
      ...(times === undefined ? {} : { times }),
    };
    const fault = await localAddFault(spec);
    return print(io, options.json === true, fault, () => [`fault ${describeFault(fault)}`, `remove it with: ${OPS_COMMAND} faults clear --local`]);
  },
};

const listCommand: OpsCommand = {
  path: ['faults', 'list'],
  summary: 'the faults active in the local pipeline, with how many calls each has failed',
  usage: '--local [--json]',
  options: { local: { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ options, io }) {
    requireLocal(options);
    const faults = await localFaults();
    return print(io, options.json === true, faults, () => (faults.length === 0 ? ['no faults: every local AWS call succeeds'] : faults.map(describeFault)));
  },
};

const clearCommand: OpsCommand = {
  path: ['faults', 'clear'],
  summary: 'remove one fault (--id) or every fault from the local pipeline',
  usage: '[--id <n>] --local [--json]',
  options: { id: { type: 'string' }, local: { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ options, io }) {
    requireLocal(options);
    const id = integerOption(options, 'id', { min: 1, max: Number.MAX_SAFE_INTEGER });
    const removed = await localClearFaults(id);
    return print(io, options.json === true, { removed }, () => [`removed ${removed} fault(s)`]);
  },
};

const purgeCommand: OpsCommand = {
  path: ['faults', 'purge'],
  summary: 'delete every message of a local dead-letter queue, as a purge by mistake would: its events are then missing (reconcile finds them)',
  usage: '<queue> --local [--json]',
  options: { local: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ positionals, options, io }) {
    requireLocal(options);
    const result = await localPurge(positionals[0] ?? '');
    return print(io, options.json === true, result, () => [`${result.queue}: ${result.purged} message(s) deleted; \`reconcile --local\` lists their events as missing`]);
  },
};

export const faultsCommands: readonly OpsCommand[] = [addCommand, listCommand, clearCommand, purgeCommand];
