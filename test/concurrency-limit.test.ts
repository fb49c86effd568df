import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createUpstreamPolicies, DEFAULT_POLICY_OPTIONS, UpstreamFailure } from '../src/carrierx/policies.ts';
import { DEMO_TOKEN, DESCENDANT_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { ServiceError } from '../src/errors.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { metricsRegistry } from '../src/telemetry/metrics.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const CEILING = 32;
const FLOOR = 4;

/** Error codes of `count` calls sent together (`ok` for a record), tallied. */
async function wave(h: Harness, count = CEILING): Promise<Record<string, number>> {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, () =>
      h.client.getCallDetailRecord(SAMPLE_DR_SID, ['dr_sid'], `Bearer ${DEMO_TOKEN}`),
    ),
  );
  const tally: Record<string, number> = {};
  for (const result of settled) {
    const code =
      result.status === 'fulfilled' ? 'ok' : String((result.reason as { code?: string }).code ?? 'thrown');
    tally[code] = (tally[code] ?? 0) + 1;
  }
  return tally;
}

/** Sends waves until the limit reaches `target` (at most `maxWaves`); returns the limit after each wave. */
async function wavesUntil(h: Harness, target: number, maxWaves: number): Promise<number[]> {
  const limits: number[] = [];
  while (limits.length < maxWaves && h.client.state().limit !== target) {
    await wave(h);
    limits.push(h.client.state().limit);
  }
  return limits;
}

const nonIncreasing = (values: number[]) =>
  values.every((value, i) => i === 0 || value <= (values[i - 1] ?? 0));

// CarrierX is remote: its round trips take tens of milliseconds, which is what the limit is built for. With
// the simulator in this process and no latency, its round trips grow with the calls in flight (this event loop
// serves both sides), and a noisy machine adds more; 50 ms makes the baseline what CarrierX would be.
const REMOTE = { latencyMs: 50 };

describe('the limit on calls in flight to CarrierX', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({
      CARRIERX_MAX_CONCURRENT_CALLS: String(CEILING),
      CARRIERX_MIN_CONCURRENT_CALLS: String(FLOOR),
      // One attempt per call and a breaker that stays closed: each call is one measure of CarrierX.
      CARRIERX_RETRIES: '0',
      CARRIERX_BREAKER_THRESHOLD: '10000',
    });
  });
  afterEach(() => h.close());

  it('shrinks while CarrierX answers 503 and grows back to its ceiling once CarrierX answers again', async () => {
    expect(h.client.state().limit).toBe(CEILING);
    h.simulator.faults.add({ ...REMOTE, fault: { kind: 'status', status: 503 } });

    // 32 calls sent together all come back 503: one step down for the whole burst, not 32.
    expect(await wave(h)).toEqual({ UPSTREAM_UNAVAILABLE: CEILING });
    expect(h.client.state().limit).toBe(Math.floor(CEILING * 0.9));

    const shrinking = await wavesUntil(h, FLOOR, 30);
    expect(shrinking.at(-1)).toBe(FLOOR);
    expect(nonIncreasing(shrinking)).toBe(true);

    h.simulator.faults.clear();
    h.simulator.faults.add(REMOTE);
    expect(await wave(h)).toEqual({ ok: CEILING });
    const growing = await wavesUntil(h, CEILING, 30);
    expect(growing.at(-1) ?? h.client.state().limit).toBe(CEILING);
  });

  it('shrinks when CarrierX slows down, and recovers when it is fast again', async () => {
    // Usual answers first: they set the baseline round trip.
    const usual = h.simulator.faults.add(REMOTE);
    expect(await wave(h)).toEqual({ ok: CEILING });
    const before = h.client.state().limit;

    // Twenty times slower (far beyond twice the baseline plus 10 ms, even with a busy machine's jitter): each
    // round trip of slow answers costs a step (calls that waited for a slot make a second round trip).
    usual();
    const slow = h.simulator.faults.add({ latencyMs: 1_000 });
    expect(await wave(h)).toEqual({ ok: CEILING });
    const once = h.client.state().limit;
    expect(once).toBeLessThanOrEqual(Math.floor(before * 0.9));
    expect(await wave(h)).toEqual({ ok: CEILING });
    expect(h.client.state().limit).toBeLessThanOrEqual(Math.floor(once * 0.9));

    slow();
    h.simulator.faults.add(REMOTE);
    const growing = await wavesUntil(h, CEILING, 30);
    expect(growing.at(-1)).toBe(CEILING);
  });

  it('lets no more calls reach CarrierX at once than the limit allows', async () => {
    h.simulator.faults.add({ fault: { kind: 'status', status: 503 } });
    await wavesUntil(h, FLOOR, 30);
    h.simulator.faults.clear();
    // CarrierX now never answers: the calls it has are all the calls it was sent.
    h.simulator.faults.add({ fault: { kind: 'hang' } });
    h.simulator.resetLog();
    const hanging = wave(h);
    await vi.waitFor(() => expect(h.client.state().inFlight + h.client.state().queued).toBe(CEILING));
    await vi.waitFor(() => expect(h.simulator.requests).toHaveLength(FLOOR));
    expect(h.client.state()).toMatchObject({ limit: FLOOR, inFlight: FLOOR, queued: CEILING - FLOOR });
    // Ends the hung calls (and the waiting ones, on a refused connection).
    await h.simulator.close();
    await hanging;
  });
});

describe('one credential rate-limited by CarrierX', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({
      CARRIERX_MAX_CONCURRENT_CALLS: String(CEILING),
      CARRIERX_MIN_CONCURRENT_CALLS: String(FLOOR),
      CARRIERX_BREAKER_THRESHOLD: '10000',
    });
  });
  afterEach(() => h.close());

  const ONE_RECORD = `query One($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
  // 100 ms: far enough above this machine's own jitter that no answer of the healthy token reads as slow.
  const LATENCY = { latencyMs: 100 };

  it("slows only that token: the other token's queries all succeed and the limit does not fall", async () => {
    h.simulator.faults.add({
      match: { token: DEMO_TOKEN },
      ...LATENCY,
      fault: { kind: 'rate-limit', retryAfter: '60' },
    });
    h.simulator.faults.add(LATENCY);

    // As in issue 22: 22 requests one after another with the rate-limited token, each beside four of the other's.
    const limited: unknown[] = [];
    const healthy: unknown[] = [];
    for (let round = 0; round < 22; round++) {
      const [mine, ...others] = await Promise.all([
        h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, { token: DEMO_TOKEN }),
        ...Array.from({ length: 4 }, () =>
          h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, { token: DESCENDANT_TOKEN }),
        ),
      ]);
      limited.push(mine?.body.errors?.map((e) => e.extensions?.code));
      for (const other of others)
        healthy.push(
          other.body.errors ??
            (other.body.data as { callDetailRecord: { drSid: string } }).callDetailRecord.drSid,
        );
    }

    expect(healthy).toEqual(Array.from({ length: 88 }, () => SAMPLE_DR_SID));
    expect(limited).toEqual(Array.from({ length: 22 }, () => ['RATE_LIMITED']));
    // CarrierX was asked once for that token: its Retry-After (60 s) held the other 21 back without a call.
    const asked = h.simulator.requests.filter((r) => r.authorization === `Bearer ${DEMO_TOKEN}`);
    expect(asked).toHaveLength(1);
    expect(h.client.state().limit).toBe(CEILING);
    const text = await metricsRegistry.getSingleMetricAsString('carrierx_concurrency_limit');
    expect(text).toMatch(new RegExp(`^carrierx_concurrency_limit ${CEILING}$`, 'm'));
    // The operator's line about the cool-down never names the credential.
    const coolDown = h.logs.filter((line) => line.includes('CarrierX rate-limited a credential'));
    expect(coolDown).toHaveLength(1);
    expect(coolDown.join('')).not.toContain(DEMO_TOKEN);
  });

  it('answers RATE_LIMITED with the seconds left of Retry-After to the calls it holds back', async () => {
    h.simulator.faults.add({ match: { token: DEMO_TOKEN }, fault: { kind: 'rate-limit', retryAfter: '60' } });
    const first = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, { token: DEMO_TOKEN });
    expect(first.body.errors?.map((e) => e.extensions)).toEqual([{ code: 'RATE_LIMITED', retryAfter: 60 }]);
    h.simulator.faults.clear();
    const held = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, { token: DEMO_TOKEN });
    const retryAfter = held.body.errors?.[0]?.extensions?.retryAfter;
    expect(held.body.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(h.simulator.requests).toHaveLength(1);
  });
});

describe('pages of many records', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({
      CARRIERX_MAX_CONCURRENT_CALLS: String(CEILING),
      CARRIERX_MIN_CONCURRENT_CALLS: String(FLOOR),
      CARRIERX_RETRIES: '0',
    });
  });
  afterEach(() => h.close());

  it('do not shrink the limit by taking longer than one record does', async () => {
    const auth = `Bearer ${DESCENDANT_TOKEN}`;
    const fields = ['dr_sid', 'date_start', 'price'];
    // CarrierX answers one record in 100 ms and a page of 1,000 in 300 ms: each as fast as it ever does.
    const records = h.simulator.faults.add({ latencyMs: 100 });
    for (let i = 0; i < 10; i++) await h.client.getCallDetailRecord(SAMPLE_DR_SID, fields, auth);
    records();
    const pages = h.simulator.faults.add({ latencyMs: 300 });
    for (let i = 0; i < 10; i++) {
      const page = await h.client.listCallDetailRecords({ limit: 1000 }, fields, auth);
      expect(page.records).toHaveLength(1000);
    }
    pages();
    h.simulator.faults.add({ latencyMs: 100 });
    for (let i = 0; i < 10; i++) await h.client.getCallDetailRecord(SAMPLE_DR_SID, fields, auth);
    expect(h.client.state().limit).toBe(CEILING);
  });
});

describe('what moves the limit', () => {
  // Attempts that end at once: no round trip here is slow, so only what each one reports can move the limit.
  async function burst(outcome: () => Promise<unknown>): Promise<number> {
    const policies = createUpstreamPolicies(
      { ...DEFAULT_POLICY_OPTIONS, retries: 0, breakerThreshold: 10_000, maxConcurrentCalls: CEILING },
      createLogger({ level: 'silent' }),
    );
    const deadlineAt = performance.now() + 5_000;
    await Promise.allSettled(
      Array.from({ length: CEILING }, () => policies.execute(outcome, { deadlineAt })),
    );
    return policies.state().limit;
  }
  const failure = (pushback: boolean) => () =>
    Promise.reject(
      new UpstreamFailure(new ServiceError('UPSTREAM_UNAVAILABLE'), 'unavailable', undefined, pushback),
    );

  it('shrinks on CarrierX pushing back (503, a timeout), not on a 429, a 500, a reset connection or a 404', async () => {
    expect(await burst(failure(true))).toBe(Math.floor(CEILING * 0.9));
    // A 429 is one credential's quota: that credential cools down instead (see the tests above).
    const rateLimited = () =>
      Promise.reject(new UpstreamFailure(new ServiceError('RATE_LIMITED'), 'rate-limited', 60_000, true));
    expect(await burst(rateLimited)).toBe(CEILING);
    expect(await burst(failure(false))).toBe(CEILING);
    expect(await burst(() => Promise.reject(new ServiceError('NOT_FOUND')))).toBe(CEILING);
    expect(await burst(async () => 'a record')).toBe(CEILING);
  });
});

describe('the CarrierX concurrency metric', () => {
  it('reports the current limit', async () => {
    const h = await createHarness({ CARRIERX_MAX_CONCURRENT_CALLS: '24' });
    try {
      const text = await metricsRegistry.getSingleMetricAsString('carrierx_concurrency_limit');
      expect(text).toMatch(/^carrierx_concurrency_limit 24$/m);
    } finally {
      await h.close();
    }
  });
});
