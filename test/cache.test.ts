import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DESCENDANT_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import type { ServiceError } from '../src/errors.ts';
import { createRequestHandler } from '../src/http/create-request-handler.ts';
import { createCdrCache, createFingerprint, type LookupResult } from '../src/records/cdr-cache.ts';
import { createMemoryStore } from '../src/records/memory-store.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { postGraphQL } from './helpers/post.ts';

interface Cdr {
  callDetailRecord: Record<string, unknown> | null;
}
const PRICE = `query Price($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
const PRICE_AND_DIRECTION = `query PriceDirection($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) { drSid price direction numberSrc }
}`;
const MISSING_SID = '00000000-0000-4000-8000-000000000000';

/** A harness with the cache on and a clock the test moves. */
async function cachedHarness(env: Record<string, string> = {}) {
  const clock = { now: 1_000_000 };
  const lookups: LookupResult[] = [];
  const h = await createHarness(
    { CACHE_TTL_MS: '60000', CACHE_NOT_FOUND_TTL_MS: '5000', CACHE_STALE_IF_ERROR_MS: '300000', ...env },
    { cacheClock: () => clock.now, onCacheLookup: (result) => lookups.push(result) },
  );
  return { h, clock, lookups };
}

const cdrCalls = (h: Harness) => h.simulator.requests.filter((r) => r.path.includes('/calls/call_drs/'));

describe('the CDR cache', () => {
  let h: Harness;
  let clock: { now: number };
  let lookups: LookupResult[];
  beforeEach(async () => {
    ({ h, clock, lookups } = await cachedHarness());
  });
  afterEach(() => h.close());

  it('answers a repeated query from the cache without calling CarrierX again', async () => {
    const first = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    const second = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(second.body.errors).toEqual(first.body.errors);
    expect(second.body.data).toEqual(first.body.data);
    expect(second.body.data).toEqual({ callDetailRecord: { drSid: SAMPLE_DR_SID, price: '0.0025' } });
    expect(cdrCalls(h)).toHaveLength(1);
    expect(lookups).toEqual(['miss', 'hit']);
  });

  it('answers a selection of fewer fields than were fetched from the cache', async () => {
    await h.execute<Cdr, unknown>(PRICE_AND_DIRECTION, { drSid: SAMPLE_DR_SID });
    const narrower = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(narrower.body.data?.callDetailRecord).toEqual({ drSid: SAMPLE_DR_SID, price: '0.0025' });
    expect(cdrCalls(h)).toHaveLength(1);
  });

  it('fetches only the missing fields (and dr_sid) when a query asks for more than the cache holds', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    const wider = await h.execute<Cdr, unknown>(PRICE_AND_DIRECTION, { drSid: SAMPLE_DR_SID });
    expect(wider.body.data?.callDetailRecord).toEqual({
      drSid: SAMPLE_DR_SID,
      price: '0.0025',
      direction: 'INBOUND',
      numberSrc: expect.any(String),
    });
    expect(h.includeFieldsSeen()).toEqual([
      ['dr_sid', 'price'],
      ['direction', 'dr_sid', 'number_src'],
    ]);
    expect(lookups).toEqual(['miss', 'partial']);
    // Now all four are held.
    await h.execute<Cdr, unknown>(PRICE_AND_DIRECTION, { drSid: SAMPLE_DR_SID });
    expect(cdrCalls(h)).toHaveLength(2);
  });

  it('fetches a field again once it is older than CACHE_TTL_MS', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    clock.now += 59_999;
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(cdrCalls(h)).toHaveLength(1);
    clock.now += 1;
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(cdrCalls(h)).toHaveLength(2);
  });

  it('never serves a record one token fetched to another token', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    const other = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID }, { token: DESCENDANT_TOKEN });
    expect(other.body.data?.callDetailRecord?.price).toBe('0.0025');
    expect(cdrCalls(h).map((r) => r.authorization)).toEqual([
      'Bearer carrierx-demo-token',
      `Bearer ${DESCENDANT_TOKEN}`,
    ]);
    // And a token CarrierX refuses is refused, whatever the cache holds for others.
    const refused = await h.execute<Cdr, unknown>(
      PRICE,
      { drSid: SAMPLE_DR_SID },
      { token: 'not-a-real-token' },
    );
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(cdrCalls(h)).toHaveLength(3);
  });

  it('treats spellings of one SID as one record', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    await h.execute<Cdr, unknown>(PRICE, { drSid: `{${SAMPLE_DR_SID.toUpperCase()}}` });
    expect(cdrCalls(h)).toHaveLength(1);
  });

  it('shares one CarrierX call among concurrent requests for the same record, asking for the union of fields', async () => {
    h.simulator.faults.add({ latencyMs: 30 });
    const [a, b] = await Promise.all([
      h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID }),
      h.execute<Cdr, unknown>(PRICE_AND_DIRECTION, { drSid: SAMPLE_DR_SID }),
    ]);
    expect(a.body.data?.callDetailRecord?.price).toBe('0.0025');
    expect(b.body.data?.callDetailRecord?.direction).toBe('INBOUND');
    expect(h.includeFieldsSeen()).toEqual([['direction', 'dr_sid', 'number_src', 'price']]);
  });

  it('does not share a call between concurrent requests with different tokens', async () => {
    await Promise.all([
      h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID }),
      h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID }, { token: DESCENDANT_TOKEN }),
    ]);
    expect(
      cdrCalls(h)
        .map((r) => r.authorization)
        .sort(),
    ).toEqual(['Bearer carrierx-demo-token', `Bearer ${DESCENDANT_TOKEN}`]);
  });

  it('remembers a missing record for CACHE_NOT_FOUND_TTL_MS, then asks CarrierX again', async () => {
    const first = await h.execute<Cdr, unknown>(PRICE, { drSid: MISSING_SID });
    const second = await h.execute<Cdr, unknown>(PRICE, { drSid: MISSING_SID });
    expect(first.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(second.body.errors).toEqual(first.body.errors);
    expect(second.body.data).toEqual(first.body.data);
    expect(cdrCalls(h)).toHaveLength(1);
    clock.now += 5_000;
    await h.execute<Cdr, unknown>(PRICE, { drSid: MISSING_SID });
    expect(cdrCalls(h)).toHaveLength(2);
  });

  it.each([
    ['HTTP 401', { kind: 'status', status: 401 } as const],
    ['HTTP 403', { kind: 'status', status: 403 } as const],
    ['HTTP 429', { kind: 'rate-limit' } as const],
    ['HTTP 500', { kind: 'status', status: 500 } as const],
    ['a malformed body', { kind: 'malformed-json' } as const],
  ])('never caches %s: the next request asks CarrierX again', async (_label, fault) => {
    h.simulator.faults.add({ match: { drSid: SAMPLE_DR_SID }, fault });
    const failed = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(failed.body.errors).toHaveLength(1);
    h.simulator.faults.clear();
    h.simulator.resetLog();
    const next = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(next.body.data?.callDetailRecord?.price).toBe('0.0025');
    expect(cdrCalls(h)).toHaveLength(1);
  });

  it('serves a record from the cache, marked stale with its age, while CarrierX fails', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    clock.now += 90_000;
    h.simulator.faults.add({ fault: { kind: 'status', status: 500 } });
    const stale = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(stale.body).toEqual({
      data: { callDetailRecord: { drSid: SAMPLE_DR_SID, price: '0.0025' } },
      extensions: { stale: [{ path: ['callDetailRecord'], ageSeconds: 90 }] },
    });
    expect(lookups).toEqual(['miss', 'stale']);
  });

  it.each([
    ['a timeout', { kind: 'hang' } as const],
    ['a connection reset', { kind: 'reset' } as const],
    ['HTTP 429', { kind: 'rate-limit' } as const],
    ['HTTP 503', { kind: 'status', status: 503 } as const],
  ])('serves stale records on %s too', async (_label, fault) => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    clock.now += 61_000;
    h.simulator.faults.add({ fault });
    const stale = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(stale.body.data?.callDetailRecord?.price).toBe('0.0025');
    expect(stale.body.extensions).toEqual({ stale: [{ path: ['callDetailRecord'], ageSeconds: 61 }] });
  });

  it.each([
    ['HTTP 401', 401, 'UNAUTHENTICATED'],
    ['HTTP 403', 403, 'FORBIDDEN'],
    ['HTTP 404', 404, 'NOT_FOUND'],
  ])('never serves a stale record on %s: a revoked token or a deleted record', async (_l, status, code) => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    clock.now += 61_000;
    h.simulator.faults.add({ fault: { kind: 'status', status } });
    const refused = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(refused.body.data?.callDetailRecord).toBeNull();
    expect(refused.body.errors?.[0]?.extensions?.code).toBe(code);
    expect(refused.body.extensions?.stale).toBeUndefined();
  });

  it('serves no stale record older than CACHE_STALE_IF_ERROR_MS past its TTL', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    clock.now += 60_000 + 300_000;
    h.simulator.faults.add({ fault: { kind: 'status', status: 500 } });
    const failed = await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(failed.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('refreshes a record on Cache-Control: no-cache and serves the new value after', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    clock.now += 30_000;
    const refreshed = await h.execute<Cdr, unknown>(
      PRICE,
      { drSid: SAMPLE_DR_SID },
      { headers: { 'cache-control': 'no-cache' } },
    );
    expect(refreshed.body.data?.callDetailRecord?.price).toBe('0.0025');
    expect(cdrCalls(h)).toHaveLength(2);
    // The refresh restarted the TTL: 89 s after the first fetch, 59 s after the refresh, it is still fresh.
    clock.now += 59_000;
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(cdrCalls(h)).toHaveLength(2);
  });
});

/** A record cache over a client whose list pages (and, with `holdRecords`, records) wait until the test lets them answer. */
function cacheWithHeldCalls(holdRecords = false) {
  const record = {
    drSid: SAMPLE_DR_SID,
    values: { dr_sid: SAMPLE_DR_SID, price: '1.5' },
    invalid: undefined,
  };
  const releases: (() => void)[] = [];
  const recordCalls: string[][] = [];
  const cache = createCdrCache({
    client: {
      getCallDetailRecord: (_drSid, fields) => {
        recordCalls.push([...fields]);
        return holdRecords
          ? new Promise((resolve) => releases.push(() => resolve(record)))
          : Promise.resolve(record);
      },
      listCallDetailRecords: () =>
        new Promise((resolve) => releases.push(() => resolve({ records: [], hasMore: false, total: 0 }))),
    },
    store: createMemoryStore(1_000_000),
    logger: createLogger({ level: 'silent' }),
    ttlMs: 60_000,
    notFoundTtlMs: 5_000,
    staleIfErrorMs: 0,
  });
  const release = () => {
    for (const answer of releases.splice(0)) answer();
  };
  return { cache, recordCalls, release };
}

/**
 * The order in which a held call (`held`) and a lookup settle, each named by its label: the test's held calls
 * answer once the lookup has settled, or after two seconds if the lookup waits for them.
 */
async function settleOrder(held: Promise<string>, lookup: Promise<string>, release: () => void) {
  const settled: string[] = [];
  const [heldSettled, lookupSettled] = [held, lookup].map((p) => p.then((label) => settled.push(label)));
  const released = setTimeout(release, 2_000);
  await lookupSettled;
  clearTimeout(released);
  release();
  await heldSettled;
  return settled;
}

const reasonOf = (error: ServiceError) => error.reason ?? 'error';

describe('a record lookup beside a page of the list in flight for the same token', () => {
  const TOKEN = 'Bearer shared-fallback-token';
  const PAGE = { limit: 20 };

  it("answers a record the cache holds fresh without waiting for another request's page", async () => {
    const { cache, release } = cacheWithHeldCalls();
    await cache.getCallDetailRecord(SAMPLE_DR_SID, ['dr_sid', 'price'], TOKEN);
    const page = cache.listCallDetailRecords(PAGE, ['dr_sid'], TOKEN).then(() => 'page');
    const hit = cache.getCallDetailRecord(SAMPLE_DR_SID, ['price'], TOKEN).then(() => 'record');
    expect(await settleOrder(page, hit, release)).toEqual(['record', 'page']);
  });

  it("waits for the page no longer than its own request's deadline", async () => {
    const { cache, recordCalls, release } = cacheWithHeldCalls();
    const page = cache.listCallDetailRecords(PAGE, ['dr_sid'], TOKEN).then(() => 'page');
    // 50 ms, far within the two seconds the page is held: only a lookup that waits for the page settles after it.
    const deadlineAt = performance.now() + 50;
    const lookup = cache
      .getCallDetailRecord(SAMPLE_DR_SID, ['price'], TOKEN, { deadlineAt })
      .then(() => 'record', reasonOf);
    expect(await settleOrder(page, lookup, release)).toEqual(['deadline', 'page']);
    // Out of time, it asks CarrierX nothing.
    expect(recordCalls).toEqual([]);
  });

  it('stops waiting for the page as soon as its client disconnects', async () => {
    const { cache, release } = cacheWithHeldCalls();
    const page = cache.listCallDetailRecords(PAGE, ['dr_sid'], TOKEN).then(() => 'page');
    const gone = new AbortController();
    const lookup = cache
      .getCallDetailRecord(SAMPLE_DR_SID, ['price'], TOKEN, { signal: gone.signal })
      .then(() => 'record', reasonOf);
    setImmediate(() => gone.abort());
    expect(await settleOrder(page, lookup, release)).toEqual(['disconnected', 'page']);
  });
});

describe('a record lookup joining a call another request started', () => {
  it("waits for it no longer than its own request's deadline", async () => {
    const { cache, recordCalls, release } = cacheWithHeldCalls(true);
    const TOKEN = 'Bearer shared-fallback-token';
    const first = cache.getCallDetailRecord(SAMPLE_DR_SID, ['price'], TOKEN).then(() => 'first');
    // 50 ms, far within the two seconds the call is held: only a lookup that waits for it settles after it.
    const deadlineAt = performance.now() + 50;
    const joined = cache
      .getCallDetailRecord(SAMPLE_DR_SID, ['price'], TOKEN, { deadlineAt })
      .then(() => 'joined', reasonOf);
    expect(await settleOrder(first, joined, release)).toEqual(['deadline', 'first']);
    expect(recordCalls).toEqual([['dr_sid', 'price']]);
  });
});

describe('the credential fingerprint in cache keys', () => {
  it('is exactly HMAC-SHA-256 of the Authorization value, so keys already in Redis still match', () => {
    const secrets = [
      's',
      'x'.repeat(63),
      'y'.repeat(64),
      'z'.repeat(65),
      'a long shared secret, '.repeat(20),
    ];
    const values = [
      '',
      'Bearer carrierx-demo-token',
      `Bearer ${'t'.repeat(4090)}`,
      `Bearer ${'t'.repeat(5000)}`,
      'Basic ZGVtbzpkZW1v',
      'Bearer é✓',
    ];
    for (const secret of secrets) {
      const fingerprint = createFingerprint(Buffer.from(secret));
      for (const value of values) {
        const expected = createHmac('sha256', secret).update(value).digest('base64url');
        // Twice: the prepared buffers must not keep anything of the value before.
        expect(fingerprint(value)).toBe(expected);
        expect(fingerprint(value)).toBe(expected);
      }
      expect(fingerprint('Bearer a')).not.toBe(fingerprint('Bearer b'));
    }
  });
});

describe('the CDR cache on the fast HTTP path', () => {
  let h: Harness;
  let clock: { now: number };
  let server: Server;
  let port: number;
  beforeAll(async () => {
    ({ h, clock } = await cachedHarness());
    const handler = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 262_144 });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  const post = (body: string) =>
    postGraphQL(port, body, { authorization: 'Bearer carrierx-demo-token' }).then((reply) => reply.text);

  it('reports stale records in extensions.stale there too', async () => {
    const body = JSON.stringify({ query: PRICE, variables: { drSid: SAMPLE_DR_SID } });
    await post(body);
    clock.now += 70_000;
    h.simulator.faults.add({ fault: { kind: 'status', status: 502 } });
    expect(JSON.parse(await post(body))).toEqual({
      data: { callDetailRecord: { drSid: SAMPLE_DR_SID, price: '0.0025' } },
      extensions: { stale: [{ path: ['callDetailRecord'], ageSeconds: 70 }] },
    });
  });
});

describe('the CDR cache configuration', () => {
  it('is on by default, as npm start runs it, with a one-minute TTL', () => {
    const config = loadConfig({});
    expect(config.cache.ttlMs).toBe(60_000);
    expect(config.cache.notFoundTtlMs).toBe(5_000);
    expect(config.cache.staleIfErrorMs).toBe(300_000);
    expect(config.cache.maxBytes).toBe(64 * 1024 * 1024);
  });

  it('requires CACHE_KEY_SECRET in production with REDIS_URL, and never echoes it or the Redis password', () => {
    const production = {
      NODE_ENV: 'production',
      CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2',
      REDIS_URL: 'rediss://:hunter2-password@redis.internal:6380',
    };
    expect(() => loadConfig(production)).toThrow(/CACHE_KEY_SECRET: is required/);
    let message = '';
    try {
      loadConfig({ ...production, CACHE_KEY_SECRET: 'short-secret', REDIS_TIMEOUT_MS: '0' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/CACHE_KEY_SECRET: must be at least 32 characters/);
    expect(message).toMatch(/REDIS_TIMEOUT_MS/);
    expect(message).not.toContain('short-secret');
    expect(message).not.toContain('hunter2');
    const config = loadConfig({ ...production, CACHE_KEY_SECRET: 'x'.repeat(32) });
    expect(config.cache.redisUrl).toBe(production.REDIS_URL);
  });

  it.each([
    ['REDIS_URL', 'http://localhost:6379'],
    ['CACHE_KEY_PREFIX', 'cdr*'],
    ['CACHE_TTL_MS', '-1'],
    ['CACHE_MAX_BYTES', '1e6'],
    ['CACHE_ADMIN_TOKEN', 'short'],
  ])('refuses %s=%s at startup', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });

  it('is off with CACHE_TTL_MS=0: every query calls CarrierX', async () => {
    const h = await createHarness({ CACHE_TTL_MS: '0' });
    try {
      await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
      await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
      expect(cdrCalls(h)).toHaveLength(2);
    } finally {
      await h.close();
    }
  });
});

describe('POST /cache/invalidate', () => {
  const ADMIN = 'cache-admin-token-0123456789';
  let h: Harness;
  beforeEach(async () => {
    ({ h } = await cachedHarness({ CACHE_ADMIN_TOKEN: ADMIN }));
  });
  afterEach(() => h.close());

  const invalidate = (body: unknown, authorization = `Bearer ${ADMIN}`) =>
    h.app.fetch('http://localhost/cache/invalidate', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify(body),
    });

  it('drops the listed records for every token, so the next query calls CarrierX', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID }, { token: DESCENDANT_TOKEN });
    const response = await invalidate({ drSids: [SAMPLE_DR_SID.toUpperCase()] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ invalidated: 1 });
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID }, { token: DESCENDANT_TOKEN });
    expect(cdrCalls(h)).toHaveLength(4);
  });

  it('refuses a caller without the admin token, and drops nothing', async () => {
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    for (const authorization of ['', 'Bearer carrierx-demo-token', `Basic ${ADMIN}`]) {
      const response = await invalidate({ drSids: [SAMPLE_DR_SID] }, authorization);
      expect(response.status).toBe(401);
      expect((await response.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    await h.execute<Cdr, unknown>(PRICE, { drSid: SAMPLE_DR_SID });
    expect(cdrCalls(h)).toHaveLength(1);
  });

  it.each([
    ['no list', {}],
    ['a SID that is not a UUID', { drSids: ['../../x'] }],
    ['a number', { drSids: [1] }],
    ['too many SIDs', { drSids: Array.from({ length: 1001 }, () => SAMPLE_DR_SID) }],
  ])('answers 400 BAD_USER_INPUT to %s', async (_label, body) => {
    const response = await invalidate(body);
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('does not exist without CACHE_ADMIN_TOKEN', async () => {
    const { h: plain } = await cachedHarness();
    try {
      const response = await plain.app.fetch('http://localhost/cache/invalidate', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
        body: JSON.stringify({ drSids: [SAMPLE_DR_SID] }),
      });
      expect(response.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
