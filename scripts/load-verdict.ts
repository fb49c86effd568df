/** The pass/fail judgement of `npm run load:faults`, apart from the run so that it can be tested. */

export interface Thresholds {
  /** HTTP 5xx answers allowed from the server (the upstream's failures must become GraphQL errors). */
  max5xx: number;
  /** Requests allowed to get no HTTP response at all (reset, hang-up, client-side error). */
  maxLost: number;
  /** Seconds after the upstream recovers by which every request must answer cleanly again. */
  recoverWithinS: number;
  /** Growth of the server's RSS from after warm-up to the end of the run, in percent. */
  maxRssGrowthPct: number;
}

/** One request of the recovery phase: when it started, in ms after the upstream recovered, and if it was clean. */
export interface RecoverySample {
  startMs: number;
  clean: boolean;
}

export interface RunSummary {
  fiveHundreds: number;
  lost: number;
  recovery: readonly RecoverySample[];
  /** MiB; undefined where the platform does not say (no /proc). */
  rssBefore: number | undefined;
  rssAfter: number | undefined;
  /** Status of GET /health after the run; 0 when it did not answer. */
  health: number;
  serverDied: boolean;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Seconds from the upstream's recovery to the start of the first request from which on every request was clean;
 * undefined when the last request of the phase still failed (or none ran): not recovered.
 */
export function timeToRecover(samples: readonly RecoverySample[]): number | undefined {
  const sorted = [...samples].sort((x, y) => x.startMs - y.startMs);
  if (sorted.length === 0 || !sorted.at(-1)?.clean) return undefined;
  let lastFailure = -1;
  for (let i = 0; i < sorted.length; i++) if (!(sorted[i] as RecoverySample).clean) lastFailure = i;
  return lastFailure < 0 ? 0 : (sorted[lastFailure + 1] as RecoverySample).startMs / 1000;
}

/** Each threshold checked against the run; the run passes when every check does. */
export function judge(run: RunSummary, limits: Thresholds): { pass: boolean; checks: Check[] } {
  const recovered = timeToRecover(run.recovery);
  const growth =
    run.rssBefore === undefined || run.rssAfter === undefined
      ? undefined
      : ((run.rssAfter - run.rssBefore) / run.rssBefore) * 100;
  const checks: Check[] = [
    { name: 'server alive', ok: !run.serverDied, detail: run.serverDied ? 'the server died' : 'yes' },
    {
      name: 'HTTP 5xx',
      ok: run.fiveHundreds <= limits.max5xx,
      detail: `${run.fiveHundreds} (at most ${limits.max5xx})`,
    },
    {
      name: 'lost responses',
      ok: run.lost <= limits.maxLost,
      detail: `${run.lost} (at most ${limits.maxLost})`,
    },
    {
      name: 'time to recover',
      ok: recovered !== undefined && recovered <= limits.recoverWithinS,
      detail:
        recovered === undefined
          ? `not recovered by the end of the run (within ${limits.recoverWithinS} s required)`
          : `${recovered.toFixed(2)} s after the upstream recovered (within ${limits.recoverWithinS} s)`,
    },
    {
      name: 'RSS growth',
      // Not measurable without /proc: said so in the detail, and not counted as a failure.
      ok: growth === undefined || growth <= limits.maxRssGrowthPct,
      detail:
        growth === undefined
          ? 'not measured (no /proc on this platform)'
          : `${growth >= 0 ? '+' : ''}${growth.toFixed(1)}%, ${run.rssBefore?.toFixed(1)} → ${run.rssAfter?.toFixed(1)} MiB (at most +${limits.maxRssGrowthPct}%)`,
    },
    { name: '/health after the run', ok: run.health === 200, detail: String(run.health || 'no answer') },
  ];
  return { pass: checks.every((check) => check.ok), checks };
}
