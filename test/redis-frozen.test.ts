import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSimulator, DEMO_TOKEN, type Simulator } from '../src/carrierx/simulator/index.ts';
import type { CacheEntry } from '../src/records/entry.ts';
import { createRedisStore } from '../src/records/redis-store.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { freePort } from './helpers/free-port.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';
import { alive, type ServerProcess, startServerProcess } from './helpers/server-process.ts';

// A Redis that stops answering without closing its connections (SIGSTOP: a stalled host, a long fork, a paused
// container) must cost each Redis step at most REDIS_TIMEOUT_MS, and a request never more than its deadline.

const REDIS_TIMEOUT_MS = 250;
const REQUEST_DEADLINE_MS = 2_000;
const FREEZE_MS = 3_000;
const SECRET = 'a-cache-key-secret-of-at-least-32-characters';
const LIST = `query Page { callDetailRecords(first: 12) { nodes { drSid price direction } } }`;
const RECORD = `query Record($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price direction } }`;
// Not asked before the freeze, so not in the answer cache: these go straight to the record cache.
const PRICE = `query Price($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
// Asks for a field the record cache does not hold: a lookup that goes on to CarrierX once the read is done.
const MISSING_SID = '00000000-0000-4000-8000-000000000000';
const DURATION = `query Duration($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price duration } }`;

describe('a server whose Redis freezes (SIGSTOP)', () => {
  let redis: RedisServer;
  let simulator: Simulator;
  let server: ServerProcess;
  let metricsPort: number;
  let frozenPid = 0;

  beforeAll(async () => {
    redis = await startRedisServer();
    simulator = createSimulator();
    const baseUrl = await simulator.listen(0, '127.0.0.1');
    metricsPort = await freePort();
    server = await startServerProcess({
      CARRIERX_BASE_URL: baseUrl,
      REDIS_URL: redis.url,
      REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
      REQUEST_DEADLINE_MS: String(REQUEST_DEADLINE_MS),
      CACHE_KEY_SECRET: SECRET,
      METRICS_PORT: String(metricsPort),
    });
  }, 60_000);
  afterAll(async () => {
    // Always thawed before it is stopped: a stopped process does not act on SIGTERM.
    try {
      if (frozenPid && alive(frozenPid)) process.kill(frozenPid, 'SIGCONT');
    } finally {
      await server?.stop();
      await simulator?.close();
      await redis?.stop();
    }
  });

  async function query(body: string, signal?: AbortSignal): Promise<{ status: number; answer: unknown }> {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
      body,
      ...(signal ? { signal } : {}),
    });
    return { status: response.status, answer: await response.json() };
  }

  const recordBody = (drSid: string) => JSON.stringify({ query: RECORD, variables: { drSid } });
  const priceBody = (drSid: string) => JSON.stringify({ query: PRICE, variables: { drSid } });
  const durationBody = (drSid: string) => JSON.stringify({ query: DURATION, variables: { drSid } });

  /** The server's /metrics, and one sample's value in it (NaN when absent or unreachable). */
  async function metrics(): Promise<string> {
    return fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      .then((response) => response.text())
      .catch(() => '');
  }
  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
  };
  const ERROR_LOOKUPS = 'cdr_cache_lookups_total{result="error"}';

  it('answers every request from CarrierX within its deadline, and lives on once Redis thaws', async () => {
    // The records, and what each answers, while Redis is well: these are also now in Redis and the answer cache.
    const listed = (await query(JSON.stringify({ query: LIST }))).answer as {
      data: { callDetailRecords: { nodes: { drSid: string; price: string; direction: string }[] } };
    };
    const records = listed.data.callDetailRecords.nodes;
    expect(records).toHaveLength(12);
    for (const record of records) {
      expect(await query(recordBody(record.drSid))).toEqual({
        status: 200,
        answer: { data: { callDetailRecord: record } },
      });
    }
    const before = await metrics();

    simulator.resetLog();
    frozenPid = redis.pid;
    process.kill(frozenPid, 'SIGSTOP');
    // Thawed on time whatever the requests do (on a server that waits for Redis, they wait for this).
    let thawedAt = Number.POSITIVE_INFINITY;
    const thawed = sleep(FREEZE_MS).then(() => {
      process.kill(frozenPid, 'SIGCONT');
      frozenPid = 0;
      thawedAt = performance.now();
    });
    type Reply = { ms: number; at: number; reply: { status: number; answer: unknown }; expected: unknown };
    const answered: Promise<Reply>[] = [];
    const abandoned: Promise<unknown>[] = [];
    // Two waves of 24 clients, one as the freeze starts and one a second into it, asking for answers kept
    // whole (RECORD) and not (PRICE). Every third client gives up (disconnects) after 100 ms, in the first wave
    // while its request still waits on Redis, having asked for a field that needs CarrierX (DURATION): that call is then made for
    // nobody, and its failure (past the request's deadline, or a 404) must be handled all the same.
    for (const wave of [0, 1]) {
      if (wave === 1) await sleep(1_000);
      for (let i = 0; i < 24; i++) {
        const record = records[(i + wave) % records.length] as (typeof records)[number];
        if (i % 3 === 2) {
          const drSid = i % 2 === 0 ? MISSING_SID : record.drSid;
          abandoned.push(query(durationBody(drSid), AbortSignal.timeout(100)).catch(() => 'aborted'));
          continue;
        }
        const whole = i % 2 === 0;
        const expected = whole ? record : { drSid: record.drSid, price: record.price };
        const started = performance.now();
        answered.push(
          query(whole ? recordBody(record.drSid) : priceBody(record.drSid)).then((reply) => ({
            ms: performance.now() - started,
            at: performance.now(),
            reply,
            expected,
          })),
        );
      }
    }
    const settled = await Promise.allSettled(answered);
    await Promise.all(abandoned);
    const frozen = await metrics();
    await thawed;
    // An unhandled rejection ends the server (Node's default): the first thing to look at.
    expect(alive(server.pid), `the server exited:\n${server.output}`).toBe(true);
    for (const outcome of settled) {
      expect(outcome.status).toBe('fulfilled');
      if (outcome.status !== 'fulfilled') continue;
      const { reply, expected, ms, at } = outcome.value;
      expect(reply).toEqual({ status: 200, answer: { data: { callDetailRecord: expected } } });
      expect(ms).toBeLessThan(REQUEST_DEADLINE_MS);
      // Answered while Redis was still frozen: from CarrierX, not from Redis once it thawed.
      expect(at).toBeLessThan(thawedAt);
      const { drSid } = expected as { drSid: string };
      expect(simulator.requests.some((r) => r.path.endsWith(`/calls/call_drs/${drSid}`))).toBe(true);
    }
    // Redis counted as down: lookups that found it so are errors, and its commands timed out.
    expect(sample(frozen, ERROR_LOOKUPS)).toBeGreaterThan(sample(before, ERROR_LOOKUPS));
    expect(sample(before, 'cdr_cache_redis_up')).toBe(1);
    expect(sample(frozen, 'cdr_cache_redis_up')).toBe(0);
    expect(sample(frozen, 'cdr_cache_redis_seconds_count{outcome="timeout"}')).toBeGreaterThan(0);

    // Whatever waited on Redis while frozen settles now; and whatever the abandoned requests left running has
    // passed its deadline by the time this wait ends.
    await sleep(REQUEST_DEADLINE_MS);
    expect(alive(server.pid), `the server exited:\n${server.output}`).toBe(true);
    const record = records[0] as (typeof records)[number];
    expect(await query(recordBody(record.drSid))).toEqual({
      status: 200,
      answer: { data: { callDetailRecord: record } },
    });
    expect(sample(await metrics(), 'cdr_cache_redis_up')).toBe(1);
    expect(server.output).not.toMatch(/unhandled/i);
  }, 30_000);
});

describe('the Redis store while its Redis is frozen (SIGSTOP)', () => {
  let redis: RedisServer;
  let frozenPid = 0;
  const logs: string[] = [];
  const entry: CacheEntry = {
    drSid: 'a',
    values: { price: '0.0025' },
    invalid: undefined,
    fetchedAt: { price: 1 },
  };

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    try {
      if (frozenPid && alive(frozenPid)) process.kill(frozenPid, 'SIGCONT');
    } finally {
      await redis?.stop();
    }
  });

  function freeze(): void {
    frozenPid = redis.pid;
    process.kill(frozenPid, 'SIGSTOP');
  }
  function thaw(): void {
    if (frozenPid) process.kill(frozenPid, 'SIGCONT');
    frozenPid = 0;
  }
  const newStore = () =>
    createRedisStore({
      url: redis.url,
      timeoutMs: REDIS_TIMEOUT_MS,
      keyPrefix: 'frozen:',
      logger: createLogger({ level: 'info', destination: { write: (line: string) => logs.push(line) } }),
    });

  it('fails a command after REDIS_TIMEOUT_MS, then every one at once, and is used again once Redis answers', async () => {
    const store = newStore();
    try {
      await store.connected;
      await store.set('k', entry, 60_000);
      freeze();
      const startedAt = performance.now();
      await expect(store.get('k')).rejects.toThrow(`Redis did not answer within ${REDIS_TIMEOUT_MS} ms`);
      // Not sent: each fails without waiting on the frozen connection again.
      await expect(store.stamps?.(['k', 'j'])).rejects.toThrow('Redis is not answering');
      await expect(store.set('k', entry, 60_000)).rejects.toThrow('Redis is not answering');
      await expect(store.deleteRecord('a')).rejects.toThrow('Redis is not answering');
      // One timeout, and the rest at once: far below two (the bound is generous for a loaded machine).
      expect(performance.now() - startedAt).toBeLessThan(2 * REDIS_TIMEOUT_MS + 1_000);
      expect(logs.join('')).toContain('Redis unavailable; the cache is bypassed');
      thaw();
      // The PING sent while frozen is answered now, and commands are sent again.
      await vi.waitFor(async () => expect(await store.get('k')).toEqual(entry), { timeout: 5_000 });
      expect(logs.join('')).toContain('Redis is back; the cache is in use again');
    } finally {
      thaw();
      await store.close?.();
    }
  });

  it('closes within REDIS_TIMEOUT_MS, with a command still waiting for its answer', async () => {
    const store = newStore();
    await store.connected;
    freeze();
    try {
      const pending = Promise.resolve(store.get('k')).catch((error: Error) => error.message);
      const startedAt = performance.now();
      await store.close?.();
      expect(performance.now() - startedAt).toBeLessThan(REDIS_TIMEOUT_MS + 1_000);
      // Failed by its own timeout or by the close that drops the socket, whichever comes first.
      expect(await pending).toMatch(/Redis did not answer|closed|destroyed|disconnects/i);
    } finally {
      thaw();
    }
  });
});
