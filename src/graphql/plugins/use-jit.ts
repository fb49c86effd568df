import { useGraphQlJit } from '@envelop/graphql-jit';
import { BREAK, type DocumentNode, Kind, visit } from 'graphql';
import type { Logger } from '../../telemetry/logger.ts';

/** Whether a variable appears inside a list or object literal, e.g. `[{ __typename: "X", drSid: $s }]`. */
function hasVariableInLiteral(document: DocumentNode): boolean {
  let found = false;
  let depth = 0;
  const enter = () => {
    depth++;
  };
  const leave = () => {
    depth--;
  };
  visit(document, {
    ListValue: { enter, leave },
    ObjectValue: { enter, leave },
    Variable() {
      if (depth > 0) {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Whether some selection set has a fragment (spread or inline) that is not its last selection, or more than
 * one. graphql-jit collects a selection set's fields first and its fragments' afterwards, last fragment
 * first; graphql-js (and the spec) keep the document's order. With at most one fragment, placed last — the
 * shape a gateway sends, `{ __typename ... on CallDetailRecord { ... } }` — the two orders agree.
 */
function hasFragmentOrderJitChanges(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    SelectionSet(node) {
      const fragments = node.selections.filter((selection) => selection.kind !== Kind.FIELD);
      if (fragments.length > 1 || (fragments.length === 1 && node.selections.at(-1) !== fragments[0])) {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Whether graphql-jit runs this document as graphql-js would. Four kinds it does not: a document with several
 * operations (the plugin caches one compiled operation per document, whichever was asked first, and would run
 * it for every operationName); `$x: T! = default` sent without a value (graphql-jit 0.8 rejects it where the
 * spec uses the default); a variable inside a list or object literal, which graphql-jit cannot hand to a
 * custom scalar's parseLiteral (an `_Any` representation holding `drSid: $s` lost its drSid: BAD_USER_INPUT
 * under jit, the record under graphql-js); and fragments placed where jit would reorder the answer's keys.
 */
function isJitSafe(document: DocumentNode): boolean {
  const operations = document.definitions.filter(
    (definition) => definition.kind === Kind.OPERATION_DEFINITION,
  );
  return (
    operations.length === 1 &&
    !operations[0]?.variableDefinitions?.some((variable) => variable.defaultValue !== undefined) &&
    !hasVariableInLiteral(document) &&
    !hasFragmentOrderJitChanges(document)
  );
}

const eligible = new WeakMap<DocumentNode, boolean>();

/** `isJitSafe`, once per parsed document. */
export function runsOnJit(document: DocumentNode): boolean {
  let ok = eligible.get(document);
  if (ok === undefined) {
    ok = isJitSafe(document);
    eligible.set(document, ok);
  }
  return ok;
}

/**
 * Executes through graphql-jit: each parsed document (cached by Yoga's parser cache) is compiled once into a
 * plain function, several times faster than graphql-js's interpreter. The documents it would get wrong stay on
 * graphql-js.
 */
export function useJit(logger: Logger): ReturnType<typeof useGraphQlJit> {
  return useGraphQlJit(
    {},
    {
      enableIf: ({ document }) => runsOnJit(document),
      onError: (result) =>
        logger.error({ errors: result.errors?.map((e) => e.message) }, 'JIT compile failed'),
    },
  );
}
