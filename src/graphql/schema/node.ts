import type { CdrView } from '../../carrierx/record.ts';
import { ServiceError } from '../../errors.ts';
import { builder } from './builder.ts';
import { CallDetailRecordRef, loadCallDetailRecord } from './call-detail-record.ts';
import { drSidOfGlobalId, globalIdOf } from './global-id.ts';
import { needs } from './selection.ts';

// Relay's Global Object Identification (https://relay.dev/graphql/objectidentification.htm): every record has an
// opaque `id`, and `node(id:)` / `nodes(ids:)` fetch records by it, so that Relay can refetch a fragment and
// Apollo Client's cache keys records by its default (`__typename` + `id`). A hand-written interface rather than
// @pothos/plugin-relay, which would bring connection helpers and cursors this graph writes its own way.

/** The most ids one `nodes(ids:)` takes; its records count against MAX_RECORDS_PER_OPERATION as well. */
export const MAX_NODE_IDS = 100;

const NOT_AN_ID =
  'This is not an id this service issued: pass the `id` of a CallDetailRecord as this service returned it.';

export const NodeRef = builder.interfaceRef<CdrView>('Node').implement({
  description:
    "An object with a global id (Relay's Global Object Identification): refetch it with `node(id:)`. In this graph every Node is a CallDetailRecord.",
  // Every object this graph issues ids for is a record.
  resolveType: () => 'CallDetailRecord',
  fields: (t) => ({
    id: t.id({
      nullable: false,
      description:
        'Opaque global id: the same for a record every time any field returns it, so Relay and Apollo Client key their caches by it. Do not parse it; pass it to node(id:) to refetch the record.',
      extensions: needs('dr_sid'),
      resolve: (record) => {
        const { drSid } = record;
        // Loaded records always hold their dr_sid (it is always in include_fields and the decoder checks it).
        if (typeof drSid !== 'string') throw new ServiceError('UPSTREAM_BAD_RESPONSE');
        return globalIdOf(drSid);
      },
    }),
  }),
});

CallDetailRecordRef.addInterfaces([NodeRef]);

builder.queryFields((t) => ({
  node: t.field({
    type: NodeRef,
    description: `The record with this global id (\`CallDetailRecord.id\`), fetched as callDetailRecord(drSid:) fetches it: only the fields selected under \`... on CallDetailRecord\` (and \`id\`). Null with NOT_FOUND when CarrierX has no such record, and null with BAD_USER_INPUT when the id is not one this service issued.`,
    args: { id: t.arg.id({ required: true, description: 'A global id, as `id` returned it.' }) },
    resolve: (_root, { id }, context, info) => {
      const drSid = drSidOfGlobalId(String(id));
      if (drSid === undefined) throw new ServiceError('BAD_USER_INPUT', NOT_AN_ID);
      return loadCallDetailRecord(context, drSid, info);
    },
  }),
  nodes: t.field({
    type: [NodeRef],
    // Nullable as callDetailRecords is: a refused list is null with its error, and other root fields answer.
    nullable: { list: true, items: true },
    description: `The records with these global ids, in the order given: each item as node(id:) answers it, null with its own error. At most ${MAX_NODE_IDS} ids; a repeated id is fetched once, and each distinct record counts against MAX_RECORDS_PER_OPERATION.`,
    args: {
      ids: t.arg.idList({
        required: true,
        description: `Global ids, as \`id\` returned them (at most ${MAX_NODE_IDS}).`,
      }),
    },
    resolve: (_root, { ids }, context, info) => {
      if (ids.length > MAX_NODE_IDS) {
        throw new ServiceError(
          'BAD_USER_INPUT',
          `nodes(ids:) takes at most ${MAX_NODE_IDS} ids; this list has ${ids.length}. Split it over several operations.`,
        );
      }
      // Each item settles on its own (see settleListItems): a bad or missing id nulls only its item.
      return ids.map((id) => {
        const drSid = drSidOfGlobalId(String(id));
        return drSid === undefined
          ? Promise.reject(new ServiceError('BAD_USER_INPUT', NOT_AN_ID))
          : loadCallDetailRecord(context, drSid, info);
      });
    },
  }),
}));
