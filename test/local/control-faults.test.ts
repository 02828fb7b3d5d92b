/**
 * The control surface refuses a fault that could never fire (an operation no stand-in intercepts,
 * a table, route or queue the pipeline does not have) and a `faults clear --id` of no fault, with a 4xx the
 * CLI turns into one line and exit 2. The pipeline's tables and rules come from the synthesized app.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ControlledPipeline } from '../../lib/local/control-surface';
import { handleControl } from '../../lib/local/control';
import { LocalDynamoDb } from '../../lib/local/dynamodb';
import { FaultRegistry } from '../../lib/local/faults';
import { loadModel, type LocalModel } from '../../lib/local/model';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let model: LocalModel;
let faults: FaultRegistry;
let pipeline: ControlledPipeline;

beforeAll(() => {
  model = loadModel(ROOT, `${ROOT}cdk.out`);
});

function freshPipeline(): void {
  faults = new FaultRegistry();
  const surface: Pick<ControlledPipeline, 'faults' | 'dynamodb' | 'model'> = { faults, dynamodb: new LocalDynamoDb(model.tables, faults), model };
  // Only the fault operations run here; they read no other part of the pipeline.
  pipeline = surface as ControlledPipeline;
}

function addFault(body: Record<string, unknown>) {
  return handleControl(pipeline, { method: 'POST', path: '/faults', query: new URLSearchParams(), body: Buffer.from(JSON.stringify(body)) });
}

describe('faults add against the local pipeline', () => {
  it.each([
    [{ service: 'dynamodb', table: 'nosuch' }, 'no local table "nosuch"; tables: '],
    [{ service: 'dynamodb', operation: 'Scan', table: 'catalog' }, 'the local dynamodb stand-in never fails Scan'],
    [{ service: 'events', route: 'no-such-route' }, 'no local rule for route "no-such-route"; routes: '],
    [{ service: 'sqs', operation: 'ReceiveMessage' }, 'operations it can fail: SendMessage'],
    [{ service: 'sqs', operation: 'SendMessage', queue: 'no-such/queue' }, 'no local queue "no-such/queue"; queues SQS SendMessage reaches: '],
    [{ service: 'dynamodb', queue: 'no-such/queue' }, 'queue applies to sqs faults only'],
  ])('GIVEN %j WHEN added THEN 400 with the reason and no fault is active', async (body, says) => {
    freshPipeline();
    const answer = await addFault(body);
    expect(answer.status).toBe(400);
    expect(String((answer.body as { message: string }).message)).toContain(says);
    expect(faults.list()).toHaveLength(0);
  });

  it('GIVEN a table by logical-id fragment, an intercepted operation and a route the pipeline has WHEN added THEN each becomes active', async () => {
    freshPipeline();
    const route = model.rules[0]?.route as string;
    expect((await addFault({ service: 'dynamodb', operation: 'updateitem', table: model.tables[0]?.name })).status).toBe(201);
    expect((await addFault({ service: 'events', operation: 'Deliver', route })).status).toBe(201);
    expect(faults.list()).toHaveLength(2);
  });
});

describe('faults add for a queue', () => {
  /** Queues a state machine sends to (its definition names the queue URL), from the synthesized app. */
  const sentToByWorkflows = () => model.queues.filter((queue) => model.stateMachines.some((machine) => JSON.stringify(machine.definition).includes(queue.url)));

  it('GIVEN a queue the pipeline has but nothing sends to with SendMessage WHEN added THEN 400 saying so, naming the queues that work', async () => {
    freshPipeline();
    const reached = sentToByWorkflows();
    const other = model.queues.find((queue) => !reached.includes(queue)) as (typeof model.queues)[number];
    expect(other).toBeDefined();
    const answer = await addFault({ service: 'sqs', queue: other.label });
    expect(answer.status).toBe(400);
    expect((answer.body as { message: string }).message).toBe(
      `nothing sends to ${other.label} with SQS SendMessage locally (the bus and Lambda deliver to it themselves: an events Deliver fault on its route fails that); queues SendMessage reaches: ${reached.map((queue) => queue.label).join(', ')}`,
    );
    expect(faults.list()).toHaveLength(0);
  });

  it('GIVEN a queue a workflow sends to, by handle or by name WHEN added THEN it becomes active', async () => {
    freshPipeline();
    const [queue] = sentToByWorkflows();
    expect(queue).toBeDefined();
    expect((await addFault({ service: 'sqs', operation: 'SendMessage', queue: queue?.label })).status).toBe(201);
    expect((await addFault({ service: 'sqs', queue: queue?.name })).status).toBe(201);
    expect(faults.list().map((fault) => fault.queue)).toEqual([queue?.label, queue?.name]);
  });
});

describe('a queue-scoped SendMessage fault', () => {
  it('GIVEN a fault on one queue WHEN SendMessage goes to it and to another THEN only the call to it fails', () => {
    const registry = new FaultRegistry();
    const [first, second] = model.queues;
    registry.add({ service: 'sqs', operation: 'SendMessage', queue: first?.label as string });
    expect(registry.take({ service: 'sqs', operation: 'SendMessage', queue: second as (typeof model.queues)[number] })).toBeUndefined();
    expect(registry.take({ service: 'sqs', operation: 'SendMessage', queue: first as (typeof model.queues)[number] })?.hits).toBe(1);
  });
});

describe('faults clear --id', () => {
  it('GIVEN fault #1 only WHEN clearing #99 THEN 404 naming the active faults, and #1 stays', async () => {
    freshPipeline();
    await addFault({ service: 'sqs' });
    const answer = await handleControl(pipeline, { method: 'DELETE', path: '/faults', query: new URLSearchParams({ id: '99' }), body: Buffer.alloc(0) });
    expect(answer.status).toBe(404);
    expect((answer.body as { message: string }).message).toContain('no fault #99: active faults: #1');
    expect(faults.list().map((fault) => fault.id)).toEqual([1]);
  });

  it('GIVEN fault #1 WHEN clearing #1 THEN it is removed', async () => {
    freshPipeline();
    await addFault({ service: 'sqs' });
    const answer = await handleControl(pipeline, { method: 'DELETE', path: '/faults', query: new URLSearchParams({ id: '1' }), body: Buffer.alloc(0) });
    expect(answer).toEqual({ status: 200, body: { removed: 1 } });
    expect(faults.list()).toHaveLength(0);
  });
});
