import { z } from 'zod';
import type { UpstreamPolicyOptions } from '../carrierx/policies.ts';
import { commaList, flag, httpUrlOf, integer, optional, whenValid } from './shared.ts';

/**
 * Calls in flight to CarrierX when nothing is set: enough for 50 ms round trips at ~5,000 calls/s (one
 * process's ceiling on this request), so the limit, not the pool, decides what CarrierX receives.
 */
const DEFAULT_MAX_CONCURRENT_CALLS = 256;
const DEFAULT_MIN_CONCURRENT_CALLS = 8;
/** A decimal from `min` to `max` (0.2, 1, .5): digits and one point only, as `integer` takes whole numbers. */
const decimal = (min: number, max: number) => {
  const error = `must be a number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^(\d+(\.\d*)?|\.\d+)$/, { error })
    .transform(Number)
    .pipe(z.number().min(min, { error }).max(max, { error }));
};

/**
 * The unconfirmed CarrierX filter operators the service can send (src/carrierx/list-query.ts) when
 * CARRIERX_FILTER_OPERATORS names them; without it, it does their work itself.
 */
export const PUSHABLE_OPERATORS = ['in', 'le'] as const;

/** Concurrent streams undici opens on one HTTP/2 connection (its maxConcurrentStreams default). */
export const H2_STREAMS_PER_CONNECTION = 100;

interface LimitEnv {
  CARRIERX_MAX_CONCURRENT_CALLS?: number | undefined;
  CARRIERX_CONNECTIONS?: number | undefined;
  CARRIERX_HTTP2: boolean;
}
function maxConcurrentCalls(e: LimitEnv): number {
  return e.CARRIERX_MAX_CONCURRENT_CALLS ?? e.CARRIERX_CONNECTIONS ?? DEFAULT_MAX_CONCURRENT_CALLS;
}
function streamsPerConnection(e: LimitEnv): number {
  return e.CARRIERX_HTTP2 ? H2_STREAMS_PER_CONNECTION : 1;
}
/** The pool, sized from the limit: every call it admits has a connection (or an HTTP/2 stream) to go out on. */
function connections(e: LimitEnv): number {
  return e.CARRIERX_CONNECTIONS ?? Math.ceil(maxConcurrentCalls(e) / streamsPerConnection(e));
}

/** The upstream: where CarrierX is, how it is called, and the policies that protect it. */
export const carrierxEnv = z
  .object({
    CARRIERX_BASE_URL: optional(
      httpUrlOf('set CARRIERX_TOKEN, or send Authorization per request', 'https://api.carrierx.com/core/v2'),
    ).describe('CarrierX Core API base URL; unset: the embedded simulator'),
    CARRIERX_TOKEN: optional(
      z.string().regex(/^[\x21-\x7e]+$/, { error: 'must be a single token of printable ASCII characters' }),
    ).describe('fallback bearer token, used only when a request carries no Authorization header'),
    CARRIERX_TIMEOUT_MS: optional(integer(1, 600_000))
      .default(10_000)
      .describe('timeout of each upstream call, and of opening a connection'),
    // CarrierX's field-filtering parameter name is unconfirmed (see README): switchable, and `off` sends none.
    CARRIERX_INCLUDE_FIELDS_PARAM: optional(
      z
        .string()
        .transform((value) => (value.toLowerCase() === 'off' ? 'off' : value))
        .pipe(
          z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a query parameter name, or off' }),
        ),
    )
      .default('include_fields')
      .describe("name of CarrierX's field-filtering query parameter; off fetches whole records"),
    // CarrierX's sources use only eq, like, gt, ge and lt; the others are unconfirmed, so none is sent until
    // an operator names one CarrierX accepts (the service then sends it instead of doing its work here).
    CARRIERX_FILTER_OPERATORS: optional(
      commaList((item) => item.toLowerCase()).pipe(
        z.array(
          z.enum(PUSHABLE_OPERATORS, {
            error: `must name operators among ${PUSHABLE_OPERATORS.join(', ')}, comma-separated`,
          }),
        ),
      ),
    ).meta({
      description: 'unconfirmed filter operators CarrierX accepts (in, le): sent instead of done here',
      unset: 'none',
    }),
    // Unset: one per call CARRIERX_MAX_CONCURRENT_CALLS allows (HTTP/1.1 carries one call per connection at a
    // time); undici opens them only as calls need them.
    CARRIERX_CONNECTIONS: optional(integer(1, 10_000)).meta({
      description: 'keep-alive connections in the upstream pool',
      unset: 'from CARRIERX_MAX_CONCURRENT_CALLS',
    }),
    // HTTP/2 to CarrierX (undici's allowH2, negotiated by ALPN over TLS): off until CarrierX confirms it offers it.
    CARRIERX_HTTP2: optional(flag).default(false).describe('HTTP/2 to CarrierX where it offers it'),
    CARRIERX_MAX_PARALLEL_PER_REQUEST: optional(integer(1, 100))
      .default(10)
      .describe('distinct records one HTTP request fetches at once'),
    CARRIERX_RETRIES: optional(integer(0, 10))
      .default(2)
      .describe('retries after the first attempt, for transient failures'),
    CARRIERX_RETRY_BASE_DELAY_MS: optional(integer(0, 60_000))
      .default(100)
      .describe('first backoff step (exponential, with jitter)'),
    CARRIERX_RETRY_MAX_DELAY_MS: optional(integer(0, 60_000)).default(2_000).describe('largest backoff step'),
    // A retry budget after Finagle's and Envoy's (src/carrierx/retry-budget.ts): when CarrierX fails every call,
    // retries must not multiply the load on it.
    CARRIERX_RETRY_BUDGET_RATIO: optional(decimal(0, 10))
      .default(0.2)
      .describe('retries allowed per call over the last 10 s; at CARRIERX_RETRIES or more: no budget'),
    CARRIERX_RETRY_BUDGET_MIN_PER_SECOND: optional(integer(0, 10_000))
      .default(1)
      .describe('retries allowed in any second beyond the ratio, so that a quiet service still retries'),
    // Consecutive failed calls. Under concurrent load a fifth of records failing made 5 in a row a matter of
    // seconds (scripts/load-with-faults.ts); 10 in a row takes a real outage or most calls failing.
    CARRIERX_BREAKER_THRESHOLD: optional(integer(1, 10_000))
      .default(10)
      .describe('consecutive failed calls that open the circuit'),
    CARRIERX_BREAKER_COOLDOWN_MS: optional(integer(1, 600_000))
      .default(10_000)
      .describe('how long the circuit stays open before one probe call'),
    // The protection CarrierX gets: calls in flight to it, across all requests. Unset: CARRIERX_CONNECTIONS when
    // that is set (what it meant before), else DEFAULT_MAX_CONCURRENT_CALLS.
    CARRIERX_MAX_CONCURRENT_CALLS: optional(integer(1, 10_000)).meta({
      description: "the most calls this process has in flight to CarrierX; the adaptive limit's ceiling",
      unset: `${DEFAULT_MAX_CONCURRENT_CALLS} (or CARRIERX_CONNECTIONS when only that is set)`,
    }),
    CARRIERX_MIN_CONCURRENT_CALLS: optional(integer(1, 10_000)).meta({
      description: "the adaptive limit's floor",
      unset: `${DEFAULT_MIN_CONCURRENT_CALLS} (or the ceiling, if lower)`,
    }),
    CARRIERX_ADAPTIVE_CONCURRENCY: optional(flag)
      .default(true)
      .describe('the limit on calls in flight adapts between floor and ceiling; false: the ceiling, fixed'),
    CARRIERX_MAX_QUEUED_CALLS: optional(integer(0, 100_000))
      .default(1_000)
      .describe('calls waiting for the limit; beyond it a call fails at once as overloaded'),
    CARRIERX_MAX_SHARE_PER_CREDENTIAL: optional(decimal(0.01, 1))
      .default(0.5)
      .describe(
        'the fraction of the limit and queue one credential may hold while others are active; 1: off',
      ),
  })
  // More calls in flight than connections can carry would queue inside undici, out of reach of the per-call
  // timer.
  .refine((e) => maxConcurrentCalls(e) <= connections(e) * streamsPerConnection(e), {
    path: ['CARRIERX_MAX_CONCURRENT_CALLS'],
    ...whenValid,
    error: `must not exceed CARRIERX_CONNECTIONS (× ${H2_STREAMS_PER_CONNECTION} streams with CARRIERX_HTTP2)`,
  })
  .refine((e) => (e.CARRIERX_MIN_CONCURRENT_CALLS ?? 0) <= maxConcurrentCalls(e), {
    path: ['CARRIERX_MIN_CONCURRENT_CALLS'],
    ...whenValid,
    error: 'must not exceed CARRIERX_MAX_CONCURRENT_CALLS',
  })
  .refine((e) => e.CARRIERX_RETRY_MAX_DELAY_MS >= e.CARRIERX_RETRY_BASE_DELAY_MS, {
    path: ['CARRIERX_RETRY_MAX_DELAY_MS'],
    ...whenValid,
    error: 'must be at least CARRIERX_RETRY_BASE_DELAY_MS',
  });

export function carrierxConfig(e: z.output<typeof carrierxEnv>) {
  return {
    carrierx: {
      /** Undefined means: run the embedded simulator and use it. */
      baseUrl: e.CARRIERX_BASE_URL,
      token: e.CARRIERX_TOKEN,
      timeoutMs: e.CARRIERX_TIMEOUT_MS,
      /** Undefined: field filtering off, whole records are fetched. */
      includeFieldsParam:
        e.CARRIERX_INCLUDE_FIELDS_PARAM === 'off' ? undefined : e.CARRIERX_INCLUDE_FIELDS_PARAM,
      connections: connections(e),
      /** The unconfirmed filter operators CarrierX accepts, sent to it rather than done here. */
      filterOperators: new Set<string>(e.CARRIERX_FILTER_OPERATORS ?? []),
      /** undici's allowH2: HTTP/2 where CarrierX offers it. */
      http2: e.CARRIERX_HTTP2,
      maxParallelPerRequest: e.CARRIERX_MAX_PARALLEL_PER_REQUEST,
      policies: {
        retries: e.CARRIERX_RETRIES,
        retryBaseDelayMs: e.CARRIERX_RETRY_BASE_DELAY_MS,
        retryMaxDelayMs: e.CARRIERX_RETRY_MAX_DELAY_MS,
        breakerThreshold: e.CARRIERX_BREAKER_THRESHOLD,
        breakerCooldownMs: e.CARRIERX_BREAKER_COOLDOWN_MS,
        maxConcurrentCalls: maxConcurrentCalls(e),
        minConcurrentCalls:
          e.CARRIERX_MIN_CONCURRENT_CALLS ?? Math.min(DEFAULT_MIN_CONCURRENT_CALLS, maxConcurrentCalls(e)),
        adaptiveConcurrency: e.CARRIERX_ADAPTIVE_CONCURRENCY,
        maxQueuedCalls: e.CARRIERX_MAX_QUEUED_CALLS,
        retryBudgetRatio: e.CARRIERX_RETRY_BUDGET_RATIO,
        retryBudgetMinPerSecond: e.CARRIERX_RETRY_BUDGET_MIN_PER_SECOND,
        maxSharePerCredential: e.CARRIERX_MAX_SHARE_PER_CREDENTIAL,
      } satisfies UpstreamPolicyOptions,
    },
  };
}
