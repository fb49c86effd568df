/**
 * How many retries the calls of the last few seconds have earned, after Finagle's RetryBudget and Envoy's
 * retry budget (budget_percent): a retry costs CarrierX as much as a call, so when it fails every call, retrying
 * each one multiplies the load on a CarrierX that is already down. With a budget, retries stay a fraction of the
 * calls whatever fails: a full outage costs CarrierX about one attempt per call, while the occasional failure of
 * a healthy CarrierX is still retried.
 */
export interface RetryBudget {
  /** A call's first attempt was made: it earns `ratio` of a retry. */
  called(): void;
  /** Takes one retry from the budget; false (and nothing taken) when none is left, and the failure is final. */
  tryRetry(): boolean;
}

export interface RetryBudgetOptions {
  /** Retries per call over the window (0.2: one retry for five calls). */
  ratio: number;
  /** Retries allowed in each second whatever the calls, so that a quiet service still retries its rare failure. */
  minPerSecond: number;
  /** How far back calls and retries count. */
  windowMs?: number;
  /** The clock, in milliseconds; tests drive it. */
  now?: () => number;
}

const DEFAULT_WINDOW_MS = 10_000;
// The window is kept as one-second buckets: a call leaves it within a second of its time, and the reserve is
// counted per bucket.
const BUCKET_MS = 1_000;

/**
 * A sliding window of calls and retries in one-second buckets. A retry is allowed while the window's retries are
 * fewer than `ratio` × its calls, or while the current second's retries are fewer than `minPerSecond`.
 */
export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  const { ratio, minPerSecond } = options;
  const now = options.now ?? (() => performance.now());
  const size = Math.max(1, Math.ceil((options.windowMs ?? DEFAULT_WINDOW_MS) / BUCKET_MS));
  const calls = new Array<number>(size).fill(0);
  const retries = new Array<number>(size).fill(0);
  let callTotal = 0;
  let retryTotal = 0;
  /** The bucket number (time / BUCKET_MS) the newest bucket holds. */
  let current = Math.floor(now() / BUCKET_MS);

  /** Moves the window to now, emptying the buckets that fell out of it; returns the current bucket's index. */
  function advance(): number {
    const bucket = Math.floor(now() / BUCKET_MS);
    if (bucket !== current) {
      const expired = Math.min(size, Math.max(0, bucket - current));
      for (let i = 1; i <= expired; i++) {
        const at = (current + i) % size;
        callTotal -= calls[at] as number;
        retryTotal -= retries[at] as number;
        calls[at] = 0;
        retries[at] = 0;
      }
      current = bucket;
    }
    return current % size;
  }

  return {
    called() {
      const at = advance();
      calls[at] = (calls[at] as number) + 1;
      callTotal += 1;
    },
    tryRetry() {
      const at = advance();
      if (retryTotal >= ratio * callTotal && (retries[at] as number) >= minPerSecond) return false;
      retries[at] = (retries[at] as number) + 1;
      retryTotal += 1;
      return true;
    },
  };
}
