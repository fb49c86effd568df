import {
  missedSince,
  type PollPosition,
  type Position,
  type ReplayLog,
  remember,
  startHorizon,
  startPosition,
} from './state.ts';
import type { LiveEvent } from './types.ts';

/** The right to poll a feed, for now: its position, the fields to ask for, a signal that aborts if it is lost. */
export interface Hold {
  readonly position: PollPosition;
  /** The union of the fields every subscriber selects, in this process and (with Redis) in every replica. */
  readonly fields: readonly string[];
  readonly signal: AbortSignal;
}

/** Where a new feed starts (now, or just after a resume id), should it be the first to open it. */
export interface FeedStart {
  readonly watermark: number;
  readonly resumeFrom?: Position | undefined;
}

/**
 * One feed's log as this process sees it: which process polls it, the events it delivered, in order, and the
 * position they leave it at. The poller writes to it; every process's subscribers read from it (`receive`).
 */
export interface FeedLog {
  /**
   * Takes (or keeps) the right to poll this feed, telling the ledger the fields this process's subscribers select:
   * resolves the hold when this process is the one to poll, undefined while another one does.
   */
  hold(fields: readonly string[]): Promise<Hold | undefined>;
  /** How long to wait before asking again when `hold` resolved undefined. */
  readonly retryMs: number;
  /** Makes `fields` (this process's subscribers' union) known to whichever process polls, before the next round. */
  want(fields: readonly string[]): Promise<void>;
  /**
   * Appends `entries` and the position after them, if this process still holds the feed: then every process's
   * `receive` gets them, in order. False when the hold was lost (nothing was written; the next holder polls them).
   */
  append(entries: readonly LiveEvent[], position: PollPosition): Promise<boolean>;
  /**
   * Calls `join` with the events after `from` that this process has already received, and nothing can be received
   * between that and `join` returning: a subscriber joining there misses nothing and gets nothing twice.
   * LIVE_RESUME_TOO_OLD when the log no longer holds them all.
   */
  resume(from: Position, join: (missed: LiveEvent[]) => void): Promise<void>;
  /** Stops reading and gives up the hold (another process may take it at once). */
  close(): Promise<void>;
}

/** Where feeds' logs live: this process's memory, or Redis for a fleet (src/live/redis-ledger.ts). */
export interface Ledger {
  /** Opens feed `key`'s log; `receive` gets each batch of entries appended from now on, in order. */
  open(key: string, start: FeedStart, receive: (entries: readonly LiveEvent[]) => void): FeedLog;
  /** Closes the ledger's connections, after every log is closed. */
  close(): Promise<void>;
}

/** Never aborts: a process always holds its own feeds. */
const HELD = new AbortController().signal;

/**
 * Each feed's log in this process's memory, for one process serving alone: it always holds its feeds, and what it
 * appends is received at once, within append.
 */
export function createMemoryLedger(options: { replayRecords: number }): Ledger {
  return {
    open(_key, start, receive) {
      let position = startPosition(start.watermark, start.resumeFrom);
      const replay: ReplayLog = { events: [], horizon: startHorizon(start.watermark, start.resumeFrom) };
      return {
        retryMs: 0,
        async hold(fields) {
          // A copy: the round moves its own, and only an append makes it the feed's.
          return { position: structuredClone(position), fields, signal: HELD };
        },
        async want() {},
        async append(entries, next) {
          position = next;
          for (const event of entries) remember(replay, event, options.replayRecords);
          receive(entries);
          return true;
        },
        async resume(from, join) {
          join(missedSince(replay, from));
        },
        async close() {},
      };
    },
    async close() {},
  };
}
