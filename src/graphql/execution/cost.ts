import {
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  getOperationAST,
  isAbstractType,
  isCompositeType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';

/**
 * The static cost analysis of IBM's GraphQL Cost Directive specification (https://ibm.github.io/graphql-specs/
 * cost-spec.html), as Apollo Router's and Hive Router's demand control compute it from the same `@cost` and
 * `@listSize` the subgraph SDL carries:
 * - a field weighs its own `@cost`, else its type's `@cost`, else 1 for an object, interface or union and 0 for
 *   a scalar or enum; an argument given with a `@cost` adds that weight;
 * - a list field costs its size times (its weight plus its selection's cost). The size is what its
 *   `@listSize(slicingArguments:)` were given (the largest, when several are), else its `assumedSize`; with
 *   `sizedFields`, that size is the size of those child lists instead of the field's own;
 * - fragments (spreads and inline) count as the fields they hold, each time they are used; `@skip`/`@include`
 *   are honoured; variables are resolved and their defaults applied, so `first: 1000` and `first: $n` with
 *   n = 1000 cost the same.
 * One addition for this service: `_entities` is as long as the `representations` it is given (each one a
 * CarrierX call), which a gateway computes from its own query plan (SIZED_BY_ARGUMENT).
 */

/** What an operation is estimated to cost, and what each root field of it costs. */
export interface CostEstimate {
  readonly cost: number;
  /** Each root field selected (by response key), as written, with its cost: what a refusal names. */
  readonly fields: readonly { readonly field: string; readonly cost: number }[];
}

/**
 * Lists as long as one of their arguments (`Type.field` → argument): what the spec cannot say, since its slicing
 * arguments are numbers. Federation's `_entities` returns one item per representation; a field that looks
 * records up by a list of ids adds its line here.
 */
export const SIZED_BY_ARGUMENT: Readonly<Record<string, string>> = {
  'Query._entities': 'representations',
  'Query.nodes': 'ids',
};

/** The size of a list field no `@listSize` sizes: CarrierX's largest page, so that no list is underestimated. */
export const UNSIZED_LIST = 1000;

/** The weight the operation type adds (IBM's spec and Apollo's: a mutation costs 10, a query nothing). */
const OPERATION_WEIGHT = { query: 0, mutation: 10, subscription: 0 } as const;

interface ListSize {
  readonly assumedSize: number | undefined;
  readonly slicingArguments: readonly string[];
  readonly sizedFields: readonly string[];
}

interface FieldWeights {
  /** The field's `@cost`, else its type's, else the spec's default. */
  readonly weight: number;
  readonly list: boolean;
  readonly listSize: ListSize | undefined;
  /** Arguments with a `@cost`, by name. */
  readonly argumentWeights: ReadonlyMap<string, number> | undefined;
  /** The list argument this list is as long as (SIZED_BY_ARGUMENT). */
  readonly sizedBy: string | undefined;
}

type Directed = {
  readonly extensions?: { readonly directives?: unknown } | null | undefined;
  readonly astNode?: { readonly directives?: readonly DirectiveNode[] | undefined } | null | undefined;
};

/**
 * A directive's arguments on a schema element: Pothos keeps them in `extensions.directives` (and mocks the AST
 * from them); a schema built from SDL has them in its AST.
 */
function directiveArguments(element: Directed, name: string): Record<string, unknown> | undefined {
  const listed = element.extensions?.directives;
  if (Array.isArray(listed)) {
    const found = listed.find((d: { name?: unknown }) => d?.name === name) as { args?: object } | undefined;
    if (found) return { ...found.args };
  }
  const node = element.astNode?.directives?.find((d) => d.name.value === name);
  if (!node) return undefined;
  return Object.fromEntries((node.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
}

function weightOf(element: Directed): number | undefined {
  const weight = directiveArguments(element, 'cost')?.weight;
  // IBM's spec types the weight as a string, Apollo's as an Int: both are read.
  const value = typeof weight === 'string' ? Number(weight) : weight;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function fieldWeights(parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>): FieldWeights {
  const named: GraphQLNamedType = getNamedType(field.type);
  const weight = weightOf(field) ?? weightOf(named) ?? (isCompositeType(named) ? 1 : 0);
  const sizing = directiveArguments(field, 'listSize');
  const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  const argumentWeights = new Map<string, number>();
  for (const argument of field.args) {
    const argumentWeight = weightOf(argument);
    if (argumentWeight) argumentWeights.set(argument.name, argumentWeight);
  }
  return {
    weight,
    list: isListType(getNullableType(field.type)),
    listSize: sizing && {
      assumedSize: typeof sizing.assumedSize === 'number' ? sizing.assumedSize : undefined,
      slicingArguments: strings(sizing.slicingArguments),
      sizedFields: strings(sizing.sizedFields),
    },
    argumentWeights: argumentWeights.size > 0 ? argumentWeights : undefined,
    sizedBy: SIZED_BY_ARGUMENT[`${parent.name}.${field.name}`],
  };
}

/** How variables were resolved: their values, and the names read (what the estimate depends on). */
interface Scope {
  readonly variables: Readonly<Record<string, unknown>>;
  readonly defaults: ReadonlyMap<string, ValueNode>;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly read: Set<string>;
}

/** An argument's value with variables resolved and variable defaults applied; undefined when absent or null. */
function argumentValue(node: FieldNode | DirectiveNode, name: string, scope: Scope): unknown {
  const value = node.arguments?.find((a) => a.name.value === name)?.value;
  if (value === undefined) return undefined;
  if (value.kind === Kind.VARIABLE) {
    const variable = value.name.value;
    scope.read.add(variable);
    const given = scope.variables[variable];
    if (given !== undefined) return given ?? undefined;
    const fallback = scope.defaults.get(variable);
    return fallback === undefined ? undefined : (valueFromASTUntyped(fallback) ?? undefined);
  }
  return valueFromASTUntyped(value, scope.variables) ?? undefined;
}

/** Whether `@skip`/`@include` leave the selection out. */
function skipped(
  node: { readonly directives?: readonly DirectiveNode[] | undefined },
  scope: Scope,
): boolean {
  for (const directive of node.directives ?? []) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const condition = argumentValue(directive, 'if', scope) === true;
    if (name === 'skip' ? condition : !condition) return true;
  }
  return false;
}

/**
 * How a root field was written, for a refusal: `alias: name(first: $n = 1000)`. Only its slicing arguments are
 * shown, whose values the estimate read anyway: a variable read for the label alone (a `$drSid`) would make the
 * estimate depend on it, and every new value of it analyse the document again.
 */
function written(node: FieldNode, slicing: readonly string[], scope: Scope): string {
  const name = node.alias ? `${node.alias.value}: ${node.name.value}` : node.name.value;
  const shown = (node.arguments ?? [])
    .filter((a) => slicing.includes(a.name.value))
    .map((a) => {
      const value = argumentValue(node, a.name.value, scope);
      if (typeof value !== 'number') return undefined;
      return a.value.kind === Kind.VARIABLE
        ? `${a.name.value}: $${a.value.name.value} = ${value}`
        : `${a.name.value}: ${value}`;
    })
    .filter((s) => s !== undefined);
  return shown.length > 0 ? `${name}(${shown.join(', ')})` : name;
}

/** The values of the variables an estimate read, as a key: an absent variable (its default) differs from null. */
function keyOf(reads: readonly string[], values: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(reads.map((name) => (values[name] === undefined ? 0 : [values[name]])));
}

/**
 * The estimator for one schema: the weights are read from its directives once; each (document, operation) is
 * analysed once, and again only for other values of the variables its cost depends on (a page size's), so a
 * prepared operation run again costs a map lookup.
 */
export function createCostEstimator(schema: GraphQLSchema) {
  const weights = new Map<GraphQLObjectType, Map<string, FieldWeights>>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    weights.set(type, new Map(Object.values(type.getFields()).map((f) => [f.name, fieldWeights(type, f)])));
  }

  /** Whether a fragment on `condition` applies where the selection is of `type`. */
  function applies(condition: GraphQLNamedType, type: GraphQLNamedType): boolean {
    if (condition === type || !isObjectType(type)) return true;
    return isAbstractType(condition) && schema.isSubType(condition, type);
  }

  function selectionCost(
    type: GraphQLNamedType,
    selectionSet: SelectionSetNode | undefined,
    scope: Scope,
    sized: { readonly fields: readonly string[]; readonly size: number } | undefined,
    roots?: { field: string; cost: number }[],
  ): number {
    if (!selectionSet) return 0;
    let total = 0;
    for (const selection of selectionSet.selections) {
      // A skipped selection is still walked, its cost dropped: the variables it reads are then known whatever
      // `@skip`/`@include` decide, and an estimate kept for some values is never served for others.
      const counted = !skipped(selection, scope);
      let cost: number;
      if (selection.kind !== Kind.FIELD) {
        const fragment =
          selection.kind === Kind.INLINE_FRAGMENT ? selection : scope.fragments.get(selection.name.value);
        const condition = fragment?.typeCondition && schema.getType(fragment.typeCondition.name.value);
        const on = condition ?? type;
        cost =
          fragment && applies(on, type)
            ? selectionCost(
                isObjectType(type) ? type : on,
                fragment.selectionSet,
                scope,
                sized,
                counted ? roots : undefined,
              )
            : 0;
      } else {
        cost = fieldCost(type, selection, scope, sized);
        if (counted && roots) {
          const slicing =
            (isObjectType(type) &&
              weights.get(type)?.get(selection.name.value)?.listSize?.slicingArguments) ||
            [];
          roots.push({ field: written(selection, slicing, scope), cost });
        }
      }
      if (counted) total += cost;
    }
    return total;
  }

  function fieldCost(
    parent: GraphQLNamedType,
    node: FieldNode,
    scope: Scope,
    sized: { readonly fields: readonly string[]; readonly size: number } | undefined,
  ): number {
    const name = node.name.value;
    // An abstract parent (the _Entity union) has only __typename; the fragments under it name object types.
    const field = isObjectType(parent) ? parent.getFields()[name] : undefined;
    const own = isObjectType(parent) ? weights.get(parent)?.get(name) : undefined;
    if (!field || !own) return 0;
    let argumentsCost = 0;
    if (own.argumentWeights) {
      for (const [argument, weight] of own.argumentWeights) {
        if (argumentValue(node, argument, scope) !== undefined) argumentsCost += weight;
      }
    }
    // What the slicing arguments say: the size of this list, or of the child lists it names.
    let slice: number | undefined;
    if (own.listSize) {
      for (const argument of own.listSize.slicingArguments) {
        // Absent from the query, an argument has its schema default.
        const value =
          argumentValue(node, argument, scope) ?? field.args.find((a) => a.name === argument)?.defaultValue;
        if (typeof value === 'number') slice = Math.max(slice ?? 0, Math.max(0, value));
      }
      slice ??= own.listSize.assumedSize;
    }
    const childSized =
      own.listSize && own.listSize.sizedFields.length > 0 && slice !== undefined
        ? { fields: own.listSize.sizedFields, size: slice }
        : undefined;
    let size = 1;
    if (own.list) {
      if (sized?.fields.includes(name)) size = sized.size;
      else if (own.sizedBy !== undefined) {
        const items = argumentValue(node, own.sizedBy, scope);
        size = Array.isArray(items) ? items.length : items === undefined ? 0 : 1;
      } else if (own.listSize && !childSized && slice !== undefined) size = slice;
      else size = UNSIZED_LIST;
    }
    const named = getNamedType(field.type);
    let itemCost: number;
    if (isAbstractType(named)) {
      // An interface or union costs what its costliest possible type costs, with the fragments on that type.
      itemCost = 0;
      for (const type of schema.getPossibleTypes(named)) {
        const typeWeight = weightOf(field) ?? weightOf(type) ?? 1;
        itemCost = Math.max(itemCost, typeWeight + selectionCost(type, node.selectionSet, scope, childSized));
      }
    } else itemCost = own.weight + selectionCost(named, node.selectionSet, scope, childSized);
    return size * itemCost + argumentsCost;
  }

  function analyse(
    operation: OperationDefinitionNode,
    document: DocumentNode,
    variables: Readonly<Record<string, unknown>>,
  ): { estimate: CostEstimate; read: Set<string> } {
    const scope: Scope = {
      variables,
      defaults: new Map(
        (operation.variableDefinitions ?? []).flatMap((d) =>
          d.defaultValue ? [[d.variable.name.value, d.defaultValue] as const] : [],
        ),
      ),
      fragments: new Map(
        document.definitions.flatMap((d) =>
          d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
        ),
      ),
      read: new Set(),
    };
    const root = schema.getRootType(operation.operation);
    const fields: { field: string; cost: number }[] = [];
    const cost = root
      ? OPERATION_WEIGHT[operation.operation] +
        selectionCost(root, operation.selectionSet, scope, undefined, fields)
      : 0;
    return { estimate: { cost, fields }, read: scope.read };
  }

  /** Per document and operation name: the estimate when no variable matters, else estimates by their values. */
  interface Analysed {
    readonly fixed: CostEstimate | undefined;
    readonly reads: readonly string[];
    readonly byValues: Map<string, CostEstimate>;
  }
  const analysed = new WeakMap<DocumentNode, Map<string | null, Analysed>>();
  // Estimates kept per document for other values of its variables: a bound on what one document can hold.
  const VALUES_KEPT = 64;

  return {
    /** The estimate of the operation `document` and `operationName` select; undefined if there is none. */
    estimate(
      document: DocumentNode,
      operationName: string | null | undefined,
      variables: Readonly<Record<string, unknown>> | null | undefined,
    ): CostEstimate | undefined {
      const values = variables ?? {};
      let byName = analysed.get(document);
      const known = byName?.get(operationName ?? null);
      if (known?.fixed) return known.fixed;
      const key = known && keyOf(known.reads, values);
      const kept = key === undefined ? undefined : known?.byValues.get(key);
      if (kept) return kept;
      const operation = getOperationAST(document, operationName);
      if (!operation) return undefined;
      const { estimate, read } = analyse(operation, document, values);
      if (known && key !== undefined) {
        if (known.byValues.size >= VALUES_KEPT) known.byValues.clear();
        known.byValues.set(key, estimate);
        return estimate;
      }
      if (!byName) {
        byName = new Map();
        analysed.set(document, byName);
      }
      const reads = [...read];
      const entry: Analysed = {
        fixed: reads.length === 0 ? estimate : undefined,
        reads,
        byValues: new Map(),
      };
      if (reads.length > 0) {
        entry.byValues.set(keyOf(reads, values), estimate);
      }
      byName.set(operationName ?? null, entry);
      return estimate;
    },
  };
}

export type CostEstimator = ReturnType<typeof createCostEstimator>;
