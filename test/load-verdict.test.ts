import { describe, expect, it } from 'vitest';
import { judge, type RunSummary, type Thresholds, timeToRecover } from '../scripts/load-verdict.ts';

const limits: Thresholds = { max5xx: 0, maxLost: 0, recoverWithinS: 3, maxRssGrowthPct: 25 };
const healthy: RunSummary = {
  fiveHundreds: 0,
  lost: 0,
  recovery: [
    { startMs: 0, clean: false },
    { startMs: 900, clean: false },
    { startMs: 2100, clean: true },
    { startMs: 2500, clean: true },
  ],
  rssBefore: 100,
  rssAfter: 110,
  health: 200,
  serverDied: false,
};
const failed = (run: RunSummary) =>
  judge(run, limits)
    .checks.filter((check) => !check.ok)
    .map((check) => check.name);

describe('the verdict of npm run load:faults', () => {
  it('passes a run with no 5xx, no lost response, recovery in time and bounded RSS', () => {
    expect(judge(healthy, limits)).toMatchObject({ pass: true });
  });

  it('measures time to recover from the upstream recovering to the first request after the last failure', () => {
    expect(timeToRecover(healthy.recovery)).toBe(2.1);
    expect(timeToRecover([{ startMs: 5, clean: true }])).toBe(0);
    // Out of order (requests finish out of order), still judged by start time.
    expect(
      timeToRecover([
        { startMs: 800, clean: true },
        { startMs: 300, clean: false },
      ]),
    ).toBe(0.8);
  });

  it('fails when the last requests still fail, or none ran: not recovered', () => {
    expect(
      timeToRecover([
        { startMs: 0, clean: true },
        { startMs: 10, clean: false },
      ]),
    ).toBeUndefined();
    expect(failed({ ...healthy, recovery: [] })).toEqual(['time to recover']);
  });

  it('fails on any HTTP 5xx, lost response, slow recovery, RSS growth, dead server or unhealthy end', () => {
    expect(failed({ ...healthy, fiveHundreds: 1 })).toEqual(['HTTP 5xx']);
    expect(failed({ ...healthy, lost: 2 })).toEqual(['lost responses']);
    expect(
      failed({
        ...healthy,
        recovery: [
          { startMs: 3500, clean: true },
          { startMs: 10, clean: false },
        ],
      }),
    ).toEqual(['time to recover']);
    expect(failed({ ...healthy, rssAfter: 126 })).toEqual(['RSS growth']);
    expect(failed({ ...healthy, serverDied: true, health: 0 })).toEqual([
      'server alive',
      '/health after the run',
    ]);
  });

  it('says RSS was not measured where there is no /proc, rather than inventing a number', () => {
    const verdict = judge({ ...healthy, rssBefore: undefined, rssAfter: undefined }, limits);
    expect(verdict.checks.find((check) => check.name === 'RSS growth')?.detail).toMatch(/not measured/);
  });
});
