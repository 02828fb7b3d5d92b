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

const EXECUTION_PREFIX = 'arn:aws:states:eu-west-1:123456789012:execution:review:';
const HAPPY_PATH = ['ValidateInput', 'ClaimEvent', 'RecordPendingReview', 'ClassifyByExtension', 'ClassifyVideo', 'NotifiedAlready', 'NotifyReviewers', 'MarkNotified', 'MarkReviewed', 'MarkCompleted'];

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
    executions: new Map<string, string>(),
    guard: (route: string, eventId: string) => dynamodb.scan('guard').find((item) => item.id === reviewGuardId(route, eventId)),
    catalogWrites: () => dynamodb.operations.filter((operation) => operation.table === 'catalog' && operation.outcome === 'ok'),
  };
}
type World = ReturnType<typeof createWorld>;

type Behaviour = Partial<Record<string, (call: number) => void>>;

let executionCount = 0;
const machines = new WeakMap<Definition, StateMachine>();

/**
 * Runs the synthesized definition with each Task replaced by a local handler that performs its
 * effect on the world. A behaviour runs before the effect and may throw a service error.
 */
async function execute(definition: Definition, input: unknown, options: { world?: World; behaviour?: Behaviour } = {}) {
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
    if (resource.endsWith(':sfn:describeExecution')) {
      const status = world.executions.get(String(params.ExecutionArn));
      if (status === undefined) throw new ServiceError('Sfn.ExecutionDoesNotExistException', `Execution Does Not Exist: '${String(params.ExecutionArn)}'`);
      return { ExecutionArn: String(params.ExecutionArn), Status: status };
    }
    throw new Error(`${state}: no local handler for ${resource}`);
  };
  const handlers = Object.fromEntries(
    tasks.map(([state, definitionOfState]) => [
      state,
      async (taskInput: Json) => {
        const params = taskInput as Record<string, unknown>;
        (calls[state] ??= []).push(params);
        behaviour[state]?.(calls[state].length);
        return effect(state, String(definitionOfState.Resource), params);
      },
    ]),
  );
  const machine = machines.get(definition) ?? new StateMachine(definition as unknown as ConstructorParameters<typeof StateMachine>[0], { validationOptions: { checkArn: false } });
  machines.set(definition, machine);
  world.executions.set(executionArn, 'RUNNING');
  const execution = machine.run(input as Json, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      retryIntervalOverrides: Object.fromEntries(tasks.map(([state]) => [state, 0])),
    },
    // The emulator does not fill in per-state context; a fixed EnteredTime stands in for it.
    context: {
      Execution: { Id: executionArn, Input: input, Name: executionArn.split(':').at(-1), StartTime: '2026-11-22T10:00:01Z', RoleArn: 'arn:aws:iam::123456789012:role/review' },
      State: { EnteredTime: '2026-11-22T10:00:02Z', Name: 'current', RetryCount: 0 },
    } as never,
  });
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
  world.executions.set(executionArn, failure === undefined ? 'SUCCEEDED' : 'FAILED');
  return { executionArn, calls, visited: statesOf('StateEntered'), retried: statesOf('StateRetried'), output, failure, world };
}

/** What `ops dlq redrive` does with a workflow-failures message: start the workflow again with its input. */
function redrive(definition: Definition, world: World, message: Record<string, unknown> | undefined, behaviour: Behaviour = {}) {
  expect(message, 'a failure message to redrive').toBeDefined();
  return execute(definition, message?.input, { world, behaviour });
}

const permanently = (name: string, message: string) => () => {
  throw new ServiceError(name, message);
};

describe('review workflow, executed from the synthesized definition', () => {
  let definitions: Record<string, Definition>;
  const largeMedia = () => definitions['large-media'] as Definition;
  beforeAll(() => {
    const { templates } = synthesize();
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
    expect(run.output).toEqual({ ...input, guard: { status: 'STARTED' }, classification: 'video' });
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
      expect(second.visited).toEqual(['ValidateInput', 'ClaimEvent', 'ReadClaim', 'ClaimStatus', 'AlreadyReviewed']);
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

    it('leaves an event to the execution that is still reviewing it', async () => {
      // GIVEN another execution claimed the event and is still running
      const world = createWorld();
      const owner = `${EXECUTION_PREFIX}still-running`;
      world.executions.set(owner, 'RUNNING');
      world.dynamodb.handle('PutItem', { TableName: 'guard', Item: { id: { S: reviewGuardId('large-media', 'evt-10') }, status: { S: 'STARTED' }, owner: { S: owner } } });
      // WHEN
      const run = await execute(largeMedia(), largeVideoEvent(), { world });
      // THEN
      expect(run.failure).toBeUndefined();
      expect(run.visited.slice(-3)).toEqual(['CheckClaimOwner', 'OwnerStillRunning', 'ReviewInProgress']);
      expect(world.notifications).toEqual([]);
      expect(world.catalogWrites()).toEqual([]);
    });

    it.each([
      ['timed out', 'TIMED_OUT'],
      ['was aborted', 'ABORTED'],
      ['is no longer known', undefined],
    ])('takes over a claim whose owner %s and notifies once', async (_case, ownerStatus) => {
      const world = createWorld();
      const owner = `${EXECUTION_PREFIX}gone`;
      if (ownerStatus) world.executions.set(owner, ownerStatus);
      world.dynamodb.handle('PutItem', { TableName: 'guard', Item: { id: { S: reviewGuardId('large-media', 'evt-10') }, status: { S: 'STARTED' }, owner: { S: owner } } });
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
        'ValidateInput', 'ClaimEvent', 'ReadClaim', 'ClaimStatus', 'CheckClaimOwner', 'OwnerStillRunning', 'TakeOverClaim', 'ResumeFrom',
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
    expect(run.visited.slice(-4)).toEqual(['MarkReviewed', 'CheckFailureCause', 'SendToFailureQueue', 'ReviewFailed']);
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
    expect(run.visited.slice(-4)).toEqual(['CheckFailureCause', 'AddMissingCause', 'SendToFailureQueue', 'ReviewFailed']);
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
