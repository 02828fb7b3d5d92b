/**
 * The webhook signing secret (DESIGN.md decision 3), read by ARN through Powertools Parameters.
 *
 * One cached read returns AWSCURRENT and, while that version is younger than the rotation grace period
 * (its CreatedDate), AWSPREVIOUS too. Powertools' SecretsProvider returns only the secret string, so this
 * is a small Powertools provider (BaseProvider, same cache and options) over GetSecretValue that keeps the
 * version's CreatedDate. Secrets Manager is called:
 * - on the first request of a container, then when the cached value is older than SECRET_CACHE_SECONDS;
 * - on a signature mismatch, at most once per refresh interval (DEFAULT_SECRET_REFRESH_INTERVAL_SECONDS),
 *   which picks up a rotation early;
 * - never more than once per FAILED_READ_BACKOFF_MS after a failed read.
 * So a flood of forged deliveries costs at most one read of each version a minute per container.
 *
 * A mismatch is only final (401, which Fast.io never retries) when it was checked against a read made
 * for this very delivery. Otherwise the delivery may be signed with a version put after the last read,
 * and while the refresh is rate-limited the answer is "unverified, retry after N s" (503): a genuine
 * delivery signed with any version in Secrets Manager is never refused for good.
 *
 * The same holds for a version that could not be read. AWSCURRENT unreadable: the read fails as a
 * whole (503). AWSPREVIOUS unreadable while it is still accepted (throttled, timed out or cut off by
 * the deadline, a 5xx, access denied, a KMS decryption failure: anything but "no such version"): the
 * current version keeps working, and a delivery it does not match is `unverified` (503 with
 * retry-after until the next read may be made), never 401, as it may be signed with that version.
 * Access denied is included because it is a fault of this deployment, not of the delivery: a 401
 * would make Fast.io drop a genuine delivery for good, a 503 pages and lets it be resent.
 */
import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { GetSecretValueCommand, type GetSecretValueCommandOutput, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { logger } from '../shared/powertools';

export type SecretStage = 'AWSCURRENT' | 'AWSPREVIOUS';

export interface SigningKey {
  /** The HMAC key: the SecretString (trimmed) as UTF-8, or the SecretBinary bytes. Empty when unusable. */
  readonly key: Buffer;
  readonly versionId: string | undefined;
  readonly createdDate: Date | undefined;
}

export interface SigningKeys {
  readonly current: SigningKey;
  /** Read only while `current` is inside the grace period; absent when there is no AWSPREVIOUS version. */
  readonly previous: SigningKey | undefined;
  /** AWSPREVIOUS should have been read (inside the grace period) but the read failed: a mismatch is not final. */
  readonly previousUnreadable: boolean;
}

export const SECRET_CACHE_SECONDS = 300;
export const FAILED_READ_BACKOFF_MS = 5_000;

/** The secret could not be read (Secrets Manager failed, or a recent read failed and we are backing off). */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
}

/** The secret was read but its AWSCURRENT value is empty: fail closed. */
export class SecretEmptyError extends Error {
  override readonly name = 'SecretEmptyError';
}

function toSigningKey(output: GetSecretValueCommandOutput): SigningKey {
  let key: Buffer;
  if (typeof output.SecretString === 'string') key = Buffer.from(output.SecretString.trim(), 'utf8');
  else if (output.SecretBinary instanceof Uint8Array) key = Buffer.from(output.SecretBinary);
  else key = Buffer.alloc(0);
  return { key, versionId: output.VersionId, createdDate: output.CreatedDate };
}

export function isInGracePeriod(current: SigningKey, nowMs: number, graceMs: number): boolean {
  return current.createdDate !== undefined && nowMs - current.createdDate.getTime() < graceMs;
}

function isSigningKeys(value: unknown): value is SigningKeys {
  return typeof value === 'object' && value !== null && 'current' in value && 'previous' in value;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

const errorNameOf = (error: unknown): string => (error instanceof Error ? error.name : 'Error');
const errorMessageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Powertools Parameters provider whose value for a secret ARN is its SigningKeys. */
export class SigningKeyProvider extends BaseProvider {
  readonly #secretsManager: SecretsManagerClient;
  readonly #graceMs: number;
  #lastReadAt = Number.NEGATIVE_INFINITY;
  #lastReadFailed = false;
  #reads = 0;

  constructor(secretsManager: SecretsManagerClient, graceMs: number) {
    super({ awsSdkV3Client: secretsManager });
    this.#secretsManager = secretsManager;
    this.#graceMs = graceMs;
  }

  /** When Secrets Manager was last called (epoch ms), whatever the outcome. */
  get lastReadAt(): number {
    return this.#lastReadAt;
  }

  /** How many reads of the secret succeeded in this container. */
  get reads(): number {
    return this.#reads;
  }

  async getKeys(secretArn: string, options: { forceFetch?: boolean } = {}): Promise<SigningKeys> {
    const value = await this.get(secretArn, { maxAge: SECRET_CACHE_SECONDS, forceFetch: options.forceFetch ?? false });
    if (!isSigningKeys(value)) throw new SecretUnavailableError('the signing secret provider returned no value');
    return value;
  }

  protected async _get(name: string): Promise<SigningKeys> {
    const now = Date.now();
    if (this.#lastReadFailed && now - this.#lastReadAt < FAILED_READ_BACKOFF_MS) {
      throw new SecretUnavailableError('a recent read of the signing secret failed; not retrying yet');
    }
    this.#lastReadAt = now;
    this.#lastReadFailed = true;
    const current = toSigningKey(
      await this.#secretsManager.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' })),
    );
    let previous: SigningKey | undefined;
    let previousUnreadable = false;
    if (isInGracePeriod(current, now, this.#graceMs)) {
      try {
        previous = toSigningKey(
          await this.#secretsManager.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' })),
        );
      } catch (error) {
        // No AWSPREVIOUS (first version) is normal. Any other failure defers previous-secret deliveries
        // (503) until a read succeeds; the current secret keeps working.
        if (!isNotFound(error)) {
          previousUnreadable = true;
          logger.warn('cannot read the previous signing secret version', { errorName: errorNameOf(error), errorMessage: errorMessageOf(error) });
        }
      }
    }
    this.#lastReadFailed = false;
    this.#reads += 1;
    return { current, previous, previousUnreadable };
  }

  protected _getMultiple(): Promise<Record<string, unknown> | undefined> {
    return Promise.reject(new Error('SigningKeyProvider reads one secret at a time'));
  }
}

/** What a delivery's signatures are, checked against the signing secret. */
export type SecretCheck =
  | { readonly verdict: 'match'; readonly stage: SecretStage }
  /** No version matched, checked against a read made for this delivery, or an expired previous version: final (401). */
  | { readonly verdict: 'mismatch' }
  /**
   * No cached version matched and the secret was read too recently to read it again, or a version
   * that is still accepted could not be read: retry (503).
   */
  | { readonly verdict: 'unverified'; readonly retryAfterSeconds: number; readonly cause: UnverifiedCause };

/** Why a mismatch is not final yet: the refresh is rate-limited, or an accepted version could not be read. */
export type UnverifiedCause = 'refresh-rate-limited' | 'previous-version-unreadable';

/** Matches a delivery against the signing secret with the caching and refresh rules above. */
export class SigningSecret {
  constructor(
    private readonly provider: SigningKeyProvider,
    private readonly secretArn: string,
    private readonly graceMs: number,
    private readonly refreshIntervalMs: number,
  ) {}

  /**
   * Which stage of the secret `matches` accepts, or why none does.
   * Throws SecretUnavailableError / SecretEmptyError (both mean: answer 503, Fast.io retries).
   */
  async check(matches: (key: Buffer) => boolean): Promise<SecretCheck> {
    const readsBefore = this.provider.reads;
    let outcome = this.#evaluate(await this.provider.getKeys(this.secretArn), matches);
    const retryAfterSeconds = () => Math.max(1, Math.ceil((this.provider.lastReadAt + this.refreshIntervalMs - Date.now()) / 1000));
    if ((outcome === 'mismatch' || outcome === 'empty' || outcome === 'unreadable') && this.provider.reads === readsBefore) {
      const waitMs = this.provider.lastReadAt + this.refreshIntervalMs - Date.now();
      if (waitMs > 0) {
        if (outcome === 'empty') throw new SecretEmptyError('the signing secret (AWSCURRENT) is empty');
        return { verdict: 'unverified', retryAfterSeconds: retryAfterSeconds(), cause: outcome === 'unreadable' ? 'previous-version-unreadable' : 'refresh-rate-limited' };
      }
      outcome = this.#evaluate(await this.provider.getKeys(this.secretArn, { forceFetch: true }), matches);
    }
    if (outcome === 'empty') throw new SecretEmptyError('the signing secret (AWSCURRENT) is empty');
    if (outcome === 'unreadable') return { verdict: 'unverified', retryAfterSeconds: retryAfterSeconds(), cause: 'previous-version-unreadable' };
    return outcome === 'mismatch' || outcome === 'expired' ? { verdict: 'mismatch' } : { verdict: 'match', stage: outcome };
  }

  /**
   * 'expired': signed with the cached AWSPREVIOUS after its grace period, which no later read can revive.
   * 'unreadable': no readable version matched, and AWSPREVIOUS, still accepted, could not be read.
   */
  #evaluate(keys: SigningKeys, matches: (key: Buffer) => boolean): SecretStage | 'mismatch' | 'expired' | 'empty' | 'unreadable' {
    if (keys.current.key.length === 0) return 'empty';
    if (matches(keys.current.key)) return 'AWSCURRENT';
    const previous = keys.previous;
    if (previous && previous.key.length > 0 && matches(previous.key)) {
      return isInGracePeriod(keys.current, Date.now(), this.graceMs) ? 'AWSPREVIOUS' : 'expired';
    }
    if (keys.previousUnreadable && isInGracePeriod(keys.current, Date.now(), this.graceMs)) return 'unreadable';
    return 'mismatch';
  }
}
