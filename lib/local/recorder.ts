/**
 * The local flight recorder (DESIGN.md decision 14): every event the local bus receives, from
 * PutEvents and from replays (marked by `replay-name`), as one JSON line, exactly as the catch-all
 * rule hands it to Firehose. It buffers as Firehose does, so what readers see locally is what they
 * see on AWS:
 * - records are held for the buffering interval (the deployed stream's 60 s by default, divided by
 *   the time scale) or until 5 MiB, then written as ONE object;
 * - the object is named, and partitioned, after the arrival time of its OLDEST record, by UTC hour
 *   like Firehose's `!{timestamp}` prefix: an event that arrived just after an hour boundary can sit
 *   under the previous hour, and readers must start their scan one buffer interval earlier;
 *
 *   <stateDir>/recorder/dt=YYYY-MM-DD/hour=HH/fastio-recorder-<oldest arrival>-<n>.jsonl
 *
 * - a record is invisible to readers until its object is written (written whole, then renamed), so
 *   another process (`ops trace --local`, `ops reconcile --local`) never reads half an object.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FASTIO_SOURCE } from '../domain/fastio-envelope';
import { compilePattern, type CompiledPattern } from '../domain/pattern-matcher';
import type { BusEvent } from './archive';

/** The deployed catch-all rule's pattern: every `fastio` event, quarantined and replayed ones included. */
export const RECORDER_PATTERN = { source: [FASTIO_SOURCE] };

/** Objects of the local recorder start with this, as Firehose's start with the stream name. */
export const RECORDER_OBJECT_PREFIX = 'fastio-recorder-';

/** The deployed stream's buffering interval (lib/constructs/flight-recorder.ts), in AWS seconds. */
export const RECORDER_BUFFER_SECONDS = 60;

/** Firehose's buffer size of the deployed stream: a fuller buffer is written before its interval ends. */
const BUFFER_MAX_BYTES = 5 * 1024 * 1024;

/** Firehose's largest buffering interval: how much earlier than a window a reader must start. */
export const MAX_BUFFER_LEAD_MS = 900_000;

const HOUR_MS = 3_600_000;

/** `dt=2026-12-02/hour=03` of an epoch-ms time, in UTC like Firehose's `!{timestamp}`. */
export function partitionOf(at: number): string {
  const iso = new Date(at).toISOString();
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** Where `npm start` with this state directory records. */
export function recorderDir(stateDir: string): string {
  return join(stateDir, 'recorder');
}

export interface RecorderWindow {
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
}

/** One recorded line: the event as delivered, and the partition it was found in. */
export interface RecorderLine {
  readonly event: BusEvent;
  readonly partition: string;
}

export interface RecorderBuffering {
  /** The buffering interval in AWS ms; 0 writes one object per record at once. */
  readonly intervalMs: number;
  /** AWS ms to real ms (the pipeline's time scale). */
  readonly scaled?: (awsMs: number) => number;
  /** Told of each open buffer, so "settled" includes the recorder's pending object. */
  readonly track?: (flushed: Promise<void>) => void;
}

interface OpenBuffer {
  readonly oldest: number;
  readonly lines: string[];
  bytes: number;
  readonly timer: NodeJS.Timeout;
  readonly flushed: () => void;
}

export class LocalRecorder {
  readonly #pattern: CompiledPattern;
  readonly #buffering: RecorderBuffering;
  #buffer: OpenBuffer | undefined;
  #objects = 0;

  constructor(
    readonly dir: string,
    pattern: unknown = RECORDER_PATTERN,
    buffering: RecorderBuffering = { intervalMs: 0 },
  ) {
    this.#pattern = compilePattern(pattern);
    this.#buffering = buffering;
  }

  /** Records the event if the recorder's rule matches it; `at` (epoch ms) is its arrival. */
  record(event: BusEvent, at: number): boolean {
    if (!this.#pattern.matches(event)) return false;
    const line = `${JSON.stringify(event)}\n`;
    if (this.#buffering.intervalMs <= 0) {
      this.write(at, [line]);
      return true;
    }
    if (this.#buffer === undefined) {
      let flushed: () => void = () => undefined;
      const done = new Promise<void>((resolve) => {
        flushed = resolve;
      });
      const wait = this.#buffering.scaled?.(this.#buffering.intervalMs) ?? this.#buffering.intervalMs;
      this.#buffer = { oldest: at, lines: [], bytes: 0, timer: setTimeout(() => this.flush(), wait), flushed };
      this.#buffering.track?.(done);
    }
    this.#buffer.lines.push(line);
    this.#buffer.bytes += Buffer.byteLength(line);
    if (this.#buffer.bytes >= BUFFER_MAX_BYTES) this.flush();
    return true;
  }

  /** Writes the open buffer as one object now (its interval ended, it is full, or the pipeline stops). */
  flush(): void {
    const buffer = this.#buffer;
    if (buffer === undefined) return;
    this.#buffer = undefined;
    clearTimeout(buffer.timer);
    try {
      this.write(buffer.oldest, buffer.lines);
    } finally {
      buffer.flushed();
    }
  }

  /** How long (real ms) a record may wait in the buffer before readers see it. */
  get bufferMs(): number {
    const interval = this.#buffering.intervalMs;
    return interval <= 0 ? 0 : (this.#buffering.scaled?.(interval) ?? interval);
  }

  /** Records held in the open buffer, not yet readable. */
  get buffered(): number {
    return this.#buffer?.lines.length ?? 0;
  }

  private write(oldest: number, lines: readonly string[]): void {
    const partitionDir = join(this.dir, partitionOf(oldest));
    mkdirSync(partitionDir, { recursive: true });
    this.#objects += 1;
    const name = `${RECORDER_OBJECT_PREFIX}${new Date(oldest).toISOString().replace(/:/g, '-')}-${process.pid}-${this.#objects}.jsonl`;
    const file = join(partitionDir, name);
    writeFileSync(`${file}.tmp`, lines.join(''));
    renameSync(`${file}.tmp`, file);
  }

  /** Partitions on disk, oldest first (names sort by time). */
  partitions(): string[] {
    if (!existsSync(this.dir)) return [];
    const found: string[] = [];
    for (const day of readdirSync(this.dir).filter((name) => /^dt=\d{4}-\d{2}-\d{2}$/.test(name)).sort()) {
      for (const hour of readdirSync(join(this.dir, day)).filter((name) => /^hour=\d{2}$/.test(name)).sort()) found.push(`${day}/${hour}`);
    }
    return found;
  }

  /**
   * Lines of every partition whose hour overlaps [from - leadMs, to + arrivalLagMs): an object is
   * named after its oldest record, so a record of the window can be under an hour up to one buffer
   * interval earlier (leadMs, Firehose's largest by default), and recorded up to the lag later than
   * its `time` (EventBridge retries its target). Filtering by event time is the caller's business.
   */
  read(window: RecorderWindow, arrivalLagMs = 0, leadMs = MAX_BUFFER_LEAD_MS): RecorderLine[] {
    const first = partitionOf(Math.floor((window.from - leadMs) / HOUR_MS) * HOUR_MS);
    const last = partitionOf(window.to + arrivalLagMs);
    const lines: RecorderLine[] = [];
    for (const partition of this.partitions()) {
      if (partition < first || partition > last) continue;
      for (const file of this.objects(partition)) this.readObject(file, partition, lines);
    }
    return lines;
  }

  /** The objects of one partition, oldest first (names start with the oldest record's arrival). */
  objects(partition: string): string[] {
    const dir = join(this.dir, partition);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => name.endsWith('.jsonl'))
      .sort()
      .map((name) => join(dir, name));
  }

  private readObject(file: string, partition: string, lines: RecorderLine[]): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        lines.push({ event: JSON.parse(line) as BusEvent, partition });
      } catch {
        // A line that is not JSON (a file someone edited, an object cut by a full disk) is skipped.
      }
    }
  }
}
