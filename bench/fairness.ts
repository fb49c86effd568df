import { setTimeout as sleep } from 'node:timers/promises';
import type { CpuUse } from './cpu.ts';
import { type LoadResult, type RequestSpec, runLoad } from './load.ts';
import { AUTHORIZATION, SCENARIO_12_BAD_TOKEN, type Scenario } from './scenarios.ts';

/** What the second credential does in one phase of scenario 12, and what CarrierX does to it. */
interface BadCredentialLoad {
  /** The simulator's fault rule for the second credential's token (its `match` is added here). */
  rule: Record<string, unknown>;
  connections: number;
  /**
   * Its offered load in requests per second, the same on every commit: a closed loop would send a server that
   * fails its calls fast far more requests than one that waits, and the good credential would then lose CPU
   * to that, not to the fairness being measured.
   */
  rate: number;
}

export interface FairnessPhaseSpec {
  key: 'A' | 'B' | 'C';
  title: string;
  bad?: BadCredentialLoad;
}

/** Retry-After of phase B's 429s, in seconds: short enough that a server that waits it out still answers. */
const RATE_LIMIT_RETRY_AFTER_S = 1;
/** Phase C's upstream latency for the second credential: far above a loopback round trip, below any timeout. */
const SLOW_LATENCY_MS = 500;

export const FAIRNESS_PHASES: readonly FairnessPhaseSpec[] = [
  { key: 'A', title: 'the good credential alone' },
  {
    key: 'B',
    title: `beside a credential CarrierX rate-limits (429, Retry-After: ${RATE_LIMIT_RETRY_AFTER_S})`,
    bad: {
      rule: { fault: { kind: 'rate-limit', retryAfter: RATE_LIMIT_RETRY_AFTER_S } },
      connections: 50,
      rate: 200,
    },
  },
  {
    key: 'C',
    title: `beside a credential CarrierX answers slowly (${SLOW_LATENCY_MS} ms)`,
    // More connections than the adaptive limit's starting 64, each holding a slot for SLOW_LATENCY_MS.
    bad: { rule: { latencyMs: SLOW_LATENCY_MS }, connections: 200, rate: 400 },
  },
];

/** One phase's figures. */
export interface FairnessPhase {
  key: FairnessPhaseSpec['key'];
  title: string;
  /** The good credential's load; its `mismatches` are the error answers counted in `goodErrors`. */
  good: LoadResult;
  /** Correct answers per second for the good credential (its 200s with the record, not with errors). */
  goodCorrectPerSecond: number;
  /** The good credential's answers with errors instead of the record, by `extensions.code`. */
  goodErrors: Record<string, number>;
  /** The second credential's load over the measured window and its answers by code (`ok` for a record). */
  bad?: { connections: number; rate: number; load: LoadResult; answers: Record<string, number> };
  /** carrierx_concurrency_limit from the server's metrics: before the phase, lowest and highest while measured, after. */
  limit: { before?: number; min?: number; max?: number; after?: number };
  /** The highest carrierx_bulkhead_queued seen while measured. */
  queuedMax?: number;
  /** CPU use during the measured window: the server's, and other people's per core (the noise on these figures). */
  cpu: CpuUse;
  /** Upstream calls during the measured window: all, and the second credential's (from the request log). */
  upstream: { requests: number; bad?: number };
}

export interface FairnessResult {
  key: string;
  title: string;
  connections: number;
  phases: FairnessPhase[];
  /** Why the figures cannot be trusted; empty when every check passed. */
  problems: string[];
}

export interface FairnessContext {
  scenario: Scenario;
  /** The scenario's request with this Authorization header. */
  request(authorization: string): RequestSpec;
  /** One request with the good credential, fully checked; throws with what is wrong. */
  sample(): Promise<number>;
  /** The scenario's own upstream simulator's control API. */
  control(path: string, method: string, body?: unknown): Promise<unknown>;
  /** Starts measuring CPU use; the function it returns stops and reads it (the server's own, and others'). */
  measureCpu(): () => CpuUse;
  /** The server's metrics listener. */
  metricsOrigin: string;
  /** Every simulator rule the run adds besides the phases' (the global latency rule of --upstream-latency-ms). */
  baseRules: readonly Record<string, unknown>[];
  warmupSeconds: number;
  durationSeconds: number;
  signal: AbortSignal;
  say(line: string): void;
}

const BAD_AUTHORIZATION = `Bearer ${SCENARIO_12_BAD_TOKEN}`;
const METRICS_POLL_MS = 250;
/**
 * The second credential's requests still in the server when its load stops (waiting out a Retry-After, or a
 * slow answer) reach CarrierX for a while: the next phase starts once the upstream has had no call for this
 * long, longer than any of those waits.
 */
const QUIET_MS = 2 * RATE_LIMIT_RETRY_AFTER_S * 1000 + 500;
const QUIET_TIMEOUT_MS = 15_000;

/** The `extensions.code` of a GraphQL error answer, or what else the body is. */
function answerCode(text: string): string {
  const code = /"code":"([A-Z_]+)"/.exec(text);
  if (code) return code[1] as string;
  if (text.startsWith('{"data":{') && !text.includes('"errors"')) return 'ok';
  return 'other';
}

const tally = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/**
 * Scenario 12: the good credential (the demo token) alone (A), then the same load while a second credential
 * (the descendant token) is rate-limited by CarrierX (B) or answered slowly (C). Each phase's rules come first
 * in the simulator's list (the first matching rule wins), followed by the run's own.
 */
export async function measureFairness(context: FairnessContext): Promise<FairnessResult> {
  const { scenario, signal, say } = context;
  const problems: string[] = [];
  const phases: FairnessPhase[] = [];

  const gauges = async () => {
    const reply = await fetch(`${context.metricsOrigin}/metrics`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]),
    });
    const text = await reply.text();
    if (!reply.ok) throw new Error(`${context.metricsOrigin}/metrics answered ${reply.status}`);
    const read = (name: string) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      return match ? Number(match[1]) : undefined;
    };
    return { limit: read('carrierx_concurrency_limit'), queued: read('carrierx_bulkhead_queued') };
  };
  const setRules = async (phase: FairnessPhaseSpec) => {
    await context.control('faults', 'DELETE');
    if (phase.bad) {
      await context.control('faults', 'POST', { match: { token: SCENARIO_12_BAD_TOKEN }, ...phase.bad.rule });
    }
    for (const rule of context.baseRules) await context.control('faults', 'POST', rule);
  };
  /** Upstream calls since the last reset, and the second credential's if the log still holds every call. */
  const upstreamCalls = async () => {
    const stats = (await context.control('stats', 'GET')) as { requests: number };
    const log = (await context.control('requests', 'GET')) as { authorization?: string }[];
    const bad =
      log.length === stats.requests
        ? log.filter((entry) => entry.authorization === BAD_AUTHORIZATION).length
        : undefined;
    return { requests: stats.requests, ...(bad === undefined ? {} : { bad }) };
  };

  /** Waits until the upstream has had no call for QUIET_MS (at most QUIET_TIMEOUT_MS). */
  const quiet = async () => {
    const deadline = Date.now() + QUIET_TIMEOUT_MS;
    let last = ((await context.control('stats', 'GET')) as { requests: number }).requests;
    let quietSince = Date.now();
    while (Date.now() - quietSince < QUIET_MS && Date.now() < deadline) {
      await sleep(METRICS_POLL_MS, undefined, { signal });
      const now = ((await context.control('stats', 'GET')) as { requests: number }).requests;
      if (now !== last) {
        last = now;
        quietSince = Date.now();
      }
    }
  };

  try {
    await context.sample();
  } catch (error) {
    problems.push(`sampled response before the run: ${(error as Error).message}`);
  }

  for (const phase of FAIRNESS_PHASES) {
    signal.throwIfAborted();
    say(`    phase ${phase.key}: ${phase.title}`);
    await setRules(phase);
    const limitBefore = (await gauges()).limit;
    // The second credential runs through the good one's warm-up and measured run, and stops after it.
    const badAnswers: Record<string, number> = {};
    let counting = false;
    const stopBad = new AbortController();
    const badRun = phase.bad
      ? runLoad(
          {
            ...context.request(BAD_AUTHORIZATION),
            connections: phase.bad.connections,
            overallRate: phase.bad.rate,
            // Ended by stopBad once the good credential's run is over; this only bounds it.
            seconds: context.warmupSeconds + context.durationSeconds + 30,
            verifyBody: (text) => {
              if (counting) tally(badAnswers, answerCode(text));
              return true;
            },
          },
          AbortSignal.any([signal, stopBad.signal]),
        )
      : undefined;
    // A failed second load must not leave the good one's result unread; its error surfaces below.
    badRun?.catch(() => {});
    const goodSpec = {
      ...context.request(AUTHORIZATION),
      connections: scenario.connections,
      verifyBody: scenario.verifyBody,
    };
    const goodErrors: Record<string, number> = {};
    let good: LoadResult;
    let bad: LoadResult | undefined;
    let cpu: CpuUse;
    const seen = { min: undefined as number | undefined, max: undefined as number | undefined, queued: 0 };
    try {
      if (context.warmupSeconds > 0) {
        const warmup = await runLoad({ ...goodSpec, seconds: context.warmupSeconds }, signal);
        // Beside the second credential, no answer at all is a result (today's server queues the good
        // credential's calls behind the slow ones); alone, it means the benchmark is broken.
        if (warmup.ok === 0 && !phase.bad)
          problems.push(`phase ${phase.key} warm-up: no successful response`);
      }
      await context.control('stats', 'DELETE');
      counting = true;
      const stopCpu = context.measureCpu();
      const polling = (async () => {
        while (counting) {
          const { limit, queued } = await gauges();
          if (limit !== undefined) {
            seen.min = Math.min(seen.min ?? limit, limit);
            seen.max = Math.max(seen.max ?? limit, limit);
          }
          if (queued !== undefined) seen.queued = Math.max(seen.queued, queued);
          await sleep(METRICS_POLL_MS, undefined, { signal });
        }
      })();
      try {
        good = await runLoad(
          {
            ...goodSpec,
            seconds: context.durationSeconds,
            // An error answer is a measured outcome here, not a broken benchmark: counted by code.
            verifyBody: (text) => {
              if (scenario.verifyBody(text)) return true;
              tally(goodErrors, answerCode(text));
              return false;
            },
          },
          signal,
        );
      } finally {
        cpu = stopCpu();
        counting = false;
        await polling.catch((error: unknown) => {
          if (!signal.aborted) problems.push(`phase ${phase.key}: metrics: ${(error as Error).message}`);
        });
      }
      signal.throwIfAborted();
    } finally {
      stopBad.abort();
      bad = await badRun;
    }
    const limitAfter = (await gauges()).limit;
    const upstream = await upstreamCalls();
    if (phase.bad) await quiet();

    if (good.ok === 0 && !phase.bad) {
      problems.push(`phase ${phase.key}: no successful response for the good credential`);
    }
    if (good.errors) problems.push(`phase ${phase.key}: ${good.errors} connection errors (good credential)`);
    if (goodErrors.other) {
      problems.push(
        `phase ${phase.key}: ${goodErrors.other} answers of the good credential with the wrong body, e.g. ${good.badBodies[0] ?? ''}`,
      );
    }
    if (phase.bad && bad && bad.completed === 0) {
      problems.push(`phase ${phase.key}: the second credential received no answer`);
    }
    const result: FairnessPhase = {
      key: phase.key,
      title: phase.title,
      good,
      goodCorrectPerSecond: (good.ok - good.mismatches) / good.seconds,
      goodErrors,
      ...(phase.bad && bad
        ? {
            bad: { connections: phase.bad.connections, rate: phase.bad.rate, load: bad, answers: badAnswers },
          }
        : {}),
      limit: {
        ...(limitBefore === undefined ? {} : { before: limitBefore }),
        ...(seen.min === undefined ? {} : { min: seen.min }),
        ...(seen.max === undefined ? {} : { max: seen.max }),
        ...(limitAfter === undefined ? {} : { after: limitAfter }),
      },
      queuedMax: seen.queued,
      cpu,
      upstream,
    };
    phases.push(result);
    const l = good.latency;
    say(
      `      good: ${result.goodCorrectPerSecond.toFixed(0)} correct answers/s, p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms` +
        (Object.keys(goodErrors).length ? `, errors ${JSON.stringify(goodErrors)}` : '') +
        (result.bad
          ? `; second credential: ${JSON.stringify(badAnswers)}${bad?.non2xx ? `, ${bad.non2xx} non-2xx` : ''}`
          : '') +
        `; server CPU ${cpu.measured?.toFixed(0) ?? 'n/a'}%, other load ${Object.entries(cpu.otherByCore)
          .map(([core, percent]) => `${core} ${percent.toFixed(0)}%`)
          .join(' ')}` +
        `; concurrency limit ${limitBefore ?? '?'} → [${seen.min ?? '?'}, ${seen.max ?? '?'}] → ${limitAfter ?? '?'}, queued ≤ ${seen.queued}`,
    );
  }

  // The run's own rules back, then one more fully checked answer.
  await setRules({ key: 'A', title: '' });
  try {
    await context.sample();
  } catch (error) {
    problems.push(`sampled response after the run: ${(error as Error).message}`);
  }
  return { key: scenario.key, title: scenario.title, connections: scenario.connections, phases, problems };
}
