import { ANY_RECORD, type CacheEntry, type CacheStore } from './entry.ts';

interface Slot<T> {
  value: T;
  expiresAt: number;
  bytes: number;
}

/**
 * A least-recently-used map bounded in bytes (`sizeOf` estimates what each value keeps alive, not V8's exact
 * footprint), each value also expiring on its own (`ttlMs` from its write). The record store below and the
 * answer cache (src/http/answer-cache.ts) both keep their values in one.
 */
export interface Lru<T> {
  readonly bytes: number;
  readonly size: number;
  get(key: string): T | undefined;
  set(key: string, value: T, ttlMs: number): void;
  delete(key: string): void;
  /** Drops every value whose key matches. */
  deleteWhere(matches: (key: string) => boolean): void;
}

export function createLru<T>(
  maxBytes: number,
  sizeOf: (key: string, value: T) => number,
  now: () => number = Date.now,
): Lru<T> {
  // A Map iterates in insertion order: re-inserting on read keeps the least recently used first.
  const slots = new Map<string, Slot<T>>();
  let bytes = 0;
  /** The slot inserted last: reading it again changes no order, so it is not re-inserted (a hot key is read on
   * every request, and a delete and set per read leave the Map's table to be rebuilt). */
  let newest: Slot<T> | undefined;

  function drop(key: string, slot: Slot<T>): void {
    slots.delete(key);
    bytes -= slot.bytes;
  }

  return {
    get bytes() {
      return bytes;
    },
    get size() {
      return slots.size;
    },
    get(key) {
      const slot = slots.get(key);
      if (!slot) return undefined;
      if (slot.expiresAt <= now()) {
        drop(key, slot);
        return undefined;
      }
      if (slot !== newest) {
        slots.delete(key);
        slots.set(key, slot);
        newest = slot;
      }
      return slot.value;
    },
    set(key, value, ttlMs) {
      const earlier = slots.get(key);
      if (earlier) drop(key, earlier);
      const size = sizeOf(key, value);
      // A value larger than the whole map would only evict everything else, then itself.
      if (size > maxBytes) return;
      newest = { value, expiresAt: now() + ttlMs, bytes: size };
      slots.set(key, newest);
      bytes += size;
      for (const [oldest, slot] of slots) {
        if (bytes <= maxBytes) break;
        drop(oldest, slot);
      }
    },
    delete(key) {
      const slot = slots.get(key);
      if (slot) drop(key, slot);
    },
    deleteWhere(matches) {
      for (const [key, slot] of slots) if (matches(key)) drop(key, slot);
    },
  };
}

/** How many invalidated records' generations the in-process store remembers (about 100 bytes each). */
const REMEMBERED_GENERATIONS = 10_000;

/**
 * The in-process record store: entries in an LRU bounded by `maxBytes`. Generations are numbers from one
 * counter, bumped by every invalidation: a record's is the counter's value at its last invalidation, and
 * `ANY_RECORD`'s the counter itself. Only the last REMEMBERED_GENERATIONS invalidated records are remembered; a
 * record forgotten (or never invalidated) has the generation of the newest one forgotten, which can only refuse
 * a write that would have been allowed, never allow one that must be refused.
 */
export function createMemoryStore(
  maxBytes: number,
  now: () => number = Date.now,
): CacheStore & {
  readonly bytes: number;
  readonly size: number;
} {
  const lru = createLru<CacheEntry>(maxBytes, estimateBytes, now);
  let counter = 0;
  let forgotten = 0;
  // Re-inserted on each invalidation, so iteration (and forgetting) goes from the oldest invalidation up.
  const generations = new Map<string, number>();
  const generation = (scope: string): string =>
    String(scope === ANY_RECORD ? counter : (generations.get(scope) ?? forgotten));

  return {
    get bytes() {
      return lru.bytes;
    },
    get size() {
      return lru.size;
    },
    get: (key) => lru.get(key),
    set(key, entry, ttlMs, onlyIf) {
      if (onlyIf && generation(onlyIf.scope) !== onlyIf.generation) return false;
      lru.set(key, entry, ttlMs);
      return true;
    },
    delete: (key) => lru.delete(key),
    generation,
    deleteRecord(drSid) {
      // One synchronous step: no write can land between the new generation and the deletion.
      counter += 1;
      generations.delete(drSid);
      generations.set(drSid, counter);
      if (generations.size > REMEMBERED_GENERATIONS) {
        for (const [oldest, stamp] of generations) {
          generations.delete(oldest);
          forgotten = stamp;
          break;
        }
      }
      const suffix = `:${drSid}`;
      lru.deleteWhere((key) => key.endsWith(suffix));
    },
  };
}

/** Roughly what an entry keeps alive: its text as UTF-16 plus a fixed overhead per entry and per field. */
function estimateBytes(key: string, entry: CacheEntry): number {
  const fields = Object.keys(entry.fetchedAt).length;
  const text =
    JSON.stringify(entry.values).length + (entry.invalid ? JSON.stringify(entry.invalid).length : 0);
  return 2 * (key.length + text) + 64 * fields + 256;
}
