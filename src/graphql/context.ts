import type { YogaInitialContext } from 'graphql-yoga';
import { asksForRefresh, resolveCredentials } from '../credentials.ts';
import type { LiveFeed } from '../live/feed.ts';
import { type CdrLoader, type CdrSource, createCdrLoader } from '../records/cdr-loader.ts';
import { Tally } from '../tally.ts';
import type { Logger } from '../telemetry/logger.ts';
import { requestIdOf } from '../telemetry/request-id.ts';
import { type Span, traceIdOf } from '../telemetry/tracing.ts';

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
  /**
   * The operation's type and name, set as it finishes or subscribes (a served copy of its answer reports itself
   * as this; a subscription's access-log line, written when it ends, names it so).
   */
  operation: { type: string; name: string | undefined } | undefined;

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

/** The tally of an operation that loaded nothing (never written: only a loader writes to a tally). */
const NO_CALLS: Tally = Object.freeze(new Tally());

/** A record served from the cache while CarrierX fails: where it is in the response, and how old. */
export interface StaleRecord {
  path: (string | number)[];
  ageSeconds: number;
}

export interface Context {
  readonly loaders: {
    readonly cdr: CdrLoader;
    /**
     * Starts one event of a subscription: the next record load builds a fresh loader (its own cache, limits and
     * deadline from now; its calls add to the subscription's tally). One loader for a subscription's whole life would serve hours-old records
     * from its cache, keep every record it ever loaded, and, once REQUEST_DEADLINE_MS or the records limit had
     * passed, fail every event's nested lookups.
     */
    nextEvent(): void;
  };
  /** The unconfirmed filter operators CarrierX is known to accept (CARRIERX_FILTER_OPERATORS). */
  readonly filterOperators: ReadonlySet<string>;
  readonly observed: Observation;
  /** With a cache: the stale records this operation served, reported in `extensions.stale`. */
  readonly stale: StaleRecord[] | undefined;
  /** The live feed subscriptions follow, and the token used when a request carries none; unset: none served. */
  readonly live: { readonly feed: LiveFeed; readonly fallbackToken: string | undefined } | undefined;
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
  /** Records one statistics scan may read (MAX_STATS_RECORDS); unset: 100,000. */
  maxStatsRecords?: number;
  /** Records x selected fields one HTTP request may load, all its operations together. */
  maxFieldsPerRequest: number;
  /** Time from the start of a GraphQL operation after which no upstream call or retry wait may run. */
  requestDeadlineMs: number;
  /** The unconfirmed filter operators CarrierX is known to accept; unset: none. */
  filterOperators?: ReadonlySet<string> | undefined;
  /** The process's live feed (one per process, src/graphql/app.ts); unset: subscriptions are refused. */
  live?: LiveFeed | undefined;
}

/**
 * What the server context may carry for the context factory: `recordReads` asks that the request's tally keep
 * each record-cache entry it reads (the HTTP edge sets it when the answer cache may keep the answer).
 */
export interface ReadsOption {
  recordReads?: boolean;
}

/** The tally of the HTTP request `request` (undefined when none of its operations loaded a record). */
export function tallyOf(request: object): Tally | undefined {
  return (request as WithLoaders)[LOADERS]?.tally;
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
  const filterOperators = deps.filterOperators ?? new Set<string>();
  const live = deps.live ? { feed: deps.live, fallbackToken: deps.fallbackToken } : undefined;
  return ({ request, recordReads }: YogaInitialContext & ReadsOption): Context => {
    const observed = new Observation(requestIdOf(request), deps.logger);
    return {
      observed,
      filterOperators,
      stale: deps.cached ? [] : undefined,
      live,
      loaders: new RequestLoaders(deps, request, observed, recordReads === true),
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
  /** When the current subscription event started; undefined for a query, whose deadline runs from its start. */
  private eventStartedAt: number | undefined;

  constructor(
    private readonly deps: ContextDeps,
    private readonly request: Request,
    private readonly observed: Observation,
    private readonly recordReads: boolean,
  ) {}

  nextEvent(): void {
    this.loader = undefined;
    this.eventStartedAt = performance.now();
    (this.request as WithLoaders)[LOADERS] = undefined;
  }

  get cdr(): CdrLoader {
    if (this.loader) return this.loader;
    const { deps, request, observed } = this;
    const existing = (request as WithLoaders)[LOADERS];
    if (existing) {
      observed.tally = existing.tally;
      this.loader = existing.cdr;
      return existing.cdr;
    }
    // A subscription's events add to its one tally: its access-log line, written when it ends, counts them all.
    const tally =
      this.eventStartedAt !== undefined && observed.tally !== NO_CALLS
        ? observed.tally
        : new Tally(observed.span, this.recordReads);
    observed.tally = tally;
    const cdr = createCdrLoader({
      client: deps.client,
      credentials: resolveCredentials(request.headers.get('authorization'), deps.fallbackToken),
      maxParallel: deps.maxParallelPerRequest,
      maxRecords: deps.maxRecordsPerOperation,
      maxScanRecords: deps.maxStatsRecords,
      maxFields: deps.maxFieldsPerRequest,
      signal: request.signal,
      deadlineAt: (this.eventStartedAt ?? observed.startedAt) + deps.requestDeadlineMs,
      observed,
      refresh:
        deps.cached && asksForRefresh(request.headers.get('cache-control'), request.headers.get('pragma')),
    });
    (request as WithLoaders)[LOADERS] = { cdr, tally };
    this.loader = cdr;
    return cdr;
  }
}
