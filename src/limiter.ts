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
   * The fraction of the slots (and of the queue) one owner may hold while another owner is active (holds a
   * slot, waits for one, or held one within `activeWindowMs`): a task of an owner holding `maxShare × max` or
   * more waits then, even beside a free slot, so that the others find one free at once; a freed slot goes to
   * the first waiter whose owner is not held back so; and a full queue makes room for a newcomer by refusing
   * the last waiter of an owner holding `maxShare` of it or more. Alone, an owner may use every slot. Unset or
   * 1: first come, first served, owners unseen.
   */
  maxShare?: number;
  /**
   * How long after its last slot ends an owner still counts as active for `maxShare` (default
   * ACTIVE_WINDOW_MS): a caller between two requests has no slot and no waiter, and a slot given away in that
   * gap to a flooder slow upstream is held for that flooder's whole round trip.
   */
  activeWindowMs?: number;
}

/**
 * The default `activeWindowMs`. The gap it has to bridge is one caller's time between two upstream calls: its
 * response, its next request, the work before that request's call. In bench scenario 12 that is a few ms at
 * the median and ~40 ms at the good credential's p99 alone (phase A) on a busy 2-core machine; a window ten
 * times that still holds through GC pauses and a loaded event loop. The price is the flooder's: for this long
 * after the last other caller's call it is held to its share instead of the whole limit.
 */
export const ACTIVE_WINDOW_MS = 500;

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

/** What one owner holds: slots and places in the queue. Kept while it is used (see `holderOf`). */
interface Holder {
  running: number;
  waiting: number;
  /** `performance.now()` when it last went idle (nothing running, nothing waiting). */
  idleSince: number;
  /** Bound once per owner: `start` hands it to each of its tasks' promises. */
  readonly release: () => void;
}

// Owners with nothing running or queued are forgotten once there are this many: a bound on the map, swept
// rarely, where deleting each owner as it went idle would allocate a holder again on its next wait.
const MAX_IDLE_HOLDERS = 1_024;

/**
 * At most `max` tasks at once, at most `maxQueued` waiting. A task admitted at once costs a counter and one
 * `then` (and, with a share, its owner's lookup): p-limit (used before for the per-request limit) created a queue and closures per limiter and ran each
 * task through ~6 promises and 4 microtask hops; cockatiel's bulkhead (used before upstream-wide) keeps a
 * cancelled waiter queued until its turn and then passes the freed slot to no one.
 */
export function createLimiter(initialMax: number, options: LimiterOptions = {}): Limiter {
  return new QueueLimiter(
    initialMax,
    options.maxQueued ?? Number.POSITIVE_INFINITY,
    options.onFull,
    options.maxShare ?? 1,
    options.activeWindowMs ?? ACTIVE_WINDOW_MS,
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
  /** Owners with a task running or waiting. */
  private busyOwners = 0;
  /**
   * The owner that went idle last, and the last to before it of another owner: enough to tell whether anyone
   * but a given owner went idle within the window, without a scan (the second is never older than needed, as
   * an owner going idle again becomes the first).
   */
  private lastIdle: Holder | undefined;
  private lastIdleOther: Holder | undefined;
  /** Set while waiters are held back beside free slots: it starts them once the window has passed. */
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** The map's size at which idle owners are swept out (see `holderOf`). */
  private sweepAt = MAX_IDLE_HOLDERS;
  /** Bound once: `start` hands it to each task's promise. */
  private readonly release = () => {
    this.running -= 1;
    if (this.running < this.limit && this.waiting.length > 0) this.dispatch();
  };

  constructor(
    private limit: number,
    private readonly maxQueued: number,
    private readonly onFull: (() => void) | undefined,
    private readonly maxShare: number,
    private readonly activeWindowMs: number,
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
    this.dispatch();
  }

  run<T>(task: () => Promise<T>, wait?: WaitLimit, owner?: string): Promise<T> {
    if (wait?.signal?.aborted) return Promise.reject(wait.signal.reason);
    // With a share, every task is counted as its owner's, admitted at once or not: the share has to hold
    // beside free slots too, or a flooder takes the slot another caller frees between two of its requests and
    // holds it for its whole (slow) round trip. The lookup (hashing the request's fresh Authorization string,
    // a Map probe) is the price: see docs/performance.md for what it measured.
    const holder = this.holders === undefined || owner === undefined ? undefined : this.holderOf(owner);
    if (this.running < this.limit && (holder === undefined || !this.heldBack(holder, undefined))) {
      return this.start(task, holder);
    }
    if (this.waiting.length >= this.maxQueued && !this.makeRoomFor(holder)) {
      this.onFull?.();
      return Promise.reject(new LimiterFullError());
    }
    const waiting = this.enqueue(task, wait, holder);
    // Held back beside a free slot: nothing else may come to start it once the window has passed.
    if (this.running < this.limit) this.wakeAfterWindow();
    return waiting;
  }

  private start<T>(task: () => Promise<T>, holder: Holder | undefined): Promise<T> {
    this.running += 1;
    if (holder) {
      if (holder.running + holder.waiting === 0) this.busyOwners += 1;
      holder.running += 1;
    }
    return this.launch(task, holder);
  }

  private launch<T>(task: () => Promise<T>, holder: Holder | undefined): Promise<T> {
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

  /** After a holder's count fell: when it now holds nothing, it went idle at this moment. */
  private leftBy(holder: Holder): void {
    if (holder.running + holder.waiting !== 0) return;
    this.busyOwners -= 1;
    holder.idleSince = performance.now();
    if (this.lastIdle !== holder) {
      this.lastIdleOther = this.lastIdle;
      this.lastIdle = holder;
    }
  }

  /**
   * Whether a task of `holder` must wait even beside a free slot: its owner holds its share or more while
   * another owner is active. `now` is passed by callers asking for many waiters (read once), else read here
   * when needed.
   */
  private heldBack(holder: Holder, now: number | undefined): boolean {
    if (holder.running < this.maxShare * this.limit) return false;
    if (this.busyOwners > (holder.running + holder.waiting > 0 ? 1 : 0)) return true;
    const other = this.lastIdle === holder ? this.lastIdleOther : this.lastIdle;
    return other !== undefined && (now ?? performance.now()) - other.idleSince < this.activeWindowMs;
  }

  private holderOf(owner: string): Holder {
    const holders = this.holders as Map<string, Holder>;
    let holder = holders.get(owner);
    if (holder) return holder;
    if (holders.size >= this.sweepAt) {
      for (const [key, h] of holders) {
        if (h.running === 0 && h.waiting === 0 && h !== this.lastIdle && h !== this.lastIdleOther) {
          holders.delete(key);
        }
      }
      // With more busy owners than the bound, the next sweep waits for the map to double: no sweep per call.
      this.sweepAt = Math.max(MAX_IDLE_HOLDERS, holders.size * 2);
    }
    const made: Holder = {
      running: 0,
      waiting: 0,
      idleSince: Number.NEGATIVE_INFINITY,
      release: () => {
        made.running -= 1;
        this.leftBy(made);
        this.release();
      },
    };
    holder = made;
    holders.set(owner, holder);
    return holder;
  }

  /** Starts waiters while slots are free and one may have it; when all that wait are held back, wakes later. */
  private dispatch(): void {
    while (this.running < this.limit && this.waiting.length > 0) {
      const waiter = this.next();
      if (waiter === undefined) {
        this.wakeAfterWindow();
        return;
      }
      waiter.start();
    }
  }

  /**
   * The waiter a free slot goes to, taken off the queue: the first whose owner is not held back (see
   * `heldBack`); none when every one is. Without shares, the first.
   */
  private next(): Waiter | undefined {
    const { waiting } = this;
    if (this.holders === undefined) return waiting.shift();
    const now = performance.now();
    let refused: Holder | undefined;
    for (let i = 0; i < waiting.length; i++) {
      const holder = waiting[i]?.holder;
      if (holder === undefined) return waiting.splice(i, 1)[0];
      // A flooder's waiters are most of the queue: one answer for all of them.
      if (holder === refused) continue;
      if (!this.heldBack(holder, now)) return waiting.splice(i, 1)[0];
      refused = holder;
    }
    return undefined;
  }

  /**
   * Looks again once the other owners' window has passed. Their leaving while busy starts `dispatch` itself;
   * then this is only a fallback, a window from now.
   */
  private wakeAfterWindow(): void {
    if (this.wakeTimer !== undefined) return;
    const now = performance.now();
    const until = (this.lastIdle?.idleSince ?? now) + this.activeWindowMs;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.dispatch();
      },
      Math.max(1, Math.ceil(until > now ? until - now : this.activeWindowMs)),
    );
    // Each waiter has its own deadline: this timer must not keep a process up.
    this.wakeTimer.unref?.();
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
      };
      const giveUp = (reason: unknown) => {
        stopWaiting();
        waiting.splice(waiting.indexOf(waiter), 1);
        if (holder) {
          holder.waiting -= 1;
          this.leftBy(holder);
        }
        reject(reason);
      };
      const onAbort = () => giveUp(signal?.reason);
      const waiter: Waiter = {
        holder,
        start: () => {
          stopWaiting();
          this.running += 1;
          // From waiting to running: the owner stays busy throughout.
          if (holder) {
            holder.waiting -= 1;
            holder.running += 1;
          }
          this.launch(task, holder).then(resolve, reject);
        },
        refuse: giveUp,
      };
      if (holder) {
        if (holder.running + holder.waiting === 0) this.busyOwners += 1;
        holder.waiting += 1;
      }
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
