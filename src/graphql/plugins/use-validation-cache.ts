import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Validation results per parsed document, in place of Yoga's validation cache (its parse cache stays, and hands
 * out one document object per query text, which makes the document a key). Yoga keys its results by the names of
 * the request's validation rules too, mapped and joined on every request: the armor plugins add their rules anew
 * for each request, and reading ~30 function names and joining them cost about 10 µs of an operation (profile of
 * the benchmark's scenario 4). This process's rules are fixed at start-up (src/graphql/app.ts builds the plugin list once
 * from the configuration, and no plugin adds a rule for some requests only), so the document alone decides.
 */
export function useValidationCache(): Plugin {
  const results = new WeakMap<DocumentNode, readonly Error[]>();
  return {
    onValidate({ params: { documentAST }, setResult }) {
      const known = results.get(documentAST);
      if (known) {
        setResult(known);
        return;
      }
      return ({ result }) => {
        if (result != null) results.set(documentAST, result);
      };
    },
  };
}
