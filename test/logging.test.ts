import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createRequestHandler } from '../src/http/create-request-handler.ts';
import { createMemoryStore } from '../src/records/memory-store.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { postGraphQL } from './helpers/post.ts';

interface LogLine {
  level: number;
  msg?: string;
  pid?: number;
  err?: { stack?: string };
  [field: string]: unknown;
}

const INFO = 30;
const WARN = 40;
const ERROR = 50;
const ONE_RECORD = `query One($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
const MALFORMED = '{"query": ';
const ADMIN_TOKEN = 'an-admin-token-of-this-test-file-only';

const parsed = (h: Harness): LogLine[] => h.logs.map((line) => JSON.parse(line) as LogLine);
/** What an operator sees at the default level (info), debug lines left out. */
const visible = (h: Harness) => parsed(h).filter((line) => line.level >= INFO);

/** Sends `body` as a JSON POST over a real socket, through the fast path's handler. */
const postOverSocket = (port: number, body: string) => postGraphQL(port, body).then((reply) => reply.status);

// Yoga reports a request it refuses to the logger only when its masking replaced the error: in production our
// masking does (it drops the body the parser quotes back), so that is where a malformed body is logged at all.
describe.each([
  ['development', {}, 0],
  ['production', { NODE_ENV: 'production' }, 1],
])('client mistakes in %s', (_mode, env, refusalLines) => {
  let h: Harness;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    h = await createHarness(env);
    server = createServer(createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });
  beforeEach(() => {
    h.logs.length = 0;
  });

  it('logs a malformed JSON body once, at info, without a stack', async () => {
    const res = await h.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: MALFORMED,
    });
    expect(res.status).toBe(400);
    const lines = visible(h);
    expect(lines).toHaveLength(refusalLines);
    for (const line of lines) expect(line).toMatchObject({ level: INFO, code: 'BAD_REQUEST' });
    expect(h.logs.join('\n')).not.toContain('"stack"');
  });

  it('logs a malformed JSON body sent to the fast path once, at info, without a stack', async () => {
    expect(await postOverSocket(port, MALFORMED)).toBe(400);
    const lines = visible(h);
    expect(lines).toHaveLength(refusalLines);
    for (const line of lines) expect(line).toMatchObject({ level: INFO, code: 'BAD_REQUEST' });
    expect(h.logs.join('\n')).not.toContain('"stack"');
  });

  it('logs a record CarrierX does not have (404) once, at info, without a stack', async () => {
    h.simulator.faults.clear();
    const res = await h.execute(ONE_RECORD, { drSid: '00000000-0000-4000-8000-000000000000' });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const lines = visible(h);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: INFO, status: 404 });
    expect(h.logs.join('\n')).not.toContain('"stack"');
  });
});

describe('CarrierX failures', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.simulator.faults.clear();
    h.logs.length = 0;
  });

  it('logs each failed attempt of a 503 at warn with its attempt number, and the giving up once', async () => {
    h.simulator.faults.add({ match: { drSid: UNANSWERED_DR_SID }, fault: { kind: 'status', status: 503 } });
    const res = await h.execute(ONE_RECORD, { drSid: UNANSWERED_DR_SID });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    const lines = visible(h);
    expect(lines.every((line) => line.level === WARN)).toBe(true);
    expect(lines.filter((line) => line.status === 503).map((line) => line.attempt)).toEqual([1, 2, 3]);
    const givingUp = lines.filter((line) => line.status !== 503);
    expect(givingUp).toHaveLength(1);
    expect(givingUp[0]).toMatchObject({ attempts: 3, code: 'UPSTREAM_UNAVAILABLE' });
    expect(h.logs.join('\n')).not.toContain('"stack"');
  });

  it('logs a 429 at warn, not like a 404', async () => {
    h.simulator.faults.add({ fault: { kind: 'rate-limit', retryAfter: '120' } });
    const res = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const lines = visible(h);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: WARN, status: 429, attempt: 1 });
  });
});

describe('unexpected errors', () => {
  it('logs an unexpected error once, at error, with its stack', async () => {
    const h = await createHarness();
    try {
      h.client.getCallDetailRecord = () => Promise.reject(new TypeError('a bug in this service'));
      const res = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID });
      expect(res.body.errors?.[0]?.message).toBe('Unexpected error.');
      const lines = visible(h);
      expect(lines).toHaveLength(1);
      expect(lines[0]?.level).toBe(ERROR);
      expect(lines[0]?.err?.stack).toContain('TypeError: a bug in this service');
    } finally {
      await h.close();
    }
  });
});

describe('every log line', () => {
  it('carries the process id', async () => {
    const h = await createHarness();
    try {
      await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID });
      await h.app.fetch('http://localhost/graphql', { method: 'POST', body: MALFORMED });
      const lines = parsed(h);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.pid).toBe(process.pid);
    } finally {
      await h.close();
    }
  });
});

describe('lines about a request, from the cache', () => {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  /** The record store; while `failing`, every read of it fails as an unreachable Redis would. */
  let failing = false;
  let h: Harness;
  beforeAll(async () => {
    const store = createMemoryStore(8 * 1024 * 1024, () => clock.now);
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'get' && failing) return () => Promise.reject(new Error('connection refused'));
        return Reflect.get(target, property, receiver);
      },
    });
    h = await createHarness(
      { CACHE_TTL_MS: '60000', ACCESS_LOG: 'true', CACHE_ADMIN_TOKEN: ADMIN_TOKEN },
      { cacheStore: flaky, cacheClock: () => clock.now },
    );
  });
  afterAll(() => h.close());
  beforeEach(() => {
    failing = false;
    h.simulator.faults.clear();
    h.logs.length = 0;
  });
  const withId = (requestId: string) => ({ headers: { 'x-request-id': requestId } });

  it('ties "served a stale record" to its request, and the access line says the record was stale', async () => {
    await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID });
    clock.now += 90_000;
    h.simulator.faults.add({ fault: { kind: 'status', status: 500 } });
    h.logs.length = 0;
    const res = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, withId('stale-1'));
    expect(res.body.extensions?.stale).toHaveLength(1);
    const lines = parsed(h);
    expect(lines.find((line) => line.msg === 'CarrierX failing: served a stale record')).toMatchObject({
      requestId: 'stale-1',
    });
    expect(lines.find((line) => line.msg === 'operation')).toMatchObject({
      requestId: 'stale-1',
      staleRecords: 1,
    });
  });

  it('says on the access line how many records the record cache answered without calling CarrierX', async () => {
    await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, withId('first'));
    await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, withId('second'));
    const access = parsed(h).filter((line) => line.msg === 'operation');
    expect(access.find((line) => line.requestId === 'first')).not.toHaveProperty('recordCacheHits');
    expect(access.find((line) => line.requestId === 'second')).toMatchObject({
      upstreamCalls: 0,
      recordCacheHits: 1,
    });
  });

  it('ties "cache read failed" to the request that met the failure', async () => {
    failing = true;
    const res = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, withId('store-down-1'));
    expect(res.body.data).toBeTruthy();
    const warning = parsed(h).find((line) => line.msg === 'cache read failed; going to CarrierX');
    expect(warning).toMatchObject({ level: WARN, requestId: 'store-down-1' });
  });

  it('ties "cache entries invalidated" to its request', async () => {
    const res = await h.app.fetch('http://localhost/cache/invalidate', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': 'admin-1' },
      body: JSON.stringify({ drSids: [SAMPLE_DR_SID] }),
    });
    expect(res.status).toBe(200);
    expect(parsed(h).find((line) => line.msg === 'cache entries invalidated')).toMatchObject({
      requestId: 'admin-1',
      count: 1,
    });
  });

  it('logs a wrong cache admin token as a refusal with its code, UNAUTHENTICATED', async () => {
    const res = await h.app.fetch('http://localhost/cache/invalidate', {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-admin-token', 'x-request-id': 'admin-2' },
      body: JSON.stringify({ drSids: [SAMPLE_DR_SID] }),
    });
    expect(res.status).toBe(401);
    const lines = visible(h);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: INFO,
      msg: 'cache invalidation refused',
      requestId: 'admin-2',
      status: 401,
      errors: ['UNAUTHENTICATED'],
    });
    expect(h.logs.join('\n')).not.toContain('not-the-admin-token');
  });
});

describe('refusals', () => {
  it('logs a CSRF refusal with its code, not as a bare "error"', async () => {
    const h = await createHarness({ CSRF_PREVENTION_ENABLED: 'true', ACCESS_LOG: 'true' });
    try {
      const res = await h.app.fetch('http://localhost/graphql?query=%7B__typename%7D', {
        headers: { 'x-request-id': 'csrf-1' },
      });
      expect(res.status).toBe(403);
      const lines = visible(h);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        requestId: 'csrf-1',
        refused: 'request',
        errors: ['CSRF_HEADER_MISSING'],
      });
    } finally {
      await h.close();
    }
  });
});

describe('LOG_LEVEL=debug', () => {
  const PAGE = `query Page($n: String) { callDetailRecords(first: 2, filter: { numberSrc: { like: $n } }) { totalCount } }`;
  const DEBUG = 20;

  it('logs each CarrierX attempt once, with its path, status, outcome and time, tied to the request', async () => {
    const h = await createHarness();
    try {
      h.simulator.faults.add({
        match: { drSid: SAMPLE_DR_SID },
        times: 1,
        fault: { kind: 'status', status: 503 },
      });
      const res = await h.execute(
        ONE_RECORD,
        { drSid: SAMPLE_DR_SID },
        { headers: { 'x-request-id': 'dbg-1' } },
      );
      expect(res.body.data).toBeTruthy();
      const calls = parsed(h).filter((line) => line.msg === 'CarrierX call');
      expect(calls.map((line) => [line.level, line.attempt, line.status, line.outcome])).toEqual([
        [DEBUG, 1, 503, 'server_error'],
        [DEBUG, 2, 200, 'ok'],
      ]);
      for (const line of calls) {
        expect(line).toMatchObject({ requestId: 'dbg-1', drSid: SAMPLE_DR_SID });
        expect(line.path).toContain(`/calls/call_drs/${SAMPLE_DR_SID}?include_fields=`);
        expect(typeof line.ms).toBe('number');
      }
    } finally {
      await h.close();
    }
  });

  it("shows a page's filter by field and operator, never the value a caller filtered by", async () => {
    const h = await createHarness();
    try {
      const res = await h.execute(PAGE, { n: '+15165551234%' });
      expect(res.body.data).toBeTruthy();
      const calls = parsed(h).filter((line) => line.msg === 'CarrierX call');
      expect(calls).toHaveLength(1);
      expect(decodeURIComponent(String(calls[0]?.path))).toContain('number_src like ?');
      expect(h.logs.join('\n')).not.toContain('5165551234');
    } finally {
      await h.close();
    }
  });
});
