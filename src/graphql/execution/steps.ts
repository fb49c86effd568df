import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';

/**
 * What runs around every GraphQL execution of this service: one ordered list of steps (src/graphql/app.ts builds it),
 * run by one plugin on Yoga's path and by prepared operations (src/graphql/execution/prepared.ts) around a compiled
 * query, so that adding, removing or changing a step changes both. A step is plain functions: it neither knows
 * nor calls any plugin's hooks.
 */

/** The context an operation runs with: ours, plus what Yoga puts in every context (the request, the parameters). */
export type OperationContext = Context & {
  req?: import('node:http').IncomingMessage;
  params?: { query?: unknown };
  request: Request;
};

/**
 * The variables as an object without a prototype, holding the request's own ones. graphql-jit's compiled
 * coercion reads each declared variable as `variables[name]`: from a plain object, an absent `$constructor`
 * was the Object function, `$toString` a method, and the request a 500 (graphql-js checks own properties).
 * Every executor is handed this copy, by the one plugin that runs the execution steps (below) and by
 * prepared operations.
 */
export function ownVariables(
  values: Readonly<Record<string, unknown>> | null | undefined,
): Record<string, unknown> {
  const own = Object.create(null) as Record<string, unknown>;
  // A JSON `"__proto__"` key is an own property of the parsed object; here it stays a plain property.
  if (values) for (const name of Object.keys(values)) own[name] = values[name];
  return own;
}

/** One operation's execution, as the steps see it. */
export interface OperationRun {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Readonly<Record<string, unknown>> | null | undefined;
  readonly context: OperationContext;
}

export interface ExecutionStep {
  /** Before execution, in list order; a result returned here answers the operation instead of executing it. */
  start?(run: OperationRun): ExecutionResult | undefined;
  /** After execution (or a start's answer), in list order: the result to pass on. */
  finish?(run: OperationRun, result: ExecutionResult): ExecutionResult;
  /** After an execution that streams (a subscription): nothing to rewrite, but what `start` began ends. */
  finishStream?(run: OperationRun): void;
}

/** Each step's `start` until one answers; that answer, or undefined when execution should run. */
export function startSteps(steps: readonly ExecutionStep[], run: OperationRun): ExecutionResult | undefined {
  for (const step of steps) {
    const answer = step.start?.(run);
    if (answer !== undefined) return answer;
  }
  return undefined;
}

/** Each step's `finish`, in order, over the result. */
export function finishSteps(
  steps: readonly ExecutionStep[],
  run: OperationRun,
  result: ExecutionResult,
): ExecutionResult {
  let finished = result;
  for (const step of steps) if (step.finish) finished = step.finish(run, finished);
  return finished;
}

/**
 * `execute` between the steps, for an operation run outside envelop (a prepared operation); `run.variables`
 * must be what `execute` is given, as `ownVariables` makes them.
 */
export function runBetweenSteps(
  steps: readonly ExecutionStep[],
  run: OperationRun,
  execute: () => ExecutionResult | Promise<ExecutionResult>,
): ExecutionResult | Promise<ExecutionResult> {
  const answer = startSteps(steps, run);
  if (answer !== undefined) return finishSteps(steps, run, answer);
  const executed = execute();
  return executed instanceof Promise
    ? executed.then((result) => finishSteps(steps, run, result))
    : finishSteps(steps, run, executed);
}

/** The steps around every execution envelop runs (Yoga's path, and the HTTP fast path's full pipeline). */
export function useExecutionSteps(steps: readonly ExecutionStep[]): Plugin<Context> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      // The executor gets the copy too (absent variables as an empty one, which graphql-jit would otherwise
      // make a plain object of): envelop spreads these same args into its call.
      args.variableValues = ownVariables(args.variableValues);
      const run: OperationRun = {
        schema: args.schema,
        document: args.document,
        operationName: args.operationName,
        variables: args.variableValues as OperationRun['variables'],
        context: args.contextValue as OperationContext,
      };
      const answer = startSteps(steps, run);
      // envelop still runs onExecuteDone with a result set here.
      if (answer !== undefined) setResultAndStopExecution(answer);
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) {
            for (const step of steps) step.finishStream?.(run);
            return;
          }
          setResult(finishSteps(steps, run, result));
        },
      };
    },
  };
}
