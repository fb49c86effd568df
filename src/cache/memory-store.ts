import type { CacheEntry, CacheStore } from './entry.ts';

interface Slot<T> {
  value: T;
  expiresAt: number;
  bytes: number;
}

/**
 * A least-recently-used map bounded in bytes (`sizeOf` estimates what each value keeps alive, not V8's exact
 * footprint), each value also expiring on its own (`ttlMs` from its write). The record store below and the
 * answer cache (src/cache/answers.ts) both keep their values in one.
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

/** The in-process record store: entries in an LRU bounded by `maxBytes`. */
export function createMemoryStore(
  maxBytes: number,
  now: () => number = Date.now,
): CacheStore & {
  readonly bytes: number;
  readonly size: number;
} {
  const lru = createLru<CacheEntry>(maxBytes, estimateBytes, now);
  return {
    get bytes() {
      return lru.bytes;
    },
    get size() {
      return lru.size;
    },
    get: (key) => lru.get(key),
    set: (key, entry, ttlMs) => lru.set(key, entry, ttlMs),
    delete: (key) => lru.delete(key),
    deleteRecord(drSid) {
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
