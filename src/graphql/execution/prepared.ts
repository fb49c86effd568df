import {
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { type GraphQLParams, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { recordPreparedOperation } from '../../telemetry/metrics.ts';
import type { createContextFactory } from '../context.ts';
import { runsOnJit } from '../plugins/use-jit.ts';
import { type ExecutionStep, type OperationContext, ownVariables, runBetweenSteps } from './steps.ts';
import { scalarVariablesOf } from './variable-coercion.ts';

/**
 * Prepared operations: the second and later runs of a query document skip envelop's pipeline.
 *
 * Everything that pipeline does before execution depends only on the request's parameters when they are just
 * `query`, `variables` and `operationName`: parsing, validation (with the introspection rule and GraphQL
 * Armor's limits) and the choice of executor read the document. So once a document has been parsed, validated
 * and executed cleanly, the same text and operation name can only pass again, and their next runs go straight
 * to what remains per operation: the context from the same factory, and the compiled query run between the same
 * execution steps as every other operation (src/graphql/execution/steps.ts: observation, variable coercion, stale
 * report, canonical errors, masking). Measured on the benchmark's scenarios 3 and 4: a fifth to a third of the
 * server's throughput.
 *
 * A Yoga plugin on its public seams: `onParams` hands a prepared document to a params handler of its own
 * (`setParamsHandler`), after every other plugin's `onParams` (persisted documents, the request checks) has seen
 * the request; `onExecutionResult` learns a document that ran cleanly. Both HTTP paths reach it through Yoga's
 * `getResultForParams`.
 */

/** A document that executed cleanly once, compiled for its operation. */
interface PreparedOperation {
  readonly document: DocumentNode;
  readonly compiled: CompiledQuery;
  /** Read since the last eviction sweep (the cache's CLOCK bit: a hit costs one write, no re-insertion). */
  used: boolean;
}

/** Parameters that name nothing but a document text, its variables and an operation name. */
interface PlainParams {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

export interface PreparedOperationsOptions {
  schema: GraphQLSchema;
  /** The operation context's factory, the one Yoga is given (src/graphql/context.ts). */
  contextFactory: ReturnType<typeof createContextFactory>;
  /** The execution steps, the list useExecutionSteps runs. */
  steps: readonly ExecutionStep[];
  /** How many documents are kept prepared; those not read since the last sweep go first. */
  maxEntries: number;
}

/** The document an operation executed (the parsed one Yoga cached), noted on its context for learning. */
const EXECUTED = Symbol('executed document');
/** Marks a context whose operation ran prepared: there is nothing to learn from it. */
const PREPARED = Symbol('prepared');
type Noted = { [EXECUTED]?: DocumentNode; [PREPARED]?: true; params?: GraphQLParams };

function isPlain(params: GraphQLParams): params is GraphQLParams & PlainParams {
  for (const key in params) {
    if (key === 'query' || key === 'variables' || key === 'operationName') continue;
    // Yoga's GET parser names every parameter it reads, absent ones as undefined.
    if ((params as Record<string, unknown>)[key] !== undefined) return false;
  }
  const { query, operationName, variables } = params as Record<string, unknown>;
  return (
    typeof query === 'string' &&
    (operationName === undefined || operationName === null || typeof operationName === 'string') &&
    (variables === undefined ||
      variables === null ||
      (typeof variables === 'object' && !Array.isArray(variables)))
  );
}

export function usePreparedOperations(options: PreparedOperationsOptions): Plugin {
  const { schema, steps, contextFactory } = options;
  // Text, then operation name (null: none given). Exact keys: no way for one request to reach another's entry.
  const entries = new Map<string, Map<string | null, PreparedOperation>>();
  let size = 0;

  /** CLOCK: the oldest entry not read since the last sweep goes; read ones get another round. */
  function evictOne(): void {
    while (entries.size > 0) {
      for (const [query, byName] of entries) {
        for (const [name, entry] of byName) {
          if (entry.used) {
            entry.used = false;
            continue;
          }
          byName.delete(name);
          if (byName.size === 0) entries.delete(query);
          size--;
          return;
        }
      }
    }
  }

  function find(params: GraphQLParams): PreparedOperation | undefined {
    if (size === 0 || !isPlain(params)) return undefined;
    const prepared = entries.get(params.query)?.get(params.operationName ?? null);
    if (prepared !== undefined) prepared.used = true;
    return prepared;
  }

  /** Runs `prepared` with the context Yoga would build: the server context, the request and parameters, ours. */
  function run(
    prepared: PreparedOperation,
    request: Request,
    params: GraphQLParams & PlainParams,
    serverContext: Record<string, unknown>,
  ): ExecutionResult | Promise<ExecutionResult> {
    recordPreparedOperation();
    serverContext.request = request;
    serverContext.params = params;
    Object.assign(serverContext, contextFactory(serverContext as never));
    (serverContext as Noted)[PREPARED] = true;
    const context = serverContext as unknown as OperationContext;
    // As the pipeline hands them to its executor: own properties only (src/graphql/execution/steps.ts).
    const variables = ownVariables(params.variables);
    return runBetweenSteps(
      steps,
      { schema, document: prepared.document, operationName: params.operationName, variables, context },
      () =>
        prepared.compiled.query(undefined, context, variables) as ExecutionResult | Promise<ExecutionResult>,
    );
  }

  function learn(params: GraphQLParams, document: DocumentNode): void {
    if (!isPlain(params) || !runsOnJit(document)) return;
    const name = params.operationName ?? null;
    if (entries.get(params.query)?.has(name)) return;
    const operation: OperationDefinitionNode | null | undefined = getOperationAST(document, name);
    // Queries only; variables all scalars, which the coercion step checks without graphql-js.
    if (operation?.operation !== 'query' || scalarVariablesOf(schema, operation) === null) return;
    const compiled = compileQuery(schema, document, name ?? undefined);
    if (!isCompiledQuery(compiled)) return;
    if (size >= options.maxEntries) evictOne();
    let byName = entries.get(params.query);
    if (!byName) {
      byName = new Map();
      entries.set(params.query, byName);
    }
    byName.set(name, { document, compiled, used: false });
    size++;
  }

  return {
    onParams({ params, setParamsHandler }) {
      const prepared = find(params);
      if (prepared === undefined) return;
      setParamsHandler(({ request, params: handed, context }) =>
        run(
          prepared,
          request,
          handed as GraphQLParams & PlainParams,
          context as unknown as Record<string, unknown>,
        ),
      );
    },
    onExecute({ args }) {
      (args.contextValue as Noted)[EXECUTED] = args.document;
    },
    onExecutionResult({ result, context }) {
      // Learned from a clean answer only: an error may come from the document (an unknown operation name)
      // as well as from CarrierX, and the next request of the text is then answered by the whole pipeline.
      const noted = context as Noted;
      const document = noted[EXECUTED];
      if (document === undefined || noted[PREPARED] || !noted.params) return;
      if (!result || isAsyncIterable(result) || result.errors?.length || result.extensions) return;
      learn(noted.params, document);
    },
  };
}
