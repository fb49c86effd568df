import { Pool } from 'undici';
import { CarrierXError, errorForStatus } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { type CdrRecord, decodeCdr } from './record.ts';

export interface CarrierXClientOptions {
  /** e.g. https://api.carrierx.com/core/v2 (no trailing slash). */
  baseUrl: string;
  timeoutMs: number;
  /** Name of CarrierX's field-filtering query parameter (unconfirmed upstream, so configurable). */
  includeFieldsParam: string;
  /** Keep-alive connections in the pool. */
  connections: number;
  logger: Logger;
  /** Upper bound on a response body; a bigger one is a bad response, not a memory problem. */
  maxBodyBytes?: number;
}

export interface CarrierXClient {
  /**
   * GET /calls/call_drs/{drSid} asking only for `fields` (API names). `authorization` is sent verbatim.
   * Resolves the decoded record or rejects with a CarrierXError from the error table.
   */
  getCallDetailRecord(
    drSid: string,
    fields: readonly string[],
    authorization: string,
    signal?: AbortSignal,
  ): Promise<CdrRecord>;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

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
  const pool = new Pool(base.origin, {
    connections: options.connections,
    keepAliveTimeout: 30_000,
    // undici's own phase timeouts stay as a backstop; the per-call deadline below is the real limit.
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  async function readBody(body: AsyncIterable<Buffer>, declaredLength: string | undefined): Promise<string> {
    if (declaredLength !== undefined && Number(declaredLength) > maxBodyBytes) {
      throw new CarrierXError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a response that is too large.');
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

  function toCarrierXError(
    error: unknown,
    timedOut: boolean,
    readingBody: boolean,
    drSid: string,
  ): CarrierXError {
    if (error instanceof CarrierXError) {
      if (error.code === 'UPSTREAM_BAD_RESPONSE')
        logger.warn({ drSid, reason: error.message }, 'CarrierX sent a bad response');
      return error;
    }
    if (timedOut) {
      logger.warn({ drSid, timeoutMs }, 'CarrierX call timed out');
      return new CarrierXError('UPSTREAM_UNAVAILABLE', `CarrierX did not answer within ${timeoutMs} ms.`);
    }
    const code = (error as { code?: string }).code;
    if (readingBody) {
      // The status line and headers arrived, then the body broke off: a response we cannot read.
      logger.warn({ drSid, err: { code } }, 'CarrierX response body broke off');
      return new CarrierXError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a truncated response.');
    }
    logger.warn({ drSid, err: { code, name: (error as Error).name } }, 'CarrierX call failed');
    return new CarrierXError('UPSTREAM_UNAVAILABLE', 'CarrierX could not be reached.');
  }

  return {
    async getCallDetailRecord(drSid, fields, authorization, signal) {
      const path = `${basePath}/calls/call_drs/${encodeURIComponent(drSid)}?${options.includeFieldsParam}=${fields.join(',')}`;
      const timeout = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      const started = performance.now();
      let readingBody = false;
      try {
        const response = await pool.request({
          method: 'GET',
          path,
          headers: { authorization, accept: 'application/json' },
          signal: combined,
        });
        const { statusCode } = response;
        if (statusCode !== 200) {
          // Drain rather than read: an error body never travels further than this function.
          await response.body.dump();
          logger.info(
            { drSid, status: statusCode, ms: performance.now() - started },
            'CarrierX answered an error',
          );
          throw errorForStatus(statusCode, parseRetryAfter(response.headers['retry-after']));
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
        throw toCarrierXError(error, timeout.aborted, readingBody, drSid);
      }
    },
    close: () => pool.close(),
  };
}
