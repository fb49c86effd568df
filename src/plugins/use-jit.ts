import { useGraphQlJit } from '@envelop/graphql-jit';
import { type DocumentNode, Kind } from 'graphql';
import type { Logger } from '../logger.ts';

/**
 * Whether graphql-jit runs this document as graphql-js would. Two cases it does not: a document with several
 * operations (the plugin caches one compiled operation per document, whichever was asked first, and would run
 * it for every operationName), and `$x: T! = default` sent without a value (graphql-jit 0.8 rejects it where the
 * spec uses the default).
 */
function isJitSafe(document: DocumentNode): boolean {
  const operations = document.definitions.filter(
    (definition) => definition.kind === Kind.OPERATION_DEFINITION,
  );
  return (
    operations.length === 1 &&
    !operations[0]?.variableDefinitions?.some((variable) => variable.defaultValue !== undefined)
  );
}

/**
 * Executes through graphql-jit: each parsed document (cached by Yoga's parser cache) is compiled once into a
 * plain function, several times faster than graphql-js's interpreter. The documents it would get wrong stay on
 * graphql-js.
 */
export function useJit(logger: Logger): ReturnType<typeof useGraphQlJit> {
  const eligible = new WeakMap<DocumentNode, boolean>();
  return useGraphQlJit(
    {},
    {
      enableIf: ({ document }) => {
        let ok = eligible.get(document);
        if (ok === undefined) {
          ok = isJitSafe(document);
          eligible.set(document, ok);
        }
        return ok;
      },
      onError: (result) =>
        logger.error({ errors: result.errors?.map((e) => e.message) }, 'JIT compile failed'),
    },
  );
}
