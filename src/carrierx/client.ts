import { type Dispatcher, errors, Pool } from 'undici';
import { classifyStatus, deadlineExceeded, disconnected, reasonOf, ServiceError } from '../errors.ts';
import { type Logger, withDeferredLogger } from '../telemetry/logger.ts';
import {
  observeUpstream,
  recordFieldsRequested,
  recordUpstreamAttempt,
  recordUpstreamRefusal,
  type UpstreamOutcome,
} from '../telemetry/metrics.ts';
import { type Span, tracer } from '../telemetry/tracing.ts';
import { type CallKind, pageKind } from './adaptive-limit.ts';
import { commaList } from './fields.ts';
import {
  createUpstreamPolicies,
  DEFAULT_POLICY_OPTIONS,
  UpstreamFailure,
  type UpstreamPolicyOptions,
  type UpstreamState,
} from './policies.ts';
import { type CdrPage, type CdrRecord, DR_SID, decodeCdr, decodeCdrPage } from './record.ts';

export interface CarrierXClientOptions {
  /** e.g. https://api.carrierx.com/core/v2 (no trailing slash). */
  baseUrl: string;
  timeoutMs: number;
  /** Name of CarrierX's field-filtering query parameter (unconfirmed upstream, so configurable). */
  includeFieldsParam: string | undefined;
  /** Keep-alive connections in the pool. */
  connections: number;
  /** HTTP/2 where CarrierX offers it (undici's allowH2, negotiated by ALPN over TLS); off unless set. */
  http2?: boolean;
  logger: Logger;
  /** Upper bound on a response body; a bigger one is a bad response, not a memory problem. */
  maxBodyBytes?: number;
  /** Retries, circuit breaker and bulkhead; each unset option takes its default. */
  policies?: Partial<UpstreamPolicyOptions>;
}

/** What one call may spend: the caller's abort signal and the GraphQL request's deadline. */
export interface CallOptions {
  /** Aborts the call (and any retry) when the caller goes away. */
  signal?: AbortSignal | undefined;
  /** A `performance.now()` value; no attempt or retry wait goes past it. Unset: one timeout from now. */
  deadlineAt?: number | undefined;
  /** The request's logger (it carries the request id); read only when there is something to log. */
  readonly logger?: Logger | undefined;
  /**
   * The request's tally, for its access-log line: each attempt and each record received adds one. With tracing
   * on it also carries the span the attempts' spans go under: it travels with the tally through the cache's
   * shared calls, whose log lines and counts already go to the request that started them.
   */
  readonly tally?: { upstreamCalls: number; records: number; readonly span?: Span | undefined } | undefined;
  /** Why the cache in front asked (its lookup's result), for the attempts' spans; unset without a cache. */
  readonly cacheResult?: 'miss' | 'partial' | 'refresh' | undefined;
}

export interface CarrierXClient {
  /**
   * GET /calls/call_drs/{drSid} asking only for `fields` (API names). `authorization` is sent verbatim.
   * Resolves the decoded record or rejects with a ServiceError from the error table (or the signal's reason).
   */
  getCallDetailRecord(
    drSid: string,
    fields: readonly string[],
    authorization: string,
    options?: CallOptions,
  ): Promise<CdrRecord>;
  /**
   * GET /calls/call_drs: one page of the records the token may see, asking only for `fields`. `page.filter`
   * and `page.order` must already be CarrierX syntax built from validated input (see list-query.ts).
   */
  listCallDetailRecords(
    page: ListPage,
    fields: readonly string[],
    authorization: string,
    options?: CallOptions,
  ): Promise<CdrPage>;
  /** The circuit breaker's state and the bulkhead's load, for health checks and metrics. */
  state(): UpstreamState;
  close(): Promise<void>;
}

/** One page of CarrierX's list endpoint: `limit` records after or before a dr_sid, filtered and ordered. */
export interface ListPage {
  limit: number;
  after?: string | undefined;
  before?: string | undefined;
  filter?: string | undefined;
  order?: string | undefined;
}

/** CarrierX's documented maximum for `limit`. */
export const MAX_LIST_LIMIT = 1000;

/** What a log line says a call was about: one record, or the list. */
type Subject = { drSid: string } | { list: string };

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

// An error answer's body is never read; past this much of it the connection is dropped rather than drained.
const MAX_DRAINED_BYTES = 128 * 1024;

function isTimeout(error: unknown): boolean {
  return error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError;
}

const TIMED_OUT = new Error('the call ran out of time');

function cancelForTimeout(exchange: Exchange): void {
  exchange.cancel(TIMED_OUT);
}

/** What an exchange that got no usable answer ran into, and how far it had got. */
class ExchangeFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly timedOut: boolean,
    readonly readingBody: boolean,
  ) {
    super('CarrierX exchange failed');
  }
}

interface ExchangeResult {
  status: number;
  /** Only on error answers. */
  retryAfter: string | string[] | undefined;
  /** The body of a 200; empty for error answers, whose bodies are drained unread. */
  text: string;
}

/**
 * One GET through the pool's low-level `dispatch`: the body is collected as it arrives, with no response stream,
 * AbortController or promise chain per call. Measured at 10 concurrent calls on this project's machine: ~30 us
 * of CPU per call against ~57 us for `pool.request` + `body.text()` with an AbortSignal, whose abort listener
 * alone costs ~5 us on Node 20 and keeps the signal, and all it references, alive until a major GC.
 *
 * It is also the abort listener of the caller's signal (`handleEvent`), so that costs no closure either.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly result: Promise<ExchangeResult>;
  private resolve!: (result: ExchangeResult) => void;
  private reject!: (error: unknown) => void;
  private controller: Dispatcher.DispatchController | undefined;
  /** Why the call was cancelled before undici started the request: it ends when undici starts or fails it. */
  private pendingCancel: { reason: unknown } | undefined;
  private settled = false;
  /** The answer's status; 0 while none has arrived. */
  status = 0;
  private retryAfter: string | string[] | undefined;
  private chunks: Buffer[] = [];
  /** Body bytes received. */
  size = 0;

  constructor(
    private readonly maxBodyBytes: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.result = new Promise<ExchangeResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /**
   * Ends the call with `reason` (a timeout, or the caller's signal) and has undici drop its connection; a call
   * undici has not started yet ends when undici starts or fails it.
   */
  cancel(reason: unknown): void {
    if (this.settled) return;
    const { controller } = this;
    if (!controller) {
      // Still in undici's queue (its connection is being made): undici cannot drop a queued request, so the
      // call ends when undici starts it (aborted at once) or fails it. Ending it now would free its bulkhead
      // slot while the request still waits for a connection, and a pile of such orphans would later each
      // take and destroy a fresh connection. The wait is bounded by the pool's connect timeout.
      this.pendingCancel = { reason };
      return;
    }
    this.endCancelled(reason);
    controller.abort(reason instanceof Error ? reason : new Error('cancelled'));
  }

  private endCancelled(reason: unknown): void {
    // An error answer already received is still that answer, whatever happens to its body now.
    if (this.status !== 0 && this.status !== 200) this.onResponseEnd();
    else this.fail(reason === TIMED_OUT ? new ExchangeFailure(reason, true, this.status !== 0) : reason);
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.cancel(this.signal?.reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingCancel) this.cancel(this.pendingCancel.reason);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.status = statusCode;
    if (statusCode !== 200) {
      this.retryAfter = headers['retry-after'];
      return;
    }
    const length = headers['content-length'];
    if (length !== undefined && Number(Array.isArray(length) ? length[0] : length) > this.maxBodyBytes) {
      this.tooLarge(controller);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.status !== 200) {
      if (this.size > MAX_DRAINED_BYTES) controller.abort(new Error('error body too large to drain'));
      return;
    }
    if (this.size > this.maxBodyBytes) this.tooLarge(controller);
    else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    const { chunks } = this;
    this.release();
    const text =
      this.status !== 200
        ? ''
        : chunks.length === 1
          ? (chunks[0] as Buffer).toString('utf8')
          : Buffer.concat(chunks).toString('utf8');
    this.resolve({ status: this.status, retryAfter: this.retryAfter, text });
  }

  /**
   * Lets go of undici's controller and the body's chunks (views of the socket's read buffer) once the exchange
   * has settled. An exchange in flight when a young-generation GC runs is promoted with all it references, and
   * dies in the old generation, where it stays until the next mark-compact: whatever it still points to then
   * survives every scavenge meanwhile and is promoted in turn. Keeping undici's controller was most of what
   * the server promoted at one connection (`--trace-gc-nvp`: 5% of the young generation survived each
   * scavenge; 0.5% without it, as for the benchmark's reference layer).
   */
  private release(): void {
    this.controller = undefined;
    this.chunks = [];
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    // An error answer already received is still that answer, whatever happened to its body after.
    if (this.status !== 0 && this.status !== 200) this.onResponseEnd();
    else if (this.pendingCancel) this.endCancelled(this.pendingCancel.reason);
    else this.fail(new ExchangeFailure(error, false, this.status !== 0));
  }

  private tooLarge(controller: Dispatcher.DispatchController): void {
    this.fail(new ServiceError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a response that is too large.'));
    // Unread, the body would keep its pooled connection busy for good.
    controller.abort(new Error('response too large'));
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    this.reject(error);
  }
}

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); undefined if absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number.parseInt(text, 10);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const FILTER_PARAM = '&filter=';

/**
 * The path as a span shows it: a list filter's values replaced by `?`, its field names and operators kept
 * (`number_src like ?`). A filter holds what a caller asked for (a phone number, say), which telemetry never
 * records; every value in it is one quoted token (src/carrierx/list-query.ts), so the quotes find them all.
 */
export function shownPath(path: string): string {
  const at = path.indexOf(FILTER_PARAM);
  if (at < 0) return path;
  const from = at + FILTER_PARAM.length;
  const end = path.indexOf('&', from);
  const filter = decodeURIComponent(path.slice(from, end < 0 ? undefined : end));
  const shape = filter.replace(/"[^"]*"|'[^']*'/g, '?');
  return `${path.slice(0, from)}${encodeURIComponent(shape)}${end < 0 ? '' : path.slice(end)}`;
}

/** What the server's configuration (`config.carrierx`) sets of a client; the rest is per process. */
export type CarrierXClientSettings = Omit<CarrierXClientOptions, 'baseUrl' | 'logger' | 'maxBodyBytes'>;

/**
 * The client the configuration asks for, on `baseUrl`: CarrierX's, or the simulator's that the server, a test
 * or a benchmark started.
 */
export function carrierXClientFor(
  settings: CarrierXClientSettings,
  baseUrl: string,
  logger: Logger,
): CarrierXClient {
  const { timeoutMs, includeFieldsParam, connections, http2, policies } = settings;
  return createCarrierXClient({
    baseUrl,
    timeoutMs,
    includeFieldsParam,
    connections,
    http2,
    policies,
    logger,
  });
}

/** The one HTTP client for CarrierX: a keep-alive pool, auth, timeouts, status → error, boundary validation. */
export function createCarrierXClient(options: CarrierXClientOptions): CarrierXClient {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { logger, timeoutMs } = options;
  const policies = createUpstreamPolicies({ ...DEFAULT_POLICY_OPTIONS, ...options.policies }, logger);
  const pool = new Pool(base.origin, {
    connections: options.connections,
    allowH2: options.http2 ?? false,
    keepAliveTimeout: 30_000,
    // undici's own phase timeouts stay as a backstop; the per-call deadline below is the real limit.
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // A call waiting for a connection cannot be taken back from undici (see Exchange.cancel): connecting
    // may take no longer than a whole call may.
    connect: { timeout: timeoutMs },
  });

  /** Maps what an attempt threw to the caller's error, wrapped for the policies when they may act on it. */
  function toFailure(
    logger: Logger,
    error: unknown,
    timedOut: boolean,
    budgetMs: number,
    readingBody: boolean,
    subject: Subject,
    attempt: number,
  ): ServiceError | UpstreamFailure {
    if (error instanceof ServiceError || error instanceof UpstreamFailure) {
      if (error instanceof ServiceError && error.code === 'UPSTREAM_BAD_RESPONSE')
        logger.warn({ ...subject, attempt, reason: error.message }, 'CarrierX sent a bad response');
      return error;
    }
    if (timedOut && budgetMs < timeoutMs) {
      // Cut short by the request's own deadline, not by CARRIERX_TIMEOUT_MS: this request ran out of time, and
      // CarrierX may be answering every call well within its timeout. Not an UpstreamFailure, so the shared
      // breaker does not count it: one request with a short deadline must not open the circuit for everyone.
      logger.info({ ...subject, attempt, budgetMs }, "CarrierX call cut short by the request's deadline");
      return deadlineExceeded();
    }
    if (timedOut) {
      logger.warn({ ...subject, attempt, timeoutMs: budgetMs }, 'CarrierX call timed out');
      // A slow CarrierX is not helped by a second request: final, but counted by the breaker.
      return new UpstreamFailure(
        new ServiceError('UPSTREAM_UNAVAILABLE', `CarrierX did not answer within ${budgetMs} ms.`),
        'unavailable',
        undefined,
        true,
      );
    }
    const code = (error as { code?: string }).code;
    if (readingBody) {
      // The status line and headers arrived, then the body broke off: a response we cannot read.
      logger.warn({ ...subject, attempt, err: { code } }, 'CarrierX response body broke off');
      return new ServiceError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a truncated response.');
    }
    logger.warn({ ...subject, attempt, err: { code, name: (error as Error).name } }, 'CarrierX call failed');
    return new UpstreamFailure(
      new ServiceError('UPSTREAM_UNAVAILABLE', 'CarrierX could not be reached.'),
      'transient',
    );
  }

  /**
   * One GET, with at most `budgetMs` to answer (the per-call timeout, or less if the deadline is nearer);
   * `decode` validates a 200's body, and `records` says how many records it held, for the request's tally.
   */
  async function attempt<T>(
    subject: Subject,
    /** The API fields in `path`'s include_fields; undefined when filtering is off. */
    fields: readonly string[] | undefined,
    path: string,
    authorization: string,
    callOptions: CallOptions,
    remainingMs: number,
    attemptNumber: number,
    decode: (text: string, log: () => Logger) => T,
    records: (result: T) => number,
    bodyLimit: number,
  ): Promise<T> {
    const { signal, tally } = callOptions;
    const budgetMs = Math.max(1, Math.min(timeoutMs, Math.floor(remainingMs)));
    const started = performance.now();
    let outcome: UpstreamOutcome = 'ok';
    if (tally) tally.upstreamCalls += 1;
    const exchange = new Exchange(bodyLimit, signal);
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    const span = tracer?.startUpstream(
      tally?.span,
      {
        url: `${base.origin}${shownPath(path)}`,
        ...subject,
        includeFields: fields,
        attempt: attemptNumber,
        cacheResult: callOptions.cacheResult,
      },
      headers,
    );
    // The whole call, connecting and reading included, ends at budgetMs: a native timer cancels it. undici's own
    // headersTimeout/bodyTimeout tick at ~0.5-1 s granularity above 1 s, only time the wait for headers and
    // each gap in the body, and let a deadline slip by up to a second, so they remain only a pool-wide backstop.
    const timer = setTimeout(cancelForTimeout, budgetMs, exchange);
    signal?.addEventListener('abort', exchange, { once: true });
    try {
      try {
        pool.dispatch({ method: 'GET', path, headers }, exchange);
      } catch (error) {
        // undici reports a failed dispatch through the handler; should it ever throw instead, the same way.
        exchange.onResponseError(undefined, error as Error);
      }
      const { status, retryAfter, text } = await exchange.result;
      if (status !== 200) {
        const retryAfterSeconds = parseRetryAfter(retryAfter);
        const { error, kind } = classifyStatus(status, retryAfterSeconds);
        const answer = {
          ...subject,
          status,
          attempt: attemptNumber,
          ms: Math.round(performance.now() - started),
          // How long CarrierX asked us to wait (a 429's or 503's Retry-After): what an operator needs to judge
          // whether the retry, or the caller, waited for it.
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        };
        outcome = statusOutcome(status);
        const log = callOptions.logger ?? logger;
        // 5xx and 429 are CarrierX failing us: worth an operator's attention. 401/403/404 are the caller's token
        // or SID: routine. A refusal of our own request (400, 409...) is logged once, as a bad response, below.
        if (kind !== undefined) log.warn(answer, 'CarrierX answered an error');
        else if (error.code !== 'UPSTREAM_BAD_RESPONSE') log.info(answer, `CarrierX answered ${status}`);
        throw kind === undefined
          ? error
          : new UpstreamFailure(
              error,
              kind,
              retryAfterSeconds === undefined ? undefined : retryAfterSeconds * 1000,
              // 429 and 503 are how an HTTP service says it has too much to do.
              status === 429 || status === 503,
            );
      }
      // The logger as a function: reading callOptions.logger makes the request's child logger (a pino child
      // with its bindings serialised: ~15 µs), wanted only when a field is bad.
      const result = decode(text, () => callOptions.logger ?? logger);
      if (tally) tally.records += records(result);
      return result;
    } catch (error) {
      if (signal?.aborted) {
        outcome = 'cancelled';
        throw signal.reason;
      }
      const log = callOptions.logger ?? logger;
      if (error instanceof ExchangeFailure) {
        const timedOut = error.timedOut || isTimeout(error.cause);
        outcome = timedOut ? 'timeout' : error.readingBody ? 'bad_response' : 'connection_error';
        throw toFailure(log, error.cause, timedOut, budgetMs, error.readingBody, subject, attemptNumber);
      }
      if (outcome === 'ok') outcome = 'bad_response';
      throw toFailure(log, error, false, budgetMs, false, subject, attemptNumber);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', exchange);
      if (span) tracer?.endUpstream(span, exchange.status, outcome);
      const seconds = (performance.now() - started) / 1000;
      recordUpstreamAttempt(outcome, exchange.status, seconds, exchange.size, attemptNumber > 1);
      // LOG_LEVEL=debug: every attempt, as its span shows it (no filter values). Checked on the client's own
      // logger first, so that with debug off no line is built and no request child logger is made.
      if (logger.isLevelEnabled('debug')) {
        (callOptions.logger ?? logger).debug(
          {
            ...subject,
            path: shownPath(path),
            ...(fields ? { includeFields: fields.length } : {}),
            attempt: attemptNumber,
            status: exchange.status,
            outcome,
            ms: Math.round(seconds * 10_000) / 10,
          },
          'CarrierX call',
        );
      }
    }
  }

  // Undefined when field filtering is switched off (CARRIERX_INCLUDE_FIELDS_PARAM=off): whole records then.
  const { includeFieldsParam } = options;
  const filter = (fields: readonly string[]) =>
    includeFieldsParam === undefined ? '' : `?${includeFieldsParam}=${commaList(fields)}`;
  observeUpstream(() => policies.state());

  /** One call through the policies (retries, breaker, bulkhead), whatever it fetches. */
  function run<T>(
    subject: Subject,
    /** The API fields asked for, for the attempts' spans. */
    fields: readonly string[],
    path: string,
    authorization: string,
    callOptions: CallOptions,
    decode: (text: string, log: () => Logger) => T,
    records: (result: T) => number,
    bodyLimit = maxBodyBytes,
    /** What the adaptive limit judges its round trip against. */
    kind: CallKind = 'record',
  ): Promise<T> {
    const { signal } = callOptions;
    const deadlineAt = callOptions.deadlineAt ?? performance.now() + timeoutMs;
    const result = policies.execute(
      (remainingMs, attemptNumber) =>
        attempt(
          subject,
          includeFieldsParam === undefined ? undefined : fields,
          path,
          authorization,
          callOptions,
          remainingMs,
          attemptNumber,
          decode,
          records,
          bodyLimit,
        ),
      // The request's child logger is made only if the policies log.
      withDeferredLogger(callOptions, { signal, deadlineAt, kind, credential: authorization }),
    );
    return result.catch((error: unknown) => {
      // Refused before any attempt: counted here, since no attempt was made to count (a credential cooling
      // down after a 429 is counted where the policies refuse it).
      const reason = reasonOf(error);
      if (reason === 'circuit-open') recordUpstreamRefusal('circuit_open');
      else if (reason === 'overloaded') recordUpstreamRefusal('bulkhead_full');
      if (!signal?.aborted || error !== signal.reason) throw error;
      // The caller went away: nobody reads this answer, and it is no server fault worth an error log.
      (callOptions.logger ?? logger).debug(subject, 'CarrierX call cancelled: the client disconnected');
      throw disconnected();
    });
  }

  return {
    getCallDetailRecord(drSid, fields, authorization, callOptions = {}) {
      // CarrierX's dr_sid is a UUID; nothing else is ever put into the path, whoever the caller is.
      if (!DR_SID.test(drSid)) {
        return Promise.reject(new ServiceError('BAD_USER_INPUT', 'A call detail record SID must be a UUID.'));
      }
      const path = `${basePath}/calls/call_drs/${encodeURIComponent(drSid)}${filter(fields)}`;
      if (includeFieldsParam !== undefined) recordFieldsRequested(fields.length);
      return run(
        { drSid },
        fields,
        path,
        authorization,
        callOptions,
        (text, log) =>
          decodeCdr(text, drSid, (api, kind, got) =>
            log().warn({ drSid, field: api, expected: kind, got }, 'CarrierX sent an unexpected field value'),
          ),
        () => 1,
      );
    },
    listCallDetailRecords(page, fields, authorization, callOptions = {}) {
      const cursor = page.after ?? page.before;
      if (
        !Number.isInteger(page.limit) ||
        page.limit < 1 ||
        page.limit > MAX_LIST_LIMIT ||
        (page.after !== undefined && page.before !== undefined) ||
        (cursor !== undefined && !DR_SID.test(cursor))
      ) {
        return Promise.reject(new ServiceError('BAD_USER_INPUT', 'This page cannot be asked of CarrierX.'));
      }
      // Every value percent-encoded (a space as %20, which every server reads as a space, where "+" is only
      // a form convention): the filter's quotes, spaces, "&" and "%" cannot end or add a parameter.
      let query = `limit=${page.limit}`;
      if (page.after !== undefined) query += `&after=${encodeURIComponent(page.after)}`;
      if (page.before !== undefined) query += `&before=${encodeURIComponent(page.before)}`;
      if (page.order !== undefined) query += `&order=${encodeURIComponent(page.order)}`;
      if (page.filter !== undefined) query += `&filter=${encodeURIComponent(page.filter)}`;
      if (includeFieldsParam !== undefined) {
        // API names from the field map, as on the by-SID call: nothing in them needs encoding.
        query += `&${includeFieldsParam}=${commaList(fields)}`;
        recordFieldsRequested(fields.length);
      }
      return run(
        { list: 'call_drs' },
        fields,
        `${basePath}/calls/call_drs?${query}`,
        authorization,
        callOptions,
        (text, log) =>
          decodeCdrPage(text, (api, kind, got) =>
            log().warn(
              { list: 'call_drs', field: api, expected: kind, got },
              'CarrierX sent an unexpected field value',
            ),
          ),
        (result) => result.records.length,
        // A page holds up to 1000 records: the bound on one body scales with the page, at 16 KiB a record
        // (a full record is about 2.5 KiB).
        Math.max(maxBodyBytes, page.limit * 16 * 1024),
        pageKind(page.limit),
      );
    },
    state: () => policies.state(),
    close: () => pool.close(),
  };
}

/** The outcome label of a CarrierX error answer. */
function statusOutcome(status: number): UpstreamOutcome {
  if (status === 404) return 'not_found';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'bad_response';
}
