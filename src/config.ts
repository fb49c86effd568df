import { z } from 'zod';
import type { UpstreamPolicyOptions } from './carrierx/policies.ts';
import { type PersistedDocuments, readPersistedDocuments } from './persisted-documents.ts';

/** Empty strings count as unset, so `FOO= npm start` behaves like leaving FOO out. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

// Decimal digits only: Number() would also take 0x100C, 1e3, 0b1 or " 80" and quietly mean something else.
const integer = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, { error })
    .transform(Number)
    .pipe(z.number().int({ error }).min(min, { error }).max(max, { error }));
};

/** An http(s) URL with no credentials (`instead` says where they go), query or fragment; no trailing slash. */
const httpUrlOf = (instead: string, example: string) =>
  z
    .string()
    // Credentials in the URL would be printed in the banner and in errors, and undici would not send them.
    .refine((value) => !URL.canParse(value) || !/^[^/]*\/\/[^/?#]*@/.test(value), {
      error: `must not contain credentials (user:password@); ${instead}`,
      abort: true,
    })
    .refine(
      (value) => {
        try {
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash;
        } catch {
          return false;
        }
      },
      { error: `must be an http(s) URL without query or fragment, e.g. ${example}` },
    )
    .transform((value) => value.replace(/\/+$/, ''));

const httpUrl = httpUrlOf(
  'set CARRIERX_TOKEN, or send Authorization per request',
  'https://api.carrierx.com/core/v2',
);
const otlpUrl = httpUrlOf('set OTEL_EXPORTER_OTLP_HEADERS', 'http://otel-collector:4318');

/**
 * The W3C Baggage-style lists of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS: `key=value` pairs
 * separated by commas, values percent-encoded. A malformed list is refused rather than half read.
 */
const keyValueList = (what: string) =>
  z.string().transform((value, ctx) => {
    const out: Record<string, string> = {};
    for (const item of value.split(',')) {
      if (item.trim() === '') continue;
      const at = item.indexOf('=');
      const key = at < 0 ? '' : item.slice(0, at).trim();
      let decoded: string | undefined;
      try {
        decoded = at < 0 ? undefined : decodeURIComponent(item.slice(at + 1).trim());
      } catch {
        decoded = undefined;
      }
      if (!/^[A-Za-z0-9._/-]+$/.test(key) || decoded === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${what}=value pairs` });
        return z.NEVER;
      }
      out[key] = decoded;
    }
    return out;
  });

const OTLP_PROTOCOL = z.enum(['http/protobuf', 'http/json'], {
  error:
    "must be http/protobuf or http/json (OTLP over gRPC is not supported: use the collector's port 4318)",
});
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** `true`/`false` (also 1/0, yes/no, on/off); unset means the mode's default. */
const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(
    z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
      error: 'must be true or false',
    }),
  )
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

/** A host as the request handler compares it: spelled as URL.hostname spells it ([::1], 127.0.0.1). */
const urlHostname = (host: string) => new URL(`http://${host}/`).hostname;

/**
 * Calls in flight to CarrierX when nothing is set: enough for 50 ms round trips at ~5,000 calls/s (one
 * process's ceiling on this request), so the limit, not the pool, decides what CarrierX receives.
 */
const DEFAULT_MAX_CONCURRENT_CALLS = 256;
const DEFAULT_MIN_CONCURRENT_CALLS = 8;
/** Concurrent streams undici opens on one HTTP/2 connection (its maxConcurrentStreams default). */
export const H2_STREAMS_PER_CONNECTION = 100;

interface LimitEnv {
  CARRIERX_MAX_CONCURRENT_CALLS?: number | undefined;
  CARRIERX_CONNECTIONS?: number | undefined;
  CARRIERX_HTTP2?: boolean | undefined;
}
function maxConcurrentCalls(e: LimitEnv): number {
  return e.CARRIERX_MAX_CONCURRENT_CALLS ?? e.CARRIERX_CONNECTIONS ?? DEFAULT_MAX_CONCURRENT_CALLS;
}
function streamsPerConnection(e: LimitEnv): number {
  return e.CARRIERX_HTTP2 === true ? H2_STREAMS_PER_CONNECTION : 1;
}
/** The pool, sized from the limit: every call it admits has a connection (or an HTTP/2 stream) to go out on. */
function connections(e: LimitEnv): number {
  return e.CARRIERX_CONNECTIONS ?? Math.ceil(maxConcurrentCalls(e) / streamsPerConnection(e));
}

const envSchema = z
  .object({
    PORT: optional(integer(0, 65535)).default(4000),
    // Prometheus metrics at GET /metrics on their own listener (on HOST); 0 turns the listener off.
    METRICS_PORT: optional(integer(0, 65535)).default(9464),
    HOST: optional(z.string()).default('0.0.0.0'),
    CARRIERX_BASE_URL: optional(httpUrl),
    CARRIERX_TOKEN: optional(
      z.string().regex(/^[\x21-\x7e]+$/, { error: 'must be a single token of printable ASCII characters' }),
    ),
    CARRIERX_TIMEOUT_MS: optional(integer(1, 600_000)).default(10_000),
    // CarrierX's field-filtering parameter name is unconfirmed (see README): switchable, and `off` sends none.
    CARRIERX_INCLUDE_FIELDS_PARAM: optional(
      z
        .string()
        .transform((value) => (value.toLowerCase() === 'off' ? 'off' : value))
        .pipe(
          z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a query parameter name, or off' }),
        ),
    ).default('include_fields'),
    // Unset: one per call CARRIERX_MAX_CONCURRENT_CALLS allows (HTTP/1.1 carries one call per connection at a
    // time); undici opens them only as calls need them.
    CARRIERX_CONNECTIONS: optional(integer(1, 10_000)),
    // HTTP/2 to CarrierX (undici's allowH2, negotiated by ALPN over TLS): off until CarrierX confirms it offers it.
    CARRIERX_HTTP2: optional(flag),
    CARRIERX_MAX_PARALLEL_PER_REQUEST: optional(integer(1, 100)).default(10),
    REQUEST_DEADLINE_MS: optional(integer(1, 600_000)).default(15_000),
    CARRIERX_RETRIES: optional(integer(0, 10)).default(2),
    CARRIERX_RETRY_BASE_DELAY_MS: optional(integer(0, 60_000)).default(100),
    CARRIERX_RETRY_MAX_DELAY_MS: optional(integer(0, 60_000)).default(2_000),
    // Consecutive failed calls. Under concurrent load a fifth of records failing made 5 in a row a matter of
    // seconds (scripts/load-with-faults.ts); 10 in a row takes a real outage or most calls failing.
    CARRIERX_BREAKER_THRESHOLD: optional(integer(1, 10_000)).default(10),
    CARRIERX_BREAKER_COOLDOWN_MS: optional(integer(1, 600_000)).default(10_000),
    // The protection CarrierX gets: calls in flight to it, across all requests. Unset: CARRIERX_CONNECTIONS when
    // that is set (what it meant before), else DEFAULT_MAX_CONCURRENT_CALLS.
    CARRIERX_MAX_CONCURRENT_CALLS: optional(integer(1, 10_000)),
    // The adaptive limit's floor (unset: 8, or the ceiling if lower) and whether it adapts at all.
    CARRIERX_MIN_CONCURRENT_CALLS: optional(integer(1, 10_000)),
    CARRIERX_ADAPTIVE_CONCURRENCY: optional(flag),
    CARRIERX_MAX_QUEUED_CALLS: optional(integer(0, 100_000)).default(1_000),
    MAX_RECORDS_PER_OPERATION: optional(integer(1, 10_000)).default(100),
    // Records x selected fields one HTTP request may be answered with: 100 records of all 52 fields is 5,200;
    // 30 aliases of that (a 10 KB request that passes every query limit) would be 156,000, about 4.8 MB.
    MAX_FIELDS_PER_REQUEST: optional(integer(1, 10_000_000)).default(20_000),
    MAX_QUERY_LENGTH: optional(integer(1, 10_000_000)).default(32_768),
    MAX_QUERY_DEPTH: optional(integer(1, 1_000)).default(8),
    MAX_QUERY_ALIASES: optional(integer(0, 10_000)).default(30),
    MAX_QUERY_TOKENS: optional(integer(1, 1_000_000)).default(2_000),
    MAX_QUERY_DIRECTIVES: optional(integer(0, 10_000)).default(50),
    MAX_QUERY_COST: optional(integer(1, 10_000_000)).default(5_000),
    MAX_REQUEST_BODY_BYTES: optional(integer(1, 100 * 1024 * 1024)).default(256 * 1024),
    // How the body limit is enforced: our Content-Length check (cheap), Yoga's streaming check, or not at all.
    REQUEST_BODY_LIMIT_STRATEGY: optional(z.enum(['content-length', 'stream', 'off'])).default(
      'content-length',
    ),
    GRAPHQL_BATCH_LIMIT: optional(integer(0, 100)).default(0),
    GRAPHIQL_ENABLED: optional(flag),
    INTROSPECTION_ENABLED: optional(flag),
    CSRF_PREVENTION_ENABLED: optional(flag),
    // Browser origins allowed to call cross-origin (with credentials); unset = none. `*` allows any origin.
    CORS_ORIGINS: optional(
      z
        .string()
        .transform((value) =>
          value
            .split(',')
            .map((origin) => origin.trim())
            .filter(Boolean),
        )
        .pipe(
          z.array(
            z.string().regex(/^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/, {
              error: 'must be a comma-separated list of origins such as https://app.example.com, or *',
            }),
          ),
        ),
    ),
    // Host names this service answers for (any port); `*` any. Unset: any, unless CARRIERX_TOKEN is set, when
    // only loopback and HOST: a DNS-rebinding page must not reach the fallback token under its own name.
    ALLOWED_HOSTS: optional(
      z
        .string()
        .transform((value) =>
          value
            .split(',')
            .map((host) => host.trim().toLowerCase().replace(/\.$/, ''))
            .filter(Boolean),
        )
        .pipe(
          z.array(
            z
              .string()
              .regex(/^(\*|[a-z0-9_.-]+|\[[0-9a-f:.]+\])$/, {
                error: 'must be a comma-separated list of host names such as api.example.com (no port), or *',
              })
              .refine((host) => host === '*' || URL.canParse(`http://${host}/`), {
                error: 'must be a comma-separated list of host names such as api.example.com (no port), or *',
              })
              .transform((host) => (host === '*' ? host : urlHostname(host))),
          ),
        ),
    ),
    // Node's HTTP server: time to receive a whole request (headers and body), its headers alone, how long an
    // idle keep-alive connection stays open, and open connections per process. A slow or stalled client is cut
    // off instead of holding memory and shutdown.
    HTTP_REQUEST_TIMEOUT_MS: optional(integer(1, 3_600_000)).default(30_000),
    HTTP_HEADERS_TIMEOUT_MS: optional(integer(1, 3_600_000)).default(10_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: optional(integer(1, 3_600_000)).default(5_000),
    HTTP_MAX_CONNECTIONS: optional(integer(1, 1_000_000)).default(1_024),
    // Processes serving HTTP: 1 is this process alone; more forks that many workers (node:cluster).
    WEB_CONCURRENCY: optional(integer(1, 256)).default(1),
    // The embedded simulator (CARRIERX_BASE_URL unset): unset port = 4010, or a free one when 4010 is taken.
    SIMULATOR_PORT: optional(integer(0, 65535)),
    SIMULATOR_CONTROL: optional(flag),
    // Set by the cluster primary for its workers when it runs the embedded simulator (not for users).
    EMBEDDED_SIMULATOR_WORKER: optional(flag),
    // Plain JSON POSTs skip Yoga's Fetch API adapter (src/http/create-request-handler.ts); off = Yoga for all.
    HTTP_FAST_PATH: optional(flag),
    // Execute through graphql-jit (compiled documents); off = graphql-js for every document.
    GRAPHQL_JIT: optional(flag),
    // A query document that ran cleanly once skips Yoga's pipeline after (src/execution/prepared.ts); needs jit.
    PREPARED_OPERATIONS: optional(flag),
    // One info line per GraphQL operation (name, type, duration, upstream calls, error codes, request id).
    ACCESS_LOG: optional(flag),
    // The CDR cache (src/cache/, docs/cache.md). CACHE_TTL_MS=0 turns it off.
    CACHE_TTL_MS: optional(integer(0, 86_400_000)).default(60_000),
    CACHE_NOT_FOUND_TTL_MS: optional(integer(0, 86_400_000)).default(5_000),
    CACHE_STALE_IF_ERROR_MS: optional(integer(0, 86_400_000)).default(300_000),
    CACHE_MAX_BYTES: optional(integer(1024, 64 * 1024 * 1024 * 1024)).default(64 * 1024 * 1024),
    // Whole answers to repeated fast-path requests, in front of the record cache (src/cache/answers.ts).
    CACHE_ANSWERS: optional(flag),
    // At least 32 characters: it keys the fingerprints of every caller's credentials.
    CACHE_KEY_SECRET: optional(z.string().min(32, { error: 'must be at least 32 characters' })),
    // Shared cache for every replica; unset: in-process only. Its password is never echoed (see loadConfig).
    REDIS_URL: optional(
      z
        .string()
        .refine((value) => URL.canParse(value) && ['redis:', 'rediss:'].includes(new URL(value).protocol), {
          error: 'must be a redis:// or rediss:// URL',
        }),
    ),
    REDIS_TIMEOUT_MS: optional(integer(1, 60_000)).default(250),
    // No glob characters: invalidation finds a record's keys with SCAN MATCH.
    CACHE_KEY_PREFIX: optional(
      z.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/, { error: 'must be up to 64 of A-Z a-z 0-9 : _ . -' }),
    ).default('carrierx:'),
    CACHE_ADMIN_TOKEN: optional(
      z.string().regex(/^[A-Za-z0-9\-._~+/]{16,}=*$/, {
        error: 'must be a token of at least 16 characters (letters, digits, -._~+/)',
      }),
    ),
    // Persisted-documents manifests (comma-separated paths), read and checked at startup (docs/frontend.md).
    PERSISTED_DOCUMENTS: optional(
      z
        .string()
        .transform((value) =>
          value
            .split(',')
            .map((file) => file.trim())
            .filter(Boolean),
        )
        .transform((paths, ctx) => {
          try {
            return readPersistedDocuments(paths);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: (error as Error).message });
            return z.NEVER;
          }
        }),
    ),
    // The production allowlist: only documents from PERSISTED_DOCUMENTS run.
    PERSISTED_DOCUMENTS_ONLY: optional(flag),
    // OpenTelemetry traces (src/observability/tracing.ts, docs/operating.md): the standard OTEL_* variables.
    // Off, and the SDK never loaded, unless an OTLP endpoint is set.
    OTEL_SDK_DISABLED: optional(flag),
    OTEL_TRACES_EXPORTER: optional(
      z.enum(['otlp', 'none'], { error: 'must be otlp or none (the only exporters this service has)' }),
    ),
    OTEL_EXPORTER_OTLP_ENDPOINT: optional(otlpUrl),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(otlpUrl),
    OTEL_EXPORTER_OTLP_PROTOCOL: optional(OTLP_PROTOCOL),
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optional(OTLP_PROTOCOL),
    OTEL_EXPORTER_OTLP_HEADERS: optional(keyValueList('header')),
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: optional(keyValueList('header')),
    OTEL_EXPORTER_OTLP_TIMEOUT: optional(integer(1, 600_000)),
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: optional(integer(1, 600_000)),
    OTEL_SERVICE_NAME: optional(z.string().max(256, { error: 'must be at most 256 characters' })),
    OTEL_RESOURCE_ATTRIBUTES: optional(keyValueList('key')),
    OTEL_TRACES_SAMPLER: optional(z.enum(SAMPLERS, { error: `must be one of ${SAMPLERS.join(', ')}` })),
    OTEL_TRACES_SAMPLER_ARG: optional(
      z
        .string()
        .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { error: 'must be a ratio from 0 to 1, e.g. 0.1' })
        .transform(Number),
    ),
    LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default(
      'info',
    ),
    NODE_ENV: optional(
      z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' }),
    ).default('development'),
  })
  // The simulator's demo data must never be served as if it were CarrierX's.
  .refine((e) => e.NODE_ENV !== 'production' || e.CARRIERX_BASE_URL !== undefined, {
    path: ['CARRIERX_BASE_URL'],
    error: 'is required when NODE_ENV=production (the embedded simulator is for development and tests)',
  })
  // Replicas sharing Redis must fingerprint credentials alike, or none would find another's entries.
  .refine(
    (e) => e.NODE_ENV !== 'production' || e.REDIS_URL === undefined || e.CACHE_KEY_SECRET !== undefined,
    {
      path: ['CACHE_KEY_SECRET'],
      error: 'is required when NODE_ENV=production and REDIS_URL is set (every replica must share it)',
    },
  )
  // More calls in flight than connections can carry would queue inside undici, out of reach of the per-call
  // timer.
  .refine((e) => maxConcurrentCalls(e) <= connections(e) * streamsPerConnection(e), {
    path: ['CARRIERX_MAX_CONCURRENT_CALLS'],
    error: `must not exceed CARRIERX_CONNECTIONS (× ${H2_STREAMS_PER_CONNECTION} streams with CARRIERX_HTTP2)`,
  })
  .refine((e) => (e.CARRIERX_MIN_CONCURRENT_CALLS ?? 0) <= maxConcurrentCalls(e), {
    path: ['CARRIERX_MIN_CONCURRENT_CALLS'],
    error: 'must not exceed CARRIERX_MAX_CONCURRENT_CALLS',
  })
  // Node refuses a headers timeout longer than the whole request's.
  .refine((e) => e.HTTP_HEADERS_TIMEOUT_MS <= e.HTTP_REQUEST_TIMEOUT_MS, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    error: 'must not exceed HTTP_REQUEST_TIMEOUT_MS',
  })
  // An allowlist with nothing on it would refuse every operation: surely a missing variable, not a wish.
  .refine((e) => !e.PERSISTED_DOCUMENTS_ONLY || (e.PERSISTED_DOCUMENTS?.size ?? 0) > 0, {
    path: ['PERSISTED_DOCUMENTS_ONLY'],
    error: 'needs PERSISTED_DOCUMENTS to list at least one manifest with a document in it',
  })
  .refine((e) => e.CARRIERX_RETRY_MAX_DELAY_MS >= e.CARRIERX_RETRY_BASE_DELAY_MS, {
    path: ['CARRIERX_RETRY_MAX_DELAY_MS'],
    error: 'must be at least CARRIERX_RETRY_BASE_DELAY_MS',
  });

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  /** 0: no metrics listener. */
  metricsPort: number;
  production: boolean;
  logLevel: Env['LOG_LEVEL'];
  accessLog: boolean;
  carrierx: {
    /** Undefined means: run the embedded simulator and use it. */
    baseUrl: string | undefined;
    token: string | undefined;
    timeoutMs: number;
    /** Undefined: field filtering off, whole records are fetched. */
    includeFieldsParam: string | undefined;
    connections: number;
    /** undici's allowH2: HTTP/2 where CarrierX offers it. */
    http2: boolean;
    maxParallelPerRequest: number;
    policies: UpstreamPolicyOptions;
  };
  limits: {
    requestDeadlineMs: number;
    maxRecordsPerOperation: number;
    maxFieldsPerRequest: number;
    queryLength: number;
    queryDepth: number;
    queryAliases: number;
    queryTokens: number;
    queryDirectives: number;
    queryCost: number;
    requestBodyBytes: number;
    requestBodyLimitStrategy: Env['REQUEST_BODY_LIMIT_STRATEGY'];
    /** Operations in one batched HTTP request; 0 turns batching off. */
    batch: number;
  };
  cache: {
    /** 0: no cache. */
    ttlMs: number;
    notFoundTtlMs: number;
    staleIfErrorMs: number;
    maxBytes: number;
    /** Repeated requests answered from the answer cache (CACHE_ANSWERS; only with the record cache on). */
    answers: boolean;
    /** Undefined: a random one per process. */
    keySecret: string | undefined;
    /** Undefined: no POST /cache/invalidate. */
    adminToken: string | undefined;
    /** Undefined: in-process only. */
    redisUrl: string | undefined;
    redisTimeoutMs: number;
    keyPrefix: string;
  };
  persistedDocuments: {
    /** The manifests' documents by hex sha256; empty: a request by hash is answered PERSISTED_QUERY_NOT_SUPPORTED. */
    documents: PersistedDocuments;
    /** Refuse every document that is not in `documents` (PERSISTED_DOCUMENTS_ONLY). */
    only: boolean;
  };
  graphiql: boolean;
  introspection: boolean;
  csrfPrevention: boolean;
  httpFastPath: boolean;
  /** Execute compiled documents through graphql-jit; false runs graphql-js for all. */
  jit: boolean;
  /**
   * Run a query document seen before without Yoga's pipeline (src/execution/prepared.ts), on the HTTP fast
   * path and with graphql-jit on; false: every request takes the whole pipeline.
   */
  preparedOperations: boolean;
  /** OpenTelemetry traces; undefined: off (no OTLP endpoint, OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none). */
  tracing: TracingConfig | undefined;
  /** Processes serving HTTP; above 1 this process is a cluster primary that forks them. */
  workers: number;
  /** A cluster worker whose CARRIERX_BASE_URL is the primary's embedded simulator. */
  embeddedSimulatorWorker: boolean;
  /** Origins a browser may call from; empty: no cross-origin access at all (but see corsLoopback). */
  corsOrigins: string[];
  /**
   * Any loopback origin (http(s)://localhost, 127.0.0.1 or [::1], any port) may call too: a front end under
   * development on its own port. Only while developing against the embedded simulator with CORS_ORIGINS unset:
   * its data is fake, whereas a real CarrierX behind a fallback token must not be readable by any local page.
   */
  corsLoopback: boolean;
  /** The embedded simulator's listener; `port` undefined: 4010, falling back to a free port when it is taken. */
  simulator: { port: number | undefined; control: boolean };
  http: {
    /** Host names (lower case, no port) the server answers for; `['*']`: any. */
    allowedHosts: string[];
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxConnections: number;
  };
}

export interface TracingConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  /** Sent with each export (e.g. an API key): never logged. */
  headers: Record<string, string>;
  timeoutMs: number;
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, service.name set from serviceName. */
  resource: Record<string, string>;
  sampler: (typeof SAMPLERS)[number];
  /** For the ratio samplers: the fraction of new traces kept. */
  ratio: number;
}

/** The service.name spans carry when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one. */
export const DEFAULT_SERVICE_NAME = 'carrierx-cdr-graphql';

/** Tracing as the OTEL_* variables ask, by the OpenTelemetry spec's precedence (signal-specific first). */
function tracingConfig(e: Env): TracingConfig | undefined {
  const url =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? undefined : `${e.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`);
  if (url === undefined || e.OTEL_SDK_DISABLED === true || e.OTEL_TRACES_EXPORTER === 'none')
    return undefined;
  const resource = { ...e.OTEL_RESOURCE_ATTRIBUTES };
  const serviceName = e.OTEL_SERVICE_NAME ?? resource['service.name'] ?? DEFAULT_SERVICE_NAME;
  return {
    url,
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    headers: { ...e.OTEL_EXPORTER_OTLP_HEADERS, ...e.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    timeoutMs: e.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? e.OTEL_EXPORTER_OTLP_TIMEOUT ?? 10_000,
    serviceName,
    resource: { ...resource, 'service.name': serviceName },
    sampler: e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
    ratio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
  };
}

/** Names every local client may use, whatever ALLOWED_HOSTS says (as URL.hostname spells them). */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

function allowedHosts(e: Env): string[] {
  const listed = e.ALLOWED_HOSTS;
  if (listed?.includes('*') || (listed === undefined && e.CARRIERX_TOKEN === undefined)) return ['*'];
  const host = e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST;
  const wildcard = e.HOST === '0.0.0.0' || e.HOST === '::';
  const own = wildcard || !URL.canParse(`http://${host}/`) ? [] : [urlHostname(host)];
  return [...new Set([...LOOPBACK_HOSTS, ...own, ...(listed ?? [])])];
}

/** Thrown when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(
    /** One entry per bad variable: its name and what is wrong (with its value, unless that is a secret). */
    readonly problems: { variable: string; problem: string }[],
    /** NODE_ENV=production was asked for: the entry point reports this as one JSON line. */
    readonly production: boolean,
  ) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`);
  }
}

/** Reads and validates the environment once; the only reader of process.env. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      const raw = env[name];
      // Never echo a secret back, not even into a startup error: a token, or a URL's user:password@.
      const secret =
        name.includes('TOKEN') ||
        name.includes('SECRET') ||
        name.includes('HEADERS') ||
        ((name.endsWith('_URL') || name.endsWith('_ENDPOINT')) && raw?.includes('@'));
      const shown = raw === undefined || secret ? '' : ` (got ${JSON.stringify(raw)})`;
      return { variable: name, problem: `${issue.message}${shown}` };
    });
    throw new ConfigError(problems, env.NODE_ENV === 'production');
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  return {
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT,
    production,
    logLevel: e.LOG_LEVEL,
    accessLog: e.ACCESS_LOG ?? true,
    carrierx: {
      baseUrl: e.CARRIERX_BASE_URL,
      token: e.CARRIERX_TOKEN,
      timeoutMs: e.CARRIERX_TIMEOUT_MS,
      includeFieldsParam:
        e.CARRIERX_INCLUDE_FIELDS_PARAM === 'off' ? undefined : e.CARRIERX_INCLUDE_FIELDS_PARAM,
      connections: connections(e),
      http2: e.CARRIERX_HTTP2 ?? false,
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
        adaptiveConcurrency: e.CARRIERX_ADAPTIVE_CONCURRENCY ?? true,
        maxQueuedCalls: e.CARRIERX_MAX_QUEUED_CALLS,
      },
    },
    limits: {
      requestDeadlineMs: e.REQUEST_DEADLINE_MS,
      maxRecordsPerOperation: e.MAX_RECORDS_PER_OPERATION,
      maxFieldsPerRequest: e.MAX_FIELDS_PER_REQUEST,
      queryLength: e.MAX_QUERY_LENGTH,
      queryDepth: e.MAX_QUERY_DEPTH,
      queryAliases: e.MAX_QUERY_ALIASES,
      queryTokens: e.MAX_QUERY_TOKENS,
      queryDirectives: e.MAX_QUERY_DIRECTIVES,
      queryCost: e.MAX_QUERY_COST,
      requestBodyBytes: e.MAX_REQUEST_BODY_BYTES,
      requestBodyLimitStrategy: e.REQUEST_BODY_LIMIT_STRATEGY,
      batch: e.GRAPHQL_BATCH_LIMIT,
    },
    cache: {
      ttlMs: e.CACHE_TTL_MS,
      notFoundTtlMs: e.CACHE_NOT_FOUND_TTL_MS,
      staleIfErrorMs: e.CACHE_STALE_IF_ERROR_MS,
      maxBytes: e.CACHE_MAX_BYTES,
      answers: e.CACHE_ANSWERS ?? true,
      keySecret: e.CACHE_KEY_SECRET,
      adminToken: e.CACHE_ADMIN_TOKEN,
      redisUrl: e.REDIS_URL,
      redisTimeoutMs: e.REDIS_TIMEOUT_MS,
      keyPrefix: e.CACHE_KEY_PREFIX,
    },
    persistedDocuments: {
      documents: e.PERSISTED_DOCUMENTS ?? new Map(),
      only: e.PERSISTED_DOCUMENTS_ONLY ?? false,
    },
    // Developer conveniences are on while developing and off in production unless asked for.
    graphiql: e.GRAPHIQL_ENABLED ?? !production,
    httpFastPath: e.HTTP_FAST_PATH ?? true,
    jit: e.GRAPHQL_JIT ?? true,
    preparedOperations: e.PREPARED_OPERATIONS ?? true,
    tracing: tracingConfig(e),
    workers: e.WEB_CONCURRENCY,
    embeddedSimulatorWorker: e.EMBEDDED_SIMULATOR_WORKER ?? false,
    corsOrigins: e.CORS_ORIGINS ?? [],
    corsLoopback:
      e.CORS_ORIGINS === undefined &&
      !production &&
      (e.CARRIERX_BASE_URL === undefined || (e.EMBEDDED_SIMULATOR_WORKER ?? false)),
    simulator: { port: e.SIMULATOR_PORT, control: e.SIMULATOR_CONTROL ?? false },
    http: {
      allowedHosts: allowedHosts(e),
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
    },
    introspection: e.INTROSPECTION_ENABLED ?? !production,
    csrfPrevention: e.CSRF_PREVENTION_ENABLED ?? production,
  };
}
