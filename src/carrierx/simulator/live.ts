import {
  CDR_API_FIELDS,
  type CdrRecord,
  CHILD_PARTNER_SID,
  createLiveRecordMaker,
  PARENT_PARTNER_SID,
} from './data.ts';
import type { RecordStore } from './record-store.ts';

/** What to add: how many records (1 to 1000, default 1), whose, and field values to set on each. */
export interface NewRecords {
  count?: number;
  /** The parent or the child partner; by default each record's own draw (about 10% the child's). */
  partnerSid?: string;
  /** API field values set verbatim on every record (not dr_sid, date_insert or partner_sid). */
  fields?: Readonly<Record<string, unknown>>;
}

export const MAX_NEW_RECORDS = 1000;
/** The most records a minute `liveRate` may ask for: one every 10 ms. */
export const MAX_LIVE_RATE = 6000;

const PARTNERS = [PARENT_PARTNER_SID, CHILD_PARTNER_SID];
// Each record has its own: dr_sid identifies it, date_insert is the store's clock, partner_sid is partnerSid.
const FIXED_FIELDS = ['dr_sid', 'date_insert', 'partner_sid'];

/** The calls that keep coming: records added at runtime, by a timer or on request. */
export interface LiveFeed {
  /** Adds records inserted now, all at the same instant; answers them in dr_sid order. */
  add(request?: NewRecords): CdrRecord[];
  /** Adds one record every 60000/rate ms until stop(); the timer never keeps the process alive. */
  start(ratePerMinute: number): void;
  stop(): void;
}

/**
 * The store's live feed. Records are made from the seed and a counter, so a run adds the same calls in the same
 * order every time. Each batch is inserted at one instant, the current time or 1 ms after the previous batch
 * (whichever is later): date_insert never goes back, and the records of one batch share it, as records CarrierX
 * inserts in the same millisecond do.
 */
export function createLiveFeed(store: RecordStore, seed: number | undefined): LiveFeed {
  const make = createLiveRecordMaker(seed);
  let counter = 0;
  let lastInsertMs = Number.NEGATIVE_INFINITY;
  for (const record of store.records.values()) {
    lastInsertMs = Math.max(lastInsertMs, Date.parse(String(record.date_insert)));
  }
  let timer: NodeJS.Timeout | undefined;

  const add = (request: NewRecords = {}) => {
    const { count, partnerSid, fields } = checkNewRecords(request);
    const insertMs = Math.max(Date.now(), lastInsertMs + 1);
    const records: CdrRecord[] = Array.from({ length: count }, (_, index) => {
      const made = make(counter + index, insertMs);
      return { ...made, ...fields, ...(partnerSid === undefined ? {} : { partner_sid: partnerSid }) };
    });
    store.add(records);
    counter += count;
    lastInsertMs = insertMs;
    return records.sort((left, right) => (String(left.dr_sid) < String(right.dr_sid) ? -1 : 1));
  };

  return {
    add,
    start(ratePerMinute) {
      if (timer !== undefined || !(ratePerMinute > 0)) return;
      timer = setInterval(() => add(), 60_000 / ratePerMinute);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/** Validates a request to add records (a control API body included); throws a RangeError saying what is wrong. */
export function checkNewRecords(request: unknown): {
  count: number;
  partnerSid: string | undefined;
  fields: Readonly<Record<string, unknown>>;
} {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new RangeError('Expected an object: {"count"?, "partnerSid"?, "fields"?}');
  }
  const { count = 1, partnerSid, fields = {}, ...rest } = request as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new RangeError(`Unknown key "${unknown[0]}": expected count, partnerSid or fields`);
  }
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_NEW_RECORDS) {
    throw new RangeError(
      `count must be an integer from 1 to ${MAX_NEW_RECORDS}, got ${JSON.stringify(count)}`,
    );
  }
  if (partnerSid !== undefined && !PARTNERS.includes(partnerSid as string)) {
    throw new RangeError(
      `partnerSid must be the parent partner ${PARENT_PARTNER_SID} or its child ${CHILD_PARTNER_SID}, got ${JSON.stringify(partnerSid)}`,
    );
  }
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new RangeError('fields must be an object of API field names and values');
  }
  for (const key of Object.keys(fields)) {
    if (FIXED_FIELDS.includes(key)) {
      throw new RangeError(`fields cannot set ${key}${key === 'partner_sid' ? ' (use partnerSid)' : ''}`);
    }
    if (!CDR_API_FIELDS.includes(key)) throw new RangeError(`fields: unknown field "${key}"`);
  }
  return {
    count: count as number,
    partnerSid: partnerSid as string | undefined,
    fields: fields as Record<string, unknown>,
  };
}
