/**
 * `secret rotate`: puts a new webhook signing secret value and says which versions the ingest
 * accepts, and until when (DESIGN.md decision 3, lambdas/ingest/signing-secret.ts).
 *
 * The value never passes through argv (shell history, `ps`) and is never printed: it comes from a
 * file, from stdin, or is generated here; a generated value is read back from Secrets Manager only
 * by someone allowed to read the secret, which the operator policy deliberately is not.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ListSecretVersionIdsCommand, PutSecretValueCommand, type SecretVersionsListEntry } from '@aws-sdk/client-secrets-manager';
import { DEFAULT_SECRET_REFRESH_INTERVAL_SECONDS } from '../../lambdas/ingest/config';
import { REJECTION_REASONS } from '../../lambdas/ingest/reasons';
import { stackNames } from '../config';
import { IngestOutput, StatefulOutput } from '../stack-outputs';
import { defaultRuntime, deploymentOptions, regionOption, stageOption, withAwsErrors, type OpsRuntime } from './aws-runtime';
import { OperationFailed, UsageError, stringOption, type OpsCommand, type OptionValues } from './command';
import { loadStackOutputs } from './deployment';

/** Secrets Manager's limit on SecretString. */
const MAX_SECRET_BYTES = 65_536;

/** Where a value that is not a file or generated comes from: the process's stdin. */
export interface SecretInput {
  readonly stdinIsTerminal: () => boolean;
  readonly readStdin: () => Promise<string>;
  readonly readFile: (path: string) => Promise<string>;
  /** A new random secret (hex); injectable so tests can tell it apart. */
  readonly generate: () => string;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

export const processSecretInput: SecretInput = {
  stdinIsTerminal: () => process.stdin.isTTY === true,
  readStdin: readAllStdin,
  readFile: (path) => readFile(path, 'utf8'),
  generate: () => randomBytes(32).toString('hex'),
};

/** The value to put, trimmed as the ingest trims it; usage errors name the source, never the value. */
async function newSecretValue(options: OptionValues, input: SecretInput): Promise<{ value: string; source: string }> {
  const file = stringOption(options, 'value-file');
  const generate = options.generate === true;
  if (file !== undefined && generate) throw new UsageError('--value-file and --generate exclude each other');
  if (generate) return { value: input.generate(), source: 'generated' };

  let raw: string;
  let source: string;
  if (file === undefined || file === '-') {
    if (file === undefined && input.stdinIsTerminal()) {
      throw new UsageError('give the new value with --value-file <file>, on stdin (--value-file - or a pipe), or --generate; it is never taken from the command line');
    }
    raw = await input.readStdin();
    source = 'stdin';
  } else {
    try {
      raw = await input.readFile(file);
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
      throw new UsageError(`cannot read --value-file ${file} (${code})`);
    }
    source = file;
  }
  const value = raw.trim();
  if (value === '') throw new UsageError(`the new secret from ${source} is empty`);
  if (/[\r\n]/.test(value)) throw new UsageError(`the new secret from ${source} spans several lines; put the value alone on one line`);
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) throw new UsageError(`the new secret from ${source} is over Secrets Manager's ${MAX_SECRET_BYTES}-byte limit`);
  return { value, source };
}

function withStage(versions: readonly SecretVersionsListEntry[], stage: string): SecretVersionsListEntry | undefined {
  return versions.find((version) => version.VersionStages?.includes(stage));
}

function gracePeriodHours(raw: string): number {
  const hours = Number(raw);
  if (!Number.isFinite(hours) || hours < 0) throw new OperationFailed(`stack output ${IngestOutput.rotationGraceHours} is "${raw}", not a number of hours`);
  return hours;
}

export interface RotationReport {
  readonly secretArn: string;
  readonly source: string;
  readonly current: { readonly versionId: string; readonly createdDate: string; readonly acceptedFrom: string };
  readonly previous: { readonly versionId: string; readonly acceptedUntil: string } | undefined;
  readonly rotationGraceHours: number;
  readonly refreshWindowSeconds: number;
}

function textReport(report: RotationReport): string[] {
  const window = report.refreshWindowSeconds;
  const lines = [
    `secret   ${report.secretArn}`,
    `put      a new value (${report.source}, not printed) as version ${report.current.versionId}, now AWSCURRENT`,
    `accepts  AWSCURRENT  ${report.current.versionId} from ${report.current.acceptedFrom} on`,
  ];
  if (report.previous) {
    lines.push(`         AWSPREVIOUS ${report.previous.versionId} until ${report.previous.acceptedUntil} (AWSCURRENT's CreatedDate + rotationGraceHours ${report.rotationGraceHours})`);
  } else if (report.rotationGraceHours === 0) {
    lines.push('         nothing else: rotationGraceHours is 0, so the previous value is refused as soon as each ingest container re-reads the secret');
  } else {
    lines.push('         nothing else: the secret has no AWSPREVIOUS version');
  }
  lines.push(
    `note     an ingest container re-reads the secret at most once every ${window} s: for up to ${window} s a delivery signed with the new value is answered 503 with retry-after (outcome ${REJECTION_REASONS.awaitingSecretRefresh}) and Fast.io resends it; none is refused with 401`,
  );
  lines.push(
    report.source === 'generated'
      ? `next     set the same value in Fast.io: it was never shown, and the operator policy cannot read it (no secretsmanager:GetSecretValue, by design), so someone allowed to read ${report.secretArn} copies it; to rotate with a value you can see, use --value-file with the one Fast.io shows`
      : 'next     check that Fast.io signs with this value (its webhook settings); deliveries signed with any other value are refused',
  );
  return lines;
}

function rotateCommand(runtime: OpsRuntime, input: SecretInput): OpsCommand {
  return {
    path: ['secret', 'rotate'],
    summary: 'Put a new webhook signing secret (from a file, stdin or generated; never printed) and show which versions the ingest accepts until when.',
    usage: '[--value-file <file> | --generate] [--stage <s>] [--region <r>] [--json]',
    options: { 'value-file': { type: 'string' }, generate: { type: 'boolean' }, ...deploymentOptions },
    async run({ options, io }) {
      const stage = stageOption(options);
      const region = regionOption(options);
      const { value, source } = await newSecretValue(options, input);
      return withAwsErrors(async () => {
        const clients = runtime.clients(region);
        const names = stackNames(stage);
        const secretArn = (await loadStackOutputs(clients.cloudFormation, names.stateful)).get(StatefulOutput.signingSecretArn);
        const graceHours = gracePeriodHours((await loadStackOutputs(clients.cloudFormation, names.ingest)).get(IngestOutput.rotationGraceHours));

        const put = await clients.secretsManager.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: value }));
        const listed = await clients.secretsManager.send(new ListSecretVersionIdsCommand({ SecretId: secretArn }));
        const versions = listed.Versions ?? [];
        const current = withStage(versions, 'AWSCURRENT');
        if (current?.VersionId === undefined || current.CreatedDate === undefined || current.VersionId !== put.VersionId) {
          throw new OperationFailed(
            `the new value was put as version ${put.VersionId ?? '?'}, but Secrets Manager lists ${current?.VersionId ?? 'no version'} as AWSCURRENT: check the secret's versions before relying on it`,
          );
        }
        const previous = graceHours > 0 ? withStage(versions, 'AWSPREVIOUS') : undefined;
        const report: RotationReport = {
          secretArn,
          source,
          current: { versionId: current.VersionId, createdDate: current.CreatedDate.toISOString(), acceptedFrom: current.CreatedDate.toISOString() },
          previous:
            previous?.VersionId === undefined
              ? undefined
              : { versionId: previous.VersionId, acceptedUntil: new Date(current.CreatedDate.getTime() + graceHours * 3_600_000).toISOString() },
          rotationGraceHours: graceHours,
          refreshWindowSeconds: DEFAULT_SECRET_REFRESH_INTERVAL_SECONDS,
        };
        if (options.json === true) io.out(JSON.stringify(report, null, 2));
        else for (const line of textReport(report)) io.out(line);
        return 0;
      });
    },
  };
}

export function createSecretCommands(runtime: OpsRuntime = defaultRuntime, input: SecretInput = processSecretInput): OpsCommand[] {
  return [rotateCommand(runtime, input)];
}

export const secretCommands: readonly OpsCommand[] = createSecretCommands();
