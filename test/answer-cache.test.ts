import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createSimulator,
  DEMO_TOKEN,
  DESCENDANT_TOKEN,
  SAMPLE_DR_SID,
  type Simulator,
} from '../src/carrierx/simulator/index.ts';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { createRequestHandler, type RequestHandler } from '../src/http/create-request-handler.ts';
import type { LookupResult } from '../src/records/cdr-cache.ts';
import { createRedisStore, stampOf } from '../src/records/redis-store.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { metricsRegistry } from '../src/telemetry/metrics.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { postGraphQL, type Reply } from './helpers/post.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';

const PRICE = `query Price($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
const LIST = `query Page { callDetailRecords(first: 2) { nodes { drSid price } } }`;
const MISSING_SID = '00000000-0000-4000-8000-000000000000';
const ADMIN = 'cache-admin-token-0123456789';
const SECRET = 'a-cache-key-secret-of-at-least-32-characters';
const priceBody = (drSid = SAMPLE_DR_SID) => JSON.stringify({ query: PRICE, variables: { drSid } });

/** A POST to `port` as a server or gateway sends it (the fast path's shape), with the demo token. */
function post(port: number, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  return postGraphQL(port, body, { authorization: `Bearer ${DEMO_TOKEN}`, ...headers });
}

const cdrCalls = (simulator: Simulator) =>
  simulator.requests.filter((r) => r.path.includes('/calls/call_drs')).length;

async function answerLookups(result: 'hit' | 'miss'): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('graphql_answer_cache_lookups_total')?.get();
  return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

async function operationsCounted(name: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('graphql_operations_total')?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels.name === name && v.labels.outcome === 'ok')
    .reduce((sum, v) => sum + v.value, 0);
}

describe('the answer cache', () => {
  let h: Harness;
  let clock: { now: number };
  let lookups: LookupResult[];
  let handler: RequestHandler;
  let server: Server;
  let port: number;

  async function start(env: Record<string, string> = {}) {
    clock = { now: 1_000_000 };
    lookups = [];
    h = await createHarness(
      { CACHE_TTL_MS: '60000', CACHE_ADMIN_TOKEN: ADMIN, ACCESS_LOG: 'true', ...env },
      { cacheClock: () => clock.now, onCacheLookup: (result) => lookups.push(result) },
    );
    handler = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 262_144 });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }
  beforeEach(() => start());
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  const accessLines = () =>
    h.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'operation');

  it('answers a repeated query with the same bytes and headers, without CarrierX or running GraphQL again', async () => {
    const first = await post(port, priceBody(), { 'x-request-id': 'first' });
    const countedBefore = await operationsCounted('Price');
    const [hitsBefore, missesBefore] = [await answerLookups('hit'), await answerLookups('miss')];
    const second = await post(port, priceBody(), { 'x-request-id': 'second' });
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(JSON.parse(second.text)).toEqual({
      data: { callDetailRecord: { drSid: SAMPLE_DR_SID, price: '0.0025' } },
    });
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.headers['content-length']).toBe(first.headers['content-length']);
    expect(second.headers['x-request-id']).toBe('second');
    expect(cdrCalls(h.simulator)).toBe(1);
    expect(handler.stats.answered).toBe(1);
    // The on-call engineer sees it as the operation it stands for: one access-log line, counted, a record hit.
    const lines = accessLines();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      requestId: 'second',
      operation: 'Price',
      type: 'query',
      errors: [],
      upstreamCalls: 0,
      answerCache: 'hit',
    });
    expect(lines[0]).not.toHaveProperty('answerCache');
    expect(await operationsCounted('Price')).toBe(countedBefore + 1);
    expect(await answerLookups('hit')).toBe(hitsBefore + 1);
    expect(await answerLookups('miss')).toBe(missesBefore);
    expect(lookups).toEqual(['miss', 'hit']);
  });

  it("never serves one token's answer to another token", async () => {
    await post(port, priceBody());
    const other = await post(port, priceBody(), { authorization: `Bearer ${DESCENDANT_TOKEN}` });
    expect(JSON.parse(other.text).data.callDetailRecord.price).toBe('0.0025');
    expect(handler.stats.answered).toBe(0);
    expect(h.simulator.requests.map((r) => r.authorization)).toEqual([
      `Bearer ${DEMO_TOKEN}`,
      `Bearer ${DESCENDANT_TOKEN}`,
    ]);
    // A token CarrierX refuses gets CarrierX's refusal, not the cached answer.
    const refused = await post(port, priceBody(), { authorization: 'Bearer not-a-real-token' });
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(handler.stats.answered).toBe(0);
  });

  it.each([
    ['Cache-Control: no-cache', { 'cache-control': 'no-cache' }],
    ['Pragma: no-cache', { pragma: 'no-cache' }],
  ])('recomputes on %s and keeps the new answer for the next request', async (_label, headers) => {
    await post(port, priceBody());
    // CarrierX's record changed meanwhile: the refresh must show it, and the next plain request too.
    h.simulator.faults.add({ times: 1, fault: { kind: 'raw-values', values: { price: '"0.0099"' } } });
    const refreshed = await post(port, priceBody(), headers);
    expect(JSON.parse(refreshed.text).data.callDetailRecord.price).toBe('0.0099');
    expect(cdrCalls(h.simulator)).toBe(2);
    expect(handler.stats.answered).toBe(0);
    const next = await post(port, priceBody());
    expect(next.text).toBe(refreshed.text);
    expect(handler.stats.answered).toBe(1);
    expect(cdrCalls(h.simulator)).toBe(2);
  });

  it('recomputes the answer after POST /cache/invalidate drops its record', async () => {
    await post(port, priceBody());
    await post(port, priceBody());
    expect(handler.stats.answered).toBe(1);
    const response = await h.app.fetch('http://localhost/cache/invalidate', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ drSids: [SAMPLE_DR_SID] }),
    });
    expect(response.status).toBe(200);
    await post(port, priceBody());
    expect(handler.stats.answered).toBe(1);
    expect(cdrCalls(h.simulator)).toBe(2);
  });

  it('recomputes the answer once its records are older than CACHE_TTL_MS', async () => {
    await post(port, priceBody());
    clock.now += 59_999;
    await post(port, priceBody());
    expect(handler.stats.answered).toBe(1);
    clock.now += 1;
    await post(port, priceBody());
    expect(handler.stats.answered).toBe(1);
    expect(cdrCalls(h.simulator)).toBe(2);
  });

  it('recomputes the answer when CarrierX refuses the token, which drops its record', async () => {
    await post(port, priceBody());
    // A refresh that CarrierX answers 401: the credential's record entry is dropped (the cache's rule), so the
    // kept answer is no longer current either.
    h.simulator.faults.add({ times: 1, fault: { kind: 'status', status: 401 } });
    const refused = await post(port, priceBody(), { 'cache-control': 'no-cache' });
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    await post(port, priceBody());
    expect(handler.stats.answered).toBe(0);
    expect(cdrCalls(h.simulator)).toBe(3);
  });

  it.each([
    ['a record CarrierX does not have', priceBody(MISSING_SID)],
    ['a field that does not exist', JSON.stringify({ query: '{ callDetailRecord(drSid: "x") { nope } }' })],
    ['a page of the list', JSON.stringify({ query: LIST })],
  ])('never keeps the answer to %s', async (_label, body) => {
    const first = await post(port, body);
    const second = await post(port, body);
    // The same errors each time (the request ids differ), each computed anew.
    expect(JSON.parse(second.text).errors).toEqual(JSON.parse(first.text).errors);
    expect(handler.stats.answered).toBe(0);
  });

  it('never keeps a stale answer served while CarrierX fails', async () => {
    await post(port, priceBody());
    clock.now += 70_000;
    h.simulator.faults.add({ fault: { kind: 'status', status: 502 } });
    const stale = await post(port, priceBody());
    expect(JSON.parse(stale.text).extensions.stale).toEqual([{ path: ['callDetailRecord'], ageSeconds: 70 }]);
    await post(port, priceBody());
    expect(handler.stats.answered).toBe(0);
  });

  it('is off with CACHE_ANSWERS=false: every repeated query runs GraphQL again', async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
    await start({ CACHE_ANSWERS: 'false' });
    await post(port, priceBody());
    await post(port, priceBody());
    expect(handler.stats.answered).toBe(0);
    expect(cdrCalls(h.simulator)).toBe(1);
  });
});

describe('the answer cache over a Redis record store', () => {
  let redis: RedisServer;
  let h: Harness;
  let store: ReturnType<typeof createRedisStore>;
  let handler: RequestHandler;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    redis = await startRedisServer();
    await redis.start();
    store = createRedisStore({
      url: redis.url,
      timeoutMs: 2_000,
      keyPrefix: 'answers:',
      logger: createLogger({ level: 'silent' }),
    });
    await store.connected;
    h = await createHarness({ CACHE_TTL_MS: '60000', CACHE_KEY_SECRET: SECRET }, { cacheStore: store });
    handler = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 262_144 });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }, 60_000);
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await h?.close();
    await store?.close?.();
    await redis?.stop();
  });

  it('checks every record of a kept answer in Redis, and recomputes when one of them is gone', async () => {
    const other = [...h.simulator.records.keys()].find((sid) => sid !== SAMPLE_DR_SID) as string;
    const body = JSON.stringify({
      query: `query Two($a: UUID!, $b: UUID!) { a: callDetailRecord(drSid: $a) { price } b: callDetailRecord(drSid: $b) { direction } }`,
      variables: { a: SAMPLE_DR_SID, b: other },
    });
    const first = await post(port, body);
    expect(JSON.parse(first.text).errors).toBeUndefined();
    expect((await post(port, body)).text).toBe(first.text);
    expect(handler.stats.answered).toBe(1);
    expect(cdrCalls(h.simulator)).toBe(2);
    // Only the second record dropped: the answer depended on both.
    await store.deleteRecord(other);
    expect((await post(port, body)).text).toBe(first.text);
    expect(handler.stats.answered).toBe(1);
    expect(cdrCalls(h.simulator)).toBe(3);
    expect((await post(port, body)).text).toBe(first.text);
    expect(handler.stats.answered).toBe(2);
  });
});

describe("the Redis store's entry stamps", () => {
  it('reads when each field was fetched, and a 404, whatever the values hold', () => {
    const hostile = '"fetchedAt":{"price":1}, "notFoundAt":2 }';
    const entry = {
      drSid: SAMPLE_DR_SID,
      values: { price: hostile, number_src: '\\"' },
      invalid: { direction: hostile },
      fetchedAt: { price: 1_700_000_000_123, number_src: 1_700_000_000_456 },
    };
    expect(stampOf(JSON.stringify(entry))).toEqual({ fetchedAt: entry.fetchedAt });
    const notFound = { drSid: SAMPLE_DR_SID, values: {}, fetchedAt: {}, notFoundAt: 1_700_000_000_789 };
    expect(stampOf(JSON.stringify(notFound))).toEqual({ fetchedAt: {}, notFoundAt: 1_700_000_000_789 });
  });
});

describe('the answer cache configuration', () => {
  it('is on by default and refuses a CACHE_ANSWERS that is not a yes or no', () => {
    expect(loadConfig({}).cache.answers).toBe(true);
    expect(loadConfig({ CACHE_ANSWERS: 'false' }).cache.answers).toBe(false);
    expect(() => loadConfig({ CACHE_ANSWERS: 'maybe' })).toThrow(ConfigError);
  });
});

describe('the answer cache with two server processes sharing one Redis', () => {
  let redis: RedisServer;
  let simulator: Simulator;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    redis = await startRedisServer();
    await redis.start();
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.flushAll();
    await admin.close();
    simulator = createSimulator();
    const baseUrl = await simulator.listen(0, '127.0.0.1');
    const env = {
      CARRIERX_BASE_URL: baseUrl,
      REDIS_URL: redis.url,
      CACHE_KEY_SECRET: SECRET,
      HTTP_FAST_PATH: 'true',
      ACCESS_LOG: 'true',
      LOG_LEVEL: 'info',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await simulator?.close();
    await redis?.stop();
  });

  const portOf = (server: ServerProcess) => Number(new URL(server.url).port);
  let requests = 0;
  /** The price `server` answers, and whether its access-log line says it came from the answer cache. */
  async function price(server: ServerProcess, headers: Record<string, string> = {}) {
    const requestId = `answer-test-${++requests}`;
    const reply = await post(portOf(server), priceBody(), { 'x-request-id': requestId, ...headers });
    // The line is written after the answer, by another process: wait for it to arrive.
    const line = await vi.waitFor(() => {
      const found = server.output.split('\n').find((l) => l.includes(`"requestId":"${requestId}"`));
      expect(found).toBeDefined();
      return JSON.parse(found as string) as { answerCache?: string };
    });
    return {
      price: JSON.parse(reply.text).data.callDetailRecord.price as string,
      fromAnswerCache: line.answerCache === 'hit',
    };
  }

  it('serves the new value in one process as soon as the other refreshed the record CarrierX changed', async () => {
    expect(await price(a)).toEqual({ price: '0.0025', fromAnswerCache: false });
    expect(await price(a)).toEqual({ price: '0.0025', fromAnswerCache: true });
    expect(cdrCalls(simulator)).toBe(1);
    simulator.faults.add({ times: 1, fault: { kind: 'raw-values', values: { price: '"0.0099"' } } });
    expect(await price(b, { 'cache-control': 'no-cache' })).toEqual({
      price: '0.0099',
      fromAnswerCache: false,
    });
    expect(cdrCalls(simulator)).toBe(2);
    // A's kept answer depended on the Redis entry B just replaced: A recomputes, from Redis, with no call.
    expect(await price(a)).toEqual({ price: '0.0099', fromAnswerCache: false });
    expect(cdrCalls(simulator)).toBe(2);
    expect(await price(a)).toEqual({ price: '0.0099', fromAnswerCache: true });
  });

  it('still answers, from CarrierX, while Redis is stopped', async () => {
    await price(a);
    await redis.stop();
    try {
      simulator.resetLog();
      // The kept answer cannot be checked against Redis, so it is not served: CarrierX answers (its real value).
      expect(await price(a)).toEqual({ price: '0.0025', fromAnswerCache: false });
      expect(await price(a)).toEqual({ price: '0.0025', fromAnswerCache: false });
      expect(cdrCalls(simulator)).toBe(2);
    } finally {
      await redis.start();
    }
  });
});
