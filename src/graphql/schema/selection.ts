import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  isAbstractType,
  Kind,
  type SelectionSetNode,
} from 'graphql';

/**
 * The field extension through which a GraphQL field declares the CarrierX API fields it needs.
 * Plain fields need their own API name; derived fields and references name what they are computed from.
 */
export const API_FIELDS_EXTENSION = 'carrierxFields';

/** Extensions for a field that needs these CarrierX API fields. */
export const needs = (...apiFields: string[]) => ({ [API_FIELDS_EXTENSION]: apiFields });

// Built once per object type: GraphQL field name → the API fields it needs.
const fieldMaps = new WeakMap<GraphQLObjectType, ReadonlyMap<string, readonly string[]>>();

function fieldMapOf(type: GraphQLObjectType): ReadonlyMap<string, readonly string[]> {
  let map = fieldMaps.get(type);
  if (!map) {
    const built = new Map<string, readonly string[]>();
    for (const field of Object.values(type.getFields())) {
      const apiFields = field.extensions[API_FIELDS_EXTENSION];
      if (Array.isArray(apiFields)) built.set(field.name, apiFields);
    }
    fieldMaps.set(type, built);
    map = built;
  }
  return map;
}

// With Yoga's parse cache the same FieldNode comes back for every request using a document, so a selection
// that no variable can change is walked once per type.
const caches = new WeakMap<GraphQLObjectType, WeakMap<FieldNode, readonly string[]>>();

interface Walk {
  type: GraphQLObjectType;
  readonly schema: GraphQLSchema;
  map: ReadonlyMap<string, readonly string[]>;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  readonly variables: Record<string, unknown>;
  readonly out: Set<string>;
  readonly seenFragments: Set<string>;
  dependsOnVariables: boolean;
}

function isIncluded(node: { directives?: readonly import('graphql').DirectiveNode[] }, walk: Walk): boolean {
  if (!node.directives?.length) return true;
  for (const directive of node.directives) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const arg = directive.arguments?.find((a) => a.name.value === 'if');
    if (!arg) continue;
    let value: unknown;
    if (arg.value.kind === Kind.BOOLEAN) value = arg.value.value;
    else if (arg.value.kind === Kind.VARIABLE) {
      walk.dependsOnVariables = true;
      value = walk.variables[arg.value.name.value];
    }
    if (name === 'skip' && value === true) return false;
    if (name === 'include' && value !== true) return false;
  }
  return true;
}

function appliesTo(typeCondition: { name: { value: string } } | undefined, walk: Walk): boolean {
  if (!typeCondition || typeCondition.name.value === walk.type.name) return true;
  const condition = walk.schema.getType(typeCondition.name.value);
  return condition !== undefined && isAbstractType(condition) && walk.schema.isSubType(condition, walk.type);
}

/** Calls `visit` for each field selected on `walk.type`, through fragments that apply and @skip/@include. */
function eachField(
  selectionSet: SelectionSetNode | undefined,
  walk: Walk,
  visit: (field: FieldNode) => void,
): void {
  if (!selectionSet) return;
  for (const selection of selectionSet.selections) {
    if (!isIncluded(selection, walk)) continue;
    if (selection.kind === Kind.FIELD) {
      visit(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (appliesTo(selection.typeCondition, walk)) eachField(selection.selectionSet, walk, visit);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments[name];
      // Validation rejects fragment cycles; the guard keeps a bad document from looping here anyway.
      if (fragment && !walk.seenFragments.has(name) && appliesTo(fragment.typeCondition, walk)) {
        walk.seenFragments.add(name);
        eachField(fragment.selectionSet, walk, visit);
        walk.seenFragments.delete(name);
      }
    }
  }
}

function collect(selectionSet: SelectionSetNode | undefined, walk: Walk): void {
  eachField(selectionSet, walk, (field) => {
    const apiFields = walk.map.get(field.name.value);
    if (apiFields) for (const f of apiFields) walk.out.add(f);
  });
}

/** Walks `selectionSet` as a selection on `type`, then puts the walk back on the type it was on. */
function within(type: GraphQLObjectType, walk: Walk, run: () => void): void {
  const outer = { type: walk.type, map: walk.map };
  walk.type = type;
  walk.map = fieldMapOf(type);
  run();
  walk.type = outer.type;
  walk.map = outer.map;
}

/**
 * The CarrierX API fields (sorted, with `dr_sid`) that the current field's selection asks for on `type`,
 * through aliases, named and inline fragments (only those whose type condition applies), @skip/@include and
 * the dependencies fields declare with `needs(...)`.
 */
export function selectedApiFields(info: GraphQLResolveInfo, type: GraphQLObjectType): readonly string[] {
  return walkSelection(info, type, caches, (walk) => {
    for (const node of info.fieldNodes) collect(node.selectionSet, walk);
  });
}

// Connection walks are cached apart: the connection field's node is no record field's node, but one cache per
// kind of walk keeps that from mattering.
const connectionCaches = new WeakMap<GraphQLObjectType, WeakMap<FieldNode, readonly string[]>>();

/**
 * The CarrierX API fields (sorted, with `dr_sid`) that a Relay connection field's selection asks for on its
 * records, `type`: under `nodes` and under `edges { node }`, walked exactly as `selectedApiFields` walks one
 * record (aliases, fragments on the connection and edge types too, @skip/@include, `needs(...)`). `dr_sid` is
 * always there, and every cursor needs it.
 */
export function selectedConnectionApiFields(
  info: GraphQLResolveInfo,
  connection: GraphQLObjectType,
  edge: GraphQLObjectType,
  type: GraphQLObjectType,
): readonly string[] {
  return walkSelection(info, type, connectionCaches, (walk) => {
    within(connection, walk, () => {
      for (const node of info.fieldNodes) {
        eachField(node.selectionSet, walk, (field) => {
          if (field.name.value === 'nodes') within(type, walk, () => collect(field.selectionSet, walk));
          else if (field.name.value === 'edges') {
            within(edge, walk, () =>
              eachField(field.selectionSet, walk, (edgeField) => {
                if (edgeField.name.value === 'node') {
                  within(type, walk, () => collect(edgeField.selectionSet, walk));
                }
              }),
            );
          }
        });
      }
    });
  });
}

function walkSelection(
  info: GraphQLResolveInfo,
  type: GraphQLObjectType,
  caches: WeakMap<GraphQLObjectType, WeakMap<FieldNode, readonly string[]>>,
  run: (walk: Walk) => void,
): readonly string[] {
  const first = info.fieldNodes[0];
  const cacheable = info.fieldNodes.length === 1 && first !== undefined;
  let cache = caches.get(type);
  if (!cache) {
    cache = new WeakMap();
    caches.set(type, cache);
  }
  if (cacheable) {
    const hit = cache.get(first);
    if (hit) return hit;
  }
  const walk: Walk = {
    type,
    schema: info.schema,
    map: fieldMapOf(type),
    fragments: info.fragments,
    variables: info.variableValues,
    out: new Set(['dr_sid']),
    seenFragments: new Set(),
    dependsOnVariables: false,
  };
  run(walk);
  const fields = [...walk.out].sort();
  if (cacheable && !walk.dependsOnVariables) cache.set(first, fields);
  return fields;
}
