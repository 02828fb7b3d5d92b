/**
 * The control endpoint of the running local pipeline (server side of lib/local/control-client.ts):
 *
 *   GET    /_local/status                    what runs: routes, functions, queues, tables
 *   POST   /_local/replay                    {from, to, targets?: ['<route>/<target>'] | allRoutes: true, name?}
 *   GET    /_local/replays                   every replay run so far; /_local/replays/<name>: one
 *   GET    /_local/dlq                       every dead-letter queue: depth, oldest age
 *   GET    /_local/dlq/peek?name=…&max=…     the messages of one, with their events and failures
 *   POST   /_local/dlq/redrive               {name, max?, messageIds?}
 *   POST   /_local/dlq/purge                 {name}: deletes every message of one (the incident drill)
 *   POST   /_local/deliver                   {route, target?, events}: to that target alone, not through the bus
 *   GET    /_local/tables/<table>            items of a table (name or "catalog", "audit", "idempotency")
 *   GET    /_local/deliveries?route=…        what targets elsewhere (by ARN, topics) were sent, oldest first
 *   GET    /_local/events/<id>               one archived event by its EventBridge id (what `send --local` published)
 *   GET|POST|DELETE /_local/faults           list, add ({service, operation?, table?, route?, queue?, key?, errorCode?, times?}), remove (?id=)
 */
import type { ControlRequest, ControlResponse } from './http-api';
import { INTERCEPTED_OPERATIONS, queueNamed, type FaultService, type FaultSpec } from './faults';
import type { ControlledPipeline } from './control-surface';
import { UnknownQueueError } from './dead-letters';
import { EventBridgeError } from './event-bus';

export const REPLAY_NAME_PATTERN = /^[.\-_A-Za-z0-9]{1,64}$/;

class BadRequest extends Error {}

function bodyOf(request: ControlRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(request.body.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new BadRequest('the request body must be a JSON object');
}

function time(value: unknown, field: string): Date {
  const parsed = typeof value === 'string' || typeof value === 'number' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) throw new BadRequest(`${field} must be an ISO 8601 time or epoch milliseconds`);
  return parsed;
}

function positiveInteger(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new BadRequest(`${field} must be a positive integer`);
  return n;
}

const FAULT_SERVICES: readonly FaultService[] = ['dynamodb', 'events', 'sns', 'sqs', 'secretsmanager', 's3'];

/** A fault that could never fire (an operation no stand-in intercepts, a table, route or queue the pipeline lacks) is refused. */
function checkFaultScope(pipeline: ControlledPipeline, spec: FaultSpec): void {
  const operations = INTERCEPTED_OPERATIONS[spec.service];
  if (spec.operation !== undefined && !operations.some((operation) => operation.toLowerCase() === spec.operation?.toLowerCase())) {
    throw new BadRequest(`the local ${spec.service} stand-in never fails ${spec.operation} (the handlers do not call it); operations it can fail: ${operations.join(', ')}`);
  }
  if (spec.table !== undefined) {
    if (spec.service !== 'dynamodb') throw new BadRequest(`table applies to dynamodb faults only, not ${spec.service}`);
    if (pipeline.dynamodb.definition(spec.table) === undefined) throw new BadRequest(`no local table "${spec.table}"; tables: ${pipeline.dynamodb.tableNames.join(', ')}`);
  }
  if (spec.route !== undefined) {
    if (spec.service !== 'events') throw new BadRequest(`route applies to events faults only (a rule that cannot deliver), not ${spec.service}`);
    const routes = [...new Set(pipeline.model.rules.map((rule) => rule.route))];
    if (!routes.includes(spec.route)) throw new BadRequest(`no local rule for route "${spec.route}"; routes: ${routes.join(', ')}`);
  }
  if (spec.queue !== undefined) {
    if (spec.service !== 'sqs') throw new BadRequest(`queue applies to sqs faults only (SendMessage to that queue), not ${spec.service}`);
    // Locally only the workflows call SQS SendMessage (to their failure queues); the bus and Lambda hand messages over themselves.
    const reached = pipeline.model.queues.filter((queue) => pipeline.model.stateMachines.some((machine) => JSON.stringify(machine.definition).includes(queue.url)));
    const list = reached.map((queue) => queue.label).join(', ') || 'none';
    const known = pipeline.model.queues.find((queue) => queueNamed(spec.queue as string, queue));
    if (known === undefined) throw new BadRequest(`no local queue "${spec.queue}"; queues SQS SendMessage reaches: ${list}`);
    if (!reached.includes(known)) {
      throw new BadRequest(`nothing sends to ${known.label} with SQS SendMessage locally (the bus and Lambda deliver to it themselves: an events Deliver fault on its route fails that); queues SendMessage reaches: ${list}`);
    }
  }
}

function faultSpec(body: Record<string, unknown>): FaultSpec {
  const service = body.service;
  if (typeof service !== 'string' || !(FAULT_SERVICES as readonly string[]).includes(service)) throw new BadRequest(`service must be one of ${FAULT_SERVICES.join(', ')}`);
  const optional = (key: string) => (typeof body[key] === 'string' ? { [key]: body[key] as string } : {});
  const times = positiveInteger(body.times, 'times');
  const key = typeof body.key === 'object' && body.key !== null ? { key: body.key as Record<string, string | number> } : {};
  return {
    service: service as FaultService,
    ...optional('operation'),
    ...optional('table'),
    ...optional('route'),
    ...optional('queue'),
    ...optional('errorCode'),
    ...optional('message'),
    ...(typeof body.statusCode === 'number' ? { statusCode: body.statusCode } : {}),
    ...(times === undefined ? {} : { times }),
    ...key,
  };
}

export async function handleControl(pipeline: ControlledPipeline, request: ControlRequest): Promise<ControlResponse> {
  try {
    const { method, path } = request;
    if (method === 'GET' && path === '/status') {
      return {
        status: 200,
        body: {
          url: pipeline.url,
          webhookUrl: pipeline.webhookUrl,
          awsEndpoint: pipeline.awsEndpoint,
          stateDir: pipeline.options.stateDir,
          timeScale: pipeline.clock.timeScale,
          archiveRetentionDays: pipeline.model.archive.retentionDays ?? null,
          recorderBufferMs: pipeline.recorder.bufferMs,
          routes: pipeline.model.rules.map((rule) => ({ route: rule.route, target: rule.target, rule: rule.name, targets: rule.targets.map((t) => ({ kind: t.kind, arn: t.arn })) })),
          functions: [...pipeline.functions.values()].map((fn) => ({ label: fn.label, name: fn.name, handler: fn.definition.handlerFile, route: fn.definition.route ?? null })),
          tables: pipeline.dynamodb.tableNames,
          archivedEvents: pipeline.archive.count(),
        },
      };
    }
    if (method === 'POST' && path === '/replay') {
      const body = bodyOf(request);
      const from = time(body.from, 'from');
      const to = time(body.to, 'to');
      if (from.getTime() >= to.getTime()) throw new BadRequest('from must be before to');
      const allRoutes = body.allRoutes === true;
      const targets = Array.isArray(body.targets) ? body.targets.map(String) : undefined;
      if (!allRoutes && (targets === undefined || targets.length === 0)) throw new BadRequest("choose where replayed events go: targets: ['<route>/<target>', ...] or allRoutes: true");
      const name = typeof body.name === 'string' ? body.name : `local-${new Date(pipeline.clock.now()).toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
      if (!REPLAY_NAME_PATTERN.test(name)) throw new BadRequest(`replay name "${name}" is invalid: 1-64 characters from letters, digits, '.', '-' and '_'`);
      return { status: 200, body: pipeline.replay({ name, from, to, ...(allRoutes ? {} : { targets: targets ?? [] }) }) };
    }
    if (method === 'GET' && path === '/replays') return { status: 200, body: { replays: pipeline.replays } };
    const replay = /^\/replays\/(.+)$/.exec(path);
    if (method === 'GET' && replay) {
      const name = decodeURIComponent(replay[1] as string);
      // A name can be reused locally (AWS refuses that); the latest run is the one asked about.
      const found = pipeline.replays.findLast((candidate) => candidate.name === name);
      return found ? { status: 200, body: found } : { status: 404, body: { message: `replay ${name} not found (replay list --local shows the existing ones)` } };
    }
    if (method === 'GET' && path === '/dlq') return { status: 200, body: { queues: pipeline.deadLetterQueues() } };
    if (method === 'GET' && path === '/dlq/peek') {
      const name = request.query.get('name') ?? '';
      const max = positiveInteger(request.query.get('max') ?? undefined, 'max') ?? 10;
      return { status: 200, body: { queue: name, messages: pipeline.peek(name, max) } };
    }
    if (method === 'POST' && path === '/dlq/redrive') {
      const body = bodyOf(request);
      const name = typeof body.name === 'string' ? body.name : '';
      const max = positiveInteger(body.max, 'max');
      const messageIds = Array.isArray(body.messageIds) ? { messageIds: body.messageIds.map(String) } : {};
      return { status: 200, body: await pipeline.redrive(name, { ...(max === undefined ? {} : { max }), ...messageIds }) };
    }
    if (method === 'POST' && path === '/dlq/purge') {
      const body = bodyOf(request);
      return { status: 200, body: pipeline.purge(typeof body.name === 'string' ? body.name : '') };
    }
    if (method === 'POST' && path === '/deliver') {
      const body = bodyOf(request);
      if (typeof body.route !== 'string' || !Array.isArray(body.events)) throw new BadRequest('deliver needs {route, target?, events: [...]}');
      const events = body.events.filter((event): event is Record<string, unknown> => typeof event === 'object' && event !== null && !Array.isArray(event));
      return { status: 200, body: await pipeline.deliverToTarget(body.route, typeof body.target === 'string' ? body.target : undefined, events) };
    }
    if (method === 'GET' && path === '/deliveries') {
      const route = request.query.get('route');
      return { status: 200, body: { deliveries: pipeline.arnDeliveries.filter((delivery) => route === null || delivery.route === route) } };
    }
    const archived = /^\/events\/(.+)$/.exec(path);
    if (method === 'GET' && archived) {
      const id = decodeURIComponent(archived[1] as string);
      const record = pipeline.archive.records().find((candidate) => candidate.event.id === id);
      if (!record) return { status: 404, body: { message: `no archived event "${id}"` } };
      return { status: 200, body: record };
    }
    const table = /^\/tables\/(.+)$/.exec(path);
    if (method === 'GET' && table) {
      const name = decodeURIComponent(table[1] as string);
      const definition = pipeline.dynamodb.definition(name);
      if (!definition) return { status: 404, body: { message: `no table "${name}"; tables: ${pipeline.dynamodb.tableNames.join(', ')}` } };
      return { status: 200, body: { table: definition.name, items: pipeline.dynamodb.scan(definition.name) } };
    }
    if (path === '/faults') {
      if (method === 'GET') return { status: 200, body: { faults: pipeline.faults.list() } };
      if (method === 'POST') {
        const spec = faultSpec(bodyOf(request));
        checkFaultScope(pipeline, spec);
        return { status: 201, body: pipeline.faults.add(spec) };
      }
      if (method === 'DELETE') {
        const id = positiveInteger(request.query.get('id') ?? undefined, 'id');
        const active = pipeline.faults.list();
        if (id !== undefined && !active.some((fault) => fault.id === id)) {
          const ids = active.map((fault) => `#${fault.id}`).join(', ');
          return { status: 404, body: { message: `no fault #${id}: ${ids === '' ? 'no faults are active' : `active faults: ${ids}`} (faults list --local shows them)` } };
        }
        return { status: 200, body: { removed: pipeline.faults.remove(id) } };
      }
    }
    return { status: 404, body: { message: `no control operation ${method} /_local${path}` } };
  } catch (error) {
    if (error instanceof BadRequest || error instanceof EventBridgeError) return { status: 400, body: { message: error.message } };
    if (error instanceof UnknownQueueError) return { status: 404, body: { message: error.message } };
    return { status: 500, body: { message: error instanceof Error ? error.message : String(error) } };
  }
}
