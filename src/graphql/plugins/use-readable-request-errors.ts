import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ERRORS, ServiceError } from '../../errors.ts';

function readable(error: unknown): unknown {
  if (error instanceof GraphQLError || (error as Error | undefined)?.name === 'AbortError') return error;
  return new ServiceError('BAD_REQUEST', 'The request could not be read: its parameters are malformed.', {
    http: { status: 400 },
  });
}

/**
 * Makes a request Yoga cannot read a 400, not a 500. Some of Yoga's request parsers let plain errors escape:
 * a GET whose `variables` parameter is not JSON reaches JSON.parse unguarded and would surface as an
 * "Unexpected error." with status 500. A parser's GraphQL errors (Yoga's own 400s and 413s) and aborts pass
 * through untouched, and a parser that answers synchronously stays synchronous.
 */
export function useReadableRequestErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser((request) => {
        try {
          const params = requestParser(request);
          // Parsers may answer with a native promise, a thenable or a value.
          return typeof (params as { then?: unknown }).then === 'function'
            ? Promise.resolve(params).catch((error) => {
                throw readable(error);
              })
            : params;
        } catch (error) {
          throw readable(error);
        }
      });
    },
  };
}

/**
 * Makes a POST of a media type no parser reads a 415 with a JSON error naming the accepted types: Yoga answers
 * it with an empty body, leaving the caller to guess what to send. Listed after every plugin with its own
 * onRequestParse (CSRF prevention must still refuse a form-like POST with 403 first). Other methods go on to
 * Yoga's 405. The HTTP fast path never serves such a request, so both paths answer alike.
 */
export function useUnsupportedMediaType(): Plugin {
  return {
    onRequestParse({ request, requestParser, endResponse, fetchAPI }) {
      if (requestParser || request.method !== 'POST') return;
      const error = {
        message: ERRORS.UNSUPPORTED_MEDIA_TYPE,
        extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' },
      };
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [error] }), {
          status: 415,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    },
  };
}
