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

/** How long a task may wait for a slot. Nothing is set up for it unless the task actually has to wait. */
export interface WaitLimit {
  /** Gives up the wait when it aborts, with its reason. */
  signal?: CancelSignal | undefined;
  /** A `performance.now()` value at which the wait is given up, with `expired()` as the reason. */
  until?: number;
  expired?: () => unknown;
}

export interface LimiterOptions {
  /** At most this many tasks wait; beyond it `run` rejects with LimiterFullError at once. */
  maxQueued?: number;
  /** Called for each task refused because the queue was full (for metrics and logs). */
  onFull?: () => void;
}

export interface Limiter {
  /**
   * Runs `task` now if fewer than `max` tasks run, else when its turn comes (first come, first served). Rejects
   * with LimiterFullError when the queue is full, and when `wait` gives up (its signal aborts or its time runs
   * out); a waiter that gives up leaves the queue at once, so it never holds up those behind it.
   */
  run<T>(task: () => Promise<T>, wait?: WaitLimit): Promise<T>;
  /** Tasks running now. */
  readonly active: number;
  /** Tasks waiting for a slot. */
  readonly queued: number;
  /**
   * How many tasks may run at once. Raising it starts waiters at once; lowering it stops no running task, it
   * only holds new ones back until enough have finished.
   */
  max: number;
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
export function createLimiter(initialMax: number, options: LimiterOptions = {}): Limiter {
  return new QueueLimiter(initialMax, options.maxQueued ?? Number.POSITIVE_INFINITY, options.onFull);
}

/**
 * A class rather than an object literal of closures with `get`/`set` accessors: one is made per request (the
 * loader's), and a literal's fresh accessor closures would give each its own hidden class in the old
 * generation, keeping it alive through young-generation GCs (see RequestLoaders in src/graphql/context.ts).
 */
class QueueLimiter implements Limiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Bound once: `start` hands it to each task's promise. */
  private readonly release = () => {
    this.running -= 1;
    if (this.running < this.limit) this.waiting.shift()?.start();
  };

  constructor(
    private limit: number,
    private readonly maxQueued: number,
    private readonly onFull: (() => void) | undefined,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get max(): number {
    return this.limit;
  }

  set max(value: number) {
    this.limit = value;
    while (this.running < this.limit && this.waiting.length > 0) this.waiting.shift()?.start();
  }

  run<T>(task: () => Promise<T>, wait?: WaitLimit): Promise<T> {
    if (wait?.signal?.aborted) return Promise.reject(wait.signal.reason);
    if (this.running < this.limit) return this.start(task);
    if (this.waiting.length >= this.maxQueued) {
      this.onFull?.();
      return Promise.reject(new LimiterFullError());
    }
    return this.enqueue(task, wait);
  }

  private start<T>(task: () => Promise<T>): Promise<T> {
    this.running += 1;
    let running: Promise<T>;
    try {
      running = task();
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(this.release, this.release);
    return running;
  }

  private enqueue<T>(task: () => Promise<T>, wait: WaitLimit | undefined): Promise<T> {
    const signal = wait?.signal;
    const { waiting } = this;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopWaiting = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const giveUp = (reason: unknown) => {
        stopWaiting();
        waiting.splice(waiting.indexOf(waiter), 1);
        reject(reason);
      };
      const onAbort = () => giveUp(signal?.reason);
      const waiter: Waiter = {
        start: () => {
          stopWaiting();
          this.start(task).then(resolve, reject);
        },
      };
      waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (wait?.until !== undefined) {
        timer = setTimeout(
          () => giveUp(wait.expired?.()),
          Math.max(0, Math.ceil(wait.until - performance.now())),
        );
      }
    });
  }
}
