import { describe, expect, it } from 'vitest';
import type { CacheEntry } from '../src/records/entry.ts';
import { createMemoryStore } from '../src/records/memory-store.ts';

const sid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const entry = (n: number, text = 'x'.repeat(1000)): CacheEntry => ({
  drSid: sid(n),
  values: { dr_sid: sid(n), user_data: text },
  invalid: undefined,
  fetchedAt: { dr_sid: 0, user_data: 0 },
});

describe('the in-process cache store', () => {
  it('stays within CACHE_MAX_BYTES by dropping the least recently used entries', () => {
    const store = createMemoryStore(20_000);
    for (let n = 1; n <= 50; n++) {
      store.set(`k:${sid(n)}`, entry(n), 60_000);
      // Entry 1 is read each time: the most recently used is kept.
      expect(store.get(`k:${sid(1)}`)).toBeDefined();
    }
    expect(store.bytes).toBeLessThanOrEqual(20_000);
    expect(store.size).toBeGreaterThan(1);
    expect(store.size).toBeLessThan(50);
    expect(store.get(`k:${sid(2)}`)).toBeUndefined();
    expect(store.get(`k:${sid(50)}`)).toBeDefined();
  });

  it('does not keep an entry larger than the whole cache', () => {
    const store = createMemoryStore(4_096);
    store.set(`k:${sid(1)}`, entry(1, 'x'.repeat(100)), 60_000);
    store.set(`k:${sid(2)}`, entry(2, 'x'.repeat(10_000)), 60_000);
    expect(store.get(`k:${sid(2)}`)).toBeUndefined();
    expect(store.get(`k:${sid(1)}`)).toBeDefined();
  });

  it('forgets an entry once its time to live has passed', () => {
    let now = 0;
    const store = createMemoryStore(1_000_000, () => now);
    store.set(`k:${sid(1)}`, entry(1), 1_000);
    now = 999;
    expect(store.get(`k:${sid(1)}`)).toBeDefined();
    now = 1_000;
    expect(store.get(`k:${sid(1)}`)).toBeUndefined();
    expect(store.bytes).toBe(0);
  });

  it('drops a record for every credential at once', () => {
    const store = createMemoryStore(1_000_000);
    store.set(`a:${sid(1)}`, entry(1), 60_000);
    store.set(`b:${sid(1)}`, entry(1), 60_000);
    store.set(`a:${sid(2)}`, entry(2), 60_000);
    store.deleteRecord(sid(1));
    expect(store.get(`a:${sid(1)}`)).toBeUndefined();
    expect(store.get(`b:${sid(1)}`)).toBeUndefined();
    expect(store.get(`a:${sid(2)}`)).toBeDefined();
  });
});
