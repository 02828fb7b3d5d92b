/**
 * The local Lambda runtime gives each function the template's environment and nothing of the
 * developer's shell, except the switches that make Node 20 quiet (README "Node.js versions").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalFunction } from '../../lib/local/lambda-runtime';
import type { FunctionDefinition } from '../../lib/local/model';
import { SDK_NODE_NOTICE_SWITCH } from '../../lib/local/node20-polyfills';
import { PROJECT_ROOT } from '../../lib/local/pipeline';

const dir = mkdtempSync(join(tmpdir(), 'lambda-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function functionReturningItsEnvironment(): LocalFunction {
  const handlerFile = join(dir, 'handler.ts');
  // An ES module, as the project's handlers are (package.json "type": "module").
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(handlerFile, 'export const handler = async () => ({ ...process.env });\n');
  const definition: FunctionDefinition = {
    logicalId: 'EnvFunction',
    name: 'env-function',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:env-function',
    label: 'env',
    handlerFile,
    handlerExport: 'handler',
    timeoutSeconds: 10,
    memorySize: 128,
    environment: { FROM_TEMPLATE: 'yes' },
  };
  return new LocalFunction(definition, { environment: () => ({ AWS_REGION: 'us-east-1' }), onLogs: () => undefined });
}

describe('LocalFunction environment', () => {
  it('passes the SDK Node-version notice switch to the worker, so --verbose does not print the notice per function', async () => {
    // GIVEN the local entry points' switch (set by importing node20-polyfills) and a function
    expect(process.env[SDK_NODE_NOTICE_SWITCH]).toBe('true');
    const fn = functionReturningItsEnvironment();
    try {
      // WHEN it runs
      const outcome = await fn.invoke({});
      // THEN it sees the template's variables and the switch, and not the rest of this process's environment
      expect(outcome.error).toBeUndefined();
      const environment = outcome.payload as Record<string, string>;
      expect(environment.FROM_TEMPLATE).toBe('yes');
      expect(environment[SDK_NODE_NOTICE_SWITCH]).toBe('true');
      expect(environment.HOME).toBeUndefined();
    } finally {
      await fn.close();
    }
  });
});

/** A function that builds an AWS SDK client (which emits the SDK's Node-version notice on Node < 22) and warns once itself. */
function functionBuildingAnSdkClient(logs: string[]): LocalFunction {
  const handlerFile = join(dir, 'sdk-handler.ts');
  writeFileSync(
    handlerFile,
    [
      "import { createRequire } from 'node:module';",
      `const require = createRequire(${JSON.stringify(join(PROJECT_ROOT, 'package.json'))});`,
      "const { SQSClient } = require('@aws-sdk/client-sqs');",
      'export const handler = async () => {',
      "  new SQSClient({ region: 'us-east-1' });",
      "  process.emitWarning('another warning still shows');",
      "  await new Promise((resolve) => setTimeout(resolve, 50));",
      "  return 'built';",
      '};',
      '',
    ].join('\n'),
  );
  const definition: FunctionDefinition = {
    logicalId: 'SdkFunction',
    name: 'sdk-function',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:sdk-function',
    label: 'sdk',
    handlerFile,
    handlerExport: 'handler',
    timeoutSeconds: 20,
    memorySize: 128,
    environment: {},
  };
  return new LocalFunction(definition, { environment: () => ({ AWS_REGION: 'us-east-1' }), onLogs: (_fn, lines) => logs.push(...lines) });
}

describe('LocalFunction output, as npm start --verbose prints it', () => {
  it('carries no AWS SDK Node-version notice, while other warnings still show', async () => {
    // GIVEN a function whose handler builds an SDK client on Node 20, where the SDK would print its notice
    expect(Number(process.versions.node.split('.')[0])).toBeLessThan(22);
    const logs: string[] = [];
    const fn = functionBuildingAnSdkClient(logs);
    try {
      // WHEN it runs
      const outcome = await fn.invoke({});
      expect(outcome.payload).toBe('built');
      // THEN every line the function wrote (what --verbose prints) is free of the notice, and its own warning is there
      const written = logs.join('\n');
      expect(written).toContain('another warning still shows');
      expect(written).not.toContain('NodeVersionSupportWarning');
      expect(written).not.toContain('will require node');
    } finally {
      await fn.close();
    }
  });
});
