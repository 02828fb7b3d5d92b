/**
 * Fault injection for the local stand-ins: make an AWS call fail on purpose, to watch retries,
 * dead-letter queues and redrive work end to end. Handlers are untouched; the stand-in answers
 * the call with the error, exactly as the AWS service would.
 *
 * A fault matches by service and optionally operation, table (exact name, or a case-insensitive
 * fragment of its logical id such as "catalog"), route (for EventBridge target delivery), queue (for
 * SQS SendMessage: its handle, name or URL) and key attributes; it fails `times` calls, or every call until it is removed.
 */

export type FaultService = 'dynamodb' | 'events' | 'sns' | 'sqs' | 'secretsmanager' | 's3';

/**
 * The calls each stand-in passes through the registry before answering: a fault for any other
 * operation could never fire, so adding one is refused. Keep in step with the `take` call sites.
 */
export const INTERCEPTED_OPERATIONS: Readonly<Record<FaultService, readonly string[]>> = {
  dynamodb: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  events: ['PutEvents', 'Deliver'],
  sns: ['Publish'],
  sqs: ['SendMessage'],
  secretsmanager: ['GetSecretValue'],
  s3: ['PutObject', 'GetObject', 'HeadObject'],
};

export interface FaultSpec {
  readonly service: FaultService;
  /**
   * API operation, e.g. UpdateItem, PutItem, GetSecretValue, PutObject, GetObject; for `events`, `PutEvents` (the
   * ingest's call) or `Deliver` (a rule to its target). Absent: every operation of the service.
   */
  readonly operation?: string;
  /** DynamoDB: table name, or a fragment of its logical id ("catalog", "audit", "idempotency"). */
  readonly table?: string;
  /** EventBridge: the route whose rule cannot deliver to its target. */
  readonly route?: string;
  /** SQS: the queue SendMessage fails for, by handle (`large-media/workflow/workflow-failures`), name or URL. */
  readonly queue?: string;
  /** DynamoDB: only items whose key attributes have these values. */
  readonly key?: Readonly<Record<string, string | number>>;
  /** The error the caller receives, e.g. InternalServerError, ProvisionedThroughputExceededException. */
  readonly errorCode?: string;
  readonly message?: string;
  /** HTTP status of the error response (DynamoDB: 500 for InternalServerError, else 400). */
  readonly statusCode?: number;
  /** How many calls fail; unlimited when absent. */
  readonly times?: number;
}

export interface FaultTarget {
  readonly service: FaultService;
  readonly operation: string;
  readonly tableName?: string;
  readonly tableLogicalId?: string;
  readonly route?: string;
  /** SQS: the ways the called queue is named (handle, name, URL). */
  readonly queue?: { readonly label: string; readonly name: string; readonly url: string };
  readonly key?: Readonly<Record<string, string | number | undefined>>;
}

export interface ActiveFault extends FaultSpec {
  readonly id: number;
  /** Calls this fault has failed so far. */
  hits: number;
}

export class FaultRegistry {
  #nextId = 1;
  readonly #faults: ActiveFault[] = [];

  add(spec: FaultSpec): ActiveFault {
    if (spec.times !== undefined && (!Number.isInteger(spec.times) || spec.times < 1)) throw new Error('fault "times" must be a positive integer');
    const fault: ActiveFault = { ...spec, id: this.#nextId++, hits: 0 };
    this.#faults.push(fault);
    return fault;
  }

  remove(id?: number): number {
    const before = this.#faults.length;
    for (let i = this.#faults.length - 1; i >= 0; i -= 1) {
      if (id === undefined || this.#faults[i]?.id === id) this.#faults.splice(i, 1);
    }
    return before - this.#faults.length;
  }

  list(): readonly ActiveFault[] {
    return [...this.#faults];
  }

  /** The fault that fails this call (counting the hit), if any. */
  take(target: FaultTarget): ActiveFault | undefined {
    const fault = this.#faults.find((candidate) => matches(candidate, target));
    if (fault === undefined) return undefined;
    fault.hits += 1;
    if (fault.times !== undefined && fault.hits >= fault.times) this.#faults.splice(this.#faults.indexOf(fault), 1);
    return fault;
  }
}

function matches(fault: FaultSpec, target: FaultTarget): boolean {
  if (fault.service !== target.service) return false;
  if (fault.operation !== undefined && fault.operation.toLowerCase() !== target.operation.toLowerCase()) return false;
  if (fault.route !== undefined && fault.route !== target.route) return false;
  if (fault.queue !== undefined && !queueNamed(fault.queue, target.queue)) return false;
  if (fault.table !== undefined) {
    const wanted = fault.table.toLowerCase();
    const byName = target.tableName?.toLowerCase() === wanted;
    const byLogicalId = target.tableLogicalId?.toLowerCase().includes(wanted) ?? false;
    if (!byName && !byLogicalId) return false;
  }
  if (fault.key !== undefined) {
    for (const [attribute, value] of Object.entries(fault.key)) {
      if (String(target.key?.[attribute]) !== String(value)) return false;
    }
  }
  return true;
}

/** Whether `wanted` names this queue: its handle, its name or its URL. */
export function queueNamed(wanted: string, queue: { readonly label: string; readonly name: string; readonly url: string } | undefined): boolean {
  return queue !== undefined && (queue.label === wanted || queue.name === wanted || queue.url === wanted);
}
