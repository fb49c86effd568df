/** What one call to CarrierX said about its load. */
export type CallSignal =
  /** CarrierX answered (200, 404, 401...): its round-trip time is a latency sample. */
  | 'answered'
  /** CarrierX pushed back: a 503, or no answer within CARRIERX_TIMEOUT_MS. */
  | 'overloaded'
  /**
   * Says nothing about CarrierX's load: the caller went away, the request's own deadline cut the call short, or
   * a 429 (one credential's quota, which its own cool-down answers: see policies.ts).
   */
  | 'ignored';

/**
 * What a call asked of CarrierX, for the baseline it is judged against: one record, or a page by its size.
 * A page of 1,000 records takes longer than one record on an idle CarrierX; judged against the single record's
 * round trip, every big page read as CarrierX slowing down.
 */
export type CallKind = 'record' | 'page-10' | 'page-100' | 'page-1000';

/**
 * How many times `slackMs` a kind of call is allowed. A round trip includes this process reading the answer, and
 * a page of 1,000 whole records is up to 2.5 MB to receive and decode: on a busy event loop that alone varies by
 * tens of milliseconds (issue 22: 18 to 75 ms for such pages with CarrierX idle). Jitter of our own making, as
 * slackMs is for one record, and it grows with the page.
 */
const SLACK_SCALE: Record<CallKind, number> = { record: 1, 'page-10': 1, 'page-100': 2, 'page-1000': 5 };

/** The kind of a list call asking for `limit` records. */
export function pageKind(limit: number): CallKind {
  if (limit <= 10) return 'page-10';
  if (limit <= 100) return 'page-100';
  return 'page-1000';
}

export interface AdaptiveLimitOptions {
  /** The limit before any call has been measured. */
  initial: number;
  /** It never goes below this (calls in flight to CarrierX)... */
  min: number;
  /** ...nor above this. */
  max: number;
  /**
   * A call slower than `tolerance` × the baseline round trip + `slackMs` counts as CarrierX slowing down (for
   * pages of more than 10 records, a multiple of `slackMs`: see SLACK_SCALE).
   */
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
  /** The round trip single-record calls are compared with: the fastest recent one (Infinity before the first). */
  readonly baselineMs: number;
  /** The same for calls of `kind`: each kind is judged against its own fastest recent round trip. */
  baselineOf(kind: CallKind): number;
  /** Marks a call's start; pass the value to `complete`. */
  start(): number;
  /**
   * Reports a call that ended. `inFlight` counts the calls in flight when it ended, itself included: the
   * limit only grows while it is being used, so an idle server does not creep up to `max`. `kind` defaults
   * to a single record.
   */
  complete(startedAt: number, inFlight: number, signal: CallSignal, kind?: CallKind): void;
}

/** The fastest round trip of one kind of call, and the window it is re-learnt from. */
interface Baseline {
  ms: number;
  windowMin: number;
  windowCount: number;
}

export const ADAPTIVE_DEFAULTS = { tolerance: 2, slackMs: 10, backoff: 0.9, windowCalls: 1_000 } as const;

/**
 * An AIMD concurrency limit, after Netflix's concurrency-limits (AIMDLimit with a latency trigger, the
 * windowed minimum round trip of its Vegas and Gradient limits):
 *
 * - a call that came back about as fast as the baseline, while at least half the limit was in use, adds one;
 * - a 503, a timeout, or a call slower than `tolerance` × baseline + `slackMs` multiplies the limit by
 *   `backoff`, at most once per round trip: only a call that started after the last decrease can cause
 *   another, so the burst of 503s already in flight when CarrierX pushed back costs one step, not hundreds.
 *
 * A 429 does not move it: it is CarrierX refusing one credential more than its quota, not CarrierX overloaded,
 * and shrinking the limit every credential shares made every other caller pay for it.
 *
 * Each kind of call (CallKind) has its own baseline: the fastest round trip of that kind seen, re-learnt every
 * `windowCalls` calls of that kind from that window alone, so
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
  const baselines = new Map<CallKind, Baseline>();
  let lastDecreaseAt = Number.NEGATIVE_INFINITY;

  function decrease(startedAt: number, at: number): void {
    // A call that started before the last decrease was sent under the old limit: it was already counted.
    if (startedAt < lastDecreaseAt) return;
    limit = Math.max(min, Math.floor(limit * backoff));
    lastDecreaseAt = at;
  }

  /** Takes `rtt` into the baseline of its kind; returns that baseline. */
  function learn(kind: CallKind, rtt: number): number {
    let baseline = baselines.get(kind);
    if (!baseline) {
      baseline = { ms: rtt, windowMin: Number.POSITIVE_INFINITY, windowCount: 0 };
      baselines.set(kind, baseline);
    }
    baseline.ms = Math.min(baseline.ms, rtt);
    baseline.windowMin = Math.min(baseline.windowMin, rtt);
    baseline.windowCount += 1;
    if (baseline.windowCount >= windowCalls) {
      baseline.ms = baseline.windowMin;
      baseline.windowMin = Number.POSITIVE_INFINITY;
      baseline.windowCount = 0;
    }
    return baseline.ms;
  }

  const baselineOf = (kind: CallKind) => baselines.get(kind)?.ms ?? Number.POSITIVE_INFINITY;

  return {
    get limit() {
      return limit;
    },
    get baselineMs() {
      return baselineOf('record');
    },
    baselineOf,
    start: now,
    complete(startedAt, inFlight, signal, kind = 'record') {
      if (signal === 'ignored') return;
      const at = now();
      if (signal === 'overloaded') {
        decrease(startedAt, at);
        return;
      }
      const rtt = at - startedAt;
      const baseline = learn(kind, rtt);
      if (rtt > baseline * tolerance + slackMs * SLACK_SCALE[kind]) decrease(startedAt, at);
      else if (inFlight * 2 >= limit && limit < max) limit += 1;
    },
  };
}

/** A limit that never moves (CARRIERX_ADAPTIVE_CONCURRENCY=off): CARRIERX_MAX_CONCURRENT_CALLS. */
export function createFixedLimit(limit: number): AdaptiveLimit {
  return {
    limit,
    baselineMs: Number.POSITIVE_INFINITY,
    baselineOf: () => Number.POSITIVE_INFINITY,
    start: () => 0,
    complete() {},
  };
}
