import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** A mutation or subscription against a schema that has none is invalid (graphql-js 17 has this rule built in). */
const knownOperationTypes: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (context.getSchema().getRootType(node.operation)) return;
    context.reportError(
      new GraphQLError(
        `This service has no ${node.operation} operations: it answers queries and subscriptions.`,
        {
          nodes: node,
        },
      ),
    );
  },
});

/**
 * Refuses operations of a kind the schema does not have while validating. graphql-js 16 leaves them to the
 * executor, and an executor other than graphql-js's own (graphql-jit) throws outside the result: a 500.
 */
export function useKnownOperationTypes(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(knownOperationTypes);
    },
  };
}
