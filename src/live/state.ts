import type { CdrRecord } from '../carrierx/record.ts';
import { DR_SID } from '../carrierx/record.ts';
import { ServiceError } from '../errors.ts';
import type { LiveEvent } from './types.ts';

/** A record's place in the feed: date_insert (ms since the epoch), then dr_sid (lower case). */
export interface Position {
  readonly at: number;
  readonly drSid: string;
}

/** -1, 0 or 1 as `a` comes before, with or after `b` in the feed's order. */
export function comparePositions(a: Position, b: Position): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.drSid < b.drSid ? -1 : a.drSid > b.drSid ? 1 : 0;
}

/** The position of a record the poller fetched, or undefined when it carries no readable date_insert. */
export function positionOf(record: CdrRecord): Position | undefined {
  const inserted = record.values.date_insert;
  if (!(inserted instanceof Date)) return undefined;
  return { at: inserted.getTime(), drSid: record.drSid.toLowerCase() };
}

const EVENT_ID = /^live1:(\d{1,16}):([0-9a-f-]{36})$/;

/** The opaque id of the event at `position` (base64url, so it is a valid SSE id and needs no escaping). */
export function encodeEventId(position: Position): string {
  return Buffer.from(`live1:${position.at}:${position.drSid}`).toString('base64url');
}

/** The position an event id names; BAD_USER_INPUT when it is not one of ours. */
export function decodeEventId(id: string): Position {
  const match = id.length <= 128 ? EVENT_ID.exec(Buffer.from(id, 'base64url').toString('latin1')) : null;
  const drSid = match?.[2];
  if (!match || drSid === undefined || !DR_SID.test(drSid)) {
    throw new ServiceError(
      'BAD_USER_INPUT',
      'The resume id (Last-Event-ID) is not an event id of this feed.',
    );
  }
  return { at: Number(match[1]), drSid };
}

/**
 * Where a poller is: the newest date_insert delivered (the watermark) and the records delivered from
 * LIVE_LOOKBACK_MS before it on, which the next round asks for again (`date_insert ge watermark - lookback`) in
 * case CarrierX shows a record late, dated before one it showed earlier. Plain data: with Redis it is kept there
 * as JSON, so that another replica takes the feed over from exactly here.
 */
export interface PollPosition {
  /** The newest date_insert (ms) delivered, or where the feed started. */
  watermark: number;
  /** The records delivered dated within the look-back window (at the watermark's instant with none). */
  delivered: Position[];
  /**
   * Records up to this one count as delivered too: a feed resumed from an id knows the record it names, and
   * that those before it came before it.
   */
  resumedAfter?: Position | undefined;
}

/** Where a new feed starts: now (`watermark`), or just after `resumeFrom`. */
export function startPosition(watermark: number, resumeFrom?: Position): PollPosition {
  if (resumeFrom) return { watermark: resumeFrom.at, delivered: [], resumedAfter: resumeFrom };
  return { watermark, delivered: [] };
}

/** The date_insert (ms) the next round asks from, inclusive. */
export function askFrom(poll: PollPosition, lookbackMs: number): number {
  return poll.watermark - lookbackMs;
}

/** Whether a record at `position`, returned by a round asking from askFrom(), was delivered already. */
export function alreadyDelivered(poll: PollPosition, position: Position, lookbackMs: number): boolean {
  if (position.at < askFrom(poll, lookbackMs)) return true;
  if (poll.resumedAfter !== undefined && comparePositions(position, poll.resumedAfter) <= 0) return true;
  return poll.delivered.some((seen) => seen.at === position.at && seen.drSid === position.drSid);
}

/** Records a record at `position` as delivered: the watermark moves up to it; what left the window is dropped. */
export function advance(poll: PollPosition, position: Position, lookbackMs: number): void {
  poll.delivered.push(position);
  if (position.at <= poll.watermark) return;
  poll.watermark = position.at;
  const from = askFrom(poll, lookbackMs);
  poll.delivered = poll.delivered.filter((seen) => seen.at >= from);
  if (poll.resumedAfter !== undefined && poll.resumedAfter.at < from) poll.resumedAfter = undefined;
}

/** The last events delivered, for resuming by id. */
export interface ReplayLog {
  /** Oldest first, at most LIVE_REPLAY_RECORDS. */
  readonly events: LiveEvent[];
  /** The position of the last event dropped from `events`, or where the feed started: ids before it are too old. */
  horizon: Position;
}

/** A new feed's horizon: nothing before where it starts belongs to it, so no id before it can be resumed from. */
export function startHorizon(watermark: number, resumeFrom?: Position): Position {
  return resumeFrom ?? { at: watermark, drSid: '' };
}

/** Keeps `event` for replay, dropping the oldest past `replayRecords`. */
export function remember(log: ReplayLog, event: LiveEvent, replayRecords: number): void {
  log.events.push(event);
  while (log.events.length > replayRecords) {
    const dropped = log.events.shift() as LiveEvent;
    log.horizon = decodeEventId(dropped.id);
  }
}

/**
 * The events a subscriber resuming after `from` missed, oldest first; LIVE_RESUME_TOO_OLD when some of them
 * may no longer be in the replay log (or came before this feed started).
 */
export function missedSince(log: ReplayLog, from: Position): LiveEvent[] {
  if (comparePositions(from, log.horizon) < 0) {
    throw new ServiceError('LIVE_RESUME_TOO_OLD');
  }
  const id = encodeEventId(from);
  const index = log.events.findIndex((event) => event.id === id);
  // Found: what came after it in delivery order (a record inserted late at an earlier instant included).
  if (index >= 0) return log.events.slice(index + 1);
  return log.events.filter((event) => comparePositions(decodeEventId(event.id), from) > 0);
}
