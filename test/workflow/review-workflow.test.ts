import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { REVIEW_GUARD, reviewGuardId } from '../../lib/workflows/review-workflow';
import { DynamoDbError } from '../../lib/local/dynamodb-expressions';
import { LocalDynamoDb } from '../../lib/local/dynamodb';
import { FaultRegistry } from '../../lib/local/faults';
import { routeTable } from '../../lib/route-table';
import { synthesize } from '../infra/synthesize';
import { onlyResource, renderDefinition, routeIdFragment } from '../infra/template-helpers';

type Json = Parameters<StateMachine['run']>[0];
type EventLog = Awaited<ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>>['value'];
type Definition = Record<string, unknown> & { States: Record<string, Record<string, unknown>> };

const EXECUTION_PREFIX = 'arn:aws:states:eu-west-1:123456789012:express:review:';
/** When every state of an execution enters unless a test says otherwise, and its minute as epoch seconds. */
const ENTERED = '2026-11-22T10:00:02Z';
const ENTERED_MINUTE = Date.parse('2026-11-22T10:00:00Z') / 1000;
/** A time `minutes` after ENTERED, for an execution started later. */
const after = (minutes: number) => new Date(Date.parse(ENTERED) + minutes * 60_000).toISOString();
const HAPPY_PATH = ['ValidateInput', 'ReadClock', 'ClaimEvent', 'RecordPendingReview', 'ClassifyByExtension', 'ClassifyVideo', 'NotifiedAlready', 'NotifyReviewers', 'MarkNotified', 'MarkReviewed', 'MarkCompleted'];

function largeVideoEvent(eventId = 'evt-10'): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'file.uploaded',
    source: 'fastio',
    account: '123456789012',
    time: '2026-11-22T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { eventId, eventType: 'file.uploaded', workspaceId: 'ws-1', fileId: 'f-10', fileName: 'launch.mp4', extension: 'mp4', sizeBytes: 524_288_000, payload: {} },
  };
}

function withDetail(event: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  return { ...event, detail: { ...(event.detail as Record<string, unknown>), ...changes } };
}

function withoutDetailField(event: Record<string, unknown>, field: string): Record<string, unknown> {
  const detail = { ...(event.detail as Record<string, unknown>) };
  delete detail[field];
  return { ...event, detail };
}

class ServiceError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * What the workflow's effects land on, shared by the executions of one test: the guard and catalog
 * tables (the local DynamoDB stand-in, so every condition expression is evaluated as DynamoDB
 * would), the notifications, the failure queue, and the status of every execution.
 */
function createWorld() {
  const table = (name: string, partitionKey: string, sortKey?: string) => ({
    name,
    arn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${name}`,
    logicalId: name,
    partitionKey: { name: partitionKey, type: 'S' as const },
    ...(sortKey ? { sortKey: { name: sortKey, type: 'S' as const } } : {}),
  });
  const dynamodb = new LocalDynamoDb([table('guard', 'id'), table('catalog', 'workspaceId', 'fileId')], new FaultRegistry());
  return {
    dynamodb,
    notifications: [] as Record<string, unknown>[],
    failureQueue: [] as Record<string, unknown>[],
    guard: (route: string, eventId: string) => dynamodb.scan('guard').find((item) => item.id === reviewGuardId(route, eventId)),
    catalogWrites: () => dynamodb.operations.filter((operation) => operation.table === 'catalog' && operation.outcome === 'ok'),
  };
}
type World = ReturnType<typeof createWorld>;

/** Runs before a task's effect; may throw a service error, or return a promise the task waits for. */
type Behaviour = Partial<Record<string, (call: number) => void | Promise<void>>>;

let executionCount = 0;
const machines = new WeakMap<Definition, StateMachine>();

/**
 * Runs the synthesized definition with each Task replaced by a local handler that performs its
 * effect on the world. A behaviour runs before the effect and may throw a service error.
 */
async function execute(definition: Definition, input: unknown, options: { world?: World; behaviour?: Behaviour; at?: string; crashAt?: string } = {}) {
  const world = options.world ?? createWorld();
  const behaviour = options.behaviour ?? {};
  executionCount += 1;
  const executionArn = `${EXECUTION_PREFIX}execution-${executionCount}`;
  const calls: Record<string, Record<string, unknown>[]> = {};
  const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
  const effect = (state: string, resource: string, params: Record<string, unknown>): Json => {
    if (resource.includes(':dynamodb:')) {
      const operation = (/:dynamodb:(\w+)$/.exec(resource)?.[1] ?? '').replace(/^./, (letter) => letter.toUpperCase());
      const key = (params.Key ?? params.Item) as Record<string, unknown>;
      try {
        return world.dynamodb.handle(operation, { ...params, TableName: 'id' in key ? 'guard' : 'catalog' }) as Json;
      } catch (error) {
        if (error instanceof DynamoDbError) throw new ServiceError(`DynamoDB.${error.code}`, error.message);
        throw error;
      }
    }
    if (resource.includes(':sns:')) {
      world.notifications.push(params.Message as Record<string, unknown>);
      return { MessageId: `m-${world.notifications.length}` };
    }
    if (resource.includes(':sqs:')) {
      world.failureQueue.push(params.MessageBody as Record<string, unknown>);
      return { MessageId: `f-${world.failureQueue.length}` };
    }
    throw new Error(`${state}: no local handler for ${resource}`);
  };
  // A crash: the execution stops as the state is entered (an Express timeout, a service fault),
  // with no Catch, no failure path and no word to anyone.
  let crash: () => void = () => undefined;
  const handlers = Object.fromEntries(
    tasks.map(([state, definitionOfState]) => [
      state,
      async (taskInput: Json) => {
        const params = taskInput as Record<string, unknown>;
        (calls[state] ??= []).push(params);
        if (state === options.crashAt) {
          crash();
          return new Promise<Json>(() => undefined);
        }
        await behaviour[state]?.(calls[state].length);
        return effect(state, String(definitionOfState.Resource), params);
      },
    ]),
  );
  const machine = machines.get(definition) ?? new StateMachine(definition as unknown as ConstructorParameters<typeof StateMachine>[0], { validationOptions: { checkArn: false } });
  machines.set(definition, machine);
  const execution = machine.run(input as Json, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      retryIntervalOverrides: Object.fromEntries(tasks.map(([state]) => [state, 0])),
    },
    // The emulator does not fill in per-state context; a fixed EnteredTime stands in for it.
    context: {
      Execution: { Id: executionArn, Input: input, Name: executionArn.split(':').at(-1), StartTime: '2026-11-22T10:00:01Z', RoleArn: 'arn:aws:iam::123456789012:role/review' },
      State: { EnteredTime: options.at ?? ENTERED, Name: 'current', RetryCount: 0 },
    } as never,
  });
  crash = () => execution.abort();
  const events: Exclude<EventLog, void>[] = [];
  for await (const event of execution.eventLogs) events.push(event);
  const statesOf = (type: string) => events.filter((event) => event.type === type).map((event) => ('state' in event ? event.state.name : ''));
  let output: unknown;
  let failure: unknown;
  try {
    output = await execution.result;
  } catch (error) {
    failure = error;
  }
  return { executionArn, calls, visited: statesOf('StateEntered'), retried: statesOf('StateRetried'), output, failure, world };
}

/** What `ops dlq redrive` does with a workflow-failures message: start the workflow again with its input. */
function redrive(definition: Definition, world: World, message: Record<string, unknown> | undefined, behaviour: Behaviour = {}) {
  expect(message, 'a failure message to redrive').toBeDefined();
  return execute(definition, message?.input, { world, behaviour });
}

/** A guard record as another execution left it. */
function putGuard(world: World, item: Record<string, unknown>) {
  world.dynamodb.handle('PutItem', { TableName: 'guard', Item: Object.fromEntries(Object.entries({ id: reviewGuardId('large-media', 'evt-10'), ...item }).map(([name, value]) => [name, typeof value === 'number' ? { N: String(value) } : { S: String(value) }])) });
}

const permanently = (name: string, message: string) => () => {
  throw new ServiceError(name, message);
};

describe('review workflow, executed from the synthesized definition', () => {
  let definitions: Record<string, Definition>;
  let guardRetentionDays: number;
  const largeMedia = () => definitions['large-media'] as Definition;
  beforeAll(() => {
    const { templates } = synthesize();
    const [, archive] = onlyResource(templates.stateful, 'AWS::Events::Archive', '');
    guardRetentionDays = Number(archive.Properties.RetentionDays) + 14;
    definitions = Object.fromEntries(
      routeTable
        .filter((route) => route.targets[0]?.kind === 'workflow')
        .map((route) => {
          const [, stateMachine] = onlyResource(templates.routing, 'AWS::StepFunctions::StateMachine', routeIdFragment(route.name));
          return [route.name, renderDefinition(stateMachine.Properties.DefinitionString) as Definition];
        }),
    );
  });

  it('claims, records, classifies, notifies and marks a large video reviewed', async () => {
    // GIVEN a large video event as the large-media rule delivers it
    const input = largeVideoEvent();
    // WHEN
    const run = await execute(largeMedia(), input);
    // THEN
    expect(run.failure).toBeUndefined();
    expect(run.visited).toEqual(HAPPY_PATH);
    expect(run.output).toEqual({ ...input, clock: { epoch: ENTERED_MINUTE }, guard: { status: 'STARTED' }, classification: 'video' });
    expect(run.world.failureQueue).toEqual([]);
    expect(run.calls.RecordPendingReview?.[0]).toMatchObject({
      Key: { workspaceId: { S: 'ws-1' }, fileId: { S: 'f-10' } },
      UpdateExpression: 'SET reviewStatus = :pending, reviewEventId = :eventId, reviewRequestedAt = :now',
      ExpressionAttributeValues: { ':pending': { S: 'PENDING' }, ':eventId': { S: 'evt-10' } },
    });
    expect(run.world.notifications).toEqual([{ reason: 'file.uploaded', classification: 'video', workspaceId: 'ws-1', fileId: 'f-10', eventId: 'evt-10' }]);
    expect(run.world.dynamodb.scan('catalog')).toEqual([expect.objectContaining({ workspaceId: 'ws-1', fileId: 'f-10', reviewStatus: 'REVIEWED', reviewClassification: 'video' })]);
  });

  it('leaves a completion record findable by event id and route', async () => {
    const run = await execute(largeMedia(), largeVideoEvent());
    expect(run.world.guard('large-media', 'evt-10')).toEqual({
      id: 'review#large-media#evt-10',
      status: REVIEW_GUARD.status.completed,
      owner: run.executionArn,
      leaseUntil: ENTERED_MINUTE + REVIEW_GUARD.leaseSeconds,
      expiration: ENTERED_MINUTE + guardRetentionDays * 86_400,
      route: 'large-media',
      eventId: 'evt-10',
      workspaceId: 'ws-1',
      fileId: 'f-10',
      detailType: 'file.uploaded',
      claimedAt: '2026-11-22T10:00:02Z',
      notifiedAt: '2026-11-22T10:00:02Z',
      completedAt: '2026-11-22T10:00:02Z',
      classification: 'video',
    });
    expect(Object.keys(run.world.guard('large-media', 'evt-10') ?? {}).filter((name) => name !== 'id').sort()).toEqual([...REVIEW_GUARD.attributes].sort());
  });

  it.each([
    ['png', 'ClassifyImage', 'image'],
    ['tiff', 'ClassifyImage', 'image'],
    ['pdf', 'ClassifyOther', 'other'],
    [42, 'ClassifyOther', 'other'],
  ])('classifies extension %s through %s', async (extension, state, classification) => {
    const run = await execute(largeMedia(), withDetail(largeVideoEvent(), { extension }));
    expect(run.visited).toContain(state);
    expect(run.output).toMatchObject({ classification });
  });

  it('classifies an event without an extension as other instead of failing', async () => {
    const input = withoutDetailField(largeVideoEvent(), 'extension');
    const run = await execute(definitions['untrusted-agent-deletions'] as Definition, { ...input, 'detail-type': 'file.deleted' });
    expect(run.failure).toBeUndefined();
    expect(run.visited).toContain('ClassifyOther');
  });

  describe('an event the review cannot process', () => {
    const invalid: [string, (event: Record<string, unknown>) => unknown, string][] = [
      ...(['eventId', 'workspaceId', 'fileId'] as const).flatMap((field): [string, (event: Record<string, unknown>) => unknown, string][] => [
        [`without detail.${field}`, (event) => withoutDetailField(event, field), `detail.${field}`],
        [`with a numeric detail.${field}`, (event) => withDetail(event, { [field]: 42 }), `detail.${field}`],
        [`with an empty detail.${field}`, (event) => withDetail(event, { [field]: '' }), `detail.${field}`],
      ]),
      ['without detail-type', (event) => ({ ...event, 'detail-type': undefined }), 'detail-type'],
      ['without any detail', (event) => ({ ...event, detail: undefined }), 'detail.eventId'],
      ['that is not an object', () => 'file.uploaded', 'detail.eventId'],
    ];

    it.each(invalid)('%s goes to the failure queue once, with the field it lacks', async (_case, change, field) => {
      // GIVEN an event the tolerant envelope (or a hand-started execution) let through
      const input = JSON.parse(JSON.stringify(change(largeVideoEvent()) ?? null)) as unknown;
      // WHEN
      const run = await execute(largeMedia(), input);
      // THEN its input is kept with the reason, and nothing else happened
      expect(run.world.failureQueue).toEqual([
        { executionArn: run.executionArn, error: 'InvalidReviewInput', cause: `${field} is missing, empty or not a string: the review needs it`, input },
      ]);
      expect(run.failure).toBeInstanceOf(ExecutionError);
      expect(run.world.notifications).toEqual([]);
      expect(run.world.dynamodb.operations).toEqual([]);
    });
  });

  describe('the same event more than once', () => {
    it('notifies once when the same event arrives twice, and the second ends successfully', async () => {
      // GIVEN the event was reviewed (a Fast.io resend after a lost 202, or a replay, brings it again)
      const world = createWorld();
      await execute(largeMedia(), largeVideoEvent(), { world });
      // WHEN
      const second = await execute(largeMedia(), largeVideoEvent(), { world });
      // THEN
      expect(second.failure).toBeUndefined();
      expect(second.visited).toEqual(['ValidateInput', 'ReadClock', 'ClaimEvent', 'ReadClaim', 'ClaimStatus', 'AlreadyReviewed']);
      expect(world.notifications).toHaveLength(1);
      expect(world.catalogWrites().map((write) => write.operation)).toEqual(['UpdateItem', 'UpdateItem']);
      expect(world.failureQueue).toEqual([]);
    });

    it('notifies once when two arrivals of one event run at the same time', async () => {
      const world = createWorld();
      const runs = await Promise.all([execute(largeMedia(), largeVideoEvent(), { world }), execute(largeMedia(), largeVideoEvent(), { world })]);
      expect(runs.map((run) => run.failure)).toEqual([undefined, undefined]);
      expect(world.notifications).toHaveLength(1);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED' });
    });

    it('leaves an event to the execution whose lease on it is still running', async () => {
      // GIVEN another execution claimed the event a minute ago
      const world = createWorld();
      putGuard(world, { status: 'STARTED', owner: `${EXECUTION_PREFIX}still-running`, leaseUntil: ENTERED_MINUTE + REVIEW_GUARD.leaseSeconds });
      // WHEN
      const run = await execute(largeMedia(), largeVideoEvent(), { world, at: after(1) });
      // THEN
      expect(run.failure).toBeUndefined();
      expect(run.visited.slice(-2)).toEqual(['TakeOverClaim', 'ReviewInProgress']);
      expect(world.notifications).toEqual([]);
      expect(world.catalogWrites()).toEqual([]);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ owner: `${EXECUTION_PREFIX}still-running` });
    });

    it.each([
      ['whose lease ended', ENTERED_MINUTE - REVIEW_GUARD.leaseSeconds - 60],
      ['that its owner released on its failure path', 0],
      ['without a lease (written by the Standard version)', undefined],
    ])('takes over a claim %s and notifies once', async (_case, leaseUntil) => {
      const world = createWorld();
      putGuard(world, { status: 'STARTED', owner: `${EXECUTION_PREFIX}gone`, ...(leaseUntil === undefined ? {} : { leaseUntil }) });
      const run = await execute(largeMedia(), largeVideoEvent(), { world });
      expect(run.failure).toBeUndefined();
      expect(run.visited).toContain('TakeOverClaim');
      expect(world.notifications).toHaveLength(1);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED', owner: run.executionArn });
    });

    it('reviews one event once on each route it matched', async () => {
      const world = createWorld();
      const deletion = { ...largeVideoEvent(), 'detail-type': 'file.deleted' };
      await execute(largeMedia(), deletion, { world });
      await execute(definitions['untrusted-agent-deletions'] as Definition, deletion, { world });
      await execute(definitions['untrusted-agent-deletions'] as Definition, deletion, { world });
      expect(world.notifications).toHaveLength(2);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED' });
      expect(world.guard('untrusted-agent-deletions', 'evt-10')).toMatchObject({ status: 'COMPLETED' });
    });
  });

  describe('on Express: at-least-once starts, no DescribeExecution, a lease instead', () => {
    it('ends a duplicate start while the first execution runs, and the first notifies once', async () => {
      // GIVEN the first execution is publishing when EventBridge starts the event a second time
      const world = createWorld();
      let publishing: () => void = () => undefined;
      const published = new Promise<void>((resolve) => (publishing = resolve));
      const firstRun = execute(largeMedia(), largeVideoEvent(), { world, behaviour: { NotifyReviewers: () => published } });
      // WHEN
      const duplicate = await execute(largeMedia(), largeVideoEvent(), { world });
      publishing();
      const first = await firstRun;
      // THEN
      expect(duplicate.failure).toBeUndefined();
      expect(duplicate.visited.slice(-2)).toEqual(['TakeOverClaim', 'ReviewInProgress']);
      expect(first.visited.at(-1)).toBe('MarkCompleted');
      expect(world.notifications).toHaveLength(1);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED', owner: first.executionArn });
      expect(world.failureQueue).toEqual([]);
    });

    it('does not take over from a crashed owner before its lease ends', async () => {
      // GIVEN the owner stopped after telling reviewers, five minutes ago
      const world = createWorld();
      await execute(largeMedia(), largeVideoEvent(), { world, crashAt: 'MarkReviewed' });
      // WHEN a replay brings the event again at the longest an Express execution runs
      const early = await execute(largeMedia(), largeVideoEvent(), { world, at: after(5) });
      // THEN
      expect(early.visited.at(-1)).toBe('ReviewInProgress');
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'NOTIFIED' });
    });

    it('after a crash once reviewers were told, redoes only the marking after the lease, without notifying again', async () => {
      const world = createWorld();
      const crashed = await execute(largeMedia(), largeVideoEvent(), { world, crashAt: 'MarkReviewed' });
      expect(crashed.failure).toBeDefined();
      expect(world.failureQueue).toEqual([]);
      const later = await execute(largeMedia(), largeVideoEvent(), { world, at: after(REVIEW_GUARD.leaseSeconds / 60 + 1) });
      expect(later.failure).toBeUndefined();
      expect(later.visited.slice(-6)).toEqual(['ResumeFrom', 'ClassifyByExtension', 'ClassifyVideo', 'NotifiedAlready', 'MarkReviewed', 'MarkCompleted']);
      expect(later.calls.NotifyReviewers).toBeUndefined();
      expect(world.notifications).toHaveLength(1);
      expect(world.dynamodb.scan('catalog')).toEqual([expect.objectContaining({ reviewStatus: 'REVIEWED' })]);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED', owner: later.executionArn, takenOverAt: after(REVIEW_GUARD.leaseSeconds / 60 + 1) });
    });

    it('after a crash before reviewers were told, notifies once after the lease and completes', async () => {
      const world = createWorld();
      await execute(largeMedia(), largeVideoEvent(), { world, crashAt: 'NotifyReviewers' });
      expect(world.notifications).toEqual([]);
      const later = await execute(largeMedia(), largeVideoEvent(), { world, at: after(REVIEW_GUARD.leaseSeconds / 60 + 1) });
      expect(later.visited).toContain('RecordPendingReview');
      expect(world.notifications).toHaveLength(1);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED' });
    });

    it('after a crash between the publish and its record, notifies again: at least once, never lost', async () => {
      // GIVEN SNS took the message but the owner stopped before the guard said NOTIFIED
      const world = createWorld();
      await execute(largeMedia(), largeVideoEvent(), { world, crashAt: 'MarkNotified' });
      expect(world.notifications).toHaveLength(1);
      // WHEN
      await execute(largeMedia(), largeVideoEvent(), { world, at: after(REVIEW_GUARD.leaseSeconds / 60 + 1) });
      // THEN the guard cannot know the publish happened: reviewers are told twice
      expect(world.notifications).toHaveLength(2);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED' });
    });

    it('gives one of two late starts the expired claim', async () => {
      const world = createWorld();
      await execute(largeMedia(), largeVideoEvent(), { world, crashAt: 'NotifyReviewers' });
      const at = after(REVIEW_GUARD.leaseSeconds / 60 + 1);
      const runs = await Promise.all([execute(largeMedia(), largeVideoEvent(), { world, at }), execute(largeMedia(), largeVideoEvent(), { world, at })]);
      expect(runs.map((run) => run.visited.at(-1)).sort()).toEqual(['MarkCompleted', 'ReviewInProgress']);
      expect(world.notifications).toHaveLength(1);
    });

    it('releases the claim on the failure path, so the redrive need not wait for the lease', async () => {
      const world = createWorld();
      await execute(largeMedia(), largeVideoEvent(), { world, behaviour: { MarkReviewed: permanently('DynamoDB.ResourceNotFoundException', 'Requested resource not found') } });
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'NOTIFIED', leaseUntil: 0, releasedAt: ENTERED });
      const redriven = await redrive(largeMedia(), world, world.failureQueue[0]);
      expect(redriven.visited.at(-1)).toBe('MarkCompleted');
    });

    it('still sends the failure when releasing the claim fails too', async () => {
      const world = createWorld();
      const run = await execute(largeMedia(), largeVideoEvent(), {
        world,
        behaviour: { MarkReviewed: permanently('DynamoDB.ResourceNotFoundException', 'Requested resource not found'), ReleaseClaim: permanently('DynamoDB.ResourceNotFoundException', 'Requested resource not found') },
      });
      expect(run.visited.slice(-3)).toEqual(['ReleaseClaim', 'SendToFailureQueue', 'ReviewFailed']);
      expect(world.failureQueue).toHaveLength(1);
    });

    it('gives the guard record an expiry of the archive retention plus 14 days from its claim', async () => {
      const run = await execute(largeMedia(), largeVideoEvent(), { at: '2028-02-29T23:59:59.999Z' });
      const claimMinute = Date.parse('2028-02-29T23:59:00Z') / 1000;
      expect(run.world.guard('large-media', 'evt-10')).toMatchObject({ expiration: claimMinute + guardRetentionDays * 86_400, leaseUntil: claimMinute + REVIEW_GUARD.leaseSeconds });
    });

    it('keeps the longest chain of retry waits inside an Express execution', () => {
      // GIVEN every task's longest wait (full jitter never waits longer than the interval)
      const states = largeMedia().States;
      const longestWait = (name: string) =>
        ((states[name]?.Retry ?? []) as { IntervalSeconds: number; BackoffRate: number; MaxAttempts: number }[])
          .map((retrier) => Array.from({ length: retrier.MaxAttempts }, (_, attempt) => retrier.IntervalSeconds * retrier.BackoffRate ** attempt).reduce((a, b) => a + b, 0))
          .reduce((a, b) => Math.max(a, b), 0);
      // WHEN every task on the longest path waits its longest
      const longestPath = ['ClaimEvent', 'ReadClaim', 'TakeOverClaim', 'RecordPendingReview', 'NotifyReviewers', 'MarkNotified', 'MarkReviewed', 'MarkCompleted', 'ReleaseClaim', 'SendToFailureQueue'];
      const total = longestPath.map(longestWait).reduce((a, b) => a + b, 0);
      // THEN a minute is left for the calls themselves
      expect(total).toBeLessThanOrEqual(Number((largeMedia() as { TimeoutSeconds?: number }).TimeoutSeconds) - 60);
    });
  });

  describe('a redriven failure', () => {
    it('after the notification, finishes the review without notifying again', async () => {
      // GIVEN the catalog rejected the final update once reviewers had been told
      const world = createWorld();
      const first = await execute(largeMedia(), largeVideoEvent(), {
        world,
        behaviour: { MarkReviewed: permanently('DynamoDB.ResourceNotFoundException', 'Requested resource not found') },
      });
      expect(first.failure).toBeInstanceOf(ExecutionError);
      expect(world.notifications).toHaveLength(1);
      // WHEN the operator redrives the failure message
      const second = await redrive(largeMedia(), world, world.failureQueue[0]);
      // THEN
      expect(second.failure).toBeUndefined();
      expect(second.visited).toEqual([
        'ValidateInput', 'ReadClock', 'ClaimEvent', 'ReadClaim', 'ClaimStatus', 'TakeOverClaim', 'ResumeFrom',
        'ClassifyByExtension', 'ClassifyVideo', 'NotifiedAlready', 'MarkReviewed', 'MarkCompleted',
      ]);
      expect(world.notifications).toHaveLength(1);
      expect(world.dynamodb.scan('catalog')).toEqual([expect.objectContaining({ reviewStatus: 'REVIEWED', reviewClassification: 'video' })]);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED', owner: second.executionArn });
      expect(world.failureQueue).toHaveLength(1);
    });

    it('before the notification, notifies once and completes', async () => {
      const world = createWorld();
      await execute(largeMedia(), largeVideoEvent(), {
        world,
        behaviour: { NotifyReviewers: permanently('SNS.AuthorizationErrorException', 'not authorized to publish') },
      });
      expect(world.notifications).toEqual([]);
      const second = await redrive(largeMedia(), world, world.failureQueue[0]);
      expect(second.failure).toBeUndefined();
      expect(second.visited).toContain('RecordPendingReview');
      expect(world.notifications).toHaveLength(1);
      expect(world.guard('large-media', 'evt-10')).toMatchObject({ status: 'COMPLETED' });
    });

    it('of an event that completed meanwhile does nothing', async () => {
      const world = createWorld();
      await execute(largeMedia(), largeVideoEvent(), { world, behaviour: { ClaimEvent: permanently('DynamoDB.ResourceNotFoundException', 'Requested resource not found') } });
      await execute(largeMedia(), largeVideoEvent(), { world });
      const redriven = await redrive(largeMedia(), world, world.failureQueue[0]);
      expect(redriven.visited.at(-1)).toBe('AlreadyReviewed');
      expect(world.notifications).toHaveLength(1);
    });
  });

  it('retries a transient error with backoff and then succeeds', async () => {
    // GIVEN SNS throttles the first publish
    const run = await execute(largeMedia(), largeVideoEvent(), {
      behaviour: {
        NotifyReviewers: (call) => {
          if (call === 1) throw new ServiceError('SNS.ThrottledException', 'Rate exceeded');
        },
      },
    });
    // THEN
    expect(run.failure).toBeUndefined();
    expect(run.retried).toEqual(['NotifyReviewers']);
    expect(run.calls.NotifyReviewers).toHaveLength(2);
    expect(run.world.notifications).toHaveLength(1);
    expect(run.visited.at(-1)).toBe('MarkCompleted');
    expect(run.world.failureQueue).toEqual([]);
  });

  it('catches a permanent error into the failure queue with the original event and fails the execution', async () => {
    // GIVEN the catalog table rejects the final update for good
    const input = largeVideoEvent();
    const run = await execute(largeMedia(), input, { behaviour: { MarkReviewed: permanently('DynamoDB.ResourceNotFoundException', 'Requested resource not found') } });
    // THEN no retry for a non-transient error, one message to the failure queue, and a failed execution
    expect(run.retried).toEqual([]);
    expect(run.visited.slice(-5)).toEqual(['MarkReviewed', 'CheckFailureCause', 'ReleaseClaim', 'SendToFailureQueue', 'ReviewFailed']);
    expect(run.world.failureQueue).toEqual([
      { executionArn: run.executionArn, error: 'DynamoDB.ResourceNotFoundException', cause: 'Requested resource not found', input },
    ]);
    expect(run.failure).toBeInstanceOf(ExecutionError);
    expect((run.failure as Error).message).toContain('Requested resource not found');
  });

  it('keeps a caught error that has no cause, instead of failing on the missing path', async () => {
    const failure = new ServiceError('States.TaskFailed', '');
    Object.defineProperty(failure, 'message', { value: undefined });
    const run = await execute(largeMedia(), largeVideoEvent(), {
      behaviour: {
        MarkReviewed: () => {
          throw failure;
        },
      },
    });
    expect(run.visited.slice(-5)).toEqual(['CheckFailureCause', 'AddMissingCause', 'ReleaseClaim', 'SendToFailureQueue', 'ReviewFailed']);
    expect(run.world.failureQueue).toEqual([expect.objectContaining({ error: 'States.TaskFailed', cause: 'no cause given' })]);
  });

  it('retries sending to the failure queue, so a brief SQS error does not lose the event', async () => {
    const run = await execute(largeMedia(), largeVideoEvent(), {
      behaviour: {
        MarkReviewed: permanently('DynamoDB.ResourceNotFoundException', 'Requested resource not found'),
        SendToFailureQueue: (call) => {
          if (call < 3) throw new ServiceError('SQS.SdkClientException', 'Unable to execute HTTP request');
        },
      },
    });
    expect(run.retried).toEqual(['SendToFailureQueue', 'SendToFailureQueue']);
    expect(run.calls.SendToFailureQueue).toHaveLength(3);
    expect(run.world.failureQueue).toHaveLength(1);
    expect(run.visited.at(-1)).toBe('ReviewFailed');
  });

  it('gives up on a transient error after its retries and catches it too', async () => {
    const run = await execute(largeMedia(), largeVideoEvent(), {
      behaviour: { RecordPendingReview: permanently('DynamoDB.ThrottlingException', 'Throughput exceeded') },
    });
    expect(run.calls.RecordPendingReview).toHaveLength(5);
    expect(run.visited.slice(-2)).toEqual(['SendToFailureQueue', 'ReviewFailed']);
  });
});
