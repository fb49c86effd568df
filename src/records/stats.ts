import { createHash } from 'node:crypto';
import { MAX_LIST_LIMIT } from '../carrierx/client.ts';
import { DECIMAL_TEXT, toGraphQLName } from '../carrierx/fields.ts';
import { buildFilters } from '../carrierx/list-query.ts';
import type { CdrRecord } from '../carrierx/record.ts';
import { ServiceError } from '../errors.ts';
import type { CdrLoader } from './cdr-loader.ts';

/** What a statistic may be grouped by: GraphQL enum value → the record's API field. */
export const STATS_DIMENSIONS = {
  DIRECTION: 'direction',
  SIPCAUSE: 'sipcause',
  STIR_ATTEST: 'stir_attest',
  PARTNER: 'partner_sid',
  TRUNK_GROUP_SRC: 'trunk_group_sid_src',
  TRUNK_GROUP_DST: 'trunk_group_sid_dst',
  ENDPOINT_SRC: 'endpoint_sid_src',
  ENDPOINT_DST: 'endpoint_sid_dst',
  NUMBER_SRC: 'number_src',
  NUMBER_DST: 'number_dst',
} as const;

export type StatsDimension = keyof typeof STATS_DIMENSIONS;

/** Time buckets on dateStart, in the request's time zone; a week starts on Monday (ISO 8601). */
export const TIME_BUCKETS = ['HOUR', 'DAY', 'WEEK', 'MONTH'] as const;
export type TimeBucket = (typeof TIME_BUCKETS)[number];

/** What each measure is computed from: GraphQL field → the API field it needs (calls needs none). */
export const MEASURE_FIELDS = {
  calls: undefined,
  answered: 'date_talk',
  durationSeconds: 'duration',
  billedSeconds: 'duration_billing',
  cost: 'price',
} as const;

/** The most groups one statistic returns (`limit`); the rest are summed in otherGroups. */
export const MAX_STATS_GROUPS = 1000;

/** One total: counts, and sums as exact decimal text. */
export interface StatsMeasures {
  readonly calls: number;
  readonly answered: number;
  readonly durationSeconds: string;
  readonly billedSeconds: string;
  readonly cost: string;
}

/** A group's key: the record's values it was grouped by (null where not grouped by), by GraphQL name. */
export type StatsGroupKey = Readonly<Record<string, string | null>>;

export interface StatsGroup extends StatsMeasures {
  readonly key: StatsGroupKey;
}

/** What callDetailRecordStats answers; plain JSON, so that the record cache's stores can keep it. */
export interface StatsAnswer {
  readonly total: StatsMeasures;
  readonly groups: readonly StatsGroup[];
  readonly otherGroups: StatsMeasures;
  readonly scanned: number;
  readonly complete: boolean;
}

/**
 * A sum of decimal texts, exact: each is read as an integer of 10^-scale units (BigInt), the scale growing to
 * the longest fraction seen. A float would turn 0.1 + 0.2 into 0.30000000000000004; this gives "0.3".
 */
export class DecimalSum {
  private units = 0n;
  private scale = 0;

  add(text: string): void {
    const point = text.indexOf('.');
    const fraction = point < 0 ? 0 : text.length - point - 1;
    const value = BigInt(point < 0 ? text : text.slice(0, point) + text.slice(point + 1));
    if (fraction > this.scale) {
      this.units *= 10n ** BigInt(fraction - this.scale);
      this.scale = fraction;
      this.units += value;
    } else {
      this.units += value * 10n ** BigInt(this.scale - fraction);
    }
  }

  /** Canonical decimal text: no trailing fractional zeros, no point without digits after it, never "-0". */
  toString(): string {
    const negative = this.units < 0n;
    let digits = (negative ? -this.units : this.units).toString().padStart(this.scale + 1, '0');
    let scale = this.scale;
    while (scale > 0 && digits.endsWith('0')) {
      digits = digits.slice(0, -1);
      scale -= 1;
    }
    const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    return negative && text !== '0' ? `-${text}` : text;
  }
}

class Tallies {
  calls = 0;
  answered = 0;
  readonly duration = new DecimalSum();
  readonly billed = new DecimalSum();
  readonly cost = new DecimalSum();

  add(record: CdrRecord): void {
    const { values } = record;
    this.calls += 1;
    if (values.date_talk !== undefined && values.date_talk !== null) this.answered += 1;
    addDecimal(this.duration, values.duration);
    addDecimal(this.billed, values.duration_billing);
    addDecimal(this.cost, values.price);
  }

  addAll(other: Tallies): void {
    this.calls += other.calls;
    this.answered += other.answered;
    this.duration.add(other.duration.toString());
    this.billed.add(other.billed.toString());
    this.cost.add(other.cost.toString());
  }

  measures(): StatsMeasures {
    return {
      calls: this.calls,
      answered: this.answered,
      durationSeconds: this.duration.toString(),
      billedSeconds: this.billed.toString(),
      cost: this.cost.toString(),
    };
  }
}

/** A null (or absent) value adds nothing: CarrierX sends null price for calls it did not rate. */
function addDecimal(sum: DecimalSum, value: unknown): void {
  if (typeof value === 'string' && DECIMAL_TEXT.test(value)) sum.add(value);
}

/** The local wall-clock time of instants in one IANA zone, as milliseconds of a UTC calendar (offset applied). */
function wallClock(zone: string): (ms: number) => number {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (ms) => {
    const whole = Math.floor(ms / 1000) * 1000;
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(whole)) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    const wall = Date.UTC(
      parts.year as number,
      (parts.month as number) - 1,
      parts.day as number,
      parts.hour as number,
      parts.minute as number,
      parts.second as number,
    );
    return wall + (ms - whole);
  };
}

/** The zone's canonical name (`EST` is America/Panama), or BAD_USER_INPUT naming what was given. */
export function canonicalTimeZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new ServiceError(
      'BAD_USER_INPUT',
      `timeZone ${JSON.stringify(zone.slice(0, 64))} is not an IANA time zone name, such as "UTC" or "America/New_York".`,
    );
  }
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** RFC 3339 text of `ms` at `offsetMs` from UTC, e.g. 2026-03-08T00:00:00.000-05:00; `Z` for UTC itself. */
function withOffset(ms: number, offsetMs: number, utc: boolean): string {
  const local = new Date(ms + offsetMs).toISOString().slice(0, -1);
  if (utc && offsetMs === 0) return `${local}Z`;
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${local}${offsetMs < 0 ? '-' : '+'}${hh}:${mm}`;
}

/**
 * Which bucket an instant falls in: its start, as an instant and as RFC 3339 text with the zone's offset at that
 * start. Buckets follow the zone's wall clock, so a day across a daylight-saving change lasts 23 or 25 hours,
 * and the hour repeated when clocks go back is two buckets (its two starts differ in offset).
 */
export function createBucketer(
  bucket: TimeBucket,
  zone: string,
): (ms: number) => { start: number; label: string } {
  const wall = wallClock(zone);
  const utc = zone === 'UTC';
  /** The first instant whose wall clock reads `local` or later: `local` itself, or the end of a gap over it. */
  function instantOf(local: number): number {
    const candidates = [local - (wall(local - 2 * DAY_MS) - (local - 2 * DAY_MS))];
    candidates.push(local - (wall(local + 2 * DAY_MS) - (local + 2 * DAY_MS)));
    const exact = candidates.filter((t) => wall(t) === local);
    if (exact.length > 0) return Math.min(...exact);
    // Clocks jumped over `local` (a midnight skipped by a daylight-saving change): the bucket starts as they jump.
    let low = Math.min(...candidates);
    let high = Math.max(...candidates);
    while (high - low > 1000) {
      const middle = Math.floor((low + high) / 2000) * 1000;
      if (wall(middle) >= local) high = middle;
      else low = middle;
    }
    return high;
  }
  function localStart(local: number): number {
    const day = Math.floor(local / DAY_MS) * DAY_MS;
    if (bucket === 'DAY') return day;
    if (bucket === 'WEEK') return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
    const date = new Date(day);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
  function localNext(start: number): number {
    if (bucket === 'DAY') return start + DAY_MS;
    if (bucket === 'WEEK') return start + 7 * DAY_MS;
    const date = new Date(start);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  }
  // Records arrive in dateStart order within each scanned range: the last bucket answers almost every one.
  let last: { start: number; end: number; label: string } | undefined;
  return (ms) => {
    if (last && ms >= last.start && ms < last.end) return last;
    const local = wall(ms);
    let start: number;
    let end: number;
    if (bucket === 'HOUR') {
      start = ms - (local - Math.floor(local / HOUR_MS) * HOUR_MS);
      end = start + HOUR_MS;
    } else {
      const startLocal = localStart(local);
      start = instantOf(startLocal);
      end = instantOf(localNext(startLocal));
    }
    last = { start, end, label: withOffset(start, wall(start) - start, utc) };
    return last;
  };
}

/** The arguments of callDetailRecordStats as GraphQL coerced them. */
export interface StatsArguments {
  filter: Readonly<Record<string, unknown>>;
  groupBy?: readonly StatsDimension[] | null | undefined;
  bucket?: TimeBucket | null | undefined;
  timeZone?: string | null | undefined;
  limit?: number | null | undefined;
}

/** A validated statistics request: what is scanned, how it is grouped, and which fields pages ask for. */
export interface StatsPlan {
  readonly filter: Readonly<Record<string, unknown>>;
  /** dateStart's bounds as given: the lower (gt or ge) and the upper (lt, or le where the filter has it). */
  readonly from: { readonly at: Date; readonly operator: 'gt' | 'ge' };
  readonly until: { readonly at: Date; readonly operator: 'lt' | 'le' };
  readonly groupBy: readonly StatsDimension[];
  readonly bucket: TimeBucket | undefined;
  readonly timeZone: string;
  readonly limit: number;
  /** The API fields each page asks for, sorted: dr_sid, the measures selected and the keys grouped by. */
  readonly fields: readonly string[];
  /** The unconfirmed filter operators CarrierX is known to accept (CARRIERX_FILTER_OPERATORS). */
  readonly pushDown: ReadonlySet<string>;
}

function refuse(message: string): ServiceError {
  return new ServiceError('BAD_USER_INPUT', message);
}

/**
 * Validates the arguments: `filter.dateStart` must bound the scan at both ends (gt or ge, and lt), the zone must
 * be an IANA name, `limit` from 1 to 1000. `measures` are the API fields the selection's measures need.
 * Everything refused is BAD_USER_INPUT and calls nothing.
 */
export function planStats(
  args: StatsArguments,
  measures: readonly string[],
  pushDown: ReadonlySet<string> = new Set(),
): StatsPlan {
  const dateStart = (args.filter.dateStart ?? {}) as Readonly<Record<string, Date | null | undefined>>;
  const lower = dateStart.ge ?? dateStart.gt;
  const upper = dateStart.lt ?? dateStart.le;
  if (!lower || !upper || (dateStart.ge && dateStart.gt) || (dateStart.lt && dateStart.le)) {
    throw refuse(
      'callDetailRecordStats needs filter.dateStart bounded at both ends: one of gt or ge, and lt (e.g. { ge: "2026-03-01T00:00:00Z", lt: "2026-04-01T00:00:00Z" }).',
    );
  }
  const inclusive = dateStart.ge !== undefined && dateStart.ge !== null && !dateStart.lt;
  if (lower.getTime() > upper.getTime() || (lower.getTime() === upper.getTime() && !inclusive)) {
    throw refuse('filter.dateStart is empty: its lower bound must come before its upper bound.');
  }
  // Refuses what no list call could carry (a value, an `in` needing too many calls) before any call.
  buildFilters(args.filter, pushDown);
  const limit = args.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_STATS_GROUPS) {
    throw refuse(`limit is ${limit}: a statistic returns from 1 to ${MAX_STATS_GROUPS} groups.`);
  }
  const groupBy = [...new Set(args.groupBy ?? [])];
  const bucket = args.bucket ?? undefined;
  const timeZone = canonicalTimeZone(args.timeZone ?? 'UTC');
  const fields = new Set(['dr_sid', ...measures, ...groupBy.map((d) => STATS_DIMENSIONS[d])]);
  if (bucket) fields.add('date_start');
  return {
    filter: args.filter,
    from: { at: lower, operator: dateStart.ge ? 'ge' : 'gt' },
    until: { at: upper, operator: dateStart.lt ? 'lt' : 'le' },
    groupBy,
    bucket,
    timeZone,
    limit,
    fields: [...fields].sort(),
    pushDown,
  };
}

/** What a scan may take: records in all, and pages in flight at once. */
export interface ScanLimits {
  readonly maxRecords: number;
  readonly parallel: number;
}

/** Ties a cached statistic to everything its answer depends on (the credential is the cache's part). */
function summaryKey(plan: StatsPlan, maxRecords: number): string {
  const canonical = JSON.stringify([
    buildFilters(plan.filter, plan.pushDown),
    plan.groupBy,
    plan.bucket ?? null,
    plan.timeZone,
    plan.limit,
    plan.fields,
    maxRecords,
  ]);
  return `stats1:${createHash('sha256').update(canonical).digest('base64url')}`;
}

/**
 * callDetailRecordStats for a validated plan: one call whichever field asks (an entity's field has already
 * joined its own SID to the plan's filter, src/graphql/schema/cdr-entities.ts). The dateStart range is cut into `parallel` equal slices, each paged by cursor in
 * dateStart order at up to 1000 records a page, so pages are fetched as fast as the request's concurrency
 * allows. Records are counted once by dr_sid. At `maxRecords` records the scan stops and says it is not
 * complete; any failed page fails the whole statistic (never a silently partial sum). The answer is kept in the
 * record cache, per credential, for its TTL.
 */
export function callDetailRecordStats(loader: CdrLoader, plan: StatsPlan): Promise<StatsAnswer> {
  const limits = loader.scanLimits;
  return loader.summary(summaryKey(plan, limits.maxRecords), () => scan(loader, plan, limits));
}

async function scan(loader: CdrLoader, plan: StatsPlan, limits: ScanLimits): Promise<StatsAnswer> {
  const base = plan.filter;
  const from = plan.from.at.getTime();
  const until = plan.until.at.getTime();
  // An `in` or `phone` done here is one list call per value (a branch): each slice is paged once per branch.
  const branches = buildFilters(base, plan.pushDown).length;
  const slices = Math.max(
    1,
    Math.min(Math.ceil(limits.parallel / branches), Math.floor((until - from) / 1000)),
  );
  // Whole seconds between slices: each boundary is a `ge` of one slice and the `lt` of the one before.
  const edges = Array.from({ length: slices + 1 }, (_, i) =>
    i === 0 ? from : i === slices ? until : from + Math.floor(((until - from) * i) / slices / 1000) * 1000,
  );
  // The first slice keeps the lower bound as given, the last the upper one; slices meet at `ge`/`lt`.
  const filters = edges.slice(0, -1).flatMap((start, i) => {
    const dateStart: Record<string, Date> =
      i === 0 ? { [plan.from.operator]: plan.from.at } : { ge: new Date(start) };
    if (i === slices - 1) dateStart[plan.until.operator] = plan.until.at;
    else dateStart.lt = new Date(edges[i + 1] as number);
    return buildFilters({ ...base, dateStart }, plan.pushDown);
  });

  const bucketOf = plan.bucket ? createBucketer(plan.bucket, plan.timeZone) : undefined;
  const keyApis = plan.groupBy.map((d) => STATS_DIMENSIONS[d]);
  const groups = new Map<string, { key: (string | null)[]; start: number; tallies: Tallies }>();
  const total = new Tallies();
  const seen = new Set<string>();
  // Records asked for by pages sent or returned; a page that brings fewer gives the rest back.
  let reserved = 0;
  let capped = false;
  const inFlight = new Set<Promise<unknown>>();
  // Once a page has failed the statistic has failed: the other slices ask for no more pages.
  let failed = false;

  function add(record: CdrRecord): void {
    if (seen.has(record.drSid)) return;
    seen.add(record.drSid);
    for (const api of plan.fields) {
      if (record.invalid?.[api] !== undefined) {
        // A sum without this record would be silently wrong; the record is unreadable, so is the statistic.
        throw new ServiceError('UPSTREAM_BAD_RESPONSE');
      }
    }
    total.add(record);
    const key = keyApis.map((api) => {
      const value = record.values[api];
      return value === undefined || value === null ? null : String(value);
    });
    let start = Number.NaN;
    if (bucketOf) {
      const dateStart = record.values.date_start;
      if (!(dateStart instanceof Date)) throw new ServiceError('UPSTREAM_BAD_RESPONSE');
      const bucket = bucketOf(dateStart.getTime());
      start = bucket.start;
      key.unshift(bucket.label);
    }
    const id = JSON.stringify(key);
    let group = groups.get(id);
    if (!group) {
      group = { key, start, tallies: new Tallies() };
      groups.set(id, group);
    }
    group.tallies.add(record);
  }

  async function chain(filter: string | undefined): Promise<void> {
    let after: string | undefined;
    while (!failed) {
      const size = Math.min(MAX_LIST_LIMIT, limits.maxRecords - reserved);
      if (size <= 0) {
        // Pages in flight may give some of the limit back: only once none is does the scan stop here.
        if (inFlight.size === 0) {
          capped = true;
          return;
        }
        await Promise.race(inFlight).catch(() => {});
        continue;
      }
      reserved += size;
      const request = loader.scan({ limit: size, after, filter, order: 'date_start asc' }, plan.fields);
      inFlight.add(request);
      let page: Awaited<typeof request>;
      try {
        page = await request;
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        inFlight.delete(request);
      }
      reserved -= size - page.records.length;
      for (const record of page.records) add(record);
      const last = page.records[page.records.length - 1];
      if (!page.hasMore || !last) return;
      after = last.drSid;
    }
  }

  await Promise.all(filters.map(chain));

  const ordered = [...groups.values()].sort((a, b) => b.tallies.calls - a.tallies.calls || compareKeys(a, b));
  const others = new Tallies();
  for (const group of ordered.slice(plan.limit)) others.addAll(group.tallies);
  return {
    total: total.measures(),
    groups: ordered.slice(0, plan.limit).map((group) => ({
      key: keyOf(plan, group.key),
      ...group.tallies.measures(),
    })),
    otherGroups: others.measures(),
    scanned: seen.size,
    complete: !capped,
  };
}

/** Keys in order: bucket start first (as an instant), then each grouped value; a null after any value. */
function compareKeys(
  a: { key: readonly (string | null)[]; start: number },
  b: { key: readonly (string | null)[]; start: number },
): number {
  if (a.start !== b.start && !Number.isNaN(a.start)) return a.start - b.start;
  for (let i = 0; i < a.key.length; i++) {
    const x = a.key[i] ?? null;
    const y = b.key[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

const KEY_FIELDS = ['bucket', ...Object.values(STATS_DIMENSIONS).map(toGraphQLName)];

function keyOf(plan: StatsPlan, values: readonly (string | null)[]): StatsGroupKey {
  const key: Record<string, string | null> = Object.fromEntries(KEY_FIELDS.map((name) => [name, null]));
  let i = 0;
  if (plan.bucket) key.bucket = values[i++] ?? null;
  for (const dimension of plan.groupBy) key[toGraphQLName(STATS_DIMENSIONS[dimension])] = values[i++] ?? null;
  return key;
}
