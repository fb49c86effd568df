import { z } from 'zod';
import { integer, optional } from './shared.ts';

/** The live call feed (src/live/, issue 24): how CarrierX is polled and how many subscriptions it serves. */
export const liveEnv = z.object({
  LIVE_POLL_INTERVAL_MS: optional(integer(10, 3_600_000))
    .default(2_000)
    .describe('the wait between two polls of CarrierX for one live feed'),
  LIVE_POLLER_GRACE_MS: optional(integer(0, 3_600_000))
    .default(30_000)
    .describe('how long a live feed keeps polling after its last subscriber leaves'),
  LIVE_REPLAY_RECORDS: optional(integer(0, 100_000))
    .default(1_000)
    .describe('events kept per live feed for a subscriber resuming with Last-Event-ID'),
  LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL: optional(integer(1, 1_000_000))
    .default(20)
    .describe('live subscriptions one credential may hold at once, per process'),
  LIVE_MAX_SUBSCRIPTIONS: optional(integer(1, 1_000_000))
    .default(10_000)
    .describe('live subscriptions one process serves at once'),
  LIVE_MAX_POLLERS: optional(integer(1, 100_000))
    .default(200)
    .describe('distinct live feeds (credential and filter) one process polls CarrierX for'),
  LIVE_SUBSCRIBER_QUEUE: optional(integer(1, 100_000))
    .default(1_000)
    .describe('events one live subscriber may have waiting before it is ended as too slow'),
  LIVE_POLL_MAX_FAILURES: optional(integer(1, 1_000))
    .default(10)
    .describe('consecutive failed polls after which a live feed ends its subscriptions with the error'),
  LIVE_POLL_TIMEOUT_MS: optional(integer(100, 600_000))
    .default(10_000)
    .describe('the most one poll round (all its pages) may take'),
  LIVE_POLL_MAX_BACKOFF_MS: optional(integer(10, 3_600_000))
    .default(60_000)
    .describe('the longest wait between failed polls (exponential backoff with jitter)'),
  LIVE_LOOKBACK_MS: optional(integer(0, 3_600_000))
    .default(0)
    .describe(
      'how far before the newest record delivered each live poll asks again, for records CarrierX shows late',
    ),
  LIVE_LEASE_MS: optional(integer(300, 600_000))
    .default(6_000)
    .describe(
      'with REDIS_URL: a live feed whose polling replica dies is taken over by another within this time',
    ),
});

export function liveConfig(e: z.output<typeof liveEnv>) {
  return {
    /** The live call feed's timings and limits (src/live/types.ts LiveFeedOptions). */
    live: {
      pollIntervalMs: e.LIVE_POLL_INTERVAL_MS,
      pollerGraceMs: e.LIVE_POLLER_GRACE_MS,
      replayRecords: e.LIVE_REPLAY_RECORDS,
      maxSubscriptionsPerCredential: e.LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL,
      maxSubscriptions: e.LIVE_MAX_SUBSCRIPTIONS,
      maxPollers: e.LIVE_MAX_POLLERS,
      subscriberQueue: e.LIVE_SUBSCRIBER_QUEUE,
      maxPollFailures: e.LIVE_POLL_MAX_FAILURES,
      pollTimeoutMs: e.LIVE_POLL_TIMEOUT_MS,
      maxBackoffMs: e.LIVE_POLL_MAX_BACKOFF_MS,
      leaseMs: e.LIVE_LEASE_MS,
      lookbackMs: e.LIVE_LOOKBACK_MS,
      /** CarrierX's largest page: a poll that has fallen behind catches up in as few calls as it can. */
      pageSize: 1_000,
    },
  };
}
