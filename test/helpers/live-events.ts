import { type CarrierXClient, carrierXClientFor } from '../../src/carrierx/client.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { LiveEvent, LiveFeedOptions } from '../../src/live/feed.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import { TEST_ENV } from './harness.ts';

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

/**
 * A CarrierX client of the simulator at `baseUrl` for feed tests, configured as the test harness's (quick
 * retries, a breaker that never opens), with `retries` retries and a 2 s timeout.
 */
export function createTestClient(baseUrl: string, logger: Logger, retries: number): CarrierXClient {
  const config = loadConfig({
    ...TEST_ENV,
    CARRIERX_BASE_URL: baseUrl,
    CARRIERX_TIMEOUT_MS: '2000',
    CARRIERX_CONNECTIONS: '4',
    CARRIERX_RETRIES: String(retries),
  });
  return carrierXClientFor(config.carrierx, baseUrl, logger);
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
