/**
 * The local flight recorder (DESIGN.md decision 14): every event the local bus receives, from
 * PutEvents and from replays (marked by `replay-name`), as one JSON line, exactly as the catch-all
 * rule hands it to Firehose. Files are partitioned like the deployed recorder's S3 objects, by the
 * UTC hour the recorder received the event (Firehose's arrival time):
 *
 *   <stateDir>/recorder/dt=YYYY-MM-DD/hour=HH/events.jsonl
 *
 * Each line is written with a synchronous append, so another process (`ops trace --local`,
 * `ops reconcile --local`) reads it while the pipeline runs. Unlike Firehose nothing is buffered.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FASTIO_SOURCE } from '../domain/fastio-envelope';
import { compilePattern, type CompiledPattern } from '../domain/pattern-matcher';
import type { BusEvent } from './archive';

/** The deployed catch-all rule's pattern: every `fastio` event, quarantined and replayed ones included. */
export const RECORDER_PATTERN = { source: [FASTIO_SOURCE] };

export const RECORDER_FILE_NAME = 'events.jsonl';

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

export class LocalRecorder {
  readonly #pattern: CompiledPattern;

  constructor(
    readonly dir: string,
    pattern: unknown = RECORDER_PATTERN,
  ) {
    this.#pattern = compilePattern(pattern);
  }

  /** Records the event if the recorder's rule matches it; `at` (epoch ms) picks the partition. */
  record(event: BusEvent, at: number): boolean {
    if (!this.#pattern.matches(event)) return false;
    const partitionDir = join(this.dir, partitionOf(at));
    mkdirSync(partitionDir, { recursive: true });
    appendFileSync(join(partitionDir, RECORDER_FILE_NAME), `${JSON.stringify(event)}\n`);
    return true;
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
   * Lines of every partition whose hour overlaps [from, to + arrivalLagMs): an event of the window
   * can be recorded up to the lag later than its `time` (EventBridge retries its target), as
   * the deployed queries scan. Filtering by event time is the caller's business.
   */
  read(window: RecorderWindow, arrivalLagMs = 0): RecorderLine[] {
    const first = partitionOf(Math.floor(window.from / HOUR_MS) * HOUR_MS);
    const last = partitionOf(window.to + arrivalLagMs);
    const lines: RecorderLine[] = [];
    for (const partition of this.partitions()) {
      if (partition < first || partition > last) continue;
      const file = join(this.dir, partition, RECORDER_FILE_NAME);
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          lines.push({ event: JSON.parse(line) as BusEvent, partition });
        } catch {
          // A torn last line (being written, or the process died mid-write) is skipped.
        }
      }
    }
    return lines;
  }
}
