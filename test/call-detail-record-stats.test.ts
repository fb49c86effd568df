import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DESCENDANT_TOKEN } from '../src/carrierx/simulator/index.ts';
import { UNAVAILABLE } from '../src/errors.ts';
import { createRedisStore } from '../src/records/redis-store.ts';
import { DecimalSum } from '../src/records/stats.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';

type Row = Readonly<Record<string, unknown>>;

interface Measures {
  calls: number;
  answered: number;
  durationSeconds: string;
  billedSeconds: string;
  cost: string;
}
interface Stats {
  total: Measures;
  groups: (Measures & { key: Record<string, string | null> })[];
  otherGroups: Measures;
  scanned: number;
  complete: boolean;
}

const MEASURES = 'calls answered durationSeconds billedSeconds cost';
const KEY =
  'bucket direction sipcause stirAttest partnerSid trunkGroupSidSrc trunkGroupSidDst endpointSidSrc endpointSidDst numberSrc numberDst';
const STATS = `
  query Stats($filter: CallDetailRecordFilter!, $groupBy: [CallDetailRecordDimension!], $bucket: CallDetailRecordTimeBucket, $timeZone: String, $limit: Int) {
    callDetailRecordStats(filter: $filter, groupBy: $groupBy, bucket: $bucket, timeZone: $timeZone, limit: $limit) {
      total { ${MEASURES} }
      groups { key { ${KEY} } ${MEASURES} }
      otherGroups { ${MEASURES} }
      scanned
      complete
    }
  }
`;

/** The dimensions with the record field each groups by and the key field it fills. */
const DIMENSIONS: Record<string, [api: string, key: string]> = {
  DIRECTION: ['direction', 'direction'],
  SIPCAUSE: ['sipcause', 'sipcause'],
  STIR_ATTEST: ['stir_attest', 'stirAttest'],
  PARTNER: ['partner_sid', 'partnerSid'],
  TRUNK_GROUP_SRC: ['trunk_group_sid_src', 'trunkGroupSidSrc'],
  TRUNK_GROUP_DST: ['trunk_group_sid_dst', 'trunkGroupSidDst'],
  ENDPOINT_SRC: ['endpoint_sid_src', 'endpointSidSrc'],
  ENDPOINT_DST: ['endpoint_sid_dst', 'endpointSidDst'],
  NUMBER_SRC: ['number_src', 'numberSrc'],
  NUMBER_DST: ['number_dst', 'numberDst'],
};

/**
 * An exact sum written apart from the service's: every value scaled to nanounits (the simulator writes at most
 * six decimals), summed as BigInt, printed back.
 */
function exactSum(values: readonly unknown[]): string {
  let nanos = 0n;
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const [whole = '0', fraction = ''] = value.split('.');
    nanos += BigInt(whole) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  }
  const text = `${nanos / 1_000_000_000n}.${(nanos % 1_000_000_000n).toString().padStart(9, '0')}`;
  return text.replace(/\.?0+$/, '');
}

function measuresOf(rows: readonly Row[]): Measures {
  return {
    calls: rows.length,
    answered: rows.filter((row) => row.date_talk !== null).length,
    durationSeconds: exactSum(rows.map((row) => row.duration)),
    billedSeconds: exactSum(rows.map((row) => row.duration_billing)),
    cost: exactSum(rows.map((row) => row.price)),
  };
}

/** The table the service must answer for one dimension: rows grouped by its value, by calls then key. */
function expectedTable(rows: readonly Row[], api: string, key: string) {
  const groups = new Map<string | null, Row[]>();
  for (const row of rows) {
    const value = (row[api] as string | null) ?? null;
    groups.set(value, [...(groups.get(value) ?? []), row]);
  }
  return [...groups.entries()]
    .sort(
      ([a, x], [b, y]) =>
        y.length - x.length || (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1),
    )
    .map(([value, members]) => ({ value, key, ...measuresOf(members) }));
}

/** The zone's wall clock at `ms`, e.g. "2025-03-09 01:59", read through toLocaleString, not the service's code. */
function wall(ms: number, timeZone: string): string {
  return new Date(ms).toLocaleString('sv-SE', { timeZone, hourCycle: 'h23' }).slice(0, 16);
}

function listRequests(h: Harness) {
  return h.simulator.requests.filter((r) => r.path.endsWith('/calls/call_drs'));
}

/** The statistic of a response that must have one. */
function answerOf(response: { body: { data?: { callDetailRecordStats: Stats | null } | null } }): Stats {
  const answer = response.body.data?.callDetailRecordStats;
  if (!answer) throw new Error('no callDetailRecordStats in the response');
  return answer;
}

let h: Harness;
/** Every record the descendant token may read, and the dateStart range that holds them all. */
let rows: Row[];
let range: { ge: string; lt: string };

beforeAll(async () => {
  h = await createHarness();
  rows = [...h.simulator.records.values()];
  const starts = rows.map((row) => Date.parse(row.date_start as string));
  range = {
    ge: new Date(Math.min(...starts)).toISOString(),
    lt: new Date(Math.max(...starts) + 1).toISOString(),
  };
});
afterAll(() => h.close());
beforeEach(() => {
  h.simulator.faults.clear();
  h.simulator.resetLog();
});

async function stats(variables: Record<string, unknown>, token = DESCENDANT_TOKEN) {
  return h.execute<{ callDetailRecordStats: Stats | null }, Record<string, unknown>>(STATS, variables, {
    token,
  });
}

describe('callDetailRecordStats', () => {
  it('answers the hand-computed table for every dimension over the simulator records', async () => {
    for (const [dimension, [api, key]] of Object.entries(DIMENSIONS)) {
      const response = await stats({ filter: { dateStart: range }, groupBy: [dimension], limit: 1000 });
      expect(response.body.errors, dimension).toBeUndefined();
      const answer = answerOf(response);
      expect(answer.total).toEqual(measuresOf(rows));
      expect(answer.scanned).toBe(rows.length);
      expect(answer.complete).toBe(true);
      const table = expectedTable(rows, api, key);
      expect(
        answer.groups.map((group) => ({
          value:
            group.key[key] === null
              ? null
              : dimension === 'DIRECTION'
                ? group.key[key]?.toLowerCase()
                : group.key[key],
          key,
          calls: group.calls,
          answered: group.answered,
          durationSeconds: group.durationSeconds,
          billedSeconds: group.billedSeconds,
          cost: group.cost,
        })),
        dimension,
      ).toEqual(table);
      // Only the grouped-by key is set.
      for (const group of answer.groups) {
        for (const [name, value] of Object.entries(group.key)) if (name !== key) expect(value).toBeNull();
      }
    }
  });

  it('sums prices exactly where adding them as floats goes wrong', async () => {
    const response = await stats({ filter: { dateStart: range } });
    const cost = response.body.data?.callDetailRecordStats?.total.cost;
    const floatSum = rows.reduce((sum, row) => sum + Number(row.price ?? 0), 0);
    // The premise: a float sum of these prices is not the exact one.
    expect(String(floatSum)).not.toBe(exactSum(rows.map((row) => row.price)));
    expect(cost).toBe(exactSum(rows.map((row) => row.price)));
    const sum = new DecimalSum();
    for (const text of ['0.1', '0.2', '9007199254740993', '-0.30', '0.000001']) sum.add(text);
    expect(sum.toString()).toBe('9007199254740993.000001');
  });

  it('keeps at most limit groups, in descending calls, and sums the rest in otherGroups', async () => {
    const response = await stats({ filter: { dateStart: range }, groupBy: ['NUMBER_SRC'], limit: 3 });
    const answer = answerOf(response);
    const table = expectedTable(rows, 'number_src', 'numberSrc');
    expect(answer.groups.map((group) => [group.key.numberSrc, group.calls])).toEqual(
      table.slice(0, 3).map((group) => [group.value, group.calls]),
    );
    const rest = new Set(table.slice(3).map((group) => group.value));
    expect(answer.otherGroups).toEqual(measuresOf(rows.filter((row) => rest.has(row.number_src as string))));
  });

  it('buckets days and hours at local midnight in a time zone across a daylight-saving change', async () => {
    // A zone whose offset changes inside the simulator's range (its dates may move: derived, not written here).
    const zones = ['America/New_York', 'Europe/London', 'Australia/Sydney', 'America/Santiago'];
    const from = Date.parse(range.ge);
    const until = Date.parse(range.lt);
    let found: { zone: string; day: number } | undefined;
    for (const zone of zones) {
      for (
        let day = Math.ceil(from / 3_600_000) * 3_600_000 + 86_400_000;
        day < until - 2 * 86_400_000 && !found;
        day += 3_600_000
      ) {
        if (wall(day, zone).slice(11) !== '00:00') continue;
        const next = [23, 25]
          .map((hours) => day + hours * 3_600_000)
          .find((t) => wall(t, zone).slice(11) === '00:00');
        const calls = (start: number, end: number) =>
          rows.some((row) => {
            const t = Date.parse(row.date_start as string);
            return t >= start && t < end;
          });
        // The changed day and the one after it both have calls, so both buckets are in the answer.
        if (
          next !== undefined &&
          wall(next, zone).slice(0, 10) !== wall(day, zone).slice(0, 10) &&
          calls(day, next) &&
          calls(next, next + 86_400_000)
        )
          found = { zone, day };
      }
      if (found) break;
    }
    expect(found, 'a daylight-saving change inside the records, with calls').toBeDefined();
    const { zone, day } = found as { zone: string; day: number };
    // Three local days: the one before the change, the changed one (23 or 25 hours), the one after.
    const ge = new Date(day - 86_400_000 - 3_600_000 * 2).toISOString();
    const lt = new Date(day + 2 * 86_400_000 + 3_600_000 * 2).toISOString();
    const inRange = rows.filter((row) => {
      const t = Date.parse(row.date_start as string);
      return t >= Date.parse(ge) && t < Date.parse(lt);
    });
    const response = await stats({
      filter: { dateStart: { ge, lt } },
      bucket: 'DAY',
      timeZone: zone,
      limit: 1000,
    });
    expect(response.body.errors).toBeUndefined();
    const groups = answerOf(response).groups;
    const byDay = new Map<string, Row[]>();
    for (const row of inRange) {
      const date = wall(Date.parse(row.date_start as string), zone).slice(0, 10);
      byDay.set(date, [...(byDay.get(date) ?? []), row]);
    }
    const buckets = groups
      .map((group) => group.key.bucket as string)
      .sort((a, b) => Date.parse(a) - Date.parse(b));
    expect(buckets.map((bucket) => wall(Date.parse(bucket), zone))).toEqual(
      [...byDay.keys()].sort().map((date) => `${date} 00:00`),
    );
    for (const bucket of buckets) {
      // Written with the zone's offset at that midnight: the local time as text, then the offset.
      const local = wall(Date.parse(bucket), zone).replace(' ', 'T');
      expect(bucket.startsWith(`${local}:00.000`), bucket).toBe(true);
      expect(bucket).toMatch(/[+-]\d{2}:\d{2}$/);
    }
    for (const group of groups) {
      const date = wall(Date.parse(group.key.bucket as string), zone).slice(0, 10);
      expect(group).toMatchObject(measuresOf(byDay.get(date) ?? []));
    }
    const changed = buckets.find((bucket) => Date.parse(bucket) === day);
    const after = buckets.find((bucket) => Date.parse(bucket) > day);
    expect(changed, 'the changed day has calls').toBeDefined();
    expect([23, 25]).toContain((Date.parse(after as string) - day) / 3_600_000);
    expect((changed as string).slice(-6)).not.toBe((after as string).slice(-6));

    const hours = await stats({
      filter: { dateStart: { ge, lt } },
      bucket: 'HOUR',
      timeZone: zone,
      limit: 1000,
    });
    const hourGroups = answerOf(hours).groups;
    expect(hourGroups.reduce((sum, group) => sum + group.calls, 0)).toBe(inRange.length);
    for (const group of hourGroups) {
      const start = Date.parse(group.key.bucket as string);
      expect(wall(start, zone).slice(14)).toBe('00');
      const members = inRange.filter((row) => {
        const t = Date.parse(row.date_start as string);
        return t >= start && t < start + 3_600_000;
      });
      expect(group.calls).toBe(members.length);
    }
  });

  it('counts a call that starts at the lower bound with ge and not with gt', async () => {
    const at = rows[Math.floor(rows.length / 2)]?.date_start as string;
    const same = rows.filter((row) => row.date_start === at).length;
    const later = rows.filter((row) => Date.parse(row.date_start as string) > Date.parse(at)).length;
    const ge = answerOf(await stats({ filter: { dateStart: { ge: at, lt: range.lt } } }));
    const gt = answerOf(await stats({ filter: { dateStart: { gt: at, lt: range.lt } } }));
    expect(ge.total.calls).toBe(later + same);
    expect(gt.total.calls).toBe(later);
  });

  it('sums the calls of an in filter once each, CarrierX asked once per value', async () => {
    const causes = ['480', '486', '487'];
    const response = await stats({
      filter: { dateStart: range, sipcause: { in: causes } },
      groupBy: ['SIPCAUSE'],
    });
    expect(response.body.errors).toBeUndefined();
    const answer = answerOf(response);
    const matching = rows.filter((row) => causes.includes(row.sipcause as string));
    expect(answer.total).toEqual(measuresOf(matching));
    expect(answer.groups.map((group) => group.key.sipcause).sort()).toEqual(
      [...new Set(matching.map((row) => row.sipcause as string))].sort(),
    );
    const filters = listRequests(h).map((r) => r.query.filter ?? '');
    for (const cause of causes) expect(filters.some((f) => f.includes(`sipcause eq "${cause}"`))).toBe(true);
  });

  it('refuses an unknown time zone and a range without both ends, naming them, without calling CarrierX', async () => {
    const zone = await stats({ filter: { dateStart: range }, timeZone: 'Mars/Olympus_Mons' });
    expect(zone.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(zone.body.errors?.[0]?.message).toContain('Mars/Olympus_Mons');
    const open = await stats({ filter: { dateStart: { ge: range.ge } } });
    expect(open.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(open.body.errors?.[0]?.message).toContain('dateStart');
    expect(listRequests(h)).toHaveLength(0);
  });

  it('asks CarrierX only for the fields the selection and grouping need', async () => {
    const response = await h.execute(
      `query ($filter: CallDetailRecordFilter!) {
        callDetailRecordStats(filter: $filter, groupBy: [DIRECTION]) { groups { key { direction } cost } }
      }`,
      { filter: { dateStart: range } },
      { token: DESCENDANT_TOKEN },
    );
    expect(response.body.errors).toBeUndefined();
    const fields = listRequests(h).map((r) => (r.query.include_fields ?? '').split(',').sort());
    expect(fields.length).toBeGreaterThan(0);
    for (const list of fields) expect(list).toEqual(['direction', 'dr_sid', 'price']);
  });

  it('fails at the request deadline when CarrierX pages are slower than it, never with a partial sum', async () => {
    // The harness's REQUEST_DEADLINE_MS is 2000; every page takes 10 s.
    h.simulator.faults.add({ latencyMs: 10_000 });
    const started = performance.now();
    const response = await stats({ filter: { dateStart: range } });
    const elapsed = performance.now() - started;
    expect(response.body.data?.callDetailRecordStats).toBeNull();
    expect(response.body.errors?.[0]?.message).toBe(UNAVAILABLE.DEADLINE);
    // The deadline plus a generous margin, far below one page's 10 s.
    expect(elapsed).toBeLessThan(2_000 + 5_000);
  });

  it('fails with CarrierX error when a page fails mid-scan, never a partial sum', async () => {
    // The first page passes, every later one (retries included) fails.
    h.simulator.faults.add({ times: 1 });
    h.simulator.faults.add({ fault: { kind: 'status', status: 503 } });
    const response = await stats({ filter: { dateStart: range } });
    expect(response.body.data?.callDetailRecordStats).toBeNull();
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(listRequests(h).length).toBeGreaterThan(1);
  });
});

describe('callDetailRecordStats with its own limits and cache', () => {
  let limited: Harness;
  beforeAll(async () => {
    limited = await createHarness({ MAX_STATS_RECORDS: '500', CACHE_TTL_MS: '60000' });
  });
  afterAll(() => limited.close());

  it('stops at MAX_STATS_RECORDS and says the answer is not complete', async () => {
    const all = [...limited.simulator.records.values()].map((row) => Date.parse(row.date_start as string));
    const filter = {
      dateStart: {
        ge: new Date(Math.min(...all)).toISOString(),
        lt: new Date(Math.max(...all) + 1).toISOString(),
      },
    };
    const response = await limited.execute<{ callDetailRecordStats: Stats }, Record<string, unknown>>(
      STATS,
      { filter, timeZone: 'UTC' },
      { token: DESCENDANT_TOKEN },
    );
    expect(response.body.errors).toBeUndefined();
    const answer = answerOf(response);
    expect(answer).toMatchObject({ scanned: 500, complete: false });
    expect(answer.total.calls).toBe(500);
  });

  it('answers a repeated dashboard from the cache without calling CarrierX', async () => {
    const all = [...limited.simulator.records.values()].map((row) => Date.parse(row.date_start as string));
    const middle = (Math.min(...all) + Math.max(...all)) / 2;
    const filter = {
      dateStart: {
        ge: new Date(middle - 86_400_000).toISOString(),
        lt: new Date(middle + 86_400_000).toISOString(),
      },
    };
    const ask = (groupBy: string[]) =>
      limited.execute<{ callDetailRecordStats: Stats }, Record<string, unknown>>(
        STATS,
        { filter, groupBy },
        {
          token: DESCENDANT_TOKEN,
        },
      );
    limited.simulator.resetLog();
    const first = await ask(['DIRECTION']);
    const calls = limited.simulator.stats.requests;
    expect(calls).toBeGreaterThan(0);
    const second = await ask(['DIRECTION']);
    expect(second.body).toEqual(first.body);
    expect(limited.simulator.stats.requests).toBe(calls);
    // Another grouping is another statistic.
    await ask(['SIPCAUSE']);
    expect(limited.simulator.stats.requests).toBeGreaterThan(calls);
  });
});

describe('callDetailRecordStats kept in Redis', () => {
  let redis: RedisServer;
  let store: ReturnType<typeof createRedisStore>;
  let shared: Harness;
  beforeAll(async () => {
    redis = await startRedisServer();
    store = createRedisStore({
      url: redis.url,
      timeoutMs: 2_000,
      keyPrefix: 'stats-test:',
      logger: createLogger({ level: 'silent' }),
    });
    await store.connected;
    shared = await createHarness(
      { CACHE_TTL_MS: '60000', CACHE_KEY_SECRET: 'a-cache-key-secret-of-at-least-32-characters' },
      { cacheStore: store },
    );
  });
  afterAll(async () => {
    await shared?.close();
    await store?.close?.();
    await redis?.stop();
  });

  it('answers a repeated statistic from Redis and computes it again once a record is invalidated', async () => {
    const records = [...shared.simulator.records.values()];
    const starts = records.map((row) => Date.parse(row.date_start as string));
    const filter = {
      dateStart: {
        ge: new Date(Math.min(...starts)).toISOString(),
        lt: new Date(Math.max(...starts) + 1).toISOString(),
      },
    };
    const ask = () =>
      shared.execute<{ callDetailRecordStats: Stats | null }, Record<string, unknown>>(
        STATS,
        { filter, groupBy: ['STIR_ATTEST'], bucket: 'WEEK', timeZone: 'Europe/Berlin' },
        { token: DESCENDANT_TOKEN },
      );
    shared.simulator.resetLog();
    const first = await ask();
    expect(first.body.errors).toBeUndefined();
    const calls = shared.simulator.stats.requests;
    expect(calls).toBeGreaterThan(0);
    const second = await ask();
    expect(second.text).toBe(first.text);
    expect(shared.simulator.stats.requests).toBe(calls);
    // Weeks start on Monday at local midnight, written with Berlin's offset.
    for (const group of answerOf(second).groups) {
      const bucket = group.key.bucket as string;
      expect(
        new Date(Date.parse(bucket)).toLocaleString('en-US', {
          timeZone: 'Europe/Berlin',
          weekday: 'short',
          hour: '2-digit',
          hourCycle: 'h23',
        }),
      ).toBe('Mon, 00');
      expect(bucket).toMatch(/T00:00:00\.000\+0[12]:00$/);
    }
    await store.deleteRecord(String(records[0]?.dr_sid));
    const third = await ask();
    expect(third.text).toBe(first.text);
    expect(shared.simulator.stats.requests).toBeGreaterThan(calls);
  });
});
