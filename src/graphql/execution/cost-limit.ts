import type { ExecutionResult } from 'graphql';
import { operationTooCostly } from '../../errors.ts';
import { tallyOf } from '../context.ts';
import type { CostEstimator } from './cost.ts';
import type { ExecutionStep, OperationContext } from './steps.ts';

/** What `extensions.cost` reports, in the unit of MAX_OPERATION_COST (CarrierX calls and records). */
export interface CostReport {
  /** The static estimate the limit was checked against. */
  estimated: number;
  /**
   * CarrierX calls made and records they returned while the operation ran: less than estimated when the record
   * cache answered or a page came back short, more when a call was retried. The operations of a batch share
   * one count, so in a batch it is the whole request's.
   */
  actual: number;
  limit: number;
}

/** Whether the request asked for `extensions.cost` (`"extensions": {"cost": true}` beside the query). */
function asksForCost(context: OperationContext): boolean {
  const extensions = (context.params as { extensions?: { cost?: unknown } } | undefined)?.extensions;
  return extensions?.cost === true;
}

/** The request's CarrierX calls and records so far (all its operations, in a batch). */
function spent(context: OperationContext): number {
  const tally = tallyOf(context.request);
  return tally ? tally.upstreamCalls + tally.records : 0;
}

/**
 * The execution step that estimates every operation before it runs (IBM's static analysis, src/graphql/execution/
 * cost.ts) and refuses one over `limit` with COST_ESTIMATED_TOO_EXPENSIVE, nothing called. It runs on both
 * paths, after variable coercion (the estimate reads the variables' values); the estimate is kept per document
 * and the values of the variables it depends on, so a prepared operation pays a lookup. Asked for, it reports
 * `extensions.cost`.
 */
export function costLimitStep(estimator: CostEstimator, limit: number): ExecutionStep {
  // What a reporting operation started with: its estimate and the request's count so far.
  const started = new WeakMap<OperationContext, { estimated: number; before: number }>();
  return {
    start({ document, operationName, variables, context }): ExecutionResult | undefined {
      const estimate = estimator.estimate(document, operationName, variables);
      // No operation to run (an unknown operationName) is the executor's own error, answered as it is.
      if (estimate === undefined) return undefined;
      if (estimate.cost > limit) return { errors: [operationTooCostly(estimate, limit)] };
      if (asksForCost(context)) started.set(context, { estimated: estimate.cost, before: spent(context) });
      return undefined;
    },
    finish({ context }, result) {
      const reporting = started.get(context);
      if (reporting === undefined) return result;
      started.delete(context);
      const cost: CostReport = {
        estimated: reporting.estimated,
        actual: spent(context) - reporting.before,
        limit,
      };
      return { ...result, extensions: { ...result.extensions, cost } };
    },
  };
}
