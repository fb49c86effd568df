import type { CacheEntry } from './records/entry.ts';
import type { Span } from './telemetry/tracing.ts';

/** One record-cache lookup a request was answered from: its store key, and when each field it used was fetched. */
export interface EntryRead {
  readonly key: string;
  readonly fetchedAt: Readonly<Record<string, number>>;
  /**
   * The entry itself: entries are never changed, only replaced, so while an in-process store still holds this
   * very object the read is current without comparing its fields.
   */
  readonly entry?: CacheEntry | undefined;
}

/**
 * What one HTTP request read, all its operations together: the one per-request record that the access log,
 * the metrics, the spans, the answer cache and a persisted document's Cache-Control are built from. The
 * CarrierX client counts calls and records into it; the record cache notes each entry it answered from, and
 * anything it could not vouch for (a list page, a stale or failed lookup, a 404). Nothing that writes here
 * knows who reads it.
 */
export class Tally {
  upstreamCalls = 0;
  records = 0;
  /** Lookups the record cache answered without calling CarrierX (fresh fields, or a remembered 404). */
  cacheHits = 0;
  /** Records served stale from the record cache because CarrierX failed. */
  stale = 0;
  /** Something went into the answer that no store entry vouches for (a list, a stale, failed or 404 lookup). */
  unvouched = false;
  /** The entries read, when `recording` (only the answer cache needs them; copying fields costs on every lookup). */
  readonly entries: EntryRead[] | undefined;

  constructor(
    /** With tracing on: the span the request's CarrierX calls go under (the operation that built the loader). */
    readonly span?: Span | undefined,
    recording = false,
  ) {
    this.entries = recording ? [] : undefined;
  }

  /** A lookup answered fresh from (or just written to) the entry at `key`, for `fields`. */
  readEntry(key: string, entry: CacheEntry, fields: readonly string[]): void {
    const { entries } = this;
    if (entries === undefined) return;
    const fetchedAt: Record<string, number> = {};
    for (const api of fields) {
      const at = entry.fetchedAt[api];
      if (at === undefined) {
        this.unvouched = true;
        return;
      }
      fetchedAt[api] = at;
    }
    entries.push({ key, fetchedAt, entry });
  }

  /** A lookup that no entry vouches for: served stale, failed, or answered 404. */
  readUnvouched(): void {
    this.unvouched = true;
  }
}
