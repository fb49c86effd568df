import { type CarrierXClient, createCarrierXClient } from '../../src/carrierx/client.ts';
import type { LiveEvent, LiveFeedOptions } from '../../src/live/feed.ts';
import type { Logger } from '../../src/telemetry/logger.ts';

/** A live feed's options for tests: small and quick; a test shortens or widens what it is about. */
export const LIVE_TEST_OPTIONS: LiveFeedOptions = {
  pollIntervalMs: 20,
  pollerGraceMs: 600_000,
  replayRecords: 1000,
  maxSubscriptionsPerCredential: 100,
  maxSubscriptions: 1000,
  maxPollers: 100,
  subscriberQueue: 1000,
  maxPollFailures: 10,
  pollTimeoutMs: 5_000,
  maxBackoffMs: 50,
  pageSize: 1000,
  lookbackMs: 0,
};

/** A CarrierX client of the simulator at `baseUrl` for feed tests: quick retries, a breaker that never opens. */
export function createTestClient(baseUrl: string, logger: Logger, retries: number): CarrierXClient {
  return createCarrierXClient({
    baseUrl,
    timeoutMs: 2_000,
    includeFieldsParam: 'include_fields',
    connections: 4,
    logger,
    policies: {
      retries,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 20,
      breakerThreshold: 10_000,
      retryBudgetRatio: 10,
    },
  });
}

/** The next `count` events of a live feed subscription, failing if it ends first. */
export async function take(events: AsyncIterator<LiveEvent>, count: number): Promise<LiveEvent[]> {
  const taken: LiveEvent[] = [];
  while (taken.length < count) {
    const next = await events.next();
    if (next.done) throw new Error(`the subscription ended after ${taken.length} events`);
    taken.push(next.value);
  }
  return taken;
}

/** The dr_sids of `events`. */
export const sids = (events: readonly LiveEvent[]) => events.map((event) => event.record.drSid);
