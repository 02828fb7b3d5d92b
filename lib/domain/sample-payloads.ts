/**
 * The sample Fast.io payloads that ship in the repository (test/fixtures/payloads): what the README's
 * quick start sends, what the tests and the load driver vary by event id, file or agent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SAMPLE_PAYLOADS_DIR = fileURLToPath(new URL('../../test/fixtures/payloads', import.meta.url));

export type SamplePayload = Record<string, unknown> & { resource?: Record<string, unknown> };

export interface SampleChanges {
  readonly eventId?: string;
  readonly fileId?: string;
  readonly agentId?: string;
  readonly eventType?: string;
  readonly fileName?: string;
}

/** A sample payload by name (`document-uploaded`), with the given fields replaced. */
export function samplePayload(name: string, changes: SampleChanges = {}): SamplePayload {
  const payload = JSON.parse(readFileSync(join(SAMPLE_PAYLOADS_DIR, `${name}.json`), 'utf8')) as SamplePayload;
  if (changes.eventId !== undefined) payload.event_id = changes.eventId;
  if (changes.eventType !== undefined) payload.event_type = changes.eventType;
  if (changes.agentId !== undefined) payload.agent_id = changes.agentId;
  if (changes.fileId !== undefined || changes.fileName !== undefined) {
    payload.resource = {
      ...(payload.resource ?? {}),
      ...(changes.fileId === undefined ? {} : { id: changes.fileId }),
      ...(changes.fileName === undefined ? {} : { name: changes.fileName }),
    };
  }
  return payload;
}
