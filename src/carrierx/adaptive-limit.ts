/** What one call to CarrierX said about its load. */
export type CallSignal =
  /** CarrierX answered (200, 404, 401...): its round-trip time is a latency sample. */
  | 'answered'
  /** CarrierX pushed back: a 429 or 503, or no answer within CARRIERX_TIMEOUT_MS. */
  | 'overloaded'
  /** Says nothing about CarrierX: the caller went away, or the request's own deadline cut the call short. */
  | 'ignored';

export interface AdaptiveLimitOptions {
  /** The limit before any call has been measured. */
  initial: number;
  /** It never goes below this (calls in flight to CarrierX)... */
  min: number;
  /** ...nor above this. */
  max: number;
  /** A call slower than `tolerance` × the baseline round trip + `slackMs` counts as CarrierX slowing down. */
  tolerance?: number;
  slackMs?: number;
  /** The factor applied to the limit when CarrierX slows down or pushes back. */
  backoff?: number;
  /** Calls after which the baseline is re-learnt from the last window's fastest call. */
  windowCalls?: number;
  /** A monotonic clock in milliseconds (`performance.now` unless a test drives it). */
  now?: () => number;
}

/** The current limit on calls in flight to CarrierX, moved by what each call reports. */
export interface AdaptiveLimit {
  readonly limit: number;
  /** The round trip the limit compares calls with: the fastest recent call (Infinity before the first). */
  readonly baselineMs: number;
  /** Marks a call's start; pass the value to `complete`. */
  start(): number;
  /**
   * Reports a call that ended. `inFlight` counts the calls in flight when it ended, itself included: the
   * limit only grows while it is being used, so an idle server does not creep up to `max`.
   */
  complete(startedAt: number, inFlight: number, signal: CallSignal): void;
}

export const ADAPTIVE_DEFAULTS = { tolerance: 2, slackMs: 10, backoff: 0.9, windowCalls: 1_000 } as const;

/**
 * An AIMD concurrency limit, after Netflix's concurrency-limits (AIMDLimit with a latency trigger, the
 * windowed minimum round trip of its Vegas and Gradient limits):
 *
 * - a call that came back about as fast as the baseline, while at least half the limit was in use, adds one;
 * - a 429, a 503, a timeout, or a call slower than `tolerance` × baseline + `slackMs` multiplies the limit by
 *   `backoff`, at most once per round trip: only a call that started after the last decrease can cause
 *   another, so the burst of 429s already in flight when CarrierX pushed back costs one step, not hundreds.
 *
 * The baseline is the fastest round trip seen, re-learnt every `windowCalls` calls from that window alone, so
 * a CarrierX that has become durably slower (another region, say) becomes the new normal instead of holding
 * the limit at its floor for good. `slackMs` keeps a fast upstream's jitter (a busy event loop adds
 * milliseconds to every round trip it measures) from reading as CarrierX slowing down.
 */
export function createAdaptiveLimit(options: AdaptiveLimitOptions): AdaptiveLimit {
  const { min, max } = options;
  const tolerance = options.tolerance ?? ADAPTIVE_DEFAULTS.tolerance;
  const slackMs = options.slackMs ?? ADAPTIVE_DEFAULTS.slackMs;
  const backoff = options.backoff ?? ADAPTIVE_DEFAULTS.backoff;
  const windowCalls = options.windowCalls ?? ADAPTIVE_DEFAULTS.windowCalls;
  const now = options.now ?? (() => performance.now());
  let limit = Math.min(max, Math.max(min, options.initial));
  let baseline = Number.POSITIVE_INFINITY;
  let windowMin = Number.POSITIVE_INFINITY;
  let windowCount = 0;
  let lastDecreaseAt = Number.NEGATIVE_INFINITY;

  function decrease(startedAt: number, at: number): void {
    // A call that started before the last decrease was sent under the old limit: it was already counted.
    if (startedAt < lastDecreaseAt) return;
    limit = Math.max(min, Math.floor(limit * backoff));
    lastDecreaseAt = at;
  }

  return {
    get limit() {
      return limit;
    },
    get baselineMs() {
      return baseline;
    },
    start: now,
    complete(startedAt, inFlight, signal) {
      if (signal === 'ignored') return;
      const at = now();
      if (signal === 'overloaded') {
        decrease(startedAt, at);
        return;
      }
      const rtt = at - startedAt;
      baseline = Math.min(baseline, rtt);
      windowMin = Math.min(windowMin, rtt);
      windowCount += 1;
      if (windowCount >= windowCalls) {
        baseline = windowMin;
        windowMin = Number.POSITIVE_INFINITY;
        windowCount = 0;
      }
      if (rtt > baseline * tolerance + slackMs) decrease(startedAt, at);
      else if (inFlight * 2 >= limit && limit < max) limit += 1;
    },
  };
}

/** A limit that never moves (CARRIERX_ADAPTIVE_CONCURRENCY=off): CARRIERX_MAX_CONCURRENT_CALLS. */
export function createFixedLimit(limit: number): AdaptiveLimit {
  return {
    limit,
    baselineMs: Number.POSITIVE_INFINITY,
    start: () => 0,
    complete() {},
  };
}
