import { describe, expect, it } from 'vitest';
import { createUpstreamPolicies, DEFAULT_POLICY_OPTIONS, UpstreamFailure } from '../src/carrierx/policies.ts';
import { classifyStatus, deadlineExceeded, ServiceError, UNAVAILABLE } from '../src/errors.ts';
import { createLogger } from '../src/telemetry/logger.ts';

const COOLDOWN_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openCircuit() {
  const policies = createUpstreamPolicies(
    { ...DEFAULT_POLICY_OPTIONS, retries: 0, breakerThreshold: 2, breakerCooldownMs: COOLDOWN_MS },
    createLogger({ level: 'silent' }),
  );
  const failing = () =>
    Promise.reject(new UpstreamFailure(new ServiceError('UPSTREAM_UNAVAILABLE'), 'unavailable'));
  return { policies, failing };
}

describe('the circuit breaker probe', () => {
  it('keeps the circuit open when the probe never reached CarrierX (the caller went away)', async () => {
    const { policies, failing } = openCircuit();
    for (let i = 0; i < 2; i++) {
      await expect(
        policies.execute(failing, { deadlineAt: performance.now() + 5_000 }),
      ).rejects.toBeDefined();
    }
    expect(policies.state().breaker).toBe('open');
    await sleep(COOLDOWN_MS + 10);

    const caller = new AbortController();
    const probe = policies.execute(
      () =>
        new Promise<never>((_resolve, reject) => {
          caller.signal.addEventListener('abort', () => reject(caller.signal.reason), { once: true });
        }),
      { signal: caller.signal, deadlineAt: performance.now() + 5_000 },
    );
    caller.abort(new DOMException('gone', 'AbortError'));
    await expect(probe).rejects.toMatchObject({ name: 'AbortError' });
    expect(policies.state().breaker).toBe('open');
  });

  it('closes the circuit when CarrierX answers the probe, even with a 404', async () => {
    const { policies, failing } = openCircuit();
    for (let i = 0; i < 2; i++) {
      await expect(
        policies.execute(failing, { deadlineAt: performance.now() + 5_000 }),
      ).rejects.toBeDefined();
    }
    await sleep(COOLDOWN_MS + 10);
    await expect(
      policies.execute(() => Promise.reject(new ServiceError('NOT_FOUND')), {
        deadlineAt: performance.now() + 5_000,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(policies.state().breaker).toBe('closed');
  });

  it("keeps the circuit open when the probe ran out of the request's deadline before CarrierX answered", async () => {
    const { policies, failing } = openCircuit();
    for (let i = 0; i < 2; i++) {
      await expect(
        policies.execute(failing, { deadlineAt: performance.now() + 5_000 }),
      ).rejects.toBeDefined();
    }
    await sleep(COOLDOWN_MS + 10);
    // What the client throws when the request's own deadline, not CARRIERX_TIMEOUT_MS, cut the attempt short.
    await expect(
      policies.execute(() => Promise.reject(deadlineExceeded()), { deadlineAt: performance.now() + 5_000 }),
    ).rejects.toMatchObject({ reason: 'deadline' });
    expect(policies.state().breaker).toBe('open');
  });
});

describe('a call the policies decline', () => {
  it('says it was the open circuit, with the seconds until calls resume', async () => {
    const { policies, failing } = openCircuit();
    for (let i = 0; i < 2; i++) {
      await expect(
        policies.execute(failing, { deadlineAt: performance.now() + 5_000 }),
      ).rejects.toBeDefined();
    }
    await expect(
      policies.execute(async () => 'never', { deadlineAt: performance.now() + 5_000 }),
    ).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      reason: 'circuit-open',
      message: UNAVAILABLE.CIRCUIT_OPEN,
      extensions: { code: 'UPSTREAM_UNAVAILABLE', retryAfter: 1 },
    });
  });

  it('says it was the full bulkhead queue', async () => {
    const policies = createUpstreamPolicies(
      { ...DEFAULT_POLICY_OPTIONS, adaptiveConcurrency: false, maxConcurrentCalls: 1, maxQueuedCalls: 0 },
      createLogger({ level: 'silent' }),
    );
    const deadlineAt = performance.now() + 2_000;
    const first = policies.execute(() => sleep(50), { deadlineAt });
    await expect(policies.execute(async () => 'never', { deadlineAt })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      reason: 'overloaded',
      message: UNAVAILABLE.OVERLOADED,
    });
    await first;
  });

  it("says it was the request's deadline when none is left", async () => {
    const policies = createUpstreamPolicies(DEFAULT_POLICY_OPTIONS, createLogger({ level: 'silent' }));
    await expect(
      policies.execute(async () => 'never', { deadlineAt: performance.now() - 1 }),
    ).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      reason: 'deadline',
      message: UNAVAILABLE.DEADLINE,
    });
  });

  it('sends clients the code (and retryAfter) in extensions, never the reason', async () => {
    const { policies, failing } = openCircuit();
    for (let i = 0; i < 2; i++) {
      await expect(
        policies.execute(failing, { deadlineAt: performance.now() + 5_000 }),
      ).rejects.toBeDefined();
    }
    const refused = await policies
      .execute(async () => 'never', { deadlineAt: performance.now() + 5_000 })
      .catch((error: unknown) => error);
    expect(JSON.parse(JSON.stringify(refused))).toEqual({
      message: UNAVAILABLE.CIRCUIT_OPEN,
      extensions: { code: 'UPSTREAM_UNAVAILABLE', retryAfter: 1 },
    });
  });
});

describe('the bulkhead queue', () => {
  it('hands a freed slot to the next waiter when a waiter before it has left', async () => {
    const policies = createUpstreamPolicies(
      { ...DEFAULT_POLICY_OPTIONS, maxConcurrentCalls: 1, maxQueuedCalls: 10 },
      createLogger({ level: 'silent' }),
    );
    const deadlineAt = performance.now() + 2_000;
    const first = policies.execute(
      async () => {
        await sleep(100);
        return 'first';
      },
      { deadlineAt },
    );
    const caller = new AbortController();
    const leaving = policies.execute(async () => 'never', { deadlineAt, signal: caller.signal });
    const started = performance.now();
    const third = policies.execute(async () => performance.now() - started, { deadlineAt });
    caller.abort(new DOMException('gone', 'AbortError'));
    await expect(leaving).rejects.toMatchObject({ name: 'AbortError' });
    await expect(first).resolves.toBe('first');
    // It runs as soon as the first call's slot is free, not at its own deadline 2 s later.
    expect(await third).toBeLessThan(1_000);
  });
});

describe('a credential CarrierX rate-limited', () => {
  const A = 'Bearer token-a';
  const B = 'Bearer token-b';
  function rateLimitedPolicies() {
    return createUpstreamPolicies(
      { ...DEFAULT_POLICY_OPTIONS, retries: 0 },
      createLogger({ level: 'silent' }),
    );
  }
  /** What the client throws for a 429 with `Retry-After: seconds` (or none). */
  const answer429 = (seconds?: number) => () =>
    Promise.reject(
      new UpstreamFailure(
        classifyStatus(429, seconds).error,
        'rate-limited',
        seconds === undefined ? undefined : seconds * 1000,
        true,
      ),
    );
  const inFiveSeconds = () => performance.now() + 5_000;

  it('fails its next calls at once with RATE_LIMITED and the seconds left, without calling CarrierX', async () => {
    const policies = rateLimitedPolicies();
    await expect(
      policies.execute(answer429(60), { deadlineAt: inFiveSeconds(), credential: A }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED', extensions: { retryAfter: 60 } });
    let called = 0;
    const refused = policies.execute(
      async () => {
        called += 1;
        return 'a record';
      },
      { deadlineAt: inFiveSeconds(), credential: A },
    );
    await expect(refused).rejects.toMatchObject({ code: 'RATE_LIMITED', extensions: { retryAfter: 60 } });
    expect(called).toBe(0);
  });

  it("lets another credential's calls through as before", async () => {
    const policies = rateLimitedPolicies();
    await expect(
      policies.execute(answer429(60), { deadlineAt: inFiveSeconds(), credential: A }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(
      policies.execute(async () => 'a record', { deadlineAt: inFiveSeconds(), credential: B }),
    ).resolves.toBe('a record');
    expect(policies.state().limit).toBe(64);
  });

  it('waits out a Retry-After that ends in time for the deadline, then calls CarrierX', async () => {
    const policies = rateLimitedPolicies();
    await expect(
      policies.execute(answer429(1), { deadlineAt: inFiveSeconds(), credential: A }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const refusedAt = performance.now();
    const calledAfter = await policies.execute(async () => performance.now() - refusedAt, {
      deadlineAt: inFiveSeconds(),
      credential: A,
    });
    // Retry-After: 1 is 1,000 ms from the 429 (a timer may fire a millisecond early).
    expect(calledAfter).toBeGreaterThanOrEqual(990);
  });

  it('cools down for a second when the 429 came without Retry-After', async () => {
    const policies = rateLimitedPolicies();
    await expect(
      policies.execute(answer429(), { deadlineAt: inFiveSeconds(), credential: A }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(
      policies.execute(async () => 'never', { deadlineAt: performance.now() + 500, credential: A }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED', extensions: { retryAfter: 1 } });
  });

  it('stops waiting when its caller goes away', async () => {
    const policies = rateLimitedPolicies();
    await expect(
      policies.execute(answer429(3), { deadlineAt: inFiveSeconds(), credential: A }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const caller = new AbortController();
    const waiting = policies.execute(async () => 'never', {
      deadlineAt: inFiveSeconds(),
      credential: A,
      signal: caller.signal,
    });
    caller.abort(new DOMException('gone', 'AbortError'));
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('the retry budget', () => {
  /** Policies whose every attempt fails as a 503 would, counting the attempts. */
  function failingCarrierX(retryBudgetRatio: number) {
    const policies = createUpstreamPolicies(
      {
        ...DEFAULT_POLICY_OPTIONS,
        retries: 2,
        retryBaseDelayMs: 1,
        retryMaxDelayMs: 1,
        breakerThreshold: 10_000,
        retryBudgetRatio,
        retryBudgetMinPerSecond: 0,
      },
      createLogger({ level: 'silent' }),
    );
    let attempts = 0;
    const failing = () => {
      attempts += 1;
      return Promise.reject(new UpstreamFailure(new ServiceError('UPSTREAM_UNAVAILABLE'), 'transient'));
    };
    const call = () => policies.execute(failing, { deadlineAt: performance.now() + 5_000 });
    return { policies, call, attempts: () => attempts };
  }

  it('costs a CarrierX that fails every call about one attempt per call plus the ratio, not three', async () => {
    const { policies, call, attempts } = failingCarrierX(0.2);
    const results = await Promise.allSettled(Array.from({ length: 100 }, call));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    // 100 calls, 20 retries earned: without the budget, 300 attempts.
    expect(attempts()).toBeGreaterThanOrEqual(100);
    expect(attempts()).toBeLessThanOrEqual(121);
    // Each call ends at the first retry the budget refuses: all but the few it let retry twice.
    expect(policies.state().retriesOverBudget).toBeGreaterThanOrEqual(80);
  });

  it('still retries each failure when the ratio covers every retry', async () => {
    const { policies, call, attempts } = failingCarrierX(2);
    await Promise.allSettled(Array.from({ length: 20 }, call));
    expect(attempts()).toBe(60);
    expect(policies.state().retriesOverBudget).toBe(0);
  });
});
