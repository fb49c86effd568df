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
  readonly type: GraphQLObjectType;
  readonly schema: GraphQLSchema;
  readonly map: ReadonlyMap<string, readonly string[]>;
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

function collect(selectionSet: SelectionSetNode | undefined, walk: Walk): void {
  if (!selectionSet) return;
  for (const selection of selectionSet.selections) {
    if (!isIncluded(selection, walk)) continue;
    if (selection.kind === Kind.FIELD) {
      const apiFields = walk.map.get(selection.name.value);
      if (apiFields) for (const f of apiFields) walk.out.add(f);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (appliesTo(selection.typeCondition, walk)) collect(selection.selectionSet, walk);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments[name];
      // Validation rejects fragment cycles; the guard keeps a bad document from looping here anyway.
      if (fragment && !walk.seenFragments.has(name) && appliesTo(fragment.typeCondition, walk)) {
        walk.seenFragments.add(name);
        collect(fragment.selectionSet, walk);
        walk.seenFragments.delete(name);
      }
    }
  }
}

/**
 * The CarrierX API fields (sorted, with `dr_sid`) that the current field's selection asks for on `type`,
 * through aliases, named and inline fragments (only those whose type condition applies), @skip/@include and
 * the dependencies fields declare with `needs(...)`.
 */
export function selectedApiFields(info: GraphQLResolveInfo, type: GraphQLObjectType): readonly string[] {
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
  for (const node of info.fieldNodes) collect(node.selectionSet, walk);
  const fields = [...walk.out].sort();
  if (cacheable && !walk.dependsOnVariables) cache.set(first, fields);
  return fields;
}
