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

/**
 * A step's hooks. A query or mutation runs `start`, then `finish` over its result. A subscription runs `start`
 * before it subscribes (so a step can refuse it, nothing subscribed) and then either `finish`, when it answers
 * with one result instead of a stream (a refusal, an error in its subscribe resolver), or `subscribed`, `event`
 * for each result it streams, and `ended` once.
 */
export interface ExecutionStep {
  /** Before execution, in list order; a result returned here answers the operation instead of executing it. */
  start?(run: OperationRun): ExecutionResult | undefined;
  /** After execution (or a start's answer), in list order: the result to pass on. */
  finish?(run: OperationRun, result: ExecutionResult): ExecutionResult;
  /** A subscription has subscribed: its setup is over, its events follow. */
  subscribed?(run: OperationRun): void;
  /** Each event a subscription streams, executed, in list order: the result to send. */
  event?(run: OperationRun, result: ExecutionResult): ExecutionResult;
  /**
   * A subscription's stream ended: its source completed, the client left, or the source failed with `error`
   * (which Yoga's masking then answers, as it does what fails outside execution).
   */
  ended?(run: OperationRun, error?: unknown): void;
}

/** Each step's `start` until one answers; that answer, or undefined when execution should run. */
export function startSteps(steps: readonly ExecutionStep[], run: OperationRun): ExecutionResult | undefined {
  for (const step of steps) {
    const answer = step.start?.(run);
    if (answer !== undefined) return answer;
  }
  return undefined;
}

/** Each step's `finish` (or, for a subscription's event, `event`), in order, over the result. */
export function finishSteps(
  steps: readonly ExecutionStep[],
  run: OperationRun,
  result: ExecutionResult,
  hook: 'finish' | 'event' = 'finish',
): ExecutionResult {
  let finished = result;
  for (const step of steps) finished = step[hook]?.(run, finished) ?? finished;
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

/** The operation's run, with the variables every executor is handed (see `ownVariables`). */
function runOf(args: {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null | undefined;
  variableValues?: Readonly<Record<string, unknown>> | null | undefined;
  contextValue?: unknown;
}): OperationRun {
  // The executor gets the copy too (absent variables as an empty one, which graphql-jit would otherwise
  // make a plain object of): envelop spreads these same args into its call.
  args.variableValues = ownVariables(args.variableValues);
  return {
    schema: args.schema,
    document: args.document,
    operationName: args.operationName,
    variables: args.variableValues,
    context: args.contextValue as OperationContext,
  };
}

/**
 * The steps around every operation envelop runs (Yoga's path, the HTTP fast path's full pipeline, graphql-ws):
 * queries and mutations on its execute hooks, subscriptions on its subscribe hooks, which have the same shape.
 */
export function useExecutionSteps(steps: readonly ExecutionStep[]): Plugin<Context> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const run = runOf(args);
      const answer = startSteps(steps, run);
      // envelop still runs onExecuteDone with a result set here.
      if (answer !== undefined) setResultAndStopExecution(answer);
      return {
        onExecuteDone({ result, setResult }) {
          // Neither graphql-js 16 nor graphql-jit streams an execution (@defer and @stream are not enabled).
          if (isAsyncIterable(result)) return;
          setResult(finishSteps(steps, run, result));
        },
      };
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const run = runOf(args);
      const answer = startSteps(steps, run);
      // As for onExecute: envelop still runs onSubscribeResult with a result set here.
      if (answer !== undefined) setResultAndStopExecution(answer);
      let ended = false;
      const end = (error?: unknown) => {
        if (ended) return;
        ended = true;
        for (const step of steps) step.ended?.(run, error);
      };
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) {
            setResult(finishSteps(steps, run, result));
            return;
          }
          for (const step of steps) step.subscribed?.(run);
          return {
            onNext({ result: event, setResult: setEvent }) {
              setEvent(finishSteps(steps, run, event, 'event'));
            },
            onEnd: () => end(),
          };
        },
        // The source failed after subscribing: no `onEnd` follows.
        onSubscribeError: ({ error }) => end(error),
      };
    },
  };
}
