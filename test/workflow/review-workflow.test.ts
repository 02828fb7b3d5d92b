import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../lib/route-table';
import { synthesize } from '../infra/synthesize';
import { onlyResource, renderDefinition, routeIdFragment } from '../infra/template-helpers';

type Json = Parameters<StateMachine['run']>[0];
type EventLog = Awaited<ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>>['value'];

const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:review:test-execution';

function largeVideoEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'file.uploaded',
    source: 'fastio',
    account: '123456789012',
    time: '2026-11-22T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { eventId: 'evt-10', eventType: 'file.uploaded', workspaceId: 'ws-1', fileId: 'f-10', fileName: 'launch.mp4', extension: 'mp4', sizeBytes: 524_288_000, payload: {} },
  };
}

function withDetail(event: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  return { ...event, detail: { ...(event.detail as Record<string, unknown>), ...changes } };
}

class ServiceError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Runs the synthesized definition with the service integrations replaced by recording local handlers. */
async function execute(
  definition: Record<string, unknown>,
  input: Record<string, unknown>,
  behaviour: Partial<Record<'RecordPendingReview' | 'NotifyReviewers' | 'MarkReviewed' | 'SendToFailureQueue', (call: number) => Json>> = {},
) {
  const calls: Record<string, Json[]> = {};
  const handler = (state: keyof typeof behaviour) => (taskInput: Json) => {
    (calls[state] ??= []).push(taskInput);
    const custom = behaviour[state];
    return custom ? custom(calls[state].length) : {};
  };
  const machine = new StateMachine(definition as unknown as ConstructorParameters<typeof StateMachine>[0], { validationOptions: { checkArn: false } });
  const execution = machine.run(input as Json, {
    overrides: {
      taskResourceLocalHandlers: {
        RecordPendingReview: handler('RecordPendingReview'),
        NotifyReviewers: handler('NotifyReviewers'),
        MarkReviewed: handler('MarkReviewed'),
        SendToFailureQueue: handler('SendToFailureQueue'),
      },
      retryIntervalOverrides: { RecordPendingReview: 0, NotifyReviewers: 0, MarkReviewed: 0, SendToFailureQueue: 0 },
    },
    // The emulator does not fill in per-state context; a fixed EnteredTime stands in for it.
    context: {
      Execution: { Id: EXECUTION_ARN, Input: input, Name: 'test-execution', StartTime: '2026-11-22T10:00:01Z', RoleArn: 'arn:aws:iam::123456789012:role/review' },
      State: { EnteredTime: '2026-11-22T10:00:02Z', Name: 'current', RetryCount: 0 },
    } as never,
  });
  const events: Exclude<EventLog, void>[] = [];
  for await (const event of execution.eventLogs) events.push(event);
  const statesOf = (type: string) => events.filter((event) => event.type === type).map((event) => ('state' in event ? event.state.name : ''));
  const visited = statesOf('StateEntered');
  const retried = statesOf('StateRetried');
  let output: unknown;
  let failure: unknown;
  try {
    output = await execution.result;
  } catch (error) {
    failure = error;
  }
  return { calls, visited, retried, output, failure };
}

describe('review workflow, executed from the synthesized definition', () => {
  let definitions: Record<string, Record<string, unknown>>;
  beforeAll(() => {
    const { templates } = synthesize();
    definitions = Object.fromEntries(
      routeTable
        .filter((route) => route.target.kind === 'workflow')
        .map((route) => {
          const [, stateMachine] = onlyResource(templates.routing, 'AWS::StepFunctions::StateMachine', routeIdFragment(route.name));
          return [route.name, renderDefinition(stateMachine.Properties.DefinitionString)];
        }),
    );
  });

  it('records, classifies, notifies and marks a large video reviewed', async () => {
    // GIVEN a large video event as the large-media rule delivers it
    const input = largeVideoEvent();
    // WHEN
    const run = await execute(definitions['large-media'] ?? {}, input);
    // THEN
    expect(run.failure).toBeUndefined();
    expect(run.visited).toEqual(['RecordPendingReview', 'ClassifyByExtension', 'ClassifyVideo', 'NotifyReviewers', 'MarkReviewed']);
    expect(run.output).toEqual({ ...input, classification: 'video' });
    expect(run.calls.SendToFailureQueue).toBeUndefined();
    expect(run.calls.RecordPendingReview?.[0]).toMatchObject({
      Key: { workspaceId: { S: 'ws-1' }, fileId: { S: 'f-10' } },
      UpdateExpression: 'SET reviewStatus = :pending, reviewEventId = :eventId, reviewRequestedAt = :now',
      ExpressionAttributeValues: { ':pending': { S: 'PENDING' }, ':eventId': { S: 'evt-10' } },
    });
    expect(run.calls.NotifyReviewers?.[0]).toMatchObject({
      Message: { reason: 'file.uploaded', classification: 'video', workspaceId: 'ws-1', fileId: 'f-10', eventId: 'evt-10' },
    });
    expect(run.calls.MarkReviewed?.[0]).toMatchObject({
      ExpressionAttributeValues: { ':reviewed': { S: 'REVIEWED' }, ':classification': { S: 'video' } },
    });
  });

  it.each([
    ['png', 'ClassifyImage', 'image'],
    ['tiff', 'ClassifyImage', 'image'],
    ['pdf', 'ClassifyOther', 'other'],
  ])('classifies extension %s through %s', async (extension, state, classification) => {
    const run = await execute(definitions['large-media'] ?? {}, withDetail(largeVideoEvent(), { extension }));
    expect(run.visited).toContain(state);
    expect(run.output).toMatchObject({ classification });
  });

  it('classifies an event without an extension as other instead of failing', async () => {
    const input = largeVideoEvent();
    const detail = { ...(input.detail as Record<string, unknown>) };
    delete detail.extension;
    const run = await execute(definitions['untrusted-agent-deletions'] ?? {}, { ...input, 'detail-type': 'file.deleted', detail });
    expect(run.failure).toBeUndefined();
    expect(run.visited).toContain('ClassifyOther');
  });

  it('retries a transient error with backoff and then succeeds', async () => {
    // GIVEN SNS throttles the first publish
    const run = await execute(definitions['large-media'] ?? {}, largeVideoEvent(), {
      NotifyReviewers: (call) => {
        if (call === 1) throw new ServiceError('SNS.ThrottledException', 'Rate exceeded');
        return { MessageId: 'm-1' };
      },
    });
    // THEN
    expect(run.failure).toBeUndefined();
    expect(run.retried).toEqual(['NotifyReviewers']);
    expect(run.calls.NotifyReviewers).toHaveLength(2);
    expect(run.visited.at(-1)).toBe('MarkReviewed');
    expect(run.calls.SendToFailureQueue).toBeUndefined();
  });

  it('catches a permanent error into the failure queue with the original event and fails the execution', async () => {
    // GIVEN the catalog table rejects the final update for good
    const input = largeVideoEvent();
    const run = await execute(definitions['large-media'] ?? {}, input, {
      MarkReviewed: () => {
        throw new ServiceError('DynamoDB.ResourceNotFoundException', 'Requested resource not found');
      },
    });
    // THEN no retry for a non-transient error, one message to the failure queue, and a failed execution
    expect(run.retried).toEqual([]);
    expect(run.visited).toEqual(['RecordPendingReview', 'ClassifyByExtension', 'ClassifyVideo', 'NotifyReviewers', 'MarkReviewed', 'SendToFailureQueue', 'ReviewFailed']);
    expect(run.calls.SendToFailureQueue).toHaveLength(1);
    expect(run.calls.SendToFailureQueue?.[0]).toMatchObject({
      MessageBody: {
        executionArn: EXECUTION_ARN,
        error: 'DynamoDB.ResourceNotFoundException',
        cause: 'Requested resource not found',
        input,
      },
    });
    expect(run.failure).toBeInstanceOf(ExecutionError);
    expect((run.failure as Error).message).toContain('Requested resource not found');
  });

  it('retries sending to the failure queue, so a brief SQS error does not lose the event', async () => {
    let sends = 0;
    const run = await execute(definitions['large-media'] ?? {}, largeVideoEvent(), {
      MarkReviewed: () => {
        throw new ServiceError('DynamoDB.ResourceNotFoundException', 'Requested resource not found');
      },
      SendToFailureQueue: () => {
        sends += 1;
        if (sends < 3) throw new ServiceError('SQS.SdkClientException', 'Unable to execute HTTP request');
        return { MessageId: 'm-failure' };
      },
    });
    expect(run.retried).toEqual(['SendToFailureQueue', 'SendToFailureQueue']);
    expect(run.calls.SendToFailureQueue).toHaveLength(3);
    expect(run.visited.at(-1)).toBe('ReviewFailed');
  });

  it('gives up on a transient error after its retries and catches it too', async () => {
    const run = await execute(definitions['large-media'] ?? {}, largeVideoEvent(), {
      RecordPendingReview: () => {
        throw new ServiceError('DynamoDB.ThrottlingException', 'Throughput exceeded');
      },
    });
    expect(run.calls.RecordPendingReview).toHaveLength(5);
    expect(run.visited.slice(-2)).toEqual(['SendToFailureQueue', 'ReviewFailed']);
  });
});
