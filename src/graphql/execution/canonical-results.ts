import { type DocumentNode, type ExecutionResult, GraphQLError, type Source } from 'graphql';
import type { ExecutionStep } from './steps.ts';

/** Offset in the document's text of a 1-based line and column, as graphql-js's positions count. */
function positionOf(source: Source, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = source.body.indexOf('\n', offset);
    if (next === -1) break;
    offset = next + 1;
  }
  return offset + column - 1;
}

/**
 * An error as graphql-js would have made it. graphql-jit builds its own errors: `locations` but no source or
 * positions (Yoga rebuilds every error from those when it serialises, so the locations vanished), and no
 * `originalError` for the errors it raises itself (a value its serializer refuses, a null in a non-null
 * field), where graphql-js keeps the Error it threw, which error masking answers as `Unexpected error.`.
 */
function asGraphQLJsError(error: GraphQLError, source: Source | undefined): GraphQLError {
  if (error.positions !== undefined || !error.locations?.length || source === undefined) return error;
  return new GraphQLError(error.message, {
    source,
    positions: error.locations.map(({ line, column }) => positionOf(source, line, column)),
    path: error.path,
    originalError: error.originalError ?? new Error(error.message),
    extensions: error.extensions,
  });
}

function comparePaths(a: GraphQLError, b: GraphQLError): number {
  const left = a.path ?? [];
  const right = b.path ?? [];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const [x, y] = [left[i], right[i]];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return left.length - right.length;
}

/**
 * Gives every execution result one shape, whichever executor produced it: errors first (graphql-js's order of
 * keys; graphql-jit puts data first), each error as graphql-js makes it, sorted by path. The order in which
 * errors happen follows the order in which CarrierX answers, so without the sort two runs of one request
 * could differ; sorted, the same answers make the same bytes. Runs before Yoga masks errors, so masking sees
 * graphql-js's errors either way. A result without errors is returned as it is.
 */
export function canonicalResult(result: ExecutionResult, document: DocumentNode): ExecutionResult {
  if (!result.errors?.length) return result;
  const source = document.loc?.source;
  const errors = result.errors.map((error) => asGraphQLJsError(error, source));
  if (errors.length > 1) errors.sort(comparePaths);
  const canonical: ExecutionResult = { errors };
  if ('data' in result) canonical.data = result.data;
  if (result.extensions !== undefined) canonical.extensions = result.extensions;
  return canonical;
}

/**
 * The execution step that gives results one shape whichever executor ran (before errors are masked): a query's,
 * and each event of a subscription (graphql-jit executes those too).
 */
const canonicalOf: NonNullable<ExecutionStep['finish']> = ({ document }, result) =>
  canonicalResult(result, document);

export const canonicalResultStep: ExecutionStep = { finish: canonicalOf, event: canonicalOf };
