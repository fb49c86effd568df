import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { CarrierXError } from '../errors.ts';

/**
 * Makes a request Yoga cannot read a 400, not a 500. Some of Yoga's request parsers let plain errors escape:
 * a GET whose `variables` parameter is not JSON reaches JSON.parse unguarded and would surface as an
 * "Unexpected error." with status 500. A parser's GraphQL errors (Yoga's own 400s and 413s) and aborts pass
 * through untouched.
 */
export function useReadableRequestErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (error instanceof GraphQLError || (error as Error)?.name === 'AbortError') throw error;
          throw new CarrierXError(
            'BAD_REQUEST',
            'The request could not be read: its parameters are malformed.',
            {
              http: { status: 400 },
            },
          );
        }
      });
    },
  };
}
