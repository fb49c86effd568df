import { toGraphQLName } from '../../carrierx/fields.ts';
import { builder } from './builder.ts';
import { CallDetailRecordRef } from './call-detail-record.ts';
import { free } from './cost.ts';
import { needs } from './selection.ts';

type KeyShape = Record<string, string>;

/**
 * An entity another graph owns, referenced from a CDR by its key only (`resolvable: false`): a gateway takes
 * the key from here and asks the owning graph for everything else.
 */
function keyOnlyEntity(typeName: string, key: string, description: string) {
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
    key: builder.keyDirective(builder.selection<KeyShape>(key as never), false),
    // Required by the plugin's types; never called, since this graph does not resolve these entities.
    resolveReference: (reference) => reference,
  });
  return ref;
}

const Partner = keyOnlyEntity(
  'Partner',
  'partnerSid',
  'A CarrierX partner (account), owned by another graph.',
);
const Endpoint = keyOnlyEntity('Endpoint', 'endpointSid', 'A CarrierX endpoint, owned by another graph.');
const Trunk = keyOnlyEntity('Trunk', 'trunkSid', 'A CarrierX trunk, owned by another graph.');
const TrunkGroup = keyOnlyEntity(
  'TrunkGroup',
  'trunkGroupSid',
  'A CarrierX trunk group, owned by another graph.',
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
