import { SecretValue } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { IDEMPOTENCY_KEY_PATH, idempotencyKeyHeaderOf, type Configurable, type HttpAuthorization, type HttpTarget as HttpTargetSpec } from '../domain/route-types';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/** EventBridge's default, and its maximum without a quota increase, for one API destination. */
export const DEFAULT_RATE_LIMIT_PER_SECOND = 300;

function resolved(value: Configurable, field: string): string {
  // resolveRouteTable replaces every { fromConfig } before the stacks are built.
  if (typeof value !== 'string') throw new Error(`${field} is still { fromConfig: "${value.fromConfig}" }: resolve the route table first`);
  return value;
}

/** The Secrets Manager secret the authorization names (its value authenticates; `ops dlq redrive` reads it too). */
export function httpSecretArn(target: HttpTargetSpec): string {
  const auth = target.authorization;
  switch (auth.type) {
    case 'api-key':
      return resolved(auth.secretArn, 'authorization.secretArn');
    case 'basic':
      return resolved(auth.passwordSecretArn, 'authorization.passwordSecretArn');
    case 'oauth-client-credentials':
      return resolved(auth.clientSecretArn, 'authorization.clientSecretArn');
  }
}

/**
 * The connection's authorization. Every value is a Secrets Manager dynamic reference, resolved by
 * CloudFormation at deploy time: the template holds the secret's ARN, never its value.
 */
function authorizationOf(auth: HttpAuthorization): events.Authorization {
  switch (auth.type) {
    case 'api-key':
      return events.Authorization.apiKey(auth.headerName, SecretValue.secretsManager(resolved(auth.secretArn, 'authorization.secretArn')));
    case 'basic':
      return events.Authorization.basic(auth.username, SecretValue.secretsManager(resolved(auth.passwordSecretArn, 'authorization.passwordSecretArn')));
    case 'oauth-client-credentials':
      return events.Authorization.oauth({
        authorizationEndpoint: auth.tokenUrl,
        httpMethod: events.HttpMethod.POST,
        clientId: auth.clientId,
        clientSecret: SecretValue.secretsManager(resolved(auth.clientSecretArn, 'authorization.clientSecretArn')),
        bodyParameters: {
          grant_type: events.HttpParameter.fromString('client_credentials'),
          ...(auth.scope === undefined ? {} : { scope: events.HttpParameter.fromString(auth.scope) }),
        },
      });
  }
}

/**
 * `{ kind: 'http', url, method?, authorization, rateLimitPerSecond? }`: any HTTPS endpoint (a Slack
 * or Teams incoming webhook, a SaaS API) through an EventBridge connection and API destination,
 * invoked with a role allowed events:InvokeApiDestination on that destination only.
 */
export class HttpTarget extends RouteTargetConstruct<HttpTargetSpec> {
  public readonly connection: events.Connection;
  public readonly apiDestination: events.ApiDestination;
  public readonly role: iam.Role;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<HttpTargetSpec>) {
    super(scope, props);
    const { target, route } = props;
    this.connection = new events.Connection(this, 'Connection', {
      description: `Route ${route.name} target ${this.name}: ${target.authorization.type} authorization from Secrets Manager.`,
      authorization: authorizationOf(target.authorization),
    });
    this.apiDestination = new events.ApiDestination(this, 'ApiDestination', {
      description: `Route ${route.name} target ${this.name}.`,
      connection: this.connection,
      endpoint: resolved(target.url, 'url'),
      httpMethod: events.HttpMethod[target.method ?? 'POST'],
      rateLimitPerSecond: target.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT_PER_SECOND,
    });
    this.role = this.eventBridgeRole(props.resources.eventBus, `API destination ${this.name}`);
    this.destinationArn = this.apiDestination.apiDestinationArn;
    this.deliver(
      new targets.ApiDestination(this.apiDestination, {
        ...this.targetOptions,
        eventRole: this.role,
        // EventBridge fills a header value that is a JSON path from the event, on every attempt.
        headerParameters: { [idempotencyKeyHeaderOf(target)]: IDEMPOTENCY_KEY_PATH },
      }),
    );
  }
}
