import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  DelegateBackoff,
  handleType,
  IsolatedCircuitError,
  retry as makeRetry,
} from 'cockatiel';
import {
  circuitOpen,
  classifyStatus,
  deadlineExceeded,
  type FailureKind,
  overloaded,
  reasonOf,
  ServiceError,
} from '../errors.ts';
import { createLimiter, LimiterFullError } from '../limiter.ts';
import type { Logger } from '../telemetry/logger.ts';
import { recordRetryBudgetExhausted, recordUpstreamRefusal } from '../telemetry/metrics.ts';
import { type CallKind, type CallSignal, createAdaptiveLimit, createFixedLimit } from './adaptive-limit.ts';
import { createRetryBudget } from './retry-budget.ts';

/** How hard to try and how much to let through; see docs/configuration.md. */
export interface UpstreamPolicyOptions {
  /** Retries after the first attempt, for transient failures only. */
  retries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Consecutive failed calls that open the circuit. */
  breakerThreshold: number;
  /** How long the circuit stays open before one probe call may pass. */
  breakerCooldownMs: number;
  /** Upstream calls in flight at once, across all requests: the ceiling of the adaptive limit. */
  maxConcurrentCalls: number;
  /** The floor of the adaptive limit. */
  minConcurrentCalls: number;
  /** Move the limit between floor and ceiling with CarrierX's latency and 429s; off: the ceiling, fixed. */
  adaptiveConcurrency: boolean;
  /** Calls that may wait for a slot; beyond this a call fails at once as overloaded. */
  maxQueuedCalls: number;
  /** Retries allowed per call over the last 10 s (see retry-budget.ts). */
  retryBudgetRatio: number;
  /** Retries allowed in any second whatever the calls. */
  retryBudgetMinPerSecond: number;
  /**
   * The fraction of the limit (and of the queue) one credential may hold while another is active (see the
   * limiter's `maxShare`); 1: no such bound.
   */
  maxSharePerCredential: number;
}

export const DEFAULT_POLICY_OPTIONS: UpstreamPolicyOptions = {
  retries: 2,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 2_000,
  breakerThreshold: 10,
  breakerCooldownMs: 10_000,
  maxConcurrentCalls: 256,
  minConcurrentCalls: 8,
  adaptiveConcurrency: true,
  maxQueuedCalls: 1_000,
  retryBudgetRatio: 0.2,
  retryBudgetMinPerSecond: 1,
  maxSharePerCredential: 0.5,
};

// Where the adaptive limit starts: the fixed limit this server had before it adapted, so that a fresh process
// sends CarrierX no more at once than it used to until CarrierX has shown it answers as fast at more.
const INITIAL_CONCURRENT_CALLS = 64;

/** An attempt's failure the policies act on; they hand the caller its `error`, never this wrapper. */
export class UpstreamFailure extends Error {
  constructor(
    readonly error: ServiceError,
    readonly kind: FailureKind,
    /** From a 429's Retry-After header. */
    readonly retryAfterMs?: number,
    /**
     * CarrierX telling us to send less: a 429 or 503, or no answer within CARRIERX_TIMEOUT_MS. The adaptive
     * limit shrinks on it, except on a 429 (its credential cools down instead); other failures (a 500, a
     * reset connection) are the breaker's business.
     */
    readonly pushback: boolean = kind === 'rate-limited',
  ) {
    super(error.message);
  }
}

/** What an attempt's failure says about CarrierX's load (see AdaptiveLimit). */
function callSignal(error: unknown, signal: AbortSignal | undefined): CallSignal {
  if (signal?.aborted) return 'ignored';
  if (error instanceof UpstreamFailure) {
    // A 429 is about one credential's quota: the credential cools down (see coolDown), the limit every
    // credential shares does not move.
    return error.pushback && error.kind !== 'rate-limited' ? 'overloaded' : 'ignored';
  }
  // Cut short by the request's own deadline, or never sent: no measure of CarrierX.
  if (reasonOf(error) === 'deadline') return 'ignored';
  if (!(error instanceof ServiceError)) return 'ignored';
  // A 404, 401, 403 or a bad body: CarrierX answered, and how fast is a latency sample like any other.
  return 'answered';
}

/** A half-open probe that ended without telling whether CarrierX is healthy; the caller gets `outcome`. */
class InconclusiveProbe extends Error {
  constructor(readonly outcome: unknown) {
    super('inconclusive circuit probe');
  }
}

/** Thrown inside the retry loop to ask for one more attempt after `delayMs`; the only error it retries. */
class RetryAfterDelay extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    readonly delayMs: number,
  ) {
    super(failure.message);
  }
}

export interface CallBudget {
  /** What the call asks of CarrierX, for the round trip it is judged against; unset: one record. */
  kind?: CallKind | undefined;
  /** Aborts when the caller goes away; its reason is what the call rejects with. */
  signal?: AbortSignal | undefined;
  /** `performance.now()` value past which no attempt starts and no wait ends. */
  deadlineAt: number;
  /** The request's logger, for the line that says its call gave up. */
  logger?: Logger | undefined;
  /** The Authorization value the call is sent with: its cool-down after a 429, its share of the bulkhead; never logged. */
  credential?: string | undefined;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** A snapshot for health checks and metrics. */
export interface UpstreamState {
  breaker: BreakerState;
  /** Calls to CarrierX allowed in flight right now (the adaptive limit, or the fixed one). */
  limit: number;
  /** Calls holding a bulkhead slot right now. */
  inFlight: number;
  /** Calls waiting for a slot. */
  queued: number;
  /** Totals since start. */
  retries: number;
  /** Retries not made because the retry budget was spent. */
  retriesOverBudget: number;
  rejected: number;
  breakerOpened: number;
}

export interface UpstreamPolicies {
  /**
   * Runs `attempt` under the bulkhead, retry and circuit-breaker policies. `attempt` receives the milliseconds
   * left before the deadline and its number (1 for the first) and throws an UpstreamFailure for what the
   * policies may act on; anything else it throws passes straight through. Rejects with a ServiceError, or with
   * the signal's reason on abort.
   */
  execute<T>(
    attempt: (remainingMs: number, attemptNumber: number) => Promise<T>,
    budget: CallBudget,
  ): Promise<T>;
  state(): UpstreamState;
}

// A retry, or a call that waited for a bulkhead slot, needs time for a round trip: one that would start later
// than this before the deadline is not worth starting.
const MIN_ATTEMPT_MS = 50;
// Rejections can come by the thousand under overload: one warning per interval, with a count.
const REJECTION_LOG_INTERVAL_MS = 5_000;
// A 429 without a readable Retry-After still cools its credential down this long: long enough that its queued
// calls do not all go straight back to be refused again.
const DEFAULT_RATE_LIMIT_MS = 1_000;
// A cool-down is never longer than this, whatever Retry-After says: an HTTP date far off (a wrong clock) must
// not lock a token out for hours. A 429 after it ends starts another.
const MAX_RATE_LIMIT_MS = 60_000;
// Credentials cooling down at once; past this the ones whose cool-down started first are forgotten (their
// calls go to CarrierX again, which will say so if it still refuses them). Memory stays bounded.
const MAX_COOLING_CREDENTIALS = 10_000;

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * The upstream policies (retry and breaker from cockatiel, the bulkhead our limiter), shared by every request
 * (one breaker and one bulkhead per upstream):
 *
 * breaker → retry → bulkhead → attempt
 *
 * The breaker sits outside the retries, so it counts calls, not attempts: one GET that fails three times is one
 * failure. Only `transient` and `unavailable` failures count; 401/403/404, bad bodies, 429s, the caller going
 * away and our own refusals (overload, deadline) neither open nor hold it open. The bulkhead sits innermost, so
 * a slot is held only while a request is on the wire, never during a retry's wait.
 *
 * Retry decisions are made inside the attempt, not in cockatiel's backoff: only there is the request's deadline
 * known, and a wait that does not fit must not start at all. cockatiel then runs the loop with the chosen delay.
 */
export function createUpstreamPolicies(options: UpstreamPolicyOptions, logger: Logger): UpstreamPolicies {
  const { retries, retryBaseDelayMs, retryMaxDelayMs, breakerCooldownMs } = options;
  let retryCount = 0;
  let overBudgetCount = 0;
  let rejectedCount = 0;
  let openedCount = 0;
  let openedAt = 0;
  let lastRejectionLog = Number.NEGATIVE_INFINITY;
  let rejectedSinceLog = 0;
  // Credential -> `performance.now()` until which CarrierX asked it to wait (its last 429's Retry-After).
  const coolDowns = new Map<string, number>();

  // The bulkhead is our limiter rather than cockatiel's: cockatiel's keeps a cancelled waiter queued until its
  // turn and then hands the freed slot to no one, so the next waiter sat out its deadline beside a free slot.
  const adaptive = options.adaptiveConcurrency;
  const concurrency = adaptive
    ? createAdaptiveLimit({
        initial: INITIAL_CONCURRENT_CALLS,
        min: Math.min(options.minConcurrentCalls, options.maxConcurrentCalls),
        max: options.maxConcurrentCalls,
      })
    : createFixedLimit(options.maxConcurrentCalls);
  const bulkhead = createLimiter(concurrency.limit, {
    maxQueued: options.maxQueuedCalls,
    onFull: noteRejection,
    maxShare: options.maxSharePerCredential,
  });
  const retryBudget = createRetryBudget({
    ratio: options.retryBudgetRatio,
    minPerSecond: options.retryBudgetMinPerSecond,
  });
  const retry = makeRetry(handleType(RetryAfterDelay), {
    // The real bound is `retries`, checked where the delay is chosen; this only keeps the loop finite.
    maxAttempts: retries,
    backoff: new DelegateBackoff((context) => (context.result as { error: RetryAfterDelay }).error.delayMs),
  });
  const breaker = circuitBreaker(
    handleType(UpstreamFailure, (failure) => failure.kind !== 'rate-limited').orType(InconclusiveProbe),
    { halfOpenAfter: breakerCooldownMs, breaker: new ConsecutiveBreaker(options.breakerThreshold) },
  );

  retry.onRetry((event) => {
    retryCount += 1;
    const failure = 'error' in event ? (event.error as RetryAfterDelay).failure : undefined;
    logger.debug(
      {
        attempt: event.attempt,
        delayMs: Math.round(event.delay),
        code: failure?.error.code,
        kind: failure?.kind,
      },
      'retrying CarrierX call',
    );
  });
  breaker.onBreak(() => {
    openedCount += 1;
    openedAt = Date.now();
    logger.warn(
      { threshold: options.breakerThreshold, cooldownMs: breakerCooldownMs },
      'CarrierX circuit opened: failing fast without calling CarrierX',
    );
  });
  breaker.onHalfOpen(() => logger.info('CarrierX circuit half-open: letting one call probe CarrierX'));
  breaker.onReset(() => logger.info('CarrierX circuit closed: calling CarrierX again'));
  function noteRejection(): void {
    rejectedCount += 1;
    rejectedSinceLog += 1;
    const now = Date.now();
    if (now - lastRejectionLog < REJECTION_LOG_INTERVAL_MS) return;
    logger.warn(
      {
        rejected: rejectedSinceLog,
        limit: bulkhead.max,
        maxConcurrentCalls: options.maxConcurrentCalls,
        maxQueuedCalls: options.maxQueuedCalls,
      },
      'CarrierX calls rejected: the bulkhead and its queue are full',
    );
    lastRejectionLog = now;
    rejectedSinceLog = 0;
  }

  /** Equal jitter: at least half the exponential step, so a crowd of retries spreads out but still backs off. */
  function backoffMs(retryIndex: number): number {
    const step = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** retryIndex);
    return step / 2 + Math.random() * (step / 2);
  }

  /** The wait before another attempt, or undefined when this failure is final. */
  function retryDelay(failure: UpstreamFailure, retryIndex: number, budget: CallBudget): number | undefined {
    if (retryIndex >= retries || failure.kind === 'unavailable') return undefined;
    const delay = Math.max(
      failure.kind === 'rate-limited' && failure.retryAfterMs ? failure.retryAfterMs : backoffMs(retryIndex),
      // Whatever failed, a retry of a credential CarrierX asked to wait waits too.
      coolingMs(budget.credential),
    );
    return performance.now() + delay + MIN_ATTEMPT_MS <= budget.deadlineAt ? delay : undefined;
  }

  /** How long `credential` must still wait before calling CarrierX; 0 when it need not. */
  function coolingMs(credential: string | undefined): number {
    if (credential === undefined || coolDowns.size === 0) return 0;
    const until = coolDowns.get(credential);
    if (until === undefined) return 0;
    const left = until - performance.now();
    if (left > 0) return left;
    coolDowns.delete(credential);
    return 0;
  }

  /** A 429 for the budget's credential: its calls wait (or fail fast) until Retry-After has passed. */
  function coolDown(budget: CallBudget, retryAfterMs: number | undefined): void {
    const { credential } = budget;
    if (credential === undefined) return;
    const now = performance.now();
    const until = now + Math.min(retryAfterMs ?? DEFAULT_RATE_LIMIT_MS, MAX_RATE_LIMIT_MS);
    const current = coolDowns.get(credential);
    if (current !== undefined && current >= until) return;
    if (current === undefined || current <= now) {
      if (coolDowns.size >= MAX_COOLING_CREDENTIALS) forgetCoolDowns(now);
      // One line per cool-down, not per call: the burst of 429s already in flight only extends it. Debug: each
      // 429 already has its warning (with retryAfterSeconds), and refused calls are counted in the metrics.
      (budget.logger ?? logger).debug(
        { coolDownMs: Math.round(until - now), credentialsCoolingDown: coolDowns.size + 1 },
        "CarrierX rate-limited a credential: its calls wait out Retry-After or fail with RATE_LIMITED; other credentials' calls go on",
      );
    }
    // Deleted first, so the Map's order stays the order cool-downs started in: the oldest is forgotten first.
    coolDowns.delete(credential);
    coolDowns.set(credential, until);
  }

  /** Drops the cool-downs that have ended, and the oldest ones if that is not enough room. */
  function forgetCoolDowns(now: number): void {
    for (const [credential, until] of coolDowns) if (until <= now) coolDowns.delete(credential);
    for (const credential of coolDowns.keys()) {
      if (coolDowns.size < MAX_COOLING_CREDENTIALS) break;
      coolDowns.delete(credential);
    }
  }

  /**
   * Before a call's first attempt: a credential CarrierX asked to wait waits, when its cool-down ends in time
   * for a round trip before the deadline (the rule retries follow); otherwise the call fails at once with
   * RATE_LIMITED and the seconds left, without calling CarrierX.
   */
  async function awaitCoolDown(budget: CallBudget): Promise<void> {
    for (let left = coolingMs(budget.credential); left > 0; left = coolingMs(budget.credential)) {
      if (performance.now() + left + MIN_ATTEMPT_MS > budget.deadlineAt) {
        recordUpstreamRefusal('rate_limited');
        throw classifyStatus(429, Math.ceil(left / 1000)).error;
      }
      await pause(left, budget.signal);
    }
  }

  /**
   * Enters the bulkhead. A call that has to wait gives up when its caller goes away, or once too little of the
   * deadline is left for a round trip (the rule retries follow). Waiting until the deadline itself raced the
   * call ahead of it, which ends a millisecond or so before the same deadline: the waiter got the freed slot and
   * went to CarrierX with a 1 ms budget.
   */
  function throughBulkhead<T>(run: () => Promise<T>, budget: CallBudget): Promise<T> {
    return bulkhead.run(
      adaptive ? () => measured(run, budget) : run,
      { signal: budget.signal, until: budget.deadlineAt - MIN_ATTEMPT_MS, expired: deadlineExceeded },
      budget.credential,
    );
  }

  /** Runs one attempt inside its slot and tells the limit what it says about CarrierX's load. */
  async function measured<T>(run: () => Promise<T>, budget: CallBudget): Promise<T> {
    const startedAt = concurrency.start();
    let said: CallSignal = 'answered';
    try {
      return await run();
    } catch (error) {
      said = callSignal(error, budget.signal);
      throw error;
    } finally {
      // Read before the slot is released: this call still counts among those in flight.
      concurrency.complete(startedAt, bulkhead.active, said, budget.kind);
      if (concurrency.limit !== bulkhead.max) bulkhead.max = concurrency.limit;
    }
  }

  /**
   * cockatiel closes a half-open circuit on any outcome its filter does not count. A real answer from CarrierX
   * (200, 404, 429...) rightly closes it; but a probe that never reached CarrierX (the caller went away, the
   * request's deadline ran out, the bulkhead refused it) says nothing about its health and must not. Such a probe
   * is inconclusive: the circuit stays open for another cooldown.
   */
  async function probeAware<T>(run: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    // cockatiel starts the probe before it records the half-open state, so the probe still sees "open"; an
    // open circuit runs nothing else.
    const probing = breaker.state !== CircuitState.Closed;
    try {
      return await run();
    } catch (error) {
      const neverReachedCarrierX =
        signal?.aborted === true || error instanceof LimiterFullError || reasonOf(error) === 'deadline';
      if (probing && neverReachedCarrierX) throw new InconclusiveProbe(error);
      throw error;
    }
  }

  function toCallerError(error: unknown, budget: CallBudget): unknown {
    if (error instanceof InconclusiveProbe) return toCallerError(error.outcome, budget);
    if (budget.signal?.aborted) return budget.signal.reason;
    if (error instanceof UpstreamFailure) return error.error;
    if (error instanceof RetryAfterDelay) return error.failure.error;
    if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
      const resumesIn = Math.max(1, Math.ceil((openedAt + breakerCooldownMs - Date.now()) / 1000));
      return circuitOpen(resumesIn);
    }
    if (error instanceof LimiterFullError) return overloaded();
    return error;
  }

  return {
    async execute(attempt, budget) {
      const { signal, deadlineAt } = budget;
      signal?.throwIfAborted();
      if (performance.now() >= deadlineAt) throw deadlineExceeded();
      try {
        // Outside the breaker: a call held back for its credential says nothing about CarrierX's health.
        if (coolDowns.size > 0) await awaitCoolDown(budget);
        return await breaker.execute(
          () =>
            probeAware(
              () =>
                retry.execute(async ({ attempt: retryIndex }) => {
                  try {
                    return await throughBulkhead(() => {
                      // Checked again here: a queued call or a retry may have waited.
                      signal?.throwIfAborted();
                      const remainingMs = deadlineAt - performance.now();
                      if (remainingMs <= 0) throw deadlineExceeded();
                      // A call earns its share of retries when it reaches CarrierX, not when the breaker or
                      // the bulkhead turns it away.
                      if (retryIndex === 0) retryBudget.called();
                      return attempt(remainingMs, retryIndex + 1);
                    }, budget);
                  } catch (error) {
                    if (!(error instanceof UpstreamFailure) || signal?.aborted) throw error;
                    if (error.kind === 'rate-limited') coolDown(budget, error.retryAfterMs);
                    let delay = retryDelay(error, retryIndex, budget);
                    const overBudget = delay !== undefined && !retryBudget.tryRetry();
                    if (overBudget) {
                      delay = undefined;
                      overBudgetCount += 1;
                      recordRetryBudgetExhausted();
                    }
                    if (delay === undefined && retryIndex > 0) {
                      // Each attempt logged its own failure; this is the one line that says the call failed.
                      (budget.logger ?? logger).warn(
                        {
                          attempts: retryIndex + 1,
                          code: error.error.code,
                          kind: error.kind,
                          ...(overBudget ? { retryBudget: 'exhausted' } : {}),
                        },
                        `CarrierX call failed: giving up after ${retryIndex + 1} attempts`,
                      );
                    }
                    throw delay === undefined ? error : new RetryAfterDelay(error, delay);
                  }
                }, signal),
              signal,
            ),
          signal,
        );
      } catch (error) {
        throw toCallerError(error, budget);
      }
    },
    state() {
      return {
        breaker: STATE_NAMES[breaker.state],
        limit: bulkhead.max,
        inFlight: bulkhead.active,
        queued: bulkhead.queued,
        retries: retryCount,
        retriesOverBudget: overBudgetCount,
        rejected: rejectedCount,
        breakerOpened: openedCount,
      };
    },
  };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  // An aborted signal fires no more events: without this the wait would run its full length.
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
