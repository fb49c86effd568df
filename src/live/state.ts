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
 * Everything a poller remembers, in one plain object so that a later change can keep it in Redis and hand a
 * feed over between replicas: the watermark the next round asks from (`date_insert ge`), the dr_sids already
 * delivered at that very instant (CarrierX may insert more records at it after a round has read it), and the
 * last events for resuming by id.
 */
export interface PollerState {
  /** date_insert (ms) the next round asks from, inclusive. */
  watermark: number;
  /** dr_sids (lower case) delivered whose date_insert is the watermark. */
  deliveredAtWatermark: string[];
  /**
   * Records at the watermark up to this dr_sid count as delivered too: a feed resumed from an id knows the
   * record it names, and that those before it at the same instant came before it.
   */
  resumedAfter: string | undefined;
  /** The last events delivered, oldest first, at most LIVE_REPLAY_RECORDS. */
  replay: LiveEvent[];
  /** The position of the last event dropped from `replay`, or where the feed started: ids before it are too old. */
  horizon: Position;
}

/** A new state: from `watermark` (now), or just after `resumeFrom`. */
export function createPollerState(watermark: number, resumeFrom?: Position): PollerState {
  if (resumeFrom) {
    return {
      watermark: resumeFrom.at,
      deliveredAtWatermark: [],
      resumedAfter: resumeFrom.drSid,
      replay: [],
      horizon: resumeFrom,
    };
  }
  // Nothing before `watermark` belongs to this feed: an id before it cannot be resumed from here.
  return {
    watermark,
    deliveredAtWatermark: [],
    resumedAfter: undefined,
    replay: [],
    horizon: { at: watermark, drSid: '' },
  };
}

/** Whether a record at `position`, returned by a round asking from the watermark, was delivered already. */
export function alreadyDelivered(state: PollerState, position: Position): boolean {
  if (position.at < state.watermark) return true;
  if (position.at > state.watermark) return false;
  if (state.resumedAfter !== undefined && position.drSid <= state.resumedAfter) return true;
  return state.deliveredAtWatermark.includes(position.drSid);
}

/** Records `event` at `position` as delivered: moves the watermark and keeps it for replay. */
export function markDelivered(
  state: PollerState,
  position: Position,
  event: LiveEvent,
  replayRecords: number,
): void {
  if (position.at > state.watermark) {
    state.watermark = position.at;
    state.deliveredAtWatermark = [];
    state.resumedAfter = undefined;
  }
  state.deliveredAtWatermark.push(position.drSid);
  state.replay.push(event);
  while (state.replay.length > replayRecords) {
    const dropped = state.replay.shift() as LiveEvent;
    state.horizon = decodeEventId(dropped.id);
  }
}

/**
 * The events a subscriber resuming after `from` missed, oldest first; LIVE_RESUME_TOO_OLD when some of them
 * may no longer be in the replay buffer (or came before this feed started).
 */
export function missedSince(state: PollerState, from: Position): LiveEvent[] {
  if (comparePositions(from, state.horizon) < 0) {
    throw new ServiceError('LIVE_RESUME_TOO_OLD');
  }
  const id = encodeEventId(from);
  const index = state.replay.findIndex((event) => event.id === id);
  // Found: what came after it in delivery order (a record inserted late at an earlier instant included).
  if (index >= 0) return state.replay.slice(index + 1);
  return state.replay.filter((event) => comparePositions(decodeEventId(event.id), from) > 0);
}
