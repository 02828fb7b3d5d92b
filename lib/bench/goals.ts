/**
 * The figures `npm run bench` prints and the goals of issue 22 they are held to, apart from the
 * measuring, so what `--check` decides can be tested with figures made up for the purpose.
 */

export interface Goal {
  /** As printed, e.g. "≤ 1.3". */
  readonly text: string;
  readonly met: (value: number) => boolean;
}

export interface Figure {
  readonly section: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly goal?: Goal;
}

/** A goal met by any value up to `limit`; NaN (a figure that could not be computed) never meets it. */
export const atMost = (limit: number, unit = ''): Goal => ({ text: `≤ ${limit}${unit}`, met: (value) => value <= limit });

export function missedGoals(figures: readonly Figure[]): Figure[] {
  return figures.filter((figure) => figure.goal !== undefined && !figure.goal.met(figure.value));
}

export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/**
 * What `--check` does with the figures: exit 1 and one line naming every missed goal, or exit 0.
 * Without `--check` the figures are only reported (exit 0).
 */
export function checkOutcome(figures: readonly Figure[], check: boolean): { exitCode: 0 | 1; message?: string } {
  const missed = missedGoals(figures);
  if (!check || missed.length === 0) return { exitCode: 0 };
  const names = missed.map((figure) => `${figure.name} ${formatFigure(figure.value)} ${figure.unit} (goal ${figure.goal?.text})`);
  return { exitCode: 1, message: `bench --check: ${missed.length} goal(s) missed: ${names.join('; ')}` };
}
