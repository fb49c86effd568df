import {
  GraphQLError,
  type GraphQLSchema,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isNonNullType,
  isScalarType,
  type OperationDefinitionNode,
  typeFromAST,
} from 'graphql';
import { ERRORS } from '../../errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { ExecutionStep } from './steps.ts';

/**
 * A variable value that does not coerce to its declared type is a request error, like a validation error: no
 * `data`, `extensions.code` BAD_USER_INPUT, and the HTTP status Yoga gives validation errors (`http.spec`: 400
 * for application/graphql-response+json, 200 for application/json). The message is graphql-js's, which names
 * the variable and the expected type.
 */
function asRequestError(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message || ERRORS.BAD_USER_INPUT, {
    nodes: error.nodes,
    extensions: { code: 'BAD_USER_INPUT', http: { spec: true, status: 400 } },
  });
}

/**
 * The execution step that coerces the operation's variables with graphql-js before either executor sees them,
 * and answers a request whose variables do not coerce itself. Left to the executors, the same bad variable came
 * back three ways: graphql-jit's errors carry no `extensions` (production's error masking failed on them with a
 * 500), and neither executor gave a code; graphql-js's errors kept the scalar's TypeError as `originalError` and
 * were answered as unexpected. One check here gives one answer whatever executes the document.
 */
export function variableCoercionStep(logger: Logger): ExecutionStep {
  return {
    start({ schema, document, operationName, variables }) {
      const operation = getOperationAST(document, operationName);
      // No operation to run (an unknown operationName) is the executor's own error, answered as it is.
      if (!operation?.variableDefinitions?.length) return undefined;
      const values = (variables ?? {}) as Record<string, unknown>;
      if (plainlyValid(schema, operation, values)) return undefined;
      const coerced = getVariableValues(schema, operation.variableDefinitions, values);
      if (!coerced.errors) return undefined;
      // Once per request, at debug: the caller's mistake, not the service's. Names only, never the values.
      logger.debug(
        {
          code: 'BAD_USER_INPUT',
          variables: operation.variableDefinitions.map((v) => v.variable.name.value),
        },
        'Request refused: a variable does not fit its declared type',
      );
      return { errors: coerced.errors.map(asRequestError) };
    },
  };
}

interface ScalarVariable {
  name: string;
  nonNull: boolean;
  hasDefault: boolean;
  parse: (value: unknown) => unknown;
}

/** Per operation: each variable that is a scalar (or a non-null scalar), with its type; null if any is not. */
const scalarVariables = new WeakMap<OperationDefinitionNode, ScalarVariable[] | null>();

/** The operation's variables if every one is a scalar (resolved once per parsed operation), else null. */
export function scalarVariablesOf(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
): ScalarVariable[] | null {
  let variables = scalarVariables.get(operation);
  if (variables !== undefined) return variables;
  variables = [];
  for (const definition of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type);
    const scalar = type && getNullableType(type);
    if (!type || !isScalarType(scalar)) {
      variables = null;
      break;
    }
    variables.push({
      name: definition.variable.name.value,
      nonNull: isNonNullType(type),
      hasDefault: definition.defaultValue !== undefined,
      parse: (value) => scalar.parseValue(value),
    });
  }
  scalarVariables.set(operation, variables);
  return variables;
}

/**
 * Whether every variable plainly coerces: each declared variable a scalar whose `parseValue` takes the value
 * given (or, absent, allowed to be). graphql-js's getVariableValues answers the same for these, but builds
 * paths, closures and the coerced map on every call (~10 µs an operation in a profile). Any other shape (lists,
 * input objects, enums) or any doubt answers false, and getVariableValues decides and words the error.
 */
export function plainlyValid(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  values: Record<string, unknown>,
): boolean {
  const variables = scalarVariablesOf(schema, operation);
  if (variables === null) return false;
  for (const variable of variables) {
    const value = Object.hasOwn(values, variable.name) ? values[variable.name] : undefined;
    if (value === undefined) {
      if (variable.nonNull && !variable.hasDefault) return false;
      continue;
    }
    if (value === null) {
      if (variable.nonNull) return false;
      continue;
    }
    try {
      if (variable.parse(value) === undefined) return false;
    } catch {
      return false;
    }
  }
  return true;
}
