import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCarrierXClient } from '../src/carrierx/client.ts';
import { decodeCdrPage } from '../src/carrierx/record.ts';
import {
  CHILD_PARTNER_SID,
  DESCENDANT_TOKEN,
  type RecordedRequest,
  SAMPLE_DR_SID,
} from '../src/carrierx/simulator/index.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { daysBeforeAnchor } from './helpers/simulator-dates.ts';
import { expectedOrder } from './helpers/simulator-order.ts';

type Row = Readonly<Record<string, unknown>>;

interface PageData {
  callDetailRecords: {
    totalCount: number | null;
    nodes?: { drSid: string; [field: string]: unknown }[];
    edges?: { cursor: string; node: { drSid: string; [field: string]: unknown } }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

const PAGE = /* GraphQL */ `
  query Page(
    $first: Int
    $after: String
    $last: Int
    $before: String
    $filter: CallDetailRecordFilter
    $orderBy: CallDetailRecordOrder
  ) {
    callDetailRecords(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      nodes { drSid }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

let h: Harness;
beforeAll(async () => {
  // Pages of up to 1000 records, CarrierX's limit, under both nodes and edges; the limits' defaults have a test
  // of their own below.
  h = await createHarness({ MAX_OPERATION_COST: '2001' });
});
afterAll(() => h.close());
beforeEach(() => {
  h.simulator.resetLog();
  h.simulator.faults.clear();
});

/** The list requests CarrierX received since the last reset. */
const listCalls = (): RecordedRequest[] =>
  h.simulator.requests.filter((r) => r.path.endsWith('/calls/call_drs'));
/** The by-SID requests CarrierX received since the last reset. */
const recordCalls = (): RecordedRequest[] =>
  h.simulator.requests.filter((r) => r.path.includes('/calls/call_drs/'));

function expected(predicate: (row: Row) => boolean, field = 'date_start', descending = true): string[] {
  return expectedOrder(h, predicate, field, descending);
}

async function page(variables: Record<string, unknown>, token?: string) {
  const response = await h.execute<PageData, Record<string, unknown>>(
    PAGE,
    variables,
    token ? { token } : {},
  );
  return response;
}

async function pageData(variables: Record<string, unknown>) {
  const response = await page(variables);
  expect(response.body.errors).toBeUndefined();
  return (response.body.data as PageData).callDetailRecords;
}

const sids = (data: PageData['callDetailRecords']) => (data.nodes ?? []).map((node) => node.drSid);

describe('callDetailRecords', () => {
  it('answers a first page of 20 newest calls with one CarrierX call asking only for the selected fields', async () => {
    const response = await h.execute<PageData, never>(
      '{ callDetailRecords { totalCount nodes { drSid price } pageInfo { hasNextPage hasPreviousPage } } }',
    );
    expect(response.body.errors).toBeUndefined();
    const data = (response.body.data as PageData).callDetailRecords;
    const all = expected(() => true);
    expect(sids(data)).toEqual(all.slice(0, 20));
    expect(data.totalCount).toBe(all.length);
    expect(data.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false });
    const first = data.nodes?.[0] as { drSid: string; price: unknown };
    expect(first.price).toBe(h.simulator.records.get(first.drSid)?.price);
    expect(listCalls().map((r) => r.query)).toEqual([
      { limit: '20', order: 'date_start desc', include_fields: 'dr_sid,price' },
    ]);
    expect(recordCalls()).toHaveLength(0);
  });

  it('sends CarrierX one filter string joining every condition with "and", and returns exactly the matching records', async () => {
    // Two months of the simulator's three, wherever today puts them.
    const from = daysBeforeAnchor(h.simulator, 70);
    const to = daysBeforeAnchor(h.simulator, 10);
    const filter = {
      direction: 'OUTBOUND',
      numberSrc: { like: '+1516%' },
      dateStart: { ge: from, lt: to },
    };
    const data = await pageData({ first: 1000, filter });
    const want = expected(
      (row) =>
        row.direction === 'outbound' &&
        String(row.number_src).startsWith('+1516') &&
        (row.date_start as string) >= from &&
        (row.date_start as string) < to,
    );
    expect(want.length).toBeGreaterThan(0);
    expect(sids(data)).toEqual(want);
    expect(data.totalCount).toBe(want.length);
    expect(listCalls().map((r) => r.query.filter)).toEqual([
      `direction eq "outbound" and number_src like "+1516%" and date_start ge "${from}" and date_start lt "${to}"`,
    ]);
  });

  it("finds yesterday's calls, newest first, with dateStart from 00:00 UTC yesterday to 00:00 UTC today", async () => {
    // The simulator's anchor is 00:00 UTC of the day it started (test/simulator.test.ts checks it).
    const yesterday = daysBeforeAnchor(h.simulator, 1);
    const today = daysBeforeAnchor(h.simulator, 0);
    const response = await h.execute<PageData, Record<string, unknown>>(
      `query ($filter: CallDetailRecordFilter) {
        callDetailRecords(first: 100, filter: $filter) { totalCount nodes { drSid dateStart } }
      }`,
      { filter: { dateStart: { ge: yesterday, lt: today } } },
    );
    expect(response.body.errors).toBeUndefined();
    const data = (response.body.data as PageData).callDetailRecords;
    const want = expected(
      (row) => (row.date_start as string) >= yesterday && (row.date_start as string) < today,
    );
    expect(want.length).toBeGreaterThan(0);
    expect(sids(data)).toEqual(want);
    expect(data.totalCount).toBe(want.length);
    const starts = (data.nodes ?? []).map((node) => node.dateStart as string);
    expect(starts).toEqual([...starts].sort().reverse());
    expect(starts.every((start) => start >= yesterday && start < today)).toBe(true);
  });

  it('filters on every field the filter input offers, as the simulator data says', async () => {
    const rows = [...h.simulator.records.values()].filter((row) => row.partner_sid !== CHILD_PARTNER_SID);
    const some = rows.find(
      (row) => row.trunk_group_sid_src && row.trunk_group_sid_dst && row.stir_attest,
    ) as Row;
    const cases: [Record<string, unknown>, (row: Row) => boolean][] = [
      [{ direction: 'INBOUND' }, (row) => row.direction === 'inbound'],
      [{ numberSrc: { eq: some.number_src } }, (row) => row.number_src === some.number_src],
      [{ numberDst: { like: '%5' } }, (row) => String(row.number_dst).endsWith('5')],
      [{ numberBilling: { eq: some.number_billing } }, (row) => row.number_billing === some.number_billing],
      [{ partnerSid: { eq: some.partner_sid } }, (row) => row.partner_sid === some.partner_sid],
      [
        { trunkGroupSidSrc: { eq: some.trunk_group_sid_src } },
        (row) => row.trunk_group_sid_src === some.trunk_group_sid_src,
      ],
      [
        { trunkGroupSidDst: { eq: some.trunk_group_sid_dst } },
        (row) => row.trunk_group_sid_dst === some.trunk_group_sid_dst,
      ],
      [
        { endpointSidSrc: { eq: some.endpoint_sid_src } },
        (row) => row.endpoint_sid_src === some.endpoint_sid_src,
      ],
      [
        { endpointSidDst: { eq: some.endpoint_sid_dst } },
        (row) => row.endpoint_sid_dst === some.endpoint_sid_dst,
      ],
      [
        { dateStart: { gt: some.date_start } },
        (row) => (row.date_start as string) > (some.date_start as string),
      ],
      [
        { dateInsert: { lt: some.date_insert } },
        (row) => (row.date_insert as string) < (some.date_insert as string),
      ],
      [{ sipcause: { eq: '486' } }, (row) => row.sipcause === '486'],
      [{ stirAttest: { eq: 'A' } }, (row) => row.stir_attest === 'A'],
    ];
    for (const [filter, predicate] of cases) {
      const want = expected(predicate);
      expect(want.length, JSON.stringify(filter)).toBeGreaterThan(0);
      const data = await pageData({ first: 1000, filter });
      expect(sids(data), JSON.stringify(filter)).toEqual(want.slice(0, 1000));
      expect(data.totalCount, JSON.stringify(filter)).toBe(want.length);
    }
  });

  it('orders by each order field in either direction', async () => {
    const orders: [string, string][] = [
      ['DATE_START', 'date_start'],
      ['DATE_INSERT', 'date_insert'],
      ['DATE_STOP', 'date_stop'],
      ['DURATION', 'duration'],
      ['PRICE', 'price'],
    ];
    for (const [field, api] of orders) {
      for (const direction of ['ASC', 'DESC']) {
        h.simulator.resetLog();
        const data = await pageData({ first: 30, orderBy: { field, direction } });
        expect(sids(data), `${field} ${direction}`).toEqual(
          expected(() => true, api, direction === 'DESC').slice(0, 30),
        );
        expect(listCalls()[0]?.query.order).toBe(`${api} ${direction.toLowerCase()}`);
      }
    }
  });

  it('pages forward to the end and back to the start of a filtered set, matching the simulator data', async () => {
    const from = daysBeforeAnchor(h.simulator, 56);
    const filter = { direction: 'INBOUND', dateStart: { ge: from } };
    const want = expected((row) => row.direction === 'inbound' && (row.date_start as string) >= from);
    expect(want.length).toBeGreaterThan(120);

    const forward: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data = await pageData({ first: 50, after, filter });
      pages += 1;
      forward.push(...sids(data));
      expect(data.pageInfo.hasPreviousPage).toBe(after !== null);
      // CarrierX gives its total only when paging without a cursor.
      expect(data.totalCount).toBe(after === null ? want.length : null);
      if (!data.pageInfo.hasNextPage) break;
      after = data.pageInfo.endCursor;
    }
    expect(forward).toEqual(want);
    expect(pages).toBe(Math.ceil(want.length / 50));

    const backward: string[][] = [];
    let before: string | null = null;
    for (;;) {
      const data: PageData['callDetailRecords'] = await pageData(
        before === null ? { last: 50, filter } : { last: 50, before, filter },
      );
      backward.unshift(sids(data));
      expect(data.pageInfo.hasNextPage).toBe(before !== null);
      if (!data.pageInfo.hasPreviousPage) break;
      before = data.pageInfo.startCursor;
    }
    expect(backward.flat()).toEqual(want);
    // The last page, asked for without a cursor, went to CarrierX in the reverse order.
    expect(
      listCalls().find((r) => r.query.before === undefined && r.query.order === 'date_start asc'),
    ).toBeDefined();
  });

  it('answers an empty page with no cursors when nothing matches', async () => {
    const data = await pageData({ filter: { numberSrc: { eq: 'no such number' } } });
    expect(data).toEqual({
      totalCount: 0,
      nodes: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('lists descendant-owned records only for a token with calls.read_descendant', async () => {
    const filter = { partnerSid: { eq: CHILD_PARTNER_SID } };
    expect((await pageData({ filter })).totalCount).toBe(0);
    const response = await page({ filter }, DESCENDANT_TOKEN);
    const data = (response.body.data as PageData).callDetailRecords;
    const descendants = [...h.simulator.records.values()].filter(
      (row) => row.partner_sid === CHILD_PARTNER_SID,
    );
    expect(data.totalCount).toBe(descendants.length);
  });

  it('asks CarrierX for the fields selected under nodes and edges.node, through fragments and derived fields', async () => {
    const response = await h.execute(`
      fragment Times on CallDetailRecord { ringDuration }
      fragment Page on CallDetailRecordConnection { nodes { price } }
      {
        callDetailRecords(first: 2) {
          ...Page
          edges { cursor node { numberSrc ...Times skipped: sipcause @skip(if: true) } }
        }
      }`);
    expect(response.body.errors).toBeUndefined();
    expect(listCalls().map((r) => r.query.include_fields)).toEqual([
      'date_start,date_talk,dr_sid,number_src,price',
    ]);
  });

  it('asks CarrierX for dr_sid alone when only cursors are selected', async () => {
    const response = await h.execute<{ callDetailRecords: { edges: { cursor: string }[] } }, never>(
      '{ callDetailRecords(first: 3) { edges { cursor } } }',
    );
    expect(response.body.data?.callDetailRecords.edges).toHaveLength(3);
    expect(listCalls().map((r) => r.query.include_fields)).toEqual(['dr_sid']);
  });
});

describe('callDetailRecords paging arguments and cursors', () => {
  it('refuses a cursor reused with another filter or order with BAD_USER_INPUT, without calling CarrierX', async () => {
    const inbound = await pageData({ first: 5, filter: { direction: 'INBOUND' } });
    const cursor = inbound.pageInfo.endCursor as string;
    h.simulator.resetLog();
    for (const variables of [
      { first: 5, after: cursor, filter: { direction: 'OUTBOUND' } },
      { first: 5, after: cursor },
      {
        first: 5,
        after: cursor,
        filter: { direction: 'INBOUND' },
        orderBy: { field: 'PRICE', direction: 'ASC' },
      },
      {
        last: 5,
        before: cursor,
        filter: { direction: 'INBOUND' },
        orderBy: { field: 'DATE_START', direction: 'ASC' },
      },
    ]) {
      const response = await page(variables);
      expect(response.body.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.message).toMatch(/another filter or order/);
    }
    expect(listCalls()).toHaveLength(0);
    // With its own filter and order it still pages.
    expect(
      (await pageData({ first: 5, after: cursor, filter: { direction: 'INBOUND' } })).nodes,
    ).toHaveLength(5);
  });

  it('refuses a cursor that is not one of ours, and paging arguments CarrierX cannot follow, with BAD_USER_INPUT', async () => {
    const forged = Buffer.from(`cdr1:${SAMPLE_DR_SID}:AAAAAAAAAAAA`).toString('base64url');
    const cases: Record<string, unknown>[] = [
      { after: 'not a cursor' },
      { after: SAMPLE_DR_SID },
      { after: forged },
      { before: Buffer.from('cdr1:../../etc:AAAAAAAAAAAA').toString('base64url'), last: 2 },
      { first: 2, last: 2 },
      { first: 2, before: forged },
      { last: 2, after: forged },
      { first: 0 },
      { first: -1 },
      { first: 1001 },
      { last: 1001 },
    ];
    for (const variables of cases) {
      const response = await page(variables);
      expect(response.body.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
      expect(response.status).toBe(200);
    }
    expect(listCalls()).toHaveLength(0);
  });

  it('accepts a page of 1000, CarrierX limit, when the record limit allows it', async () => {
    const large = await createHarness({ MAX_OPERATION_COST: '1001' });
    try {
      const response = await large.execute<PageData, never>(
        '{ callDetailRecords(first: 1000) { nodes { drSid } } }',
      );
      expect(response.body.data?.callDetailRecords.nodes).toHaveLength(1000);
    } finally {
      await large.close();
    }
  });
});

describe('callDetailRecords filter values (injection corpus)', () => {
  /** Values CarrierX receives as one quoted value of one condition: no condition added, no operator changed. */
  const sent = [
    'plain',
    'two words',
    'and',
    ' and direction eq inbound',
    '" and direction eq "inbound',
    "' and direction eq 'inbound",
    "x' or partner_sid eq 'y",
    '"" or 1 eq 1',
    '%',
    '100%',
    '%" and number_dst like "%',
    'null',
    "O'Brien",
    'say "hi"',
    '☎️ número 电话 🤙',
    'a'.repeat(256),
    '',
  ];
  /** Values refused with BAD_USER_INPUT, never sent. */
  const refused = [
    `it's "both"`,
    `x' and direction eq "y`,
    'line\nbreak',
    'line\r\nbreak',
    'nul\u0000byte',
    'tab\there',
    'bell\u0007',
    'c1\u0085control',
    'separator\u2028line',
    'paragraph\u2029end',
    'escape\\',
    '\\" and direction eq \\"inbound',
    'a'.repeat(257),
    '☎'.repeat(257),
  ];

  it('sends each value as one quoted value of one condition, with the quote it does not contain', async () => {
    for (const value of sent) {
      for (const operator of ['eq', 'like']) {
        h.simulator.resetLog();
        const response = await page({ filter: { numberSrc: { [operator]: value } } });
        expect(response.body.errors, value).toBeUndefined();
        const quote = value.includes('"') ? "'" : '"';
        expect(
          listCalls().map((r) => r.query.filter),
          value,
        ).toEqual([`number_src ${operator} ${quote}${value}${quote}`]);
        // The simulator parsed it as that one condition: only numbers matching it came back.
        const data = (response.body.data as PageData).callDetailRecords;
        const want = expected((row) =>
          operator === 'eq'
            ? row.number_src === value
            : new RegExp(
                `^${value
                  .split('%')
                  .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
                  .join('.*')}$`,
                's',
              ).test(String(row.number_src)),
        );
        expect(data.totalCount, value).toBe(want.length);
      }
    }
  });

  it('refuses values with both quote kinds, control characters, backslashes or over 256 characters, without calling CarrierX', async () => {
    for (const value of refused) {
      for (const filter of [
        { numberSrc: { eq: value } },
        { sipcause: { like: value } },
        { stirAttest: { eq: value } },
      ]) {
        const response = await page({ filter });
        expect(response.body.errors?.[0]?.extensions?.code, JSON.stringify(value)).toBe('BAD_USER_INPUT');
        expect(response.body.errors?.[0]?.message).not.toContain(value);
      }
    }
    expect(listCalls()).toHaveLength(0);
  });

  it('refuses a filter value holding an unpaired surrogate with BAD_USER_INPUT, calling nothing and logging no error', async () => {
    const before = h.logs.length;
    for (const value of ['+1\udfff', '\ud83d', 'a\udc00b']) {
      const response = await page({ filter: { numberSrc: { like: value } } });
      expect(response.body.errors?.[0]?.extensions?.code, JSON.stringify(value)).toBe('BAD_USER_INPUT');
      expect(response.body.errors?.[0]?.message).toContain('filter.numberSrc.like');
    }
    expect(listCalls()).toHaveLength(0);
    const errors = h.logs.slice(before).filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
  });

  it('refuses a filter too long to send (every value within bounds, the whole over 4 KB encoded) with BAD_USER_INPUT', async () => {
    const euros = '€'.repeat(250);
    const alone = await page({ filter: { numberSrc: { eq: euros } } });
    expect(alone.body.errors).toBeUndefined();
    h.simulator.resetLog();
    const response = await page({
      filter: { numberSrc: { eq: euros }, numberDst: { eq: euros }, sipcause: { like: euros } },
    });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.message).toMatch(
      /filter is too long: \d+ bytes once encoded for CarrierX, at most 4096/,
    );
    expect(listCalls()).toHaveLength(0);
  });

  it('refuses operators the filter input does not offer as GraphQL validation errors', async () => {
    for (const filter of [
      '{ numberSrc: { ne: "1" } }',
      '{ sipcause: { ilike: "4%" } }',
      '{ sipcause: { phone: "486" } }',
      '{ partnerSid: { like: "%" } }',
    ]) {
      const response = await h.execute(`{ callDetailRecords(filter: ${filter}) { totalCount } }`);
      expect(response.body.errors?.[0]?.extensions?.code, filter).toBe('GRAPHQL_VALIDATION_FAILED');
    }
    const notUuid = await page({ filter: { partnerSid: { eq: '" or 1 eq 1' } } });
    expect(notUuid.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(listCalls()).toHaveLength(0);
  });
});

describe('callDetailRecords and the loader, the cache and the limits', () => {
  it('with the cache on, a record of the page asked for by drSid in the same operation costs no further call', async () => {
    const first = expected(() => true)[1] as string;
    const cached = await createHarness({ CACHE_TTL_MS: '60000' });
    try {
      const response = await cached.execute<{ callDetailRecord: { price: string } }, Record<string, unknown>>(
        `query ($drSid: UUID!, $representations: [_Any!]!) {
        callDetailRecords(first: 3) { nodes { drSid price numberSrc } }
        callDetailRecord(drSid: $drSid) { price }
        _entities(representations: $representations) { ... on CallDetailRecord { numberSrc } }
      }`,
        { drSid: first, representations: [{ __typename: 'CallDetailRecord', drSid: first.toUpperCase() }] },
      );
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data?.callDetailRecord.price).toBe(cached.simulator.records.get(first)?.price);
      const { requests } = cached.simulator;
      expect(requests.filter((r) => r.path.endsWith('/calls/call_drs'))).toHaveLength(1);
      expect(requests.filter((r) => r.path.includes('/calls/call_drs/'))).toHaveLength(0);
    } finally {
      await cached.close();
    }
  });

  it('fetches only a record the page did not cover', async () => {
    const first = expected(() => true)[0] as string;
    const response = await h.execute(
      `{ callDetailRecords(first: 3) { nodes { drSid } } callDetailRecord(drSid: "${first}") { cic } }`,
    );
    expect(response.body.errors).toBeUndefined();
    expect(recordCalls().map((r) => r.query.include_fields)).toEqual(['cic,dr_sid']);
  });

  it('primes the cache: a later request for a listed record is answered without CarrierX', async () => {
    const cached = await createHarness({ CACHE_TTL_MS: '60000' });
    try {
      const listed = await cached.execute<PageData, never>(
        '{ callDetailRecords(first: 5) { nodes { drSid price } } }',
      );
      const drSid = listed.body.data?.callDetailRecords.nodes?.[4]?.drSid as string;
      cached.simulator.resetLog();
      const again = await cached.execute<{ callDetailRecord: { price: string } }, never>(
        `{ callDetailRecord(drSid: "${drSid}") { price } }`,
      );
      expect(again.body.data?.callDetailRecord.price).toBe(cached.simulator.records.get(drSid)?.price);
      expect(cached.simulator.requests).toHaveLength(0);
    } finally {
      await cached.close();
    }
  });

  it('refuses a page over MAX_OPERATION_COST whole, before calling CarrierX', async () => {
    const defaults = await createHarness();
    try {
      // One call, and 250 records under nodes: 251.
      const response = await defaults.execute(PAGE, { first: 250 });
      expect(response.body.errors?.[0]?.extensions).toEqual({
        code: 'COST_ESTIMATED_TOO_EXPENSIVE',
        estimated: 251,
        limit: 250,
      });
      expect(defaults.simulator.requests).toHaveLength(0);
    } finally {
      await defaults.close();
    }
  });

  it('holds the records pages fetch to MAX_OPERATION_COST even when the selection shows none of them', async () => {
    const defaults = await createHarness();
    try {
      // Estimated at a call each (no record is selected), but each page still fetches its 100 records.
      const three = await defaults.execute(
        'query ($n: Int) { a: callDetailRecords(first: $n) { totalCount } b: callDetailRecords(first: $n) { totalCount } c: callDetailRecords(first: 100) { totalCount } }',
        { n: 100 },
      );
      expect(three.body.errors?.map((error) => error.extensions?.code)).toEqual(['TOO_MANY_RECORDS']);
      expect(three.body.errors?.[0]?.message).toMatch(/200 of them are already taken/);
      expect(defaults.simulator.requests).toHaveLength(2);
    } finally {
      await defaults.close();
    }
  });

  it('counts a page as `first` records times the selected fields against MAX_FIELDS_PER_REQUEST', async () => {
    const small = await createHarness({ MAX_FIELDS_PER_REQUEST: '100' });
    try {
      const fits = await small.execute('{ callDetailRecords(first: 50) { nodes { drSid price } } }');
      expect(fits.body.errors).toBeUndefined();
      const over = await small.execute(
        '{ callDetailRecords(first: 50) { nodes { drSid price numberSrc } } }',
      );
      expect(over.body.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_FIELDS', limit: 100 });
      expect(small.simulator.requests).toHaveLength(1);
    } finally {
      await small.close();
    }
  });
});

describe('callDetailRecords errors beside other fields', () => {
  /** The page beside one record: the record must resolve whatever happens to the page. */
  const beside = (page: string, variables = '') =>
    `query Dashboard${variables} { callDetailRecords(${page}) { nodes { drSid } } callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid } }`;
  type Dashboard = {
    callDetailRecords: PageData['callDetailRecords'] | null;
    callDetailRecord: { drSid: string } | null;
  };

  it('refuses a page over MAX_OPERATION_COST with the record beside it, naming `first` as written and the setting', async () => {
    const defaults = await createHarness();
    try {
      const literal = await defaults.execute<Dashboard, never>(beside('first: 300'));
      const variable = await defaults.execute<Dashboard, { pageSize: number }>(
        beside('first: $pageSize', '($pageSize: Int)'),
        { pageSize: 300 },
      );
      for (const [response, written] of [
        [literal, 'callDetailRecords(first: 300) costs 301'],
        [variable, 'callDetailRecords(first: $pageSize = 300) costs 301'],
      ] as const) {
        expect(response.body.data).toBeUndefined();
        const [error] = response.body.errors ?? [];
        expect(error?.extensions).toEqual({
          code: 'COST_ESTIMATED_TOO_EXPENSIVE',
          estimated: 303,
          limit: 250,
        });
        expect(error?.message).toContain(written);
        expect(error?.message).toContain('MAX_OPERATION_COST');
      }
      expect(defaults.simulator.requests).toHaveLength(0);
    } finally {
      await defaults.close();
    }
  });

  it('answers the record beside a page with a cursor that is not one of ours, naming `after` and its variable', async () => {
    const response = await h.execute<Dashboard, { after: string }>(
      beside('first: 2, after: $after', '($after: String)'),
      { after: 'not a cursor' },
    );
    expect(response.body.data).toEqual({
      callDetailRecords: null,
      callDetailRecord: { drSid: SAMPLE_DR_SID },
    });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.message).toMatch(/after: \$after/);
    expect(listCalls()).toHaveLength(0);
  });

  it('answers the record beside a page given both `first` and `last`', async () => {
    const response = await h.execute<Dashboard, never>(beside('first: 2, last: 2'));
    expect(response.body.data).toEqual({
      callDetailRecords: null,
      callDetailRecord: { drSid: SAMPLE_DR_SID },
    });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(listCalls()).toHaveLength(0);
  });

  it('names CarrierX page limit, and the variable, for a page over 1000', async () => {
    const response = await h.execute<Dashboard, { n: number }>(beside('last: $n', '($n: Int)'), { n: 1001 });
    expect(response.body.data?.callDetailRecord).toEqual({ drSid: SAMPLE_DR_SID });
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 1000 });
    expect(response.body.errors?.[0]?.message).toMatch(/last: \$n = 1001/);
    expect(response.body.errors?.[0]?.message).toMatch(/1000/);
  });
});

describe('callDetailRecords when CarrierX fails', () => {
  it('retries a 503 on the list and answers once CarrierX recovers', async () => {
    h.simulator.faults.add({ times: 1, fault: { kind: 'status', status: 503 } });
    const data = await pageData({ first: 2 });
    expect(data.nodes).toHaveLength(2);
    expect(listCalls().map((r) => r.status)).toEqual([503, 200]);
  });

  it('answers RATE_LIMITED for the page when CarrierX answers 429', async () => {
    // On a server of its own: the token then waits out Retry-After (30 s) on every call, the next tests' too.
    const limited = await createHarness();
    try {
      limited.simulator.faults.add({ fault: { kind: 'rate-limit', retryAfter: '30' } });
      const response = await limited.execute<PageData, Record<string, unknown>>(PAGE, { first: 2 });
      expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: 30 });
      expect(response.body.errors?.[0]?.path).toEqual(['callDetailRecords']);
      expect(response.body.data).toEqual({ callDetailRecords: null });
    } finally {
      await limited.close();
    }
  });

  it('answers UPSTREAM_UNAVAILABLE when CarrierX keeps failing, UPSTREAM_BAD_RESPONSE for an unreadable body', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'status', status: 500 }, 'UPSTREAM_UNAVAILABLE'],
      [{ kind: 'malformed-json' }, 'UPSTREAM_BAD_RESPONSE'],
      [{ kind: 'truncated-body' }, 'UPSTREAM_BAD_RESPONSE'],
    ];
    for (const [fault, code] of cases) {
      h.simulator.faults.clear();
      h.simulator.faults.add({ fault: fault as never });
      const response = await page({ first: 2 });
      expect(response.body.errors?.[0]?.extensions?.code, JSON.stringify(fault)).toBe(code);
      expect(response.body.errors?.[0]?.path).toEqual(['callDetailRecords']);
      expect(response.body.data).toEqual({ callDetailRecords: null });
    }
  });

  it('answers UNAUTHENTICATED and FORBIDDEN as CarrierX does for one record', async () => {
    const unknown = await page({ first: 2 }, 'not-a-carrierx-token');
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const noScope = await page({ first: 2 }, 'carrierx-no-scope-token');
    expect(noScope.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const missing = await h.execute(PAGE, {}, { token: null });
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('the example operations a frontend starts from', () => {
  it('runs examples/operations/call-detail-records-page.graphql and call-durations-page.graphql', async () => {
    // The operation has no default range (a fixed one would age): a frontend passes one, here the last 60 days.
    const variables: Record<string, { from: string; to: string } | undefined> = {
      'call-detail-records-page': {
        from: daysBeforeAnchor(h.simulator, 60),
        to: daysBeforeAnchor(h.simulator, 0),
      },
    };
    for (const name of ['call-detail-records-page', 'call-durations-page']) {
      const document = readFileSync(
        new URL(`../examples/operations/${name}.graphql`, import.meta.url),
        'utf8',
      );
      const response = await h.execute<PageData, Record<string, string> | undefined>(
        document,
        variables[name],
      );
      expect(response.body.errors, name).toBeUndefined();
      const connection = response.body.data?.callDetailRecords as PageData['callDetailRecords'];
      const records = connection.nodes ?? connection.edges?.map((edge) => edge.node) ?? [];
      expect(records.length, name).toBe(20);
      expect(connection.pageInfo.hasNextPage, name).toBe(true);
      const range = variables[name];
      if (range) {
        const outside = records.filter(
          (record) =>
            !((record.dateStart as string) >= range.from && (record.dateStart as string) < range.to),
        );
        expect(outside, name).toEqual([]);
      }
    }
  });
});

describe('a list answer from CarrierX, checked at the boundary', () => {
  const item = (drSid: string) => ({ dr_sid: drSid, price: '0.01' });
  const sid = '87d79018-822c-4001-a1e9-81f094f086f2';

  it('reads the items in order, has_more and total (null when CarrierX sends none)', () => {
    const page = decodeCdrPage(JSON.stringify({ count: 1, has_more: true, items: [item(sid)], total: 7 }));
    expect(page.records.map((record) => record.values.price)).toEqual(['0.01']);
    expect(page).toMatchObject({ hasMore: true, total: 7 });
    expect(decodeCdrPage(JSON.stringify({ items: [], total: null })).total).toBeNull();
    expect(decodeCdrPage(JSON.stringify({ items: [] })).hasMore).toBe(false);
  });

  it('refuses an envelope or item it cannot read with UPSTREAM_BAD_RESPONSE', () => {
    for (const body of [
      'not json',
      '[]',
      '{"items":{}}',
      '{"items":[{"price":"1"}]}',
      '{"items":[{"dr_sid":"../../x"}]}',
      '{"items":[null]}',
      '{"items":[],"total":-1}',
      '{"items":[],"total":"7"}',
    ]) {
      expect(() => decodeCdrPage(body), body).toThrow(
        expect.objectContaining({ extensions: { code: 'UPSTREAM_BAD_RESPONSE' } }),
      );
    }
  });
});

describe('the list call on the wire', () => {
  it('percent-encodes every value (a space as %20), so no filter value can end or add a parameter', async () => {
    const urls: string[] = [];
    const server = createServer((req, res) => {
      urls.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"count":0,"has_more":false,"items":[],"total":0}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = createCarrierXClient({
      baseUrl: `http://127.0.0.1:${port}/core/v2`,
      timeoutMs: 2000,
      includeFieldsParam: 'include_fields',
      connections: 1,
      logger: createLogger({ level: 'silent', destination: { write: () => {} } }),
    });
    try {
      await client.listCallDetailRecords(
        { limit: 5, filter: 'number_src eq "a&b=c %+"', order: 'date_start desc' },
        ['dr_sid', 'price'],
        'Bearer t',
      );
      expect(urls).toEqual([
        '/core/v2/calls/call_drs?limit=5&order=date_start%20desc&filter=number_src%20eq%20%22a%26b%3Dc%20%25%2B%22&include_fields=dr_sid,price',
      ]);
    } finally {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
