import DataLoader from 'dataloader';
import type { ListPage } from '../carrierx/client.ts';
import { commaList } from '../carrierx/fields.ts';
import type { CdrPage, CdrRecord } from '../carrierx/record.ts';
import { ServiceError, tooManyRecordsForPage } from '../errors.ts';
import { createLimiter } from '../limiter.ts';
import type { Tally } from '../tally.ts';
import { type Logger, withDeferredLogger } from '../telemetry/logger.ts';
import type { CachedCallOptions, CdrSource } from './cdr-cache.ts';

/** One resolver's need: a record and the API fields its selection asked for (sorted, deduplicated). */
export interface CdrRequest {
  /** In canonical form (`canonicalSid`), so that one record is one key. */
  readonly drSid: string;
  readonly fields: readonly string[];
}

/** A request's record loaders (see createCdrLoader). */
export interface CdrLoader {
  /** One record for the fields a selection needs, through the request's DataLoader. */
  load(request: CdrRequest): Promise<CdrRecord>;
  /**
   * One page of the list endpoint asking for `fields`, counted as `page.limit` records of those fields. `asked`
   * is how the caller wrote the page size (e.g. "first: $pageSize = 200"), for the message of a refusal.
   */
  list(page: ListPage, fields: readonly string[], asked: string): Promise<CdrPage>;
  /**
   * Several pages at once (one list call each, in parallel), counted together: refused whole, calling
   * nothing, when all of them would pass the operation's limits.
   */
  lists(pages: readonly ListPage[], fields: readonly string[], asked: string): Promise<CdrPage[]>;
  /**
   * One page of a statistics scan: through the request's concurrency limit, deadline and credentials like
   * `list`, but bounded by the scan's own record limit (`scanLimits`), not MAX_RECORDS_PER_OPERATION, and its
   * records are not stored one by one in the record cache (a scan reads thousands for a few sums).
   */
  scan(page: ListPage, fields: readonly string[]): Promise<CdrPage>;
  /** What one scan may read (MAX_STATS_RECORDS) and how many of its pages may be in flight. */
  readonly scanLimits: { readonly maxRecords: number; readonly parallel: number };
  /**
   * The summary of many records kept under `key` for this credential, or `compute`'s, then kept: with a
   * cache, for the record cache's TTL; without one, computed every time.
   */
  summary<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

/** One spelling per record: the UUID scalar also admits `{braced}` and upper-case forms, CarrierX's path the bare one. */
export function canonicalSid(drSid: string): string {
  return (drSid.startsWith('{') || drSid.endsWith('}') ? drSid.replace(/^\{|\}$/g, '') : drSid).toLowerCase();
}

export type { CdrSource };

export interface CdrLoaderOptions {
  client: CdrSource;
  /** The Authorization header to send, or the error to report instead of calling CarrierX. */
  credentials: { authorization: string } | { error: ServiceError };
  /** Distinct records fetched at once for one operation. */
  maxParallel: number;
  /** Distinct records the loader (one HTTP request) may fetch at all; loads beyond it fail without calling CarrierX. */
  maxRecords: number;
  /**
   * Records times fields that may be loaded, each load counted, repeats included (each one is answered in full):
   * beyond it a load fails with TOO_MANY_FIELDS. Unset: no bound.
   */
  maxFields?: number | undefined;
  /** Records one statistics scan may read (MAX_STATS_RECORDS). */
  maxScanRecords?: number | undefined;
  /** Aborts pending upstream calls, e.g. when the caller disconnects. */
  signal?: AbortSignal | undefined;
  /** A `performance.now()` value: no upstream call or retry wait for this request goes past it. */
  deadlineAt?: number | undefined;
  /** The request's logger (read only when a line is written) and tally of upstream calls. */
  observed?: { readonly logger: Logger; readonly tally: Tally } | undefined;
  /** `Cache-Control: no-cache`: the cache is not read, only updated. */
  refresh?: boolean | undefined;
}

/**
 * A request's record loaders: a plain DataLoader for records by SID, and pages of the list endpoint, both
 * counted against the request's limits. Every load of one SID in one tick, whatever fields it selected, becomes
 * one lookup asking for the union of the fields; distinct SIDs are fetched in parallel, at most `maxParallel` at
 * a time. Each key's promise settles as soon as its own record arrives, so one slow or failing SID neither
 * delays nor fails the others. The first `maxRecords` records (distinct SIDs, and each record a page may hold)
 * are fetched; each one after that fails with TOO_MANY_RECORDS and no upstream call. Loads beyond `maxFields`
 * fail with TOO_MANY_FIELDS.
 *
 * Nothing here shares a fetch beyond DataLoader's own batching and per-request cache (the same SID and fields
 * load once): a later load of a record for other fields, a record a page returned, a call another request has
 * in flight, all of that is the record cache's (src/records/cdr-cache.ts), below this loader.
 */
export function createCdrLoader(options: CdrLoaderOptions): CdrLoader {
  const { client, credentials, maxRecords } = options;
  const maxFields = options.maxFields ?? Number.POSITIVE_INFINITY;
  const { observed } = options;
  // The child logger is made only if a call has something to log.
  const callOptions: CachedCallOptions = withDeferredLogger(observed, {
    signal: options.signal,
    deadlineAt: options.deadlineAt,
    tally: observed?.tally,
    refresh: options.refresh,
  });
  const scanOptions: CachedCallOptions = withDeferredLogger(observed, {
    signal: options.signal,
    deadlineAt: options.deadlineAt,
    tally: observed?.tally,
    keepRecords: false,
  });
  const limit = createLimiter(options.maxParallel);
  // Counted against maxRecords: each distinct SID fetched, and each record a list page may return.
  const sids = new Set<string>();
  let pageRecords = 0;
  // Records times fields loaded, each load counted, repeats included (each one is answered in full).
  let fieldsLoaded = 0;

  function tooManyFields(): ServiceError {
    return new ServiceError('TOO_MANY_FIELDS', undefined, { limit: maxFields });
  }

  const records = new DataLoader<CdrRequest, CdrRecord, string>(
    async (requests) => {
      if ('error' in credentials) return requests.map(() => credentials.error);
      // Usually one request per SID, whose fields go as they are; several for one SID ask for the union.
      const fieldsBySid = new Map<string, readonly string[]>();
      for (const { drSid, fields } of requests) {
        const earlier = fieldsBySid.get(drSid);
        fieldsBySid.set(drSid, earlier ? union(earlier, fields) : fields);
      }
      const fetches = new Map<string, Promise<CdrRecord> | Error>();
      for (const [drSid, fields] of fieldsBySid) {
        if (!sids.has(drSid) && sids.size + pageRecords >= maxRecords) {
          fetches.set(drSid, new ServiceError('TOO_MANY_RECORDS', undefined, { limit: maxRecords }));
          continue;
        }
        sids.add(drSid);
        fetches.set(
          drSid,
          limit.run(() => client.getCallDetailRecord(drSid, fields, credentials.authorization, callOptions)),
        );
      }
      // Promises, not values: DataLoader resolves each key with its own promise, so keys settle independently.
      return requests.map((r) => fetches.get(r.drSid) as unknown as CdrRecord | Error);
    },
    { cacheKeyFn: (r) => `${r.drSid} ${commaList(r.fields)}` },
  );

  const loader: CdrLoader = {
    load(request) {
      // Counted at the load, not at the fetch: the response carries every load in full, however few upstream
      // calls they share (30 aliases of the same 100 records are 30 x 100 records to answer).
      fieldsLoaded += Math.max(1, request.fields.length);
      if (fieldsLoaded > maxFields) return Promise.reject(tooManyFields());
      return records.load(request);
    },
    list(page, fields, asked) {
      return loader.lists([page], fields, asked).then((pages) => pages[0] as CdrPage);
    },
    lists(pages, fields, asked) {
      const size = pages.reduce((sum, page) => sum + page.limit, 0);
      fieldsLoaded += size * Math.max(1, fields.length);
      if (fieldsLoaded > maxFields) return Promise.reject(tooManyFields());
      if ('error' in credentials) return Promise.reject(credentials.error);
      if (sids.size + pageRecords + size > maxRecords) {
        return Promise.reject(tooManyRecordsForPage(asked, size, maxRecords, sids.size + pageRecords));
      }
      pageRecords += size;
      return Promise.all(
        pages.map((page) => {
          // Which calls match a filter changes as calls are made: no entry vouches for a page, it is asked every time.
          callOptions.tally?.readUnvouched();
          return limit.run(() =>
            client.listCallDetailRecords(page, fields, credentials.authorization, callOptions),
          );
        }),
      );
    },
    scan(page, fields) {
      if ('error' in credentials) return Promise.reject(credentials.error);
      callOptions.tally?.readUnvouched();
      return limit.run(() =>
        client.listCallDetailRecords(page, fields, credentials.authorization, scanOptions),
      );
    },
    scanLimits: { maxRecords: options.maxScanRecords ?? 100_000, parallel: options.maxParallel },
    summary(key, compute) {
      if ('error' in credentials) return Promise.reject(credentials.error);
      // A summary vouches for no record entry: an answer holding one is not kept by the answer cache.
      callOptions.tally?.readUnvouched();
      if (!client.summary) return compute();
      return client.summary(key, credentials.authorization, compute, callOptions);
    },
  };
  return loader;
}

/** Whether sorted `have` contains every name in sorted `want`. */
function covers(have: readonly string[], want: readonly string[]): boolean {
  if (have === want) return true;
  let i = 0;
  for (const name of want) {
    while (i < have.length && (have[i] as string) < name) i += 1;
    if (have[i] !== name) return false;
  }
  return true;
}

/** The sorted union of two sorted, deduplicated lists. */
function union(a: readonly string[], b: readonly string[]): readonly string[] {
  if (covers(a, b)) return a;
  if (covers(b, a)) return b;
  return [...new Set([...a, ...b])].sort();
}
