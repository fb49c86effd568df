import DataLoader from 'dataloader';
import pLimit from 'p-limit';
import type { CarrierXClient } from '../carrierx/client.ts';
import type { CdrRecord } from '../carrierx/record.ts';
import { CarrierXError } from '../errors.ts';

/** One resolver's need: a record and the API fields its selection asked for (sorted, deduplicated). */
export interface CdrRequest {
  /** In canonical form (`canonicalSid`), so that one record is one key. */
  readonly drSid: string;
  readonly fields: readonly string[];
}

export type CdrLoader = DataLoader<CdrRequest, CdrRecord, string>;

/** One spelling per record: the UUID scalar also admits `{braced}` and upper-case forms, CarrierX's path the bare one. */
export function canonicalSid(drSid: string): string {
  return (drSid.startsWith('{') || drSid.endsWith('}') ? drSid.replace(/^\{|\}$/g, '') : drSid).toLowerCase();
}

export interface CdrLoaderOptions {
  client: CarrierXClient;
  /** The Authorization header to send, or the error to report instead of calling CarrierX. */
  credentials: { authorization: string } | { error: CarrierXError };
  /** Distinct records fetched at once for one operation. */
  maxParallel: number;
  /** Distinct records one operation may fetch at all; loads beyond it fail without calling CarrierX. */
  maxRecords: number;
  /** Aborts pending upstream calls, e.g. when the caller disconnects. */
  signal?: AbortSignal | undefined;
  /** A `performance.now()` value: no upstream call or retry wait for this request goes past it. */
  deadlineAt?: number | undefined;
}

/**
 * A per-request loader of CDRs. Every request for the same SID in one tick, whatever fields it selected,
 * becomes one upstream GET asking for the union of the fields; distinct SIDs are fetched in parallel, at most
 * `maxParallel` at a time. Each key's promise settles as soon as its own record arrives, so one slow or failing
 * SID neither delays nor fails the others. The first `maxRecords` distinct SIDs are fetched; each one after that
 * fails with TOO_MANY_RECORDS and no upstream call.
 */
export function createCdrLoader(options: CdrLoaderOptions): CdrLoader {
  const { client, credentials, maxRecords } = options;
  const callOptions = { signal: options.signal, deadlineAt: options.deadlineAt };
  const limit = pLimit(options.maxParallel);
  // Records already fetched in this request with the fields they were fetched with: a later load whose
  // fields are covered reuses the fetch instead of calling CarrierX again.
  const fetched = new Map<string, { fields: ReadonlySet<string>; record: Promise<CdrRecord> }>();

  function fetchRecord(drSid: string, fields: ReadonlySet<string>): Promise<CdrRecord> {
    const earlier = fetched.get(drSid);
    if (earlier && [...fields].every((f) => earlier.fields.has(f))) return earlier.record;
    if ('error' in credentials) return Promise.reject(credentials.error);
    if (!earlier && fetched.size >= maxRecords) {
      return Promise.reject(new CarrierXError('TOO_MANY_RECORDS', undefined, { limit: maxRecords }));
    }
    const record = limit(() =>
      client.getCallDetailRecord(drSid, [...fields].sort(), credentials.authorization, callOptions),
    );
    fetched.set(drSid, { fields, record });
    return record;
  }

  return new DataLoader<CdrRequest, CdrRecord, string>(
    async (requests) => {
      const fieldsBySid = new Map<string, Set<string>>();
      for (const request of requests) {
        const { drSid } = request;
        let union = fieldsBySid.get(drSid);
        if (!union) {
          union = new Set();
          fieldsBySid.set(drSid, union);
        }
        for (const f of request.fields) union.add(f);
      }
      const records = new Map<string, Promise<CdrRecord>>();
      for (const [drSid, fields] of fieldsBySid) records.set(drSid, fetchRecord(drSid, fields));
      // Promises, not values: DataLoader resolves each key with its own promise, so keys settle independently.
      return requests.map((r) => records.get(r.drSid) as unknown as CdrRecord);
    },
    { cacheKeyFn: (r) => `${r.drSid} ${r.fields.join(',')}` },
  );
}
