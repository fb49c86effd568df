import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createSimulator,
  DEMO_TOKEN,
  DESCENDANT_TOKEN,
  SAMPLE_DR_SID,
  type Simulator,
} from '../src/carrierx/simulator/index.ts';
import { createRedisStore } from '../src/records/redis-store.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';

interface Cdr {
  callDetailRecord: Record<string, unknown> | null;
}
const PRICE = `query Price($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
const WIDER = `query Wider($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price direction dateStart } }`;
const SECRET = 'a-cache-key-secret-of-at-least-32-characters';
const ADMIN = 'cache-admin-token-0123456789';

const cdrCalls = (simulator: Simulator) =>
  simulator.requests.filter((r) => r.path.includes('/calls/call_drs/')).length;

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(() => redis.stop());

/** Every key and value in Redis, as text. */
async function dumpRedis(): Promise<string[]> {
  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    const out: string[] = [];
    for await (const keys of admin.scanIterator({ MATCH: '*' })) {
      for (const key of keys) out.push(key, String(await admin.get(key)), String(await admin.pTTL(key)));
    }
    return out;
  } finally {
    await admin.close();
  }
}

async function flushRedis(): Promise<void> {
  const admin = createClient({ url: redis.url });
  await admin.connect();
  await admin.flushAll();
  await admin.close();
}

describe('the CDR cache on Redis', () => {
  let h: Harness;
  let store: ReturnType<typeof createRedisStore>;
  let clock: { now: number };
  const logs: string[] = [];
  beforeEach(async () => {
    await redis.start(); // a test below stops it
    await flushRedis();
    clock = { now: Date.now() };
    store = createRedisStore({
      url: redis.url,
      // Generous: on a loaded test machine a 250 ms read could time out, and a miss would fail a test.
      timeoutMs: 2_000,
      keyPrefix: 'test:',
      logger: createLogger({ level: 'debug', destination: { write: (line: string) => logs.push(line) } }),
    });
    await store.connected;
    h = await createHarness(
      { CACHE_TTL_MS: '60000', CACHE_KEY_SECRET: SECRET },
      { cacheStore: store, cacheClock: () => clock.now },
    );
  });
  afterEach(async () => {
    await h.close();
    await store.close?.();
  });

  it('answers a repeated query from Redis, with dates intact', async () => {
    const first = await h.execute<Cdr, unknown>(WIDER, { drSid: SAMPLE_DR_SID });
    const second = await h.execute<Cdr, unknown>(WIDER, { drSid: SAMPLE_DR_SID });
    expect(second.text).toBe(first.text);
    expect(first.body.data?.callDetailRecord?.dateStart).toEqual(expect.stringMatching(/^\d{4}-/));
    expect(cdrCalls(h.simulator)).toBe(1);
  });

  it('fetches only the missing fields on a partial hit', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    await h.execute<Cdr, unknown>(WIDER, { drSid: SAMPLE_DR_SID });
    expect(h.includeFieldsSeen()).toEqual([
      ['dr_sid', 'price'],
      ['date_start', 'direction', 'dr_sid'],
    ]);
  });

  it('serves a stale record with extensions.stale while CarrierX fails', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    clock.now += 75_000;
    h.simulator.faults.add({ fault: { kind: 'status', status: 503 } });
    const stale = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(stale.body).toEqual({
      data: { callDetailRecord: { drSid: SAMPLE_DR_SID, price: '0.0025' } },
      extensions: { stale: [{ path: ['callDetailRecord'], ageSeconds: 75 }] },
    });
  });

  it('keeps answering from CarrierX while Redis is stopped, and uses Redis again once it is back', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    await redis.stop();
    for (let i = 0; i < 3; i++) {
      const answer = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
      expect(answer.body.data?.callDetailRecord?.price).toBe('0.0025');
    }
    expect(cdrCalls(h.simulator)).toBe(4);
    // Warned about, but once per kind of trouble, not once per request.
    const warnings = [...logs, ...h.logs]
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((line) => line.level === 40)
      .map((line) => line.msg);
    expect(warnings).toContain('cache read failed; going to CarrierX');
    expect(new Set(warnings).size).toBe(warnings.length);
    await redis.start();
    // The client reconnects by itself (backoff of at most 2 s): wait until an answer lands in Redis.
    await vi.waitFor(
      async () => {
        await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
        expect((await dumpRedis()).length).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 200 },
    );
    h.simulator.resetLog();
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(cdrCalls(h.simulator)).toBe(0);
  });

  it('keeps no token or Authorization value in any Redis key or value, and gives every key a TTL', async () => {
    await h.execute<Cdr, unknown>(WIDER, { drSid: SAMPLE_DR_SID });
    await h.execute<Cdr, unknown>(WIDER, { drSid: SAMPLE_DR_SID }, { token: DESCENDANT_TOKEN });
    const dump = await dumpRedis();
    expect(dump.length).toBe(6);
    for (let i = 0; i < dump.length; i += 3) {
      expect(dump[i]).toMatch(/^test:cdr:/);
      expect(Number(dump[i + 2])).toBeGreaterThan(0);
    }
    const text = dump.join('\n');
    for (const secret of [DEMO_TOKEN, DESCENDANT_TOKEN, 'Bearer', SECRET]) expect(text).not.toContain(secret);
  });
});

describe('two server processes sharing one Redis', () => {
  let simulator: Simulator;
  let first: ServerProcess;
  let second: ServerProcess;
  beforeAll(async () => {
    await redis.start();
    await flushRedis();
    simulator = createSimulator();
    const baseUrl = await simulator.listen(0, '127.0.0.1');
    const env = {
      CARRIERX_BASE_URL: baseUrl,
      REDIS_URL: redis.url,
      CACHE_KEY_SECRET: SECRET,
      CACHE_ADMIN_TOKEN: ADMIN,
      HTTP_FAST_PATH: 'true',
    };
    [first, second] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await simulator?.close();
  });

  async function query(server: ServerProcess, token = DEMO_TOKEN) {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: PRICE, variables: { drSid: SAMPLE_DR_SID } }),
    });
    return (await response.json()) as { data?: Cdr };
  }

  it('a record fetched through one costs the other no CarrierX call; another token costs one', async () => {
    expect((await query(first)).data?.callDetailRecord?.price).toBe('0.0025');
    expect(cdrCalls(simulator)).toBe(1);
    expect((await query(second)).data?.callDetailRecord?.price).toBe('0.0025');
    expect(cdrCalls(simulator)).toBe(1);
    await query(second, DESCENDANT_TOKEN);
    expect(cdrCalls(simulator)).toBe(2);
  });

  it('an invalidation sent to one process reaches both', async () => {
    simulator.resetLog();
    await query(first);
    expect(cdrCalls(simulator)).toBe(0);
    const response = await fetch(new URL('/cache/invalidate', first.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ drSids: [SAMPLE_DR_SID] }),
    });
    expect(response.status).toBe(200);
    await query(second);
    expect(cdrCalls(simulator)).toBe(1);
    await query(first);
    expect(cdrCalls(simulator)).toBe(1);
  });
});
