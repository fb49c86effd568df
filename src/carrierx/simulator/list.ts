import { DEFAULT_ORDER, parseFilter, parseOrder, QueryError } from './filter.ts';
import { parseFieldList, projectRecord, type RecordStore, type StoredRecord } from './record-store.ts';

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 1000;

/** One list request, already authorised: which records the token may see and how to build page links. */
export interface ListRequest {
  query: Readonly<Record<string, string>>;
  includeDescendants: boolean;
  /** The absolute URL of this endpoint with the given query parameters. */
  pageUrl(params: Record<string, string>): string;
}

const ORDER_CACHE_LIMIT = 256;

/**
 * Serves `GET /calls/call_drs`: order, filter, then page by offset or by an after/before dr_sid cursor, and
 * render CarrierX's envelope. Sorted lists are cached per (visibility, order) since the data never changes.
 */
export function createLister(
  store: RecordStore,
  options: { filterOperators?: readonly string[] | undefined } = {},
): (request: ListRequest) => string {
  const extraOperators = options.filterOperators ?? [];
  let all = [...store.bySid.values()];
  let own = all.filter((stored) => !stored.descendant);
  let version = store.version;
  const sortedCache = new Map<string, readonly StoredRecord[]>();

  const sorted = (includeDescendants: boolean, order: string) => {
    if (version !== store.version) {
      // Records were added at runtime: every cached order is out of date.
      version = store.version;
      all = [...store.bySid.values()];
      own = all.filter((stored) => !stored.descendant);
      sortedCache.clear();
    }
    const key = `${includeDescendants ? 'all' : 'own'}|${order}`;
    let list = sortedCache.get(key);
    if (!list) {
      const compare = parseOrder(order, store.fields);
      list = [...(includeDescendants ? all : own)].sort((left, right) => compare(left.record, right.record));
      if (sortedCache.size >= ORDER_CACHE_LIMIT) sortedCache.clear();
      sortedCache.set(key, list);
    }
    return list;
  };

  return ({ query, includeDescendants, pageUrl }) => {
    const limit = integerParam(query, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT);
    const offset = integerParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const { after, before } = query;
    if (after !== undefined && before !== undefined) {
      throw new QueryError('Invalid paging: use either after or before, not both');
    }
    const ordered = sorted(includeDescendants, query.order?.trim() || DEFAULT_ORDER);
    const filterText = query.filter?.trim();
    const predicate = filterText ? parseFilter(filterText, store.fields, extraOperators) : undefined;
    const matching = predicate ? ordered.filter((stored) => predicate(stored.record)) : ordered;

    const pagination: { next?: string; previous?: string } = {};
    const withoutPaging = () => {
      const params = { ...query };
      delete params.offset;
      delete params.after;
      delete params.before;
      return params;
    };
    let page: readonly StoredRecord[];
    let hasMore: boolean;
    let total: number | null = null;
    let reportedOffset = offset;
    if (after !== undefined || before !== undefined) {
      // Cursor paging: offset is ignored and the total is not computed, as CarrierX documents.
      reportedOffset = 0;
      const cursor = (after ?? before) as string;
      const index = matching.findIndex((stored) => stored.sid === cursor);
      if (index < 0) {
        throw new QueryError(
          `Invalid paging: ${after !== undefined ? 'after' : 'before'} cursor "${cursor}" is not in the list`,
        );
      }
      if (after !== undefined) {
        page = matching.slice(index + 1, index + 1 + limit);
        hasMore = index + 1 + limit < matching.length;
        const last = page[page.length - 1];
        const first = page[0];
        if (hasMore && last) pagination.next = pageUrl({ ...withoutPaging(), after: last.sid });
        if (first) pagination.previous = pageUrl({ ...withoutPaging(), before: first.sid });
      } else {
        const start = Math.max(0, index - limit);
        page = matching.slice(start, index);
        hasMore = start > 0;
        const last = page[page.length - 1];
        const first = page[0];
        if (last) pagination.next = pageUrl({ ...withoutPaging(), after: last.sid });
        if (hasMore && first) pagination.previous = pageUrl({ ...withoutPaging(), before: first.sid });
      }
    } else {
      total = matching.length;
      page = matching.slice(offset, offset + limit);
      hasMore = offset + limit < total;
      if (hasMore) pagination.next = pageUrl({ ...withoutPaging(), offset: String(offset + limit) });
      if (offset > 0) {
        pagination.previous = pageUrl({ ...withoutPaging(), offset: String(Math.max(0, offset - limit)) });
      }
    }

    const include = parseFieldList(query.include_fields);
    const exclude = parseFieldList(query.exclude_fields);
    let items = '';
    for (let index = 0; index < page.length; index++) {
      if (index > 0) items += ',';
      items += projectRecord(page[index] as StoredRecord, include, exclude);
    }
    return `{"count":${page.length},"has_more":${hasMore},"items":[${items}],"limit":${limit},"offset":${reportedOffset},"pagination":${JSON.stringify(pagination)},"total":${total}}`;
  };
}

function integerParam(
  query: Readonly<Record<string, string>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new QueryError(`Invalid ${name} "${raw}": expected an integer from ${min} to ${max}`);
  }
  return value;
}
