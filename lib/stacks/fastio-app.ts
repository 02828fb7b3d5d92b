import { App, Tags, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError, loadConfig, stackNames, type AppConfig } from '../config';
import { RouteTableError, configKeyGroups } from '../domain/route-validation';
import { routeTable, type Route } from '../route-table';
import { IngestStack } from './ingest-stack';
import { MonitoringStack } from './monitoring-stack';
import { RoutingStack } from './routing-stack';
import { StatefulStack } from './stateful-stack';

export interface FastioApp {
  readonly app: App;
  readonly config: AppConfig;
  readonly stateful: StatefulStack;
  readonly ingest: IngestStack;
  readonly routing: RoutingStack;
  readonly monitoring: MonitoringStack;
}

/**
 * Builds the whole deployment: three stacks split by lifecycle plus monitoring, wired through typed props, with
 * construct ids equal to the stack names so that `npx cdk deploy <stage>-fastio-routing` names a stack, and with
 * cdk-nag's AwsSolutions and Serverless packs validating every construct at synth.
 * Shared by bin/app.ts and the tests, so both synthesize exactly the same thing.
 * @param routes the route table to deploy; default lib/route-table.ts (tests pass others)
 */
export function buildApp(props: AppProps = {}, routes?: readonly Route[]): FastioApp {
  const app = new App(props);
  // cdk.json holds the shipped table's keys, known even when a test deploys a table of its own.
  const shippedKeys = configKeyGroups(routeTable).flatMap((group) => group.keys);
  const config = loadConfig(app.node, configKeyGroups(routes ?? routeTable), shippedKeys);
  const names = stackNames(config.stage);

  const stateful = new StatefulStack(app, names.stateful, {
    stackName: names.stateful,
    description: 'fastio-eventbridge: event bus, archive, signing secret and tables (retained).',
    config,
  });
  const ingest = new IngestStack(app, names.ingest, {
    stackName: names.ingest,
    description: 'fastio-eventbridge: webhook HTTP API and the signature-verifying ingest function.',
    config,
    eventBus: stateful.eventBus,
    signingSecret: stateful.signingSecret,
    bodyBucket: stateful.bodyBucket,
    dedupeTable: stateful.dedupeTable,
  });
  const routing = new RoutingStack(app, names.routing, {
    stackName: names.routing,
    description: 'fastio-eventbridge: rules from the route table and their target chains.',
    config,
    eventBus: stateful.eventBus,
    catalogTable: stateful.catalogTable,
    auditTable: stateful.auditTable,
    idempotencyTable: stateful.idempotencyTable,
    routes,
  });

  const monitoring = new MonitoringStack(app, names.monitoring, {
    stackName: names.monitoring,
    description: 'fastio-eventbridge: alarms on every hop, their SNS topic, and the flow dashboard.',
    config,
    eventBus: stateful.eventBus,
    httpApi: ingest.httpApi,
    ingestFunction: ingest.ingestFunction,
    chains: routing.chains,
    archive: stateful.archive,
    signingSecret: stateful.signingSecret,
    recorder: stateful.recorder,
    idempotencyTable: stateful.idempotencyTable,
  });

  Tags.of(app).add('project', 'fastio-eventbridge');
  Tags.of(app).add('stage', config.stage);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));

  return { app, config, stateful, ingest, routing, monitoring };
}

/** Where synthesizeOrExplain reports; the process by default. */
export interface ExplainIo {
  readonly stderr: { write(text: string): unknown };
  readonly exit: (code: number) => never;
}

/**
 * bin/app.ts: builds and synthesizes the app. Mistakes in cdk.json or the route table get one line
 * and exit 1; anything else keeps its stack trace for debugging.
 */
export function synthesizeOrExplain(build: () => FastioApp, io: ExplainIo = { stderr: process.stderr, exit: (code) => process.exit(code) }): void {
  try {
    build().app.synth();
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof RouteTableError)) throw error;
    io.stderr.write(`error: ${error.message}\n`);
    io.exit(1);
  }
}
