/**
 * The synthesized cloud assembly (`cdk.out`) the local pipeline runs from, so what runs locally is
 * what deploys: synthesize when it is missing (or older than the sources), read its templates, and
 * resolve CloudFormation intrinsics to local physical names.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stackTemplateFile } from '../synthesized-template';

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_PARTITION = 'aws';

export type SynthPolicy = 'if-missing' | 'if-stale' | 'never';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>;
}

export interface StackArtifact {
  /** The construct id, equal to the stack name, e.g. `dev-fastio-routing`. */
  readonly id: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
}

export interface CloudAssembly {
  readonly dir: string;
  readonly stacks: readonly StackArtifact[];
}

// ---- synthesize when needed ---------------------------------------------------------------------

/** Sources whose change changes the templates; lib/local and lib/ops are not part of the app. */
function newestSource(projectRoot: string): { file: string; mtimeMs: number } | undefined {
  let newest: { file: string; mtimeMs: number } | undefined;
  const consider = (file: string) => {
    const { mtimeMs } = statSync(file);
    if (newest === undefined || mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  };
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path === join(projectRoot, 'lib', 'local') || path === join(projectRoot, 'lib', 'ops')) continue;
        walk(path);
      } else if (/\.(ts|json)$/.test(entry.name)) {
        consider(path);
      }
    }
  };
  walk(join(projectRoot, 'lib'));
  walk(join(projectRoot, 'lambdas'));
  for (const file of ['bin/app.ts', 'cdk.json']) if (existsSync(join(projectRoot, file))) consider(join(projectRoot, file));
  return newest;
}

/** Why the assembly must be (re)synthesized, or undefined when it can be used as it is. */
export function synthReason(projectRoot: string, outdir: string, policy: SynthPolicy): string | undefined {
  const manifest = join(outdir, 'manifest.json');
  if (!existsSync(manifest) || stackTemplateFile(outdir, 'routing') === undefined) return policy === 'never' ? undefined : `${relative(projectRoot, outdir) || outdir} is missing`;
  if (policy !== 'if-stale') return undefined;
  const newest = newestSource(projectRoot);
  const built = statSync(manifest).mtimeMs;
  if (newest !== undefined && newest.mtimeMs > built) return `${relative(projectRoot, newest.file)} changed since the last synth`;
  return undefined;
}

function runSynth(projectRoot: string): Promise<{ ok: boolean; output: string }> {
  const localCdk = join(projectRoot, 'node_modules', '.bin', 'cdk');
  const [command, args] = existsSync(localCdk) ? [localCdk, ['synth', '--quiet']] : ['npx', ['cdk', 'synth', '--quiet']];
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', (error) => resolve({ ok: false, output: `${output}\n${error.message}` }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}

/** The one line a failed synth printed for its user (`error: ...`), else its last non-empty line. */
export function synthFailureLine(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const explained = lines.find((line) => line.startsWith('error: '));
  if (explained !== undefined) return explained.slice('error: '.length);
  return lines.at(-1) ?? 'no output';
}

/** One synth at a time per project (test files start pipelines in parallel). */
async function withSynthLock<T>(projectRoot: string, body: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `fastio-local-synth-${createHash('sha256').update(projectRoot).digest('hex').slice(0, 12)}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface EnsureAssemblyOptions {
  readonly projectRoot: string;
  readonly outdir?: string;
  readonly policy: SynthPolicy;
  readonly log: (line: string) => void;
}

/** Synthesizes with `cdk synth --quiet` when the policy asks for it; returns the assembly directory. */
export async function ensureAssembly(options: EnsureAssemblyOptions): Promise<string> {
  const outdir = options.outdir ?? join(options.projectRoot, 'cdk.out');
  if (synthReason(options.projectRoot, outdir, options.policy) === undefined) return outdir;
  await withSynthLock(options.projectRoot, async () => {
    const reason = synthReason(options.projectRoot, outdir, options.policy);
    if (reason === undefined) return;
    options.log(`synthesizing the app (${reason}): cdk synth --quiet …`);
    const started = Date.now();
    const result = await runSynth(options.projectRoot);
    if (result.ok) {
      options.log(`synthesized in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    // Never fall back to the previous cdk.out: the user would test routes without their change.
    // `--no-synth` (policy 'never') is the explicit way to run it.
    throw new Error(`cdk synth failed: ${synthFailureLine(result.output)} (\`npm start -- --no-synth\` runs the previous cdk.out as it is)`);
  });
  return outdir;
}

export function loadAssembly(dir: string): CloudAssembly {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  const stacks: StackArtifact[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(dir, artifact.properties.templateFile), 'utf8')) as CfnTemplate;
    stacks.push({ id, stackName: artifact.properties.stackName ?? id, template });
  }
  return { dir, stacks };
}

// ---- physical names and intrinsics ----------------------------------------------------------------

export interface PhysicalResource {
  readonly stack: StackArtifact;
  readonly logicalId: string;
  readonly type: string;
  /** What Ref returns. */
  readonly ref: string;
  readonly name: string;
  readonly arn: string;
  readonly url?: string;
}

function truncate(name: string, max: number): string {
  return name.length <= max ? name : name.slice(0, max);
}

function prop(resource: CfnResource, key: string): string | undefined {
  const value = resource.Properties?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** The pseudo parameters' local values; AWS::StackName depends on the stack and is resolved apart. */
const PSEUDO_PARAMETERS: Readonly<Record<string, string>> = {
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::Partition': LOCAL_PARTITION,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** A name built only from literals and pseudo parameters (`Fn::Join` of `AWS::AccountId` …), resolved locally. */
function pseudoResolved(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (!Array.isArray(join)) return undefined;
  const parts = join[1].map((part) => (typeof part === 'string' ? part : PSEUDO_PARAMETERS[String((part as { Ref?: unknown }).Ref)]));
  return parts.every((part) => part !== undefined) ? parts.join(join[0]) : undefined;
}

/** Physical names the way CloudFormation would choose them (explicit name, else stack + logical id). */
export function physicalResource(stack: StackArtifact, logicalId: string): PhysicalResource {
  const resource = stack.template.Resources[logicalId];
  if (resource === undefined) throw new Error(`${stack.id}: no resource ${logicalId}`);
  const generated = (max: number) => truncate(`${stack.stackName}-${logicalId}`, max);
  const r = `${LOCAL_REGION}:${LOCAL_ACCOUNT}`;
  const base = { stack, logicalId, type: resource.Type };
  switch (resource.Type) {
    case 'AWS::SQS::Queue': {
      const name = prop(resource, 'QueueName') ?? generated(80);
      const url = `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${name}`;
      return { ...base, ref: url, name, arn: `arn:aws:sqs:${r}:${name}`, url };
    }
    case 'AWS::DynamoDB::GlobalTable':
    case 'AWS::DynamoDB::Table': {
      const name = prop(resource, 'TableName') ?? generated(255);
      return { ...base, ref: name, name, arn: `arn:aws:dynamodb:${r}:table/${name}` };
    }
    case 'AWS::Lambda::Function': {
      const name = prop(resource, 'FunctionName') ?? generated(64);
      return { ...base, ref: name, name, arn: `arn:aws:lambda:${r}:function:${name}` };
    }
    case 'AWS::Events::EventBus': {
      const name = prop(resource, 'Name') ?? generated(256);
      return { ...base, ref: name, name, arn: `arn:aws:events:${r}:event-bus/${name}` };
    }
    case 'AWS::Events::Archive': {
      const name = prop(resource, 'ArchiveName') ?? generated(48);
      return { ...base, ref: name, name, arn: `arn:aws:events:${r}:archive/${name}` };
    }
    case 'AWS::Events::Rule': {
      const name = prop(resource, 'Name') ?? generated(64);
      return { ...base, ref: name, name, arn: `arn:aws:events:${r}:rule/${name}` };
    }
    case 'AWS::SecretsManager::Secret': {
      const name = prop(resource, 'Name') ?? generated(256);
      const arn = `arn:aws:secretsmanager:${r}:secret:${name}-LOCAL0`;
      return { ...base, ref: arn, name, arn };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = prop(resource, 'StateMachineName') ?? generated(80);
      const arn = `arn:aws:states:${r}:stateMachine:${name}`;
      return { ...base, ref: arn, name, arn };
    }
    case 'AWS::SNS::Topic': {
      const name = prop(resource, 'TopicName') ?? generated(256);
      const arn = `arn:aws:sns:${r}:${name}`;
      return { ...base, ref: arn, name, arn };
    }
    case 'AWS::Events::ApiDestination':
    case 'AWS::Events::Connection': {
      const name = prop(resource, 'Name') ?? generated(64);
      const kind = resource.Type === 'AWS::Events::Connection' ? 'connection' : 'api-destination';
      return { ...base, ref: name, name, arn: `arn:aws:events:${r}:${kind}/${name}/00000000-0000-4000-8000-000000000000` };
    }
    case 'AWS::KinesisFirehose::DeliveryStream': {
      const name = prop(resource, 'DeliveryStreamName') ?? generated(64);
      return { ...base, ref: name, name, arn: `arn:aws:firehose:${r}:deliverystream/${name}` };
    }
    case 'AWS::IAM::Role': {
      const name = prop(resource, 'RoleName') ?? generated(64);
      return { ...base, ref: name, name, arn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}` };
    }
    case 'AWS::S3::Bucket': {
      const name = pseudoResolved(resource.Properties?.BucketName) ?? generated(63).toLowerCase();
      return { ...base, ref: name, name, arn: `arn:aws:s3:::${name}` };
    }
    case 'AWS::Logs::LogGroup': {
      const name = prop(resource, 'LogGroupName') ?? `/local/${generated(200)}`;
      return { ...base, ref: name, name, arn: `arn:aws:logs:${r}:log-group:${name}:*` };
    }
    default:
      return { ...base, ref: logicalId, name: logicalId, arn: `arn:aws:local:${r}:${logicalId}` };
  }
}

export class IntrinsicResolver {
  constructor(private readonly assembly: CloudAssembly) {}

  stack(idOrName: string): StackArtifact {
    const stack = this.assembly.stacks.find((candidate) => candidate.id === idOrName || candidate.stackName === idOrName);
    if (!stack) throw new Error(`the cloud assembly has no stack ${idOrName} (stacks: ${this.assembly.stacks.map((s) => s.id).join(', ')})`);
    return stack;
  }

  /** The resource a Ref or Fn::GetAtt points at, when the value is one. */
  referencedResource(value: unknown, stack: StackArtifact): PhysicalResource | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const record = value as Record<string, unknown>;
    if (typeof record.Ref === 'string' && stack.template.Resources[record.Ref]) return physicalResource(stack, record.Ref);
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && stack.template.Resources[getAtt[0]]) return physicalResource(stack, getAtt[0]);
    const output = record['Fn::GetStackOutput'] as { StackName?: unknown; OutputName?: unknown } | undefined;
    if (output && typeof output.StackName === 'string' && typeof output.OutputName === 'string') {
      const other = this.stack(output.StackName);
      return this.referencedResource(other.template.Outputs?.[output.OutputName]?.Value, other);
    }
    return undefined;
  }

  resolve(value: unknown, stack: StackArtifact, where: string): unknown {
    if (Array.isArray(value)) return value.map((element, i) => this.resolve(element, stack, `${where}[${i}]`));
    if (typeof value !== 'object' || value === null) return value;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = record[key];
      switch (key) {
        case 'Ref':
          return this.ref(String(arg), stack, where);
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? (arg as [string, string]) : String(arg).split('.') as [string, string];
          return this.getAtt(logicalId, attribute, stack, where);
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (this.resolve(parts, stack, where) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Sub':
          return this.sub(arg, stack, where);
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.resolve(list, stack, where) as unknown[])[Number(this.resolve(index, stack, where))];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(this.resolve(text, stack, where)).split(separator);
        }
        case 'Fn::GetStackOutput': {
          const { StackName, OutputName } = arg as { StackName: unknown; OutputName: unknown };
          const other = this.stack(String(this.resolve(StackName, stack, where)));
          const output = other.template.Outputs?.[String(OutputName)];
          if (output === undefined) throw new Error(`${where}: stack ${other.stackName} has no output ${String(OutputName)}`);
          return this.resolve(output.Value, other, where);
        }
        case 'Fn::ImportValue': {
          const exportName = String(this.resolve(arg, stack, where));
          for (const candidate of this.assembly.stacks) {
            for (const output of Object.values(candidate.template.Outputs ?? {})) {
              if (output.Export && this.resolve(output.Export.Name, candidate, where) === exportName) return this.resolve(output.Value, candidate, where);
            }
          }
          throw new Error(`${where}: no stack exports ${exportName}`);
        }
        default:
          if (key.startsWith('Fn::') || key === 'Condition') throw new Error(`${where}: the local pipeline cannot resolve ${key}`);
      }
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, this.resolve(v, stack, `${where}.${k}`)]));
  }

  private ref(name: string, stack: StackArtifact, where: string): string {
    const pseudo = PSEUDO_PARAMETERS[name];
    if (pseudo !== undefined) return pseudo;
    if (name === 'AWS::StackName') return stack.stackName;
    if (!stack.template.Resources[name]) throw new Error(`${where}: Ref to unknown resource ${name} in ${stack.id}`);
    return physicalResource(stack, name).ref;
  }

  private getAtt(logicalId: string, attribute: string, stack: StackArtifact, where: string): string {
    if (!stack.template.Resources[logicalId]) throw new Error(`${where}: Fn::GetAtt of unknown resource ${logicalId} in ${stack.id}`);
    const resource = physicalResource(stack, logicalId);
    switch (attribute) {
      case 'Arn':
        return resource.arn;
      case 'QueueName':
      case 'Name':
        return resource.name;
      case 'QueueUrl':
        return resource.url ?? resource.ref;
      default:
        throw new Error(`${where}: the local pipeline cannot resolve Fn::GetAtt ${logicalId}.${attribute}`);
    }
  }

  private sub(arg: unknown, stack: StackArtifact, where: string): string {
    const [text, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
      if (name in variables) return String(this.resolve(variables[name], stack, where));
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [logicalId, attribute] = name.split('.') as [string, string];
        return this.getAtt(logicalId, attribute, stack, where);
      }
      return this.ref(name, stack, where);
    });
  }
}

/** The construct path CDK writes into each resource's metadata, e.g. `dev-fastio-routing/Route-documents/Rule/Resource`. */
export function cdkPath(resource: CfnResource): string | undefined {
  const path = resource.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path : undefined;
}
