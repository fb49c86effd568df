import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEMO_TOKEN,
  type FaultRule,
  PARENT_PARTNER_SID,
  SAMPLE_DR_SID,
  UNANSWERED_DR_SID,
} from '../src/carrierx/simulator/index.ts';
import { UNAVAILABLE } from '../src/errors.ts';
import { createRequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

// The record the simulator misbehaves on, and a healthy one asked for in the same operation.
const FAULTY = UNANSWERED_DR_SID;
const HEALTHY = SAMPLE_DR_SID;
const TWO_RECORDS = `query TwoRecords($faulty: UUID!, $healthy: UUID!) {
  faulty: callDetailRecord(drSid: $faulty) { drSid price direction }
  healthy: callDetailRecord(drSid: $healthy) { drSid price }
}`;
const ONE_RECORD = `query One($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;

type Errors = { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
const errorsAt = (errors: Errors | undefined, alias: string) =>
  (errors ?? []).filter((e) => e.path?.[0] === alias);
const callsFor = (h: Harness, drSid: string) => h.simulator.requests.filter((r) => r.drSid === drSid).length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `test` on a server of its own: after a 429 the token waits out Retry-After on every call, so a test
 * whose 429 outlives it must not share its server with the tests after it.
 */
async function onOwnServer(env: Record<string, string>, test: (h: Harness) => Promise<void>): Promise<void> {
  const own = await createHarness(env);
  try {
    await test(own);
  } finally {
    await own.close();
  }
}
const MATRIX_ENV = { CARRIERX_TIMEOUT_MS: '500', REQUEST_DEADLINE_MS: '3000' };

describe('fault matrix: each upstream failure in one record of an operation', () => {
  let h: Harness;
  beforeAll(async () => {
    // Retries: 2 after the first attempt. A 3 s deadline leaves room for a one-second Retry-After.
    h = await createHarness(MATRIX_ENV);
    // A first request pays for connecting and warming up; no test should spend its timeout on that.
    await h.execute(ONE_RECORD, { drSid: HEALTHY });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.simulator.faults.clear();
    h.simulator.resetLog();
  });

  it.each<{ label: string; fault: FaultRule['fault']; code: string; calls: number }>([
    { label: 'HTTP 500', fault: { kind: 'status', status: 500 }, code: 'UPSTREAM_UNAVAILABLE', calls: 1 },
    { label: 'HTTP 502', fault: { kind: 'status', status: 502 }, code: 'UPSTREAM_UNAVAILABLE', calls: 3 },
    { label: 'HTTP 503', fault: { kind: 'status', status: 503 }, code: 'UPSTREAM_UNAVAILABLE', calls: 3 },
    { label: 'HTTP 504', fault: { kind: 'status', status: 504 }, code: 'UPSTREAM_UNAVAILABLE', calls: 3 },
    { label: 'a connection reset', fault: { kind: 'reset' }, code: 'UPSTREAM_UNAVAILABLE', calls: 3 },
    {
      label: 'no answer before CARRIERX_TIMEOUT_MS',
      fault: { kind: 'hang' },
      code: 'UPSTREAM_UNAVAILABLE',
      calls: 1,
    },
    { label: 'HTTP 401', fault: { kind: 'status', status: 401 }, code: 'UNAUTHENTICATED', calls: 1 },
    { label: 'HTTP 403', fault: { kind: 'status', status: 403 }, code: 'FORBIDDEN', calls: 1 },
    { label: 'HTTP 404', fault: { kind: 'status', status: 404 }, code: 'NOT_FOUND', calls: 1 },
    { label: 'HTTP 400', fault: { kind: 'status', status: 400 }, code: 'UPSTREAM_BAD_RESPONSE', calls: 1 },
    { label: 'HTTP 409', fault: { kind: 'status', status: 409 }, code: 'UPSTREAM_BAD_RESPONSE', calls: 1 },
    { label: 'HTTP 422', fault: { kind: 'status', status: 422 }, code: 'UPSTREAM_BAD_RESPONSE', calls: 1 },
    {
      label: 'a body that is not JSON',
      fault: { kind: 'malformed-json' },
      code: 'UPSTREAM_BAD_RESPONSE',
      calls: 1,
    },
    { label: 'a truncated body', fault: { kind: 'truncated-body' }, code: 'UPSTREAM_BAD_RESPONSE', calls: 1 },
    {
      label: 'JSON that is not a CDR',
      fault: { kind: 'not-a-cdr' },
      code: 'UPSTREAM_BAD_RESPONSE',
      calls: 1,
    },
  ])(
    'answers $label with $code for that record alone, after $calls upstream call(s)',
    async ({ fault, code, calls }) => {
      h.simulator.faults.add({ match: { drSid: FAULTY }, fault });
      const res = await h.execute(TWO_RECORDS, { faulty: FAULTY, healthy: HEALTHY });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ faulty: null, healthy: { drSid: HEALTHY, price: '0.0025' } });
      expect(errorsAt(res.body.errors, 'faulty').map((e) => e.extensions?.code)).toEqual([code]);
      expect(errorsAt(res.body.errors, 'healthy')).toEqual([]);
      expect(callsFor(h, FAULTY)).toBe(calls);
      expect(callsFor(h, HEALTHY)).toBe(1);
    },
  );

  it('answers HTTP 429 without Retry-After with RATE_LIMITED for that record alone, after 3 upstream calls', async () => {
    // Each 429 has the token wait a second (no Retry-After): two retries fit in the 3 s deadline.
    await onOwnServer(MATRIX_ENV, async (own) => {
      own.simulator.faults.add({ match: { drSid: FAULTY }, fault: { kind: 'rate-limit' } });
      const res = await own.execute(TWO_RECORDS, { faulty: FAULTY, healthy: HEALTHY });
      expect(res.body.data).toEqual({ faulty: null, healthy: { drSid: HEALTHY, price: '0.0025' } });
      expect(errorsAt(res.body.errors, 'faulty').map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
      expect(callsFor(own, FAULTY)).toBe(3);
    });
  });

  it.each<{ label: string; fault: FaultRule['fault']; field: string }>([
    { label: 'wrong value types', fault: { kind: 'wrong-types' }, field: 'price' },
    { label: 'an undocumented direction', fault: { kind: 'unknown-enum' }, field: 'direction' },
  ])('keeps the record and fails only the field when CarrierX sends $label', async ({ fault, field }) => {
    h.simulator.faults.add({ match: { drSid: FAULTY }, fault });
    const res = await h.execute(TWO_RECORDS, { faulty: FAULTY, healthy: HEALTHY });
    const faulty = (res.body.data as { faulty: Record<string, unknown> }).faulty;
    expect(faulty.drSid).toBe(FAULTY);
    expect(faulty[field]).toBeNull();
    expect(errorsAt(res.body.errors, 'faulty').map((e) => [e.path?.[1], e.extensions?.code])).toEqual([
      [field, 'UPSTREAM_BAD_RESPONSE'],
    ]);
    expect(callsFor(h, FAULTY)).toBe(1);
  });

  it('answers normally when CarrierX is slow but within the timeout', async () => {
    h.simulator.faults.add({ match: { drSid: FAULTY }, latencyMs: 50 });
    const res = await h.execute(TWO_RECORDS, { faulty: FAULTY, healthy: HEALTHY });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toMatchObject({ faulty: { drSid: FAULTY } });
  });

  it.each([502, 503, 504])('succeeds when HTTP %i clears before the retries run out', async (status) => {
    h.simulator.faults.add({ match: { drSid: FAULTY }, times: 2, fault: { kind: 'status', status } });
    const res = await h.execute(TWO_RECORDS, { faulty: FAULTY, healthy: HEALTHY });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toMatchObject({ faulty: { drSid: FAULTY } });
    expect(callsFor(h, FAULTY)).toBe(3);
  });

  it('succeeds after a reset connection when the retry gets through', async () => {
    h.simulator.faults.add({ match: { drSid: FAULTY }, times: 1, fault: { kind: 'reset' } });
    const res = await h.execute(ONE_RECORD, { drSid: FAULTY });
    expect(res.body.errors).toBeUndefined();
    expect(callsFor(h, FAULTY)).toBe(2);
  });

  it('waits out Retry-After: 1 and succeeds with one retry when it fits in the deadline', async () => {
    h.simulator.faults.add({
      match: { drSid: FAULTY },
      times: 1,
      fault: { kind: 'rate-limit', retryAfter: '1' },
    });
    const res = await h.execute(ONE_RECORD, { drSid: FAULTY });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ callDetailRecord: { drSid: FAULTY, price: expect.any(String) } });
    expect(callsFor(h, FAULTY)).toBe(2);
  });

  it('returns RATE_LIMITED with retryAfter 120 at once when Retry-After: 120 does not fit in the deadline', async () => {
    await onOwnServer(MATRIX_ENV, async (own) => {
      own.simulator.faults.add({
        match: { drSid: FAULTY },
        fault: { kind: 'rate-limit', retryAfter: '120' },
      });
      const res = await own.execute(ONE_RECORD, { drSid: FAULTY });
      expect(res.body.errors?.map((e) => e.extensions)).toEqual([{ code: 'RATE_LIMITED', retryAfter: 120 }]);
      expect(callsFor(own, FAULTY)).toBe(1);
      // The operator's warning says how long CarrierX asked to wait.
      const warning = own.logs
        .map((line) => JSON.parse(line) as { msg?: string; status?: number; retryAfterSeconds?: number })
        .findLast((line) => line.msg === 'CarrierX answered an error' && line.status === 429);
      expect(warning?.retryAfterSeconds).toBe(120);
    });
  });

  it('reads Retry-After given as an HTTP date', async () => {
    await onOwnServer(MATRIX_ENV, async (own) => {
      const in90s = new Date(Date.now() + 90_000).toUTCString();
      own.simulator.faults.add({
        match: { drSid: FAULTY },
        fault: { kind: 'rate-limit', retryAfter: in90s },
      });
      const res = await own.execute(ONE_RECORD, { drSid: FAULTY });
      expect(res.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(res.body.errors?.[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(88);
      expect(res.body.errors?.[0]?.extensions?.retryAfter).toBeLessThanOrEqual(90);
      expect(callsFor(own, FAULTY)).toBe(1);
    });
  });

  it('counts the retries it made in the upstream state', async () => {
    const before = h.client.state().retries;
    h.simulator.faults.add({ match: { drSid: FAULTY }, fault: { kind: 'status', status: 503 } });
    await h.execute(ONE_RECORD, { drSid: FAULTY });
    expect(h.client.state().retries - before).toBe(2);
  });

  it('answers /health after every fault', async () => {
    const res = await h.app.fetch('http://localhost/health');
    expect(res.status).toBe(200);
  });
});

describe('the request deadline', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ CARRIERX_TIMEOUT_MS: '10000', REQUEST_DEADLINE_MS: '300' });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.simulator.faults.clear();
    h.simulator.resetLog();
  });

  it('cuts an upstream call short at REQUEST_DEADLINE_MS even when CARRIERX_TIMEOUT_MS is longer', async () => {
    h.simulator.faults.add({ fault: { kind: 'hang' } });
    const res = await h.execute(ONE_RECORD, { drSid: FAULTY });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(res.body.errors?.[0]?.message).toBe(UNAVAILABLE.DEADLINE);
    // The error's reason is for this service's own branches; the client's extensions stay the code alone.
    expect(res.body.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(h.simulator.requests).toHaveLength(1);
  });

  it('does not retry when the backoff would end past the deadline', async () => {
    const slow = await createHarness({
      REQUEST_DEADLINE_MS: '300',
      CARRIERX_RETRY_BASE_DELAY_MS: '1000',
      CARRIERX_RETRY_MAX_DELAY_MS: '1000',
    });
    slow.simulator.faults.add({ fault: { kind: 'status', status: 503 } });
    const res = await slow.execute(ONE_RECORD, { drSid: FAULTY });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(slow.simulator.requests).toHaveLength(1);
    await slow.close();
  });
});

describe('circuit breaker', () => {
  const COOLDOWN_MS = 300;
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({
      CARRIERX_BREAKER_THRESHOLD: '3',
      CARRIERX_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
    });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.simulator.faults.clear();
    h.simulator.resetLog();
  });

  async function openTheCircuit() {
    h.simulator.faults.add({ fault: { kind: 'status', status: 503 } });
    for (let i = 0; i < 3; i++) await h.execute(ONE_RECORD, { drSid: FAULTY });
    expect(h.client.state().breaker).toBe('open');
  }

  it('opens after 3 consecutive failed calls and then fails fast without calling CarrierX', async () => {
    await openTheCircuit();
    const seen = h.simulator.requests.length;
    const res = await h.execute(TWO_RECORDS, { faulty: FAULTY, healthy: HEALTHY });
    expect(res.body.data).toEqual({ faulty: null, healthy: null });
    for (const error of res.body.errors ?? []) {
      expect(error.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(error.message).toBe(UNAVAILABLE.CIRCUIT_OPEN);
      expect(error.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', retryAfter: 1 });
    }
    expect(h.simulator.requests.length).toBe(seen);
    expect(h.logs.some((line) => line.includes('"level":40') && line.includes('circuit opened'))).toBe(true);
  });

  it('lets one probe through after the cooldown and closes when it succeeds', async () => {
    await openTheCircuit();
    h.simulator.faults.clear();
    h.simulator.resetLog();
    await sleep(COOLDOWN_MS);
    const res = await h.execute(TWO_RECORDS, { faulty: FAULTY, healthy: HEALTHY });
    expect(res.body.errors).toBeUndefined();
    expect(h.client.state().breaker).toBe('closed');
    expect(h.simulator.requests).toHaveLength(2);
    expect(h.logs.some((line) => line.includes('circuit half-open'))).toBe(true);
    expect(h.logs.some((line) => line.includes('circuit closed'))).toBe(true);
  });

  it('opens again when the probe fails', async () => {
    await openTheCircuit();
    await sleep(COOLDOWN_MS);
    const opened = h.client.state().breakerOpened;
    const res = await h.execute(ONE_RECORD, { drSid: FAULTY });
    expect(res.body.errors?.[0]?.message).not.toBe(UNAVAILABLE.CIRCUIT_OPEN);
    expect(h.client.state()).toMatchObject({ breaker: 'open', breakerOpened: opened + 1 });
    h.simulator.faults.clear();
    await sleep(COOLDOWN_MS);
    await h.execute(ONE_RECORD, { drSid: FAULTY });
    expect(h.client.state().breaker).toBe('closed');
  });

  it('never opens for 401, 403, 404, 429 or bad bodies', async () => {
    for (const fault of [
      { kind: 'status', status: 401 },
      { kind: 'status', status: 403 },
      { kind: 'status', status: 404 },
      // Retry-After: 0, so that every 429 reaches CarrierX: a longer one holds the token's next calls back.
      { kind: 'rate-limit', retryAfter: '0' },
      { kind: 'malformed-json' },
    ] as const) {
      h.simulator.faults.clear();
      h.simulator.faults.add({ fault });
      for (let i = 0; i < 4; i++) await h.execute(ONE_RECORD, { drSid: FAULTY });
      expect(h.client.state().breaker).toBe('closed');
    }
  });

  it('answers /health while the circuit is open', async () => {
    await openTheCircuit();
    const res = await h.app.fetch('http://localhost/health');
    expect(res.status).toBe(200);
    h.simulator.faults.clear();
    await sleep(COOLDOWN_MS);
    await h.execute(ONE_RECORD, { drSid: HEALTHY });
  });
});

describe("the circuit breaker and a request's own deadline", () => {
  // The reproduction scaled down: one gateway fetch of 12 records, 3 at a time, from a CarrierX that
  // answers every call in 200 ms, under a 500 ms request deadline. The third round of calls starts with ~100 ms
  // left and is cut short by the deadline: those are the request's limit, not CarrierX failures.
  const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on CallDetailRecord { drSid } }
}`;

  it('stays closed when one request runs out of its deadline, and serves another client', async () => {
    const h = await createHarness({
      REQUEST_DEADLINE_MS: '500',
      CARRIERX_MAX_PARALLEL_PER_REQUEST: '3',
      CARRIERX_BREAKER_THRESHOLD: '3',
      CARRIERX_BREAKER_COOLDOWN_MS: '60000',
    });
    try {
      const sids = [...h.simulator.records]
        .filter(([, record]) => record.partner_sid === PARENT_PARTNER_SID)
        .map(([drSid]) => drSid)
        .slice(0, 12);
      h.simulator.faults.add({ latencyMs: 200 });
      const representations = sids.map((drSid) => ({ __typename: 'CallDetailRecord', drSid }));
      const big = await h.execute(ENTITIES, { representations });
      const codes = (big.body.errors ?? []).map((e) => e.extensions?.code);
      // The premise: some calls were cut short by the deadline, and every one CarrierX finished succeeded.
      expect(codes.length).toBeGreaterThanOrEqual(3);
      expect(new Set(codes)).toEqual(new Set(['UPSTREAM_UNAVAILABLE']));
      expect(h.client.state().breaker).toBe('closed');

      h.simulator.faults.clear();
      const other = await h.execute(ONE_RECORD, { drSid: HEALTHY }, { authorization: 'Bearer other-client' });
      expect(other.body.errors?.map((e) => e.message)).not.toContain(UNAVAILABLE.CIRCUIT_OPEN);
      const served = await h.execute(ONE_RECORD, { drSid: HEALTHY });
      expect(served.body.errors).toBeUndefined();
      expect(served.body.data).toEqual({ callDetailRecord: expect.objectContaining({ drSid: HEALTHY }) });
    } finally {
      await h.close();
    }
  });

  it('still opens when CarrierX does not answer within the full CARRIERX_TIMEOUT_MS', async () => {
    const h = await createHarness({
      CARRIERX_TIMEOUT_MS: '100',
      REQUEST_DEADLINE_MS: '2000',
      CARRIERX_BREAKER_THRESHOLD: '3',
      CARRIERX_BREAKER_COOLDOWN_MS: '60000',
    });
    try {
      h.simulator.faults.add({ fault: { kind: 'hang' } });
      for (let i = 0; i < 3; i++) await h.execute(ONE_RECORD, { drSid: HEALTHY });
      expect(h.client.state().breaker).toBe('open');
    } finally {
      await h.close();
    }
  });
});

describe('bulkhead', () => {
  // Two records that exist and three that do not: the bulkhead counts calls, whatever CarrierX answers.
  const FIVE = [
    SAMPLE_DR_SID,
    UNANSWERED_DR_SID,
    '00000000-0000-4000-8000-000000000001',
    '00000000-0000-4000-8000-000000000002',
    '00000000-0000-4000-8000-000000000003',
  ]
    .map((sid, i) => `r${i}: callDetailRecord(drSid: "${sid}") { drSid }`)
    .join('\n');

  it('rejects calls beyond the concurrency cap and its queue as overloaded, without calling CarrierX', async () => {
    const h = await createHarness({ CARRIERX_MAX_CONCURRENT_CALLS: '2', CARRIERX_MAX_QUEUED_CALLS: '1' });
    h.simulator.faults.add({ latencyMs: 100 });
    const res = await h.execute(`{ ${FIVE} }`);
    const overloaded = (res.body.errors ?? []).filter((e) => e.message === UNAVAILABLE.OVERLOADED);
    expect(overloaded).toHaveLength(2);
    for (const error of overloaded) expect(error.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(h.simulator.requests).toHaveLength(3);
    expect(h.client.state()).toMatchObject({ rejected: 2, inFlight: 0, queued: 0, breaker: 'closed' });
    await h.close();
  });

  it('gives up a call waiting for a slot at the request deadline, without calling CarrierX', async () => {
    const h = await createHarness({
      CARRIERX_MAX_CONCURRENT_CALLS: '1',
      CARRIERX_TIMEOUT_MS: '10000',
      REQUEST_DEADLINE_MS: '300',
    });
    h.simulator.faults.add({ fault: { kind: 'hang' } });
    const res = await h.execute(TWO_RECORDS, { faulty: FAULTY, healthy: HEALTHY });
    expect(res.body.data).toEqual({ faulty: null, healthy: null });
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual([
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_UNAVAILABLE',
    ]);
    expect(res.body.errors?.map((e) => e.message)).toContain(UNAVAILABLE.DEADLINE);
    expect(h.simulator.requests).toHaveLength(1);
    await h.close();
  });
});

describe('client disconnects', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ CARRIERX_TIMEOUT_MS: '10000', REQUEST_DEADLINE_MS: '10000' });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.simulator.faults.clear();
    h.simulator.resetLog();
  });

  it('cancels the pending CarrierX call when an in-process caller aborts', async () => {
    h.simulator.faults.add({ fault: { kind: 'hang' } });
    const controller = new AbortController();
    const pending = Promise.resolve(
      h.app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
        body: JSON.stringify({ query: ONE_RECORD, variables: { drSid: FAULTY } }),
        signal: controller.signal,
      }),
    ).catch(() => undefined);
    // The call is in flight once it holds a bulkhead slot, a moment before its request reaches CarrierX: wait
    // for CarrierX to have it, or a loaded machine aborts a call that never left.
    await vi.waitFor(() => expect(h.simulator.requests).toHaveLength(1));
    expect(h.client.state().inFlight).toBe(1);
    controller.abort();
    await vi.waitFor(() => expect(h.client.state().inFlight).toBe(0));
    await pending;
    expect(h.simulator.requests).toHaveLength(1);
  });

  it('cancels the pending CarrierX calls when an HTTP client closes its connection', async () => {
    // Through the handler production uses: a plain JSON POST like this one takes its fast path.
    h.simulator.faults.add({ fault: { kind: 'hang' } });
    const server = createServer(createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const body = JSON.stringify({ query: TWO_RECORDS, variables: { faulty: FAULTY, healthy: HEALTHY } });
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        authorization: `Bearer ${DEMO_TOKEN}`,
      },
    });
    req.on('error', () => {});
    req.end(body);
    await vi.waitFor(() => expect(h.client.state().inFlight).toBe(2));
    // Both calls on the wire, not only holding their slots (one may still be connecting).
    await vi.waitFor(() => expect(h.simulator.requests).toHaveLength(2));
    req.destroy();
    await vi.waitFor(() => expect(h.client.state().inFlight).toBe(0));
    expect(h.simulator.requests).toHaveLength(2);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
