import { type Dispatcher, errors, Pool } from 'undici';
import { CarrierXError, errorForStatus } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { commaList } from './fields.ts';
import {
  createUpstreamPolicies,
  DEFAULT_POLICY_OPTIONS,
  type FailureKind,
  UpstreamFailure,
  type UpstreamPolicyOptions,
  type UpstreamState,
} from './policies.ts';
import { type CdrRecord, decodeCdr } from './record.ts';

export interface CarrierXClientOptions {
  /** e.g. https://api.carrierx.com/core/v2 (no trailing slash). */
  baseUrl: string;
  timeoutMs: number;
  /** Name of CarrierX's field-filtering query parameter (unconfirmed upstream, so configurable). */
  includeFieldsParam: string | undefined;
  /** Keep-alive connections in the pool. */
  connections: number;
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
}

export interface CarrierXClient {
  /**
   * GET /calls/call_drs/{drSid} asking only for `fields` (API names). `authorization` is sent verbatim.
   * Resolves the decoded record or rejects with a CarrierXError from the error table (or the signal's reason).
   */
  getCallDetailRecord(
    drSid: string,
    fields: readonly string[],
    authorization: string,
    options?: CallOptions,
  ): Promise<CdrRecord>;
  /** The circuit breaker's state and the bulkhead's load, for health checks and metrics. */
  state(): UpstreamState;
  close(): Promise<void>;
}

/** How each upstream status is treated by the policies; statuses not listed are final answers. */
function failureKind(status: number): FailureKind | undefined {
  if (status === 502 || status === 503 || status === 504) return 'transient';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'unavailable';
  return undefined;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
// CarrierX's dr_sid is a UUID; nothing else is ever put into the path, whoever the caller is.
const DR_SID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const TIMED_OUT = Symbol('timed out');

function abortForTimeout(controller: AbortController): void {
  controller.abort(TIMED_OUT);
}

function isTimeout(error: unknown): boolean {
  return error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError;
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

/** The one HTTP client for CarrierX: a keep-alive pool, auth, timeouts, status → error, boundary validation. */
export function createCarrierXClient(options: CarrierXClientOptions): CarrierXClient {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { logger, timeoutMs } = options;
  const policies = createUpstreamPolicies({ ...DEFAULT_POLICY_OPTIONS, ...options.policies }, logger);
  const pool = new Pool(base.origin, {
    connections: options.connections,
    keepAliveTimeout: 30_000,
    // undici's own phase timeouts stay as a backstop; the per-call deadline below is the real limit.
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  async function readBody(
    body: Dispatcher.ResponseData['body'],
    declaredLength: string | undefined,
  ): Promise<string> {
    if (declaredLength !== undefined) {
      if (Number(declaredLength) > maxBodyBytes) {
        // Unread, the body would keep its pooled connection busy for good.
        body.destroy();
        throw new CarrierXError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a response that is too large.');
      }
      // undici never delivers more than the declared length, so the cap already holds.
      return body.text();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (size > maxBodyBytes) {
        throw new CarrierXError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a response that is too large.');
      }
      chunks.push(chunk);
    }
    return chunks.length === 1
      ? (chunks[0] as Buffer).toString('utf8')
      : Buffer.concat(chunks).toString('utf8');
  }

  /** Maps what an attempt threw to the caller's error, wrapped for the policies when they may act on it. */
  function toFailure(
    error: unknown,
    timedOut: boolean,
    budgetMs: number,
    readingBody: boolean,
    drSid: string,
  ): CarrierXError | UpstreamFailure {
    if (error instanceof CarrierXError || error instanceof UpstreamFailure) {
      if (error instanceof CarrierXError && error.code === 'UPSTREAM_BAD_RESPONSE')
        logger.warn({ drSid, reason: error.message }, 'CarrierX sent a bad response');
      return error;
    }
    if (timedOut) {
      logger.warn({ drSid, timeoutMs: budgetMs }, 'CarrierX call timed out');
      // A slow CarrierX is not helped by a second request: final, but counted by the breaker.
      return new UpstreamFailure(
        new CarrierXError('UPSTREAM_UNAVAILABLE', `CarrierX did not answer within ${budgetMs} ms.`),
        'unavailable',
      );
    }
    const code = (error as { code?: string }).code;
    if (readingBody) {
      // The status line and headers arrived, then the body broke off: a response we cannot read.
      logger.warn({ drSid, err: { code } }, 'CarrierX response body broke off');
      return new CarrierXError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a truncated response.');
    }
    logger.warn({ drSid, err: { code, name: (error as Error).name } }, 'CarrierX call failed');
    return new UpstreamFailure(
      new CarrierXError('UPSTREAM_UNAVAILABLE', 'CarrierX could not be reached.'),
      'transient',
    );
  }

  /** One GET, with at most `budgetMs` to answer (the per-call timeout, or less if the deadline is nearer). */
  async function attempt(
    drSid: string,
    path: string,
    authorization: string,
    signal: AbortSignal | undefined,
    remainingMs: number,
  ): Promise<CdrRecord> {
    const budgetMs = Math.max(1, Math.min(timeoutMs, Math.floor(remainingMs)));
    const started = performance.now();
    let readingBody = false;
    // The whole call, connecting and reading included, ends at budgetMs: a native timer aborts it. undici's own
    // headersTimeout/bodyTimeout tick at ~0.5-1 s granularity above 1 s, only time the wait for headers and
    // each gap in the body, and let a deadline slip by up to a second, so they remain only a pool-wide backstop.
    // A controller, a timer and one listener cost ~2.5 µs; AbortSignal.timeout + AbortSignal.any cost ~24 µs.
    const controller = new AbortController();
    const timer = setTimeout(abortForTimeout, budgetMs, controller);
    const forwardAbort = signal ? () => controller.abort(signal.reason) : undefined;
    if (signal && forwardAbort) signal.addEventListener('abort', forwardAbort, { once: true });
    try {
      const response = await pool.request({
        method: 'GET',
        path,
        headers: { authorization, accept: 'application/json' },
        signal: controller.signal,
      });
      const { statusCode } = response;
      if (statusCode !== 200) {
        // Drain rather than read: an error body never travels further than this function.
        await response.body.dump();
        logger.info(
          { drSid, status: statusCode, ms: performance.now() - started },
          'CarrierX answered an error',
        );
        const retryAfter = parseRetryAfter(response.headers['retry-after']);
        const error = errorForStatus(statusCode, retryAfter);
        const kind = failureKind(statusCode);
        throw kind === undefined
          ? error
          : new UpstreamFailure(error, kind, retryAfter === undefined ? undefined : retryAfter * 1000);
      }
      readingBody = true;
      const contentLength = response.headers['content-length'];
      const text = await readBody(
        response.body,
        Array.isArray(contentLength) ? contentLength[0] : contentLength,
      );
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new CarrierXError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a response that is not JSON.');
      }
      return decodeCdr(body, drSid, (api, kind, got) =>
        logger.warn({ drSid, field: api, expected: kind, got }, 'CarrierX sent an unexpected field value'),
      );
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const timedOut = controller.signal.reason === TIMED_OUT || isTimeout(error);
      throw toFailure(error, timedOut, budgetMs, readingBody, drSid);
    } finally {
      clearTimeout(timer);
      if (signal && forwardAbort) signal.removeEventListener('abort', forwardAbort);
    }
  }

  // Undefined when field filtering is switched off (CARRIERX_INCLUDE_FIELDS_PARAM=off): whole records then.
  const { includeFieldsParam } = options;
  const filter = (fields: readonly string[]) =>
    includeFieldsParam === undefined ? '' : `?${includeFieldsParam}=${commaList(fields)}`;

  return {
    getCallDetailRecord(drSid, fields, authorization, callOptions = {}) {
      if (!DR_SID.test(drSid)) {
        return Promise.reject(
          new CarrierXError('BAD_USER_INPUT', 'A call detail record SID must be a UUID.'),
        );
      }
      const path = `${basePath}/calls/call_drs/${encodeURIComponent(drSid)}${filter(fields)}`;
      const { signal } = callOptions;
      const deadlineAt = callOptions.deadlineAt ?? performance.now() + timeoutMs;
      const result = policies.execute(
        (remainingMs) => attempt(drSid, path, authorization, signal, remainingMs),
        { signal, deadlineAt },
      );
      if (!signal) return result;
      return result.catch((error: unknown) => {
        if (!signal.aborted || error !== signal.reason) throw error;
        // The caller went away: nobody reads this answer, and it is no server fault worth an error log.
        logger.debug({ drSid }, 'CarrierX call cancelled: the client disconnected');
        throw new CarrierXError(
          'UPSTREAM_UNAVAILABLE',
          'The request was cancelled: the client disconnected.',
        );
      });
    },
    state: () => policies.state(),
    close: () => pool.close(),
  };
}
