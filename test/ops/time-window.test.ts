import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/ops/command';
import { generateReplayName, REPLAY_NAME_PATTERN } from '../../lib/ops/replay-commands';
import { assertWithinRetention, compactTimestamp, formatDuration, parseTime, parseWindow } from '../../lib/ops/time-window';

const now = new Date('2026-11-22T12:00:00.000Z');
const at = (iso: string) => new Date(iso).getTime();

describe('parseTime', () => {
  it.each([
    ['now', '2026-11-22T12:00:00.000Z'],
    ['-2h', '2026-11-22T10:00:00.000Z'],
    ['-30m', '2026-11-22T11:30:00.000Z'],
    ['-1d', '2026-11-21T12:00:00.000Z'],
    ['-1w', '2026-11-15T12:00:00.000Z'],
    ['-45s', '2026-11-22T11:59:15.000Z'],
    ['-1h30m', '2026-11-22T10:30:00.000Z'],
    ['now-2h', '2026-11-22T10:00:00.000Z'],
    ['  -2h ', '2026-11-22T10:00:00.000Z'],
    ['2026-11-22T10:15:00Z', '2026-11-22T10:15:00.000Z'],
    ['2026-11-22t10:15z', '2026-11-22T10:15:00.000Z'],
    ['2026-11-22T10:15:30.250Z', '2026-11-22T10:15:30.250Z'],
    ['2026-11-22T11:15:00+01:00', '2026-11-22T10:15:00.000Z'],
    ['2026-11-22T05:15-0500', '2026-11-22T10:15:00.000Z'],
    ['2026-11-22 10:15:00Z', '2026-11-22T10:15:00.000Z'],
    ['2026-11-22', '2026-11-22T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('reads %j', (raw, expected) => {
    expect(parseTime(raw, now, '--from').toISOString()).toBe(expected);
  });

  it.each([
    ['yesterday', '--from "yesterday" is not a time: use ISO 8601 with a zone'],
    ['2h', '--from "2h" is not a time'],
    ['+2h', '--from "+2h" is not a time'],
    ['-2x', '--from "-2x" is not a time'],
    ['', '--from "" is not a time'],
    ['2026-11-22T10:15', '--from "2026-11-22T10:15" has no time zone: add Z for UTC or an offset such as +02:00'],
    ['2026-02-30', '--from "2026-02-30" is not a calendar date'],
    ['2026-13-01T00:00Z', '--from "2026-13-01T00:00Z" is not a calendar date'],
    ['2026-11-22T24:00Z', '--from "2026-11-22T24:00Z" is not a time of day'],
    ['2026-11-22T10:00+15:00', '--from "2026-11-22T10:00+15:00" has an invalid zone offset'],
  ])('refuses %j with a usage error', (raw, message) => {
    expect(() => parseTime(raw, now, '--from')).toThrow(UsageError);
    expect(() => parseTime(raw, now, '--from')).toThrow(message);
  });
});

describe('parseWindow', () => {
  it('parses both ends against one reading of the clock, so --to now is not "in the future"', () => {
    const window = parseWindow('-2h', 'now', now);
    expect(window.from.getTime()).toBe(at('2026-11-22T10:00:00Z'));
    expect(window.to.getTime()).toBe(now.getTime());
  });

  it('refuses an empty or inverted window', () => {
    expect(() => parseWindow('-1h', '-1h', now)).toThrow('--from (2026-11-22T11:00:00.000Z) must be before --to (2026-11-22T11:00:00.000Z)');
    expect(() => parseWindow('-1h', '-2h', now)).toThrow(UsageError);
  });

  it('refuses a window ending in the future', () => {
    expect(() => parseWindow('-1h', '2026-11-22T12:00:01Z', now)).toThrow(
      '--to (2026-11-22T12:00:01.000Z) is in the future (now is 2026-11-22T12:00:00.000Z)',
    );
  });
});

describe('assertWithinRetention', () => {
  it('accepts a window inside the retention, to the millisecond', () => {
    expect(() => assertWithinRetention(parseWindow('-30d', '-1d', now), 30, now)).not.toThrow();
  });

  it('refuses a window starting before the oldest retained event and says where to start', () => {
    expect(() => assertWithinRetention(parseWindow('-31d', '-1d', now), 30, now)).toThrow(
      "--from (2026-10-22T12:00:00.000Z) is older than the archive's retention of 30 days: events before 2026-10-23T12:00:00.000Z are gone; start at -30d or later",
    );
  });

  it('has nothing to check for indefinite retention (0) or an unknown one', () => {
    expect(() => assertWithinRetention(parseWindow('-3650d', '-1d', now), 0, now)).not.toThrow();
    expect(() => assertWithinRetention(parseWindow('-3650d', '-1d', now), undefined, now)).not.toThrow();
  });
});

describe('formatting', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [192_000, '3m 12s'],
    [7_500_000, '2h 05m'],
    [273_600_000, '3d 4h'],
  ])('formatDuration(%d) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('compactTimestamp is UTC yyyymmddThhmmss', () => {
    expect(compactTimestamp(new Date('2026-01-02T03:04:05.678Z'))).toBe('20260102T030405');
  });
});

describe('generateReplayName', () => {
  it('is <stage>-<routes>-<timestamp>-<4 random>', () => {
    expect(generateReplayName('dev', ['documents', 'agent-activity'], now, () => 0)).toBe('dev-documents_agent-activity-20261122T120000-aaaa');
    expect(generateReplayName('prod', 'all', now, () => 0.999)).toBe('prod-all-20261122T120000-9999');
  });

  it('trims the routes part so the name stays a valid 64-character replay name', () => {
    const name = generateReplayName('a-very-long-stage-xx', ['untrusted-agent-deletions', 'agent-activity', 'large-media'], now, () => 0.5);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(REPLAY_NAME_PATTERN);
    expect(name).toBe('a-very-long-stage-xx-untrusted-agent-deleti-20261122T120000-ssss');
  });
});
