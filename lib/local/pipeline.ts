/**
 * The embedded default (DESIGN.md decision 11): the whole pipeline on loopback, from the
 * synthesized templates, with the real handler code and the real state machine definitions, and
 * in-process stand-ins for the AWS services they use.
 *
 *   HTTP (API Gateway payload 2.0) ─▶ ingest handler ─PutEvents─▶ local bus ─▶ archive (.local/archive.jsonl)
 *                                       │ (AWS JSON endpoint:     │ rules from the routing template
 *                                       │  EventBridge, Secrets   ├─▶ SQS buffer ─▶ event source ─▶ catalog consumer
 *                                       │  Manager, DynamoDB, S3) ├─▶ async invoke ─▶ agent audit (retries, on-failure)
 *                                                                 └─▶ StartExecution ─▶ review workflow (local tasks)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SECRET_REFRESH_INTERVAL_SECONDS } from '../../lambdas/ingest/config';
import { RECORDER_REDRIVE_UNSUPPORTED } from '../stack-outputs';
import { Activity } from './activity';
import { HttpApi } from './http-api';
import { LOCAL_REGION, ensureAssembly, type SynthPolicy } from './assembly';
import { LocalArchive, type BusEvent } from './archive';
import { createAwsEndpoint, close, listen } from './aws-endpoint';
import { createClock, type Clock } from './clock';
import { handleControl } from './control';
import { invokeApiDestination } from './api-destination';
import { receiverCertificate } from './receiver';
import { LocalBusLog } from './bus-log';
import type { ArnDelivery, ControlledPipeline, DeadLetterQueueStatus, DeliverResult, LocalReplay, PeekedMessage, PipelineFile, RedriveResult } from './control-surface';
import { UnknownQueueError, extractEvent, failureDetails } from './dead-letters';
import { LocalDynamoDb } from './dynamodb';
import { headerParameterValues } from '../domain/input-transform';
import { DeliveryError, LocalEventBus, targetLabel, type ReplayRequest, type ReplayResult } from './event-bus';
import { SqsEventSource } from './event-source';
import { FaultRegistry } from './faults';
import { Flow, eventLabel, terminalPrinter } from './flow';
import { AsyncInvoker, LocalFunction } from './lambda-runtime';
import { loadModel, type DeadLetterQueueRef, type LocalModel, type RuleDefinition, type RuleTargetDefinition } from './model';
import { LocalRecorder, RECORDER_BUFFER_SECONDS, recorderDir } from './recorder';
import { LocalS3 } from './s3';
import { LocalSecret, ensureSecretFile } from './secrets';
import { LocalQueue } from './sqs';
import { LocalStateMachine, type StepFunctionsDeps } from './step-functions';

export const DEFAULT_PORT = 4000;
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LocalPipelineOptions {
  /** The project whose cdk.out and lambdas/ run. Default: this checkout. */
  readonly projectRoot?: string;
  /** Where local state lives (secret, archive, logs, pipeline.json). Default `<projectRoot>/.local`. */
  readonly stateDir?: string;
  /** 0 = an ephemeral port. Default 4000. */
  readonly port?: number;
  /** When to run `cdk synth` first. Default `if-stale`. */
  readonly synth?: SynthPolicy;
  /** Runs this cloud assembly as it is instead of `<projectRoot>/cdk.out` (no synth). */
  readonly assemblyDir?: string;
  /** Divides every AWS-side wait (visibility timeouts, retry delays); 1 = as deployed. */
  readonly timeScale?: number;
  readonly now?: () => number;
  /** Terminal lines: synth progress and one line per step of each delivery. */
  readonly output?: (line: string) => void;
  readonly color?: boolean;
  /** The recorder's buffering interval in AWS seconds (time-scaled like every AWS wait). Default: the deployed stream's. */
  readonly recorderBufferSeconds?: number;
  /** Also print every line the functions log (they always go to <stateDir>/logs/). */
  readonly verbose?: boolean;
  /** Overrides every function's timeout (real seconds). */
  readonly functionTimeoutSeconds?: number;
  /** Overrides the HTTP API stage's throttling from the template (load tests); false = no throttling. */
  readonly apiThrottle?: { readonly rateLimit: number; readonly burstLimit: number } | false;
}

/** How long `dlq peek` hides what it reads (lib/ops/dlq-commands.ts PEEK_VISIBILITY_SECONDS, the same value). */
export const PEEK_VISIBILITY_SECONDS = 30;

export type { DeadLetterQueueStatus, LocalReplay, PeekedMessage, PipelineFile, RedriveResult } from './control-surface';

export class LocalPipeline implements ControlledPipeline {
  readonly flow: Flow;
  readonly faults = new FaultRegistry();
  readonly activity = new Activity();
  readonly clock: Clock;
  readonly dynamodb: LocalDynamoDb;
  readonly archive: LocalArchive;
  /** The flight recorder's JSON lines under <stateDir>/recorder/ (read by `ops trace|reconcile --local`). */
  readonly recorder: LocalRecorder;
  /** EventBridge's bus log (INFO level) under <stateDir>/bus-log.jsonl (read by `ops reconcile|trace --local`). */
  readonly busLog: LocalBusLog;
  readonly bus: LocalEventBus;
  readonly secret: LocalSecret;
  /** The claim-check bucket(s): large bodies the ingest stored, read back by consumers. */
  readonly s3: LocalS3;
  readonly queues = new Map<string, LocalQueue>();
  readonly functions = new Map<string, LocalFunction>();
  readonly asyncInvokers = new Map<string, AsyncInvoker>();
  readonly stateMachines = new Map<string, LocalStateMachine>();
  readonly eventSources: SqsEventSource[] = [];
  readonly published: StepFunctionsDeps['published'] = [];
  readonly #abort = new AbortController();
  #awsServer: Server | undefined;
  #webServer: Server | undefined;
  #url = '';
  #awsEndpoint = '';
  #stopped = false;
  #functionEnvironment: Record<string, string> = {};
  startupMs = 0;
  secretCreated = false;

  private constructor(
    readonly model: LocalModel,
    readonly options: Required<Pick<LocalPipelineOptions, 'projectRoot' | 'stateDir'>> & LocalPipelineOptions,
  ) {
    this.clock = createClock({ ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }), ...(options.now ? { now: options.now } : {}) });
    this.flow = new Flow(this.clock.now);
    if (options.output) this.flow.on(terminalPrinter(options.output, { color: options.color ?? false }));
    this.dynamodb = new LocalDynamoDb(model.tables, this.faults, this.clock.now);
    this.archive = new LocalArchive(model.archive.name, join(options.stateDir, 'archive.jsonl'));
    this.recorder = new LocalRecorder(recorderDir(options.stateDir), model.recorderRules[0]?.pattern, {
      intervalMs: (options.recorderBufferSeconds ?? RECORDER_BUFFER_SECONDS) * 1000,
      scaled: (awsMs) => this.clock.scaled(awsMs),
      track: (flushed) => void this.activity.track(flushed),
    });
    this.busLog = new LocalBusLog(options.stateDir, model.bus.arn);
    this.busLog.writeTargets(model.rules.flatMap((rule) => rule.targets.map((target) => ({ route: rule.route, target: target.name ?? target.kind, ruleArn: rule.arn, targetArn: target.arn }))));
    this.secret = new LocalSecret(model.secret.name, model.secret.arn, this.secretFile, this.clock.now, this.faults);
    this.s3 = new LocalS3(model.buckets, this.faults, this.clock.now);

    for (const definition of model.queues) this.queues.set(definition.arn, new LocalQueue(definition, this.clock));
    for (const queue of this.queues.values()) {
      const redrive = queue.definition.redrive;
      if (redrive) queue.deadLetterQueue = this.queues.get(redrive.deadLetterArn);
    }
    for (const ref of model.deadLetterQueues) {
      this.queues.get(ref.queueArn)?.on((event) => {
        if (event.type !== 'sent') return;
        const extracted = extractEvent(ref.role, event.message.body);
        const depth = event.queue.depth();
        this.flow.emit('dead', ref.name, `${extracted.ok ? eventLabel(extracted.event) : 'message'}: landed in ${ref.name} (depth ${depth.visible + depth.inFlight})`, { messageId: event.message.messageId });
      });
    }

    const signal = this.#abort.signal;
    for (const definition of model.functions) {
      const fn = new LocalFunction(definition, {
        environment: () => this.#functionEnvironment,
        onLogs: (source, lines, requestId) => this.functionLogs(source.label, lines, requestId),
        ...(options.functionTimeoutSeconds === undefined ? {} : { timeoutSeconds: options.functionTimeoutSeconds }),
      });
      this.functions.set(definition.name, fn);
      this.asyncInvokers.set(definition.name, new AsyncInvoker(fn, model.invokeConfigs.get(definition.name), {
        clock: this.clock,
        flow: this.flow,
        activity: this.activity,
        queueByArn: (arn) => this.queues.get(arn),
        signal,
      }));
    }

    const sfnDeps: StepFunctionsDeps = {
      dynamodb: this.dynamodb,
      queueByUrl: (url) => [...this.queues.values()].find((queue) => queue.definition.url === url),
      topics: model.topics,
      faults: this.faults,
      clock: this.clock,
      flow: this.flow,
      activity: this.activity,
      executionByArn: (executionArn) => [...this.stateMachines.values()].map((machine) => machine.execution(executionArn)).find((execution) => execution !== undefined),
      published: this.published,
    };
    for (const definition of model.stateMachines) this.stateMachines.set(definition.arn, new LocalStateMachine(definition, sfnDeps));

    this.bus = new LocalEventBus({
      name: model.bus.name,
      arn: model.bus.arn,
      archive: this.archive,
      archivePattern: model.archive.pattern,
      recorder: this.recorder,
      busLog: this.busLog,
      rules: model.rules,
      deliver: (rule, target, delivery, describe) => this.deliver(rule, target, delivery, describe),
      queueByArn: (arn) => this.queues.get(arn),
      faults: this.faults,
      clock: this.clock,
      flow: this.flow,
      activity: this.activity,
      signal,
    });

    for (const mapping of model.eventSourceMappings) {
      const queue = this.queues.get(mapping.queueArn);
      const fn = this.functions.get(mapping.functionName);
      if (!queue || !fn) throw new Error(`event source mapping ${mapping.functionName} ← ${mapping.queueArn}: unknown queue or function`);
      this.eventSources.push(new SqsEventSource(queue, fn, mapping, { clock: this.clock, flow: this.flow, activity: this.activity, route: fn.definition.route ?? fn.label }));
    }
  }

  /** Starts everything; resolves once the webhook endpoint is listening. */
  static async start(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
    const started = performance.now();
    const projectRoot = resolve(options.projectRoot ?? PROJECT_ROOT);
    const stateDir = resolve(options.stateDir ?? join(projectRoot, '.local'));
    mkdirSync(join(stateDir, 'logs'), { recursive: true });
    const log = (line: string) => options.output?.(line);
    const assemblyDir = options.assemblyDir ?? (await ensureAssembly({ projectRoot, policy: options.synth ?? 'if-stale', log }));
    const model = loadModel(projectRoot, assemblyDir);
    const pipeline = new LocalPipeline(model, { ...options, projectRoot, stateDir });
    try {
      await pipeline.startServices();
    } catch (error) {
      await pipeline.stop();
      throw error;
    }
    pipeline.startupMs = performance.now() - started;
    return pipeline;
  }

  get url(): string {
    return this.#url;
  }

  get webhookUrl(): string {
    const route = this.model.webhookRoutes[0];
    return `${this.#url}${route?.path ?? '/'}`;
  }

  get awsEndpoint(): string {
    return this.#awsEndpoint;
  }

  get secretFile(): string {
    return join(this.options.stateDir, 'signing-secret');
  }

  get pipelineFile(): string {
    return join(this.options.stateDir, 'pipeline.json');
  }

  private async startServices(): Promise<void> {
    this.secretCreated = ensureSecretFile(this.secretFile).created;
    this.#awsServer = createAwsEndpoint({ dynamodb: this.dynamodb, bus: this.bus, secret: this.secret, s3: this.s3, flow: this.flow });
    const awsPort = await listen(this.#awsServer, 0);
    this.#awsEndpoint = `http://127.0.0.1:${awsPort}`;
    const noConfig = join(this.options.stateDir, 'no-aws-config');
    this.#functionEnvironment = {
      AWS_ENDPOINT_URL: this.#awsEndpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      // Keep the developer's own AWS profile (and any endpoint or credentials in it) out of the functions.
      AWS_CONFIG_FILE: noConfig,
      AWS_SHARED_CREDENTIALS_FILE: noConfig,
      // The ingest's own wait before re-reading the secret on a mismatch, scaled like every AWS-side wait.
      SECRET_REFRESH_INTERVAL_SECONDS: String(DEFAULT_SECRET_REFRESH_INTERVAL_SECONDS / this.clock.timeScale),
    };
    await Promise.all([...this.functions.values()].map((fn) => fn.warm()));
    for (const source of this.eventSources) source.start();

    const throttle = this.options.apiThrottle;
    const apiModel = throttle === undefined ? this.model : { ...this.model, throttle: throttle === false ? undefined : throttle };
    const api = new HttpApi(apiModel, {
      invoke: (functionName, event) => {
        const fn = this.functions.get(functionName);
        if (!fn) throw new Error(`no local function ${functionName}`);
        return fn.invoke(event);
      },
      control: (request) => handleControl(this, request),
      flow: this.flow,
      now: this.clock.now,
    });
    this.#webServer = createServer((request: IncomingMessage, response: ServerResponse) => void api.handle(request, response));
    this.#webServer.on('clientError', (error: NodeJS.ErrnoException, socket) => api.clientError(error, socket));
    const port = await listen(this.#webServer, this.options.port ?? DEFAULT_PORT).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new Error(`port ${this.options.port ?? DEFAULT_PORT} is in use: pass --port <n> (or PORT=<n>)`);
      throw error;
    });
    this.#url = `http://127.0.0.1:${port}`;
    const file: PipelineFile = {
      url: this.#url,
      webhookUrl: this.webhookUrl,
      controlUrl: `${this.#url}/_local`,
      pid: process.pid,
      startedAt: new Date(this.clock.now()).toISOString(),
      stateDir: this.options.stateDir,
    };
    writeFileSync(this.pipelineFile, `${JSON.stringify(file, null, 2)}\n`);
  }

  private functionLogs(label: string, lines: readonly string[], requestId: string | undefined): void {
    if (lines.length === 0) return;
    const file = join(this.options.stateDir, 'logs', `${label.replace(/\//g, '.')}.log`);
    appendFileSync(file, lines.map((line) => `${requestId ?? '-'} ${line}\n`).join(''));
    if (this.options.verbose) for (const line of lines) this.options.output?.(`    ${label} │ ${line}`);
  }

  // ---- delivery to targets ----------------------------------------------------------------------

  /**
   * One delivery attempt to a rule target (what EventBridge's target call does), of `body`: the
   * event after the target's InputPath or InputTransformer.
   */
  async deliver(rule: Pick<RuleDefinition, 'route'>, target: RuleTargetDefinition, delivery: { readonly event: BusEvent | Record<string, unknown>; readonly body: string }, describe: string): Promise<string> {
    const { event, body } = delivery;
    switch (target.kind) {
      case 'queue': {
        const queue = this.queues.get(target.arn);
        if (!queue) throw new DeliveryError('RESOURCE_NOT_FOUND', `queue ${target.arn} does not exist`);
        const message = queue.send(body);
        return `queued in ${queue.definition.label} (message ${message.messageId.slice(0, 8)})`;
      }
      case 'function': {
        const invoker = this.asyncInvokers.get(target.resourceName);
        if (!invoker) throw new DeliveryError('RESOURCE_NOT_FOUND', `function ${target.resourceName} does not exist`);
        const requestId = invoker.accept(JSON.parse(body) as unknown, describe);
        return `invoked ${invoker.fn.label} asynchronously (request ${requestId.slice(0, 8)})`;
      }
      case 'workflow': {
        const machine = this.stateMachines.get(target.arn);
        if (!machine) throw new DeliveryError('RESOURCE_NOT_FOUND', `state machine ${target.arn} does not exist`);
        const execution = machine.startExecution(body, { describe });
        return `started workflow execution ${execution.name.slice(0, 8)}`;
      }
      case 'http': {
        if (!target.apiDestination) throw new DeliveryError('RESOURCE_NOT_FOUND', `API destination ${target.arn} is not in the template`);
        // The loopback receiver (`ops receive`) of this state directory is trusted, read at each call: it may start later.
        const extraCa = receiverCertificate(this.options.stateDir);
        return invokeApiDestination(target.apiDestination, body, headerParameterValues(event, target.headerParameters ?? {}), extraCa === undefined ? {} : { extraCa });
      }
      case 'elsewhere': {
        const eventId = typeof event.id === 'string' ? event.id : '';
        this.arnDeliveries.push({ at: new Date(this.clock.now()).toISOString(), route: rule.route, target: target.name ?? target.id, arn: target.arn, eventId, body });
        return `delivered to ${target.arn}`;
      }
    }
  }

  /** Deliveries to targets that exist elsewhere (by ARN, or a topic of this app), oldest first. */
  readonly arnDeliveries: ArnDelivery[] = [];

  // ---- operator surface (the control endpoint and the tests) ------------------------------------

  /** Every replay this pipeline ran, oldest first, for `replay status|list --local`. */
  readonly replays: LocalReplay[] = [];

  replay(request: ReplayRequest): ReplayResult {
    const startedAt = new Date(this.clock.now()).toISOString();
    const result = this.bus.replay(request);
    this.replays.push({ ...result, replayStartTime: startedAt, replayEndTime: new Date(this.clock.now()).toISOString() });
    return result;
  }

  private deadLetterRef(name: string): DeadLetterQueueRef {
    const ref = this.model.deadLetterQueues.find((candidate) => candidate.name === name);
    if (!ref) throw new UnknownQueueError(`unknown queue "${name}"; valid names: ${this.model.deadLetterQueues.map((q) => q.name).join(', ')}`);
    return ref;
  }

  /** A dead-letter queue by operator name (`documents/queue/buffer-dlq`), or any queue by label or ARN. */
  queue(name: string): LocalQueue {
    const ref = this.model.deadLetterQueues.find((candidate) => candidate.name === name);
    const queue = ref ? this.queues.get(ref.queueArn) : [...this.queues.values()].find((candidate) => candidate.definition.label === name || candidate.arn === name);
    if (!queue) throw new UnknownQueueError(`unknown queue "${name}"`);
    return queue;
  }

  deadLetterQueues(): DeadLetterQueueStatus[] {
    return this.model.deadLetterQueues.map((ref) => {
      const queue = this.queues.get(ref.queueArn) as LocalQueue;
      const { visible, inFlight } = queue.depth();
      const oldest = queue.oldestSentTimestamp();
      return {
        name: ref.name,
        route: ref.route,
        role: ref.role,
        depth: visible + inFlight,
        visible,
        inFlight,
        oldestAgeSeconds: oldest === undefined ? null : Math.max(0, Math.round((this.clock.now() - oldest) / 1000)),
      };
    });
  }

  /**
   * The first `max` visible messages of a dead-letter queue, read as `dlq peek` reads them on AWS:
   * ReceiveMessage hides each for PEEK_VISIBILITY_SECONDS (and SQS counts the receive), then they are
   * made visible again. Messages in flight (being redriven, or read by another peek) are not
   * returned, as SQS does not return them: the caller sees them only in the queue's in-flight count.
   */
  peek(name: string, max = 10): PeekedMessage[] {
    const ref = this.deadLetterRef(name);
    const queue = this.queues.get(ref.queueArn) as LocalQueue;
    const received = queue.receive(max, PEEK_VISIBILITY_SECONDS);
    const peeked = received.map((message) => {
      const extracted = extractEvent(ref.role, message.body);
      return {
        messageId: message.messageId,
        sentAt: new Date(message.sentTimestamp).toISOString(),
        receiveCount: message.receiveCount,
        ...(extracted.ok ? { event: extracted.event } : { problem: extracted.reason }),
        failure: failureDetails(ref.role, message),
        body: message.body,
      };
    });
    for (const message of received) queue.changeVisibility(message.receiptHandle, 0);
    return peeked;
  }

  /** Where a dead letter of this queue goes back to, and how. */
  private redelivery(ref: DeadLetterQueueRef): { destination: string; deliver: (event: Record<string, unknown>, body: string) => void | Promise<void> } {
    // A dead-letter queue belongs to one target, and each target has its rule: its dead letters go back to that target alone.
    const rule = this.model.rules.find((candidate) => candidate.route === ref.route && candidate.target === ref.target);
    const target = rule?.targets[0];
    if (!rule || !target) throw new Error(`target ${ref.route}/${ref.target ?? '?'} has no rule`);
    const describe = (event: Record<string, unknown>) => `${eventLabel(event)} (redrive)`;
    switch (ref.role) {
      case 'buffer-dlq': {
        const buffer = [...this.queues.values()].find((queue) => queue.definition.redrive?.deadLetterArn === ref.queueArn);
        if (!buffer) throw new Error(`no queue redrives to ${ref.name}`);
        return { destination: buffer.definition.label, deliver: (_event, body) => void buffer.send(body) };
      }
      case 'recorder-dlq':
        throw new Error(RECORDER_REDRIVE_UNSUPPORTED);
      case 'target-dlq':
        return {
          destination: `the ${targetLabel(target)} of ${ref.route}`,
          deliver: async (event) => {
            const outcome = await this.deliver(rule, target, { event, body: this.bus.targetBody(rule, target, event) }, describe(event));
            this.flow.emit('info', ref.route, `${describe(event)}: ${outcome}`);
          },
        };
      case 'on-failure': {
        const owner = [...this.model.invokeConfigs].find(([, config]) => config.onFailureQueueArn === ref.queueArn)?.[0];
        const invoker = this.asyncInvokers.get(owner ?? target.resourceName);
        if (!invoker) throw new Error(`route ${ref.route} has no function target`);
        return { destination: `${invoker.fn.label} (asynchronous invoke)`, deliver: (event) => void invoker.accept(event, describe(event)) };
      }
      case 'workflow-failures': {
        const machine = this.stateMachines.get((rule.targets.find((candidate) => candidate.kind === 'workflow') ?? target).arn);
        if (!machine) throw new Error(`route ${ref.route} has no workflow target`);
        return { destination: `${ref.route} review workflow`, deliver: (event) => void machine.startExecution(JSON.stringify(event), { describe: describe(event) }) };
      }
      case 'subscription-dlq':
        throw new Error(`${ref.name}: redriving SNS subscription dead letters is not supported locally`);
    }
  }

  /** Sends dead letters back to where they failed; a message is deleted only after it was re-delivered. */
  async redrive(name: string, options: { max?: number; messageIds?: readonly string[] } = {}): Promise<RedriveResult> {
    const ref = this.deadLetterRef(name);
    const queue = this.queues.get(ref.queueArn) as LocalQueue;
    const { destination, deliver } = this.redelivery(ref);
    const { visible } = queue.depth();
    // `messageIds`: only these (reconcile --recover redrives the dead letters of its window, not the whole queue).
    const only = options.messageIds === undefined ? undefined : new Set(options.messageIds);
    const limit = Math.min(options.max ?? Number.POSITIVE_INFINITY, only?.size ?? Number.POSITIVE_INFINITY, visible);
    const failures: RedriveResult['failures'][number][] = [];
    const redriven: RedriveResult['redriven'][number][] = [];
    const keptBack: string[] = [];
    let moved = 0;
    for (let received = 0; moved + failures.length < limit && received < visible; received += 1) {
      const [message] = queue.receive(1, 300);
      if (!message) break;
      if (only !== undefined && !only.has(message.messageId)) {
        keptBack.push(message.receiptHandle);
        continue;
      }
      const extracted = extractEvent(ref.role, message.body);
      const eventId = extracted.ok ? (extracted.event.detail as { eventId?: unknown } | undefined)?.eventId : undefined;
      const ids = {
        messageId: message.messageId,
        ...(typeof eventId === 'string' ? { fastioEventId: eventId } : {}),
        sentAt: new Date(message.sentTimestamp).toISOString(),
        failure: failureDetails(ref.role, message),
      };
      try {
        if (!extracted.ok) throw new Error(extracted.reason);
        await deliver(extracted.event, message.body);
        queue.delete(message.receiptHandle);
        moved += 1;
        redriven.push(ids);
      } catch (error) {
        failures.push({ ...ids, reason: error instanceof Error ? error.message : String(error) });
        keptBack.push(message.receiptHandle);
      }
    }
    // Failed ones were hidden for the run so it did not retry them in a loop; show them again now.
    for (const receiptHandle of keptBack) queue.changeVisibility(receiptHandle, 0);
    const depth = queue.depth();
    this.flow.emit(failures.length > 0 ? 'warn' : 'ok', ref.name, `redrive → ${destination}: ${moved} moved, ${failures.length} failed, ${depth.visible + depth.inFlight} left`);
    return { queue: ref.name, destination, moved, failed: failures.length, left: depth.visible + depth.inFlight, failures, redriven };
  }

  /** Empties a dead-letter queue, as a purge by hand does (the incident drill loses dead letters this way). */
  purge(name: string): { queue: string; purged: number } {
    const ref = this.deadLetterRef(name);
    const purged = (this.queues.get(ref.queueArn) as LocalQueue).purge();
    this.flow.emit('warn', ref.name, `purged: ${purged} message(s) deleted, their events are now missing`);
    return { queue: ref.name, purged };
  }

  /**
   * Delivers events to one target of a route alone, never through the bus (`reconcile --recover`
   * re-delivering what is missing): the target's call, as EventBridge would make it.
   */
  async deliverToTarget(route: string, targetName: string | undefined, events: readonly Record<string, unknown>[]): Promise<DeliverResult> {
    const rules = this.model.rules.filter((candidate) => candidate.route === route);
    if (rules.length === 0) throw new UnknownQueueError(`unknown route "${route}"; routes: ${[...new Set(this.model.rules.map((r) => r.route))].join(', ')}`);
    const named = rules.filter((candidate) => targetName === undefined || candidate.target === targetName);
    const rule = named.length === 1 ? named[0] : undefined;
    const target = rule?.targets[0];
    if (!rule || !target) throw new UnknownQueueError(`route ${route} has no target "${targetName ?? ''}"; targets: ${rules.map((r) => r.target).join(', ')}`);
    const failures: string[] = [];
    const outcomes: DeliverResult['outcomes'][number][] = [];
    let delivered = 0;
    for (const event of events) {
      const describe = `${eventLabel(event)} (re-delivered)`;
      const eventId = (event.detail as { eventId?: unknown } | undefined)?.eventId;
      const ids = typeof eventId === 'string' ? { fastioEventId: eventId } : {};
      try {
        const outcome = await this.deliver(rule, target, { event, body: this.bus.targetBody(rule, target, event) }, describe);
        this.flow.emit('info', route, `${describe}: ${outcome}`);
        delivered += 1;
        outcomes.push({ ...ids, delivered: true });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.push(`${String(eventId ?? event.id)}: ${reason}`);
        outcomes.push({ ...ids, delivered: false, reason });
      }
    }
    return { delivered, failures, outcomes };
  }

  /** Resolves when no delivery, invocation or execution is in flight and no polled queue has visible messages. */
  async settle(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      await this.activity.idle();
      const busy = this.eventSources.some((source) => source.queue.visibleCount() > 0);
      if (!busy && this.activity.pending === 0) return;
      if (performance.now() > deadline) throw new Error('the local pipeline did not settle in time');
      await new Promise((resolveWait) => setTimeout(resolveWait, 10));
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    // What the recorder still buffers is written, as Firehose delivers its buffer.
    this.recorder.flush();
    await Promise.all(this.eventSources.map((source) => source.stop()));
    await Promise.all([...this.functions.values()].map((fn) => fn.close()));
    for (const queue of this.queues.values()) queue.close();
    if (this.#webServer?.listening) await close(this.#webServer);
    if (this.#awsServer?.listening) await close(this.#awsServer);
    try {
      if (existsSync(this.pipelineFile) && (JSON.parse(readFileSync(this.pipelineFile, 'utf8')) as PipelineFile).url === this.#url) rmSync(this.pipelineFile);
    } catch {
      // not ours, or already gone
    }
  }
}

export function startPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  return LocalPipeline.start(options);
}
