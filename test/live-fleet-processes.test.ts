import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSimulator, SAMPLE_DR_SID, type Simulator } from '../src/carrierx/simulator/index.ts';
import { freePort } from './helpers/free-port.ts';
import { records, sse } from './helpers/live-server.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';
import { alive, type ServerProcess, startServerProcess } from './helpers/server-process.ts';

// Issue 24, across the fleet, as it runs: two server processes (dist/server.js, as `npm start` runs it) sharing
// one real redis-server and one CarrierX simulator, SSE subscribers on both. One process polls; killed with
// SIGKILL (no drain, no lease given up), the other takes the feed over from the position kept in Redis.

const LEASE_MS = 1_500;
/** How long a test waits for a process to reach a state (a takeover: within LEASE_MS), inside its own timeout. */
const WAIT = { timeout: 15_000, interval: 20 };
const SECRET = 'a-cache-key-secret-of-at-least-32-characters';

interface Replica {
  process: ServerProcess;
  origin: string;
  metricsPort: number;
}

/** A gauge or counter's value on a replica's /metrics (summed over its label sets). */
async function metric(replica: Replica, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('the live call feed on two server processes sharing a real redis-server', () => {
  let redis: RedisServer;
  let simulator: Simulator;
  const replicas: Replica[] = [];
  let inserted = 0;

  /** Adds a record dated now (each a millisecond after the one before): new to every feed. Its dr_sid. */
  function insert(): string {
    const drSid = randomUUID();
    inserted += 1;
    simulator.addRecord({
      ...(simulator.records.get(SAMPLE_DR_SID) as Record<string, unknown>),
      dr_sid: drSid,
      date_insert: new Date(Date.now() + inserted).toISOString(),
    });
    return drSid;
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    simulator = createSimulator({ recordCount: 20 });
    const baseUrl = await simulator.listen(0, '127.0.0.1');
    for (let i = 0; i < 2; i += 1) {
      const metricsPort = await freePort();
      const process = await startServerProcess({
        CARRIERX_BASE_URL: baseUrl,
        REDIS_URL: redis.url,
        // Shared: a credential is one feed on every replica only if they fingerprint it alike.
        CACHE_KEY_SECRET: SECRET,
        LIVE_LEASE_MS: String(LEASE_MS),
        LIVE_POLL_INTERVAL_MS: '100',
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: '127.0.0.1',
      });
      replicas.push({ process, origin: new URL(process.url).origin, metricsPort });
    }
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.process.stop();
    await simulator?.close();
    await redis?.stop();
  });

  it('polls from one process, and after it is killed the other goes on from where it was: no record lost or doubled', async () => {
    const [one, two] = replicas as [Replica, Replica];
    const onOne = await sse(one.origin);
    const onTwo = await sse(two.origin);
    await vi.waitFor(async () => expect(await metric(one, 'live_feed_subscriptions')).toBe(1), WAIT);
    await vi.waitFor(async () => expect(await metric(two, 'live_feed_subscriptions')).toBe(1), WAIT);
    const first = [insert(), insert(), insert()];
    expect((await records(onOne, 3)).map((r) => r.drSid)).toEqual(first);
    expect((await records(onTwo, 3)).map((r) => r.drSid)).toEqual(first);

    // Exactly one of them polls CarrierX for the feed; the other's poll count stands still.
    const polling = [
      await metric(one, 'live_feed_pollers_polling'),
      await metric(two, 'live_feed_pollers_polling'),
    ];
    expect([...polling].sort()).toEqual([0, 1]);
    const [holder, survivor] = polling[0] === 1 ? [one, two] : [two, one];
    const [onHolder, onSurvivor] = holder === one ? [onOne, onTwo] : [onTwo, onOne];
    const idleBefore = await metric(survivor, 'live_feed_polls_total');
    const more = [insert(), insert()];
    const seenOnHolder = await records(onHolder, 2);
    expect(seenOnHolder.map((r) => r.drSid)).toEqual(more);
    expect((await records(onSurvivor, 2)).map((r) => r.drSid)).toEqual(more);
    expect(await metric(survivor, 'live_feed_polls_total')).toBe(idleBefore);

    // The holder dies at once: no drain, its lease left to expire.
    process.kill(holder.process.pid, 'SIGKILL');
    while (alive(holder.process.pid)) await new Promise((resolve) => setTimeout(resolve, 10));
    const during = [insert(), insert()];
    expect((await records(onSurvivor, 2)).map((r) => r.drSid)).toEqual(during);
    await vi.waitFor(async () => expect(await metric(survivor, 'live_feed_pollers_polling')).toBe(1), WAIT);
    const after = [insert()];
    expect((await records(onSurvivor, 1)).map((r) => r.drSid)).toEqual(after);

    // The killed process's client reconnects to the survivor with the last id it got: it gets exactly what it
    // missed, then what comes next.
    const resumed = await sse(survivor.origin, {
      headers: { 'last-event-id': seenOnHolder[1]?.id as string },
    });
    expect((await records(resumed, 3)).map((r) => r.drSid)).toEqual([...during, ...after]);
    const next = insert();
    expect((await records(resumed, 1)).map((r) => r.drSid)).toEqual([next]);
    expect((await records(onSurvivor, 1)).map((r) => r.drSid)).toEqual([next]);
    resumed.close();
    onOne.close();
    onTwo.close();
  });
});
