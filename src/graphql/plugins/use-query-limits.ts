import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ServiceError } from '../../errors.ts';

export interface QueryLimits {
  /** Characters in the query text: comments and whitespace are no tokens, yet Yoga's caches keep the text. */
  length: number;
  depth: number;
  aliases: number;
  tokens: number;
  directives: number;
}

// Armor's validation rules throw, which ends validation with an error lacking a code. Reported instead, the
// error joins the other validation errors and gets GRAPHQL_VALIDATION_FAILED like them; Armor's "Syntax Error"
// prefix goes, since the document parsed fine.
const reportInstead: NonNullable<Parameters<typeof maxDepthPlugin>[0]> = {
  propagateOnRejection: false,
  onReject: [
    (context, error) => context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
  ],
};

/**
 * graphql-js parses recursively, and a document can nest deeper than the stack allows (a few thousand `[`)
 * before it reaches the token limit. That is the caller's malformed document, not an unexpected error.
 */
const stackSafeParse: Plugin = {
  onParse({ parseFn, setParseFn }) {
    setParseFn((source, options) => {
      try {
        return parseFn(source, options);
      } catch (error) {
        if (error instanceof RangeError)
          throw new GraphQLError('Syntax Error: the document nests too deeply.');
        throw error;
      }
    });
  },
};

/**
 * GraphQL Armor's limits on an operation's shape, checked at parse and validation time (and cached with the
 * document by Yoga): no resolver runs and CarrierX is never called for an operation over a limit. The token limit
 * is checked while parsing, so it also bounds how deep a document can nest before graphql-js recurses into it.
 */
export function useQueryLimits(limits: QueryLimits): Plugin {
  return {
    onParams({ params }) {
      if (typeof params.query === 'string' && params.query.length > limits.length) {
        throw new ServiceError(
          'BAD_REQUEST',
          `The query document is longer than this service accepts (${limits.length} characters).`,
          { http: { status: 400 } },
        );
      }
    },
    onPluginInit({ addPlugin }) {
      addPlugin(maxTokensPlugin({ n: limits.tokens }));
      addPlugin(stackSafeParse);
      // Fragments are a way to write a selection, not a level: they add no depth. (Cost is not armor's: the one
      // cost limit, in CarrierX calls and records, is src/graphql/execution/cost-limit.ts's.)
      addPlugin(maxDepthPlugin({ n: limits.depth, flattenFragments: true, ...reportInstead }));
      addPlugin(maxAliasesPlugin({ n: limits.aliases, ...reportInstead }));
      addPlugin(maxDirectivesPlugin({ n: limits.directives, ...reportInstead }));
    },
  };
}
