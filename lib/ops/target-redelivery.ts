/**
 * Where `dlq redrive` hands a dead letter back: to the one target whose queue it came from, never
 * back through our bus, where the route's rule would deliver it to every target again.
 *
 * - A target DLQ holds the ORIGINAL event (EventBridge dead-letters the event it could not deliver,
 *   before the target's input was applied), so its redrive applies the target's InputPath or
 *   InputTransformer (lib/domain/input-transform.ts, as EventBridge does) and delivers the result.
 * - The queues behind an own target (buffer DLQ, Lambda on-failure, workflow failures) hold what
 *   the target was given, input already applied: their redrive delivers it unchanged to that hop.
 * - A created topic's subscription DLQ is not redriven: see SUBSCRIPTION_DLQ_REFUSAL.
 */
import { DescribeApiDestinationCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { applyTargetInput, headerParameterValues } from '../domain/input-transform';
import { IDEMPOTENCY_KEY_PATH, idempotencyKeyHeaderOf, type HttpTarget } from '../route-table';
import { RECORDER_REDRIVE_UNSUPPORTED, targetOutputKey } from '../stack-outputs';
import type { AwsClients } from './aws-runtime';
import { OperationFailed, UsageError } from './command';
import type { DeadLetterQueueRef, StackOutputs } from './deployment';

/** What a dead letter carries: the event it is about, and whether it is the original (before input). */
export interface DeadLetterContent {
  /** The EventBridge event, when the message has one (always for a target DLQ). */
  readonly event: Record<string, unknown> | undefined;
  /** The exact payload the hop was given (for a target DLQ: the original event's JSON). */
  readonly payload: string;
  /** True for a target DLQ: the target's input must still be applied. */
  readonly original: boolean;
}

export interface Redelivery {
  /** For the operator: where events go, e.g. 'Lambda arn:...'. Never a secret. */
  readonly destination: string;
  readonly deliver: (content: DeadLetterContent) => Promise<void>;
}

/** API destinations give up on an endpoint after 5 seconds; so does the redrive. */
const HTTP_TIMEOUT_MS = 5_000;

/**
 * Why a subscription DLQ is not redriven, in one line. SNS moves a message there without saying
 * which of the topic's subscriptions failed it, and publishing it to the topic again would deliver
 * it to every subscription, not to the one that failed.
 */
export const SUBSCRIPTION_DLQ_REFUSAL =
  'a subscription DLQ does not record which of the topic\'s subscriptions failed, and publishing to the topic again would deliver to every subscription; the messages stay in place: read them with dlq peek and deliver them to the failed subscriber yourself';

/** The https URL of an SQS queue from its ARN, as SQS itself names queues. */
export function queueUrlOfArn(queueArn: string): string {
  const [, partition, , region, account, name] = queueArn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/** e.g. 'https://hooks.slack.com/…': an incoming-webhook URL authenticates by its path, so only its origin is shown. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname === '/' && parsed.search === '' ? parsed.origin : `${parsed.origin}/…`;
  } catch {
    return '<unparseable URL>';
  }
}

function ruleContext(queue: DeadLetterQueueRef, outputs: StackOutputs, event: Record<string, unknown>) {
  const ruleArn = outputs.target(queue, 'RuleArn');
  return {
    ruleArn,
    ruleName: ruleArn.split('/').at(-1) ?? queue.route.name,
    // The original ingestion time is not in the dead letter; the event's own time is the closest.
    ingestionTime: typeof event.time === 'string' ? event.time : new Date().toISOString(),
  };
}

/** The body the target gets: a target DLQ's original event with the target's input applied. */
function payloadFor(queue: DeadLetterQueueRef, outputs: StackOutputs, content: DeadLetterContent): string {
  if (!content.original || queue.target.input === undefined || content.event === undefined) return content.payload;
  return applyTargetInput(content.event, queue.target.input, ruleContext(queue, outputs, content.event));
}

function toQueue(clients: AwsClients, queueUrl: string, what: string, payloadOf: (content: DeadLetterContent) => string): Redelivery {
  return {
    destination: `${what} ${queueUrl}`,
    deliver: async (content) => {
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: payloadOf(content) }));
    },
  };
}

function toFunction(clients: AwsClients, functionArn: string, payloadOf: (content: DeadLetterContent) => string): Redelivery {
  return {
    destination: `Lambda ${functionArn} (asynchronous invoke)`,
    deliver: async (content) => {
      const result = await clients.lambda.send(new InvokeCommand({ FunctionName: functionArn, InvocationType: 'Event', Payload: payloadOf(content) }));
      if (result.StatusCode !== 202) throw new Error(`Lambda accepted the asynchronous invoke with status ${result.StatusCode ?? 'none'}, not 202`);
    },
  };
}

function toWorkflow(clients: AwsClients, stateMachineArn: string, payloadOf: (content: DeadLetterContent) => string): Redelivery {
  return {
    destination: `state machine ${stateMachineArn}`,
    deliver: async (content) => {
      await clients.sfn.send(new StartExecutionCommand({ stateMachineArn, input: payloadOf(content) }));
    },
  };
}

function toTopic(clients: AwsClients, topicArn: string, payloadOf: (content: DeadLetterContent) => string): Redelivery {
  return {
    destination: `SNS topic ${topicArn}`,
    deliver: async (content) => {
      await clients.sns.send(new PublishCommand({ TopicArn: topicArn, Message: payloadOf(content) }));
    },
  };
}

/** PutEvents to the target bus: the event as it would have arrived there, on that bus, not ours. */
function toBus(clients: AwsClients, eventBusArn: string, payloadOf: (content: DeadLetterContent) => string): Redelivery {
  return {
    destination: `event bus ${eventBusArn}`,
    deliver: async (content) => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(payloadOf(content)) as Record<string, unknown>;
      } catch {
        throw new Error('the input of the bus target does not render to an event');
      }
      if (typeof event.source !== 'string' || typeof event['detail-type'] !== 'string' || typeof event.detail !== 'object' || event.detail === null) {
        throw new Error('the input of the bus target does not render to an event with source, detail-type and detail');
      }
      const time = typeof event.time === 'string' ? new Date(event.time) : undefined;
      const result = await clients.eventBridge.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: eventBusArn,
              Source: event.source,
              DetailType: event['detail-type'],
              Detail: JSON.stringify(event.detail),
              ...(Array.isArray(event.resources) ? { Resources: event.resources.map(String) } : {}),
              ...(time !== undefined && !Number.isNaN(time.getTime()) ? { Time: time } : {}),
            },
          ],
        }),
      );
      const failed = result.Entries?.[0];
      if ((result.FailedEntryCount ?? 0) > 0 || failed?.ErrorCode) {
        throw new Error(`PutEvents refused the entry: ${failed?.ErrorCode ?? 'unknown'}${failed?.ErrorMessage ? `: ${failed.ErrorMessage}` : ''}`);
      }
    },
  };
}

// ---- http --------------------------------------------------------------------------------------

async function secretString(clients: AwsClients, secretArn: string): Promise<string> {
  const { SecretString } = await clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (SecretString === undefined || SecretString === '') throw new OperationFailed(`secret ${secretArn} has no string value`);
  return SecretString;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The request headers that authenticate as the target's connection does, from the secret the table names. */
async function authorizationHeaders(target: HttpTarget, secret: string, fetchFn: typeof fetch): Promise<Record<string, string>> {
  const auth = target.authorization;
  switch (auth.type) {
    case 'api-key':
      return { [auth.headerName]: secret };
    case 'basic':
      return { authorization: basic(auth.username, secret) };
    case 'oauth-client-credentials': {
      const body = new URLSearchParams({ grant_type: 'client_credentials', ...(auth.scope === undefined ? {} : { scope: auth.scope }) });
      const response = await fetchFn(auth.tokenUrl, {
        method: 'POST',
        headers: { authorization: basic(auth.clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      const token = response.ok ? ((await response.json().catch(() => ({}))) as { access_token?: unknown }).access_token : undefined;
      if (typeof token !== 'string') throw new OperationFailed(`the OAuth token endpoint ${redactedUrl(auth.tokenUrl)} gave no access token (HTTP ${response.status})`);
      return { authorization: `Bearer ${token}` };
    }
  }
}

function secretArnOf(queue: DeadLetterQueueRef, target: HttpTarget, outputs: StackOutputs): string {
  // The deployed value first: a { fromConfig } ARN is known only to the deployment.
  if (outputs.has(targetOutputKey(queue.route.name, queue.targetName, 'SecretArn'))) return outputs.target(queue, 'SecretArn');
  const auth = target.authorization;
  const named = auth.type === 'api-key' ? auth.secretArn : auth.type === 'basic' ? auth.passwordSecretArn : auth.clientSecretArn;
  if (typeof named === 'string') return named;
  return outputs.target(queue, 'SecretArn');
}

/** POSTs (or the target's method) to the endpoint the API destination really calls, as EventBridge would. */
async function toHttp(queue: DeadLetterQueueRef, target: HttpTarget, outputs: StackOutputs, clients: AwsClients, fetchFn: typeof fetch): Promise<Redelivery> {
  const apiDestinationArn = outputs.target(queue, 'ApiDestinationArn');
  // arn:...:api-destination/<name>/<uuid>
  const name = apiDestinationArn.split(':').at(-1)?.split('/')[1] ?? '';
  const described = await clients.eventBridge.send(new DescribeApiDestinationCommand({ Name: name }));
  const url = described.InvocationEndpoint;
  if (url === undefined) throw new OperationFailed(`API destination ${name} has no invocation endpoint`);
  const method = described.HttpMethod ?? target.method ?? 'POST';
  const secretArn = secretArnOf(queue, target, outputs);
  let headers: Record<string, string> | undefined;
  return {
    destination: `API destination ${name} (${method} ${redactedUrl(url)})`,
    deliver: async (content) => {
      const body = payloadFor(queue, outputs, content);
      headers ??= await authorizationHeaders(target, await secretString(clients, secretArn), fetchFn);
      // The same Idempotency-Key the rule sends, so a receiver that saw the first attempt drops this one.
      const idempotencyKey = content.event === undefined ? {} : headerParameterValues(content.event, { [idempotencyKeyHeaderOf(target)]: IDEMPOTENCY_KEY_PATH });
      const response = await fetchFn(url, {
        method,
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Amazon/EventBridge/ApiDestinations', ...idempotencyKey, ...headers },
        ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      // Drain the body so the connection is released; its content is the endpoint's business.
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`${redactedUrl(url)} answered HTTP ${response.status}`);
    },
  };
}

// ---- the one place that picks the hop -----------------------------------------------------------

/** Where a dead letter of this queue goes back to. Throws UsageError for a queue that cannot be redriven. */
export async function redeliveryFor(queue: DeadLetterQueueRef, outputs: StackOutputs, clients: AwsClients, fetchFn: typeof fetch = fetch): Promise<Redelivery> {
  const asIs = (content: DeadLetterContent) => content.payload;
  const transformed = (content: DeadLetterContent) => payloadFor(queue, outputs, content);
  const target = queue.target;
  switch (queue.role) {
    case 'subscription-dlq':
      throw new UsageError(`${queue.name} cannot be redriven: ${SUBSCRIPTION_DLQ_REFUSAL}`);
    case 'recorder-dlq':
      throw new UsageError(`${queue.name}: ${RECORDER_REDRIVE_UNSUPPORTED}`);
    case 'buffer-dlq':
      return toQueue(clients, outputs.target(queue, 'BufferQueueUrl'), 'buffer queue', asIs);
    case 'on-failure':
      return toFunction(clients, outputs.target(queue, 'FunctionArn'), asIs);
    case 'workflow-failures':
      return toWorkflow(clients, outputs.target(queue, 'StateMachineArn'), asIs);
    case 'target-dlq':
      break;
  }
  // The rule could not deliver to this target: deliver to it directly, input applied.
  switch (target.kind) {
    case 'queue':
      return 'consumer' in target
        ? toQueue(clients, outputs.target(queue, 'BufferQueueUrl'), 'buffer queue', transformed)
        : toQueue(clients, queueUrlOfArn(target.queueArn), 'queue', transformed);
    case 'function':
      return toFunction(clients, 'consumer' in target ? outputs.target(queue, 'FunctionArn') : target.functionArn, transformed);
    case 'workflow':
      return toWorkflow(clients, 'workflow' in target ? outputs.target(queue, 'StateMachineArn') : target.stateMachineArn, transformed);
    case 'topic':
      return toTopic(clients, target.topicArn ?? outputs.target(queue, 'TopicArn'), transformed);
    case 'bus':
      return toBus(clients, target.eventBusArn, transformed);
    case 'http':
      return toHttp(queue, target, outputs, clients, fetchFn);
  }
}
