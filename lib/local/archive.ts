/**
 * The bus archive as a JSON-lines file (`.local/archive.jsonl`): every event the bus accepted that
 * matches the archive's pattern, with the time it was archived. It survives restarts, so a local
 * replay can re-send what an earlier run received. Replayed events are not archived again.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface BusEvent {
  readonly version: string;
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
  readonly 'replay-name'?: string;
}

export interface ArchiveRecord {
  /** ISO time the archive received the event. */
  readonly archivedAt: string;
  readonly event: BusEvent;
}

export class LocalArchive {
  constructor(
    readonly name: string,
    readonly file: string,
  ) {
    mkdirSync(dirname(file), { recursive: true });
  }

  append(event: BusEvent, archivedAt: number): void {
    const record: ArchiveRecord = { archivedAt: new Date(archivedAt).toISOString(), event };
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }

  records(): ArchiveRecord[] {
    if (!existsSync(this.file)) return [];
    const records: ArchiveRecord[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line) as ArchiveRecord);
      } catch {
        // A torn last line (the process died mid-write) is skipped, as a partial event would be.
      }
    }
    return records;
  }

  /** Archived events whose event time is in [from, to). */
  between(from: Date, to: Date): ArchiveRecord[] {
    return this.records().filter((record) => {
      const time = Date.parse(record.event.time);
      return time >= from.getTime() && time < to.getTime();
    });
  }

  count(): number {
    return this.records().length;
  }
}
