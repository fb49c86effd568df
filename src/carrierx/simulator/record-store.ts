import type { OutgoingHttpHeaders } from 'node:http';
import { type CdrRecord, CHILD_PARTNER_SID } from './data.ts';

/** A record with everything the hot path needs computed once: its body, headers and per-key JSON fragments. */
export interface StoredRecord {
  sid: string;
  record: CdrRecord;
  descendant: boolean;
  json: string;
  body: Buffer;
  headers: OutgoingHttpHeaders;
  keys: readonly string[];
  /** `"key":value` for each key, so that a field subset is a join rather than a JSON.stringify. */
  fragments: readonly string[];
  /** Projected bodies by raw include/exclude parameters: clients repeat the same few field lists. */
  projections: Map<string, { body: Buffer; headers: OutgoingHttpHeaders }>;
}

/** The records by dr_sid plus the default-ordered lists each kind of token may page through. */
export interface RecordStore {
  bySid: ReadonlyMap<string, StoredRecord>;
  records: ReadonlyMap<string, CdrRecord>;
  fields: ReadonlySet<string>;
  get(sid: string): StoredRecord | undefined;
  /** Adds (or replaces) a record at runtime, as CarrierX inserts new calls; `version` counts the changes. */
  add(record: CdrRecord): void;
  /** Changes with each add: listers cache their sorted lists per version. */
  readonly version: number;
}

export function createRecordStore(records: readonly CdrRecord[]): RecordStore {
  const bySid = new Map<string, StoredRecord>();
  const plain = new Map<string, CdrRecord>();
  const fields = new Set<string>();
  let version = 0;
  const store = (record: CdrRecord) => {
    const frozen = deepFreeze(record);
    const sid = String(frozen.dr_sid);
    const json = JSON.stringify(frozen);
    const body = Buffer.from(json);
    const keys = Object.keys(frozen);
    for (const key of keys) fields.add(key);
    bySid.set(sid, {
      sid,
      record: frozen,
      descendant: frozen.partner_sid === CHILD_PARTNER_SID,
      json,
      body,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      keys,
      fragments: keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(frozen[key])}`),
      projections: new Map(),
    });
    plain.set(sid, frozen);
  };
  for (const record of records) store(record);
  return {
    bySid,
    records: plain,
    fields,
    add(record) {
      store(record);
      version += 1;
    },
    get version() {
      return version;
    },
    get(sid) {
      // UUIDs are case-insensitive; only pay for the lower-casing when the exact lookup misses.
      return bySid.get(sid) ?? bySid.get(sid.toLowerCase());
    },
  };
}

/** The record's JSON with only the included (then not excluded) keys, in the record's own key order. */
export function projectRecord(
  stored: StoredRecord,
  include: ReadonlySet<string> | undefined,
  exclude: ReadonlySet<string> | undefined,
): string {
  if (!include && !exclude) return stored.json;
  let out = '{';
  let first = true;
  const { keys, fragments } = stored;
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    if (include && !include.has(key)) continue;
    if (exclude?.has(key)) continue;
    out += first ? fragments[index] : `,${fragments[index]}`;
    first = false;
  }
  return `${out}}`;
}

const PROJECTIONS_PER_RECORD = 16;

/** The projected body and headers for raw include/exclude parameters, cached on the record. */
export function projectedResponse(
  stored: StoredRecord,
  includeRaw: string | undefined,
  excludeRaw: string | undefined,
): { body: Buffer; headers: OutgoingHttpHeaders } {
  const key = excludeRaw === undefined ? (includeRaw ?? '') : `${includeRaw ?? ''}\u0000${excludeRaw}`;
  let response = stored.projections.get(key);
  if (!response) {
    const body = Buffer.from(projectRecord(stored, parseFieldList(includeRaw), parseFieldList(excludeRaw)));
    response = {
      body,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    };
    if (stored.projections.size >= PROJECTIONS_PER_RECORD) stored.projections.clear();
    stored.projections.set(key, response);
  }
  return response;
}

const fieldListCache = new Map<string, ReadonlySet<string>>();
const FIELD_LIST_CACHE_LIMIT = 512;

/**
 * Parses `include_fields`/`exclude_fields` (comma-separated top-level names) into a set; an absent or empty
 * parameter means no filtering. Clients send the same few lists over and over, so parsed sets are cached.
 */
export function parseFieldList(raw: string | undefined): ReadonlySet<string> | undefined {
  if (raw === undefined || raw === '') return undefined;
  let set = fieldListCache.get(raw);
  if (!set) {
    set = new Set(
      raw
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    );
    if (fieldListCache.size >= FIELD_LIST_CACHE_LIMIT) fieldListCache.clear();
    fieldListCache.set(raw, set);
  }
  return set;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
