import { createHash } from 'node:crypto';
import { ServiceError } from '../errors.ts';
import { MAX_LIST_LIMIT } from './client.ts';
import { CDR_FIELDS } from './fields.ts';

/**
 * What a caller may filter on: GraphQL filter field → operators. The API names come from the one field map.
 * Only the operators CarrierX's own sources use (`eq`, `like`, `gt`, `ge`, `lt`); the others its docs hint at
 * are unconfirmed, so none is offered.
 */
export const FILTER_KINDS = {
  string: ['eq', 'like'],
  id: ['eq'],
  direction: ['eq'],
  datetime: ['gt', 'ge', 'lt'],
} as const;

export type FilterKind = keyof typeof FILTER_KINDS;

/** The filterable fields of CallDetailRecordFilter, in the order their conditions are written. */
export const FILTERABLE_FIELDS: readonly { readonly name: string; readonly kind: FilterKind }[] = [
  { name: 'direction', kind: 'direction' },
  { name: 'numberSrc', kind: 'string' },
  { name: 'numberDst', kind: 'string' },
  { name: 'numberBilling', kind: 'string' },
  { name: 'partnerSid', kind: 'id' },
  { name: 'trunkGroupSidSrc', kind: 'id' },
  { name: 'trunkGroupSidDst', kind: 'id' },
  { name: 'endpointSidSrc', kind: 'id' },
  { name: 'endpointSidDst', kind: 'id' },
  { name: 'dateStart', kind: 'datetime' },
  { name: 'dateInsert', kind: 'datetime' },
  { name: 'sipcause', kind: 'string' },
  { name: 'stirAttest', kind: 'string' },
];

/** The fields a list may be ordered by: GraphQL enum value → API name. */
export const ORDER_FIELDS = {
  DATE_START: 'date_start',
  DATE_INSERT: 'date_insert',
  DATE_STOP: 'date_stop',
  DURATION: 'duration',
  PRICE: 'price',
} as const;

export type OrderField = keyof typeof ORDER_FIELDS;
export type OrderDirection = 'ASC' | 'DESC';
export interface ListOrder {
  field: OrderField;
  direction: OrderDirection;
}

/** The order when the caller names none: newest call first (what CarrierX's web portal shows). */
export const DEFAULT_ORDER: ListOrder = { field: 'DATE_START', direction: 'DESC' };

/** The page size when the caller names none. */
export const DEFAULT_PAGE_SIZE = 20;

/** The longest filter value sent to CarrierX, in characters (code points). */
export const MAX_FILTER_VALUE_LENGTH = 256;

/**
 * The longest `filter` parameter sent to CarrierX, percent-encoded, in bytes. Values of 256 characters each pass
 * one by one, but ten of 256 `€` made a 23 KB request line, which CarrierX answers 431 (a failure of ours,
 * counted against CarrierX); a filter a person writes is far shorter.
 */
export const MAX_ENCODED_FILTER_BYTES = 4096;

const API_NAME = new Map(CDR_FIELDS.map((f) => [f.name, f.api]));

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators: nothing that could end a line or a
// condition in whatever parser CarrierX runs. A backslash is refused too: CarrierX does not document whether it
// escapes the next character, and if it does, a value ending in one would swallow the closing quote and let
// the next value's text be read as conditions.
const REFUSED_CHARACTER = /[\p{Cc}\u2028\u2029\\]/u;
const UNPAIRED_SURROGATE = /\p{Cs}/u;

function refuse(message: string, extensions?: Record<string, unknown>): ServiceError {
  return new ServiceError('BAD_USER_INPUT', message, extensions);
}

/**
 * A value as one quoted CarrierX filter token: in double quotes, or single quotes when it holds a double quote.
 * A value holding both quote kinds, a control character, a backslash or more than 256 characters is refused:
 * no quoting would keep it one value, and it is never sent. `where` names the input field, for the message.
 */
export function quoteFilterValue(value: string, where: string): string {
  // A lone UTF-16 surrogate has no UTF-8 form: percent-encoding it throws (a URIError, answered as an internal
  // error with a stack in the log for anyone who sends one).
  if (UNPAIRED_SURROGATE.test(value)) {
    throw refuse(`${where} holds an unpaired surrogate, which is not valid Unicode text.`);
  }
  if ([...value].length > MAX_FILTER_VALUE_LENGTH) {
    throw refuse(`${where} is longer than ${MAX_FILTER_VALUE_LENGTH} characters.`);
  }
  if (REFUSED_CHARACTER.test(value)) {
    throw refuse(`${where} holds a control character or a backslash, which CarrierX filters cannot carry.`);
  }
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw refuse(`${where} holds both ' and ", which no CarrierX filter value can.`);
}

/** The text of a filter operand: strings as given, DateTimes as CarrierX writes them (ISO-8601, ms, Z). */
function operandText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/**
 * CarrierX's `filter` parameter for a CallDetailRecordFilter input (already coerced by GraphQL), or undefined
 * when it sets no condition. Field names and operators come only from the tables above, never from the input;
 * each value is one quoted token (`quoteFilterValue`), so no input can add a condition or change an operator.
 */
export function buildFilter(input: Readonly<Record<string, unknown>> | null | undefined): string | undefined {
  if (!input) return undefined;
  const conditions: string[] = [];
  for (const { name, kind } of FILTERABLE_FIELDS) {
    const operand = input[name];
    if (operand === null || operand === undefined) continue;
    const api = API_NAME.get(name) as string;
    if (kind === 'direction') {
      // An enum value: GraphQL already holds it to CarrierX's documented directions.
      conditions.push(`${api} eq ${quoteFilterValue(operandText(operand), `filter.${name}`)}`);
      continue;
    }
    const operators = operand as Readonly<Record<string, unknown>>;
    for (const operator of FILTER_KINDS[kind]) {
      const value = operators[operator];
      if (value === null || value === undefined) continue;
      conditions.push(
        `${api} ${operator} ${quoteFilterValue(operandText(value), `filter.${name}.${operator}`)}`,
      );
    }
  }
  if (conditions.length === 0) return undefined;
  const filter = conditions.join(' and ');
  const bytes = encodeURIComponent(filter).length;
  if (bytes > MAX_ENCODED_FILTER_BYTES) {
    throw refuse(
      `filter is too long: ${bytes} bytes once encoded for CarrierX, at most ${MAX_ENCODED_FILTER_BYTES}. Use fewer or shorter values.`,
    );
  }
  return filter;
}

/** CarrierX's `order` parameter, e.g. `date_start desc`. */
export function buildOrder(order: ListOrder, reversed = false): string {
  const descending = (order.direction === 'DESC') !== reversed;
  return `${ORDER_FIELDS[order.field]} ${descending ? 'desc' : 'asc'}`;
}

// Our cursor: `cdr1:<dr_sid>:<12 characters of a hash of filter and order>`, base64url-encoded. The hash ties it
// to the list it came from without making the cursor grow with the filter.
const CURSOR = /^cdr1:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):([A-Za-z0-9_-]{12})$/;

/** What a cursor is tied to: the filter and the order of the list it was handed out for. */
export function listKey(filter: string | undefined, order: string): string {
  return createHash('sha256')
    .update(`${filter ?? ''}\n${order}`)
    .digest('base64url')
    .slice(0, 12);
}

/** An opaque cursor for a record of the list `key` identifies. */
export function encodeCursor(drSid: string, key: string): string {
  return Buffer.from(`cdr1:${drSid.toLowerCase()}:${key}`).toString('base64url');
}

/** The dr_sid a cursor of ours holds; BAD_USER_INPUT if it is not one, or was handed out for another list. */
export function decodeCursor(cursor: string, key: string, argument: string): string {
  const match =
    cursor.length <= 128 ? CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1')) : null;
  if (!match) throw refuse(`${argument} is not a cursor of callDetailRecords.`);
  if (match[2] !== key) {
    throw refuse(`${argument} is a cursor of a list with another filter or order; page it with that one.`);
  }
  return match[1] as string;
}

/** The arguments of callDetailRecords, as GraphQL coerced them (explicit nulls included). */
export interface ListArguments {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  filter?: Readonly<Record<string, unknown>> | null | undefined;
  orderBy?: ListOrder | null | undefined;
}

/** The paging arguments a message names. */
export type PagingArgument = 'first' | 'last' | 'after' | 'before';

/**
 * How a paging argument was written, for messages: the resolver says whether it came from a variable
 * ("first: $pageSize = 200"), which is the name a caller searches their code for.
 */
export type WrittenAs = (argument: PagingArgument) => string;

/** One connection page as CarrierX is asked for it, and how to read its answer. */
export interface ListPlan {
  /** How the caller asked for the page size, for a refusal's message (e.g. "first: 200", "first: 20 by default"). */
  asked: string;
  page: { limit: number; after?: string; before?: string; filter?: string; order: string };
  /** Ties cursors to this filter and order. */
  key: string;
  /** `last` without `before`: CarrierX was asked in the reverse order, so its items are read back to front. */
  reversed: boolean;
  backward: boolean;
  /** A cursor was given, so a record lies on its other side. */
  fromCursor: boolean;
}

/**
 * Maps Relay paging onto CarrierX's: `first`/`after` is `limit` and `after`; `last`/`before` is `limit` and
 * `before`; `last` alone asks for the first `last` records of the reverse order. Both directions at once is
 * refused, as CarrierX refuses after with before. Every refusal is BAD_USER_INPUT and calls nothing.
 */
export function planList(args: ListArguments, writtenAs: WrittenAs): ListPlan {
  const first = args.first ?? undefined;
  const last = args.last ?? undefined;
  const after = args.after ?? undefined;
  const before = args.before ?? undefined;
  if (first !== undefined && last !== undefined) throw refuse('Give first or last, not both.');
  if (after !== undefined && before !== undefined) throw refuse('Give after or before, not both.');
  if (first !== undefined && before !== undefined) {
    throw refuse('first pages forward from after; to page back from before, use last.');
  }
  if (last !== undefined && after !== undefined) {
    throw refuse('last pages back from before; to page forward from after, use first.');
  }
  const limit = first ?? last ?? DEFAULT_PAGE_SIZE;
  const asked =
    first !== undefined
      ? writtenAs('first')
      : last !== undefined
        ? writtenAs('last')
        : `first: ${limit} by default`;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    const range = `a page holds from 1 to ${MAX_LIST_LIMIT} records (CarrierX's largest page)`;
    throw refuse(`${asked} is no page size: ${range}.`, { limit: MAX_LIST_LIMIT });
  }
  const filter = buildFilter(args.filter);
  const order = args.orderBy ?? DEFAULT_ORDER;
  const key = listKey(filter, buildOrder(order));
  const backward = last !== undefined || before !== undefined;
  const reversed = backward && before === undefined;
  const page: ListPlan['page'] = { limit, order: buildOrder(order, reversed) };
  if (after !== undefined) page.after = decodeCursor(after, key, writtenAs('after'));
  if (before !== undefined) page.before = decodeCursor(before, key, writtenAs('before'));
  if (filter !== undefined) page.filter = filter;
  return { asked, page, key, reversed, backward, fromCursor: after !== undefined || before !== undefined };
}
