/**
 * moto's server (Python, `moto[server]`) as an AWS implementation nobody on this project wrote:
 * started on a free loopback port for `npm run test:emulator`, stopped afterwards, and given the
 * deployment's resources, through moto's CloudFormation where it accepts the synthesized templates
 * and through the service APIs where it does not.
 *
 * What moto 5's CloudFormation does with the synthesized templates (checked with moto 5.2.1):
 * - stateful: the EventBus and the Archive are created from the template; moto needs the archive's
 *   EventPattern as a JSON string (it crashes on the object CloudFormation accepts), has no support
 *   for AWS::SecretsManager::Secret or AWS::DynamoDB::GlobalTable, and fails on the CDK metadata
 *   condition, and its Ref of an event bus is not the bus name (the outputs get the name as a
 *   literal). The secret is created through the Secrets Manager API and its ARN given to the
 *   stack's outputs as a literal; the tables are left out (no ops command reads them).
 * - routing: the whole template fails in moto's tagging service; its SQS queues (with their
 *   redrive policies) are created from the template, the rules through PutRule/PutTargets, the
 *   review state machines through CreateStateMachine, and their ARNs given to the outputs as literals.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTableCommand, DynamoDBClient, type AttributeDefinition, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { stackNames } from '../../lib/config';
import { routeTable, targetName, targetRulePattern } from '../../lib/route-table';
import { targetOutputKey } from '../../lib/stack-outputs';
import { stackTemplateFile, type StackRole } from '../../lib/synthesized-template';

export const REGION = 'us-east-1';
export const CREDENTIALS = { accessKeyId: 'AKIDMOTO', secretAccessKey: 'moto' };

/** One clear line when moto is missing: there is no PyPI here to install it from. */
export function assertMotoInstalled(): void {
  const probe = spawnSync('python3', ['-c', 'import moto, flask, werkzeug'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error("npm run test:emulator needs Python 3 with moto's server (pip install 'moto[server]'); python3 -c 'import moto, flask' failed");
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  assertMotoInstalled();
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4_000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto.server exited with ${child.exitCode}: ${stderr.trim().split('\n').at(-1) ?? ''}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto.server did not answer on ${endpoint} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// ---- the deployment, in moto -----------------------------------------------------------------------

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown }>;
  [section: string]: unknown;
}

function loadTemplate(cdkOut: string, role: StackRole): Template {
  const file = stackTemplateFile(cdkOut, role);
  if (file === undefined) throw new Error(`no synthesized ${role} template in ${cdkOut}: run npm run synth first`);
  return JSON.parse(readFileSync(file, 'utf8')) as Template;
}

/** Logical ids a value refers to through Ref or Fn::GetAtt. */
function referencedIds(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencedIds(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && !inner.startsWith('AWS::')) found.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner)) found.add(String(inner[0]));
      else referencedIds(inner, found);
    }
  }
  return found;
}

/**
 * The part of a synthesized template moto's CloudFormation takes: the resources of the given types
 * whose references stay inside that set, the outputs that refer only to them, and literal outputs
 * for what was created through the APIs instead.
 */
export function motoTemplate(template: Template, types: readonly string[], literalOutputs: Record<string, string>): Template {
  const kept: Template['Resources'] = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!types.includes(resource.Type)) continue;
    const properties = { ...resource.Properties };
    // moto parses an archive's pattern with json.loads; CloudFormation also takes the object form.
    if (resource.Type === 'AWS::Events::Archive' && typeof properties.EventPattern === 'object') properties.EventPattern = JSON.stringify(properties.EventPattern);
    kept[id] = { Type: resource.Type, Properties: properties };
  }
  for (const [id, resource] of Object.entries(kept)) {
    if ([...referencedIds(resource.Properties)].some((ref) => !(ref in kept))) delete kept[id];
  }
  const outputs: Record<string, { Value: unknown }> = {};
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    if (key in literalOutputs) outputs[key] = { Value: literalOutputs[key] };
    else if ([...referencedIds(output.Value)].every((ref) => ref in kept)) outputs[key] = { Value: output.Value };
  }
  return { AWSTemplateFormatVersion: '2010-09-09', Resources: kept, Outputs: outputs };
}

async function createStack(cfn: CloudFormationClient, stackName: string, template: Template): Promise<Map<string, string>> {
  await cfn.send(new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }));
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  if (stack?.StackStatus !== 'CREATE_COMPLETE') throw new Error(`moto could not create ${stackName}: ${stack?.StackStatus ?? 'no stack'} ${stack?.StackStatusReason ?? ''}`);
  return new Map((stack.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']));
}

export interface MotoDeployment {
  readonly secret: string;
  readonly secretArn: string;
  readonly busName: string;
  readonly busArn: string;
  readonly archiveArn: string;
  readonly stateful: ReadonlyMap<string, string>;
  readonly routing: ReadonlyMap<string, string>;
}

/** The stages' stacks as the ops commands find them: by name, with the outputs they read. */
export async function deployToMoto(endpoint: string, cdkOut: string, stage = 'dev'): Promise<MotoDeployment> {
  const config = { region: REGION, endpoint, credentials: CREDENTIALS, maxAttempts: 1 };
  const cfn = new CloudFormationClient(config);
  const names = stackNames(stage);

  const statefulTemplate = loadTemplate(cdkOut, 'stateful');
  const secretResource = Object.entries(statefulTemplate.Resources).find(([, resource]) => resource.Type === 'AWS::SecretsManager::Secret');
  if (!secretResource) throw new Error('the stateful template has no signing secret');
  const [secretId, { Properties: secretProperties }] = secretResource;
  const secret = `whsec_moto_${Date.now()}`;
  const created = await new SecretsManagerClient(config).send(new CreateSecretCommand({ Name: String(secretProperties?.Name), SecretString: secret }));
  const secretArn = created.ARN ?? '';
  const secretOutputs = Object.fromEntries(
    Object.entries(statefulTemplate.Outputs ?? {})
      .filter(([, output]) => referencedIds(output.Value).has(secretId))
      .map(([key]) => [key, secretArn]),
  );
  /** The template's output keys whose value is exactly this reference (`{ Ref }` or `{ 'Fn::GetAtt' }`), each given `value`. */
  const outputsNaming = (reference: unknown, value: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(statefulTemplate.Outputs ?? {})
        .filter(([, output]) => JSON.stringify(output.Value) === JSON.stringify(reference))
        .map(([key]) => [key, value]),
    );
  // moto's Ref of an AWS::Events::EventBus yields the Python object's repr, not the name.
  const busEntry = Object.entries(statefulTemplate.Resources).find(([, resource]) => resource.Type === 'AWS::Events::EventBus');
  const busOutputs = outputsNaming({ Ref: busEntry?.[0] }, String(busEntry?.[1].Properties?.Name));
  // moto's CloudFormation takes no AWS::DynamoDB::GlobalTable: each table is created through the
  // DynamoDB API with the template's keys (the ingest's resend dedupe writes to one), and outputs that
  // name a table get its name or ARN.
  const dynamoDb = new DynamoDBClient(config);
  const tableOutputs: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries(statefulTemplate.Resources)) {
    if (resource.Type !== 'AWS::DynamoDB::GlobalTable') continue;
    const props = resource.Properties ?? {};
    const tableName = `${stage}-moto-${logicalId}`;
    const table = await dynamoDb.send(
      new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', KeySchema: props.KeySchema as KeySchemaElement[], AttributeDefinitions: props.AttributeDefinitions as AttributeDefinition[] }),
    );
    Object.assign(tableOutputs, outputsNaming({ Ref: logicalId }, tableName), outputsNaming({ 'Fn::GetAtt': [logicalId, 'Arn'] }, table.TableDescription?.TableArn ?? ''));
  }
  // Nor the flight recorder's rule (its Firehose target is not emulated): the rule itself is put on the
  // bus after the stack, so replays can name it in FilterArns as they do on AWS.
  const recorderRules = Object.entries(statefulTemplate.Resources).filter(([, resource]) => resource.Type === 'AWS::Events::Rule');
  const stateful = await createStack(
    cfn,
    names.stateful,
    motoTemplate(statefulTemplate, ['AWS::Events::EventBus', 'AWS::Events::Archive', 'AWS::S3::Bucket'], {
      ...secretOutputs,
      ...busOutputs,
      ...tableOutputs,
      ...Object.assign(
        {},
        ...recorderRules.map(([logicalId]) => outputsNaming({ 'Fn::GetAtt': [logicalId, 'Arn'] }, `arn:aws:events:${REGION}:123456789012:rule/${String(busEntry?.[1].Properties?.Name)}/${logicalId}`)),
      ),
    }),
  );
  const busName = stateful.get('EventBusName') ?? '';
  const busArn = stateful.get('EventBusArn') ?? '';
  const eventBridge = new EventBridgeClient(config);
  for (const [logicalId, resource] of recorderRules) {
    await eventBridge.send(new PutRuleCommand({ Name: logicalId, EventBusName: busName, EventPattern: JSON.stringify(resource.Properties?.EventPattern) }));
  }

  // Rules and workflows first: the routing stack's outputs carry their ARNs.
  const routingTemplate = loadTemplate(cdkOut, 'routing');
  const sfn = new SFNClient(config);
  const literals: Record<string, string> = {};
  for (const route of routeTable) {
    for (const target of route.targets) {
      const name = targetName(target);
      // One rule per target, with the target's own pattern (replay-name absent for one that skips replays).
      const rule = await eventBridge.send(new PutRuleCommand({ Name: motoRuleName(route.name, name), EventBusName: busName, EventPattern: JSON.stringify(targetRulePattern(route, target)) }));
      literals[targetOutputKey(route.name, name, 'RuleArn')] = rule.RuleArn ?? '';
      if ('workflow' in target) {
        // moto records executions; it does not run the synthesized definition (aws-local-stepfunctions does, in npm test).
        const machine = await sfn.send(
          new CreateStateMachineCommand({
            name: `${route.name}-${name}`,
            roleArn: 'arn:aws:iam::123456789012:role/moto-review',
            definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
          }),
        );
        literals[targetOutputKey(route.name, name, 'StateMachineArn')] = machine.stateMachineArn ?? '';
      } else if ('consumer' in target) {
        // moto runs Lambda functions only in Docker, which this project never uses.
        literals[targetOutputKey(route.name, name, 'FunctionArn')] = `arn:aws:lambda:${REGION}:123456789012:function:${stage}-${route.name}-${name}-consumer`;
      }
    }
  }
  const routing = await createStack(cfn, names.routing, motoTemplate(routingTemplate, ['AWS::SQS::Queue'], literals));
  for (const route of routeTable) {
    for (const target of route.targets) {
      if (target.kind !== 'queue' || !('consumer' in target)) continue;
      // As the own queue target wires it: the rule delivers to the target's buffer queue.
      const bufferArn = routing.get(targetOutputKey(route.name, targetName(target), 'BufferQueueArn')) ?? '';
      await eventBridge.send(new PutTargetsCommand({ Rule: motoRuleName(route.name, targetName(target)), EventBusName: busName, Targets: [{ Id: `${targetName(target)}-buffer`, Arn: bufferArn }] }));
    }
  }
  return { secret, secretArn, busName, busArn, archiveArn: stateful.get('ArchiveArn') ?? '', stateful, routing };
}

/** The name deployToMoto gives a target's rule (PutRule, then PutTargets for an own queue's buffer). */
function motoRuleName(route: string, target: string): string {
  return `${route}-${target}-rule`;
}

/** The ingest function of the synthesized app: its bundle directory in cdk.out and its environment. */
export function ingestBundle(cdkOut: string): { entry: string; environment: Record<string, unknown> } {
  const template = loadTemplate(cdkOut, 'ingest');
  const fn = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function' && (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.SIGNING_SECRET_ARN !== undefined);
  if (!fn) throw new Error('the ingest template has no function with SIGNING_SECRET_ARN');
  const key = String((fn.Properties?.Code as { S3Key?: string }).S3Key ?? '').replace(/\.zip$/, '');
  // The stack's asset manifest names the directory esbuild bundled into.
  const assetsFile = (stackTemplateFile(cdkOut, 'ingest') ?? '').replace(/\.template\.json$/, '.assets.json');
  const assets = existsSync(assetsFile) ? (JSON.parse(readFileSync(assetsFile, 'utf8')) as { files?: Record<string, { source?: { path?: string } }> }) : {};
  const dir = assets.files?.[key]?.source?.path;
  const handler = String(fn.Properties?.Handler ?? 'index.handler');
  const entry = dir === undefined ? '' : join(cdkOut, dir, `${handler.split('.')[0] ?? 'index'}.mjs`);
  if (!existsSync(entry)) throw new Error(`the ingest bundle is not in ${cdkOut} (asset ${key}): run npm run synth first`);
  return { entry, environment: (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables };
}
