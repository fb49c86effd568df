import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CarrierXClient } from '../src/carrierx/client.ts';
import {
  createSimulator,
  DEMO_TOKEN,
  SAMPLE_DR_SID,
  type Simulator,
} from '../src/carrierx/simulator/index.ts';
import { createLiveFeed, type LiveFeed, type LiveFeedOptions } from '../src/live/feed.ts';
import { createRedisLedger } from '../src/live/redis-ledger.ts';
import { createFingerprint } from '../src/records/cdr-cache.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { createTestClient, LIVE_TEST_OPTIONS, sids, take } from './helpers/live-events.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';

// Issue 24, across the fleet: feeds of two "replicas" (two feeds, each with its own Redis ledger, as two
// processes have) sharing one real redis-server and one CarrierX simulator. test/live-fleet-processes.test.ts
// does it with two server processes and SIGKILL.

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const DEMO = `Bearer ${DEMO_TOKEN}`;
const FIELDS = ['date_insert', 'dr_sid', 'number_src'];
const LEASE_MS = 600;
/** How long a test waits for a replica to take a feed (within LEASE_MS), well inside its own timeout. */
const WAIT = { timeout: 10_000, interval: 10 };

const OPTIONS: LiveFeedOptions = { ...LIVE_TEST_OPTIONS, pollIntervalMs: 40, pollerGraceMs: 60_000 };

let redis: RedisServer;
let simulator: Simulator;
let client: CarrierXClient;
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  redis = await startRedisServer();
  simulator = createSimulator({ recordCount: 20 });
  const baseUrl = await simulator.listen(0, '127.0.0.1');
  client = createTestClient(baseUrl, logger, 0);
});

afterAll(async () => {
  await client?.close();
  await simulator?.close();
  await redis?.stop();
});

/** One replica's feed: its own ledger (its own id in Redis), and a count of the list calls it made. */
interface Replica {
  feed: LiveFeed;
  calls: number;
  close(): Promise<void>;
}

const replicas: Replica[] = [];

afterEach(async () => {
  for (const replica of replicas.splice(0)) await replica.close();
});

/** A replica of the fleet; `prefix` keeps each test's feeds apart in the one Redis, `start` their records. */
function replica(prefix: string, start: number): Replica {
  const ledger = createRedisLedger({
    url: redis.url,
    timeoutMs: 1_000,
    keyPrefix: prefix,
    leaseMs: LEASE_MS,
    replayRecords: OPTIONS.replayRecords,
    lookbackMs: OPTIONS.lookbackMs,
    pageSize: OPTIONS.pageSize,
    logger,
  });
  const made: Replica = {
    calls: 0,
    feed: createLiveFeed({
      client: {
        listCallDetailRecords(...args) {
          made.calls += 1;
          return client.listCallDetailRecords(...args);
        },
      },
      // Every replica shares CACHE_KEY_SECRET: the same credential is the same feed everywhere.
      fingerprint: createFingerprint(Buffer.from('a live feed test key of 32 chars')),
      logger,
      options: OPTIONS,
      ledger,
      now: () => start,
    }),
    async close() {
      await made.feed.close();
      await ledger.close();
    },
  };
  replicas.push(made);
  return made;
}

const template = () => simulator.records.get(SAMPLE_DR_SID) as Record<string, unknown>;

let tests = 0;

/**
 * Two replicas of a fleet of this test's own (its own keys in Redis, its own stretch of time: a feed starts at
 * its start, after every record the simulator generated and every other test inserted), and `insert`, which adds
 * a record `ms` after that start and returns its dr_sid.
 */
function fleet() {
  tests += 1;
  const prefix = `${randomUUID()}:`;
  const start = T0 + tests * 3_600_000;
  return {
    start,
    a: replica(prefix, start),
    b: replica(prefix, start),
    insert(ms: number): string {
      const drSid = randomUUID();
      simulator.addRecord({
        ...template(),
        dr_sid: drSid,
        date_insert: new Date(start + ms).toISOString(),
        number_src: '+15550000000',
        price: '0.25',
      });
      return drSid;
    },
  };
}

describe('the live call feed across two replicas sharing Redis', () => {
  it('polls CarrierX from one replica only, and gives subscribers on both each record once, in order', async () => {
    const { a, b, insert } = fleet();
    const onA = await a.feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const onB = await b.feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const first = [insert(1), insert(2)];
    expect(sids(await take(onA, 2))).toEqual(first);
    expect(sids(await take(onB, 2))).toEqual(first);
    expect(a.feed.stats().polling + b.feed.stats().polling).toBe(1);
    // From here on, one of them makes every list call, however many rounds pass.
    a.calls = 0;
    b.calls = 0;
    const more = [insert(3), insert(4), insert(5)];
    expect(sids(await take(onA, 3))).toEqual(more);
    expect(sids(await take(onB, 3))).toEqual(more);
    expect(Math.min(a.calls, b.calls)).toBe(0);
    expect(Math.max(a.calls, b.calls)).toBeGreaterThan(0);
  });

  it('fetches, for a subscriber on the replica that does not poll, the fields it selects', async () => {
    const { a, b, insert } = fleet();
    const narrow = await a.feed.subscribe({ authorization: DEMO, fields: ['number_src'] });
    await vi.waitFor(() => expect(a.feed.stats().polling).toBe(1), WAIT);
    const wide = await b.feed.subscribe({ authorization: DEMO, fields: ['number_src', 'price'] });
    const drSid = insert(10);
    const [event] = await take(wide, 1);
    expect(event?.record.drSid).toBe(drSid);
    expect(event?.record.values.price).toBe('0.25');
    expect(sids(await take(narrow, 1))).toEqual([drSid]);
    expect(b.feed.stats().polling).toBe(0);
  });

  it('goes on from the position kept in Redis when the polling replica leaves: nothing lost, nothing twice', async () => {
    const { a, b, insert } = fleet();
    await a.feed.subscribe({ authorization: DEMO, fields: FIELDS });
    await vi.waitFor(() => expect(a.feed.stats().polling).toBe(1), WAIT);
    const onB = await b.feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const before = [insert(20), insert(21)];
    expect(sids(await take(onB, 2))).toEqual(before);
    await a.close();
    const after = [insert(22), insert(23)];
    expect(sids(await take(onB, 2))).toEqual(after);
    expect(b.feed.stats().polling).toBe(1);
    const last = insert(24);
    expect(sids(await take(onB, 1))).toEqual([last]);
  });

  it('resumes on one replica after the last event id another replica gave', async () => {
    const { a, b, insert, start } = fleet();
    const onA = await a.feed.subscribe({ authorization: DEMO, fields: FIELDS });
    // B follows the feed too (as another client of the fleet would have it), so the feed outlives A's client.
    await b.feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const inserted = [insert(30), insert(31)];
    const seen = await take(onA, 2);
    expect(sids(seen)).toEqual(inserted);
    await onA.return?.();
    const missed = [insert(32), insert(33)];
    // Read by B's feed already or not yet: the resumed subscription gets each of them once.
    const resumed = await b.feed.subscribe({
      authorization: DEMO,
      fields: FIELDS,
      lastEventId: seen[1]?.id,
    });
    const later = insert(34);
    expect(sids(await take(resumed, 3))).toEqual([...missed, later]);
    // An id from before the feed's horizon cannot be resumed from here.
    await expect(
      b.feed.subscribe({
        authorization: DEMO,
        fields: FIELDS,
        lastEventId: Buffer.from(`live1:${start - 60_000}:${SAMPLE_DR_SID}`).toString('base64url'),
      }),
    ).rejects.toMatchObject({ code: 'LIVE_RESUME_TOO_OLD' });
  });
});

describe('the live call feed when Redis goes away', () => {
  it('waits while Redis is down and, when it comes back empty, goes on from where its replicas were', async () => {
    const { a, b, insert } = fleet();
    const onA = await a.feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const onB = await b.feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const before = [insert(1), insert(2)];
    expect(sids(await take(onA, 2))).toEqual(before);
    expect(sids(await take(onB, 2))).toEqual(before);
    // Persistence is off: the restarted Redis has lost the lease, the position and the log.
    await redis.stop();
    const during = [insert(3), insert(4)];
    await redis.start();
    const after = [insert(5)];
    expect(sids(await take(onA, 3))).toEqual([...during, ...after]);
    expect(sids(await take(onB, 3))).toEqual([...during, ...after]);
    await vi.waitFor(() => expect(a.feed.stats().polling + b.feed.stats().polling).toBe(1), WAIT);
  });
});
