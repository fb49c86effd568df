import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';

/**
 * Adds `extensions.stale` ([{ path, ageSeconds }]) to a result that holds records the cache served while
 * CarrierX was failing, so a client can tell them from fresh ones. An execution hook, so both HTTP paths
 * (Yoga's and the fast path, which runs the same operation pipeline) carry it.
 */
export function useStaleReport(): Plugin<Context> {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          const stale = (args.contextValue as Context).stale;
          if (!stale?.length || isAsyncIterable(result)) return;
          const sorted = [...stale].sort((a, b) => (a.path.join('.') < b.path.join('.') ? -1 : 1));
          setResult({ ...result, extensions: { ...result.extensions, stale: sorted } });
        },
      };
    },
  };
}
