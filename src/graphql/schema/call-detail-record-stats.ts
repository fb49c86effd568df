import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { Kind } from 'graphql';
import { CDR_FIELDS, toGraphQLName } from '../../carrierx/fields.ts';
import {
  callDetailRecordStats,
  MAX_STATS_GROUPS,
  MEASURE_FIELDS,
  planStats,
  STATS_DIMENSIONS,
  type StatsAnswer,
  type StatsArguments,
  type StatsGroup,
  type StatsMeasures,
  type StatsPlan,
  type TIME_BUCKETS,
} from '../../records/stats.ts';
import type { Context } from '../context.ts';
import { builder, type SchemaTypes } from './builder.ts';
import { CallDetailRecordDirectionEnum } from './call-detail-record.ts';
import { CallDetailRecordFilterInput } from './call-detail-records.ts';
import { COST, costs, free } from './cost.ts';

const DESCRIPTION = new Map(CDR_FIELDS.map((f) => [f.api, f.description]));

export const CallDetailRecordDimensionEnum = builder.enumType('CallDetailRecordDimension', {
  description: 'A record field call statistics can be grouped by.',
  values: Object.fromEntries(
    Object.entries(STATS_DIMENSIONS).map(([value, api]) => [
      value,
      { value, description: `CarrierX's ${api} (the group key's ${toGraphQLName(api)}).` },
    ]),
  ) as Record<keyof typeof STATS_DIMENSIONS, { value: keyof typeof STATS_DIMENSIONS; description: string }>,
});

// Named like every type this graph owns (see call-detail-records.ts): a bare TimeBucket would merge in a
// supergraph with another graph's enum of that name.
export const CallDetailRecordTimeBucketEnum = builder.enumType('CallDetailRecordTimeBucket', {
  description:
    "A span of the time zone's wall clock that calls are grouped in by when they started (dateStart).",
  values: {
    HOUR: { value: 'HOUR', description: 'An hour; the hour repeated when clocks go back is two buckets.' },
    DAY: { value: 'DAY', description: 'A day from midnight: 23 or 25 hours on a daylight-saving change.' },
    WEEK: { value: 'WEEK', description: 'A week from Monday midnight (ISO 8601).' },
    MONTH: { value: 'MONTH', description: 'A calendar month from midnight on its first day.' },
  } as const satisfies Record<(typeof TIME_BUCKETS)[number], unknown>,
});

const MEASURES = {
  calls: 'Calls (records) counted.',
  answered: 'Calls that were answered (with a dateTalk).',
  durationSeconds: 'Sum of duration, in seconds: exact.',
  billedSeconds: 'Sum of durationBilling, in seconds: exact.',
  cost: 'Sum of price: exact (a record without a price adds nothing).',
} as const;

/** The counts and sums, as a total, the other groups and each group show them. */
function measureFields<Shape extends StatsMeasures>(
  t: PothosSchemaTypes.ObjectFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<SchemaTypes>, Shape>,
) {
  return {
    calls: t.int({ nullable: false, description: MEASURES.calls, resolve: (m) => m.calls }),
    answered: t.int({ nullable: false, description: MEASURES.answered, resolve: (m) => m.answered }),
    durationSeconds: t.field({
      type: 'Decimal',
      nullable: false,
      description: MEASURES.durationSeconds,
      resolve: (m) => m.durationSeconds,
    }),
    billedSeconds: t.field({
      type: 'Decimal',
      nullable: false,
      description: MEASURES.billedSeconds,
      resolve: (m) => m.billedSeconds,
    }),
    cost: t.field({ type: 'Decimal', nullable: false, description: MEASURES.cost, resolve: (m) => m.cost }),
  };
}

export const CallDetailRecordMeasuresRef = builder
  .objectRef<StatsMeasures>('CallDetailRecordMeasures')
  .implement({
    // Computed here from the scan the field's own weight counts: no call, no record of its own.
    directives: free,
    description: 'Counts and exact sums over a set of call detail records.',
    fields: measureFields,
  });

type Key = StatsGroup['key'];

export const CallDetailRecordGroupKeyRef = builder.objectRef<Key>('CallDetailRecordGroupKey').implement({
  directives: free,
  description:
    "What a group's records share, named after the record's fields; null where the statistic is not grouped by it (or the records' value is null).",
  fields: (t) => ({
    bucket: t.field({
      type: 'DateTime',
      description:
        "The start of the group's time bucket, written with the offset of the statistic's time zone at that instant (e.g. 2026-03-08T00:00:00.000-05:00).",
      resolve: (key) => key.bucket ?? null,
    }),
    direction: t.field({
      type: CallDetailRecordDirectionEnum,
      description: DESCRIPTION.get('direction'),
      resolve: (key) => (key.direction ?? null) as never,
    }),
    ...Object.fromEntries(
      Object.values(STATS_DIMENSIONS)
        .filter((api) => api !== 'direction')
        .map((api) => {
          const name = toGraphQLName(api);
          return [name, t.string({ description: DESCRIPTION.get(api), resolve: (key) => key[name] ?? null })];
        }),
    ),
  }),
});

export const CallDetailRecordGroupRef = builder.objectRef<StatsGroup>('CallDetailRecordGroup').implement({
  directives: free,
  description: 'The records that share a key: their counts and exact sums.',
  fields: (t) => ({
    key: t.field({ type: CallDetailRecordGroupKeyRef, nullable: false, resolve: (group) => group.key }),
    ...measureFields(t),
  }),
});

export const CallDetailRecordStatsRef = builder.objectRef<StatsAnswer>('CallDetailRecordStats').implement({
  directives: free,
  description: 'Counts and exact sums over the records of a dateStart range, in total and grouped.',
  fields: (t) => ({
    total: t.expose('total', { type: CallDetailRecordMeasuresRef, nullable: false }),
    groups: t.expose('groups', {
      type: [CallDetailRecordGroupRef],
      nullable: { list: false, items: false },
      description: 'The groups with the most calls (ties in key order), at most `limit` of them.',
    }),
    otherGroups: t.expose('otherGroups', {
      type: CallDetailRecordMeasuresRef,
      nullable: false,
      description: 'The groups beyond `limit`, summed (zero calls when there are none).',
    }),
    scanned: t.exposeInt('scanned', { nullable: false, description: 'Records read from CarrierX.' }),
    complete: t.exposeBoolean('complete', {
      nullable: false,
      description:
        'False when the scan stopped at MAX_STATS_RECORDS records: the numbers then cover only the records read. Narrow the range.',
    }),
  }),
});

/**
 * The API fields the selected measures need, under total, groups and otherGroups, through fragments. Measure
 * names are unique in a statistic's selection, so every field name met counts; @skip/@include are not read (a
 * measure skipped is still fetched, never the reverse).
 */
function selectedMeasures(info: GraphQLResolveInfo): readonly string[] {
  const out = new Set<string>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        const api = MEASURE_FIELDS[selection.name.value as keyof typeof MEASURE_FIELDS];
        if (api) out.add(api);
        walk(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        walk(info.fragments[selection.name.value]?.selectionSet);
      }
    }
  };
  for (const node of info.fieldNodes as readonly FieldNode[]) walk(node.selectionSet);
  return [...out];
}

/** Validates a statistics field's arguments against its selection: BAD_USER_INPUT, and no call, if refused. */
export function statsPlanOf(args: StatsArguments, context: Context, info: GraphQLResolveInfo): StatsPlan {
  return planStats(args, selectedMeasures(info), context.filterOperators);
}

/**
 * Resolves a statistics field for its (coerced) arguments: the root field's, and an entity's with its own SID
 * already joined to `args.filter` (src/graphql/schema/cdr-entities.ts).
 */
export function resolveStats(
  args: StatsArguments,
  context: Context,
  info: GraphQLResolveInfo,
): Promise<StatsAnswer> {
  return callDetailRecordStats(context.loaders.cdr, statsPlanOf(args, context, info));
}

/**
 * What a statistic is estimated to cost (MAX_OPERATION_COST): the calls of a full scan at MAX_STATS_RECORDS'
 * default, 100 pages of 1000. Its records are not counted as a page's are: they are summed here, not returned,
 * and MAX_STATS_RECORDS bounds them on its own. A static weight (the SDL a router reads is printed before any
 * configuration is read); a cached statistic costs no call, which no estimate can know.
 */
export const STATS_COST = costs(100 * COST.call);

export const callDetailRecordStatsArgs = builder.args((t) => ({
  filter: t.field({ type: CallDetailRecordFilterInput, required: true }),
  groupBy: t.field({ type: [CallDetailRecordDimensionEnum], required: { list: false, items: true } }),
  bucket: t.field({ type: CallDetailRecordTimeBucketEnum }),
  timeZone: t.string({
    defaultValue: 'UTC',
    description: 'The IANA time zone buckets follow, e.g. "America/New_York".',
  }),
  limit: t.int({ defaultValue: 100, description: `Groups returned, 1 to ${MAX_STATS_GROUPS}.` }),
}));

/** What a statistics field says of itself; `what` names the records it reads. */
export function statsDescription(what: string): string {
  return `Counts and exact sums (calls, answered, durations, cost) over ${what} in a dateStart range, in total and grouped by fields and time buckets: computed by reading every record of the range from CarrierX's list endpoint (only the fields the selection needs), up to MAX_STATS_RECORDS, and kept for the record cache's TTL. filter.dateStart must bound the range at both ends. Groups come in descending calls, at most \`limit\` (1 to ${MAX_STATS_GROUPS}); the rest are summed in otherGroups.`;
}

builder.queryField('callDetailRecordStats', (t) =>
  t.field({
    type: CallDetailRecordStatsRef,
    nullable: true,
    description: statsDescription('the records the token may see'),
    directives: STATS_COST,
    args: callDetailRecordStatsArgs,
    resolve: (_root, args, context, info) => resolveStats(args as unknown as StatsArguments, context, info),
  }),
);
