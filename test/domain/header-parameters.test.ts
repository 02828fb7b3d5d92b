/** An API destination target's header parameters, as EventBridge fills them from the event. */
import { describe, expect, it } from 'vitest';
import { headerParameterValues } from '../../lib/domain/input-transform';

const event = { id: 'eb-1', detail: { eventId: 'evt-42', sizeMiB: 12, nested: { a: 1 }, fileName: 'Bob "final" cut.mp4' } };

describe('headerParameterValues', () => {
  it('reads a JSON-path value from the event: the Idempotency-Key is the Fast.io event id', () => {
    expect(headerParameterValues(event, { 'Idempotency-Key': '$.detail.eventId' })).toEqual({ 'Idempotency-Key': 'evt-42' });
  });

  it('sends a static value as written and a number as its text', () => {
    expect(headerParameterValues(event, { 'X-Static': 'fastio', 'X-Size': '$.detail.sizeMiB' })).toEqual({ 'X-Static': 'fastio', 'X-Size': '12' });
  });

  it('sends no header for a path the event lacks or one that reads an object', () => {
    expect(headerParameterValues(event, { 'X-Missing': '$.detail.agentId', 'X-Object': '$.detail.nested' })).toEqual({});
  });
});
