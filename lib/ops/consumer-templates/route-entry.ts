/**
 * The route `ops new consumer` prints for the operator to paste into lib/route-table.ts: the new
 * table format (`targets`), a pattern to adjust, and the samples `npm test` runs through it.
 */
import type { ConsumerKind } from './consumer-kind';

export function routeEntrySource(name: string, kind: ConsumerKind): string {
  return `  {
    name: '${name}',
    description: 'Uploaded PDFs go to the ${name} ${kind} consumer.',
    pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'], detail: { extension: ['pdf'] } },
    targets: [{ kind: '${kind}', consumer: '${name}' }],
    samples: {
      matching: [{ 'detail-type': 'file.uploaded', detail: { eventId: 'evt-${name}-1', workspaceId: 'ws-1', fileId: 'f-1', extension: 'pdf' } }],
      notMatching: [{ 'detail-type': 'file.uploaded', detail: { eventId: 'evt-${name}-2', workspaceId: 'ws-1', fileId: 'f-2', extension: 'png' } }],
    },
  },`;
}
