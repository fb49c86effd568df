import { EntityType, entitiesField, serviceField } from '@apollo/subgraph/dist/types.js';
import { hasResolvableKey } from '@pothos/plugin-federation';
import {
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLUnionType,
  isObjectType,
  lexicographicSortSchema,
} from 'graphql';
import type { builder as Builder } from './builder.ts';

/**
 * The subgraph schema, as Pothos's `builder.toSubGraphSchema` builds it (its schema-builder.js, plugin-federation
 * 4.4), except that the SDL `_service { sdl }` answers is printed when first asked for, not at start: Pothos
 * prints it eagerly (@apollo/subgraph's printSubgraphSchema builds and validates a federation-internals schema),
 * about 95 ms of a quiet 0.8 s start here and 0.5 s of one under load, for a field only a gateway reads.
 */
export function toSubgraphSchema(
  builder: typeof Builder,
  options: { linkUrl: string; federationDirectives: string[] },
): GraphQLSchema {
  const schema = builder.toSchema({
    extensions: {
      directives: [{ name: 'link', args: { url: options.linkUrl, import: options.federationDirectives } }],
    },
  });
  const queryType = schema.getQueryType();
  const types = schema.getTypeMap();
  const entityTypes = Object.values(types).filter((type) => isObjectType(type) && hasResolvableKey(type));
  let sdl: Promise<string> | undefined;
  const printSdl = () => {
    sdl ??= import('./print-subgraph.ts').then(({ printSubgraphSchema }) => printSubgraphSchema(sorted));
    return sdl;
  };
  const newQuery: GraphQLObjectType = new GraphQLObjectType({
    name: queryType?.name ?? 'Query',
    description: queryType?.description,
    astNode: queryType?.astNode,
    extensions: queryType?.extensions,
    fields: () => ({
      ...(entityTypes.length > 0 && {
        _entities: {
          ...entitiesField,
          type: new GraphQLNonNull(
            new GraphQLList(
              new GraphQLUnionType({
                ...EntityType.toConfig(),
                types: entityTypes.filter(isObjectType).map((type) => (type === queryType ? newQuery : type)),
              }),
            ),
          ),
        },
      }),
      _service: { ...serviceField, resolve: async () => ({ sdl: await printSdl() }) },
      ...queryType?.toConfig().fields,
    }),
  });
  const sorted = lexicographicSortSchema(
    new GraphQLSchema({
      query: newQuery,
      mutation: schema.getMutationType(),
      subscription: schema.getSubscriptionType(),
      extensions: schema.extensions,
      directives: schema.getDirectives(),
      extensionASTNodes: schema.extensionASTNodes,
      types: [...Object.values(types).filter((type) => type.name !== 'Query'), newQuery],
    }),
  );
  return sorted;
}
