import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Refuses `__schema` and `__type` (graphql-js's own rule; `__typename` still works) and removes the "Did you
 * mean …?" hints from validation errors, which would otherwise spell the schema out one guess at a time.
 * Federation needs neither: gateways read `_service { sdl }`.
 */
export function useDisableIntrospection(): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(blockFieldSuggestionsPlugin({ mask: '' }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
