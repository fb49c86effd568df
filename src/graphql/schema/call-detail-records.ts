import { type GraphQLObjectType, type GraphQLResolveInfo, Kind } from 'graphql';
import type { ListPage } from '../../carrierx/client.ts';
import { CDR_FIELDS } from '../../carrierx/fields.ts';
import { mergePages } from '../../carrierx/list-merge.ts';
import {
  buildOrder,
  DEFAULT_ORDER,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  encodeMergedCursor,
  FILTERABLE_FIELDS,
  type FilterKind,
  type ListArguments,
  MAX_FILTER_VALUE_LENGTH,
  MAX_IN_VALUES,
  MAX_LIST_BRANCHES,
  type MergedListPlan,
  ORDER_FIELDS,
  type PagingArgument,
  planList,
  type WrittenAs,
} from '../../carrierx/list-query.ts';
import { type CdrPage, type CdrRecord, type CdrView, viewOf } from '../../carrierx/record.ts';
import type { Context } from '../context.ts';
import { builder } from './builder.ts';
import { CallDetailRecordDirectionEnum, CallDetailRecordRef } from './call-detail-record.ts';
import { selectedConnectionApiFields } from './selection.ts';

// A hand-written Relay connection rather than @pothos/plugin-relay: the plugin's connection helper would fit, but
// its cursors are offsets or its own, where ours wrap CarrierX's dr_sid cursor; the Node interface and global
// ids are hand-written too (node.ts).

// Every type this graph owns is named CallDetailRecord<Thing>, as its connection, edge, filter and order are: in a
// supergraph, another graph's StringFilter or OrderDirection of the same name would merge with ours, and input
// types merge to the fields both define (our `like` dropped with a hint, not an error). The entity's name is
// spelled out, not shortened to Cdr, so the schema spells it one way. PageInfo alone keeps its name (below).

const LIKE_HELP = '`%` matches any run of characters';
const VALUE_RULES = `Values of at most ${MAX_FILTER_VALUE_LENGTH} characters, without control characters, backslashes or both quote kinds.`;

const IN_HELP = `Equal to any of these values (1 to ${MAX_IN_VALUES}). Unless CarrierX is configured to take \`in\` (CARRIERX_FILTER_OPERATORS), each value is one list call, merged here in the list's order: at most ${MAX_LIST_BRANCHES} calls for the whole filter (an \`in\` on two fields takes one per combination), each counted as a page against MAX_RECORDS_PER_OPERATION, and such a list pages forward only (first/after).`;

export const CallDetailRecordStringFilterInput = builder.inputType('CallDetailRecordStringFilter', {
  description: `Conditions on a text field, combined with "and". ${VALUE_RULES}`,
  fields: (t) => ({
    eq: t.string({ description: 'Equal to this text.' }),
    like: t.string({ description: `Matches this pattern: ${LIKE_HELP} (e.g. "4%").` }),
    in: t.stringList({ description: IN_HELP }),
  }),
});

export const CallDetailRecordNumberFilterInput = builder.inputType('CallDetailRecordNumberFilter', {
  description: `Conditions on a phone number field, combined with "and". CarrierX stores numbers as it received them, with or without a leading + ("+15162065451" and "15162065451" both occur): \`phone\` matches both. ${VALUE_RULES}`,
  fields: (t) => ({
    eq: t.string({ description: 'Equal to this text, as stored (one spelling of the number).' }),
    like: t.string({
      description: `Matches this pattern: ${LIKE_HELP}. As stored: "+1516%" misses numbers stored without the +.`,
    }),
    in: t.stringList({ description: IN_HELP }),
    phone: t.string({
      description:
        'This number however it is stored: "+15162065451" or "15162065451" matches both spellings (digits with an optional leading +; an `in` of the two forms).',
    }),
  }),
});

export const CallDetailRecordIdFilterInput = builder.inputType('CallDetailRecordIdFilter', {
  description: 'Conditions on a secure ID field.',
  fields: (t) => ({
    eq: t.field({ type: 'UUID', description: 'Equal to this ID.' }),
    in: t.field({ type: ['UUID'], description: IN_HELP }),
  }),
});

export const CallDetailRecordDateTimeFilterInput = builder.inputType('CallDetailRecordDateTimeFilter', {
  description: 'Conditions on a date field, combined with "and" (e.g. gt and lt for a range).',
  fields: (t) => ({
    gt: t.field({ type: 'DateTime', description: 'After this instant.' }),
    ge: t.field({ type: 'DateTime', description: 'At or after this instant.' }),
    lt: t.field({ type: 'DateTime', description: 'Before this instant.' }),
    le: t.field({
      type: 'DateTime',
      description:
        'At or before this instant (to the millisecond). Sent as CarrierX `le` when CARRIERX_FILTER_OPERATORS names it, otherwise as `lt` the next millisecond.',
    }),
  }),
});

const FILTER_TYPES = {
  string: CallDetailRecordStringFilterInput,
  number: CallDetailRecordNumberFilterInput,
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
  /** A merged page's cursors, one per record; otherwise each record's cursor is its dr_sid and `key`. */
  readonly cursors?: readonly string[];
}

/** The cursor of the page's record at `index`. */
function cursorAt(page: Page, index: number): string {
  return page.cursors?.[index] ?? encodeCursor((page.records[index] as CdrRecord).drSid, page.key);
}

interface Edge {
  readonly cursor: string;
  readonly node: CdrView;
}

export const PageInfoRef = builder.objectRef<Page>('PageInfo').implement({
  description: 'Where a page lies in its list (Relay connection spec).',
  // Relay's spec and its clients and linters expect this name, and one PageInfo in a supergraph is what a frontend
  // wants: shared, not renamed. Federation 2 merges it only with graphs whose PageInfo is @shareable too; one
  // that is not fails composition with INVALID_FIELD_SHARING (an error, never a silent merge).
  shareable: true,
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage', { nullable: false }),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage', { nullable: false }),
    startCursor: t.string({
      description: "The first edge's cursor; null on an empty page.",
      resolve: (page) => (page.records.length > 0 ? cursorAt(page, 0) : null),
    }),
    endCursor: t.string({
      description: "The last edge's cursor; null on an empty page.",
      resolve: (page) => (page.records.length > 0 ? cursorAt(page, page.records.length - 1) : null),
    }),
  }),
});

export const CallDetailRecordEdgeRef = builder.objectRef<Edge>('CallDetailRecordEdge').implement({
  description: 'A record in a list, with the cursor to page from it.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', {
      nullable: false,
      description: 'Opaque; valid only with the filter and order of the list it came from.',
    }),
    node: t.expose('node', { type: CallDetailRecordRef, nullable: false }),
  }),
});

export const CallDetailRecordConnectionRef = builder.objectRef<Page>('CallDetailRecordConnection').implement({
  description: 'A page of call detail records (Relay connection spec).',
  fields: (t) => ({
    edges: t.field({
      type: [CallDetailRecordEdgeRef],
      nullable: { list: false, items: false },
      resolve: (page) =>
        page.records.map((node, index) => ({ cursor: cursorAt(page, index), node: viewOf(node) })),
    }),
    nodes: t.field({
      type: [CallDetailRecordRef],
      nullable: { list: false, items: false },
      description: 'The records of the page, without cursors.',
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
      const plan = planList(
        args as ListArguments,
        writtenAs(info, args as ListArguments),
        context.filterOperators,
      );
      const schema = info.schema;
      const fields = selectedConnectionApiFields(
        info,
        schema.getType('CallDetailRecordConnection') as GraphQLObjectType,
        schema.getType('CallDetailRecordEdge') as GraphQLObjectType,
        schema.getType('CallDetailRecord') as GraphQLObjectType,
      );
      if (plan.merged) return mergedPage(plan, fields, context);
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

/**
 * A page of a list whose `in` is done here: one list call per value, in parallel through the request's loader
 * (so each counts against the operation's limits and primes the record cache as any page does), each asked for
 * the page size after its own position, merged in the list's order. The order field is fetched too, to merge by.
 */
async function mergedPage(plan: MergedListPlan, fields: readonly string[], context: Context): Promise<Page> {
  const orderField = ORDER_FIELDS[plan.order.field];
  const withOrder = fields.includes(orderField) ? fields : [...fields, orderField].sort();
  const order = buildOrder(plan.order);
  // Calls already at their end are not made again; the merge reads them as undefined.
  const open = plan.filters.flatMap((filter, branch) => {
    const position = plan.positions[branch];
    if (position === 'end') return [];
    const page: ListPage = { limit: plan.limit, order };
    if (filter !== undefined) page.filter = filter;
    if (position !== undefined && position !== 'start') page.after = position.after;
    return [{ branch, page }];
  });
  const asked = `${plan.asked}, once for each of the ${open.length} list calls of its filter's in or phone`;
  const fetched = await context.loaders.cdr.lists(
    open.map((call) => call.page),
    withOrder,
    asked,
  );
  const pages = plan.filters.map((): CdrPage | undefined => undefined);
  open.forEach((call, i) => {
    pages[call.branch] = fetched[i];
  });
  const merged = mergePages(plan.order, plan.limit, plan.positions, pages);
  return {
    records: merged.records,
    key: plan.key,
    hasNextPage: merged.hasNextPage,
    hasPreviousPage: plan.fromCursor,
    totalCount: merged.totalCount,
    cursors: merged.positions.map((positions) => encodeMergedCursor(positions, plan.key)),
  };
}
