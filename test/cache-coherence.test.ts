import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallDetailRecordDocument } from '../examples/operations/gql/graphql.ts';
import { CDR_FIELDS } from '../src/carrierx/fields.ts';
import {
  createSimulator,
  DEMO_TOKEN,
  SAMPLE_DR_SID,
  type Simulator,
} from '../src/carrierx/simulator/index.ts';
import { ANY_RECORD, type CacheEntry, type CacheStore } from '../src/records/entry.ts';
import { createMemoryStore } from '../src/records/memory-store.ts';
import { createRedisStore } from '../src/records/redis-store.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';

// What the record cache promises around `POST /cache/invalidate` and concurrent lookups: after an invalidation
// answers, nothing CarrierX sent before it is served (in process, and by replicas sharing Redis); concurrent
// lookups of one record cost at most two CarrierX calls.

interface Cdr {
  callDetailRecord: Record<string, unknown> | null;
}
const PRICE = `query Price($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
const ADMIN = 'cache-admin-token-0123456789';
const SECRET = 'a-cache-key-secret-of-at-least-32-characters';
/** What CarrierX answered before the record changed; the simulator's own value is the changed one. */
const OLD_PRICE = '9.99';
const NEW_PRICE = '0.0025';
/**
 * How long the call that answers the old price takes: long enough that an invalidation (a few ms in process, a
 * loopback round trip and a few Redis commands between processes) answers before it, which each test checks.
 */
const SLOW_MS = 1_500;

const cdrCalls = (simulator: Simulator) =>
  simulator.requests.filter((r) => r.path.includes('/calls/call_drs/')).length;

/** The next CarrierX call for the sample record is slow and answers the old price. */
function answerOldPriceSlowly(simulator: Simulator): void {
  simulator.faults.add({
    match: { drSid: SAMPLE_DR_SID },
    times: 1,
    latencyMs: SLOW_MS,
    fault: { kind: 'raw-values', values: { price: JSON.stringify(OLD_PRICE) } },
  });
}

/**
 * Resolves when the next request for `path` (by default the sample record's) reaches a simulator in this
 * process: the simulators answer over node:http, whose server announces each request on this diagnostics
 * channel as it arrives.
 */
function nextCallArrives(path = `/calls/call_drs/${SAMPLE_DR_SID}`): Promise<void> {
  return new Promise((resolve) => {
    const onStart = (message: unknown) => {
      const { request } = message as { request: IncomingMessage };
      if (!request.url?.includes(path)) return;
      unsubscribe('http.server.request.start', onStart);
      resolve();
    };
    subscribe('http.server.request.start', onStart);
  });
}

/** `POST /cache/invalidate` of the sample record, in process, with the admin token; its status. */
async function invalidateSample(h: Harness): Promise<number> {
  const response = await h.app.fetch('http://localhost/cache/invalidate', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ drSids: [SAMPLE_DR_SID] }),
  });
  return response.status;
}

/** `promise`, and whether it has settled yet. */
function watched<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  void promise.finally(() => {
    settled = true;
  });
  return { promise, settled: () => settled };
}

describe('a persisted GET whose record is invalidated while CarrierX is asked for it', () => {
  // The browser may keep such an answer for max-age: it must not keep one the cache itself refused to keep.
  const documentId = (CallDetailRecordDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({
      CACHE_TTL_MS: '60000',
      CACHE_ADMIN_TOKEN: ADMIN,
      REQUEST_DEADLINE_MS: '10000',
      PERSISTED_DOCUMENTS: 'examples/operations/gql/persisted-documents.json',
    });
  });
  afterEach(() => h.close());

  const getPersisted = () =>
    h.app.fetch(
      `http://localhost/graphql?${new URLSearchParams({ documentId, variables: JSON.stringify({ drSid: SAMPLE_DR_SID }) })}`,
      { headers: { accept: 'application/json', authorization: `Bearer ${DEMO_TOKEN}` } },
    );

  it('is answered with max-age=0, and the same GET afterwards may be kept again', async () => {
    answerOldPriceSlowly(h.simulator);
    const arrived = nextCallArrives();
    const racing = getPersisted();
    await arrived;
    expect(await invalidateSample(h)).toBe(200);
    const answer = await racing;
    expect((await answer.json()).errors).toBeUndefined();
    expect(answer.headers.get('cache-control')).toBe('private, max-age=0');
    const after = await getPersisted();
    expect(after.headers.get('cache-control')).toBe('private, max-age=60');
  });
});

describe('an invalidation racing a CarrierX call, in process', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({
      CACHE_TTL_MS: '60000',
      CACHE_ADMIN_TOKEN: ADMIN,
      REQUEST_DEADLINE_MS: '10000',
    });
  });
  afterEach(() => h.close());

  const price = async () =>
    (await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID })).body.data?.callDetailRecord?.price;

  const invalidate = () => invalidateSample(h);

  it('does not keep what a call started before the invalidation fetched: the next request asks CarrierX', async () => {
    answerOldPriceSlowly(h.simulator);
    const arrived = nextCallArrives();
    const before = watched(price());
    await arrived;
    expect(await invalidate()).toBe(200);
    expect(before.settled()).toBe(false);
    // The request that was waiting began before the invalidation: the old price is a right answer for it.
    expect(await before.promise).toBe(OLD_PRICE);
    expect(await price()).toBe(NEW_PRICE);
    expect(cdrCalls(h.simulator)).toBe(2);
  });

  it('does not let a request that arrives after the invalidation join a call started before it', async () => {
    answerOldPriceSlowly(h.simulator);
    const arrived = nextCallArrives();
    const before = watched(price());
    await arrived;
    expect(await invalidate()).toBe(200);
    const after = await price();
    expect(after).toBe(NEW_PRICE);
    expect(before.settled()).toBe(false);
    expect(await before.promise).toBe(OLD_PRICE);
    expect(cdrCalls(h.simulator)).toBe(2);
  });

  it('does not keep the records of a list page fetched while one of them was invalidated', async () => {
    // The simulator answers a faulty list with the sample record alone.
    h.simulator.faults.add({
      times: 1,
      latencyMs: SLOW_MS,
      fault: { kind: 'raw-values', values: { price: JSON.stringify(OLD_PRICE) } },
    });
    const arrived = nextCallArrives('/calls/call_drs?');
    const page = watched(
      h.execute<{ callDetailRecords: { nodes: Cdr['callDetailRecord'][] } }, unknown>(
        '{ callDetailRecords(first: 5) { nodes { drSid price } } }',
      ),
    );
    await arrived;
    expect(await invalidate()).toBe(200);
    expect(page.settled()).toBe(false);
    expect((await page.promise).body.data?.callDetailRecords.nodes).toEqual([
      { drSid: SAMPLE_DR_SID, price: OLD_PRICE },
    ]);
    expect(await price()).toBe(NEW_PRICE);
  });
});

describe('an invalidation racing a CarrierX call, between two server processes sharing one Redis', () => {
  let redis: RedisServer;
  let simulator: Simulator;
  let first: ServerProcess;
  let second: ServerProcess;
  beforeAll(async () => {
    redis = await startRedisServer();
    simulator = createSimulator();
    const baseUrl = await simulator.listen(0, '127.0.0.1');
    const env = {
      CARRIERX_BASE_URL: baseUrl,
      REDIS_URL: redis.url,
      CACHE_KEY_SECRET: SECRET,
      CACHE_ADMIN_TOKEN: ADMIN,
      // The answer cache (on by default) sits on the fast path: it must not serve the old price either.
      HTTP_FAST_PATH: 'true',
    };
    [first, second] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await simulator?.close();
    await redis?.stop();
  });
  beforeEach(async () => {
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.flushAll();
    await admin.close();
    simulator.faults.clear();
    simulator.resetLog();
  });

  async function price(server: ServerProcess): Promise<unknown> {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
      body: JSON.stringify({ query: PRICE, variables: { drSid: SAMPLE_DR_SID } }),
    });
    return ((await response.json()) as { data?: Cdr }).data?.callDetailRecord?.price;
  }

  async function invalidate(server: ServerProcess): Promise<number> {
    const response = await fetch(new URL('/cache/invalidate', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ drSids: [SAMPLE_DR_SID] }),
    });
    return response.status;
  }

  it('neither process serves what a call started before the invalidation fetched', async () => {
    answerOldPriceSlowly(simulator);
    const arrived = nextCallArrives();
    const before = watched(price(first));
    await arrived;
    expect(await invalidate(second)).toBe(200);
    expect(before.settled()).toBe(false);
    expect(await before.promise).toBe(OLD_PRICE);
    // Twice each: the second time is where a kept answer (either cache) would show.
    for (const server of [first, second, first, second]) expect(await price(server)).toBe(NEW_PRICE);
  });

  it('a request after an invalidation sent to the other process does not join a call started before it', async () => {
    answerOldPriceSlowly(simulator);
    const arrived = nextCallArrives();
    const before = watched(price(first));
    await arrived;
    expect(await invalidate(second)).toBe(200);
    const after = await price(first);
    expect(after).toBe(NEW_PRICE);
    expect(before.settled()).toBe(false);
    expect(await before.promise).toBe(OLD_PRICE);
    expect(await price(first)).toBe(NEW_PRICE);
  });
});

describe('an invalidation racing a CarrierX call, in a cluster of two workers with caches of their own', () => {
  let simulator: Simulator;
  let cluster: ServerProcess;
  beforeAll(async () => {
    simulator = createSimulator();
    const baseUrl = await simulator.listen(0, '127.0.0.1');
    cluster = await startServerProcess({
      CARRIERX_BASE_URL: baseUrl,
      WEB_CONCURRENCY: '2',
      CACHE_ADMIN_TOKEN: ADMIN,
      HTTP_FAST_PATH: 'true',
    });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    await simulator?.close();
  });

  /**
   * One request on a connection of its own: the primary hands each new connection to the workers in turn, so
   * successive requests reach both (a pooled keep-alive connection would stay with one worker).
   */
  async function send(
    path: string,
    body: unknown,
    authorization: string,
  ): Promise<{ status: number; text: string }> {
    const text = JSON.stringify(body);
    const req = request(new URL(path, cluster.url), {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        authorization,
      },
    });
    req.end(text);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let answer = '';
    for await (const chunk of res) answer += chunk;
    return { status: res.statusCode ?? 0, text: answer };
  }

  const price = async () => {
    const { text } = await send(
      '/graphql',
      { query: PRICE, variables: { drSid: SAMPLE_DR_SID } },
      `Bearer ${DEMO_TOKEN}`,
    );
    return (JSON.parse(text) as { data?: Cdr }).data?.callDetailRecord?.price;
  };

  it('no worker serves what a call started before the invalidation fetched', async () => {
    answerOldPriceSlowly(simulator);
    const arrived = nextCallArrives();
    const before = watched(price());
    await arrived;
    const invalidation = await send('/cache/invalidate', { drSids: [SAMPLE_DR_SID] }, `Bearer ${ADMIN}`);
    expect(invalidation.status).toBe(200);
    expect(before.settled()).toBe(false);
    expect(await before.promise).toBe(OLD_PRICE);
    // Four new connections: each worker twice, the second time where a kept answer would show.
    for (let i = 0; i < 4; i++) expect(await price()).toBe(NEW_PRICE);
  });
});

describe('concurrent requests for one record not yet cached', () => {
  let h: Harness;
  let uncached: Harness;
  /** How many lookups have reached the record cache: each reads the store first. */
  let reads = 0;
  beforeEach(async () => {
    reads = 0;
    const memory = createMemoryStore(16 * 1024 * 1024);
    const store: CacheStore = {
      ...memory,
      get(key) {
        reads += 1;
        return memory.get(key);
      },
    };
    [h, uncached] = await Promise.all([
      createHarness({ CACHE_TTL_MS: '60000', REQUEST_DEADLINE_MS: '10000' }, { cacheStore: store }),
      createHarness(),
    ]);
  });
  afterEach(() => Promise.all([h.close(), uncached.close()]));

  it('twenty requests selecting different fields cost at most two CarrierX calls, and each gets its fields', async () => {
    const names = CDR_FIELDS.map((field) => field.name).filter((name) => name !== 'drSid');
    const queries = Array.from({ length: 20 }, (_, i) => {
      const picked = [names[i], names[(i + 20) % names.length], names[(i * 7 + 3) % names.length]];
      return `query Pick${i}($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid ${picked.join(' ')} } }`;
    });
    const run = (query: string) => h.execute(query, { drSid: SAMPLE_DR_SID });
    // The first call is slow: the others arrive, in two waves, while it is out.
    h.simulator.faults.add({ times: 1, latencyMs: SLOW_MS });
    const arrived = nextCallArrives();
    const first = watched(run(queries[0] as string));
    await arrived;
    const waves = [queries.slice(1, 11), queries.slice(11)];
    const answers: Promise<Awaited<ReturnType<typeof run>>>[] = [first.promise];
    for (const wave of waves) {
      const before = reads;
      answers.push(...wave.map(run));
      // Every lookup of the wave has reached the cache, and a turn of the event loop has passed (in which a
      // call for them alone would start).
      await vi.waitFor(() => expect(reads).toBe(before + wave.length), { timeout: 5_000, interval: 1 });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(first.settled()).toBe(false);
    const settled = await Promise.all(answers);
    for (const [i, query] of queries.entries()) {
      const expected = await uncached.execute(query, { drSid: SAMPLE_DR_SID });
      expect(settled[i]?.text).toBe(expected.text);
    }
    // The first call, then one for every field the others need that it did not ask for: dr_sid alone twice.
    const asked = h.includeFieldsSeen();
    expect(asked).toHaveLength(2);
    const [one, two] = asked as [string[], string[]];
    expect(two.filter((api) => one.includes(api))).toEqual(['dr_sid']);
  });
});

const OTHER_DR_SID = '00000000-0000-4000-8000-000000000001';
const entry: CacheEntry = {
  drSid: SAMPLE_DR_SID,
  values: { dr_sid: SAMPLE_DR_SID, price: OLD_PRICE },
  invalid: undefined,
  fetchedAt: { dr_sid: 1, price: 1 },
};

/** What every store must do with generations, for the in-process store and Redis alike. */
async function refusesWritesFromBeforeAnInvalidation(store: CacheStore): Promise<void> {
  const key = `fingerprint:${SAMPLE_DR_SID}`;
  const noted = await store.generation(SAMPLE_DR_SID);
  const notedAny = await store.generation(ANY_RECORD);
  const notedOther = await store.generation(OTHER_DR_SID);
  await store.deleteRecord(SAMPLE_DR_SID);
  expect(await store.set(key, entry, 60_000, { scope: SAMPLE_DR_SID, generation: noted })).toBe(false);
  expect(await store.set(key, entry, 60_000, { scope: ANY_RECORD, generation: notedAny })).toBe(false);
  expect(await store.get(key)).toBeUndefined();
  // Another record's invalidation generation is its own.
  const otherKey = `fingerprint:${OTHER_DR_SID}`;
  expect(await store.set(otherKey, entry, 60_000, { scope: OTHER_DR_SID, generation: notedOther })).toBe(
    true,
  );
  // Noted after the invalidation: stored.
  const now = await store.generation(SAMPLE_DR_SID);
  expect(await store.set(key, entry, 60_000, { scope: SAMPLE_DR_SID, generation: now })).toBe(true);
  expect((await store.get(key))?.values).toEqual(entry.values);
}

describe("the stores' invalidation generations", () => {
  it('the in-process store refuses a write that noted the generation before an invalidation', async () => {
    await refusesWritesFromBeforeAnInvalidation(createMemoryStore(1_000_000));
  });

  it('the in-process store still refuses it after forgetting the oldest of many invalidated records', async () => {
    const store = createMemoryStore(1_000_000);
    const noted = store.generation(SAMPLE_DR_SID) as string;
    store.deleteRecord(SAMPLE_DR_SID);
    for (let n = 0; n < 10_001; n++)
      store.deleteRecord(`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`);
    const key = `fingerprint:${SAMPLE_DR_SID}`;
    expect(store.set(key, entry, 60_000, { scope: SAMPLE_DR_SID, generation: noted })).toBe(false);
  });

  describe('on Redis', () => {
    let redis: RedisServer;
    let store: ReturnType<typeof createRedisStore>;
    beforeAll(async () => {
      redis = await startRedisServer();
      store = createRedisStore({
        url: redis.url,
        timeoutMs: 2_000,
        keyPrefix: 'coherence:',
        logger: createLogger({ level: 'silent' }),
      });
      await store.connected;
    });
    afterAll(async () => {
      await store?.close?.();
      await redis?.stop();
    });

    it('refuses a write that noted the generation before an invalidation, and gives each generation a TTL', async () => {
      await refusesWritesFromBeforeAnInvalidation(store);
      const admin = createClient({ url: redis.url });
      await admin.connect();
      try {
        const keys = await admin.keys('coherence:generation:*');
        expect(keys.sort()).toEqual([
          `coherence:generation:${ANY_RECORD}`,
          `coherence:generation:${SAMPLE_DR_SID}`,
        ]);
        for (const key of keys) expect(await admin.pTTL(key)).toBeGreaterThan(0);
        // Redis restarted without its scripts: the conditional write loads it again.
        await admin.scriptFlush();
      } finally {
        await admin.close();
      }
      const key = `fingerprint:${OTHER_DR_SID}`;
      const generation = await store.generation(OTHER_DR_SID);
      expect(await store.set(key, entry, 60_000, { scope: OTHER_DR_SID, generation })).toBe(true);
    });
  });
});
