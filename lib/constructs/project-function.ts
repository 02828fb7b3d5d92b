import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { METRICS_NAMESPACE } from '../../lambdas/shared/metric-names';
import { BUNDLE_BANNER, BUNDLE_MAIN_FIELDS, BUNDLE_TARGET, splitBundleCommand } from './bundle-options';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ProjectFunctionProps {
  /** Folder under `lambdas/` holding `handler.ts`, e.g. `ingest`. */
  readonly handlerFolder: string;
  /** Powertools service name, used for logs and the metrics `service` dimension. */
  readonly serviceName: string;
  /**
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Concurrency set aside for this function alone, which also caps it.
   * @default none: the function shares the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
  /** Async invocation settings (only for functions invoked asynchronously). */
  readonly asyncInvoke?: Pick<NodejsFunctionProps, 'onFailure' | 'retryAttempts' | 'maxEventAge'>;
}

/**
 * The project's one way to define a Lambda function: newest Node.js runtime, ARM64, ESM bundled
 * locally by esbuild (never Docker), minified with source maps, active tracing, its own log group
 * with retention, and an execution role that starts empty and only gains what `grant*` calls add.
 */
export class ProjectFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // Logs are diagnostics, not data: they go with the function.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role without AWSLambdaBasicExecutionRole, whose log permissions cover every log group in the account.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName}`,
    });
    super(scope, id, {
      entry: `${PROJECT_ROOT}lambdas/${props.handlerFolder}/handler.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...props.asyncInvoke,
      ...(props.reservedConcurrentExecutions === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: BUNDLE_TARGET,
        // Pin the SDK version the tests ran against instead of the runtime's copy.
        bundleAwsSDK: true,
        mainFields: [...BUNDLE_MAIN_FIELDS],
        banner: BUNDLE_BANNER,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => [splitBundleCommand(inputDir, props.handlerFolder, outputDir)],
        },
        forceDockerBundling: false,
        // esbuild's per-bundle size report is noise in every synth; its warnings and errors still print.
        logLevel: LogLevel.WARNING,
      },
    });
    logGroup.grantWrite(role);

    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; every other grant is scoped to a resource.',
    });
    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: props.asyncInvoke?.onFailure
        ? 'Failed async invocations go to the on-failure destination queue, which also records the error and the request context a function DLQ lacks.'
        : 'Invoked synchronously (API Gateway) or by an SQS event source mapping, where a function DLQ never receives anything: failures return to the caller, or redrive to the buffer queue\'s DLQ.',
    });
  }

  /** Sets an environment variable naming a resource, with the grant that makes it usable, in one call. */
  withEnvironment(name: string, value: string, grant?: (grantee: iam.IGrantable) => iam.Grant): this {
    this.addEnvironment(name, value);
    grant?.(this);
    return this;
  }
}
