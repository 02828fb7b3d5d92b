/**
 * Local Step Functions: executes a state machine's synthesized definition with
 * aws-local-stepfunctions. Every Task state is bound, by its Resource, to a local integration that
 * performs the real effect on the stand-ins (DynamoDB items in the local tables, SNS publish shown
 * in the terminal, SQS SendMessage to the local queue), with Step Functions' error names
 * (`DynamoDB.ConditionalCheckFailedException`, …) so the definition's Retry and Catch apply.
 * A Task resource the local pipeline cannot perform stops the start with a clear error.
 */
import './node20-polyfills';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { SMALLEST_TARGET_INPUT_BYTES } from '../domain/fastio-envelope';
import type { Activity } from './activity';
import { describeWait, seconds, type Clock } from './clock';
import { DynamoDbError } from './dynamodb-expressions';
import type { LocalDynamoDb } from './dynamodb';
import type { FaultRegistry, FaultService } from './faults';
import { eventLabel, type Flow } from './flow';
import type { StateMachineDefinition, TopicDefinition } from './model';
import type { LocalQueue } from './sqs';

type Json = Parameters<StateMachine['run']>[0];
type Definition = ConstructorParameters<typeof StateMachine>[0];
type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
type TaskHandler = (input: Json) => Promise<Json>;

/** A service error as Step Functions surfaces it to Retry / Catch. */
/** StartExecution refuses larger input (what the ingest's claim-check keeps events under). */
export const MAX_EXECUTION_INPUT_BYTES = SMALLEST_TARGET_INPUT_BYTES;

export class IntegrationError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export interface StepFunctionsDeps {
  readonly dynamodb: LocalDynamoDb;
  readonly queueByUrl: (url: string) => LocalQueue | undefined;
  readonly topics: readonly TopicDefinition[];
  readonly faults: FaultRegistry;
  readonly clock: Clock;
  readonly flow: Flow;
  readonly activity: Activity;
  /** Any execution of the pipeline's state machines, for DescribeExecution. */
  readonly executionByArn: (executionArn: string) => ExecutionRecord | undefined;
  /** Reviewers' notifications, for tests and the status endpoint. */
  readonly published: { topicArn: string; subject?: string; message: string; at: number }[];
}

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly name: string;
  readonly input: unknown;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly visited: string[];
  readonly startDate: number;
  stopDate?: number;
  output?: unknown;
  error?: string;
  cause?: string;
}

const DYNAMODB_OPERATIONS: Readonly<Record<string, string>> = {
  getItem: 'GetItem',
  putItem: 'PutItem',
  updateItem: 'UpdateItem',
  deleteItem: 'DeleteItem',
};

function taskStates(states: Record<string, Record<string, unknown>>, into: [string, Record<string, unknown>][] = []): [string, Record<string, unknown>][] {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') into.push([name, state]);
    for (const branch of (state.Branches as { States: Record<string, Record<string, unknown>> }[] | undefined) ?? []) taskStates(branch.States, into);
    const iterator = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, Record<string, unknown>> } | undefined;
    if (iterator?.States) taskStates(iterator.States, into);
  }
  return into;
}

function asRecord(value: Json): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new IntegrationError('States.Runtime', 'the task parameters must be an object');
  return value as Record<string, unknown>;
}

export class LocalStateMachine {
  readonly executions: ExecutionRecord[] = [];
  readonly #executionsByArn = new Map<string, ExecutionRecord>();
  readonly #machine: StateMachine;
  readonly #handlers: Record<string, TaskHandler> = {};
  readonly #retryOverrides: Record<string, number[]> = {};

  constructor(
    readonly definition: StateMachineDefinition,
    private readonly deps: StepFunctionsDeps,
  ) {
    const states = (definition.definition.States ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, state] of taskStates(states)) {
      this.#handlers[name] = this.integration(name, String(state.Resource));
      const retriers = (state.Retry ?? []) as { IntervalSeconds?: number }[];
      if (retriers.length > 0 && deps.clock.timeScale !== 1) {
        // Scaled time: each retrier waits its IntervalSeconds divided by the time scale (no backoff or jitter).
        this.#retryOverrides[name] = retriers.map((retrier) => deps.clock.scaled((retrier.IntervalSeconds ?? 1) * 1000));
      }
    }
    this.#machine = new StateMachine(definition.definition as unknown as Definition, { validationOptions: { checkArn: false } });
  }

  execution(executionArn: string): ExecutionRecord | undefined {
    return this.#executionsByArn.get(executionArn);
  }

  get name(): string {
    return this.definition.name;
  }

  get arn(): string {
    return this.definition.arn;
  }

  private fault(service: FaultService, operation: string, queue?: LocalQueue): void {
    const fault = this.deps.faults.take({ service, operation, ...(queue === undefined ? {} : { queue: queue.definition }) });
    if (fault) throw new IntegrationError(`${service === 'sns' ? 'SNS' : 'SQS'}.${fault.errorCode ?? 'InternalErrorException'}`, fault.message ?? `injected by the local stand-in (fault #${fault.id})`);
  }

  private integration(stateName: string, resource: string): TaskHandler {
    const match = /^arn:aws[a-z-]*:states:::([a-z0-9-]+):([A-Za-z]+)$/.exec(resource);
    const [service, action] = match ? [match[1], match[2]] : [undefined, undefined];
    const { dynamodb, flow, clock } = this.deps;
    if (service === 'dynamodb' && action !== undefined && DYNAMODB_OPERATIONS[action] !== undefined) {
      const operation = DYNAMODB_OPERATIONS[action] as string;
      return async (input) => {
        try {
          return dynamodb.handle(operation, asRecord(input)) as Json;
        } catch (error) {
          if (!(error instanceof DynamoDbError)) throw error;
          throw new IntegrationError(
            `DynamoDB.${error.code}`,
            `${error.message} (Service: DynamoDb, Status Code: ${error.statusCode}, Request ID: ${randomUUID()})`,
          );
        }
      };
    }
    if (service === 'sns' && action === 'publish') {
      return async (input) => {
        this.fault('sns', 'Publish');
        const params = asRecord(input);
        const topicArn = String(params.TopicArn ?? '');
        const topic = this.deps.topics.find((candidate) => candidate.arn === topicArn);
        if (!topic) throw new IntegrationError('SNS.NotFoundException', `Topic does not exist (Service: Sns, Status Code: 404)`);
        const message = typeof params.Message === 'string' ? params.Message : JSON.stringify(params.Message);
        const subject = typeof params.Subject === 'string' ? params.Subject : undefined;
        this.deps.published.push({ topicArn, ...(subject === undefined ? {} : { subject }), message, at: clock.now() });
        flow.emit('info', `sns:${topic.logicalId.replace(/[0-9A-F]{8}$/, '')}`, `✉ ${subject ? `"${subject}" ` : ''}${message}`);
        return { MessageId: randomUUID(), SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: randomUUID() } };
      };
    }
    if (service === 'sqs' && action === 'sendMessage') {
      return async (input) => {
        const params = asRecord(input);
        const queue = this.deps.queueByUrl(String(params.QueueUrl ?? ''));
        this.fault('sqs', 'SendMessage', queue);
        if (!queue) throw new IntegrationError('SQS.QueueDoesNotExistException', 'The specified queue does not exist.');
        const body = typeof params.MessageBody === 'string' ? params.MessageBody : JSON.stringify(params.MessageBody);
        const message = queue.send(body);
        return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody, SdkHttpMetadata: { HttpStatusCode: 200 } };
      };
    }
    if (/^arn:aws[a-z-]*:states:::aws-sdk:sfn:describeExecution$/.test(resource)) {
      // The AWS SDK integration's shape: the API's fields, errors named Sfn.<exception>.
      return async (input) => {
        const executionArn = String(asRecord(input).ExecutionArn ?? '');
        const execution = this.deps.executionByArn(executionArn);
        if (!execution) throw new IntegrationError('Sfn.ExecutionDoesNotExistException', `Execution Does Not Exist: '${executionArn}'`);
        return {
          ExecutionArn: execution.executionArn,
          Name: execution.name,
          StateMachineArn: execution.executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''),
          Status: execution.status,
          StartDate: new Date(execution.startDate).toISOString(),
          ...(execution.stopDate === undefined ? {} : { StopDate: new Date(execution.stopDate).toISOString() }),
        };
      };
    }
    throw new Error(
      `state machine ${this.definition.logicalId}, state ${stateName}: the Task resource ${resource} is not emulated by the local pipeline (dynamodb:getItem|putItem|updateItem|deleteItem, sns:publish, sqs:sendMessage and aws-sdk:sfn:describeExecution are)`,
    );
  }

  /** StartExecution: validates the input, returns at once, runs in the background. */
  startExecution(input: string, options: { name?: string; describe?: string } = {}): ExecutionRecord {
    if (Buffer.byteLength(input, 'utf8') > MAX_EXECUTION_INPUT_BYTES) {
      throw new IntegrationError('ValidationException', `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${MAX_EXECUTION_INPUT_BYTES}`);
    }
    let parsed: Json;
    try {
      parsed = JSON.parse(input) as Json;
    } catch {
      throw new IntegrationError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not valid JSON');
    }
    const name = options.name ?? randomUUID();
    const executionArn = this.arn.replace(':stateMachine:', ':execution:') + `:${name}`;
    const record: ExecutionRecord = { executionArn, name, input: parsed, status: 'RUNNING', visited: [], startDate: this.deps.clock.now() };
    this.executions.push(record);
    this.#executionsByArn.set(executionArn, record);
    void this.deps.activity.track(this.run(record, parsed, options.describe ?? eventLabel(parsed)));
    return record;
  }

  private async run(record: ExecutionRecord, input: Json, describe: string): Promise<void> {
    const { clock, flow } = this.deps;
    const state: Record<string, unknown> = { Name: '', RetryCount: 0 };
    // The emulator keeps one context object; EnteredTime is read when a state evaluates its parameters.
    Object.defineProperty(state, 'EnteredTime', { enumerable: true, get: () => new Date(clock.now()).toISOString() });
    const context = {
      Execution: { Id: record.executionArn, Name: record.name, RoleArn: `arn:aws:iam::000000000000:role/${this.name}`, StartTime: new Date(record.startDate).toISOString() },
      StateMachine: { Id: this.arn, Name: this.name },
      State: state,
    };
    const options: RunOptions = {
      overrides: { taskResourceLocalHandlers: this.#handlers, retryIntervalOverrides: this.#retryOverrides },
      context: context as unknown as RunOptions['context'],
    };
    const execution = this.#machine.run(input, options);
    const label = this.definition.route ? `${this.definition.route}/workflow` : this.name;
    const logs = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered' && 'state' in event) record.visited.push(event.state.name);
        if (event.type === 'StateRetried' && 'state' in event) flow.emit('warn', label, `${describe}: ${event.state.name} failed; ${retryWait(clock, event.retry)}`);
      }
    })();
    try {
      record.output = await execution.result;
      record.status = 'SUCCEEDED';
      flow.emit('ok', label, `${describe}: execution ${record.name.slice(0, 8)} SUCCEEDED (${record.visited.join(' → ')})`);
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error instanceof Error ? error : new Error(String(error));
      record.status = 'FAILED';
      record.error = cause.name;
      record.cause = cause.message;
      flow.emit('fail', label, `${describe}: execution ${record.name.slice(0, 8)} FAILED ${cause.name}: ${cause.message} (${record.visited.join(' → ')})`);
    } finally {
      record.stopDate = clock.now();
      await logs.catch(() => undefined);
    }
  }
}

/**
 * What a Task state's retry waited, said after the wait (the library reports a retry once it slept).
 * As deployed the retrier's backoff applies; under a time scale every retry of a retrier waits its
 * scaled IntervalSeconds (the library takes one override per retrier), which the line says.
 */
function retryWait(clock: Pick<Clock, 'timeScale' | 'scaled'>, retry: { retrier: { IntervalSeconds?: number; BackoffRate?: number; MaxDelaySeconds?: number; MaxAttempts?: number; JitterStrategy?: string }; attempt: number }): string {
  const { IntervalSeconds: interval = 1, BackoffRate: backoff = 2, MaxDelaySeconds: maxDelay, MaxAttempts: maxAttempts = 3 } = retry.retrier;
  const awsSeconds = Math.min(interval * backoff ** (retry.attempt - 1), maxDelay ?? Number.POSITIVE_INFINITY);
  const of = `retry ${retry.attempt} of ${maxAttempts}`;
  if (clock.timeScale === 1) return `${of} after ${retry.retrier.JitterStrategy === 'FULL' ? 'up to ' : ''}${seconds(awsSeconds * 1000)} s`;
  const backedOff = awsSeconds === interval ? '' : `; AWS backs off, waiting ${seconds(awsSeconds * 1000)} s for this one`;
  return `${of} after ${describeWait(clock, interval * 1000)}${backedOff}`;
}
