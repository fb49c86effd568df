import { timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { DR_SID } from '../../carrierx/record.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import type { CdrCache } from '../../records/cdr-cache.ts';
import type { Logger } from '../../telemetry/logger.ts';

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
    async onRequest({ request, url, endResponse }) {
      if (url.pathname !== '/cache/invalidate') return;
      if (request.method !== 'POST') return endResponse(refuse(405, 'BAD_REQUEST', 'Use POST.'));
      const header = request.headers.get('authorization') ?? '';
      const token = /^Bearer (.+)$/i.exec(header)?.[1];
      if (token === undefined || !sameToken(token, adminToken)) {
        return endResponse(
          refuse(401, 'UNAUTHENTICATED', 'Send "Authorization: Bearer <CACHE_ADMIN_TOKEN>".'),
        );
      }
      const text = await request.text();
      if (text.length > MAX_BODY_BYTES) return endResponse(refuse(413, 'REQUEST_ENTITY_TOO_LARGE'));
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
        return endResponse(
          refuse(
            400,
            'BAD_USER_INPUT',
            `Send {"drSids": [...]}: at most ${MAX_SIDS} call detail record UUIDs.`,
          ),
        );
      }
      const canonical = [...new Set(drSids.map((sid: string) => sid.toLowerCase()))];
      try {
        await invalidate(canonical);
      } catch (error) {
        logger.warn({ err: { message: (error as Error).message } }, 'cache invalidation failed');
        return endResponse(
          refuse(
            503,
            'UPSTREAM_UNAVAILABLE',
            'The cache could not be reached everywhere; some records may not have been dropped.',
          ),
        );
      }
      logger.info({ count: canonical.length }, 'cache entries invalidated');
      return endResponse(answer(200, { invalidated: canonical.length }));
    },
  };
}
