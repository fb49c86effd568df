import { randomBytes } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance, maskError as yogaMaskError } from 'graphql-yoga';
import type { CarrierXClient } from '../carrierx/client.ts';
import type { Config } from '../config/index.ts';
import { maskErrorForProduction } from '../errors.ts';
import { type AnswerCache, attachAnswerCache, createAnswerCache } from '../http/answer-cache.ts';
import { createLiveFeed, type LiveFeed } from '../live/feed.ts';
import type { Ledger } from '../live/ledger.ts';
import { type CdrCache, createCdrCache, createFingerprint, type LookupResult } from '../records/cdr-cache.ts';
import type { CacheStore } from '../records/entry.ts';
import { createMemoryStore } from '../records/memory-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { recordAnswerLookup, recordCacheLookup, reserveOperationNames } from '../telemetry/metrics.ts';
import { REQUEST_ID_HEADER } from '../telemetry/request-id.ts';
import { type Context, createContextFactory } from './context.ts';
import { canonicalResultStep } from './execution/canonical-results.ts';
import { createCostEstimator } from './execution/cost.ts';
import { costLimitStep } from './execution/cost-limit.ts';
import { maskingStep } from './execution/masking.ts';
import { usePreparedOperations } from './execution/prepared.ts';
import { staleReportStep } from './execution/stale-report.ts';
import { type ExecutionStep, useExecutionSteps } from './execution/steps.ts';
import { variableCoercionStep } from './execution/variable-coercion.ts';
import { renderGraphiQL } from './graphiql/render-graphiql.ts';
import { useOfflineGraphiQL } from './graphiql/use-offline-graphiql.ts';
import {
  createLivePersistedDocuments,
  createRegisteredDocuments,
  type LivePersistedDocuments,
  operationNamesOf,
} from './persisted-documents.ts';
import { useCacheInvalidation } from './plugins/use-cache-invalidation.ts';
import { CSRF_HEADERS, useCsrfPrevention } from './plugins/use-csrf-prevention.ts';
import { useDisableIntrospection } from './plugins/use-disable-introspection.ts';
import { useEndRefusedStreams } from './plugins/use-end-refused-streams.ts';
import { useJit } from './plugins/use-jit.ts';
import { useKnownOperationTypes } from './plugins/use-known-operation-types.ts';
import { observeStep, reportOperation, useObservability } from './plugins/use-observability.ts';
import { usePersistedDocuments } from './plugins/use-persisted-documents.ts';
import { useQueryLimits } from './plugins/use-query-limits.ts';
import { useReadableRequestErrors, useUnsupportedMediaType } from './plugins/use-readable-request-errors.ts';
import { useRequestBodyLimit } from './plugins/use-request-body-limit.ts';
import { useSseEventIds } from './plugins/use-sse-event-ids.ts';
import { useValidationCache } from './plugins/use-validation-cache.ts';
import { schema } from './schema/index.ts';

export interface AppDeps {
  config: Config;
  client: CarrierXClient;
  logger: Logger;
  /** A token GraphiQL pre-fills in its headers, for the embedded simulator's demo. */
  demoToken?: string;
  /** Where the CDR cache keeps entries (a shared Redis store); unset: in this process. */
  cacheStore?: CacheStore;
  /** Hears each cache lookup; unset: the Prometheus counter cdr_cache_lookups_total. */
  onCacheLookup?: (result: LookupResult) => void;
  /** The cache's clock (ms since the epoch); tests move it instead of waiting for entries to expire. */
  cacheClock?: () => number;
  /**
   * Widens `POST /cache/invalidate` beyond this process (a cluster worker's in-process cache): given the local
   * drop, returns the invalidation the endpoint runs. Unset: the local drop alone.
   */
  spreadInvalidation?: (dropLocal: CdrCache['invalidate']) => CdrCache['invalidate'];
  /**
   * The persisted documents, which the server reloads on SIGHUP and file changes (src/lifecycle.ts); unset: the
   * configuration's, never reloaded.
   */
  persistedDocuments?: LivePersistedDocuments;
  /** The live call feed subscriptions follow; unset: one of the app's own (LIVE_*), closed on drain. */
  liveFeed?: LiveFeed;
  /** Where the app's own live feed keeps its logs: Redis for a fleet (REDIS_URL); unset: this process's memory. */
  liveLedger?: Ledger;
}

export type App = YogaServerInstance<Record<string, unknown>, Context>;

/** CarrierX's documented sample record (the simulator serves it; the app does not import the simulator). */
export const EXAMPLE_DR_SID = 'c02a73b2-8401-459a-af7e-f4cc3eee7854';

/** GraphiQL's first tab: a query a newcomer can run as it is. */
export function exampleQuery(drSid: string): string {
  return `# Only the fields you select are fetched from CarrierX.
query CallDetailRecord($drSid: UUID! = "${drSid}") {
  callDetailRecord(drSid: $drSid) {
    drSid
    direction
    numberSrc
    numberDst
    dateStart
    ringDuration
    talkDuration
    price
    stirAttest
  }
}
`;
}

/** GraphiQL's second tab: a filtered page of calls (the `callDetailRecords` connection). */
export const EXAMPLE_PAGE_QUERY = `# A page of calls, filtered and ordered; pass pageInfo.endCursor as $after for the next page.
query CallDetailRecords($first: Int = 20, $after: String) {
  callDetailRecords(
    first: $first
    after: $after
    filter: { direction: INBOUND }
    orderBy: { field: DATE_START, direction: DESC }
  ) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      drSid
      dateStart
      numberSrc
      numberDst
      talkDuration
      price
    }
  }
}
`;

/** GraphiQL's third tab: the live feed (GraphiQL runs subscriptions over SSE, as Yoga serves them). */
export const EXAMPLE_SUBSCRIPTION = `# New calls as CarrierX records them (polled every LIVE_POLL_INTERVAL_MS); runs until you stop it.
subscription CallDetailRecordAdded {
  callDetailRecordAdded(filter: { direction: INBOUND }) {
    drSid
    dateInsert
    numberSrc
    numberDst
    talkDuration
  }
}
`;

/** http(s)://localhost, 127.0.0.1 or [::1], with any port: a page served from this machine. */
const LOOPBACK_ORIGIN = /^https?:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/;
/** Distinct refused origins logged per process: enough for a developer's few, bounded against a flood. */
const MAX_LOGGED_ORIGINS = 100;

/**
 * Answers only listed origins (or any, with `*`), and loopback origins when `loopback`. A per-request decision,
 * because Yoga's list form answers an unlisted origin with `Access-Control-Allow-Origin: null`, which a
 * sandboxed page (origin "null") passes. Never `false`: Yoga then leaves OPTIONS to its method check, which
 * answers a browser's preflight 405. With a policy every preflight gets 204, and a refused one no allow headers,
 * which is how CORS expects a refusal. A refused origin is logged once, naming CORS_ORIGINS: the browser only
 * says "blocked by CORS policy", and the developer is looking at this server's output for why.
 */
/**
 * What a browser app may send beyond CORS's safelist: its token, the CSRF header, `Cache-Control: no-cache` (a
 * refresh, docs/cache.md), and the ids that tie its request to our logs and its trace to ours.
 */
const CORS_REQUEST_HEADERS = [
  'content-type',
  'authorization',
  'cache-control',
  REQUEST_ID_HEADER,
  'traceparent',
  'tracestate',
  ...CSRF_HEADERS,
];
/** What its scripts may read beyond the safelist: the request id to quote in a report, a refusal's wait. */
const CORS_EXPOSED_HEADERS = [REQUEST_ID_HEADER, 'retry-after'];

function corsPolicy(options: { origins: readonly string[]; loopback: boolean; logger: Logger }) {
  const any = options.origins.includes('*');
  const allowed = new Set(options.origins);
  const logged = new Set<string>();
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null) return false;
    if (any || allowed.has(origin) || (options.loopback && LOOPBACK_ORIGIN.test(origin))) {
      return {
        origin,
        credentials: true,
        methods: ['GET', 'POST'],
        allowedHeaders: CORS_REQUEST_HEADERS,
        exposedHeaders: CORS_EXPOSED_HEADERS,
      };
    }
    // Browsers send Origin on same-origin POSTs too (GraphiQL's own): those need no CORS and are not refused.
    if (URL.canParse(request.url) && new URL(request.url).origin === origin) return false;
    if (!logged.has(origin) && logged.size < MAX_LOGGED_ORIGINS) {
      logged.add(origin);
      options.logger.info(
        { origin: origin.slice(0, 200) },
        'cross-origin request refused: this origin is not in CORS_ORIGINS (a comma-separated list of allowed origins)',
      );
    }
    return false;
  };
}

/**
 * Yoga's logger, on ours. Yoga reports at `error` every error its masking replaced, and reports it twice (once
 * from its maskError wrapper, once from handleError); in production our masking replaces a client's request
 * error too (to drop the body it quotes), so a malformed JSON body was logged twice at error with a stack. Here
 * each error is logged once: a request error Yoga answers with a 4xx is the client's mistake, at info without
 * a stack; anything else is unexpected, at error with its stack.
 */
function yogaLogging(logger: Logger) {
  const reported = new WeakSet<object>();
  const fields = (args: unknown[]) => (args.length === 1 ? args[0] : { args });
  return {
    debug: (...args: unknown[]) => logger.debug(fields(args)),
    info: (...args: unknown[]) => logger.info(fields(args)),
    warn: (...args: unknown[]) => logger.warn(fields(args)),
    error: (...args: unknown[]) => {
      const [error] = args;
      if (args.length !== 1 || !(error instanceof Error)) return logger.error(fields(args));
      if (reported.has(error)) return;
      reported.add(error);
      const status =
        error instanceof GraphQLError ? (error.extensions?.http as { status?: unknown })?.status : undefined;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        const { code } = (error as GraphQLError).extensions;
        return logger.info({ code, status, reason: error.message }, 'request refused');
      }
      logger.error({ err: error }, 'unexpected error');
    },
  };
}

/**
 * With CORS on, every answer depends on the request's Origin (allowed, refused, or none): `Vary: Origin` keeps
 * a shared cache from handing one origin's answer to another. Yoga adds it only when it reflects any origin.
 */
function useVaryOrigin(): Plugin {
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary') ?? '';
      if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) response.headers.append('vary', 'Origin');
    },
  };
}

/** What an in-process cache may hold, records and answers together (CACHE_MAX_BYTES). */
function memoryShares(config: Config, recordsInProcess: boolean): { records: number; answers: number } {
  const { maxBytes, answers } = config.cache;
  if (!answers) return { records: maxBytes, answers: 0 };
  // One bound for the process's memory: with the in-process record store, answers get a quarter of it (an
  // answer is worth keeping only while its records are held, so the records get the larger share); with
  // Redis, the answers are all this process keeps.
  if (!recordsInProcess) return { records: 0, answers: maxBytes };
  const answerBytes = Math.floor(maxBytes / 4);
  return { records: maxBytes - answerBytes, answers: answerBytes };
}

/**
 * The CDR cache the configuration asks for, or undefined when CACHE_TTL_MS is 0; with CACHE_ANSWERS (the
 * default) and the cache on, the answer cache in front of it, for the HTTP fast path (src/http/answer-cache.ts).
 */
export function createConfiguredCache(
  deps: AppDeps,
): { records: CdrCache; answers: AnswerCache | undefined } | undefined {
  const { config } = deps;
  if (config.cache.ttlMs === 0) return undefined;
  const shares = memoryShares(config, deps.cacheStore === undefined);
  const store = deps.cacheStore ?? createMemoryStore(shares.records, deps.cacheClock);
  const onLookup = deps.onCacheLookup ?? recordCacheLookup;
  const records = createCdrCache({
    client: deps.client,
    store,
    logger: deps.logger,
    ttlMs: config.cache.ttlMs,
    notFoundTtlMs: config.cache.notFoundTtlMs,
    staleIfErrorMs: config.cache.staleIfErrorMs,
    keySecret: config.cache.keySecret,
    onLookup,
    ...(deps.cacheClock ? { now: deps.cacheClock } : {}),
  });
  if (shares.answers === 0) return { records, answers: undefined };
  const observability = { logger: deps.logger, accessLog: config.accessLog };
  const answers = createAnswerCache({
    store,
    maxBytes: shares.answers,
    ttlMs: config.cache.ttlMs,
    fingerprint: records.fingerprint,
    fallbackToken: config.carrierx.token,
    onLookup: recordAnswerLookup,
    onServed(answer, ms, requestId, traceId) {
      // Counted as what the answer stands for: the operation, and a record cache hit per record it holds.
      for (const _ of answer.dependencies) onLookup('hit');
      reportOperation(observability, {
        requestId,
        type: answer.type,
        name: answer.name,
        codes: [],
        ms,
        tally: { upstreamCalls: 0, records: 0 },
        fromAnswerCache: true,
        traceId,
      });
    },
    ...(deps.cacheClock ? { now: deps.cacheClock } : {}),
  });
  return { records, answers };
}

/**
 * GraphiQL's page: three example tabs (one record, a filtered page, the live feed), the demo token in the headers. The Explorer
 * (build a query by ticking fields) is in the sidebar: @graphql-yoga/graphiql's bundle includes
 * @graphiql/plugin-explorer and always adds it, so passing `plugins` here would remove it, not add to it.
 */
function graphiqlOptions(demoToken: string | undefined) {
  const headers = JSON.stringify(demoToken ? { Authorization: `Bearer ${demoToken}` } : {}, null, 2);
  const query = exampleQuery(EXAMPLE_DR_SID);
  return {
    title: 'CarrierX Call Detail Records',
    defaultQuery: query,
    headers,
    defaultTabs: [
      { query, headers },
      { query: EXAMPLE_PAGE_QUERY, headers },
      { query: EXAMPLE_SUBSCRIPTION, headers },
    ],
  };
}

/**
 * Documents kept prepared (src/graphql/execution/prepared.ts): a frontend's operations are a few dozen; each entry holds
 * a parsed document and its compiled query (tens of KB for a whole record), so the bound is a memory bound.
 */
const PREPARED_OPERATIONS_KEPT = 200;

/**
 * Documents automatic persisted queries keep registered, per process (src/graphql/persisted-documents.ts): a
 * frontend's operations are a few dozen, and each is at most MAX_QUERY_LENGTH characters.
 */
const REGISTERED_DOCUMENTS_KEPT = 500;

/** What masking puts in place of an unexpected error's message. */
const UNEXPECTED_MESSAGE = 'Unexpected error.';

/** Builds the GraphQL server (no I/O, nothing listens): the entry point wires it to HTTP. */
export function createApp(deps: AppDeps): App {
  const { config, client, logger } = deps;
  const persisted =
    deps.persistedDocuments ?? createLivePersistedDocuments({ ...config.persistedDocuments, logger });
  // The deployment's own operations are labelled in the metrics whatever names clients sent first.
  let releaseNames = reserveOperationNames(operationNamesOf(persisted.current()));
  const caches = createConfiguredCache(deps);
  persisted.onChange((documents) => {
    const release = releaseNames;
    releaseNames = reserveOperationNames(operationNamesOf(documents));
    release();
    // A kept answer is served before any check: one for a document that left the manifests must not be.
    caches?.answers?.clear();
  });
  const cache = caches?.records;
  // One per process: pollers are shared by every subscriber of the process, whichever transport it came by.
  const liveFeed =
    deps.liveFeed ??
    createLiveFeed({
      // The client itself, with its limiter, breaker and retry budget: a poll is a fresh look, never a cached one.
      client,
      fingerprint:
        cache?.fingerprint ??
        createFingerprint(Buffer.from(config.cache.keySecret ?? randomBytes(32).toString('hex'))),
      logger,
      options: config.live,
      pushDown: config.carrierx.filterOperators,
      ledger: deps.liveLedger,
    });
  const contextFactory = createContextFactory({
    client: cache ?? client,
    cached: cache !== undefined,
    logger,
    fallbackToken: config.carrierx.token,
    maxParallelPerRequest: config.carrierx.maxParallelPerRequest,
    // The records actually fetched, held to the same number: what the estimate does not see (a page whose
    // records are not selected, the operations of a batch together). Each operation is held to its estimate
    // first (costLimitStep).
    maxRecordsPerOperation: config.limits.operationCost,
    maxStatsRecords: config.limits.maxStatsRecords,
    maxFieldsPerRequest: config.limits.maxFieldsPerRequest,
    requestDeadlineMs: config.limits.requestDeadlineMs,
    filterOperators: config.carrierx.filterOperators,
    live: liveFeed,
  });
  const observability = { logger, accessLog: config.accessLog };
  const logging = yogaLogging(logger);
  // Unexpected errors become "Unexpected error." in every mode: no stack or internal message leaves.
  const maskError = config.production ? maskErrorForProduction : yogaMaskError;
  // What runs around every execution, in this order, on every path (src/graphql/execution/steps.ts). Observation first
  // (it reports the result as executed); masking last (it sees errors as the other steps leave them).
  const steps: ExecutionStep[] = [
    observeStep(observability),
    variableCoercionStep(logger),
    // After coercion: the estimate reads the variables' values.
    costLimitStep(createCostEstimator(schema), config.limits.operationCost),
    ...(cache ? [staleReportStep] : []),
    canonicalResultStep,
    maskingStep(maskError, UNEXPECTED_MESSAGE, logging.error),
  ];
  const cors = corsPolicy({ origins: config.corsOrigins, loopback: config.corsLoopback, logger });
  const app = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    // Yoga's default reflects every Origin with credentials, which would let any web page a user visits read
    // records through the fallback CARRIERX_TOKEN. Cross-origin access is opt-in, per origin (loopback pages
    // are let in only while developing on the embedded simulator).
    cors,
    context: contextFactory,
    // The same masking as the steps' (which leave nothing for it in an executed result), for what fails
    // outside execution.
    maskedErrors: { isDev: false, maskError, errorMessage: UNEXPECTED_MESSAGE },
    logging,
    // Served from the installed bundle: Yoga's default page needs unpkg, which offline machines cannot reach.
    renderGraphiQL,
    // Yoga's parse cache, with validation cached per document by our own plugin (see useValidationCache).
    parserAndValidationCache: { validationCache: false },
    plugins: [
      useValidationCache(),
      useObservability(observability),
      useExecutionSteps(steps),
      ...(config.corsOrigins.length > 0 || config.corsLoopback ? [useVaryOrigin()] : []),
      ...(cache && config.cache.adminToken
        ? [
            useCacheInvalidation(
              deps.spreadInvalidation?.((drSids) => cache.invalidate(drSids)) ??
                ((drSids) => cache.invalidate(drSids)),
              config.cache.adminToken,
              logger,
            ),
          ]
        : []),
      ...(config.graphiql ? [useOfflineGraphiQL()] : []),
      // Before the query limits: they judge the document a persisted id stands for.
      usePersistedDocuments({
        documents: persisted.current,
        only: config.persistedDocuments.only,
        gatewaySecret: config.persistedDocuments.gatewaySecret,
        registered: createRegisteredDocuments(REGISTERED_DOCUMENTS_KEPT),
        maxAgeSeconds: cache ? Math.floor(config.cache.ttlMs / 1000) : 0,
      }),
      useQueryLimits({
        length: config.limits.queryLength,
        depth: config.limits.queryDepth,
        aliases: config.limits.queryAliases,
        tokens: config.limits.queryTokens,
        directives: config.limits.queryDirectives,
      }),
      useReadableRequestErrors(),
      useKnownOperationTypes(),
      ...(config.limits.requestBodyLimitStrategy === 'content-length'
        ? [useRequestBodyLimit(config.limits.requestBodyBytes)]
        : []),
      ...(config.introspection ? [] : [useDisableIntrospection()]),
      ...(config.csrfPrevention ? [useCsrfPrevention()] : []),
      ...(config.jit ? [useJit(logger)] : []),
      useUnsupportedMediaType(),
      // Last: its onParams sees the parameters every other plugin has settled (persisted documents, checks).
      // It runs compiled queries: with graphql-jit off there are none to run.
      ...(config.jit && config.preparedOperations
        ? [
            usePreparedOperations({
              schema,
              contextFactory,
              steps,
              maxEntries: PREPARED_OPERATIONS_KEPT,
            }),
          ]
        : []),
      // Last: it labels each subscription result as the other plugins leave it.
      useSseEventIds(),
      useEndRefusedStreams(),
    ],
    // REQUEST_BODY_LIMIT_STRATEGY=stream uses Yoga's own check instead (kept for comparison in benchmarks).
    maxRequestBodySize:
      config.limits.requestBodyLimitStrategy === 'stream' ? config.limits.requestBodyBytes : false,
    // No field takes a file upload: multipart bodies would only be more parser for hostile input to reach.
    multipart: false,
    batching: config.limits.batch > 0 ? { limit: config.limits.batch } : false,
    graphiql: config.graphiql && graphiqlOptions(deps.demoToken),
  });
  if (caches?.answers) attachAnswerCache(app, caches.answers);
  (app as WithLive)[LIVE_FEED] = liveFeed;
  (app as WithLive)[ORIGIN_ALLOWED] = (origin, url) =>
    cors({ headers: new Headers({ origin }), url } as unknown as Request) !== false;
  return app;
}

const LIVE_FEED = Symbol('liveFeed');
const ORIGIN_ALLOWED = Symbol('originAllowed');
type WithLive = {
  [LIVE_FEED]?: LiveFeed;
  [ORIGIN_ALLOWED]?: (origin: string, url: string) => boolean;
};

/**
 * Whether a page of `origin` may use this API cross-origin (CORS_ORIGINS, loopback while developing): what a
 * WebSocket upgrade, which CORS does not cover, is held to.
 */
export function crossOriginAllowed(app: App, origin: string, url: string): boolean {
  return (app as WithLive)[ORIGIN_ALLOWED]?.(origin, url) ?? false;
}

/** The live feed the app's subscriptions follow, for the drain that closes it (src/lifecycle.ts). */
export function liveFeedOf(app: App): LiveFeed | undefined {
  return (app as WithLive)[LIVE_FEED];
}
