import DataLoader from 'dataloader';
import type { CachedCallOptions, CdrSource } from '../cache/cdr-cache.ts';
import type { ListPage } from '../carrierx/client.ts';
import { commaList } from '../carrierx/fields.ts';
import type { CdrPage, CdrRecord } from '../carrierx/record.ts';
import { CarrierXError } from '../errors.ts';
import { createLimiter } from '../limiter.ts';
import { type Logger, withDeferredLogger } from '../logger.ts';
import type { Tally } from '../tally.ts';

/** One resolver's need: a record and the API fields its selection asked for (sorted, deduplicated). */
export interface CdrRequest {
  /** In canonical form (`canonicalSid`), so that one record is one key. */
  readonly drSid: string;
  readonly fields: readonly string[];
}

export type CdrLoader = BoundedCdrLoader;

/** One spelling per record: the UUID scalar also admits `{braced}` and upper-case forms, CarrierX's path the bare one. */
export function canonicalSid(drSid: string): string {
  return (drSid.startsWith('{') || drSid.endsWith('}') ? drSid.replace(/^\{|\}$/g, '') : drSid).toLowerCase();
}

export type { CdrSource };

export interface CdrLoaderOptions {
  client: CdrSource;
  /** The Authorization header to send, or the error to report instead of calling CarrierX. */
  credentials: { authorization: string } | { error: CarrierXError };
  /** Distinct records fetched at once for one operation. */
  maxParallel: number;
  /** Distinct records the loader (one HTTP request) may fetch at all; loads beyond it fail without calling CarrierX. */
  maxRecords: number;
  /**
   * Records times fields that may be loaded, each load counted, repeats included (each one is answered in full):
   * beyond it a load fails with TOO_MANY_FIELDS. Unset: no bound.
   */
  maxFields?: number | undefined;
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
 * A per-request loader of CDRs. Every request for the same SID in one tick, whatever fields it selected,
 * becomes one upstream GET asking for the union of the fields; distinct SIDs are fetched in parallel, at most
 * `maxParallel` at a time. Each key's promise settles as soon as its own record arrives, so one slow or failing
 * SID neither delays nor fails the others. The first `maxRecords` distinct SIDs are fetched; each one after that
 * fails with TOO_MANY_RECORDS and no upstream call. Loads beyond `maxFields` fail with TOO_MANY_FIELDS.
 */
export function createCdrLoader(options: CdrLoaderOptions): CdrLoader {
  const { client, credentials, maxRecords } = options;
  const { observed } = options;
  // The child logger is made only if a call has something to log.
  const callOptions: CachedCallOptions = withDeferredLogger(observed, {
    signal: options.signal,
    deadlineAt: options.deadlineAt,
    tally: observed?.tally,
    refresh: options.refresh,
  });
  const limit = createLimiter(options.maxParallel);
  // Each record's fetches in this request with the fields they asked for: a later load whose fields one of
  // them covers reuses it instead of calling CarrierX again.
  const fetched = new Map<string, { fields: readonly string[]; record: Promise<CdrRecord> }[]>();
  // Records counted against maxRecords: each distinct SID fetched, and each record a list page may return.
  let counted = 0;
  // Lists still running: a load made meanwhile waits for them, since one may bring its record.
  const pendingLists = new Set<Promise<unknown>>();

  /** `fields` sorted and deduplicated. */
  function fetchRecord(drSid: string, fields: readonly string[]): Promise<CdrRecord> {
    const earlier = fetched.get(drSid);
    const covering = earlier?.find((fetch) => covers(fetch.fields, fields));
    if (covering) return covering.record;
    if ('error' in credentials) return Promise.reject(credentials.error);
    if (!earlier && counted >= maxRecords) {
      return Promise.reject(new CarrierXError('TOO_MANY_RECORDS', undefined, { limit: maxRecords }));
    }
    if (!earlier) counted += 1;
    const record = limit.run(() =>
      client.getCallDetailRecord(drSid, fields, credentials.authorization, callOptions),
    );
    if (earlier) earlier.push({ fields, record });
    else fetched.set(drSid, [{ fields, record }]);
    return record;
  }

  /** One list page: counted as `page.limit` records, and each record it returns primes this loader. */
  async function listPage(page: ListPage, fields: readonly string[]): Promise<CdrPage> {
    if ('error' in credentials) throw credentials.error;
    if (counted + page.limit > maxRecords) {
      throw new CarrierXError('TOO_MANY_RECORDS', undefined, { limit: maxRecords });
    }
    counted += page.limit;
    callOptions.tally?.readList();
    const call = limit.run(() =>
      client.listCallDetailRecords(page, fields, credentials.authorization, callOptions),
    );
    pendingLists.add(call);
    try {
      const result = await call;
      for (const record of result.records) {
        const entry = { fields, record: Promise.resolve(record) };
        const drSid = canonicalSid(record.drSid);
        const earlier = fetched.get(drSid);
        if (earlier) earlier.push(entry);
        else fetched.set(drSid, [entry]);
      }
      return result;
    } finally {
      pendingLists.delete(call);
    }
  }

  return new BoundedCdrLoader(
    options.maxFields ?? Number.POSITIVE_INFINITY,
    listPage,
    async (requests) => {
      // A record asked for beside a list (callDetailRecord next to callDetailRecords) may be on its page.
      if (pendingLists.size > 0) await Promise.allSettled([...pendingLists]);
      // Usually one request per SID, whose fields go as they are; several for one SID ask for the union.
      const fieldsBySid = new Map<string, readonly string[]>();
      for (const { drSid, fields } of requests) {
        const earlier = fieldsBySid.get(drSid);
        fieldsBySid.set(drSid, earlier ? union(earlier, fields) : fields);
      }
      const records = new Map<string, Promise<CdrRecord>>();
      for (const [drSid, fields] of fieldsBySid) records.set(drSid, fetchRecord(drSid, fields));
      // Promises, not values: DataLoader resolves each key with its own promise, so keys settle independently.
      return requests.map((r) => records.get(r.drSid) as unknown as CdrRecord);
    },
    { cacheKeyFn: (r) => `${r.drSid} ${commaList(r.fields)}` },
  );
}

/**
 * A DataLoader that refuses loads beyond `maxFields` records times fields. A subclass rather than a wrapper, so
 * that loadMany counts too; declared once here, not per loader, so every request's loader shares one shape.
 */
class BoundedCdrLoader extends DataLoader<CdrRequest, CdrRecord, string> {
  private fieldsLoaded = 0;

  constructor(
    private readonly maxFields: number,
    private readonly listPage: (page: ListPage, fields: readonly string[]) => Promise<CdrPage>,
    ...args: ConstructorParameters<typeof DataLoader<CdrRequest, CdrRecord, string>>
  ) {
    super(...args);
  }

  /**
   * One page of the list endpoint asking for `fields`, counted as `page.limit` records of those fields against
   * the request's limits; the records it returns prime this loader, so loading one of them for fields the page
   * covered costs no further call.
   */
  list(page: ListPage, fields: readonly string[]): Promise<CdrPage> {
    this.fieldsLoaded += page.limit * Math.max(1, fields.length);
    if (this.fieldsLoaded > this.maxFields) {
      return Promise.reject(new CarrierXError('TOO_MANY_FIELDS', undefined, { limit: this.maxFields }));
    }
    return this.listPage(page, fields);
  }

  override load(request: CdrRequest): Promise<CdrRecord> {
    // Counted at the load, not at the fetch: the response carries every load in full, however few upstream
    // calls they share (30 aliases of the same 100 records are 30 x 100 records to answer).
    this.fieldsLoaded += Math.max(1, request.fields.length);
    if (this.fieldsLoaded > this.maxFields) {
      return Promise.reject(new CarrierXError('TOO_MANY_FIELDS', undefined, { limit: this.maxFields }));
    }
    return super.load(request);
  }
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
