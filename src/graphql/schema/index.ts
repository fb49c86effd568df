import {
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type GraphQLUnionType,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
} from 'graphql';
import { ServiceError } from '../../errors.ts';
import { builder } from './builder.ts';
import './call-detail-record.ts';
import './call-detail-records.ts';
import './call-detail-record-stats.ts';
import './call-detail-record-added.ts';
import './node.ts';
import './references.ts';
import './cdr-entities.ts';
import { toSubgraphSchema } from './subgraph.ts';

// The Federation version the subgraph declares: 2.9 is the first whose spec holds the cost directives (Apollo's
// cost spec v0.1, imported through it as Apollo's demand-control docs do), which routers read our weights from.
const FEDERATION_LINK = 'https://specs.apollo.dev/federation/v2.9';

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** A rejection as the value graphql-js and graphql-jit both report as this item's error. */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * Makes every list field's items settle instead of reject: a rejected item becomes its Error as a value, which
 * both executors report at that item's path with null in its place. graphql-jit 0.8 (the compiled executor)
 * handles a rejected item with `resultArray.push(null)` rather than writing its index, so items that fail
 * before earlier ones succeed land at the wrong index and a list whose last items fail comes back shorter
 * (20 representations, the last two malformed: 18 items). A resolved Error takes its correct path in both.
 */
function settleListItems(schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isListType(getNullableType(field.type)) || !field.resolve) continue;
      const resolve = field.resolve;
      const settle = (items: unknown) =>
        Array.isArray(items)
          ? items.map((item) => (isPromiseLike(item) ? Promise.resolve(item).catch(asError) : item))
          : items;
      field.resolve = (source, args, context, info) => {
        const items = resolve(source, args, context, info);
        return isPromiseLike(items) ? Promise.resolve(items).then(settle) : settle(items);
      };
    }
  }
}

/**
 * Federation's `_entities` resolver (from @apollo/subgraph) looks each representation's `__typename` up in the
 * schema and throws a plain Error when it names no type: the whole list fails as INTERNAL_SERVER_ERROR, logged
 * with a stack that quotes the name (a 200 KB name, 600 KB of log). A name that is not a string is coerced to
 * one (`[["CallDetailRecord"]]` finds the type). Each representation is checked here first: one that does not
 * name an entity of this graph, as a string, fails alone with BAD_USER_INPUT and a fixed message.
 */
function checkRepresentations(schema: GraphQLSchema): void {
  const entities = schema.getQueryType()?.getFields()._entities;
  const resolve = entities?.resolve as
    | GraphQLFieldResolver<unknown, unknown, { representations: unknown[] }>
    | undefined;
  if (!entities || !resolve) throw new Error('The subgraph schema has no _entities resolver');
  // The members of the _Entity union: the types this graph resolves by key.
  const entityNames = new Set(
    schema.getPossibleTypes(getNamedType(entities.type) as GraphQLUnionType).map((type) => type.name),
  );
  const message = `A representation needs a __typename naming an entity of this graph: ${[...entityNames].join(', ')}.`;
  entities.resolve = (source, args: { representations: unknown[] }, context, info) =>
    args.representations.map((representation) => {
      const typename = (representation as { __typename?: unknown } | null)?.__typename;
      if (typeof typename !== 'string' || !entityNames.has(typename)) {
        return Promise.reject(new ServiceError('BAD_USER_INPUT', message));
      }
      return (resolve(source, { representations: [representation] }, context, info) as unknown[])[0];
    });
}

function createSchema(): GraphQLSchema {
  const schema = toSubgraphSchema(builder, {
    linkUrl: FEDERATION_LINK,
    federationDirectives: ['@key', '@shareable', '@cost', '@listSize'],
  });
  checkRepresentations(schema);
  settleListItems(schema);
  return schema;
}

/** The schema served at /graphql: the CDR types plus federation's `_service` and `_entities`. */
export const schema = createSchema();
