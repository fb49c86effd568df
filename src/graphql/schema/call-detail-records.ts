import { type GraphQLObjectType, type GraphQLResolveInfo, Kind } from 'graphql';
import { CDR_FIELDS } from '../../carrierx/fields.ts';
import {
  DEFAULT_ORDER,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  FILTERABLE_FIELDS,
  type FilterKind,
  type ListArguments,
  MAX_FILTER_VALUE_LENGTH,
  ORDER_FIELDS,
  type PagingArgument,
  planList,
  type WrittenAs,
} from '../../carrierx/list-query.ts';
import { type CdrRecord, type CdrView, viewOf } from '../../carrierx/record.ts';
import { builder } from './builder.ts';
import { CallDetailRecordDirectionEnum, CallDetailRecordRef } from './call-detail-record.ts';
import { COST, costs, free, page } from './cost.ts';
import { selectedConnectionApiFields } from './selection.ts';

// A hand-written Relay connection rather than @pothos/plugin-relay: the plugin's connection helper would fit, but
// it brings a Node interface and global IDs this graph has no use for (records are found by drSid, and by
// federation's key), and its cursors are offsets or its own, where ours wrap CarrierX's dr_sid cursor.

// Every type this graph owns is named CallDetailRecord<Thing>, as its connection, edge, filter and order are: in a
// supergraph, another graph's StringFilter or OrderDirection of the same name would merge with ours, and input
// types merge to the fields both define (our `like` dropped with a hint, not an error). The entity's name is
// spelled out, not shortened to Cdr, so the schema spells it one way. PageInfo alone keeps its name (below).

const LIKE_HELP = '`%` matches any run of characters';
const VALUE_RULES = `Values of at most ${MAX_FILTER_VALUE_LENGTH} characters, without control characters, backslashes or both quote kinds.`;

export const CallDetailRecordStringFilterInput = builder.inputType('CallDetailRecordStringFilter', {
  description: `Conditions on a text field, combined with "and". ${VALUE_RULES}`,
  fields: (t) => ({
    eq: t.string({ description: 'Equal to this text.' }),
    like: t.string({ description: `Matches this pattern: ${LIKE_HELP} (e.g. "+1516%").` }),
  }),
});

export const CallDetailRecordIdFilterInput = builder.inputType('CallDetailRecordIdFilter', {
  description: 'Conditions on a secure ID field.',
  fields: (t) => ({ eq: t.field({ type: 'UUID', description: 'Equal to this ID.' }) }),
});

export const CallDetailRecordDateTimeFilterInput = builder.inputType('CallDetailRecordDateTimeFilter', {
  description: 'Conditions on a date field, combined with "and" (e.g. gt and lt for a range).',
  fields: (t) => ({
    gt: t.field({ type: 'DateTime', description: 'After this instant.' }),
    ge: t.field({ type: 'DateTime', description: 'At or after this instant.' }),
    lt: t.field({ type: 'DateTime', description: 'Before this instant.' }),
  }),
});

const FILTER_TYPES = {
  string: CallDetailRecordStringFilterInput,
  id: CallDetailRecordIdFilterInput,
  datetime: CallDetailRecordDateTimeFilterInput,
  direction: CallDetailRecordDirectionEnum,
} as const satisfies Record<FilterKind, unknown>;

const DESCRIPTION = new Map(CDR_FIELDS.map((f) => [f.name, f.description]));

export const CallDetailRecordFilterInput = builder.inputType('CallDetailRecordFilter', {
  description:
    'Which records to list; every condition set must hold (CarrierX joins filter conditions only with "and").',
  fields: (t) =>
    Object.fromEntries(
      FILTERABLE_FIELDS.map(({ name, kind }) => [
        name,
        // The table decides the types; Pothos cannot infer them through the loop.
        t.field({
          type: FILTER_TYPES[kind] as typeof CallDetailRecordStringFilterInput,
          description: DESCRIPTION.get(name),
        }),
      ]),
    ),
});

export const CallDetailRecordOrderFieldEnum = builder.enumType('CallDetailRecordOrderField', {
  description: 'A field call detail records can be listed in the order of.',
  values: Object.fromEntries(
    Object.entries(ORDER_FIELDS).map(([value, api]) => [value, { value, description: `CarrierX's ${api}.` }]),
  ) as Record<keyof typeof ORDER_FIELDS, { value: keyof typeof ORDER_FIELDS; description: string }>,
});

export const CallDetailRecordOrderDirectionEnum = builder.enumType('CallDetailRecordOrderDirection', {
  description: 'Ascending or descending.',
  values: {
    ASC: { value: 'ASC', description: 'Smallest (earliest) first.' },
    DESC: { value: 'DESC', description: 'Largest (latest) first.' },
  } as const,
});

export const CallDetailRecordOrderInput = builder.inputType('CallDetailRecordOrder', {
  description: 'The order of a list of call detail records; dr_sid breaks ties.',
  fields: (t) => ({
    field: t.field({ type: CallDetailRecordOrderFieldEnum, required: true }),
    direction: t.field({ type: CallDetailRecordOrderDirectionEnum, required: true }),
  }),
});

/** A resolved page: the records in list order and what CarrierX said about the rest. */
interface Page {
  readonly records: readonly CdrRecord[];
  /** Ties the page's cursors to its filter and order. */
  readonly key: string;
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  readonly totalCount: number | null;
}

interface Edge {
  readonly cursor: string;
  readonly node: CdrView;
}

export const PageInfoRef = builder.objectRef<Page>('PageInfo').implement({
  description: 'Where a page lies in its list (Relay connection spec).',
  directives: free,
  // Relay's spec and its clients and linters expect this name, and one PageInfo in a supergraph is what a frontend
  // wants: shared, not renamed. Federation 2 merges it only with graphs whose PageInfo is @shareable too; one
  // that is not fails composition with INVALID_FIELD_SHARING (an error, never a silent merge).
  shareable: true,
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage', { nullable: false }),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage', { nullable: false }),
    startCursor: t.string({
      description: "The first edge's cursor; null on an empty page.",
      resolve: (page) => {
        const first = page.records[0];
        return first ? encodeCursor(first.drSid, page.key) : null;
      },
    }),
    endCursor: t.string({
      description: "The last edge's cursor; null on an empty page.",
      resolve: (page) => {
        const last = page.records[page.records.length - 1];
        return last ? encodeCursor(last.drSid, page.key) : null;
      },
    }),
  }),
});

export const CallDetailRecordEdgeRef = builder.objectRef<Edge>('CallDetailRecordEdge').implement({
  description: 'A record in a list, with the cursor to page from it.',
  directives: free,
  fields: (t) => ({
    cursor: t.exposeString('cursor', {
      nullable: false,
      description: 'Opaque; valid only with the filter and order of the list it came from.',
    }),
    node: t.expose('node', { type: CallDetailRecordRef, nullable: false, directives: costs(COST.record) }),
  }),
});

export const CallDetailRecordConnectionRef = builder.objectRef<Page>('CallDetailRecordConnection').implement({
  description: 'A page of call detail records (Relay connection spec).',
  fields: (t) => ({
    edges: t.field({
      type: [CallDetailRecordEdgeRef],
      nullable: { list: false, items: false },
      resolve: (page) =>
        page.records.map((node) => ({ cursor: encodeCursor(node.drSid, page.key), node: viewOf(node) })),
    }),
    nodes: t.field({
      type: [CallDetailRecordRef],
      nullable: { list: false, items: false },
      description: 'The records of the page, without cursors.',
      directives: costs(COST.record),
      resolve: (page) => page.records.map(viewOf),
    }),
    pageInfo: t.field({ type: PageInfoRef, nullable: false, resolve: (page) => page }),
    totalCount: t.exposeInt('totalCount', {
      description:
        'How many records match the filter, as CarrierX counts them (its `total`); null when CarrierX does not say, as on pages after or before a cursor.',
    }),
  }),
});

/**
 * How the caller wrote each paging argument: `first: 200`, or `first: $pageSize = 200` when a variable carried
 * it, the name a caller finds in their code. Cursors are named, never quoted back.
 */
function writtenAs(info: GraphQLResolveInfo, args: ListArguments): WrittenAs {
  // Fields merged from several selections have the same arguments (validation holds them to it).
  const written = info.fieldNodes[0]?.arguments ?? [];
  return (argument: PagingArgument) => {
    const node = written.find((a) => a.name.value === argument)?.value;
    const variable = node?.kind === Kind.VARIABLE ? `$${node.name.value}` : undefined;
    const value = args[argument];
    if (typeof value !== 'number') return variable ? `${argument}: ${variable}` : argument;
    return variable ? `${argument}: ${variable} = ${value}` : `${argument}: ${value}`;
  };
}

builder.queryField('callDetailRecords', (t) =>
  t.field({
    type: CallDetailRecordConnectionRef,
    // Nullable so that a refused page (a limit, a bad cursor, CarrierX failing) is null with its error and the
    // operation's other root fields still answer; non-null, the error would null the whole `data`.
    nullable: true,
    directives: page(DEFAULT_PAGE_SIZE),
    description: `Call detail records the token may see, filtered, ordered and paged (Relay connection spec) through CarrierX's list endpoint. \`first\`/\`after\` pages forward, \`last\`/\`before\` back; at most 1000 a page, ${DEFAULT_PAGE_SIZE} by default. Only the fields selected under nodes or edges.node are fetched.`,
    args: {
      first: t.arg.int({
        description: `Records after \`after\` (1 to 1000; ${DEFAULT_PAGE_SIZE} if neither first nor last).`,
      }),
      after: t.arg.string({ description: 'A cursor of this list: the page starts after it.' }),
      last: t.arg.int({
        description: 'Records before `before`, or the last records of the list (1 to 1000).',
      }),
      before: t.arg.string({ description: 'A cursor of this list: the page ends before it.' }),
      filter: t.arg({ type: CallDetailRecordFilterInput }),
      orderBy: t.arg({ type: CallDetailRecordOrderInput, defaultValue: DEFAULT_ORDER }),
    },
    resolve: async (_root, args, context, info) => {
      const plan = planList(args as ListArguments, writtenAs(info, args as ListArguments));
      const schema = info.schema;
      const fields = selectedConnectionApiFields(
        info,
        schema.getType('CallDetailRecordConnection') as GraphQLObjectType,
        schema.getType('CallDetailRecordEdge') as GraphQLObjectType,
        schema.getType('CallDetailRecord') as GraphQLObjectType,
      );
      const page = await context.loaders.cdr.list(plan.page, fields, plan.asked);
      const records = plan.reversed ? [...page.records].reverse() : page.records;
      return {
        records,
        key: plan.key,
        // CarrierX's has_more is about the direction it was asked to go; a cursor means a record lies behind.
        hasNextPage: plan.backward ? plan.fromCursor : page.hasMore,
        hasPreviousPage: plan.backward ? page.hasMore : plan.fromCursor,
        totalCount: page.total,
      };
    },
  }),
);
