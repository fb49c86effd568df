import { type BranchPosition, type ListOrder, ORDER_FIELDS } from './list-query.ts';
import type { CdrPage, CdrRecord } from './record.ts';

/** A page merged from one list call per `in` value, in the list's order. */
export interface MergedPage {
  readonly records: readonly CdrRecord[];
  /** After each record, where each list call stands: what that record's cursor carries. */
  readonly positions: readonly (readonly BranchPosition[])[];
  readonly hasNextPage: boolean;
  /** The sum of the calls' totals when every call was made and gave one; null otherwise. */
  readonly totalCount: number | null;
}

/** The value a record is ordered by, comparable as CarrierX compares it: instants, decimals by value, text. */
function sortValue(record: CdrRecord, api: string): number | string | null {
  if (record.invalid?.[api] !== undefined) return null;
  const value = record.values[api];
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  const text = String(value);
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) ? number : text;
}

/**
 * The list's order over records, as CarrierX's list endpoint orders them (its simulator is the model): by the
 * order field, nulls after every value ascending (first descending), dr_sid breaking ties in the same direction.
 */
export function recordOrder(order: ListOrder): (left: CdrRecord, right: CdrRecord) => number {
  const api = ORDER_FIELDS[order.field];
  const sign = order.direction === 'ASC' ? 1 : -1;
  return (left, right) => {
    const a = sortValue(left, api);
    const b = sortValue(right, api);
    if (a !== b) {
      if (a === null) return sign;
      if (b === null) return -sign;
      // A number and a text (a decimal field sent as text it cannot read) compare as text.
      const [p, q] = typeof a === typeof b ? [a, b] : [String(a), String(b)];
      if (p < q) return -sign;
      if (p > q) return sign;
    }
    const x = left.drSid.toLowerCase();
    const y = right.drSid.toLowerCase();
    return x < y ? -sign : x > y ? sign : 0;
  };
}

/**
 * Merges the pages of a list's calls (undefined for a call already at its end, not made) into one page of at
 * most `limit` records in the list's order. Each call was asked for `limit` records after its position, so the
 * merge can take `limit` records before any call runs out of what it fetched. A record two calls both returned
 * is taken once, moving both (values of an `in` are disjoint for `eq`, but CarrierX's own comparison decides).
 */
export function mergePages(
  order: ListOrder,
  limit: number,
  start: readonly BranchPosition[],
  pages: readonly (CdrPage | undefined)[],
): MergedPage {
  const compare = recordOrder(order);
  const taken = pages.map(() => 0);
  const current = [...start];
  // A call whose fetched records are all taken and that said nothing is left is at its end.
  const settle = (branch: number) => {
    const page = pages[branch];
    if (page && (taken[branch] as number) >= page.records.length && !page.hasMore) current[branch] = 'end';
  };
  pages.forEach((_, branch) => {
    settle(branch);
  });
  const records: CdrRecord[] = [];
  const positions: BranchPosition[][] = [];
  while (records.length < limit) {
    let best: CdrRecord | undefined;
    pages.forEach((page, branch) => {
      const head = page?.records[taken[branch] as number];
      if (head && (!best || compare(head, best) < 0)) best = head;
    });
    if (!best) break;
    const drSid = (best as CdrRecord).drSid;
    pages.forEach((page, branch) => {
      const head = page?.records[taken[branch] as number];
      if (head?.drSid !== drSid) return;
      taken[branch] = (taken[branch] as number) + 1;
      current[branch] = { after: drSid };
      settle(branch);
    });
    records.push(best);
    positions.push([...current]);
  }
  const hasNextPage = pages.some(
    (page, branch) => page !== undefined && ((taken[branch] as number) < page.records.length || page.hasMore),
  );
  let totalCount: number | null = 0;
  for (const page of pages) {
    if (page?.total === null || page?.total === undefined) {
      totalCount = null;
      break;
    }
    totalCount += page.total;
  }
  return { records, positions, hasNextPage, totalCount };
}
