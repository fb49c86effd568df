import { asksForRefresh, resolveCredentials } from '../context.ts';
import type { CacheEntry, CacheStore, EntryStamp } from './entry.ts';
import { createLru } from './memory-store.ts';

// The answer cache: whole 200 answers to repeated fast-path requests, keyed by (credential fingerprint, exact
// request body bytes), each with the record-cache entries it was built from. A repeated request is answered
// without running GraphQL again, but only while every one of those entries is still in the record store
// unchanged and fresh: the record cache stays the one source of truth, so its invalidation, refreshes, TTL and
// (with Redis) its coherence across replicas hold for answers too, with nothing to invalidate here.

/** One record lookup an answer was built from: its store key, and when each field the lookup asked for was fetched. */
export interface Dependency {
  readonly key: string;
  readonly fetchedAt: Readonly<Record<string, number>>;
  /**
   * The entry itself: entries are never changed, only replaced, so while the in-process store still holds this
   * very object the dependency is current without comparing its fields (a 52-field walk on every hit). Not
   * kept with a remote store, whose reads are never the same object.
   */
  readonly entry?: CacheEntry | undefined;
}

/**
 * Per fast-path request: what its record lookups depended on, and whether anything made its answer unfit to
 * keep (a list page, a stale or failed lookup). Travels in the loader's call options to the record cache, as
 * the tally does.
 */
export class AnswerRecorder {
  storable = true;
  readonly dependencies: Dependency[] = [];
  /** The operation, set as it finishes executing (use-observability), for a served answer's metrics. */
  operation: { type: string; name: string | undefined } | undefined;

  /** A lookup answered fresh from (or just written to) the entry at `key`. */
  depend(key: string, entry: CacheEntry, fields: readonly string[]): void {
    const fetchedAt: Record<string, number> = {};
    for (const api of fields) {
      const at = entry.fetchedAt[api];
      if (at === undefined) {
        this.spoil();
        return;
      }
      fetchedAt[api] = at;
    }
    this.dependencies.push({ key, fetchedAt, entry });
  }

  /** Something the store cannot vouch for went into the answer: it is not kept. */
  spoil(): void {
    this.storable = false;
  }
}

/** A kept answer: the exact bytes sent, and what makes it current. */
export interface Answer {
  /** The exact text sent (kept as the string it was computed as: no copy into a Buffer per answer kept). */
  readonly body: string;
  /** Its length in bytes (Content-Length), computed once. */
  readonly bytes: number;
  readonly dependencies: readonly Dependency[];
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
  readonly recorder: AnswerRecorder;
  /** performance.now() when the lookup began, for a served answer's duration. */
  readonly startedAt: number;
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
  onServed: (answer: Answer, ms: number, requestId: string) => void;
}

export interface AnswerCache {
  /** Undefined when the request cannot be answered or kept (credentials the loader would refuse). */
  begin(headers: { get(name: string): string | null }, body: Buffer): AnswerLookup | undefined;
  /** A current answer to the request, if there is one (a promise when the store is remote). */
  find(lookup: AnswerLookup): Answer | undefined | Promise<Answer | undefined>;
  /** Reports an answer `find` returned as served to `requestId`. */
  served(lookup: AnswerLookup, answer: Answer, requestId: string): void;
  /** Keeps a computed answer (the caller checked it is a 200 without errors or extensions). */
  keep(lookup: AnswerLookup, text: string): void;
  readonly size: number;
}

/** Whether the entry the store holds now is the one the answer was built from, for every field it used. */
function isCurrent(entry: EntryStamp | undefined, dependency: Dependency): boolean {
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

  /** Every dependency still current in the store; a store error means not current. */
  function allCurrent(dependencies: readonly Dependency[]): boolean | Promise<boolean> {
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
        recorder: new AnswerRecorder(),
        startedAt: performance.now(),
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
    served(lookup, answer, requestId) {
      onServed(answer, performance.now() - lookup.startedAt, requestId);
    },
    keep(lookup, text) {
      const { recorder } = lookup;
      const { operation } = recorder;
      // No lookup at all (only __typename, say): nothing bounds its freshness, and nothing is saved by keeping it.
      if (!recorder.storable || !operation || recorder.dependencies.length === 0) return;
      let freshUntil = Number.POSITIVE_INFINITY;
      for (const dependency of recorder.dependencies) {
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
            ? recorder.dependencies.map(({ key, fetchedAt }) => ({ key, fetchedAt }))
            : recorder.dependencies,
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
