import type { CarrierXClient } from '../carrierx/client.ts';
import { CDR_API_NAMES } from '../carrierx/fields.ts';
import { buildFilters, quoteFilterValue } from '../carrierx/list-query.ts';
import type { CdrRecord } from '../carrierx/record.ts';
import { ServiceError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { observeLiveFeed, recordLiveDelivered, recordLivePoll } from '../telemetry/metrics.ts';
import { type Span, tracer } from '../telemetry/tracing.ts';
import { createMemoryLedger, type FeedLog, type Hold, type Ledger } from './ledger.ts';
import {
  advance,
  alreadyDelivered,
  askFrom,
  comparePositions,
  decodeEventId,
  encodeEventId,
  type Position,
  positionOf,
} from './state.ts';
import type { LiveEvent, LiveFeed, LiveFeedOptions, LiveRequest } from './types.ts';

export type {
  LiveEvent,
  LiveFeed,
  LiveFeedOptions,
  LiveFeedStats,
  LiveRequest,
} from './types.ts';

/** What the feed needs from the rest of the service. */
export interface LiveFeedDeps {
  /** The CarrierX client (or the record cache in front of it): its policies apply to every poll. */
  client: Pick<CarrierXClient, 'listCallDetailRecords'>;
  /** The record cache's credential fingerprint (HMAC with CACHE_KEY_SECRET): the poller's key, never the token. */
  fingerprint(authorization: string): string;
  logger: Logger;
  options: LiveFeedOptions;
  /** Unconfirmed filter operators CarrierX accepts (CARRIERX_FILTER_OPERATORS), as for queries. */
  pushDown?: ReadonlySet<string> | undefined;
  /** Where feeds' logs live (src/live/ledger.ts): this process's memory unless given Redis's, for a fleet. */
  ledger?: Ledger | undefined;
  /** The wall clock the first watermark is read from (tests pin it). */
  now?: () => number;
}

/** The fields every poll asks for whatever the subscribers select: the feed's order is made of them. */
const POSITION_FIELDS = ['date_insert', 'dr_sid'];

/** How a poll round ended, for the metrics. */
export type PollOutcome = 'ok' | 'rate_limited' | 'error' | 'gave_up';

/** One subscriber: its queue of events and how its iterator is waiting. */
interface Subscriber {
  readonly credential: string;
  readonly fields: readonly string[];
  readonly queue: LiveEvent[];
  /** The iterator's pending next(), if it is waiting. */
  waiting: ((result: IteratorResult<LiveEvent>) => void) | undefined;
  failWaiting: ((error: unknown) => void) | undefined;
  /** Set once the subscription is over: an error to throw after the queue drains, or 'done'. */
  ended: ServiceError | 'done' | undefined;
  /** Receiving events: from the moment its subscription is set up (its fields made known, its replay read). */
  joined: boolean;
  detach(): void;
}

/** One poller: a (credential, canonical filter) followed for every subscriber this process has. */
interface Poller {
  readonly key: string;
  readonly credential: string;
  readonly authorization: string;
  /** CarrierX filters, one per list call the filter needs (an `in` done here: one per value). */
  readonly filters: readonly (string | undefined)[];
  /** The feed's log: who polls it, and the events it delivered (this process's memory, or Redis). */
  readonly log: FeedLog;
  readonly subscribers: Set<Subscriber>;
  /** Aborts the round in flight and the wait between rounds. */
  readonly stop: AbortController;
  graceTimer: NodeJS.Timeout | undefined;
  /** The fields the last round asked for. */
  lastFields: readonly string[];
  /** The fields made known to the log (`want`): a subscriber selecting others tells it before it joins. */
  readonly wanted: Set<string>;
  /** The newest date_insert delivered (or where the feed started), for the lag gauge. */
  watermark: number;
  /** Whether this process polls it now (it holds the lease, or there is no fleet). */
  holding: boolean;
  failures: number;
  stopped: boolean;
}

const LEDGER_UNAVAILABLE = 'Live feed: its ledger (Redis) is unavailable; the feed waits for it';

/** An append the log refused: another process holds the feed now and polls these records itself. */
class HoldLost extends Error {}

/**
 * The live call feed's registry: one poller per (credential fingerprint, canonical filter), started by its first
 * subscriber, shared by the others, stopped LIVE_POLLER_GRACE_MS after its last one leaves. Each round asks
 * CarrierX for `filter and date_insert ge <watermark>` in date_insert order through the one client (its
 * limiter, breaker, 429 cool-down and retry budget), pages until caught up, drops what it already delivered at
 * the watermark and appends the rest to the feed's log, whose every reader hands each record to its subscribers'
 * bounded queues. The log is the ledger's (src/live/ledger.ts): in memory, this process alone polls and reads;
 * in Redis, one process of the fleet polls each feed under a lease and every process reads. Transports build on
 * `subscribe`.
 */
export function createLiveFeed(deps: LiveFeedDeps): LiveFeed {
  const { client, logger, options } = deps;
  const now = deps.now ?? Date.now;
  const ledger = deps.ledger ?? createMemoryLedger({ replayRecords: options.replayRecords });
  const pollers = new Map<string, Poller>();
  const perCredential = new Map<string, number>();
  let subscriptions = 0;
  let closed = false;
  /** Each poller's loop, for close() to wait on. */
  const runs = new Set<Promise<void>>();
  let lastLedgerWarning = Number.NEGATIVE_INFINITY;

  function pollerKey(credential: string, filters: readonly (string | undefined)[]): string {
    // The canonical filter: buildFilters writes conditions in one fixed order whatever order the input had.
    return `${credential}\n${filters.map((f) => f ?? '').join('\n')}`;
  }

  function unionFields(poller: Poller): readonly string[] {
    // With no subscriber (the grace period), the last ones' fields: what it polls then is kept for replay to a
    // client that reconnects with Last-Event-ID, which selects what it selected before.
    if (poller.subscribers.size === 0) return poller.lastFields;
    const names = new Set(POSITION_FIELDS);
    for (const subscriber of poller.subscribers) for (const name of subscriber.fields) names.add(name);
    poller.lastFields = [...names].sort();
    return poller.lastFields;
  }

  /** The ledger failing (Redis away) is logged once in a while, not once a round. */
  function warnLedger(error: unknown, message: string): void {
    // Elapsed time, not the feed's wall clock (`now`, which tests pin): a pinned clock would silence it for good.
    if (performance.now() - lastLedgerWarning < 30_000) return;
    lastLedgerWarning = performance.now();
    logger.warn({ err: { message: (error as Error).message } }, message);
  }

  function push(subscriber: Subscriber, event: LiveEvent): boolean {
    if (subscriber.ended) return false;
    if (subscriber.waiting) {
      const resolve = subscriber.waiting;
      subscriber.waiting = undefined;
      subscriber.failWaiting = undefined;
      resolve({ value: event, done: false });
      return true;
    }
    if (subscriber.queue.length >= options.subscriberQueue) {
      // A slow reader must not hold the poller (or the others) back, nor grow without bound.
      end(
        subscriber,
        new ServiceError('LIVE_SUBSCRIBER_TOO_SLOW', undefined, { limit: options.subscriberQueue }),
      );
      return false;
    }
    subscriber.queue.push(event);
    return true;
  }

  /**
   * What the log hands this process: each event to every subscriber that has joined and whose fields its round
   * asked for. One that selects more joined after that round began (its fields were not known yet): it gets
   * records from the next round on, which asks for them.
   */
  function receive(poller: Poller, entries: readonly LiveEvent[]): void {
    let delivered = 0;
    for (const event of entries) {
      const asked = new Set(event.fields);
      for (const subscriber of poller.subscribers) {
        if (!subscriber.joined || !subscriber.fields.every((name) => asked.has(name))) continue;
        if (push(subscriber, event)) delivered += 1;
      }
    }
    const last = entries[entries.length - 1];
    if (last) poller.watermark = Math.max(poller.watermark, decodeEventId(last.id).at);
    recordLiveDelivered(delivered);
  }

  /** Ends a subscription: its iterator yields what is queued, then finishes (or throws `error`). */
  function end(subscriber: Subscriber, how: ServiceError | 'done'): void {
    if (subscriber.ended) return;
    subscriber.ended = how;
    subscriber.detach();
    if (subscriber.waiting) {
      const resolve = subscriber.waiting;
      const reject = subscriber.failWaiting;
      subscriber.waiting = undefined;
      subscriber.failWaiting = undefined;
      if (how === 'done') resolve({ value: undefined, done: true });
      else {
        // Thrown once, to the waiting next(): afterwards the iterator is simply finished.
        subscriber.ended = 'done';
        reject?.(how);
      }
    }
  }

  function stopPoller(poller: Poller): void {
    if (poller.stopped) return;
    poller.stopped = true;
    clearTimeout(poller.graceTimer);
    poller.stop.abort();
    pollers.delete(poller.key);
  }

  /** Sleeps `ms`, or less if the poller stops. */
  function pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * One round: every page after the watermark, for each list call the filter needs, appended to the log in
   * order. Resolves how many events it appended; HoldLost when the log refused an append.
   */
  async function pollRound(poller: Poller, held: Hold, signal: AbortSignal, span: Span | undefined) {
    const position = held.position;
    const fields = [...held.fields];
    const deadlineAt = performance.now() + options.pollTimeoutMs;
    // The round's attempts go under its span (the client reads it from the tally, as for an operation's).
    const tally = { upstreamCalls: 0, records: 0, span };
    const since = quoteFilterValue(
      new Date(askFrom(position, options.lookbackMs)).toISOString(),
      'watermark',
    );
    const found: { position: Position; record: CdrRecord }[] = [];
    let appended = 0;
    const deliver = async () => {
      // Several list calls (an `in` done here) are merged; one call's order is CarrierX's, checked all the same.
      found.sort((a, b) => comparePositions(a.position, b.position));
      const entries: LiveEvent[] = [];
      for (const { position: at, record } of found) {
        if (alreadyDelivered(position, at, options.lookbackMs)) continue;
        advance(position, at, options.lookbackMs);
        entries.push({ id: encodeEventId(at), record, fields });
      }
      found.length = 0;
      if (entries.length === 0) return;
      if (!(await poller.log.append(entries, position))) throw new HoldLost();
      appended += entries.length;
    };
    // One list call: each page is delivered as it arrives, so a feed far behind (resumed from an old id) moves
    // its watermark page by page, and a round cut short by its deadline leaves the next one less to do.
    const pageByPage = poller.filters.length === 1;
    for (const filter of poller.filters) {
      const condition = `${filter === undefined ? '' : `${filter} and `}date_insert ge ${since}`;
      let after: string | undefined;
      for (;;) {
        const page = await client.listCallDetailRecords(
          { limit: options.pageSize, order: 'date_insert asc', filter: condition, after },
          fields,
          poller.authorization,
          { signal, deadlineAt, tally },
        );
        for (const record of page.records) {
          const at = positionOf(record);
          if (at === undefined) {
            // Without its date_insert a record has no place in the feed; CarrierX always sends one.
            logger.warn({ drSid: record.drSid }, 'Live feed: CarrierX sent a record without a date_insert');
            continue;
          }
          found.push({ position: at, record });
        }
        if (pageByPage) await deliver();
        const last = page.records[page.records.length - 1];
        if (!page.hasMore || last === undefined) break;
        after = last.drSid;
      }
    }
    await deliver();
    return appended;
  }

  /**
   * Until the poller stops: holds the feed (or waits while another process does), then rounds, with the interval
   * between them, Retry-After after a 429, backoff after errors.
   */
  async function run(poller: Poller): Promise<void> {
    const { signal } = poller.stop;
    while (!signal.aborted) {
      let held: Hold | undefined;
      try {
        held = await poller.log.hold(unionFields(poller));
      } catch (error) {
        warnLedger(error, LEDGER_UNAVAILABLE);
      }
      poller.holding = held !== undefined;
      if (!held) {
        await pause(poller.log.retryMs, signal);
        continue;
      }
      let waitMs = options.pollIntervalMs;
      const span = tracer?.startPollRound({
        filters: poller.filters.length,
        includeFields: [...held.fields],
        subscribers: poller.subscribers.size,
      });
      const roundSignal = AbortSignal.any([signal, held.signal]);
      try {
        const appended = await pollRound(poller, held, roundSignal, span);
        poller.failures = 0;
        recordLivePoll('ok');
        if (span) tracer?.endPollRound(span, 'ok', appended);
      } catch (error) {
        if (roundSignal.aborted || error instanceof HoldLost) {
          // Stopped, or another process holds the feed now (it polls from the last position appended).
          if (span) tracer?.endPollRound(span, 'cancelled', 0);
          poller.holding = false;
          continue;
        }
        const failure =
          error instanceof ServiceError ? error : new ServiceError('UPSTREAM_UNAVAILABLE', undefined);
        const rateLimited = failure.code === 'RATE_LIMITED';
        // CarrierX asking us to slow down is no failure: waited out, however often, it never gives up a feed.
        if (!rateLimited) poller.failures += 1;
        const final = failure.code === 'UNAUTHENTICATED' || failure.code === 'FORBIDDEN';
        if (final || poller.failures >= options.maxPollFailures) {
          logger.warn(
            { code: failure.code, failures: poller.failures },
            'Live feed: polling CarrierX gave up; its subscriptions end with the error',
          );
          recordLivePoll('gave_up');
          if (span) tracer?.endPollRound(span, 'gave_up', 0, failure.code);
          for (const subscriber of [...poller.subscribers]) end(subscriber, failure);
          stopPoller(poller);
          break;
        }
        recordLivePoll(rateLimited ? 'rate_limited' : 'error');
        if (span) tracer?.endPollRound(span, rateLimited ? 'rate_limited' : 'error', 0, failure.code);
        const retryAfter = failure.extensions.retryAfter;
        if (rateLimited) {
          // The client's cool-down for this credential ends at the same moment: waiting it out here means the
          // next round's call finds no cool-down left, so nothing waits twice.
          if (typeof retryAfter === 'number') waitMs = Math.max(waitMs, retryAfter * 1000);
        } else {
          const backoff = Math.min(options.maxBackoffMs, options.pollIntervalMs * 2 ** (poller.failures - 1));
          waitMs = backoff / 2 + Math.random() * (backoff / 2);
        }
        logger.info(
          { code: failure.code, failures: poller.failures, waitMs: Math.round(waitMs) },
          'Live feed: a poll failed; it is tried again',
        );
      }
      await pause(waitMs, signal);
    }
  }

  function startPoller(
    key: string,
    credential: string,
    authorization: string,
    filters: readonly (string | undefined)[],
    resumeFrom: Position | undefined,
  ): Poller {
    const watermark = now();
    const poller: Poller = {
      key,
      credential,
      authorization,
      filters,
      log: ledger.open(key, { watermark, resumeFrom }, (entries) => receive(poller, entries)),
      subscribers: new Set(),
      stop: new AbortController(),
      graceTimer: undefined,
      lastFields: POSITION_FIELDS,
      wanted: new Set(POSITION_FIELDS),
      watermark: resumeFrom?.at ?? watermark,
      holding: false,
      failures: 0,
      stopped: false,
    };
    pollers.set(key, poller);
    // Started on the next tick: the subscriber that starts it is in its set first, so the first round asks for
    // its fields.
    const running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() =>
        run(poller).catch((error: unknown) => {
          logger.error({ err: error }, 'Live feed: a poller failed unexpectedly');
          for (const subscriber of [...poller.subscribers])
            end(subscriber, new ServiceError('UPSTREAM_UNAVAILABLE'));
          stopPoller(poller);
        }),
      )
      // Gives the feed up (its lease, its fields) once the loop has ended: nothing of it is in flight any more.
      .then(() => poller.log.close())
      .catch((error: unknown) => warnLedger(error, 'Live feed: closing a feed in its ledger failed'));
    runs.add(running);
    running.finally(() => runs.delete(running));
    return poller;
  }

  async function subscribe(request: LiveRequest): Promise<AsyncIterableIterator<LiveEvent>> {
    if (closed) throw new ServiceError('UPSTREAM_UNAVAILABLE', 'This service is shutting down.');
    // The same validation and canonical form as callDetailRecords: nothing unvalidated reaches CarrierX.
    const filters = buildFilters(request.filter, deps.pushDown);
    // include_fields is sent unencoded: only names of the one field map may go into it.
    const unknown = request.fields.find((name) => !CDR_API_NAMES.has(name));
    if (unknown !== undefined) {
      throw new ServiceError(
        'BAD_USER_INPUT',
        `${JSON.stringify(unknown)} is not a call detail record field.`,
      );
    }
    const resumeFrom = request.lastEventId === undefined ? undefined : decodeEventId(request.lastEventId);
    const credential = deps.fingerprint(request.authorization);
    const held = perCredential.get(credential) ?? 0;
    if (held >= options.maxSubscriptionsPerCredential) {
      throw new ServiceError(
        'LIVE_TOO_MANY_SUBSCRIPTIONS',
        `These credentials already hold ${held} live subscriptions, as many as this service allows for one credential (LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL). End one first.`,
        { limit: options.maxSubscriptionsPerCredential },
      );
    }
    if (subscriptions >= options.maxSubscriptions) {
      throw new ServiceError(
        'LIVE_TOO_MANY_SUBSCRIPTIONS',
        `This service already runs ${subscriptions} live subscriptions, as many as it allows (LIVE_MAX_SUBSCRIPTIONS). Try again later.`,
        { limit: options.maxSubscriptions },
      );
    }
    const key = pollerKey(credential, filters);
    let poller = pollers.get(key);
    if (!poller) {
      if (pollers.size >= options.maxPollers) {
        throw new ServiceError('LIVE_TOO_MANY_POLLERS', undefined, { limit: options.maxPollers });
      }
      poller = startPoller(key, credential, request.authorization, filters, resumeFrom);
    }
    const own = poller;
    clearTimeout(own.graceTimer);
    own.graceTimer = undefined;

    const subscriber: Subscriber = {
      credential,
      fields: request.fields,
      queue: [],
      waiting: undefined,
      failWaiting: undefined,
      ended: undefined,
      joined: false,
      detach() {
        if (!own.subscribers.delete(subscriber)) return;
        subscriptions -= 1;
        const left = (perCredential.get(credential) ?? 1) - 1;
        if (left === 0) perCredential.delete(credential);
        else perCredential.set(credential, left);
        request.signal?.removeEventListener('abort', onAbort);
        if (own.subscribers.size === 0 && !own.stopped) {
          own.graceTimer = setTimeout(() => stopPoller(own), options.pollerGraceMs);
          own.graceTimer.unref?.();
        }
      },
    };
    // Counted (and its fields in the poller's union) from now: the limits hold while it is being set up.
    own.subscribers.add(subscriber);
    subscriptions += 1;
    perCredential.set(credential, held + 1);
    // The client went away: nothing queued is worth yielding any more.
    const onAbort = () => {
      subscriber.queue.length = 0;
      end(subscriber, 'done');
    };
    if (request.signal?.aborted) onAbort();
    else request.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      // Fields no subscriber here selected yet: whichever process polls learns them before the next round.
      const more = request.fields.filter((name) => !own.wanted.has(name));
      if (more.length > 0) {
        for (const name of more) own.wanted.add(name);
        await own.log.want(unionFields(own)).catch((error: unknown) => {
          // Told again with the next hold; until then its records come without these fields and wait for them.
          warnLedger(error, LEDGER_UNAVAILABLE);
        });
      }
      const join = (missed: LiveEvent[]) => {
        subscriber.queue.push(...missed);
        subscriber.joined = true;
      };
      if (resumeFrom) {
        await own.log.resume(resumeFrom, join).catch((error: unknown) => {
          if (error instanceof ServiceError) throw error;
          throw new ServiceError(
            'UPSTREAM_UNAVAILABLE',
            'The live feed cannot read what this subscription missed now. Try again later.',
          );
        });
      } else join([]);
    } catch (error) {
      subscriber.queue.length = 0;
      end(subscriber, 'done');
      throw error;
    }

    const iterator: AsyncIterableIterator<LiveEvent> = {
      next() {
        const queued = subscriber.queue.shift();
        if (queued) return Promise.resolve({ value: queued, done: false });
        if (subscriber.ended === 'done') return Promise.resolve({ value: undefined, done: true });
        if (subscriber.ended) {
          const error = subscriber.ended;
          // Thrown once: afterwards the iterator is simply finished, as a generator's would be.
          subscriber.ended = 'done';
          return Promise.reject(error);
        }
        return new Promise((resolve, reject) => {
          subscriber.waiting = resolve;
          subscriber.failWaiting = reject;
        });
      },
      return() {
        subscriber.queue.length = 0;
        end(subscriber, 'done');
        subscriber.ended = 'done';
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  const polling = () => [...pollers.values()].filter((poller) => poller.holding).length;
  const unobserve = observeLiveFeed(() => {
    const at = now();
    let lagMs = 0;
    // The watermark is the newest date_insert delivered, or the instant the poller started from.
    for (const poller of pollers.values()) lagMs = Math.max(lagMs, at - poller.watermark);
    return { pollers: pollers.size, subscriptions, lagSeconds: lagMs / 1000, holding: polling() };
  });

  return {
    subscribe,
    stats: () => ({ pollers: pollers.size, subscriptions, polling: polling() }),
    async close() {
      closed = true;
      unobserve();
      for (const poller of [...pollers.values()]) {
        for (const subscriber of [...poller.subscribers]) end(subscriber, 'done');
        stopPoller(poller);
      }
      // Stopping aborted each round in flight and each wait: the loops end at once, their calls cancelled, and
      // each feed is given up in the ledger (its lease released for the replicas that go on).
      await Promise.all(runs);
    },
  };
}
