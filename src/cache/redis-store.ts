import { hash, randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { CDR_FIELDS } from '../carrierx/fields.ts';
import type { Logger } from '../logger.ts';
import { ANY_RECORD, type CacheEntry, type CacheStore, type EntryStamp } from './entry.ts';

export interface RedisStoreOptions {
  /** redis:// or rediss:// (TLS), with a password if the server wants one. Never logged. */
  url: string;
  /** The most one command may take; past it the cache treats the lookup as a miss. */
  timeoutMs: number;
  /** Put before every key, so several services can share one Redis. */
  keyPrefix: string;
  logger: Logger;
}

const DATETIME_FIELDS = CDR_FIELDS.filter((f) => f.kind === 'datetime').map((f) => f.api);

/** An entry read back from JSON: datetimes are Dates again, as the boundary decoder makes them. */
function revive(text: string): CacheEntry {
  const entry = JSON.parse(text) as CacheEntry;
  const values = entry.values as Record<string, unknown>;
  for (const api of DATETIME_FIELDS) {
    const value = values[api];
    if (typeof value === 'string') values[api] = new Date(value);
  }
  return entry;
}

const FETCHED_AT = '"fetchedAt":{';

/**
 * An entry's `fetchedAt` and `notFoundAt` read off its JSON without decoding its values (a whole record's are
 * most of the text). JSON.stringify writes `fetchedAt` (numbers only) after `values` and `invalid`, whose keys
 * are API field names and whose strings escape every quote, so this text occurs once, as the entry's own key;
 * anything else is decoded in full.
 */
export function stampOf(text: string): EntryStamp {
  const at = text.indexOf(FETCHED_AT);
  const end = at < 0 ? -1 : text.indexOf('}', at);
  if (at < 0 || end < 0 || text.indexOf(FETCHED_AT, end) >= 0) return revive(text);
  const fetchedAt = JSON.parse(text.slice(at + FETCHED_AT.length - 1, end + 1)) as Record<string, number>;
  const notFound = /"notFoundAt":(\d+)/.exec(text.slice(end));
  return notFound ? { fetchedAt, notFoundAt: Number(notFound[1]) } : { fetchedAt };
}

/**
 * Sets KEYS[1] to ARGV[1] for ARGV[2] ms only if KEYS[2] (a generation key) holds ARGV[3] ('' for none): the
 * check and the write in one step, so that an invalidation cannot fall between them. 1 if written, else 0.
 */
const SET_IF_GENERATION = `local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
const SET_IF_GENERATION_SHA = hash('sha1', SET_IF_GENERATION, 'hex');

/**
 * How long a generation key lives: far longer than any call to CarrierX can be in flight (each is bounded by the
 * request deadline), so that a fetch started before an invalidation always finds the key changed, never gone.
 */
const GENERATION_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The shared store: one Redis, for every replica and worker. Entries are JSON under
 * `<prefix>cdr:<credential fingerprint>:<dr_sid>`, each with a TTL. Commands fail at once while Redis is away
 * (no offline queue) and after `timeoutMs` when it is slow; the client reconnects by itself. Failures reach the
 * cache, which answers from CarrierX and logs a rate-limited warning; this store logs the client's own
 * connection errors the same way.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore & {
  /** Settles once the first connection is made (never rejects); lookups before that go to CarrierX. */
  readonly connected: Promise<void>;
} {
  const { keyPrefix, logger } = options;
  let lastWarning = Number.NEGATIVE_INFINITY;
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: options.timeoutMs },
    socket: {
      connectTimeout: Math.max(options.timeoutMs, 1_000),
      // Forever, at most every 2 s: Redis coming back is noticed without a restart.
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2_000),
    },
  });
  client.on('error', (error: Error) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    // The message only: the error may carry the URL, and with it a password.
    logger.warn(
      { err: { name: error.name, message: error.message } },
      'Redis unavailable; the cache is bypassed',
    );
  });
  client.on('ready', () => {
    if (lastWarning !== Number.NEGATIVE_INFINITY) logger.info('Redis is back; the cache is in use again');
    lastWarning = Number.NEGATIVE_INFINITY;
  });
  // Not awaited: the server starts and answers from CarrierX while Redis is unreachable.
  const connected = client.connect().then(
    () => {},
    () => {},
  );
  const keyOf = (key: string) => `${keyPrefix}cdr:${key}`;
  // Outside the `cdr:` keys that deleteRecord scans; a dr_sid is a UUID, so never ANY_RECORD.
  const generationKeyOf = (scope: string) => `${keyPrefix}generation:${scope}`;

  /** A new, unique generation for the record and for ANY_RECORD (two SETs, sent together). */
  async function stampGeneration(drSid: string): Promise<void> {
    const stamp = randomUUID();
    const expiration = { type: 'PX', value: GENERATION_TTL_MS } as const;
    await Promise.all([
      client.set(generationKeyOf(drSid), stamp, { expiration }),
      client.set(generationKeyOf(ANY_RECORD), stamp, { expiration }),
    ]);
  }

  return {
    connected,
    async get(key) {
      const text = await client.get(keyOf(key));
      return text === null ? undefined : revive(text);
    },
    async stamps(keys) {
      const texts =
        keys.length === 1 ? [await client.get(keyOf(keys[0] as string))] : await client.mGet(keys.map(keyOf));
      return texts.map((text) => (text === null ? undefined : stampOf(text)));
    },
    async set(key, entry, ttlMs, onlyIf) {
      if (!onlyIf) {
        await client.set(keyOf(key), JSON.stringify(entry), { expiration: { type: 'PX', value: ttlMs } });
        return true;
      }
      const script = {
        keys: [keyOf(key), generationKeyOf(onlyIf.scope)],
        arguments: [JSON.stringify(entry), String(ttlMs), onlyIf.generation],
      };
      let written: unknown;
      try {
        written = await client.evalSha(SET_IF_GENERATION_SHA, script);
      } catch (error) {
        // Not loaded yet (a new or restarted Redis): EVAL loads it for the next EVALSHA.
        if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
        written = await client.eval(SET_IF_GENERATION, script);
      }
      return written === 1;
    },
    async delete(key) {
      await client.del(keyOf(key));
    },
    async generation(scope) {
      return (await client.get(generationKeyOf(scope))) ?? '';
    },
    async deleteRecord(drSid) {
      // A new generation first: a fetch that noted the one before is refused from here on, even while the
      // entries are being deleted. Then every credential's entry (the prefix is checked to hold no glob
      // characters). Then a new generation again: a fetch that noted the first one may have read an entry the
      // scan had not yet deleted, and must not write what it merged with it.
      await stampGeneration(drSid);
      for await (const keys of client.scanIterator({ MATCH: `${keyPrefix}cdr:*:${drSid}`, COUNT: 1000 })) {
        if (keys.length > 0) await client.del(keys);
      }
      await stampGeneration(drSid);
    },
    async close() {
      if (client.isOpen) await client.close();
      else client.destroy();
    },
  };
}
