/**
 * One loopback HTTP endpoint speaking the AWS JSON protocols (awsJson1_0 / awsJson1_1) for exactly
 * the operations the handlers call, selected by the X-Amz-Target header. The functions reach it
 * through the SDK's standard AWS_ENDPOINT_URL, so their clients are created as in production
 * (`new XClient({})`) and the handler code has no local branch. Requests are not authenticated.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalDynamoDb } from './dynamodb';
import { AwsServiceError } from './aws-service-error';
import { EventBridgeError, type LocalEventBus } from './event-bus';
import type { Flow } from './flow';
import type { LocalSecret } from './secrets';

export interface AwsServices {
  readonly dynamodb: LocalDynamoDb;
  readonly bus: LocalEventBus;
  readonly secret: LocalSecret;
  readonly flow: Flow;
}

interface ServiceError {
  readonly code: string;
  readonly message: string;
  readonly statusCode: number;
  readonly extra: Record<string, unknown>;
}

const PROTOCOLS: Readonly<Record<string, { readonly contentType: string; readonly namespace: string }>> = {
  DynamoDB_20120810: { contentType: 'application/x-amz-json-1.0', namespace: 'com.amazonaws.dynamodb.v20120810' },
  AWSEvents: { contentType: 'application/x-amz-json-1.1', namespace: 'com.amazonaws.eventbridge' },
  secretsmanager: { contentType: 'application/x-amz-json-1.1', namespace: 'com.amazonaws.secretsmanager' },
};

function toServiceError(error: unknown): ServiceError {
  if (error instanceof AwsServiceError) return { code: error.code, message: error.message, statusCode: error.statusCode, extra: error.extra };
  return { code: 'InternalFailure', message: error instanceof Error ? error.message : String(error), statusCode: 500, extra: {} };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function createAwsEndpoint(services: AwsServices): Server {
  const dispatch = (service: string, operation: string, input: Record<string, unknown>): Record<string, unknown> => {
    switch (service) {
      case 'DynamoDB_20120810':
        return services.dynamodb.handle(operation, input);
      case 'AWSEvents':
        if (operation !== 'PutEvents') throw new EventBridgeError('UnknownOperationException', `[local EventBridge stand-in] ${operation} is not supported by the stand-in (the ingest only calls PutEvents)`);
        return services.bus.putEvents(input);
      case 'secretsmanager':
        return services.secret.handle(operation, input);
      default:
        throw new EventBridgeError('UnknownOperationException', `[local AWS stand-in] unknown target ${service}.${operation}`);
    }
  };

  return createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const requestId = randomUUID();
      const target = String(request.headers['x-amz-target'] ?? '');
      const dot = target.indexOf('.');
      const service = target.slice(0, dot);
      const operation = target.slice(dot + 1);
      const protocol = PROTOCOLS[service] ?? { contentType: 'application/x-amz-json-1.1', namespace: 'local' };
      const send = (statusCode: number, body: unknown, errorCode?: string) => {
        response.writeHead(statusCode, {
          'content-type': protocol.contentType,
          'x-amzn-requestid': requestId,
          ...(errorCode ? { 'x-amzn-errortype': errorCode } : {}),
        });
        response.end(JSON.stringify(body));
      };
      try {
        const raw = await readBody(request);
        const input = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
        send(200, dispatch(service, operation, input));
      } catch (error) {
        const failure = toServiceError(error);
        if (failure.code === 'UnknownOperationException' || failure.message.startsWith('[local')) {
          // Loud: the handler called something the stand-in does not emulate.
          services.flow.emit('warn', 'aws-stand-in', `${target || '(no X-Amz-Target)'}: ${failure.message}`);
        }
        send(failure.statusCode, { __type: `${protocol.namespace}#${failure.code}`, message: failure.message, ...failure.extra }, failure.code);
      }
    })();
  });
}

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
