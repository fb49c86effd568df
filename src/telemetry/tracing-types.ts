import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { UpstreamOutcome } from './metrics.ts';

// The tracing types, apart from tracing.ts so that the SDK (tracing-sdk.ts), which tracing.ts loads on demand,
// implements them without importing back the module that loads it: no import cycle, even of types.

export type { Span };

/** What one CarrierX attempt's span records before it is sent. */
export interface UpstreamAttempt {
  /** The URL as sent: CarrierX's base and path with `include_fields`; credentials never travel in it. */
  url: string;
  /** The record asked for; unset for a page of the list endpoint. */
  drSid?: string | undefined;
  /** The list endpoint asked for (`call_drs`); unset for one record. */
  list?: string | undefined;
  /** The API fields asked for; undefined when field filtering is off. */
  includeFields: readonly string[] | undefined;
  /** 1 for the first attempt, 2 for its first retry... */
  attempt: number;
  /** The cache's lookup that led to this call (`miss`, `partial`, `refresh`); unset without a cache. */
  cacheResult?: string | undefined;
}

/** What a live feed's poll round span records when it starts. */
export interface PollRound {
  /** The list calls each page of the round takes (an `in` done here: one per value). */
  filters: number;
  /** The API fields asked for: the union over the feed's subscribers. */
  includeFields: readonly string[];
  subscribers: number;
}

/** How a GraphQL operation ended, for its span. */
export interface OperationEnd {
  errorCodes: readonly string[];
  upstreamCalls: number;
  records: number;
}

/**
 * The spans this service makes, on OpenTelemetry's SDK (src/telemetry/tracing-sdk.ts). Only this interface
 * is imported by the request path: while tracing is off `tracer` is undefined, each hook is one check of it,
 * and the SDK is never loaded.
 */
export interface Tracing {
  /**
   * The server span of an HTTP request, continuing its W3C `traceparent` (a gateway's); ended, with the
   * response's status, when the response closes. Operations of the request find it with `requestSpan`.
   */
  startRequest(req: IncomingMessage, res: ServerResponse, requestId: string): void;
  /** The trace id of the server span `startRequest` made for `req` (none for health and readiness probes). */
  requestTraceId(req: IncomingMessage): string | undefined;
  /**
   * A GraphQL operation's span: under the request's server span, or (served without a Node request, e.g. a
   * replay through `app.fetch`) under the `traceparent` of `headers`. Never variable values: the document's
   * hash stands for it.
   */
  startOperation(
    req: IncomingMessage | undefined,
    headers: { get(name: string): string | null },
    type: string,
    name: string | undefined,
    document: string | undefined,
  ): Span;
  endOperation(span: Span, end: OperationEnd): void;
  /** A client span for one CarrierX attempt, under `parent`; its `traceparent` is written into `headers`. */
  startUpstream(parent: Span | undefined, attempt: UpstreamAttempt, headers: Record<string, string>): Span;
  endUpstream(span: Span, status: number, outcome: UpstreamOutcome): void;
  /**
   * A root span for one poll round of the live call feed (src/live/): no request is behind it, so it starts a
   * trace of its own, and the round's CarrierX attempts go under it. Never the filter's values.
   */
  startPollRound(round: PollRound): Span;
  /** Ends a poll round's span with how it ended (`ok`, `rate_limited`, `error`, `gave_up`). */
  endPollRound(span: Span, outcome: string, records: number, errorCode?: string): void;
  /** Exports what is buffered and stops: called once the server has drained. */
  shutdown(): Promise<void>;
}
