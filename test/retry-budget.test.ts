import { describe, expect, it } from 'vitest';
import { createRetryBudget } from '../src/carrierx/retry-budget.ts';

/** A budget on a clock the test moves. */
function budgetAt(options: { ratio: number; minPerSecond: number }) {
  let now = 0;
  const budget = createRetryBudget({ ...options, windowMs: 10_000, now: () => now });
  return { budget, advance: (ms: number) => (now += ms) };
}

/** How many of `n` retries the budget allows. */
const allowed = (budget: { tryRetry(): boolean }, n: number) =>
  Array.from({ length: n }, () => budget.tryRetry()).filter(Boolean).length;

describe('the retry budget', () => {
  it('allows retries up to the ratio of recent calls, and no more', () => {
    const { budget } = budgetAt({ ratio: 0.2, minPerSecond: 0 });
    for (let i = 0; i < 100; i++) budget.called();
    expect(allowed(budget, 100)).toBe(20);
  });

  it('forgets calls that left the window, so retries earned long ago are not spent now', () => {
    const { budget, advance } = budgetAt({ ratio: 0.2, minPerSecond: 0 });
    for (let i = 0; i < 100; i++) budget.called();
    advance(11_000);
    expect(allowed(budget, 10)).toBe(0);
    budget.called();
    expect(allowed(budget, 10)).toBe(1);
  });

  it('counts retries made in the window against what later calls earn', () => {
    const { budget, advance } = budgetAt({ ratio: 0.5, minPerSecond: 0 });
    for (let i = 0; i < 10; i++) budget.called();
    expect(allowed(budget, 10)).toBe(5);
    advance(5_000);
    for (let i = 0; i < 10; i++) budget.called();
    // 20 calls in the window earn 10 retries, 5 of which were spent 5 s ago.
    expect(allowed(budget, 10)).toBe(5);
  });

  it('lets a quiet service retry its reserve each second even without calls to earn it', () => {
    const { budget, advance } = budgetAt({ ratio: 0.2, minPerSecond: 2 });
    expect(allowed(budget, 5)).toBe(2);
    advance(1_000);
    expect(allowed(budget, 5)).toBe(2);
  });
});
