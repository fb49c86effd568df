import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CarrierXClient } from '../src/carrierx/client.ts';
import {
  CHILD_PARTNER_SID,
  createSimulator,
  DEMO_TOKEN,
  DESCENDANT_TOKEN,
  type RecordedRequest,
  SAMPLE_DR_SID,
  type Simulator,
} from '../src/carrierx/simulator/index.ts';
import type { ServiceError } from '../src/errors.ts';
import { createLiveFeed, type LiveEvent, type LiveFeed, type LiveFeedOptions } from '../src/live/feed.ts';
import { createFingerprint } from '../src/records/cdr-cache.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { metricsRegistry } from '../src/telemetry/metrics.ts';
import { createTestClient, LIVE_TEST_OPTIONS, sids, take as takeEvents } from './helpers/live-events.ts';

// The feed's clock is pinned here, well after every generated record: the first watermark is this instant, so
// a record the test inserts at T0 + n ms is new, and whatever the simulator generated is history.
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const DEMO = `Bearer ${DEMO_TOKEN}`;
const DESCENDANT = `Bearer ${DESCENDANT_TOKEN}`;
const FIELDS = ['date_insert', 'dr_sid', 'number_src'];
// Far longer than any test: a poller polls once when it starts, then again only where a test shortens it.
const NEVER_MS = 600_000;

/** Small and quick: tests shorten what they are about. */
const TEST_OPTIONS: LiveFeedOptions = { ...LIVE_TEST_OPTIONS, pollerGraceMs: NEVER_MS };

interface Setup {
  simulator: Simulator;
  client: CarrierXClient;
  feed: LiveFeed;
  /** Inserts a record of the demo partner (or, `descendant`, of its child partner) at T0 + `ms`; its dr_sid. */
  insert(ms: number, values?: { drSid?: string; numberSrc?: string; descendant?: boolean }): string;
  /** The list calls the simulator received, oldest first. */
  listCalls(): RecordedRequest[];
}

const open: Setup[] = [];

afterEach(async () => {
  for (const setup of open.splice(0)) {
    await setup.feed.close();
    await setup.client.close();
    await setup.simulator.close();
  }
});

async function setup(options: Partial<LiveFeedOptions> = {}, retries = 2): Promise<Setup> {
  const simulator = createSimulator({ recordCount: 20 });
  const baseUrl = await simulator.listen(0, '127.0.0.1');
  const logger = createLogger({ level: 'silent' });
  const client = createTestClient(baseUrl, logger, retries);

  const feed = createLiveFeed({
    client,
    fingerprint: createFingerprint(Buffer.from('a live feed test key of 32 chars')),
    logger,
    options: { ...TEST_OPTIONS, ...options },
    now: () => T0,
  });
  const template = simulator.records.get(SAMPLE_DR_SID) as Record<string, unknown>;
  const made: Setup = {
    simulator,
    client,
    feed,
    insert(ms, values = {}) {
      const drSid = values.drSid ?? randomUUID();
      simulator.addRecord({
        ...template,
        dr_sid: drSid,
        date_insert: new Date(T0 + ms).toISOString(),
        number_src: values.numberSrc ?? '+15550000000',
        ...(values.descendant ? { partner_sid: CHILD_PARTNER_SID } : {}),
      });
      return drSid;
    },
    listCalls: () => simulator.requests.filter((r) => r.path.endsWith('/calls/call_drs')),
  };
  open.push(made);
  return made;
}

/** The next `count` events' dr_sids, failing if the iterator ends first. */
async function take(events: AsyncIterator<LiveEvent>, count: number): Promise<string[]> {
  return sids(await takeEvents(events, count));
}

/** The value of a series on /metrics, 0 when it is not there yet. */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await metricsRegistry.getSingleMetric(name)?.get())?.values.find((value) =>
    Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
  );
  return found?.value ?? 0;
}

/** The error the iterator ends with, or the events it gave instead. */
async function failure(events: AsyncIterator<LiveEvent>): Promise<ServiceError> {
  for (;;) {
    const next = await events.next().catch((error: unknown) => error as ServiceError);
    if ('code' in next) return next;
    if (next.done) throw new Error('the subscription finished without an error');
  }
}

describe('the live call feed', () => {
  it('polls once for two subscribers of the same credential and filter, and once per other filter or credential', async () => {
    const { feed, insert, listCalls } = await setup({ pollIntervalMs: NEVER_MS });
    const own = insert(1, { numberSrc: '+15551110000' });
    const child = insert(2, { numberSrc: '+15551110000', descendant: true });
    const filter = { numberSrc: { eq: '+15551110000' } };
    const first = await feed.subscribe({ authorization: DEMO, filter, fields: FIELDS });
    const second = await feed.subscribe({ authorization: DEMO, filter, fields: FIELDS });
    const unfiltered = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const descendant = await feed.subscribe({ authorization: DESCENDANT, filter, fields: FIELDS });
    expect(feed.stats()).toMatchObject({ pollers: 3, subscriptions: 4 });

    expect(await take(first, 1)).toEqual([own]);
    expect(await take(second, 1)).toEqual([own]);
    expect(await take(unfiltered, 1)).toEqual([own]);
    // Only the token that may read descendants' records sees the child partner's.
    expect(await take(descendant, 2)).toEqual([own, child]);

    // Each poller's first round is one page: three list calls, one per (credential, filter).
    const calls = listCalls();
    expect(calls).toHaveLength(3);
    const shapes = calls.map((c) => `${c.authorization} ${c.query.filter}`).sort();
    const since = `date_insert ge "${new Date(T0).toISOString()}"`;
    expect(shapes).toEqual(
      [
        `${DEMO} ${since}`,
        `${DEMO} number_src eq "+15551110000" and ${since}`,
        `${DESCENDANT} number_src eq "+15551110000" and ${since}`,
      ].sort(),
    );
    expect(calls.every((c) => c.query.order === 'date_insert asc')).toBe(true);
  });

  it('gives each subscriber every matching record once, in date_insert order, ties at one instant included', async () => {
    const { feed, insert } = await setup();
    const later = insert(5, { drSid: 'bbbbbbbb-0000-4000-8000-000000000000' });
    const tie = insert(5, { drSid: 'aaaaaaaa-0000-4000-8000-000000000000' });
    const earlier = insert(2);
    const ignored = insert(3, { numberSrc: '+15559999999' });
    const filter = { numberSrc: { eq: '+15550000000' } };
    const events = await feed.subscribe({ authorization: DEMO, filter, fields: FIELDS });
    expect(await take(events, 3)).toEqual([earlier, tie, later]);
    expect(ignored).toBeDefined();

    // CarrierX inserts one more record at the instant already delivered: it comes once, the others not again.
    const lateTie = insert(5, { drSid: '00000000-0000-4000-8000-000000000000' });
    const next = insert(6);
    expect(await take(events, 2)).toEqual([lateTie, next]);
  });

  it('pages until caught up, and merges the list calls an in filter needs', async () => {
    const { feed, insert, listCalls } = await setup({ pollIntervalMs: NEVER_MS, pageSize: 2 });
    const a = '+15550000001';
    const b = '+15550000002';
    const sids = [
      insert(1, { numberSrc: a }),
      insert(2, { numberSrc: b }),
      insert(3, { numberSrc: a }),
      insert(4, { numberSrc: b }),
      insert(5, { numberSrc: a }),
    ];
    const all = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const either = await feed.subscribe({
      authorization: DEMO,
      filter: { numberSrc: { in: [a, b] } },
      fields: FIELDS,
    });
    expect(await take(all, 5)).toEqual(sids);
    expect(await take(either, 5)).toEqual(sids);
    // Unfiltered: pages of 2, 2 and 1. The in filter: one list call per value, of 2 then 1 and of 2 records.
    const filters = listCalls().map((call) => call.query.filter?.split(' and ')[0]);
    expect(filters.filter((f) => f?.startsWith('date_insert'))).toHaveLength(3);
    expect(filters.filter((f) => f === `number_src eq "${a}"`)).toHaveLength(2);
    expect(filters.filter((f) => f === `number_src eq "${b}"`)).toHaveLength(1);
  });

  it('delivers once, with LIVE_LOOKBACK_MS, a record CarrierX shows late dated before one already delivered', async () => {
    const { feed, insert } = await setup({ lookbackMs: 1_000 });
    const events = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const first = insert(500);
    expect(await take(events, 1)).toEqual([first]);
    // Shown after the record at 500 was delivered, dated before it, within the look-back.
    const late = insert(100);
    expect(await take(events, 1)).toEqual([late]);
    // Asked for again each round, neither is delivered twice.
    const next = insert(600);
    expect(await take(events, 1)).toEqual([next]);
  });

  it('skips, without a look-back, a record CarrierX shows late dated before one already delivered', async () => {
    const { feed, insert } = await setup();
    const events = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const first = insert(500);
    expect(await take(events, 1)).toEqual([first]);
    insert(100);
    const next = insert(600);
    expect(await take(events, 1)).toEqual([next]);
  });

  it('gives a subscriber who joins later the records from its join on', async () => {
    const { feed, insert } = await setup();
    const events = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const before = insert(1);
    expect(await take(events, 1)).toEqual([before]);
    const late = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const after = insert(2);
    expect(await take(events, 1)).toEqual([after]);
    expect(await take(late, 1)).toEqual([after]);
  });

  it('asks CarrierX for the fields of every subscriber, a wider one from the next round on', async () => {
    const { feed, insert, listCalls } = await setup();
    const narrow = await feed.subscribe({ authorization: DEMO, fields: ['number_src'] });
    insert(1);
    await take(narrow, 1);
    expect(listCalls()[0]?.query.include_fields).toBe('date_insert,dr_sid,number_src');
    const wide = await feed.subscribe({ authorization: DEMO, fields: ['number_src', 'price'] });
    // A round already in flight asked without price: the record is inserted once a round asks for it.
    await vi.waitFor(() => expect(listCalls().at(-1)?.query.include_fields).toContain('price'), {
      timeout: 5_000,
    });
    insert(2);
    const [event] = await Promise.all([wide.next(), narrow.next()]);
    expect(event.value?.record.values.price).toBeDefined();
    expect(listCalls().at(-1)?.query.include_fields).toBe('date_insert,dr_sid,number_src,price');
  });

  it('replays exactly the missed events to a subscriber resuming with the last event id', async () => {
    const { feed, insert } = await setup({ replayRecords: 3 });
    const watcher = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const first = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const sids = [insert(1), insert(2)];
    const seen: LiveEvent[] = [];
    for (const _ of sids) seen.push((await first.next()).value as LiveEvent);
    await first.return?.();
    const missed = [insert(3), insert(4)];
    // Once the watcher has them, the poller has delivered them: they are in its replay buffer.
    expect(await take(watcher, 4)).toEqual([...sids, ...missed]);

    const resumed = await feed.subscribe({ authorization: DEMO, fields: FIELDS, lastEventId: seen[1]?.id });
    expect(await take(resumed, 2)).toEqual(missed);
    const live = insert(5);
    expect(await take(resumed, 1)).toEqual([live]);
    expect(await take(watcher, 1)).toEqual([live]);

    // Five delivered, three kept: the first event is out of the buffer, and records after it may be too.
    await expect(
      feed.subscribe({ authorization: DEMO, fields: FIELDS, lastEventId: seen[0]?.id }),
    ).rejects.toThrow(expect.objectContaining({ code: 'LIVE_RESUME_TOO_OLD' }));
    await expect(
      feed.subscribe({ authorization: DEMO, fields: FIELDS, lastEventId: 'bogus' }),
    ).rejects.toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('replays, to a client reconnecting during the grace period, the records it missed with the fields it selects', async () => {
    const { feed, insert, listCalls } = await setup();
    const first = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    insert(1);
    const seen = (await first.next()).value as LiveEvent;
    await first.return?.();
    const callsBefore = listCalls().length;
    const missed = insert(2);
    // Two rounds begun after the insert: the first of them has delivered the record into the replay buffer.
    await vi.waitFor(() => expect(listCalls().length).toBeGreaterThanOrEqual(callsBefore + 2), {
      timeout: 5_000,
    });
    const resumed = await feed.subscribe({ authorization: DEMO, fields: FIELDS, lastEventId: seen.id });
    const event = (await resumed.next()).value as LiveEvent;
    expect(event.record.drSid).toBe(missed);
    expect(event.record.values.number_src).toBe('+15550000000');
  });

  it('resumes from CarrierX when a resume id comes after its feed had stopped', async () => {
    const { feed, insert } = await setup({ pollerGraceMs: 0 });
    const first = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    insert(1);
    const seen = (await first.next()).value as LiveEvent;
    await first.return?.();
    await vi.waitFor(() => expect(feed.stats().pollers).toBe(0), { timeout: 5_000 });
    // One record at the instant of the event resumed from (after it in the feed's order), one later.
    const after = insert(1, { drSid: 'ffffffff-0000-4000-8000-000000000000' });
    const next = insert(2);
    const resumed = await feed.subscribe({ authorization: DEMO, fields: FIELDS, lastEventId: seen.id });
    expect(await take(resumed, 2)).toEqual([after, next]);
  });

  it('keeps 429 and 503 answers during polling from subscribers, and polls on', async () => {
    const before = {
      error: await metric('live_feed_polls_total', { outcome: 'error' }),
      rateLimited: await metric('live_feed_polls_total', { outcome: 'rate_limited' }),
      delivered: await metric('live_feed_records_delivered_total'),
    };
    const { feed, insert, simulator } = await setup({}, 0);
    const events = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const first = insert(1);
    expect(await take(events, 1)).toEqual([first]);
    simulator.faults.add({ match: { token: DEMO_TOKEN }, times: 2, fault: { kind: 'status', status: 503 } });
    simulator.faults.add({
      match: { token: DEMO_TOKEN },
      times: 1,
      fault: { kind: 'rate-limit', retryAfter: '1' },
    });
    const second = insert(2);
    const third = insert(3);
    expect(await take(events, 2)).toEqual([second, third]);
    const statuses = simulator.requests.map((r) => r.status);
    expect(statuses.filter((status) => status === 503)).toHaveLength(2);
    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
    // Without retries in the client, each failed call was a failed round, counted by its outcome.
    expect(await metric('live_feed_polls_total', { outcome: 'error' })).toBe(before.error + 2);
    expect(await metric('live_feed_polls_total', { outcome: 'rate_limited' })).toBe(before.rateLimited + 1);
    expect(await metric('live_feed_records_delivered_total')).toBe(before.delivered + 3);
    expect(await metric('live_feed_subscriptions')).toBe(1);
    expect(await metric('live_feed_pollers')).toBe(1);
  });

  it('ends every subscription with the error code when polling gives up', async () => {
    const { feed, insert, simulator } = await setup({ maxPollFailures: 3 }, 0);
    simulator.faults.add({ match: { token: DEMO_TOKEN }, fault: { kind: 'status', status: 500 } });
    const one = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const two = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    insert(1);
    expect((await failure(one)).code).toBe('UPSTREAM_UNAVAILABLE');
    expect((await failure(two)).code).toBe('UPSTREAM_UNAVAILABLE');
    expect(await one.next()).toEqual({ value: undefined, done: true });
    expect(feed.stats()).toMatchObject({ pollers: 0, subscriptions: 0 });
    // Three rounds of one attempt each, then no more.
    expect(simulator.requests.filter((r) => r.status === 500)).toHaveLength(3);
  });

  it('ends a subscription at once with UNAUTHENTICATED when CarrierX rejects its token', async () => {
    // Other failures would be tried again a thousand times first.
    const { feed, listCalls } = await setup({ maxPollFailures: 1000 });
    const events = await feed.subscribe({ authorization: 'Bearer not-a-carrierx-token', fields: FIELDS });
    expect((await failure(events)).code).toBe('UNAUTHENTICATED');
    expect(listCalls()).toHaveLength(1);
    expect(feed.stats()).toMatchObject({ pollers: 0, subscriptions: 0 });
  });

  it('stops polling a grace period after the last subscriber leaves, and not before', async () => {
    const graceMs = 100;
    const { feed, insert, listCalls } = await setup({ pollerGraceMs: graceMs });
    const events = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    insert(1);
    await take(events, 1);
    await events.return?.();
    expect(feed.stats()).toMatchObject({ pollers: 1, subscriptions: 0 });
    await vi.waitFor(() => expect(feed.stats().pollers).toBe(0), { timeout: graceMs + 5_000 });
    const calls = listCalls().length;
    // Many intervals later, no poll has been made.
    await new Promise((resolve) => setTimeout(resolve, TEST_OPTIONS.pollIntervalMs * 10));
    expect(listCalls()).toHaveLength(calls);
  });

  it('ends every subscription cleanly on close, and refuses new ones', async () => {
    const { feed } = await setup();
    const one = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const two = await feed.subscribe({ authorization: DESCENDANT, fields: FIELDS });
    const waiting = [one.next(), two.next()];
    await feed.close();
    expect(await Promise.all(waiting)).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
    expect(feed.stats()).toMatchObject({ pollers: 0, subscriptions: 0 });
    await expect(feed.subscribe({ authorization: DEMO, fields: FIELDS })).rejects.toThrow();
  });

  it('finishes a subscription whose client goes away, dropping what it had not read', async () => {
    const { feed, insert } = await setup();
    const gone = new AbortController();
    const leaving = await feed.subscribe({ authorization: DEMO, fields: FIELDS, signal: gone.signal });
    const staying = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const sid = insert(1);
    expect(await take(staying, 1)).toEqual([sid]);
    gone.abort();
    expect(await leaving.next()).toEqual({ value: undefined, done: true });
    expect(feed.stats()).toMatchObject({ pollers: 1, subscriptions: 1 });
  });

  it('refuses fields that are not call detail record fields', async () => {
    const { feed } = await setup();
    await expect(feed.subscribe({ authorization: DEMO, fields: ['price&limit=1'] })).rejects.toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT' }),
    );
  });

  it('ends a subscription that reads too slowly, and only that one', async () => {
    const { feed, insert } = await setup({ subscriberQueue: 2 });
    const slow = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const fast = await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    const sids = [insert(1), insert(2), insert(3)];
    expect(await take(fast, 3)).toEqual(sids);
    expect(await take(slow, 2)).toEqual(sids.slice(0, 2));
    const error = await failure(slow);
    expect(error.code).toBe('LIVE_SUBSCRIBER_TOO_SLOW');
    const more = insert(4);
    expect(await take(fast, 1)).toEqual([more]);
  });

  it('refuses subscriptions past its limits with clear codes, and a filter that queries refuse', async () => {
    const { feed } = await setup({ maxSubscriptionsPerCredential: 2, maxSubscriptions: 3, maxPollers: 2 });
    const refused = (code: string) => expect.objectContaining({ code });
    await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    await feed.subscribe({ authorization: DESCENDANT, fields: FIELDS });
    const filter = { numberSrc: { eq: '+15550000000' } };
    // A third (credential, filter) would need a third poller.
    await expect(feed.subscribe({ authorization: DEMO, filter, fields: FIELDS })).rejects.toThrow(
      refused('LIVE_TOO_MANY_POLLERS'),
    );
    await feed.subscribe({ authorization: DEMO, fields: FIELDS });
    await expect(feed.subscribe({ authorization: DEMO, fields: FIELDS })).rejects.toThrow(
      expect.objectContaining({
        code: 'LIVE_TOO_MANY_SUBSCRIPTIONS',
        message: expect.stringContaining('LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL'),
        extensions: expect.objectContaining({ limit: 2 }),
      }),
    );
    await expect(feed.subscribe({ authorization: DESCENDANT, fields: FIELDS })).rejects.toThrow(
      expect.objectContaining({
        code: 'LIVE_TOO_MANY_SUBSCRIPTIONS',
        extensions: expect.objectContaining({ limit: 3 }),
      }),
    );
    await expect(
      feed.subscribe({ authorization: DEMO, filter: { numberSrc: { phone: 'abc' } }, fields: FIELDS }),
    ).rejects.toThrow(refused('BAD_USER_INPUT'));
    expect(feed.stats()).toMatchObject({ pollers: 2, subscriptions: 3 });
  });
});
