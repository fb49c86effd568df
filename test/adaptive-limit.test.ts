import { describe, expect, it } from 'vitest';
import { createAdaptiveLimit } from '../src/carrierx/adaptive-limit.ts';

/** A limit on a clock the test moves: each call is started, then completed `rtt` ms later. */
function driven(options: { initial: number; min: number; max: number; windowCalls?: number }) {
  let clock = 0;
  const limit = createAdaptiveLimit({ ...options, now: () => clock });
  return {
    limit,
    /** `count` calls, one after another, each taking `rtt` ms with `inFlight` in flight as it ends. */
    calls(count: number, rtt: number, inFlight?: number) {
      for (let i = 0; i < count; i++) {
        const startedAt = limit.start();
        clock += rtt;
        // Unless told otherwise, the limit is fully in use.
        limit.complete(startedAt, inFlight ?? limit.limit, 'answered');
      }
    },
    /** `count` calls sent together, all answered 429 at once `rtt` ms later. */
    burstOf429(count: number, rtt: number) {
      const started = Array.from({ length: count }, () => limit.start());
      clock += rtt;
      for (const startedAt of started) limit.complete(startedAt, count, 'overloaded');
    },
    advance(ms: number) {
      clock += ms;
    },
  };
}

describe('the adaptive concurrency limit', () => {
  it('grows one call at a time while CarrierX answers as fast as ever and the limit is in use', () => {
    const d = driven({ initial: 64, min: 8, max: 256 });
    d.calls(10, 50);
    expect(d.limit.limit).toBe(74);
    d.calls(1_000, 50);
    expect(d.limit.limit).toBe(256);
  });

  it('does not grow while most of the limit sits unused', () => {
    const d = driven({ initial: 64, min: 8, max: 256 });
    d.calls(100, 50, 10);
    expect(d.limit.limit).toBe(64);
  });

  it('shrinks by a tenth when a call takes more than twice the baseline round trip plus 10 ms', () => {
    const d = driven({ initial: 100, min: 8, max: 256 });
    d.calls(1, 50);
    expect([d.limit.limit, d.limit.baselineMs]).toEqual([101, 50]);
    // 110 ms is still within 2 × 50 + 10.
    d.calls(1, 110);
    expect(d.limit.limit).toBe(102);
    d.calls(1, 111);
    expect(d.limit.limit).toBe(91);
  });

  it('takes a millisecond of jitter on a fast upstream for jitter, not for CarrierX slowing down', () => {
    const d = driven({ initial: 64, min: 8, max: 256 });
    d.calls(1, 0.3);
    // Ten times the baseline, but within the 10 ms slack.
    d.calls(20, 3);
    expect(d.limit.limit).toBe(85);
  });

  it('shrinks once for a burst of 429s that were all in flight together, not once per 429', () => {
    const d = driven({ initial: 200, min: 8, max: 256 });
    d.burstOf429(200, 50);
    expect(d.limit.limit).toBe(180);
    // The next round trip's 429s were sent under the new limit: one more step.
    d.burstOf429(180, 50);
    expect(d.limit.limit).toBe(162);
  });

  it('never goes below its floor, however long CarrierX answers 429', () => {
    const d = driven({ initial: 64, min: 8, max: 256 });
    for (let round = 0; round < 100; round++) d.burstOf429(d.limit.limit, 50);
    expect(d.limit.limit).toBe(8);
  });

  it('recovers once CarrierX answers at its usual speed again', () => {
    const d = driven({ initial: 128, min: 8, max: 256 });
    d.calls(1, 50);
    for (let round = 0; round < 40; round++) d.burstOf429(d.limit.limit, 50);
    expect(d.limit.limit).toBe(8);
    d.calls(500, 50);
    expect(d.limit.limit).toBe(256);
  });

  it('ignores calls that say nothing about CarrierX: a caller gone, a deadline cut short', () => {
    const d = driven({ initial: 64, min: 8, max: 256 });
    const startedAt = d.limit.start();
    d.advance(5_000);
    d.limit.complete(startedAt, 64, 'ignored');
    expect([d.limit.limit, d.limit.baselineMs]).toEqual([64, Number.POSITIVE_INFINITY]);
  });

  it('learns a durably slower CarrierX as its new baseline after a window of calls', () => {
    const d = driven({ initial: 64, min: 8, max: 256, windowCalls: 100 });
    d.calls(100, 20);
    expect(d.limit.baselineMs).toBe(20);
    // CarrierX now answers in 80 ms: the limit steps down once per round trip of slow calls...
    d.calls(100, 80);
    expect(d.limit.limit).toBeLessThan(164);
    // ...until the window ends and 80 ms is the baseline: then it grows again.
    expect(d.limit.baselineMs).toBe(80);
    const settled = d.limit.limit;
    d.calls(10, 80);
    expect(d.limit.limit).toBe(settled + 10);
  });

  it('starts within its floor and ceiling whatever the initial value', () => {
    expect(createAdaptiveLimit({ initial: 64, min: 1, max: 2 }).limit).toBe(2);
    expect(createAdaptiveLimit({ initial: 64, min: 100, max: 200 }).limit).toBe(100);
  });
});
