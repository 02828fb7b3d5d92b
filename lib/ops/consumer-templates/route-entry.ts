/**
 * The route `ops new consumer` prints for the operator to paste into lib/route-table.ts: the new
 * table format (`targets`), a pattern to adjust, and the samples `npm run test:routes` runs through it.
 *
 * The pattern selects uploads of one workspace named after the consumer (`ws-<name>`), a value no
 * Fast.io fixture and no other route's sample carries: pasted as printed, the route receives nothing
 * the shipped routes or their tests send, so only the new route's own checks run against it until
 * its pattern is made real.
 */
import type { ConsumerKind } from './consumer-kind';

/** The workspace the printed pattern selects; replaced by a real workspace id or another condition. */
export const scaffoldWorkspaceId = (name: string): string => `ws-${name}`;

export function routeEntrySource(name: string, kind: ConsumerKind): string {
  const workspace = scaffoldWorkspaceId(name);
  return `  {
    name: '${name}',
    description: 'Files uploaded to workspace ${workspace} go to the ${name} ${kind} consumer.',
    pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'], detail: { workspaceId: ['${workspace}'] } },
    targets: [{ kind: '${kind}', consumer: '${name}' }],
    samples: {
      matching: [{ 'detail-type': 'file.uploaded', detail: { eventId: 'evt-${name}-1', workspaceId: '${workspace}', fileId: 'f-${name}-1', extension: 'pdf' } }],
      notMatching: [
        { 'detail-type': 'file.uploaded', detail: { eventId: 'evt-${name}-2', workspaceId: 'ws-other', fileId: 'f-${name}-2', extension: 'pdf' } },
        { 'detail-type': 'file.deleted', detail: { eventId: 'evt-${name}-3', workspaceId: '${workspace}', fileId: 'f-${name}-3', extension: 'pdf' } },
      ],
    },
  },`;
}
