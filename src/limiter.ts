/** What a wait can be given up on with: an AbortSignal, or anything with its `aborted`/`reason` and events. */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Thrown by `run` when every slot is taken and the queue is full. */
export class LimiterFullError extends Error {
  constructor() {
    super('every slot is taken and the queue is full');
  }
}

export interface Limiter {
  /**
   * Runs `task` now if fewer than `max` tasks run, else when its turn comes (first come, first served). Rejects
   * with LimiterFullError when the queue is full, and with the signal's reason when the signal aborts while
   * the task waits; a waiter that gives up leaves the queue at once, so it never holds up those behind it.
   */
  run<T>(task: () => Promise<T>, signal?: CancelSignal): Promise<T>;
  /** Tasks running now. */
  readonly active: number;
  /** Tasks waiting for a slot. */
  readonly queued: number;
}

interface Waiter {
  start(): void;
}

/**
 * At most `max` tasks at once, at most `maxQueued` waiting. A task admitted at once costs a counter and one
 * `then`: p-limit (used before for the per-request limit) created a queue and closures per limiter and ran each
 * task through ~6 promises and 4 microtask hops; cockatiel's bulkhead (used before upstream-wide) keeps a
 * cancelled waiter queued until its turn and then passes the freed slot to no one.
 */
export function createLimiter(max: number, maxQueued = Number.POSITIVE_INFINITY): Limiter {
  let active = 0;
  const waiting: Waiter[] = [];

  const release = () => {
    active -= 1;
    waiting.shift()?.start();
  };

  function start<T>(task: () => Promise<T>): Promise<T> {
    active += 1;
    let running: Promise<T>;
    try {
      running = task();
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(release, release);
    return running;
  }

  function enqueue<T>(task: () => Promise<T>, signal: CancelSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const giveUp = () => {
        const index = waiting.indexOf(waiter);
        if (index >= 0) waiting.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        start() {
          signal?.removeEventListener('abort', giveUp);
          start(task).then(resolve, reject);
        },
      };
      waiting.push(waiter);
      signal?.addEventListener('abort', giveUp, { once: true });
    });
  }

  return {
    run(task, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (active < max) return start(task);
      if (waiting.length >= maxQueued) return Promise.reject(new LimiterFullError());
      return enqueue(task, signal);
    },
    get active() {
      return active;
    },
    get queued() {
      return waiting.length;
    },
  };
}
