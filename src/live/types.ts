import type { CdrRecord } from '../carrierx/record.ts';

/** One subscription's ask: whose records, which ones, which fields, and from where. */
export interface LiveRequest {
  /** The Authorization the request resolved to (src/credentials.ts): sent upstream, never used as a key. */
  readonly authorization: string;
  /** The CallDetailRecordFilter input as GraphQL coerced it; validated here as callDetailRecords validates it. */
  readonly filter?: Readonly<Record<string, unknown>> | null | undefined;
  /** The API fields the selection needs (include_fields); the poller fetches the union over its subscribers. */
  readonly fields: readonly string[];
  /** A LiveEvent id (SSE `Last-Event-ID`): the events after it are replayed first. */
  readonly lastEventId?: string | undefined;
  /** Ends the subscription (the iterator then finishes) when it aborts. */
  readonly signal?: AbortSignal | undefined;
}

/** One new record for a subscriber, with the id to resume after it. */
export interface LiveEvent {
  /** Opaque: encodes the record's place in the feed (its date_insert and dr_sid). */
  readonly id: string;
  readonly record: CdrRecord;
  /**
   * The fields its poll round asked CarrierX for: every subscriber's at the time. A subscriber resuming later
   * with a wider selection has the record read again (src/graphql/schema/call-detail-record-added.ts).
   */
  readonly fields: readonly string[];
}

/** What the feed holds, for metrics, readiness and tests. */
export interface LiveFeedStats {
  readonly pollers: number;
  readonly subscriptions: number;
  /** Pollers this process polls CarrierX for (all of them alone; in a fleet, those whose lease it holds). */
  readonly polling: number;
}

/** The live call feed's registry of pollers; transports (GraphQL, SSE, WebSocket) subscribe through it. */
export interface LiveFeed {
  /**
   * The records matching `request.filter` inserted from now on (or after `lastEventId`), each once, in
   * date_insert order. Rejects with a ServiceError for an invalid filter or resume id, or past a limit; the
   * iterator later fails with a ServiceError when polling gives up or the subscriber falls too far behind, and
   * finishes when `signal` aborts, `return()` is called, or the feed closes.
   */
  subscribe(request: LiveRequest): Promise<AsyncIterableIterator<LiveEvent>>;
  stats(): LiveFeedStats;
  /** Ends every subscription (their iterators finish) and stops every poller: for drain. */
  close(): Promise<void>;
}

/** The limits and timings of the feed (LIVE_* in docs/configuration.md). */
export interface LiveFeedOptions {
  /** Between the end of one poll round and the start of the next. */
  pollIntervalMs: number;
  /** How long a poller with no subscriber keeps polling, for one that comes back. */
  pollerGraceMs: number;
  /** Events kept per poller for resuming by id. */
  replayRecords: number;
  maxSubscriptionsPerCredential: number;
  maxSubscriptions: number;
  maxPollers: number;
  /** Events one subscriber may have waiting; past it that subscription ends with LIVE_SUBSCRIBER_TOO_SLOW. */
  subscriberQueue: number;
  /** Consecutive failed rounds after which a poller gives up and ends its subscriptions with the error. */
  maxPollFailures: number;
  /** The deadline of one poll round, all its pages included. */
  pollTimeoutMs: number;
  /** The longest backoff between failed rounds (exponential from the interval, with jitter). */
  maxBackoffMs: number;
  /**
   * How far before the newest date_insert delivered each round asks again, for a record CarrierX shows late
   * (dated before one it showed earlier); 0: from the newest on.
   */
  lookbackMs: number;
  /** Records asked for per page (at most 1000). */
  pageSize: number;
}
