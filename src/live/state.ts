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
 * Where a poller is: the watermark the next round asks from (`date_insert ge`) and the dr_sids already delivered
 * at that very instant (CarrierX may insert more records at it after a round has read it). Plain data: with Redis
 * it is kept there as JSON, so that another replica takes the feed over from exactly here.
 */
export interface PollPosition {
  /** date_insert (ms) the next round asks from, inclusive. */
  watermark: number;
  /** dr_sids (lower case) delivered whose date_insert is the watermark. */
  deliveredAtWatermark: string[];
  /**
   * Records at the watermark up to this dr_sid count as delivered too: a feed resumed from an id knows the
   * record it names, and that those before it at the same instant came before it.
   */
  resumedAfter?: string | undefined;
}

/** The last events delivered, for resuming by id. */
export interface ReplayLog {
  /** Oldest first, at most LIVE_REPLAY_RECORDS. */
  readonly events: LiveEvent[];
  /** The position of the last event dropped from `events`, or where the feed started: ids before it are too old. */
  horizon: Position;
}

/** Where a new feed starts: now (`watermark`), or just after `resumeFrom`. */
export function startPosition(watermark: number, resumeFrom?: Position): PollPosition {
  if (resumeFrom) {
    return { watermark: resumeFrom.at, deliveredAtWatermark: [], resumedAfter: resumeFrom.drSid };
  }
  return { watermark, deliveredAtWatermark: [] };
}

/** A new feed's horizon: nothing before where it starts belongs to it, so no id before it can be resumed from. */
export function startHorizon(watermark: number, resumeFrom?: Position): Position {
  return resumeFrom ?? { at: watermark, drSid: '' };
}

/** Whether a record at `position`, returned by a round asking from the watermark, was delivered already. */
export function alreadyDelivered(poll: PollPosition, position: Position): boolean {
  if (position.at < poll.watermark) return true;
  if (position.at > poll.watermark) return false;
  if (poll.resumedAfter !== undefined && position.drSid <= poll.resumedAfter) return true;
  return poll.deliveredAtWatermark.includes(position.drSid);
}

/** Records a record at `position` as delivered: the watermark moves to it. */
export function advance(poll: PollPosition, position: Position): void {
  if (position.at > poll.watermark) {
    poll.watermark = position.at;
    poll.deliveredAtWatermark = [];
    poll.resumedAfter = undefined;
  }
  poll.deliveredAtWatermark.push(position.drSid);
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
