import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context, StaleRecord } from '../context.ts';

/**
 * Adds `extensions.stale` ([{ path, ageSeconds }]) to a result that holds records the cache served while
 * CarrierX was failing, so a client can tell them from fresh ones; any other result is returned as it is.
 */
export function withStaleReport(
  result: ExecutionResult,
  stale: readonly StaleRecord[] | undefined,
): ExecutionResult {
  if (!stale?.length) return result;
  const sorted = [...stale].sort((a, b) => (a.path.join('.') < b.path.join('.') ? -1 : 1));
  return { ...result, extensions: { ...result.extensions, stale: sorted } };
}

/**
 * `withStaleReport` as an execution hook, so Yoga's path and the fast path's full pipeline carry it (prepared
 * operations call it themselves: src/execution/prepared.ts).
 */
export function useStaleReport(): Plugin<Context> {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const stale = (args.contextValue as Context).stale;
          if (stale?.length) setResult(withStaleReport(result, stale));
        },
      };
    },
  };
}
