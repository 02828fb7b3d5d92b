/**
 * The time a state entered, as Unix epoch seconds, computed inside the state machine with
 * intrinsic functions only. JSONPath has no date arithmetic, and JSONata (which has `$toMillis`)
 * does not run in aws-local-stepfunctions 3.0.0, which the tests and the local pipeline execute the
 * synthesized definition with. So `$$.State.EnteredTime` (`2026-11-22T10:07:02.123Z`) is split into
 * its fields, and the start of its minute is the sum of table lookups (year, month, day, hour,
 * minute), each table computed here from `Date.UTC`. Minute precision is enough for a lease of
 * minutes and a TTL of days.
 */

/** The years the tables cover: a state machine deployed today keeps working until the last. */
export const CLOCK_YEARS = { first: 2024, last: 2099 } as const;

const ENTERED_TIME = '$$.State.EnteredTime';

const array = (values: readonly number[]) => `States.Array(${values.join(', ')})`;
const item = (values: string, index: string) => `States.ArrayGetItem(${values}, ${index})`;
const add = (a: string, b: string | number) => `States.MathAdd(${a}, ${b})`;
const field = (source: string, splitter: string, index: number) => item(`States.StringSplit(${source}, '${splitter}')`, String(index));
// "07" is not JSON: read "107" and take 100 away.
const twoDigits = (text: string) => add(`States.StringToJson(States.Format('1{}', ${text}))`, -100);

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const years = Array.from({ length: CLOCK_YEARS.last - CLOCK_YEARS.first + 1 }, (_, index) => CLOCK_YEARS.first + index);
const secondsIntoYear = (leapYear: number) => Array.from({ length: 12 }, (_, month) => (Date.UTC(leapYear, month, 1) - Date.UTC(leapYear, 0, 1)) / 1000);
const multiples = (count: number, step: number) => Array.from({ length: count }, (_, index) => index * step);

/** An intrinsic-function expression for the epoch second at which the current minute began. */
export function enteredMinuteEpochSeconds(): string {
  const date = field(ENTERED_TIME, 'T', 0);
  const time = field(ENTERED_TIME, 'T', 1);
  const year = add(`States.StringToJson(${field(date, '-', 0)})`, -CLOCK_YEARS.first);
  const month = add(twoDigits(field(date, '-', 1)), -1);
  const day = add(twoDigits(field(date, '-', 2)), -1);
  const yearStart = item(array(years.map((y) => Date.UTC(y, 0, 1) / 1000)), year);
  const leap = item(array(years.map((y) => (isLeap(y) ? 1 : 0))), year);
  const monthStart = item(item(`States.Array(${array(secondsIntoYear(2025))}, ${array(secondsIntoYear(2024))})`, leap), month);
  const dayStart = item(array(multiples(31, 86_400)), day);
  const hourStart = item(array(multiples(24, 3_600)), twoDigits(field(time, ':', 0)));
  const minuteStart = item(array(multiples(60, 60)), twoDigits(field(time, ':', 1)));
  return add(add(add(add(yearStart, monthStart), dayStart), hourStart), minuteStart);
}

/** An expression for `seconds` after the current minute began, as the string a DynamoDB number is. */
export function epochSecondsAfter(seconds: number): string {
  return `States.Format('{}', ${add(enteredMinuteEpochSeconds(), seconds)})`;
}
