import type { ExecutionResult } from 'graphql';
import type { StaleRecord } from '../context.ts';
import type { ExecutionStep } from './steps.ts';

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

/** The execution step that reports the stale records the operation served (only with the cache on). */
export const staleReportStep: ExecutionStep = {
  finish: ({ context }, result) => withStaleReport(result, context.stale),
};
