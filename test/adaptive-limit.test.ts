import { describe, expect, it } from 'vitest';
import { type CallKind, createAdaptiveLimit, pageKind } from '../src/carrierx/adaptive-limit.ts';

/** A limit on a clock the test moves: each call is started, then completed `rtt` ms later. */
function driven(options: { initial: number; min: number; max: number; windowCalls?: number }) {
  let clock = 0;
  const limit = createAdaptiveLimit({ ...options, now: () => clock });
  return {
    limit,
    /** `count` calls, one after another, each taking `rtt` ms with `inFlight` in flight as it ends. */
    calls(count: number, rtt: number, inFlight?: number, kind?: CallKind) {
      for (let i = 0; i < count; i++) {
        const startedAt = limit.start();
        clock += rtt;
        // Unless told otherwise, the limit is fully in use.
        limit.complete(startedAt, inFlight ?? limit.limit, 'answered', kind);
      }
    },
    /** `count` calls sent together, all answered 503 at once `rtt` ms later. */
    burstOf503(count: number, rtt: number) {
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

  it('shrinks once for a burst of 503s that were all in flight together, not once per 503', () => {
    const d = driven({ initial: 200, min: 8, max: 256 });
    d.burstOf503(200, 50);
    expect(d.limit.limit).toBe(180);
    // The next round trip's 429s were sent under the new limit: one more step.
    d.burstOf503(180, 50);
    expect(d.limit.limit).toBe(162);
  });

  it('never goes below its floor, however long CarrierX answers 503', () => {
    const d = driven({ initial: 64, min: 8, max: 256 });
    for (let round = 0; round < 100; round++) d.burstOf503(d.limit.limit, 50);
    expect(d.limit.limit).toBe(8);
  });

  it('recovers once CarrierX answers at its usual speed again', () => {
    const d = driven({ initial: 128, min: 8, max: 256 });
    d.calls(1, 50);
    for (let round = 0; round < 40; round++) d.burstOf503(d.limit.limit, 50);
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

  it('judges pages of 1,000 records against their own round trip, not against one record', () => {
    const d = driven({ initial: 64, min: 8, max: 256 });
    d.calls(10, 5, 1);
    // Issue 22: 25 pages of 1,000 records in 18-75 ms, one after another, on an otherwise idle CarrierX.
    for (let i = 0; i < 25; i++) d.calls(1, 18 + ((i * 7) % 58), 1, 'page-1000');
    expect(d.limit.limit).toBe(64);
    expect([d.limit.baselineMs, d.limit.baselineOf('page-1000')]).toEqual([5, 18]);
  });

  it('still shrinks when a page takes more than twice the fastest page of its size plus its slack', () => {
    const d = driven({ initial: 64, min: 8, max: 256 });
    // Up to 100 records: 20 ms of slack.
    d.calls(1, 20, 1, 'page-100');
    d.calls(1, 60, 1, 'page-100');
    expect(d.limit.limit).toBe(64);
    d.calls(1, 61, 1, 'page-100');
    expect(d.limit.limit).toBe(57);
    // Up to 1,000 records: 50 ms of slack.
    d.calls(1, 18, 1, 'page-1000');
    d.calls(1, 87, 1, 'page-1000');
    expect(d.limit.limit).toBe(51);
    // A page of another size has a baseline of its own: its first round trip sets it.
    d.calls(1, 500, 1, 'page-10');
    expect(d.limit.limit).toBe(51);
  });

  it('sorts pages by size: up to 10, up to 100, up to 1,000 records', () => {
    expect([1, 10, 11, 100, 101, 1000].map(pageKind)).toEqual([
      'page-10',
      'page-10',
      'page-100',
      'page-100',
      'page-1000',
      'page-1000',
    ]);
  });

  it('starts within its floor and ceiling whatever the initial value', () => {
    expect(createAdaptiveLimit({ initial: 64, min: 1, max: 2 }).limit).toBe(2);
    expect(createAdaptiveLimit({ initial: 64, min: 100, max: 200 }).limit).toBe(100);
  });
});
