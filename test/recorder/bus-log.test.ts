/**
 * Bus-log records as EventBridge writes them (the schema in lib/recorder/bus-log.ts) read into
 * delivery records per route and target.
 */
import { describe, expect, it } from 'vitest';
import { parseBusLogLine, parseBusLogObject, resolverFor, toDeliveryRecord, type BusLogRecord } from '../../lib/recorder/bus-log';

const BUS = 'arn:aws:events:eu-west-1:123456789012:event-bus/dev-fastio';
const RULE = 'arn:aws:events:eu-west-1:123456789012:rule/dev-fastio/dev-fastio-video-uploads';
const SLACK = 'arn:aws:events:eu-west-1:123456789012:api-destination/dev-fastio-video-uploads-slack/0f1e';
const resolve = resolverFor([{ route: 'video-uploads', target: 'slack', ruleArn: RULE, targetArn: SLACK }]);

function record(messageType: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resource_arn: BUS,
    request_id: 'req-1',
    event_id: 'eb-1',
    invocation_id: 'inv-1',
    message_timestamp_ms: '1795341600000',
    message_type: messageType,
    log_level: 'INFO',
    details: { rule_arn: RULE, role_arn: 'arn:aws:iam::123456789012:role/r', target_arn: SLACK, total_attempts: 3, final_invocation_status: 'SUCCESS' },
    ...extra,
  };
}

describe('bus log', () => {
  it('reads INVOCATION_SUCCESS as the target succeeded, with the attempt count and the time', () => {
    const parsed = parseBusLogLine(JSON.stringify(record('INVOCATION_SUCCESS'))) as BusLogRecord;
    expect(toDeliveryRecord(parsed, resolve)).toEqual({ route: 'video-uploads', target: 'slack', eventId: 'eb-1', status: 'succeeded', at: '2026-11-22T10:00:00.000Z', reason: 'SUCCESS', attempt: 3 });
  });

  it('reads a retryable attempt failure with the error EventBridge logged as its reason', () => {
    const line = record('INVOCATION_ATTEMPT_RETRYABLE_FAILURE', {
      log_level: 'ERROR',
      message_timestamp_ms: 1795341600000,
      details: { rule_arn: RULE, target_arn: SLACK, attempt_type: 'RETRY', attempt_count: 2, invocation_status: 'FAILED' },
      error: { http_status_code: 503, error_message: 'Service\nUnavailable', aws_service: 'ApiDestination' },
    });
    expect(toDeliveryRecord(parseBusLogLine(JSON.stringify(line)) as BusLogRecord, resolve)).toMatchObject({ status: 'retrying', reason: '503 ApiDestination: Service Unavailable', attempt: 2 });
  });

  it('maps INVOCATION_DLQ and INVOCATION_FAILURE to EventBridge giving up', () => {
    const statuses = ['INVOCATION_DLQ', 'INVOCATION_FAILURE'].map((type) => toDeliveryRecord(parseBusLogLine(JSON.stringify(record(type))) as BusLogRecord, resolve)?.status);
    expect(statuses).toEqual(['dead-lettered', 'failed']);
  });

  it('is no delivery record for a step that is no outcome, or for a rule and target not followed', () => {
    const start = parseBusLogLine(JSON.stringify(record('INVOCATION_START'))) as BusLogRecord;
    const recorder = parseBusLogLine(JSON.stringify(record('INVOCATION_SUCCESS', { details: { rule_arn: `${RULE}-recorder`, target_arn: SLACK } }))) as BusLogRecord;
    expect([toDeliveryRecord(start, resolve), toDeliveryRecord(recorder, resolve)]).toEqual([undefined, undefined]);
  });

  it('counts the lines of an object that are no record (wrong types, unknown message type, not JSON) and keeps the rest', () => {
    const text = [
      JSON.stringify(record('INVOCATION_SUCCESS')),
      JSON.stringify(record('SOMETHING_NEW')),
      JSON.stringify(record('INVOCATION_SUCCESS', { event_id: 42 })),
      JSON.stringify(record('INVOCATION_SUCCESS', { message_timestamp_ms: 'yesterday' })),
      '{"resource_arn": ',
      '',
    ].join('\n');
    const { records, unreadable } = parseBusLogObject(text);
    expect(records.map((entry) => entry.message_type)).toEqual(['INVOCATION_SUCCESS']);
    expect(unreadable).toBe(4);
  });
});
