import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { ERRORS } from '../../errors.ts';

/** The headers that mark a request as sent by a script (any value): a browser preflights them cross-origin. */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-apollo-operation-name'];

// The POST bodies a plain HTML form (or fetch with no-cors) can send without a preflight.
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Refuses what a hostile page could make a browser send with the user's cookies and no preflight: a GET, or a
 * POST of a form's content type, without one of CSRF_HEADERS. The rule is @graphql-yoga/plugin-csrf-prevention's
 * (and Apollo Server's); this one answers with a code from the error table (`CSRF_HEADER_MISSING`, HTTP 403) and
 * a message naming the headers, where the package's said only "Required CSRF header(s) not present", with no
 * code for a client, or for our logs, to tell it from any other refusal.
 */
export function useCsrfPrevention(): Plugin {
  return {
    onRequestParse({ request }) {
      const type = request.headers.get('content-type')?.toLowerCase();
      const preflighted = type && !SIMPLE_CONTENT_TYPES.some((simple) => type.startsWith(simple));
      if (preflighted || CSRF_HEADERS.some((name) => request.headers.has(name))) return;
      throw createGraphQLError(ERRORS.CSRF_HEADER_MISSING, {
        extensions: { code: 'CSRF_HEADER_MISSING', http: { status: 403 } },
      });
    },
  };
}
