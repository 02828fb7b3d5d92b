/**
 * Times on the operator's command line: ISO 8601 with an explicit zone, or relative to now
 * (`now`, `-2h`, `-30m`, `-1d`, `-1h30m`, or the same as `now-2h`), and the checks a replay window
 * must pass before any replay is started.
 *
 * The CLI parses options with node:util parseArgs in strict mode, which refuses a separate value
 * that starts with '-' (`--from -2h`); write `--from=-2h` or `--from now-2h`.
 */
import { UsageError } from './command';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DAY_MS = UNIT_MS.d;

const RELATIVE = /^(?:now)?-(?:\d+[smhdw])+$/;
const RELATIVE_PART = /(\d+)([smhdw])/g;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

const HELP = 'use ISO 8601 with a zone (2026-11-22T10:00:00Z, 2026-11-22T11:00+01:00, 2026-11-22) or relative (now, now-2h, -30m as --from=-30m, -1d, -1h30m)';

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses one time argument; `flag` names it in the error (e.g. '--from'). */
export function parseTime(raw: string, now: Date, flag: string): Date {
  const text = raw.trim();
  if (text === 'now') return new Date(now.getTime());
  if (RELATIVE.test(text)) {
    let ms = 0;
    for (const [, amount, unit] of text.matchAll(RELATIVE_PART)) ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
    const value = new Date(now.getTime() - ms);
    if (!Number.isFinite(value.getTime())) throw new UsageError(`${flag} "${raw}" is too far in the past`);
    return value;
  }
  const match = ISO.exec(text);
  if (!match) throw new UsageError(`${flag} "${raw}" is not a time: ${HELP}`);
  const [, y, mo, d, hh, mm, ss, fraction, zulu, sign, offH, offM] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw new UsageError(`${flag} "${raw}" is not a calendar date`);
  if (hh === undefined) return new Date(Date.UTC(year, month - 1, day)); // a date alone is midnight UTC
  if (zulu === undefined && sign === undefined) {
    throw new UsageError(`${flag} "${raw}" has no time zone: add Z for UTC or an offset such as +02:00`);
  }
  const hours = Number(hh);
  const minutes = Number(mm);
  const seconds = ss === undefined ? 0 : Number(ss);
  if (hours > 23 || minutes > 59 || seconds > 59) throw new UsageError(`${flag} "${raw}" is not a time of day`);
  const millis = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  let offsetMinutes = 0;
  if (sign !== undefined) {
    const oh = Number(offH);
    const om = Number(offM);
    if (oh > 14 || om > 59) throw new UsageError(`${flag} "${raw}" has an invalid zone offset`);
    offsetMinutes = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds, millis) - offsetMinutes * 60_000);
}

export interface TimeWindow {
  readonly from: Date;
  readonly to: Date;
}

/** Parses --from/--to against one reading of the clock; refuses an empty, inverted or future window. */
export function parseWindow(fromRaw: string, toRaw: string, now: Date): TimeWindow {
  const from = parseTime(fromRaw, now, '--from');
  const to = parseTime(toRaw, now, '--to');
  if (from.getTime() >= to.getTime()) {
    throw new UsageError(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  }
  if (to.getTime() > now.getTime()) {
    throw new UsageError(`--to (${to.toISOString()}) is in the future (now is ${now.toISOString()}): the archive only holds events that already happened; use --to now`);
  }
  return { from, to };
}

/**
 * Refuses a window that starts before the oldest event the archive still holds.
 * `retentionDays` 0 means indefinite retention (EventBridge's convention): nothing to check.
 */
export function assertWithinRetention(window: TimeWindow, retentionDays: number | undefined, now: Date): void {
  if (retentionDays === undefined || retentionDays <= 0) return;
  const earliest = new Date(now.getTime() - retentionDays * DAY_MS);
  if (window.from.getTime() < earliest.getTime()) {
    throw new UsageError(
      `--from (${window.from.toISOString()}) is older than the archive's retention of ${retentionDays} days: events before ${earliest.toISOString()} are gone; start at -${retentionDays}d or later`,
    );
  }
}

/** e.g. 20261122T101500 (UTC), the form used in generated replay names. */
export function compactTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');
}

/** A short human duration: 45s, 3m 12s, 2h 05m, 3d 4h. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}
