import { randomUUID } from 'node:crypto';
import { CDR_FIELDS } from '../carrierx/fields.ts';
import { createRedisConnection, luaScript } from '../redis.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ANY_RECORD, type CacheEntry, type CacheStore, type EntryStamp } from './entry.ts';

export interface RedisStoreOptions {
  /** redis:// or rediss:// (TLS), with a password if the server wants one. Never logged. */
  url: string;
  /** The most one command may take; past it the cache treats the lookup as failed and goes to CarrierX. */
  timeoutMs: number;
  /** Put before every key, so several services can share one Redis. */
  keyPrefix: string;
  logger: Logger;
}

const DATETIME_FIELDS = CDR_FIELDS.filter((f) => f.kind === 'datetime').map((f) => f.api);

/** Record values read back from JSON: datetimes are Dates again, as the boundary decoder makes them. */
export function reviveDatetimes(values: Record<string, unknown>): void {
  for (const api of DATETIME_FIELDS) {
    const value = values[api];
    if (typeof value === 'string') values[api] = new Date(value);
  }
}

/** An entry read back from JSON. */
function revive(text: string): CacheEntry {
  const entry = JSON.parse(text) as CacheEntry;
  reviveDatetimes(entry.values as Record<string, unknown>);
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
const SET_IF_GENERATION = luaScript(`local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`);

/**
 * How long a generation key lives: far longer than any call to CarrierX can be in flight (each is bounded by the
 * request deadline), so that a fetch started before an invalidation always finds the key changed, never gone.
 */
const GENERATION_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The shared store: one Redis, for every replica and worker. Entries are JSON under
 * `<prefix>cdr:<credential fingerprint>:<dr_sid>`, each with a TTL. Each command is bounded in time
 * (src/redis.ts); failures reach the cache, which answers from CarrierX and logs a rate-limited warning.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore & {
  /** Settles once the first connection is made (never rejects); lookups before that go to CarrierX. */
  readonly connected: Promise<void>;
} {
  const { keyPrefix, logger, timeoutMs } = options;
  const { client, command, evalScript, connected, close } = createRedisConnection({
    url: options.url,
    timeoutMs,
    logger,
    messages: {
      unavailable: 'Redis unavailable; the cache is bypassed',
      back: 'Redis is back; the cache is in use again',
    },
    observe: true,
  });
  const keyOf = (key: string) => `${keyPrefix}cdr:${key}`;

  // Outside the `cdr:` keys that deleteRecord scans; a dr_sid is a UUID, so never ANY_RECORD.
  const generationKeyOf = (scope: string) => `${keyPrefix}generation:${scope}`;

  /** A new, unique generation for the record and for ANY_RECORD (two SETs, sent together). */
  async function stampGeneration(drSid: string): Promise<void> {
    const stamp = randomUUID();
    const expiration = { type: 'PX', value: GENERATION_TTL_MS } as const;
    await Promise.all([
      command(() => client.set(generationKeyOf(drSid), stamp, { expiration })),
      command(() => client.set(generationKeyOf(ANY_RECORD), stamp, { expiration })),
    ]);
  }

  return {
    connected,
    async get(key) {
      const text = await command(() => client.get(keyOf(key)));
      return text === null ? undefined : revive(text);
    },
    async stamps(keys) {
      const texts =
        keys.length === 1
          ? [await command(() => client.get(keyOf(keys[0] as string)))]
          : await command(() => client.mGet(keys.map(keyOf)));
      return texts.map((text) => (text === null ? undefined : stampOf(text)));
    },
    async set(key, entry, ttlMs, onlyIf) {
      const text = JSON.stringify(entry);
      if (!onlyIf) {
        await command(() => client.set(keyOf(key), text, { expiration: { type: 'PX', value: ttlMs } }));
        return true;
      }
      const written = await evalScript(
        SET_IF_GENERATION,
        [keyOf(key), generationKeyOf(onlyIf.scope)],
        [text, String(ttlMs), onlyIf.generation],
      );
      return written === 1;
    },
    async delete(key) {
      await command(() => client.del(keyOf(key)));
    },
    async generation(scope) {
      return (await command(() => client.get(generationKeyOf(scope)))) ?? '';
    },
    async deleteRecord(drSid) {
      // A new generation first: a fetch that noted the one before is refused from here on, even while the
      // entries are being deleted. Then every credential's entry (the prefix is checked to hold no glob
      // characters; each SCAN and DEL is one command, bounded as any other). Then a new generation again: a
      // fetch that noted the first one may have read an entry the scan had not yet deleted, and must not write
      // what it merged with it.
      await stampGeneration(drSid);
      const match = `${keyPrefix}cdr:*:${drSid}`;
      let cursor = '0';
      do {
        const reply = await command(() => client.scan(cursor, { MATCH: match, COUNT: 1000 }));
        cursor = reply.cursor;
        if (reply.keys.length > 0) await command(() => client.del(reply.keys));
      } while (cursor !== '0');
      await stampGeneration(drSid);
    },
    close,
  };
}
