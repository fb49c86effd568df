import type { ExecutionResult, GraphQLError } from 'graphql';
import type { MaskError } from 'graphql-yoga';
import type { ExecutionStep, OperationRun } from './steps.ts';

/**
 * The execution step that masks unexpected errors: last, so it sees the errors as the other steps leave them.
 * `mask` is the same function Yoga is configured with (createApp passes both), and `onMasked` the same report
 * Yoga's logging makes of an error it masks: Yoga's own masking, which still covers what fails outside
 * execution, then finds nothing left to mask in an executed result. A subscription's events are masked as a
 * query's result is.
 */
export function maskingStep(
  mask: MaskError,
  message: string,
  onMasked: (original: Error) => void,
): ExecutionStep {
  const masked = (_run: OperationRun, result: ExecutionResult): ExecutionResult => {
    if (!result.errors?.length) return result;
    const errors = result.errors.map((error) => {
      const replaced = mask(error, message, false) as GraphQLError;
      if (replaced !== error) onMasked(error);
      return replaced;
    });
    return { ...result, errors };
  };
  return { finish: masked, event: masked };
}
