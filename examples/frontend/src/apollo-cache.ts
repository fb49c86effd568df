import { InMemoryCache } from '@apollo/client';

/**
 * An Apollo Client cache for this API: each CallDetailRecord is kept once, under its global `id`, whichever field
 * fetched it (callDetailRecord, a callDetailRecords page, node, nodes), so a record updated by one query is
 * updated everywhere it is shown.
 */
export function createApolloCache(): InMemoryCache {
  return new InMemoryCache({
    // node(id:) and nodes(ids:) return the Node interface: fragments on Node must match a CallDetailRecord.
    possibleTypes: { Node: ['CallDetailRecord'] },
    typePolicies: {
      // Apollo's default key (`__typename` and `id`), written out: `drSid` would do as well, but `id` is the
      // key Relay, the schema's Node interface and node(id:) agree on.
      CallDetailRecord: { keyFields: ['id'] },
      Query: {
        fields: {
          // node(id:) of a record already in the cache is read from it, without a request. Every Node of this
          // graph is a CallDetailRecord; in a supergraph with other Node types, drop this read.
          node: {
            read(existing, { args, toReference }) {
              return existing ?? toReference({ __typename: 'CallDetailRecord', id: args?.id as string });
            },
          },
        },
      },
    },
  });
}
