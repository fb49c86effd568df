import {
  type DocumentNode,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { createContextFactory } from '../context.ts';
import { canonicalResult } from '../plugins/use-canonical-results.ts';
import { runsOnJit } from '../plugins/use-jit.ts';
import {
  type ObservabilityOptions,
  observeExecution,
  type TracedContext,
} from '../plugins/use-observability.ts';
import { withStaleReport } from '../plugins/use-stale-report.ts';
import { ownVariables, plainlyValid, scalarVariablesOf } from '../plugins/use-variable-coercion.ts';

/**
 * Prepared operations: the second and later runs of a query document skip Yoga's and envelop's pipeline.
 *
 * Everything the pipeline does before execution depends only on the request's parameters when they are just
 * `query`, `variables` and `operationName`: the parameter checks, the persisted-documents allowlist and the
 * query limits read the text; parsing, validation (with the introspection rule and GraphQL Armor's limits)
 * and the choice of executor read the document. So once a request has gone through the whole pipeline and
 * executed cleanly, the same text and operation name can only pass again, and their next runs go straight to
 * what remains per request: the variables checked (`plainlyValid`, as useVariableCoercion does; any doubt and
 * the request takes the whole pipeline, before anything is called), the context built by the same factory,
 * the compiled query run, and the same execution hooks as plain functions in the same order as envelop runs
 * them (observability, stale report, canonical errors, Yoga's error masking). Measured on scenario 4 of the
 * benchmark: about a quarter of the server's CPU per operation, and half its scavenges.
 *
 * Only the HTTP fast path uses it; test/prepared-operations.test.ts holds its answers, logs and metrics to
 * the pipeline's, and fails when a plugin that hooks a per-request phase is added without being mirrored here.
 */

/** A document that executed cleanly once, compiled for its operation. */
interface PreparedOperation {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
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
  /** The operation context's factory, the one Yoga is given (src/context.ts). */
  contextFactory: ReturnType<typeof createContextFactory>;
  observability: ObservabilityOptions;
  /** Yoga's masking of unexpected errors, as its plugin calls it (`maskedErrorsOpts` of the app). */
  maskError: (error: GraphQLError, message: string) => GraphQLError;
  maskMessage: string;
  /** How many documents are kept prepared; the least recently used go first. */
  maxEntries: number;
}

export interface PreparedOperations {
  /** The prepared operation these parameters run, or undefined: the whole pipeline runs them. */
  find(params: GraphQLParams): PreparedOperation | undefined;
  /** Runs it, with `context` (the request's server context) made into the operation's context. */
  run(
    prepared: PreparedOperation,
    params: GraphQLParams,
    request: Request,
    context: Record<string, unknown>,
  ): Promise<ExecutionResult>;
  /** After a clean answer from the pipeline: prepares what it executed, for the next request of that text. */
  learn(params: GraphQLParams, context: Record<string, unknown>): void;
}

const EXECUTED = Symbol('executed document');

/** Notes the document each operation executes on its context, for `learn`: the parsed one Yoga cached. */
export function usePreparedOperations(): Plugin {
  return {
    onExecute({ args }) {
      (args.contextValue as { [EXECUTED]?: DocumentNode })[EXECUTED] = args.document;
    },
  };
}

function isPlain(params: GraphQLParams): params is GraphQLParams & PlainParams {
  for (const key in params) {
    if (key !== 'query' && key !== 'variables' && key !== 'operationName') return false;
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

export function createPreparedOperations(options: PreparedOperationsOptions): PreparedOperations {
  const { schema, observability, maskError, maskMessage } = options;
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

  return {
    find(params) {
      if (size === 0 || !isPlain(params)) return undefined;
      const prepared = entries.get(params.query)?.get(params.operationName ?? null);
      if (prepared === undefined) return undefined;
      if (
        prepared.operation.variableDefinitions?.length &&
        !plainlyValid(schema, prepared.operation, params.variables ?? {})
      ) {
        return undefined;
      }
      prepared.used = true;
      return prepared;
    },

    async run(prepared, params, request, serverContext) {
      // As Yoga builds it: the server context, with the request and parameters, extended by our factory.
      const context = serverContext as unknown as TracedContext;
      serverContext.request = request;
      serverContext.params = params;
      Object.assign(serverContext, options.contextFactory(serverContext as never));
      // The execution hooks, in the order envelop runs them (plugin order in src/app.ts, then Yoga's masking).
      const done = observeExecution(observability, context, prepared.document, params.operationName);
      const executed = prepared.compiled.query(undefined, context, ownVariables(params.variables));
      const raw = executed instanceof Promise ? await executed : executed;
      done(raw);
      // The context holds a list of stale records only with the cache on (src/context.ts), as useStaleReport.
      let result = withStaleReport(raw, context.stale);
      if (result.errors) {
        result = canonicalResult(result, prepared.document);
        result = { ...result, errors: result.errors?.map((error) => maskError(error, maskMessage)) };
      }
      return result;
    },

    learn(params, context) {
      const document = (context as { [EXECUTED]?: DocumentNode })[EXECUTED];
      if (document === undefined || !isPlain(params) || !runsOnJit(document)) return;
      const name = params.operationName ?? null;
      if (entries.get(params.query)?.has(name)) return;
      const operation = getOperationAST(document, name);
      // Queries only; variables all scalars, which `find` can check without graphql-js.
      if (operation?.operation !== 'query' || scalarVariablesOf(schema, operation) === null) return;
      const compiled = compileQuery(schema, document, name ?? undefined);
      if (!isCompiledQuery(compiled)) return;
      if (size >= options.maxEntries) evictOne();
      let byName = entries.get(params.query);
      if (!byName) {
        byName = new Map();
        entries.set(params.query, byName);
      }
      byName.set(name, { document, operation, compiled, used: false });
      size++;
    },
  };
}

const attached = new WeakMap<object, PreparedOperations>();

/** The prepared operations createApp made for `app`, for the HTTP fast path; undefined when they are off. */
export function preparedOperationsOf(app: object): PreparedOperations | undefined {
  return attached.get(app);
}

export function attachPreparedOperations(app: object, operations: PreparedOperations): void {
  attached.set(app, operations);
}
