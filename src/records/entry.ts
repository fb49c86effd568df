import type { CdrRecord } from '../carrierx/record.ts';

/**
 * What the cache holds for one (credential, record): the API fields fetched so far with their decoded values,
 * and when each field was fetched (ms since the epoch), so that each one expires on its own. `notFoundAt` set:
 * CarrierX answered 404 then, and `values` is empty.
 */
export interface CacheEntry {
  readonly drSid: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly invalid: Readonly<Record<string, string>> | undefined;
  readonly fetchedAt: Readonly<Record<string, number>>;
  readonly notFoundAt?: number | undefined;
}

/**
 * A store's invalidation stamp for one record (or for every record: `ANY_RECORD`): a value that changes each
 * time the record is invalidated. A fetch notes it before asking CarrierX and stores its answer only if it is
 * still the same, so that nothing fetched before an invalidation outlives it.
 */
export type Generation = string;

/** The scope whose generation changes when any record is invalidated (a list page's records are not known before). */
export const ANY_RECORD = '*';

/**
 * Where entries live: in this process, or shared (Redis). Keys are `<credential fingerprint>:<dr_sid>`. Any
 * method may throw or reject: the cache treats that as a miss and goes to CarrierX.
 */
export interface CacheStore {
  get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  /**
   * When each entry's fields were fetched (and whether it is a 404), for several keys in one round trip (Redis:
   * one GET or MGET), without decoding the values: all the answer cache checks. Unset: `get` for each.
   */
  stamps?(keys: readonly string[]): Promise<(EntryStamp | undefined)[]>;
  /**
   * Stores the entry for `ttlMs` (every key expires); with `onlyIf`, only if the generation of `onlyIf.scope` (the
   * key's dr_sid, or `ANY_RECORD`) is still `onlyIf.generation`, checked and written in one step. Whether it was
   * stored.
   */
  set(
    key: string,
    entry: CacheEntry,
    ttlMs: number,
    onlyIf?: { scope: string; generation: Generation },
  ): boolean | Promise<boolean>;
  delete(key: string): void | Promise<void>;
  /** The record's (or with `ANY_RECORD`, all records') invalidation generation now. */
  generation(scope: string): Generation | Promise<Generation>;
  /**
   * Drops the record for every credential and changes its generation (and `ANY_RECORD`'s), so that a write
   * conditional on the generation before, from a fetch still in flight, is refused.
   */
  deleteRecord(drSid: string): void | Promise<void>;
  close?(): Promise<void>;
}

/** What says which version of an entry a store holds. */
export type EntryStamp = Pick<CacheEntry, 'fetchedAt' | 'notFoundAt'>;

const records = new WeakMap<CacheEntry, CdrRecord>();

/** The entry as the resolvers read a record; made once per entry, as entries are never changed. */
export function recordOf(entry: CacheEntry): CdrRecord {
  let record = records.get(entry);
  if (!record) {
    record = { drSid: entry.drSid, values: entry.values, invalid: entry.invalid };
    records.set(entry, record);
  }
  return record;
}

/** `fetched` (the fields just fetched, at `at`) laid over `base`: the fields `fetched` holds are replaced. */
export function mergeEntries(base: CacheEntry | undefined, fetched: CacheEntry): CacheEntry {
  if (!base || base.notFoundAt !== undefined) return fetched;
  const values: Record<string, unknown> = { ...base.values };
  const fetchedAt: Record<string, number> = { ...base.fetchedAt };
  let invalid: Record<string, string> | undefined = base.invalid ? { ...base.invalid } : undefined;
  for (const api of Object.keys(fetched.fetchedAt)) {
    // A field CarrierX left out (null) must not keep an older value.
    if (api in fetched.values) values[api] = fetched.values[api];
    else delete values[api];
    if (invalid) delete invalid[api];
    fetchedAt[api] = fetched.fetchedAt[api] as number;
  }
  if (fetched.invalid) invalid = { ...invalid, ...fetched.invalid };
  if (invalid && Object.keys(invalid).length === 0) invalid = undefined;
  return { drSid: fetched.drSid, values, invalid, fetchedAt };
}

/** An entry of the `fields` a call asked for, as CarrierX answered them at `at`. */
export function entryFromRecord(record: CdrRecord, fields: readonly string[], at: number): CacheEntry {
  const fetchedAt: Record<string, number> = {};
  for (const api of fields) fetchedAt[api] = at;
  return { drSid: record.drSid, values: record.values, invalid: record.invalid, fetchedAt };
}
