import { UUIDResolver } from 'graphql-scalars';
import { toGraphQLName } from '../../carrierx/fields.ts';
import { ServiceError } from '../../errors.ts';
import { builder } from './builder.ts';
import { CallDetailRecordRef } from './call-detail-record.ts';
import { free } from './cost.ts';
import { needs } from './selection.ts';

type KeyShape = Record<string, string>;

/**
 * An entity another graph owns, referenced from a CDR by its key. Key-only (`resolvable: false`): a gateway
 * takes the key from here and asks the owning graph for everything else. Resolvable: this graph adds fields of
 * its own to it (src/graphql/schema/cdr-entities.ts), and resolves a representation to its key, checked to be a
 * UUID since it goes into a CarrierX filter.
 */
function referencedEntity(typeName: string, key: string, description: string, resolvable: boolean) {
  const ref = builder.objectRef<KeyShape>(typeName).implement({
    description,
    // The key alone, taken from the record that references it: no call.
    directives: free,
    fields: (t) => ({
      [key]: t.exposeID(key, { nullable: false, description: `Secure ID of the ${typeName}.` }),
    }),
  });
  builder.asEntity(ref, {
    // Pothos types selections from literal keys; this one is built from a parameter.
    key: resolvable
      ? builder.selection<KeyShape>(key as never)
      : builder.keyDirective(builder.selection<KeyShape>(key as never), false),
    // Async on purpose: a rejection nulls only this representation; a synchronous throw would null them all.
    resolveReference: async (reference) => {
      let sid: string;
      try {
        sid = UUIDResolver.parseValue(reference[key]) as string;
      } catch {
        throw new ServiceError('BAD_USER_INPUT', `A ${typeName} representation needs a UUID ${key}.`);
      }
      return { [key]: sid };
    },
  });
  return ref;
}

const OWNED_ELSEWHERE = 'owned by another graph; this graph adds the call detail records that name it.';
export const Partner = referencedEntity(
  'Partner',
  'partnerSid',
  `A CarrierX partner (account), ${OWNED_ELSEWHERE}`,
  true,
);
export const Endpoint = referencedEntity(
  'Endpoint',
  'endpointSid',
  `A CarrierX endpoint, ${OWNED_ELSEWHERE}`,
  true,
);
const Trunk = referencedEntity('Trunk', 'trunkSid', 'A CarrierX trunk, owned by another graph.', false);
export const TrunkGroup = referencedEntity(
  'TrunkGroup',
  'trunkGroupSid',
  `A CarrierX trunk group, ${OWNED_ELSEWHERE}`,
  true,
);

/** Each reference field, the stub it returns, and the one CarrierX sid field it is keyed by. */
const REFERENCES = [
  {
    field: 'partner',
    type: Partner,
    key: 'partnerSid',
    api: 'partner_sid',
    leg: 'The partner that owns the record.',
  },
  {
    field: 'endpointSrc',
    type: Endpoint,
    key: 'endpointSid',
    api: 'endpoint_sid_src',
    leg: 'The source leg endpoint.',
  },
  {
    field: 'endpointDst',
    type: Endpoint,
    key: 'endpointSid',
    api: 'endpoint_sid_dst',
    leg: 'The destination leg endpoint.',
  },
  { field: 'trunkSrc', type: Trunk, key: 'trunkSid', api: 'trunk_sid_src', leg: 'The source leg trunk.' },
  {
    field: 'trunkDst',
    type: Trunk,
    key: 'trunkSid',
    api: 'trunk_sid_dst',
    leg: 'The destination leg trunk.',
  },
  {
    field: 'trunkGroupSrc',
    type: TrunkGroup,
    key: 'trunkGroupSid',
    api: 'trunk_group_sid_src',
    leg: 'The source leg trunk group.',
  },
  {
    field: 'trunkGroupDst',
    type: TrunkGroup,
    key: 'trunkGroupSid',
    api: 'trunk_group_sid_dst',
    leg: 'The destination leg trunk group.',
  },
] as const;

builder.objectFields(CallDetailRecordRef, (t) =>
  Object.fromEntries(
    REFERENCES.map((r) => {
      const name = toGraphQLName(r.api);
      return [
        r.field,
        t.field({
          type: r.type,
          description: `${r.leg} Null when the record has no ${r.api}. Selecting it fetches only ${r.api}.`,
          extensions: needs(r.api),
          resolve: (record) => {
            const sid = record[name];
            // A SID CarrierX sent wrong is this field's error, as it is the SID field's.
            if (sid instanceof Error) return sid as never;
            return typeof sid === 'string' ? { [r.key]: sid } : null;
          },
        }),
      ];
    }),
  ),
);
