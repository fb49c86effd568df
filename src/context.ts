import type { YogaInitialContext } from 'graphql-yoga';
import type { AnswerRecorder } from './cache/answers.ts';
import { CarrierXError, CREDENTIALS } from './errors.ts';
import { type CdrLoader, type CdrSource, createCdrLoader } from './loaders/cdr-loader.ts';
import type { Logger } from './logger.ts';
import { requestIdOf } from './observability/request-id.ts';
import { type Span, traceIdOf } from './observability/tracing.ts';

/** What one HTTP request did upstream, for its access-log line and metrics. */
export interface Tally {
  upstreamCalls: number;
  records: number;
  /** With tracing on: the span its CarrierX calls' spans go under (the operation that built the loader). */
  span?: Span | undefined;
}

/**
 * One operation as the logs and metrics see it. A class, so an operation that logs nothing allocates no
 * child logger and no closures.
 */
export class Observation {
  readonly startedAt = performance.now();
  private child: Logger | undefined;
  /** Set when the request's loader is built; the loader is per HTTP request, so a batch shares one. */
  tally: Tally = NO_CALLS;
  /** With tracing on: the operation's span, set as it starts executing. */
  span: Span | undefined;

  constructor(
    readonly requestId: string,
    private readonly base: Logger,
  ) {}

  /** The trace this operation is part of, with tracing on. */
  get traceId(): string | undefined {
    return traceIdOf(this.span);
  }

  /** The logger for lines about this request: each carries its request id, and its trace id with tracing on. */
  get logger(): Logger {
    const { traceId } = this;
    this.child ??= this.base.child(
      traceId ? { requestId: this.requestId, traceId } : { requestId: this.requestId },
    );
    return this.child;
  }
}

const NO_CALLS: Tally = Object.freeze({ upstreamCalls: 0, records: 0 });

/** A record served from the cache while CarrierX fails: where it is in the response, and how old. */
export interface StaleRecord {
  path: (string | number)[];
  ageSeconds: number;
}

export interface Context {
  readonly loaders: { readonly cdr: CdrLoader };
  readonly observed: Observation;
  /** With a cache: the stale records this operation served, reported in `extensions.stale`. */
  readonly stale: StaleRecord[] | undefined;
  /** On the fast path with the answer cache on: collects what the answer is built from (src/cache/answers.ts). */
  readonly answer: AnswerRecorder | undefined;
}

export interface ContextDeps {
  /** The CarrierX client, or the cache in front of it. */
  client: CdrSource;
  /** Whether `client` is a cache: only then may a record be stale, or `Cache-Control: no-cache` mean anything. */
  cached?: boolean;
  logger: Logger;
  /** Used only when a request carries no Authorization header. */
  fallbackToken: string | undefined;
  maxParallelPerRequest: number;
  maxRecordsPerOperation: number;
  /** Records x selected fields one HTTP request may load, all its operations together. */
  maxFieldsPerRequest: number;
  /** Time from the start of a GraphQL operation after which no upstream call or retry wait may run. */
  requestDeadlineMs: number;
}

// The schemes CarrierX accepts, with an RFC 7235 token68: nothing else may travel upstream in the header.
const AUTHORIZATION = /^(?:Bearer|Basic) [A-Za-z0-9\-._~+/]+=*$/i;
const MAX_AUTHORIZATION_LENGTH = 4096;

// RFC 9111: a request's no-cache directive asks for an answer validated with the origin.
const NO_CACHE = /(?:^|,)\s*no-cache\s*(?:,|$)/i;

/** `Cache-Control: no-cache`, or (RFC 9111 5.4) `Pragma: no-cache` from an HTTP/1.0 client sending no Cache-Control. */
export function asksForRefresh(cacheControl: string | null, pragma: string | null): boolean {
  return cacheControl === null ? NO_CACHE.test(pragma ?? '') : NO_CACHE.test(cacheControl);
}

/** What to send upstream as Authorization, or why no call may be made. */
export function resolveCredentials(
  header: string | null,
  fallbackToken: string | undefined,
): { authorization: string } | { error: CarrierXError } {
  if (header === null || header.trim() === '') {
    return fallbackToken
      ? { authorization: `Bearer ${fallbackToken}` }
      : { error: new CarrierXError('UNAUTHENTICATED', CREDENTIALS.MISSING) };
  }
  if (header.length > MAX_AUTHORIZATION_LENGTH || !AUTHORIZATION.test(header)) {
    return { error: new CarrierXError('UNAUTHENTICATED', CREDENTIALS.MALFORMED) };
  }
  return { authorization: header };
}

/**
 * Builds each operation's context: the loaders of its HTTP request (nothing shared across requests),
 * credentials, deadline and the request's abort signal, which fires when the client disconnects. None of it is
 * read until an operation first loads a record.
 *
 * Yoga calls this once per operation, and a batched HTTP request carries several: were each given loaders of
 * its own, every limit the loader enforces (parallel calls, distinct records, fields) would multiply by the
 * batch size. The operations of one batch share Yoga's Request object (and the fast path builds one request
 * view per HTTP request), so the loader is kept per Request: one budget per HTTP request.
 */
export function createContextFactory(deps: ContextDeps) {
  return ({ request, answer }: YogaInitialContext & { answer?: AnswerRecorder }): Context => {
    const observed = new Observation(requestIdOf(request), deps.logger);
    return {
      observed,
      stale: deps.cached ? [] : undefined,
      answer,
      loaders: new RequestLoaders(deps, request, observed, answer),
    };
  };
}

// On the Request itself rather than in a WeakMap keyed by it: an entry per request in a weak table is work for
// every young-generation GC until the table is swept (a heap profile of the benchmark showed them live).
const LOADERS = Symbol('loaders');
type WithLoaders = { [LOADERS]?: { cdr: CdrLoader; tally: Tally } };

/**
 * An operation's loaders, each built on first use: operations that touch no record (introspection,
 * __typename) pay nothing.
 *
 * A class, not an object literal with `get cdr()`: V8 keeps an accessor in the object's hidden class (its map),
 * so a literal whose getter is a fresh closure gets a new map on every request, allocated in the old
 * generation and pointing at the closure. Until the next mark-compact, that map kept the closure, and through
 * it the request, its context and its response, alive through every young-generation GC: about a fifth of
 * all that was allocated survived each scavenge and was promoted (`--trace-gc-nvp`), where a prototype getter
 * leaves 0.1%. The same holds anywhere per request or per call: no object literal with `get`/`set` there.
 */
class RequestLoaders {
  private loader: CdrLoader | undefined;

  constructor(
    private readonly deps: ContextDeps,
    private readonly request: Request,
    private readonly observed: Observation,
    private readonly answer: AnswerRecorder | undefined,
  ) {}

  get cdr(): CdrLoader {
    if (this.loader) return this.loader;
    const { deps, request, observed } = this;
    const existing = (request as WithLoaders)[LOADERS];
    if (existing) {
      observed.tally = existing.tally;
      this.loader = existing.cdr;
      return existing.cdr;
    }
    const tally: Tally = { upstreamCalls: 0, records: 0, span: observed.span };
    observed.tally = tally;
    const cdr = createCdrLoader({
      client: deps.client,
      credentials: resolveCredentials(request.headers.get('authorization'), deps.fallbackToken),
      maxParallel: deps.maxParallelPerRequest,
      maxRecords: deps.maxRecordsPerOperation,
      maxFields: deps.maxFieldsPerRequest,
      signal: request.signal,
      deadlineAt: observed.startedAt + deps.requestDeadlineMs,
      observed,
      refresh:
        deps.cached && asksForRefresh(request.headers.get('cache-control'), request.headers.get('pragma')),
      answer: this.answer,
    });
    (request as WithLoaders)[LOADERS] = { cdr, tally };
    this.loader = cdr;
    return cdr;
  }
}
