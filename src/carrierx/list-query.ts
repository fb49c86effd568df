import { createHash } from 'node:crypto';
import { ServiceError } from '../errors.ts';
import { MAX_LIST_LIMIT } from './client.ts';
import { CDR_FIELDS } from './fields.ts';

/**
 * What a caller may filter on: GraphQL filter field → operators. The API names come from the one field map.
 * `eq`, `like`, `gt`, `ge` and `lt` are the operators CarrierX's own sources use, sent as they are. `in`, `le`
 * and `phone` are offered too: `le` and `in` go to CarrierX only where CARRIERX_FILTER_OPERATORS says it
 * accepts them (both are unconfirmed) and are done here otherwise; `phone` is an `in` of a number's two
 * spellings.
 */
export const FILTER_KINDS = {
  string: ['eq', 'like', 'in'],
  number: ['eq', 'like', 'in', 'phone'],
  id: ['eq', 'in'],
  direction: ['eq'],
  datetime: ['gt', 'ge', 'lt', 'le'],
} as const;

export type FilterKind = keyof typeof FILTER_KINDS;

/** Values one `in` may hold. */
export const MAX_IN_VALUES = 10;

/**
 * List calls one page may take when `in`/`phone` is done here: one per combination of their values (an `in` on
 * two fields is their cartesian product), each counted against the operation's limits.
 */
export const MAX_LIST_BRANCHES = 10;

/** The filterable fields of CallDetailRecordFilter, in the order their conditions are written. */
export const FILTERABLE_FIELDS: readonly { readonly name: string; readonly kind: FilterKind }[] = [
  { name: 'direction', kind: 'direction' },
  { name: 'numberSrc', kind: 'number' },
  { name: 'numberDst', kind: 'number' },
  { name: 'numberBilling', kind: 'number' },
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

// Digits with an optional leading +: the two ways CarrierX writes a number ("+15162065451", "15162065451").
const PHONE = /^\+?(\d{1,32})$/;

/** Both spellings of a number, quoted: `phone` is an `in` of them. */
function phoneForms(value: string, where: string): string[] {
  const digits = PHONE.exec(value)?.[1];
  if (digits === undefined) {
    throw refuse(`${where} must be a phone number: digits with an optional leading +, e.g. "+15162065451".`);
  }
  return [`"+${digits}"`, `"${digits}"`];
}

/** The values of an `in`, quoted, without repeats; from 1 to MAX_IN_VALUES of them. */
function inValues(values: readonly unknown[], where: string): string[] {
  if (values.length === 0 || values.length > MAX_IN_VALUES) {
    throw refuse(`${where} holds ${values.length} values; give from 1 to ${MAX_IN_VALUES}.`, {
      limit: MAX_IN_VALUES,
    });
  }
  return [...new Set(values.map((value, i) => quoteFilterValue(operandText(value), `${where}[${i}]`)))];
}

function checkLength(filter: string): string {
  const bytes = encodeURIComponent(filter).length;
  if (bytes > MAX_ENCODED_FILTER_BYTES) {
    throw refuse(
      `filter is too long: ${bytes} bytes once encoded for CarrierX, at most ${MAX_ENCODED_FILTER_BYTES}. Use fewer or shorter values.`,
    );
  }
  return filter;
}

/**
 * CarrierX's `filter` parameter for each list call a CallDetailRecordFilter input (already coerced by GraphQL)
 * needs: one call (undefined when it sets no condition) unless an `in` or `phone` is done here, which takes one
 * call per value, the other conditions unchanged (an `in` on two fields: one per combination, at most
 * MAX_LIST_BRANCHES). `pushDown` names the unconfirmed operators CarrierX is known to accept
 * (CARRIERX_FILTER_OPERATORS); `le` without it is `lt` the next millisecond, the next instant a DateTime holds.
 * Field names and operators come only from the tables above, never from the input; each value is one quoted
 * token (`quoteFilterValue`), so no input can add a condition or change an operator.
 */
export function buildFilters(
  input: Readonly<Record<string, unknown>> | null | undefined,
  pushDown: ReadonlySet<string> = new Set(),
): (string | undefined)[] {
  if (!input) return [undefined];
  const conditions: string[] = [];
  const alternatives: string[][] = [];
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
      const where = `filter.${name}.${operator}`;
      if (operator === 'in' || operator === 'phone') {
        const values =
          operator === 'phone' ? phoneForms(String(value), where) : inValues(value as unknown[], where);
        if (values.length === 1) conditions.push(`${api} eq ${values[0]}`);
        else if (pushDown.has('in')) conditions.push(`${api} in (${values.join(',')})`);
        else alternatives.push(values.map((quoted) => `${api} eq ${quoted}`));
        continue;
      }
      if (operator === 'le' && !pushDown.has('le')) {
        const next = new Date((value as Date).getTime() + 1);
        conditions.push(`${api} lt ${quoteFilterValue(operandText(next), where)}`);
        continue;
      }
      conditions.push(`${api} ${operator} ${quoteFilterValue(operandText(value), where)}`);
    }
  }
  let branches: string[][] = [[]];
  for (const choices of alternatives) {
    if (branches.length * choices.length > MAX_LIST_BRANCHES) {
      throw refuse(
        `filter needs ${alternatives.reduce((n, c) => n * c.length, 1)} list calls to CarrierX (one per combination of its in and phone values, which CarrierX cannot take in one call); at most ${MAX_LIST_BRANCHES}. Use fewer values.`,
        { limit: MAX_LIST_BRANCHES },
      );
    }
    branches = branches.flatMap((branch) => choices.map((choice) => [...branch, choice]));
  }
  return branches.map((branch) => {
    const all = [...conditions, ...branch];
    return all.length === 0 ? undefined : checkLength(all.join(' and '));
  });
}

/** CarrierX's `order` parameter, e.g. `date_start desc`. */
export function buildOrder(order: ListOrder, reversed = false): string {
  const descending = (order.direction === 'DESC') !== reversed;
  return `${ORDER_FIELDS[order.field]} ${descending ? 'desc' : 'asc'}`;
}

// Our cursors, base64url-encoded. One list call: `cdr1:<dr_sid>:<12 characters of a hash of filter and order>`;
// the hash ties it to the list it came from without making the cursor grow with the filter. A page merged from
// several calls (`in` done here): `cdr2:<hash>:<position>.<position>...`, one position per call in the filter's
// order: the 32 hex digits of the last dr_sid taken from it, `s` (nothing taken yet) or `e` (all taken).
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const CURSOR = new RegExp(`^cdr1:(${UUID}):([A-Za-z0-9_-]{12})$`);
const MERGED_CURSOR = /^cdr2:([A-Za-z0-9_-]{12}):((?:[0-9a-f]{32}|s|e)(?:\.(?:[0-9a-f]{32}|s|e))*)$/;
/** Long enough for MAX_LIST_BRANCHES positions, so a cursor stays bounded whatever is sent. */
const MAX_CURSOR_LENGTH = 640;

/** Where a merged page left one of its list calls: after a dr_sid, not started, or with nothing left. */
export type BranchPosition = { after: string } | 'start' | 'end';

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

/** An opaque cursor for a record of a merged list: where each of its list calls stands after that record. */
export function encodeMergedCursor(positions: readonly BranchPosition[], key: string): string {
  const text = positions
    .map((p) => (typeof p === 'string' ? p[0] : p.after.toLowerCase().replaceAll('-', '')))
    .join('.');
  return Buffer.from(`cdr2:${key}:${text}`).toString('base64url');
}

function readCursor(cursor: string): RegExpExecArray | { merged: RegExpExecArray } | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('latin1');
  const single = CURSOR.exec(text);
  if (single) return single;
  const merged = MERGED_CURSOR.exec(text);
  return merged ? { merged } : undefined;
}

function notACursor(argument: string): ServiceError {
  return refuse(`${argument} is not a cursor of callDetailRecords.`);
}

function otherList(argument: string): ServiceError {
  return refuse(`${argument} is a cursor of a list with another filter or order; page it with that one.`);
}

/** The dr_sid a cursor of ours holds; BAD_USER_INPUT if it is not one, or was handed out for another list. */
export function decodeCursor(cursor: string, key: string, argument: string): string {
  const read = readCursor(cursor);
  if (!read) throw notACursor(argument);
  if ('merged' in read) throw otherList(argument);
  if (read[2] !== key) throw otherList(argument);
  return read[1] as string;
}

/**
 * The positions a merged-list cursor holds, one per list call; BAD_USER_INPUT if it is not one of ours, was
 * handed out for another list, or holds another number of positions than the list has calls.
 */
export function decodeMergedCursor(
  cursor: string,
  key: string,
  branches: number,
  argument: string,
): BranchPosition[] {
  const read = readCursor(cursor);
  if (!read) throw notACursor(argument);
  if (!('merged' in read) || read.merged[1] !== key) throw otherList(argument);
  const parts = (read.merged[2] as string).split('.');
  if (parts.length !== branches) throw notACursor(argument);
  return parts.map((part) => {
    if (part === 's') return 'start';
    if (part === 'e') return 'end';
    const h = part;
    return {
      after: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
    };
  });
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
  merged: false;
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

/** A page merged from one list call per `in` value done here (forward only). */
export interface MergedListPlan {
  merged: true;
  asked: string;
  limit: number;
  order: ListOrder;
  /** CarrierX's filter of each list call, in the order of the cursor's positions. */
  filters: readonly (string | undefined)[];
  /** Where each call stands: from the `after` cursor, or every one at its start. */
  positions: readonly BranchPosition[];
  key: string;
  fromCursor: boolean;
}

/**
 * Maps Relay paging onto CarrierX's: `first`/`after` is `limit` and `after`; `last`/`before` is `limit` and
 * `before`; `last` alone asks for the first `last` records of the reverse order. Both directions at once is
 * refused, as CarrierX refuses after with before. A filter whose `in` is done here plans one list call per
 * value, forward only. Every refusal is BAD_USER_INPUT and calls nothing.
 */
export function planList(
  args: ListArguments,
  writtenAs: WrittenAs,
  pushDown: ReadonlySet<string> = new Set(),
): ListPlan | MergedListPlan {
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
  const filters = buildFilters(args.filter, pushDown);
  const order = args.orderBy ?? DEFAULT_ORDER;
  const backward = last !== undefined || before !== undefined;
  if (filters.length > 1) {
    if (backward) {
      // A merged page's cursor says where each call stands going forward; CarrierX's `before` excludes its
      // record, so paging back from those positions could not include the record each call last gave.
      throw refuse(
        'last and before cannot page a list whose in or phone filter is done here, one CarrierX call per value (CARRIERX_FILTER_OPERATORS does not name in): page forward with first and after, with orderBy in the other direction for the end of the list.',
      );
    }
    const key = listKey(`merged\n${filters.map((f) => f ?? '').join('\n')}`, buildOrder(order));
    const positions =
      after === undefined
        ? filters.map((): BranchPosition => 'start')
        : decodeMergedCursor(after, key, filters.length, writtenAs('after'));
    return {
      merged: true,
      asked,
      limit,
      order,
      filters,
      positions,
      key,
      fromCursor: after !== undefined,
    };
  }
  const filter = filters[0];
  const key = listKey(filter, buildOrder(order));
  const reversed = backward && before === undefined;
  const page: ListPlan['page'] = { limit, order: buildOrder(order, reversed) };
  if (after !== undefined) page.after = decodeCursor(after, key, writtenAs('after'));
  if (before !== undefined) page.before = decodeCursor(before, key, writtenAs('before'));
  if (filter !== undefined) page.filter = filter;
  return {
    merged: false,
    asked,
    page,
    key,
    reversed,
    backward,
    fromCursor: after !== undefined || before !== undefined,
  };
}
