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
  /**
   * The fraction of the slots (and of the queue) one owner may hold while tasks of others wait: a freed slot
   * goes to the first waiter whose owner holds fewer than `maxShare × max` (counting the slots its tasks took
   * after waiting: the others are gone within one round of slots), and a full queue makes room for a
   * newcomer by refusing the last waiter of an owner holding `maxShare` of it or more. Alone, an owner may use
   * every slot: no slot stays free while anyone waits. Unset or 1: first come, first served, owners unseen.
   */
  maxShare?: number;
}

export interface Limiter {
  /**
   * Runs `task` now if fewer than `max` tasks run, else when its turn comes (first come, first served, but for
   * `maxShare`). Rejects
   * with LimiterFullError when the queue is full, and when `wait` gives up (its signal aborts or its time runs
   * out); a waiter that gives up leaves the queue at once, so it never holds up those behind it. `owner` (any
   * string; a Map key only) is whose task it is, for `maxShare`.
   */
  run<T>(task: () => Promise<T>, wait?: WaitLimit, owner?: string): Promise<T>;
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
  readonly holder: Holder | undefined;
  start(): void;
  /** Leaves the queue, rejecting with `reason`. */
  refuse(reason: unknown): void;
}

/**
 * What one owner holds: places in the queue, and the slots its tasks took after waiting (see `run`). Made when
 * one of its tasks first waits, and kept while it is used (see `holderOf`).
 */
interface Holder {
  running: number;
  waiting: number;
  /** Bound once per owner: `start` hands it to each of its tasks' promises. */
  readonly release: () => void;
}

// Owners with nothing running or queued are forgotten once there are this many: a bound on the map, swept
// rarely, where deleting each owner as it went idle would allocate a holder again on its next wait.
const MAX_IDLE_HOLDERS = 1_024;

/**
 * At most `max` tasks at once, at most `maxQueued` waiting. A task admitted at once costs a counter and one
 * `then`: p-limit (used before for the per-request limit) created a queue and closures per limiter and ran each
 * task through ~6 promises and 4 microtask hops; cockatiel's bulkhead (used before upstream-wide) keeps a
 * cancelled waiter queued until its turn and then passes the freed slot to no one.
 */
export function createLimiter(initialMax: number, options: LimiterOptions = {}): Limiter {
  return new QueueLimiter(
    initialMax,
    options.maxQueued ?? Number.POSITIVE_INFINITY,
    options.onFull,
    options.maxShare ?? 1,
  );
}

/**
 * A class rather than an object literal of closures with `get`/`set` accessors: one is made per request (the
 * loader's), and a literal's fresh accessor closures would give each its own hidden class in the old
 * generation, keeping it alive through young-generation GCs (see RequestLoaders in src/graphql/context.ts).
 */
class QueueLimiter implements Limiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Per owner, only with a share below 1: without one, owners are not even looked up. */
  private readonly holders: Map<string, Holder> | undefined;
  /** Bound once: `start` hands it to each task's promise. */
  private readonly release = () => {
    this.running -= 1;
    if (this.running < this.limit && this.waiting.length > 0) this.next().start();
  };

  constructor(
    private limit: number,
    private readonly maxQueued: number,
    private readonly onFull: (() => void) | undefined,
    private readonly maxShare: number,
  ) {
    this.holders = maxShare < 1 ? new Map() : undefined;
  }

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
    while (this.running < this.limit && this.waiting.length > 0) this.next().start();
  }

  run<T>(task: () => Promise<T>, wait?: WaitLimit, owner?: string): Promise<T> {
    if (wait?.signal?.aborted) return Promise.reject(wait.signal.reason);
    // Admitted at once, a task is not counted as its owner's: owners are looked up only once someone waits.
    // A lookup on every call (hashing each request's fresh Authorization string, then a Map probe) measured
    // ~1 us a call more on this machine, where the whole admission takes ~0.3 us. The price: slots taken before
    // the wait began are not seen, so for one round of slots an owner may get up to its share more.
    if (this.running < this.limit) return this.start(task, undefined);
    const holder = this.holders === undefined || owner === undefined ? undefined : this.holderOf(owner);
    if (this.waiting.length >= this.maxQueued && !this.makeRoomFor(holder)) {
      this.onFull?.();
      return Promise.reject(new LimiterFullError());
    }
    return this.enqueue(task, wait, holder);
  }

  private start<T>(task: () => Promise<T>, holder: Holder | undefined): Promise<T> {
    this.running += 1;
    if (holder) holder.running += 1;
    let running: Promise<T>;
    try {
      running = task();
    } catch (error) {
      running = Promise.reject(error);
    }
    const release = holder ? holder.release : this.release;
    running.then(release, release);
    return running;
  }

  private holderOf(owner: string): Holder {
    const holders = this.holders as Map<string, Holder>;
    let holder = holders.get(owner);
    if (holder) return holder;
    if (holders.size >= MAX_IDLE_HOLDERS) {
      for (const [key, h] of holders) if (h.running === 0 && h.waiting === 0) holders.delete(key);
    }
    const made: Holder = {
      running: 0,
      waiting: 0,
      release: () => {
        made.running -= 1;
        this.release();
      },
    };
    holder = made;
    holders.set(owner, holder);
    return holder;
  }

  /**
   * The waiter a free slot goes to, taken off the queue: the first whose owner holds less than its share, else
   * (everyone waiting is over it) the first, since a slot left free helps no one.
   */
  private next(): Waiter {
    const { waiting } = this;
    if (this.holders !== undefined) {
      const share = this.maxShare * this.limit;
      for (let i = 0; i < waiting.length; i++) {
        const holder = waiting[i]?.holder;
        if (holder === undefined || holder.running < share) return waiting.splice(i, 1)[0] as Waiter;
      }
    }
    return waiting.shift() as Waiter;
  }

  /**
   * With the queue full, refuses the newest waiter of an owner holding its share of the queue or more, so that
   * an owner below its share still gets a place; false when there is none (or the newcomer is over it itself).
   */
  private makeRoomFor(newcomer: Holder | undefined): boolean {
    if (newcomer === undefined) return false;
    const share = this.maxShare * this.maxQueued;
    if (newcomer.waiting >= share) return false;
    const { waiting } = this;
    for (let i = waiting.length - 1; i >= 0; i--) {
      const waiter = waiting[i] as Waiter;
      if (waiter.holder !== undefined && waiter.holder.waiting >= share) {
        this.onFull?.();
        waiter.refuse(new LimiterFullError());
        return true;
      }
    }
    return false;
  }

  private enqueue<T>(
    task: () => Promise<T>,
    wait: WaitLimit | undefined,
    holder: Holder | undefined,
  ): Promise<T> {
    const signal = wait?.signal;
    const { waiting } = this;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopWaiting = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (holder) holder.waiting -= 1;
      };
      const giveUp = (reason: unknown) => {
        stopWaiting();
        waiting.splice(waiting.indexOf(waiter), 1);
        reject(reason);
      };
      const onAbort = () => giveUp(signal?.reason);
      const waiter: Waiter = {
        holder,
        start: () => {
          stopWaiting();
          this.start(task, holder).then(resolve, reject);
        },
        refuse: giveUp,
      };
      if (holder) holder.waiting += 1;
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
