import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { DR_SID } from '../../carrierx/record.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import type { CdrCache } from '../../records/cdr-cache.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { requestIdOf } from '../../telemetry/request-id.ts';
import { requestTraceIdOf } from '../../telemetry/tracing.ts';

const MAX_SIDS = 1000;
const MAX_BODY_BYTES = 64 * 1024;

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

const refuse = (status: number, code: ErrorCode, message: string = ERRORS[code]) =>
  answer(status, { errors: [{ message, extensions: { code } }] });

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * `POST /cache/invalidate` with `{"drSids": [...]}` and `Authorization: Bearer <CACHE_ADMIN_TOKEN>`: drops those
 * records from the cache for every credential (answers `{"invalidated": n}`). Not added at all without a token.
 */
export function useCacheInvalidation(
  invalidate: CdrCache['invalidate'],
  adminToken: string,
  logger: Logger,
): Plugin {
  return {
    async onRequest({ request, url, endResponse, serverContext }) {
      if (url.pathname !== '/cache/invalidate') return;
      // Every line about this request leads to its other lines: its request id, and its trace with tracing on.
      const traceId = requestTraceIdOf((serverContext as { req?: IncomingMessage }).req);
      const log = logger.child(
        traceId ? { requestId: requestIdOf(request), traceId } : { requestId: requestIdOf(request) },
      );
      // Each refusal is logged with its code: a wrong admin token is worth an operator's notice.
      const refused = (status: number, code: ErrorCode, message?: string) => {
        log.info({ status, errors: [code] }, 'cache invalidation refused');
        return endResponse(refuse(status, code, message));
      };
      if (request.method !== 'POST') return refused(405, 'BAD_REQUEST', 'Use POST.');
      const header = request.headers.get('authorization') ?? '';
      const token = /^Bearer (.+)$/i.exec(header)?.[1];
      if (token === undefined || !sameToken(token, adminToken)) {
        return refused(401, 'UNAUTHENTICATED', 'Send "Authorization: Bearer <CACHE_ADMIN_TOKEN>".');
      }
      const text = await request.text();
      if (text.length > MAX_BODY_BYTES) return refused(413, 'REQUEST_ENTITY_TOO_LARGE');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const drSids = (body as { drSids?: unknown } | undefined)?.drSids;
      if (
        !Array.isArray(drSids) ||
        drSids.length > MAX_SIDS ||
        !drSids.every((sid) => typeof sid === 'string' && DR_SID.test(sid))
      ) {
        return refused(
          400,
          'BAD_USER_INPUT',
          `Send {"drSids": [...]}: at most ${MAX_SIDS} call detail record UUIDs.`,
        );
      }
      const canonical = [...new Set(drSids.map((sid: string) => sid.toLowerCase()))];
      try {
        await invalidate(canonical);
      } catch (error) {
        log.warn({ err: { message: (error as Error).message } }, 'cache invalidation failed');
        return endResponse(
          refuse(
            503,
            'UPSTREAM_UNAVAILABLE',
            'The cache could not be reached everywhere; some records may not have been dropped.',
          ),
        );
      }
      log.info({ count: canonical.length }, 'cache entries invalidated');
      return endResponse(answer(200, { invalidated: canonical.length }));
    },
  };
}
