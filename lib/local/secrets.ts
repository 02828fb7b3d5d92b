/**
 * The local Secrets Manager stand-in for the webhook signing secret. The value lives in a file
 * (`.local/signing-secret`, generated on first start); each read notices when the file changed and
 * makes the new value AWSCURRENT and the old one AWSPREVIOUS, so editing the file is the local
 * `put-secret-value` and exercises the ingest's rotation grace period.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FaultRegistry } from './faults';
import { AwsServiceError } from './aws-service-error';

/** An error of the local SecretsManager stand-in, answered as the service would. */
export class SecretsManagerError extends AwsServiceError {}

interface SecretVersion {
  readonly versionId: string;
  readonly value: string;
  readonly createdDate: number;
}

/** Creates the secret file with a random value when missing; returns whether it did. */
export function ensureSecretFile(file: string): { created: boolean; value: string } {
  if (existsSync(file)) return { created: false, value: readFileSync(file, 'utf8').trim() };
  mkdirSync(dirname(file), { recursive: true });
  const value = randomBytes(32).toString('hex');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { created: true, value };
}

export class LocalSecret {
  #current: SecretVersion | undefined;
  #previous: SecretVersion | undefined;

  constructor(
    readonly name: string,
    readonly arn: string,
    private readonly file: string,
    private readonly now: () => number = Date.now,
    private readonly faults?: FaultRegistry,
  ) {}

  private refresh(): void {
    const value = existsSync(this.file) ? readFileSync(this.file, 'utf8').trim() : '';
    if (this.#current?.value === value) return;
    const createdDate = this.#current === undefined && existsSync(this.file) ? statSync(this.file).mtimeMs : this.now();
    this.#previous = this.#current;
    this.#current = { versionId: randomUUID(), value, createdDate };
  }

  handle(operation: string, input: Record<string, unknown>): Record<string, unknown> {
    if (operation !== 'GetSecretValue') {
      throw new SecretsManagerError('UnknownOperationException', `[local Secrets Manager stand-in] ${operation} is not supported by the stand-in (the ingest only calls GetSecretValue)`);
    }
    const id = input.SecretId;
    if (id !== this.arn && id !== this.name) throw new SecretsManagerError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    const fault = this.faults?.take({ service: 'secretsmanager', operation });
    if (fault) {
      const code = fault.errorCode ?? 'InternalServiceError';
      throw new SecretsManagerError(code, fault.message ?? `injected by the local stand-in (fault #${fault.id})`, fault.statusCode ?? (code === 'InternalServiceError' ? 500 : 400));
    }
    this.refresh();
    const stage = typeof input.VersionStage === 'string' ? input.VersionStage : 'AWSCURRENT';
    const versionId = typeof input.VersionId === 'string' ? input.VersionId : undefined;
    const version =
      versionId !== undefined
        ? [this.#current, this.#previous].find((candidate) => candidate?.versionId === versionId)
        : stage === 'AWSCURRENT'
          ? this.#current
          : stage === 'AWSPREVIOUS'
            ? this.#previous
            : undefined;
    if (version === undefined) {
      throw new SecretsManagerError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${stage}`}`);
    }
    return {
      ARN: this.arn,
      Name: this.name,
      VersionId: version.versionId,
      SecretString: version.value,
      VersionStages: [version === this.#current ? 'AWSCURRENT' : 'AWSPREVIOUS'],
      CreatedDate: version.createdDate / 1000,
    };
  }
}
