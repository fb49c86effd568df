import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { CarrierXError } from '../errors.ts';

function readable(error: unknown): unknown {
  if (error instanceof GraphQLError || (error as Error | undefined)?.name === 'AbortError') return error;
  return new CarrierXError('BAD_REQUEST', 'The request could not be read: its parameters are malformed.', {
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
