/**
 * AWS SDK clients of the ingest function, created once per container.
 *
 * No local-mode branches: the SDK honours the standard AWS_ENDPOINT_URL_EVENTBRIDGE and
 * AWS_ENDPOINT_URL_SECRETS_MANAGER variables, and tests mock the client classes with aws-sdk-client-mock.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Bounded so that a slow AWS call ends as the handler's own 503 well inside the 6 s function
 * timeout, instead of a Lambda timeout: two attempts of at most 2 s each, plus backoff.
 */
const BOUNDED = { maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } } as const;

export const eventBridge = new EventBridgeClient(BOUNDED);
/** Used only through the Powertools Parameters provider in signing-secret.ts. */
export const secretsManager = new SecretsManagerClient(BOUNDED);
