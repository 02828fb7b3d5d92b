/**
 * `npm run bench -- --check` decides its exit code from the figures alone. These figures are made
 * up, so the decision is tested without timing anything.
 */
import { describe, expect, it } from 'vitest';
import { atMost, checkOutcome, missedGoals, type Figure } from '../../lib/bench/goals';

const figure = (name: string, value: number, limit?: number): Figure => ({
  section: 'made-up',
  name,
  value,
  unit: '×',
  ...(limit === undefined ? {} : { goal: atMost(limit) }),
});

describe('bench --check', () => {
  it('exits 0 when every figure with a goal meets it, a figure exactly at its limit included', () => {
    // GIVEN figures under and at their goals, and one without a goal
    const figures = [figure('ratio under', 1.29, 1.3), figure('ratio at', 1.3, 1.3), figure('informational', 9_999)];
    // WHEN --check decides
    const outcome = checkOutcome(figures, true);
    // THEN exit 0 and nothing to say
    expect(outcome).toEqual({ exitCode: 0 });
  });

  it('exits 1 and names every missed goal with its figure when one or more are missed', () => {
    // GIVEN two of four figures over their goals
    const figures = [figure('warm / floor', 1.41, 1.3), figure('bundle', 321, 400), figure('cold import', 1.15, 1.1), figure('no goal', 5)];
    // WHEN --check decides
    const outcome = checkOutcome(figures, true);
    // THEN exit 1, and the message names both misses, with their values and goals, and nothing else
    expect(outcome.exitCode).toBe(1);
    expect(outcome.message).toBe('bench --check: 2 goal(s) missed: warm / floor 1.41 × (goal ≤ 1.3); cold import 1.15 × (goal ≤ 1.1)');
    expect(missedGoals(figures).map((missed) => missed.name)).toEqual(['warm / floor', 'cold import']);
  });

  it('exits 0 without --check even when goals are missed: the figures are only reported', () => {
    expect(checkOutcome([figure('warm / floor', 2, 1.3)], false)).toEqual({ exitCode: 0 });
  });

  it('counts a figure that could not be computed (NaN) as missed', () => {
    const outcome = checkOutcome([figure('cold import', Number.NaN, 1.1)], true);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.message).toContain('cold import NaN ×');
  });
});
