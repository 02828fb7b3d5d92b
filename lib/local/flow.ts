/**
 * What the terminal shows: one line per step of a delivery as it flows through the local pipeline
 * (verified or rejected, routes matched, each target's outcome, dead letters). Components emit
 * structured records; the CLI prints them and tests can read them.
 */

export type FlowStatus = 'ok' | 'fail' | 'info' | 'warn' | 'dead';

export interface FlowRecord {
  readonly at: number;
  readonly status: FlowStatus;
  /** What emitted it: ingest, bus, route name, function label, … */
  readonly source: string;
  readonly text: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export type FlowListener = (record: FlowRecord) => void;

/** The most recent records kept; trimmed in one go when twice that many piled up, not on every emit. */
const MAX_RECORDS = 5_000;

/**
 * Ends a hold, first emitting the record that should come before what was held (if any), stamped
 * with the time the hold began: the answer to a request is dated when the request came in, as an
 * access log dates it, so it sorts before what the request caused.
 */
export type FlowRelease = (first?: { status: FlowStatus; source: string; text: string; data?: Record<string, unknown> }) => void;

/** Held records are let out anyway beyond this many, so a steady stream of requests cannot starve the terminal. */
const MAX_HELD = 1_000;

export class Flow {
  readonly records: FlowRecord[] = [];
  readonly #listeners = new Set<FlowListener>();
  #holds = 0;
  /** Held records with their place among records of the same millisecond (emission order; a hold's answer before what it held). */
  #held: { record: FlowRecord; order: number }[] = [];
  #emitted = 0;

  constructor(private readonly now: () => number = Date.now) {}

  on(listener: FlowListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(status: FlowStatus, source: string, text: string, data?: Record<string, unknown>): void {
    const record: FlowRecord = { at: this.now(), status, source, text, ...(data ? { data } : {}) };
    this.#emitted += 1;
    if (this.#holds === 0) {
      this.#deliver(record);
      return;
    }
    this.#held.push({ record, order: this.#emitted });
    if (this.#held.length >= MAX_HELD) this.#flush();
  }

  /**
   * Holds back records until the returned release is called. The HTTP API holds while the ingest
   * runs: the bus routes an event inside the ingest's PutEvents, before the ingest answers, yet the
   * terminal should read in causal order for a person: "202 verified, published", then its routes.
   * Overlapping holds (concurrent requests) keep every record back until the last one ends, then
   * let them out in time order, so a line never prints before an earlier one.
   */
  hold(): FlowRelease {
    this.#holds += 1;
    const startedAt = this.now();
    // Just before the first record emitted during the hold.
    const order = this.#emitted + 0.5;
    let released = false;
    return (first) => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (first) this.#held.push({ record: { at: startedAt, status: first.status, source: first.source, text: first.text, ...(first.data ? { data: first.data } : {}) }, order });
      if (this.#holds === 0) this.#flush();
    };
  }

  #flush(): void {
    const held = this.#held.sort((a, b) => a.record.at - b.record.at || a.order - b.order);
    this.#held = [];
    for (const { record } of held) this.#deliver(record);
  }

  #deliver(record: FlowRecord): void {
    this.records.push(record);
    if (this.records.length >= 2 * MAX_RECORDS) this.records.splice(0, this.records.length - MAX_RECORDS);
    for (const listener of this.#listeners) listener(record);
  }
}

const SYMBOLS: Record<FlowStatus, string> = { ok: '✓', fail: '✗', info: '→', warn: '!', dead: '☠' };
const COLORS: Record<FlowStatus, string> = { ok: '32', fail: '31', info: '36', warn: '33', dead: '35' };

/** Formats records as terminal lines: `14:02:07.310 ✓ documents     text`. */
export function terminalPrinter(write: (line: string) => void, options: { color: boolean }): FlowListener {
  return (record) => {
    const time = new Date(record.at).toISOString().slice(11, 23);
    const symbol = SYMBOLS[record.status];
    const source = record.source.padEnd(26);
    const line = options.color
      ? `\u001b[2m${time}\u001b[0m \u001b[${COLORS[record.status]}m${symbol}\u001b[0m \u001b[1m${source}\u001b[0m ${record.text}`
      : `${time} ${symbol} ${source} ${record.text}`;
    write(line);
  };
}

/**
 * A handle for an event in flow lines: the Fast.io event id when it has one, whole, so it can be
 * pasted into `ops trace`.
 */
export function eventLabel(event: unknown): string {
  if (typeof event !== 'object' || event === null) return '?';
  const record = event as { id?: unknown; detail?: { eventId?: unknown }; 'detail-type'?: unknown };
  const eventId = typeof record.detail?.eventId === 'string' ? record.detail.eventId : undefined;
  const type = typeof record['detail-type'] === 'string' ? record['detail-type'] : '';
  const id = eventId ?? (typeof record.id === 'string' ? record.id : '?');
  const replay = typeof (record as { 'replay-name'?: unknown })['replay-name'] === 'string' ? ` (replay ${(record as { 'replay-name': string })['replay-name']})` : '';
  return `${type} ${id}${replay}`.trim();
}
