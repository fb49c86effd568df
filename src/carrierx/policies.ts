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
  deadlineExceeded,
  type FailureKind,
  overloaded,
  reasonOf,
  ServiceError,
} from '../errors.ts';
import { createLimiter, LimiterFullError } from '../limiter.ts';
import type { Logger } from '../telemetry/logger.ts';
import { recordRetryBudgetExhausted } from '../telemetry/metrics.ts';
import { type CallSignal, createAdaptiveLimit, createFixedLimit } from './adaptive-limit.ts';
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
  /** The fraction of the limit (and of the queue) one credential may hold while others wait; 1: no such bound. */
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
     * limit shrinks on it; other failures (a 500, a reset connection) are the breaker's business.
     */
    readonly pushback: boolean = kind === 'rate-limited',
  ) {
    super(error.message);
  }
}

/** What an attempt's failure says about CarrierX's load (see AdaptiveLimit). */
function callSignal(error: unknown, signal: AbortSignal | undefined): CallSignal {
  if (signal?.aborted) return 'ignored';
  if (error instanceof UpstreamFailure) return error.pushback ? 'overloaded' : 'ignored';
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
  /** Aborts when the caller goes away; its reason is what the call rejects with. */
  signal?: AbortSignal | undefined;
  /** `performance.now()` value past which no attempt starts and no wait ends. */
  deadlineAt: number;
  /** The request's logger, for the line that says its call gave up. */
  logger?: Logger | undefined;
  /** The Authorization value the call is sent with: whose call it is, for the bulkhead's share; never logged. */
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
  function retryDelay(failure: UpstreamFailure, retryIndex: number, deadlineAt: number): number | undefined {
    if (retryIndex >= retries || failure.kind === 'unavailable') return undefined;
    const delay =
      failure.kind === 'rate-limited' && failure.retryAfterMs ? failure.retryAfterMs : backoffMs(retryIndex);
    return performance.now() + delay + MIN_ATTEMPT_MS <= deadlineAt ? delay : undefined;
  }

  /**
   * Enters the bulkhead. A call that has to wait gives up when its caller goes away, or once too little of the
   * deadline is left for a round trip (the rule retries follow). Waiting until the deadline itself raced the
   * call ahead of it, which ends a millisecond or so before the same deadline: the waiter got the freed slot and
   * went to CarrierX with a 1 ms budget.
   */
  function throughBulkhead<T>(run: () => Promise<T>, budget: CallBudget): Promise<T> {
    return bulkhead.run(
      adaptive ? () => measured(run, budget.signal) : run,
      { signal: budget.signal, until: budget.deadlineAt - MIN_ATTEMPT_MS, expired: deadlineExceeded },
      budget.credential,
    );
  }

  /** Runs one attempt inside its slot and tells the limit what it says about CarrierX's load. */
  async function measured<T>(run: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const startedAt = concurrency.start();
    let said: CallSignal = 'answered';
    try {
      return await run();
    } catch (error) {
      said = callSignal(error, signal);
      throw error;
    } finally {
      // Read before the slot is released: this call still counts among those in flight.
      concurrency.complete(startedAt, bulkhead.active, said);
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
                    let delay = retryDelay(error, retryIndex, deadlineAt);
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
