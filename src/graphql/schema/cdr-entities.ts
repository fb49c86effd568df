import { DEFAULT_PAGE_SIZE } from '../../carrierx/list-query.ts';
import { ServiceError } from '../../errors.ts';
import type { StatsArguments } from '../../records/stats.ts';
import { builder } from './builder.ts';
import {
  CallDetailRecordStatsRef,
  callDetailRecordStatsArgs,
  resolveStats,
  STATS_COST,
  statsDescription,
} from './call-detail-record-stats.ts';
import {
  CallDetailRecordConnectionRef,
  callDetailRecordsArgs,
  resolveCallDetailRecords,
} from './call-detail-records.ts';
import { page } from './cost.ts';
import { Endpoint, Partner, TrunkGroup } from './references.ts';

type Filter = Readonly<Record<string, unknown>>;

/** The CallDetailRecordFilter field an entity's sid is matched on, with the side it was chosen by, if any. */
export interface EntityCondition {
  /** A CallDetailRecordFilter field, e.g. `trunkGroupSidSrc`. */
  readonly field: string;
  /** The entity's sid, lower case as CarrierX writes sids. */
  readonly sid: string;
  /** What a refusal calls the condition, e.g. `the TrunkGroup's trunkGroupSid (side: SRC)`. */
  readonly named: string;
}

export const CallDetailRecordSideEnum = builder.enumType('CallDetailRecordSide', {
  description: 'Which leg of a call an endpoint or trunk group is matched on.',
  values: {
    SRC: { value: 'SRC', description: 'The source leg (e.g. trunkGroupSidSrc).' },
    DST: { value: 'DST', description: 'The destination leg (e.g. trunkGroupSidDst).' },
  } as const,
});

type Side = 'SRC' | 'DST';

/**
 * The entities this graph lists call detail records of, with the filter field their sid is matched on: one for
 * Partner, one per side for the two-sided ones (CarrierX joins conditions only with "and", so "either side"
 * would be two lists; the caller names the side).
 */
export const CDR_ENTITIES = [
  { type: Partner, typeName: 'Partner', key: 'partnerSid', fields: { ANY: 'partnerSid' } },
  {
    type: TrunkGroup,
    typeName: 'TrunkGroup',
    key: 'trunkGroupSid',
    fields: { SRC: 'trunkGroupSidSrc', DST: 'trunkGroupSidDst' },
  },
  {
    type: Endpoint,
    typeName: 'Endpoint',
    key: 'endpointSid',
    fields: { SRC: 'endpointSidSrc', DST: 'endpointSidDst' },
  },
] as const;

export type CdrEntity = (typeof CDR_ENTITIES)[number];

/** Whether an entity has two sides, so its fields take a `side` argument. */
export function isTwoSided(entity: CdrEntity): entity is Extract<CdrEntity, { fields: { SRC: string } }> {
  return 'SRC' in entity.fields;
}

/** The condition an entity's lists add to the caller's filter. */
export function entityCondition(
  entity: CdrEntity,
  parent: Readonly<Record<string, string>>,
  side: Side | null | undefined,
): EntityCondition {
  const sid = (parent[entity.key] as string).toLowerCase();
  if (!isTwoSided(entity)) {
    return { field: entity.fields.ANY, sid, named: `the ${entity.typeName}'s ${entity.key}` };
  }
  // Non-null in the schema; checked again since a field added later might forget to require it.
  if (side !== 'SRC' && side !== 'DST') throw new ServiceError('BAD_USER_INPUT', 'Give side: SRC or DST.');
  return {
    field: entity.fields[side],
    sid,
    named: `the ${entity.typeName}'s ${entity.key} (side: ${side})`,
  };
}

/**
 * The caller's filter with the entity's condition joined to it by "and": `{ eq: sid }` on the entity's field,
 * beside whatever else the caller set on that field and the others. A caller's own `eq` on that field is
 * redundant when it names the same sid and contradictory when it names another: that is refused (the list
 * could only ever be empty), as a mistake to point out rather than an empty page to puzzle over.
 */
export function withEntityCondition(filter: Filter | null | undefined, condition: EntityCondition): Filter {
  const own = filter?.[condition.field] as Filter | null | undefined;
  const eq = own?.eq;
  if (typeof eq === 'string' && eq.toLowerCase() !== condition.sid) {
    throw new ServiceError(
      'BAD_USER_INPUT',
      `filter.${condition.field}.eq contradicts ${condition.named}, which this list already matches: drop it from the filter.`,
    );
  }
  return { ...filter, [condition.field]: { ...own, eq: condition.sid } };
}

/**
 * The filter an entity's field runs: its `filter` argument with the entity's condition joined (`side` from its
 * arguments on the two-sided ones). Every CDR field of an entity goes through this, so all filter alike.
 */
export function entityFilter(
  entity: CdrEntity,
  parent: Readonly<Record<string, string>>,
  args: { readonly filter?: Filter | null | undefined; readonly side?: Side | null | undefined },
): Filter {
  return withEntityCondition(args.filter, entityCondition(entity, parent, args.side));
}

/** The `side` argument of an entity's CDR fields: none on Partner, required on the two-sided ones. */
export function sideArgs(entity: CdrEntity) {
  if (!isTwoSided(entity)) return {};
  return builder.args((t) => ({
    side: t.field({
      type: CallDetailRecordSideEnum,
      required: true,
      description: `Match ${entity.key} on the source (SRC) or the destination (DST) leg.`,
    }),
  }));
}

for (const entity of CDR_ENTITIES) {
  const twoSided = isTwoSided(entity);
  builder.objectField(entity.type, 'callDetailRecords', (t) =>
    t.field({
      type: CallDetailRecordConnectionRef,
      // Nullable for the root field's reason: a refused page is null with its error, the rest still answers.
      nullable: true,
      description: `The call detail records of this ${entity.typeName}${twoSided ? ' on one leg' : ''} (filter.${twoSided ? `${entity.fields.SRC} or filter.${entity.fields.DST}, as \`side\` says,` : entity.fields.ANY} equal to its ${entity.key}, "and" the conditions of \`filter\`), listed and paged as Query.callDetailRecords. Its cursors page this list only.`,
      // Weighed as the root field's page: a call plus its records, for each entity a gateway sends.
      directives: page(DEFAULT_PAGE_SIZE),
      args: { ...callDetailRecordsArgs, ...sideArgs(entity) },
      resolve: (parent, args, context, info) =>
        resolveCallDetailRecords(
          { ...args, filter: entityFilter(entity, parent, args as { side?: Side }) },
          context,
          info,
        ),
    }),
  );
  builder.objectField(entity.type, 'callDetailRecordStats', (t) =>
    t.field({
      type: CallDetailRecordStatsRef,
      nullable: true,
      description: `${statsDescription(`this ${entity.typeName}'s records${twoSided ? ' on one leg (as `side` says)' : ''}`)} As Query.callDetailRecordStats with the ${entity.key} joined to \`filter\`.`,
      directives: STATS_COST,
      args: { ...callDetailRecordStatsArgs, ...sideArgs(entity) },
      resolve: (parent, args, context, info) =>
        resolveStats(
          {
            ...(args as unknown as StatsArguments),
            filter: entityFilter(entity, parent, args as { side?: Side }),
          },
          context,
          info,
        ),
    }),
  );
}
