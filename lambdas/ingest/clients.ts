/**
 * AWS SDK clients of the ingest function, created once per container.
 *
 * No local-mode branches: the SDK honours the standard AWS_ENDPOINT_URL_EVENTBRIDGE and
 * AWS_ENDPOINT_URL_SECRETS_MANAGER variables, and tests mock the client classes with aws-sdk-client-mock.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const eventBridge = new EventBridgeClient({});
/** Used only through the Powertools Parameters provider in signing-secret.ts. */
export const secretsManager = new SecretsManagerClient({});
