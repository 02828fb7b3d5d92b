import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListSecretVersionIdsCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { createSecretCommands, type SecretInput } from '../../lib/ops/secret-commands';
import { IngestOutput, StatefulOutput } from '../../lib/stack-outputs';
import { ACCOUNT, NOW, REGION, awsError, capture, fakeRuntime, stack } from './support';

const cfn = mockClient(CloudFormationClient);
const secrets = mockClient(SecretsManagerClient);

const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:dev/fastio/webhook-signing-secret-AbCdEf`;
const FILE_VALUE = 'whsec_from_file_Zq81mB4x';
const STDIN_VALUE = 'whsec_from_stdin_Lp20vR7c';
const GENERATED_VALUE = 'f'.repeat(64);
const CREATED = new Date(NOW.getTime() - 2_000);

interface FakeInput extends SecretInput {
  stdinReads: number;
}

function fakeInput(options: { terminal?: boolean; files?: Record<string, string>; stdin?: string } = {}): FakeInput {
  const input: FakeInput = {
    stdinReads: 0,
    stdinIsTerminal: () => options.terminal ?? false,
    readStdin: async () => {
      input.stdinReads += 1;
      return options.stdin ?? `${STDIN_VALUE}\n`;
    },
    readFile: async (path) => {
      const content = (options.files ?? { 'new-secret.txt': `${FILE_VALUE}\n` })[path];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
      return content;
    },
    generate: () => GENERATED_VALUE,
  };
  return input;
}

let input: FakeInput;
const run = async (argv: string[]) => {
  const captured = capture();
  const code = await runCli(createSecretCommands(fakeRuntime().runtime, input), argv, captured.io);
  return { code, ...captured };
};
const putValues = () => secrets.commandCalls(PutSecretValueCommand).map((call) => call.args[0].input);

function mockDeployment(graceHours = '24'): void {
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-stateful' }).resolves(stack('dev-fastio-stateful', [{ OutputKey: StatefulOutput.signingSecretArn, OutputValue: SECRET_ARN }]));
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-ingest' }).resolves(stack('dev-fastio-ingest', [{ OutputKey: IngestOutput.rotationGraceHours, OutputValue: graceHours }]));
}

beforeEach(() => {
  cfn.reset();
  secrets.reset();
  input = fakeInput();
  mockDeployment();
  secrets.on(PutSecretValueCommand).resolves({ ARN: SECRET_ARN, VersionId: 'v-new', VersionStages: ['AWSCURRENT'] });
  secrets.on(ListSecretVersionIdsCommand).resolves({
    ARN: SECRET_ARN,
    Versions: [
      { VersionId: 'v-new', VersionStages: ['AWSCURRENT'], CreatedDate: CREATED },
      { VersionId: 'v-old', VersionStages: ['AWSPREVIOUS'], CreatedDate: new Date(NOW.getTime() - 40 * 86_400_000) },
      { VersionId: 'v-older', VersionStages: [], CreatedDate: new Date(NOW.getTime() - 80 * 86_400_000) },
    ],
  });
});

describe('secret rotate', () => {
  it('puts the value from --value-file, trimmed, into the secret named by the stateful stack', async () => {
    const result = await run(['secret', 'rotate', '--value-file', 'new-secret.txt']);
    expect(result.code).toBe(0);
    expect(putValues()).toEqual([{ SecretId: SECRET_ARN, SecretString: FILE_VALUE }]);
    expect(input.stdinReads).toBe(0);
  });

  it('reports AWSCURRENT accepted from its CreatedDate and AWSPREVIOUS until CreatedDate + rotationGraceHours, and the 503 window', async () => {
    const result = await run(['secret', 'rotate', '--value-file', 'new-secret.txt']);
    const text = result.stdout();
    expect(text).toContain(`accepts  AWSCURRENT  v-new from ${CREATED.toISOString()} on`);
    expect(text).toContain(`AWSPREVIOUS v-old until ${new Date(CREATED.getTime() + 24 * 3_600_000).toISOString()} (AWSCURRENT's CreatedDate + rotationGraceHours 24)`);
    expect(text).toContain('for up to 60 s a delivery signed with the new value is answered 503 with retry-after');
    expect(text).not.toContain('v-older');
  });

  it('--json gives the same facts for scripts', async () => {
    const result = await run(['secret', 'rotate', '--value-file', 'new-secret.txt', '--json']);
    expect(JSON.parse(result.stdout())).toEqual({
      secretArn: SECRET_ARN,
      source: 'new-secret.txt',
      current: { versionId: 'v-new', createdDate: CREATED.toISOString(), acceptedFrom: CREATED.toISOString() },
      previous: { versionId: 'v-old', acceptedUntil: new Date(CREATED.getTime() + 24 * 3_600_000).toISOString() },
      rotationGraceHours: 24,
      refreshWindowSeconds: 60,
    });
  });

  it('reads the grace period the ingest stack was deployed with', async () => {
    cfn.reset();
    mockDeployment('2');
    const result = await run(['secret', 'rotate', '--value-file', 'new-secret.txt', '--json']);
    expect(JSON.parse(result.stdout()).previous.acceptedUntil).toBe(new Date(CREATED.getTime() + 2 * 3_600_000).toISOString());
  });

  it('with rotationGraceHours 0 says the previous value is not accepted', async () => {
    cfn.reset();
    mockDeployment('0');
    const result = await run(['secret', 'rotate', '--value-file', 'new-secret.txt']);
    expect(result.code).toBe(0);
    expect(result.stdout()).not.toContain('AWSPREVIOUS');
    expect(result.stdout()).toContain('rotationGraceHours is 0');
  });

  it('reads a piped value from stdin when no file is given', async () => {
    const result = await run(['secret', 'rotate']);
    expect(result.code).toBe(0);
    expect(putValues()).toEqual([{ SecretId: SECRET_ARN, SecretString: STDIN_VALUE }]);
  });

  it('--value-file - reads stdin too', async () => {
    expect((await run(['secret', 'rotate', '--value-file', '-'])).code).toBe(0);
    expect(putValues()[0]?.SecretString).toBe(STDIN_VALUE);
  });

  it('--generate puts a random value without printing it, and prints no read command the operator policy denies', async () => {
    const result = await run(['secret', 'rotate', '--generate']);
    expect(result.code).toBe(0);
    expect(putValues()[0]?.SecretString).toBe(GENERATED_VALUE);
    expect(result.stdout()).not.toContain('get-secret-value');
    expect(result.stdout()).toContain(`someone allowed to read ${SECRET_ARN} copies it`);
  });

  it('never prints the value, whatever the source and format', async () => {
    for (const argv of [['--value-file', 'new-secret.txt'], [], ['--generate'], ['--generate', '--json']]) {
      const result = await run(['secret', 'rotate', ...argv]);
      for (const value of [FILE_VALUE, STDIN_VALUE, GENERATED_VALUE]) {
        expect(result.stdout()).not.toContain(value);
        expect(result.stderr()).not.toContain(value);
      }
    }
  });

  it('fails when Secrets Manager does not list the new version as AWSCURRENT', async () => {
    secrets.on(ListSecretVersionIdsCommand).resolves({ Versions: [{ VersionId: 'v-other', VersionStages: ['AWSCURRENT'], CreatedDate: CREATED }] });
    const result = await run(['secret', 'rotate', '--value-file', 'new-secret.txt']);
    expect(result.code).toBe(1);
    expect(result.err).toHaveLength(1);
    expect(result.stderr()).toContain('Secrets Manager lists v-other as AWSCURRENT');
  });

  it('an AWS error is one line, exit 1', async () => {
    secrets.on(PutSecretValueCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform secretsmanager:PutSecretValue'));
    const result = await run(['secret', 'rotate', '--value-file', 'new-secret.txt']);
    expect(result.code).toBe(1);
    expect(result.err).toEqual(['error: AccessDeniedException: not authorized to perform secretsmanager:PutSecretValue']);
  });

  it.each([
    { name: 'both sources', argv: ['--value-file', 'new-secret.txt', '--generate'], message: 'exclude each other' },
    { name: 'a missing file', argv: ['--value-file', 'missing.txt'], message: 'cannot read --value-file missing.txt (ENOENT)' },
    { name: 'an empty file', argv: ['--value-file', 'empty.txt'], message: 'is empty' },
    { name: 'a multi-line file', argv: ['--value-file', 'two-lines.txt'], message: 'spans several lines' },
    { name: 'a value on the command line', argv: ['whsec_on_argv'], message: 'usage:' },
    { name: 'a bad stage', argv: ['--generate', '--stage', 'Prod'], message: '--stage "Prod" is invalid' },
  ])('$name: one line, exit 2, nothing put', async ({ argv, message }) => {
    input = fakeInput({ files: { 'empty.txt': ' \n', 'two-lines.txt': 'a\nb\n' } });
    const result = await run(['secret', 'rotate', ...argv]);
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.stderr()).toContain(message);
    expect(putValues()).toEqual([]);
  });

  it('a terminal on stdin and no source: one line, exit 2, stdin not read', async () => {
    input = fakeInput({ terminal: true });
    const result = await run(['secret', 'rotate']);
    expect(result.code).toBe(2);
    expect(result.stderr()).toContain('never taken from the command line');
    expect(input.stdinReads).toBe(0);
    expect(putValues()).toEqual([]);
  });
});
