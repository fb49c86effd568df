import type { CacheEntry, CacheStore } from './entry.ts';

interface Slot {
  entry: CacheEntry;
  expiresAt: number;
  bytes: number;
}

/**
 * The in-process store: a least-recently-used map bounded in bytes (an estimate of what each entry holds, not
 * V8's exact footprint). Each entry also expires on its own (`ttlMs` from its last write).
 */
export function createMemoryStore(
  maxBytes: number,
  now: () => number = Date.now,
): CacheStore & {
  readonly bytes: number;
  readonly size: number;
} {
  // A Map iterates in insertion order: re-inserting on read keeps the least recently used first.
  const slots = new Map<string, Slot>();
  let bytes = 0;

  function drop(key: string, slot: Slot): void {
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
      slots.delete(key);
      slots.set(key, slot);
      return slot.entry;
    },
    set(key, entry, ttlMs) {
      const earlier = slots.get(key);
      if (earlier) drop(key, earlier);
      const size = estimateBytes(key, entry);
      // An entry larger than the whole cache would only evict everything else, then itself.
      if (size > maxBytes) return;
      slots.set(key, { entry, expiresAt: now() + ttlMs, bytes: size });
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
    deleteRecord(drSid) {
      const suffix = `:${drSid}`;
      for (const [key, slot] of slots) if (key.endsWith(suffix)) drop(key, slot);
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
