import type { CdrRecord } from '../carrierx/record.ts';

// The shape of the live feed registry (src/live, issue 24) as the transports use it: the schema subscribes
// through it, the app creates and closes it. Kept here, apart from src/live, so the transports build against
// the contract alone.

/** One new record and its position in the feed (the SSE event id a reconnect resumes after). */
export interface LiveEvent {
  readonly id: string;
  readonly record: CdrRecord;
}

export interface LiveSubscribeOptions {
  /** What to send upstream as Authorization (src/credentials.ts resolveCredentials). */
  readonly authorization: string;
  /** CarrierX's `filter` parameter for the records to follow; undefined: every record the token may see. */
  readonly filter: string | undefined;
  /** The CarrierX API fields the subscriber selects (the poller fetches the union of its subscribers'). */
  readonly fields: readonly string[];
  /** The id of the last event the subscriber received (SSE `Last-Event-ID`): resume after it. */
  readonly resumeId?: string | undefined;
  /** Ends the subscription (the client left, the server drains). */
  readonly signal: AbortSignal;
}

/** The process's live feed: one poller per (credential, filter), shared by its subscribers. */
export interface LiveFeed {
  subscribe(options: LiveSubscribeOptions): AsyncIterable<LiveEvent>;
  /** Stops every poller and ends every subscription. */
  close(): Promise<void> | void;
}
