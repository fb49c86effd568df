import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHILD_PARTNER_SID, type RecordedRequest } from '../src/carrierx/simulator/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { expectedOrder } from './helpers/simulator-order.ts';

// `in`, `le` and `phone` on callDetailRecords, against the simulator twice: as CarrierX is documented (only
// eq, like, gt, ge, lt: the service does `in` and `le` itself) and as a CarrierX known to accept `in` and `le`
// (CARRIERX_FILTER_OPERATORS=in,le, the simulator told to accept them). Records are chosen from the simulator's
// data, never by fixed dates.

type Row = Readonly<Record<string, unknown>>;

interface PageData {
  callDetailRecords: {
    totalCount: number | null;
    nodes: { drSid: string }[];
    edges: { cursor: string }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  } | null;
}

const PAGE = /* GraphQL */ `
  query FilteredPage($first: Int, $after: String, $last: Int, $before: String, $filter: CallDetailRecordFilter, $orderBy: CallDetailRecordOrder) {
    callDetailRecords(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes { drSid }
      edges { cursor }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
`;

let here: Harness;
let pushed: Harness;
beforeAll(async () => {
  // A page of CarrierX's largest size (1000 records and its call) within the estimate.
  here = await createHarness({ MAX_OPERATION_COST: '1001' });
  pushed = await createHarness(
    { MAX_OPERATION_COST: '1001', CARRIERX_FILTER_OPERATORS: 'in,le' },
    {},
    { filterOperators: ['in', 'le'] },
  );
});
afterAll(async () => {
  await here?.close();
  await pushed?.close();
});
beforeEach(() => {
  here.simulator.resetLog();
  pushed.simulator.resetLog();
});

const listCalls = (h: Harness): RecordedRequest[] =>
  h.simulator.requests.filter((r) => r.path.endsWith('/calls/call_drs'));

const rows = (h: Harness): Row[] =>
  [...h.simulator.records.values()].filter((row) => row.partner_sid !== CHILD_PARTNER_SID);

async function page(h: Harness, variables: Record<string, unknown>) {
  return h.execute<PageData, Record<string, unknown>>(PAGE, variables);
}

async function pageData(h: Harness, variables: Record<string, unknown>) {
  const response = await page(h, variables);
  expect(response.body.errors).toBeUndefined();
  return (response.body.data as PageData).callDetailRecords as NonNullable<PageData['callDetailRecords']>;
}

/** Every page of a list from its start, `first` at a time: the records and the pages' list calls. */
async function pageThrough(h: Harness, variables: Record<string, unknown>, first: number) {
  const records: string[] = [];
  const callsPerPage: number[] = [];
  const totals: (number | null)[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 500; pages++) {
    h.simulator.resetLog();
    const data = await pageData(h, { ...variables, first, after });
    callsPerPage.push(listCalls(h).length);
    totals.push(data.totalCount);
    records.push(...data.nodes.map((n) => n.drSid));
    expect(data.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(data.edges.at(-1)?.cursor ?? null).toBe(data.pageInfo.endCursor);
    if (!data.pageInfo.hasNextPage) break;
    after = data.pageInfo.endCursor;
  }
  return { records, callsPerPage, totals };
}

/** SIP causes of unanswered calls in the data: "failed calls", 4xx or 6xx. */
function failedCauses(h: Harness): string[] {
  return [...new Set(rows(h).map((row) => String(row.sipcause)))].filter((c) => /^[46]/.test(c)).sort();
}

/** A number the data holds both with and without its leading +, as number_src. */
function numberStoredBothWays(h: Harness): string {
  const spellings = new Set(rows(h).map((row) => String(row.number_src)));
  const digits = [...spellings].find((n) => !n.startsWith('+') && spellings.has(`+${n}`));
  if (!digits) throw new Error('the simulator data holds no number_src in both spellings');
  return digits;
}

describe('`in` on a filter field', () => {
  it('lists failed calls (sipcause in 4xx and 6xx causes) in one list, paged to the end with no record missed or doubled, one CarrierX call per cause', async () => {
    const causes = failedCauses(here);
    expect(causes.length).toBeGreaterThan(1);
    const filter = { direction: 'INBOUND', sipcause: { in: causes } };
    const want = expectedOrder(
      here,
      (row) => row.direction === 'inbound' && causes.includes(String(row.sipcause)),
    );
    expect(want.length).toBeGreaterThan(30);

    const { records, callsPerPage, totals } = await pageThrough(here, { filter }, 7);
    expect(records).toEqual(want);
    expect(new Set(records).size).toBe(records.length);
    expect(totals[0]).toBe(want.length);
    expect(totals.slice(1).every((t) => t === null)).toBe(true);
    // A cause whose records are all listed is not asked again.
    expect(callsPerPage[0]).toBe(causes.length);
    expect(callsPerPage.every((n) => n >= 1 && n <= causes.length)).toBe(true);

    here.simulator.resetLog();
    await pageData(here, { first: 7, filter });
    expect(
      listCalls(here)
        .map((r) => r.query.filter)
        .sort(),
    ).toEqual(causes.map((c) => `direction eq "inbound" and sipcause eq "${c}"`).sort());
    expect(listCalls(here).every((r) => r.query.limit === '7' && r.query.order === 'date_start desc')).toBe(
      true,
    );
  });

  it('merges in the list order with dr_sid breaking ties, as CarrierX orders, when many records share the order value', async () => {
    const causes = failedCauses(here);
    // Unanswered calls all cost "0": the order is decided by dr_sid across the calls being merged.
    const orderBy = { field: 'PRICE', direction: 'ASC' };
    const want = expectedOrder(here, (row) => causes.includes(String(row.sipcause)), 'price', false);
    const { records } = await pageThrough(here, { filter: { sipcause: { in: causes } }, orderBy }, 50);
    expect(records).toEqual(want);
  });

  it('lists an `in` on two fields as one call per combination of their values', async () => {
    const causes = failedCauses(here).slice(0, 2);
    const filter = { sipcause: { in: causes }, direction: 'OUTBOUND', stirAttest: { in: ['A', 'B', 'C'] } };
    const want = expectedOrder(
      here,
      (row) =>
        row.direction === 'outbound' &&
        causes.includes(String(row.sipcause)) &&
        ['A', 'B', 'C'].includes(String(row.stir_attest)),
    );
    expect(want.length).toBeGreaterThan(0);
    // Six calls of 150 records each: within MAX_RECORDS_PER_OPERATION (1000) together.
    expect(want.length).toBeLessThanOrEqual(150);
    const { records, callsPerPage } = await pageThrough(here, { filter }, 150);
    expect(records).toEqual(want);
    expect(callsPerPage).toEqual([6]);
  });

  it('lists an `in` of secure IDs (two endpoints) in date order, newest first', async () => {
    const endpoints = [...new Set(rows(here).map((row) => String(row.endpoint_sid_src)))].slice(0, 2);
    const want = expectedOrder(here, (row) => endpoints.includes(String(row.endpoint_sid_src)));
    expect(want.length).toBeGreaterThan(20);
    const { records, callsPerPage } = await pageThrough(
      here,
      { filter: { endpointSidSrc: { in: endpoints } } },
      20,
    );
    expect(records).toEqual(want);
    expect(callsPerPage[0]).toBe(2);
  });

  it('sends `in` to CarrierX as one condition when CARRIERX_FILTER_OPERATORS names it, with the same records', async () => {
    const causes = failedCauses(pushed);
    const filter = { direction: 'INBOUND', sipcause: { in: causes } };
    const want = expectedOrder(
      pushed,
      (row) => row.direction === 'inbound' && causes.includes(String(row.sipcause)),
    );
    const { records, callsPerPage, totals } = await pageThrough(pushed, { filter }, 7);
    expect(records).toEqual(want);
    expect(totals[0]).toBe(want.length);
    expect(callsPerPage.every((n) => n === 1)).toBe(true);
    pushed.simulator.resetLog();
    await pageData(pushed, { first: 7, filter });
    expect(listCalls(pushed).map((r) => r.query.filter)).toEqual([
      `direction eq "inbound" and sipcause in (${causes.map((c) => `"${c}"`).join(',')})`,
    ]);
  });

  it('refuses more than 10 values, or more than 10 list calls across fields, with BAD_USER_INPUT and no call', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => String(400 + i));
    const tooMany = await page(here, { filter: { sipcause: { in: eleven } } });
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooMany.body.errors?.[0]?.message).toBe('filter.sipcause.in holds 11 values; give from 1 to 10.');
    const product = await page(here, {
      filter: { sipcause: { in: ['480', '486', '487', '603'] }, stirAttest: { in: ['A', 'B', 'C'] } },
    });
    expect(product.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(product.body.errors?.[0]?.message).toMatch(
      /^filter needs 12 list calls to CarrierX .* at most 10\./,
    );
    const empty = await page(here, { filter: { sipcause: { in: [] } } });
    expect(empty.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const quotes = await page(here, { filter: { sipcause: { in: ['486', `'"`] } } });
    expect(quotes.body.errors?.[0]?.message).toBe(
      `filter.sipcause.in[1] holds both ' and ", which no CarrierX filter value can.`,
    );
    expect(listCalls(here)).toHaveLength(0);
  });

  it('counts every list call of the page against MAX_OPERATION_COST, refusing the page whole without calling CarrierX', async () => {
    const response = await page(here, { first: 600, filter: { sipcause: { in: ['486', '603'] } } });
    expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'TOO_MANY_RECORDS', limit: 1001 });
    expect(response.body.errors?.[0]?.message).toMatch(
      /^callDetailRecords\(first: \$first = 600, once for each of the 2 list calls of its filter's in or phone\) asks for a page of 1200 records \(fetched whether or not they are selected\); one request may fetch at most 1001 \(MAX_OPERATION_COST\)\./,
    );
    expect(listCalls(here)).toHaveLength(0);
  });
});

describe('cursors of a list merged from several calls', () => {
  it('refuses a cursor of another filter, a plain cursor, a tampered cursor, and last or before, with BAD_USER_INPUT and no call', async () => {
    const [a, b, c] = failedCauses(here) as [string, string, string];
    const filter = { sipcause: { in: [a, b] } };
    const first = await pageData(here, { first: 3, filter });
    const merged = first.pageInfo.endCursor as string;
    const plain = (await pageData(here, { first: 3 })).pageInfo.endCursor as string;
    here.simulator.resetLog();

    const refusal = async (variables: Record<string, unknown>) => {
      const response = await page(here, variables);
      expect(response.body.data?.callDetailRecords).toBeNull();
      expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      return response.body.errors?.[0]?.message;
    };
    const otherList =
      'after: $after is a cursor of a list with another filter or order; page it with that one.';
    expect(await refusal({ first: 3, after: merged, filter: { sipcause: { in: [a, c] } } })).toBe(otherList);
    expect(
      await refusal({ first: 3, after: merged, filter, orderBy: { field: 'PRICE', direction: 'ASC' } }),
    ).toBe(otherList);
    expect(await refusal({ first: 3, after: plain, filter })).toBe(otherList);
    expect(await refusal({ first: 3, after: merged })).toBe(otherList);

    const text = Buffer.from(merged, 'base64url').toString('latin1');
    const tampered = [
      `${text}.s`, // another number of positions
      text.replace(/:[^:]*$/, ':zz.s'),
      `${text}${'0'.repeat(700)}`,
    ].map((t) => Buffer.from(t).toString('base64url'));
    for (const after of tampered) {
      expect(await refusal({ first: 3, after, filter })).toBe(
        'after: $after is not a cursor of callDetailRecords.',
      );
    }
    for (const variables of [
      { last: 3, filter },
      { last: 3, before: merged, filter },
    ]) {
      expect(await refusal(variables)).toMatch(
        /^last and before cannot page a list whose in or phone filter is done here/,
      );
    }
    expect(listCalls(here)).toHaveLength(0);
  });
});

describe('`phone` on number fields', () => {
  it('matches a number stored with and without its leading +, written either way', async () => {
    const digits = numberStoredBothWays(here);
    const want = expectedOrder(here, (row) => row.number_src === digits || row.number_src === `+${digits}`);
    expect(want.length).toBeLessThanOrEqual(400);
    for (const phone of [digits, `+${digits}`]) {
      here.simulator.resetLog();
      const data = await pageData(here, { first: 400, filter: { numberSrc: { phone } } });
      expect(data.nodes.map((n) => n.drSid)).toEqual(want);
      expect(data.totalCount).toBe(want.length);
      expect(
        listCalls(here)
          .map((r) => r.query.filter)
          .sort(),
      ).toEqual([`number_src eq "${digits}"`, `number_src eq "+${digits}"`].sort());
    }
    // `eq` finds one spelling only: what `phone` is for.
    const eq = await pageData(here, { first: 1000, filter: { numberSrc: { eq: digits } } });
    expect(eq.nodes.length).toBeLessThan(want.length);
  });

  it('sends `phone` as one `in` of both spellings when CARRIERX_FILTER_OPERATORS names in', async () => {
    const digits = numberStoredBothWays(pushed);
    const want = expectedOrder(pushed, (row) => row.number_src === digits || row.number_src === `+${digits}`);
    const data = await pageData(pushed, { first: 1000, filter: { numberSrc: { phone: `+${digits}` } } });
    expect(data.nodes.map((n) => n.drSid)).toEqual(want);
    expect(listCalls(pushed).map((r) => r.query.filter)).toEqual([
      `number_src in ("+${digits}","${digits}")`,
    ]);
  });

  it('refuses a phone that is not digits with an optional leading +, with BAD_USER_INPUT and no call', async () => {
    for (const phone of ['+1 516 206 5451', '1516-206-5451', '++15162065451', '%1516%', '']) {
      const response = await page(here, { filter: { numberDst: { phone } } });
      expect(response.body.errors?.[0]?.extensions?.code, phone).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.message, phone).toBe(
        'filter.numberDst.phone must be a phone number: digits with an optional leading +, e.g. "+15162065451".',
      );
    }
    expect(listCalls(here)).toHaveLength(0);
  });
});

describe('`le` on date fields', () => {
  it('includes a record at the instant and excludes it a millisecond before, sent as lt the next millisecond or as le', async () => {
    for (const h of [here, pushed]) {
      // A record from the middle of the data, so that records lie on both sides of its instant.
      const sorted = rows(h).sort((x, y) => String(x.date_start).localeCompare(String(y.date_start)));
      const record = sorted[Math.floor(sorted.length / 2)] as Row;
      const at = String(record.date_start);
      const before = new Date(Date.parse(at) - 1).toISOString();
      const next = new Date(Date.parse(at) + 1).toISOString();

      h.simulator.resetLog();
      const atEdge = await pageData(h, { first: 1000, filter: { dateStart: { le: at } } });
      const want = expectedOrder(h, (row) => String(row.date_start) <= at);
      expect(atEdge.nodes.map((n) => n.drSid)).toEqual(want.slice(0, 1000));
      expect(atEdge.totalCount).toBe(want.length);
      expect(atEdge.nodes.map((n) => n.drSid)).toContain(record.dr_sid);
      expect(listCalls(h).map((r) => r.query.filter)).toEqual([
        h === pushed ? `date_start le "${at}"` : `date_start lt "${next}"`,
      ]);

      const justBefore = await pageData(h, { first: 1000, filter: { dateStart: { le: before } } });
      expect(justBefore.nodes.map((n) => n.drSid)).not.toContain(record.dr_sid);
      expect(justBefore.totalCount).toBe(expectedOrder(h, (row) => String(row.date_start) < at).length);
    }
  });
});

describe('the simulator and the unconfirmed operators', () => {
  it('answers 400 to `in` and `le` unless told to accept them, as a CarrierX without them would', async () => {
    const ask = (h: Harness, filter: string) =>
      fetch(`${h.baseUrl}/calls/call_drs?limit=1&filter=${encodeURIComponent(filter)}`, {
        headers: { authorization: 'Bearer carrierx-demo-token' },
      }).then(async (response) => ({ status: response.status, body: await response.text() }));
    for (const filter of ['sipcause in ("486","603")', 'date_start le "2025-01-01T00:00:00.000Z"']) {
      const refused = await ask(here, filter);
      expect(refused.status, filter).toBe(400);
      expect(refused.body, filter).toMatch(/unsupported operator/);
      expect((await ask(pushed, filter)).status, filter).toBe(200);
    }
    expect((await ask(pushed, 'sipcause in ("486" "603")')).status).toBe(400);
  });
});
