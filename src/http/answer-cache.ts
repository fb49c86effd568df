import { asksForRefresh, resolveCredentials } from '../credentials.ts';
import type { CacheStore, EntryStamp } from '../records/entry.ts';
import { createLru } from '../records/memory-store.ts';
import type { EntryRead, Tally } from '../tally.ts';

// The answer cache: whole 200 answers to repeated fast-path requests, keyed by (credential fingerprint, exact
// request body bytes), each with the record-cache entries it was built from (the request's tally, src/tally.ts,
// lists them: the record cache notes what it read there, and knows nothing of answers). A repeated request is answered
// without running GraphQL again, but only while every one of those entries is still in the record store
// unchanged and fresh: the record cache stays the one source of truth, so its invalidation, refreshes, TTL and
// (with Redis) its coherence across replicas hold for answers too, with nothing to invalidate here.

/** A kept answer: the exact bytes sent, and what makes it current. */
export interface Answer {
  /** The exact text sent (kept as the string it was computed as: no copy into a Buffer per answer kept). */
  readonly body: string;
  /** Its length in bytes (Content-Length), computed once. */
  readonly bytes: number;
  readonly dependencies: readonly EntryRead[];
  /** The earliest (fetchedAt + TTL) over the dependencies' fields, on the cache's clock. */
  readonly freshUntil: number;
  readonly type: string;
  readonly name: string | undefined;
}

/** A fast-path request the answer cache may answer or keep. */
export interface AnswerLookup {
  readonly key: string;
  /** Cache-Control / Pragma: no-cache: not answered from here, but its recomputed answer is kept. */
  readonly refresh: boolean;
  /** performance.now() when the lookup began, for a served answer's duration. */
  readonly startedAt: number;
  /** How many times the cache had been cleared when the lookup began: an answer begun before a clear is not kept. */
  readonly clears: number;
}

export interface AnswerCacheOptions {
  /** The record store the dependencies are checked against. */
  store: CacheStore;
  maxBytes: number;
  /** The record cache's TTL: no answer outlives its oldest field's freshness. */
  ttlMs: number;
  /** The record cache's credential fingerprint (HMAC): the token itself is never part of a key. */
  fingerprint: (authorization: string) => string;
  /** Used when a request carries no Authorization header, as the loader does. */
  fallbackToken: string | undefined;
  now?: () => number;
  /** Whether a lookup found a current answer (metrics). */
  onLookup?: ((result: 'hit' | 'miss') => void) | undefined;
  /** An answer was served: the metrics and access-log line of the operation it stands for. */
  onServed: (answer: Answer, ms: number, requestId: string, traceId: string | undefined) => void;
}

export interface AnswerCache {
  /** Undefined when the request cannot be answered or kept (credentials the loader would refuse). */
  begin(headers: { get(name: string): string | null }, body: Buffer): AnswerLookup | undefined;
  /** A current answer to the request, if there is one (a promise when the store is remote). */
  find(lookup: AnswerLookup): Answer | undefined | Promise<Answer | undefined>;
  /** Reports an answer `find` returned as served to `requestId` (in trace `traceId`, with tracing on). */
  served(lookup: AnswerLookup, answer: Answer, requestId: string, traceId: string | undefined): void;
  /**
   * Keeps a computed answer (the caller checked it is a 200 without errors or extensions), given the request's
   * tally (which must have recorded its reads) and the operation it ran.
   */
  keep(
    lookup: AnswerLookup,
    text: string,
    tally: Tally | undefined,
    operation: { type: string; name: string | undefined } | undefined,
  ): void;
  /**
   * Drops every answer, and keeps none computed before (a persisted-documents reload: an answer is served
   * without running the checks that refused a document no longer in the manifests).
   */
  clear(): void;
  readonly size: number;
}

/** Whether the entry the store holds now is the one the answer was built from, for every field it used. */
function isCurrent(entry: EntryStamp | undefined, dependency: EntryRead): boolean {
  if (entry !== undefined && entry === dependency.entry) return true;
  if (!entry || entry.notFoundAt !== undefined) return false;
  for (const api in dependency.fetchedAt) {
    if (entry.fetchedAt[api] !== dependency.fetchedAt[api]) return false;
  }
  return true;
}

const NOT_CURRENT = () => false;

export function createAnswerCache(options: AnswerCacheOptions): AnswerCache {
  const { store, ttlMs, fingerprint, fallbackToken, onServed } = options;
  const now = options.now ?? Date.now;
  const onLookup = options.onLookup ?? (() => {});
  const lru = createLru<Answer>(options.maxBytes, sizeOf, now);
  let clears = 0;

  /** Every dependency still current in the store; a store error means not current. */
  function allCurrent(dependencies: readonly EntryRead[]): boolean | Promise<boolean> {
    if (store.stamps) {
      // One round trip (Redis GET, or MGET for several), and no values decoded.
      return store
        .stamps(dependencies.map((d) => d.key))
        .then((entries) => dependencies.every((d, i) => isCurrent(entries[i], d)), NOT_CURRENT);
    }
    let pending: Promise<boolean>[] | undefined;
    for (const dependency of dependencies) {
      let entry: ReturnType<CacheStore['get']>;
      try {
        entry = store.get(dependency.key);
      } catch {
        return false;
      }
      if (entry instanceof Promise) {
        pending ??= [];
        pending.push(entry.then((e) => isCurrent(e, dependency), NOT_CURRENT));
      } else if (!isCurrent(entry, dependency)) return false;
    }
    return pending ? Promise.all(pending).then((all) => all.every(Boolean)) : true;
  }

  function settle(key: string, answer: Answer, current: boolean): Answer | undefined {
    onLookup(current ? 'hit' : 'miss');
    if (current) return answer;
    lru.delete(key);
    return undefined;
  }

  return {
    get size() {
      return lru.size;
    },
    begin(headers, body) {
      const credentials = resolveCredentials(headers.get('authorization'), fallbackToken);
      if ('error' in credentials) return undefined;
      return {
        // latin1: one character per byte, so the key is the exact bytes, whatever their encoding.
        key: `${fingerprint(credentials.authorization)}\n${body.toString('latin1')}`,
        refresh: asksForRefresh(headers.get('cache-control'), headers.get('pragma')),
        startedAt: performance.now(),
        clears,
      };
    },
    find(lookup) {
      const answer = lru.get(lookup.key);
      if (!answer) {
        onLookup('miss');
        return undefined;
      }
      const current = now() < answer.freshUntil && allCurrent(answer.dependencies);
      // No closure on the usual path (the in-process store answers at once): this runs on every request.
      if (typeof current === 'boolean') return settle(lookup.key, answer, current);
      return current.then((yes) => settle(lookup.key, answer, yes));
    },
    served(lookup, answer, requestId, traceId) {
      onServed(answer, performance.now() - lookup.startedAt, requestId, traceId);
    },
    clear() {
      clears++;
      lru.deleteWhere(() => true);
    },
    keep(lookup, text, tally, operation) {
      const dependencies = tally?.entries;
      // No lookup at all (only __typename, say): nothing bounds its freshness, and nothing is saved by keeping it.
      if (!dependencies?.length || tally?.unvouched || !operation || lookup.clears !== clears) return;
      let freshUntil = Number.POSITIVE_INFINITY;
      for (const dependency of dependencies) {
        for (const api in dependency.fetchedAt) {
          freshUntil = Math.min(freshUntil, (dependency.fetchedAt[api] as number) + ttlMs);
        }
      }
      const at = now();
      if (!(freshUntil > at)) return;
      lru.set(
        lookup.key,
        {
          body: text,
          bytes: Buffer.byteLength(text),
          // With a remote store the entries would only be memory the size estimate does not count.
          dependencies: store.stamps
            ? dependencies.map(({ key, fetchedAt }) => ({ key, fetchedAt }))
            : dependencies,
          freshUntil,
          type: operation.type,
          name: operation.name,
        },
        freshUntil - at,
      );
    },
  };
}

/** Roughly what an answer keeps alive: its key (one byte a character), body, and its dependencies. */
function sizeOf(key: string, answer: Answer): number {
  let size = key.length + answer.bytes + 256;
  for (const dependency of answer.dependencies) {
    size += 2 * dependency.key.length + 64 * Object.keys(dependency.fetchedAt).length + 64;
  }
  return size;
}

const caches = new WeakMap<object, AnswerCache>();

/** The answer cache createApp made for `app`, for the HTTP fast path; undefined when it is off. */
export function answerCacheOf(app: object): AnswerCache | undefined {
  return caches.get(app);
}

export function attachAnswerCache(app: object, cache: AnswerCache): void {
  caches.set(app, cache);
}
