import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startOfUtcDay } from '../src/carrierx/simulator/data.ts';
import {
  CDR_API_FIELDS,
  CHILD_PARTNER_SID,
  createSimulator,
  DEMO_TOKEN,
  DESCENDANT_DR_SID,
  DESCENDANT_TOKEN,
  NO_SCOPE_TOKEN,
  PARENT_PARTNER_SID,
  SAMPLE_DR_SID,
  type Simulator,
  UNANSWERED_DR_SID,
} from '../src/carrierx/simulator/index.ts';
import { daysBeforeAnchor } from './helpers/simulator-dates.ts';

type Json = Record<string, unknown>;
interface ListBody {
  count: number;
  has_more: boolean;
  items: Json[];
  limit: number;
  offset: number;
  pagination: { next?: string; previous?: string };
  total: number | null;
}

const sampleText = readFileSync(
  new URL('../src/carrierx/simulator/sample-cdr.json', import.meta.url),
  'utf8',
);

let simulator: Simulator;
let baseUrl: string;
/** When the shared simulator was being created: its anchor is the start of the UTC day of one of them. */
const creating = { from: 0, to: 0 };

beforeAll(async () => {
  creating.from = Date.now();
  simulator = createSimulator({ control: true });
  creating.to = Date.now();
  baseUrl = await simulator.listen(0);
});
afterAll(() => simulator.close());
beforeEach(() => {
  simulator.faults.clear();
  simulator.resetLog();
});

async function get(path: string, token: string | null = DEMO_TOKEN, init: RequestInit = {}) {
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(`${baseUrl}${path}`, { ...init, headers: { ...headers, ...init.headers } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: tryParse(text) };
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function list(query: string, token: string = DEMO_TOKEN): Promise<ListBody> {
  const response = await get(`/calls/call_drs?${query}`, token);
  expect(response.status, response.text).toBe(200);
  return response.body as ListBody;
}

const sids = (body: ListBody) => body.items.map((item) => item.dr_sid);
const errorOf = (message: string) => ({ message, errors: [{ field: null, message }] });

describe('the single-record endpoint', () => {
  it('serves the sample record exactly as CarrierX documents it', async () => {
    const response = await get(`/calls/call_drs/${SAMPLE_DR_SID}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.text).toBe(JSON.stringify(JSON.parse(sampleText)));
  });

  it('serves the unanswered and the descendant record under their published sids', async () => {
    const unanswered = (await get(`/calls/call_drs/${UNANSWERED_DR_SID}`)).body as Json;
    expect(unanswered).toMatchObject({ date_talk: null, codec_dst: null, duration_billing: '0' });
    const descendant = await get(`/calls/call_drs/${DESCENDANT_DR_SID}`, DESCENDANT_TOKEN);
    expect(descendant.status).toBe(200);
    expect((descendant.body as Json).partner_sid).toBe(CHILD_PARTNER_SID);
  });

  it('returns only the included fields, in alphabetical order', async () => {
    const response = await get(`/calls/call_drs/${SAMPLE_DR_SID}?include_fields=version,dr_sid,price`);
    expect(response.text).toBe(
      '{"dr_sid":"c02a73b2-8401-459a-af7e-f4cc3eee7854","price":"0.0025","version":2}',
    );
  });

  it('drops excluded fields after applying the included ones, ignoring unknown names', async () => {
    const both = await get(
      `/calls/call_drs/${SAMPLE_DR_SID}?include_fields=dr_sid,price,user_data,nonsense&exclude_fields=price`,
    );
    expect(both.body).toEqual({ dr_sid: SAMPLE_DR_SID, user_data: JSON.parse(sampleText).user_data });
    const excluded = (await get(`/calls/call_drs/${SAMPLE_DR_SID}?exclude_fields=user_data,nonsense`))
      .body as Json;
    expect(Object.keys(excluded)).toEqual(CDR_API_FIELDS.filter((field) => field !== 'user_data'));
  });

  it('URL-decodes the dr_sid before looking it up', async () => {
    const response = await get(`/calls/call_drs/${SAMPLE_DR_SID.replaceAll('-', '%2D')}`);
    expect(response.status).toBe(200);
    expect(simulator.requests[0]?.drSid).toBe(SAMPLE_DR_SID);
  });

  it('answers 404 "Cannot find item by SID" for an unknown or non-UUID sid', async () => {
    for (const sid of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '%E2%9C%93']) {
      const response = await get(`/calls/call_drs/${sid}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.body).toEqual(errorOf('Cannot find item by SID'));
    }
  });
});

describe('authentication and scopes', () => {
  it('answers 401 "Bad credentials" without a token or with an unknown one', async () => {
    for (const token of [null, 'not-a-token']) {
      const response = await get(`/calls/call_drs/${SAMPLE_DR_SID}`, token);
      expect(response.status).toBe(401);
      expect(response.body).toEqual(errorOf('Bad credentials'));
    }
    expect((await get('/calls/call_drs', null)).status).toBe(401);
  });

  it('accepts basic auth with any user and the token as the password', async () => {
    const basic = Buffer.from(`anyone:${DEMO_TOKEN}`).toString('base64');
    const response = await get(`/calls/call_drs/${SAMPLE_DR_SID}`, null, {
      headers: { authorization: `Basic ${basic}` },
    });
    expect(response.status).toBe(200);
  });

  it('answers 403 naming calls.read or calls.manage when the token has no call scope', async () => {
    for (const path of [`/calls/call_drs/${SAMPLE_DR_SID}`, '/calls/call_drs']) {
      const response = await get(path, NO_SCOPE_TOKEN);
      expect(response.status).toBe(403);
      expect((response.body as Json).message).toMatch(/calls\.read.*calls\.manage/);
    }
  });

  it('answers 403 naming calls.read_descendant when a parent token reads a descendant record', async () => {
    const response = await get(`/calls/call_drs/${DESCENDANT_DR_SID}`, DEMO_TOKEN);
    expect(response.status).toBe(403);
    expect((response.body as Json).message).toMatch(/calls\.read_descendant/);
    expect((response.body as Json).errors).toEqual([
      { field: null, message: (response.body as Json).message },
    ]);
  });

  it('lists only the records the token may see', async () => {
    const all = [...simulator.records.values()];
    const own = all.filter((record) => record.partner_sid !== CHILD_PARTNER_SID);
    expect((await list('limit=1')).total).toBe(own.length);
    expect((await list('limit=1', DESCENDANT_TOKEN)).total).toBe(all.length);
    const descendants = await list(`filter=partner_sid eq ${CHILD_PARTNER_SID}`);
    expect(descendants.total).toBe(0);
  });
});

describe('other paths and methods', () => {
  it('answers 404 JSON for paths outside the CDR endpoints', async () => {
    for (const path of ['/calls/nothing', `/calls/call_drs/${SAMPLE_DR_SID}/extra`, '/../../elsewhere']) {
      expect((await get(path)).status, path).toBe(404);
    }
    const response = await get('/calls/nothing');
    expect(response.body).toEqual(errorOf('Not Found'));
  });

  it('answers 405 for other methods on the CDR paths', async () => {
    for (const path of [`/calls/call_drs/${SAMPLE_DR_SID}`, '/calls/call_drs']) {
      const response = await get(path, DEMO_TOKEN, { method: 'DELETE' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET');
      expect((response.body as Json).message).toMatch(/DELETE/);
    }
  });
});

describe('the generated records', () => {
  const records = () => [...simulator.records.values()];

  it('holds the sample plus 1200 generated records, all 52 fields in alphabetical order', () => {
    expect(simulator.records.size).toBe(1201);
    expect(CDR_API_FIELDS).toHaveLength(52);
    expect([...CDR_API_FIELDS].sort()).toEqual(CDR_API_FIELDS);
    for (const record of records()) expect(Object.keys(record)).toEqual(CDR_API_FIELDS);
  });

  it('keeps answered and unanswered calls internally consistent', () => {
    for (const record of records()) {
      const start = Date.parse(record.date_start as string);
      const stop = Date.parse(record.date_stop as string);
      expect(Date.parse(record.date_insert as string)).toBeGreaterThan(stop);
      expect(Math.abs(Number(record.duration) - (stop - start) / 1000)).toBeLessThan(0.001);
      expect(record.dr_sid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(record).toMatchObject({ version: 2, type: 'telecom' });
      expect(['true', 'false']).toContain(record.stir_identity);
      expect(typeof record.transcoded).toBe('boolean');
      expect(['SRC', 'DST']).toContain(record.disconnect_originator);
      if (record.date_talk === null) {
        expect(['486', '487', '480', '603']).toContain(record.sipcause);
        expect(record).toMatchObject({ duration_billing: '0', codec_dst: null, transcoded: false });
      } else {
        expect(record.sipcause).toBe('200');
        expect(record.codec_dst).not.toBeNull();
        const billing = Number(record.duration_billing);
        expect(billing === 60 || (billing > 60 && billing % 6 === 0)).toBe(true);
      }
      for (const field of ['duration', 'price', 'rate', 'price_lcr_dst', 'rate_lcr_src']) {
        if (record[field] !== null) expect(record[field]).toMatch(/^\d+(\.\d{1,6})?$/);
      }
    }
  });

  it('mixes directions, outcomes, number formats and null fields as real traffic does', () => {
    const all = records();
    const share = (predicate: (record: Json) => boolean) => all.filter(predicate).length / all.length;
    for (const direction of ['inbound', 'outbound', 'undirected']) {
      expect(share((record) => record.direction === direction)).toBeGreaterThan(0.02);
    }
    expect(share((record) => record.date_talk === null)).toBeGreaterThan(0.15);
    expect(share((record) => record.partner_sid === CHILD_PARTNER_SID)).toBeGreaterThan(0.06);
    expect(share((record) => record.partner_sid === CHILD_PARTNER_SID)).toBeLessThan(0.14);
    expect(share((record) => String(record.number_src).startsWith('+1'))).toBeGreaterThan(0.2);
    expect(share((record) => String(record.number_src).startsWith('1'))).toBeGreaterThan(0.2);
    expect(share((record) => String(record.ip_dst).endsWith(':5060'))).toBeGreaterThan(0.2);
    for (const field of ['price_lcr_src', 'trunk_sid_src', 'stir_attest', 'number_src_original']) {
      expect(share((record) => record[field] === null)).toBeGreaterThan(0.05);
      expect(share((record) => record[field] !== null)).toBeGreaterThan(0.05);
    }
    expect(share((record) => Object.keys(record.user_data as Json).length === 0)).toBeGreaterThan(0.1);
  });

  it('generates the same records for the same seed and different ones for another seed', () => {
    const sidsOf = (seed: number) => [...createSimulator({ seed, recordCount: 20 }).records.keys()];
    expect(sidsOf(7)).toEqual(sidsOf(7));
    expect(sidsOf(7).slice(3)).not.toEqual(sidsOf(8).slice(3));
    expect(sidsOf(8).slice(0, 3)).toEqual([SAMPLE_DR_SID, UNANSWERED_DR_SID, DESCENDANT_DR_SID]);
  });
});

describe('the list endpoint', () => {
  it('defaults to 10 records, newest call first, with the total', async () => {
    const body = await list('');
    expect(body).toMatchObject({ count: 10, limit: 10, offset: 0, has_more: true });
    expect(Object.keys(body)).toEqual([
      'count',
      'has_more',
      'items',
      'limit',
      'offset',
      'pagination',
      'total',
    ]);
    const starts = body.items.map((item) => item.date_start as string);
    expect(starts).toEqual([...starts].sort().reverse());
    expect(body.pagination.previous).toBeUndefined();
  });

  it('pages with limit and offset, linking the next and previous pages', async () => {
    const first = await list('limit=5');
    const second = await list('limit=5&offset=5');
    expect(second).toMatchObject({ count: 5, offset: 5, has_more: true, total: first.total });
    expect(second.pagination.next).toBe(`${baseUrl}/calls/call_drs?limit=5&offset=10`);
    expect(second.pagination.previous).toBe(`${baseUrl}/calls/call_drs?limit=5&offset=0`);
    const followed = (await (
      await fetch(first.pagination.next as string, { headers: bearer() })
    ).json()) as ListBody;
    expect(sids(followed)).toEqual(sids(second));
  });

  it('reports has_more false and no next link on the last page', async () => {
    const total = (await list('limit=1')).total as number;
    const last = await list(`limit=5&offset=${total - 2}`);
    expect(last).toMatchObject({ count: 2, has_more: false });
    expect(last.pagination.next).toBeUndefined();
  });

  it('builds absolute pagination links from the Host header', async () => {
    const response = await request(`${baseUrl}/calls/call_drs?limit=2`, {
      headers: { ...bearer(), host: 'cdr.example.test:8443' },
    });
    const body = (await response.body.json()) as ListBody;
    expect(body.pagination.next).toBe('http://cdr.example.test:8443/core/v2/calls/call_drs?limit=2&offset=2');
  });

  it('pages forward with after and back with before, with a null total', async () => {
    const firstSix = sids(await list('limit=6'));
    const afterPage = await list(`limit=3&after=${firstSix[2]}&offset=40`);
    expect(sids(afterPage)).toEqual(firstSix.slice(3, 6));
    expect(afterPage).toMatchObject({ total: null, offset: 0, has_more: true });
    expect(afterPage.pagination.next).toBe(`${baseUrl}/calls/call_drs?limit=3&after=${firstSix[5]}`);
    expect(afterPage.pagination.previous).toBe(`${baseUrl}/calls/call_drs?limit=3&before=${firstSix[3]}`);

    const beforePage = await list(`limit=3&before=${firstSix[3]}`);
    expect(sids(beforePage)).toEqual(firstSix.slice(0, 3));
    expect(beforePage).toMatchObject({ total: null, has_more: false });
    expect(beforePage.pagination.previous).toBeUndefined();
    expect(beforePage.pagination.next).toBe(`${baseUrl}/calls/call_drs?limit=3&after=${firstSix[2]}`);
  });

  it('rejects a bad limit, offset or cursor with 400', async () => {
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=ten',
      'offset=-1',
      'after=a&before=b',
      'after=nope',
    ]) {
      const response = await get(`/calls/call_drs?${query}`);
      expect(response.status, query).toBe(400);
      expect((response.body as Json).errors).toHaveLength(1);
    }
    expect((await list('limit=1000')).count).toBe(1000);
  });

  it('orders by any known field ascending or descending, numerically for numbers', async () => {
    const durations = (await list('order=duration asc&limit=50')).items.map((item) => Number(item.duration));
    expect(durations).toEqual([...durations].sort((a, b) => a - b));
    const descending = (await list('order=duration_billing desc&limit=50')).items.map((item) =>
      Number(item.duration_billing),
    );
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
    expect(descending[0]).toBeGreaterThan(60);
  });

  it('rejects an unknown order field or direction with 400 naming it', async () => {
    const unknown = await get('/calls/call_drs?order=loudness desc');
    expect(unknown.status).toBe(400);
    expect((unknown.body as Json).message).toMatch(/loudness/);
    expect((await get('/calls/call_drs?order=duration sideways')).status).toBe(400);
  });
});

describe('list filters', () => {
  const filtered = async (filter: string, extra = '') =>
    list(`limit=1000&filter=${encodeURIComponent(filter)}${extra}`, DESCENDANT_TOKEN);
  const all = () => [...simulator.records.values()];

  it('matches with eq, including the null literal', async () => {
    const inbound = await filtered('direction eq inbound');
    expect(inbound.total).toBe(all().filter((record) => record.direction === 'inbound').length);
    expect(inbound.items.every((item) => item.direction === 'inbound')).toBe(true);
    const unanswered = await filtered('date_talk eq null');
    expect(unanswered.total).toBe(all().filter((record) => record.date_talk === null).length);
    expect(sids(unanswered)).toContain(UNANSWERED_DR_SID);
  });

  it('matches with like and % wildcards', async () => {
    const body = await filtered("number_src like '+1501%'");
    expect(body.total).toBeGreaterThan(0);
    expect(body.items.every((item) => String(item.number_src).startsWith('+1501'))).toBe(true);
    expect((await filtered('dr_sid like %7854')).items.map((item) => item.dr_sid)).toEqual([SAMPLE_DR_SID]);
  });

  it('compares decimal strings numerically with gt, ge and lt', async () => {
    const count = (predicate: (billing: number) => boolean) =>
      all().filter((record) => predicate(Number(record.duration_billing))).length;
    expect((await filtered('duration_billing gt 60')).total).toBe(count((billing) => billing > 60));
    expect((await filtered('duration_billing ge 60')).total).toBe(count((billing) => billing >= 60));
    expect((await filtered('duration_billing lt 60')).total).toBe(count((billing) => billing < 60));
    expect(count((billing) => billing > 60)).toBeGreaterThan(0);
  });

  it('compares dates as strings and joins conditions with and', async () => {
    const from = daysBeforeAnchor(simulator, 14);
    const to = daysBeforeAnchor(simulator, 7);
    const body = await filtered(
      `date_start ge "${from}" and date_start lt '${to}' and direction eq outbound`,
    );
    const want = all().filter(
      (record) =>
        (record.date_start as string) >= from &&
        (record.date_start as string) < to &&
        record.direction === 'outbound',
    );
    expect(want.length).toBeGreaterThan(0);
    expect(body.total).toBe(want.length);
  });

  it('accepts quoted values with spaces and requires quotes around them', async () => {
    expect((await filtered("type eq 'tele com'")).total).toBe(0);
    expect((await filtered('type eq "telecom"')).total).toBe(simulator.records.size);
    const bare = await get(`/calls/call_drs?filter=${encodeURIComponent('type eq tele com')}`);
    expect(bare.status).toBe(400);
  });

  it('answers 400 naming an unknown field, an unknown operator or the syntax error', async () => {
    const cases: [string, RegExp][] = [
      ['loudness eq 3', /unknown field "loudness"/],
      ['direction ne inbound', /unsupported operator "ne"/],
      ['direction eq inbound or direction eq outbound', /"and".*found "or"/],
      ["direction eq 'inbound", /unterminated/],
      ['direction eq', /expected a value/],
      ['duration gt null', /null/],
    ];
    for (const [filter, message] of cases) {
      const response = await get(`/calls/call_drs?filter=${encodeURIComponent(filter)}`);
      expect(response.status, filter).toBe(400);
      expect((response.body as Json).message, filter).toMatch(message);
    }
  });

  it('applies field filtering to list items too', async () => {
    const body = await list('limit=2&include_fields=duration,dr_sid&exclude_fields=duration');
    expect(body.items.map((item) => Object.keys(item))).toEqual([['dr_sid'], ['dr_sid']]);
  });
});

describe('the request log', () => {
  it('records each request with its sid, query, authorization, status and body size', async () => {
    const one = await get(`/calls/call_drs/${SAMPLE_DR_SID}?include_fields=dr_sid,price`);
    const missing = await get('/calls/call_drs/nope', null);
    const page = await get('/calls/call_drs?limit=2');
    expect(simulator.requests).toEqual([
      {
        method: 'GET',
        path: `/core/v2/calls/call_drs/${SAMPLE_DR_SID}`,
        drSid: SAMPLE_DR_SID,
        query: { include_fields: 'dr_sid,price' },
        authorization: `Bearer ${DEMO_TOKEN}`,
        status: 200,
        bytes: Buffer.byteLength(one.text),
      },
      {
        method: 'GET',
        path: '/core/v2/calls/call_drs/nope',
        drSid: 'nope',
        query: {},
        authorization: undefined,
        status: 401,
        bytes: Buffer.byteLength(missing.text),
      },
      expect.objectContaining({ path: '/core/v2/calls/call_drs', query: { limit: '2' }, status: 200 }),
    ]);
    expect(simulator.requests[2]?.drSid).toBeUndefined();
    const bytes = [one, missing, page].reduce((sum, response) => sum + Buffer.byteLength(response.text), 0);
    expect(simulator.stats).toEqual({ requests: 3, bytesSent: bytes });
  });

  it('starts afresh after resetLog', async () => {
    await get(`/calls/call_drs/${SAMPLE_DR_SID}`);
    simulator.resetLog();
    expect(simulator.requests).toEqual([]);
    expect(simulator.stats).toEqual({ requests: 0, bytesSent: 0 });
  });

  it('keeps only the last maxRecorded requests while counting them all', async () => {
    const small = createSimulator({ recordCount: 2, maxRecorded: 3 });
    const url = await small.listen(0);
    try {
      for (let index = 0; index < 5; index++) {
        await fetch(`${url}/calls/call_drs/${SAMPLE_DR_SID}?n=${index}`, { headers: bearer() }).then((r) =>
          r.text(),
        );
      }
      expect(small.requests.map((entry) => entry.query.n)).toEqual(['2', '3', '4']);
      expect(small.stats.requests).toBe(5);
    } finally {
      await small.close();
    }
  });
});

describe('faults', () => {
  const sample = `/calls/call_drs/${SAMPLE_DR_SID}`;

  it('are off by default', async () => {
    for (let index = 0; index < 5; index++) expect((await get(sample)).status).toBe(200);
  });

  it('answers a chosen status with a JSON error body', async () => {
    for (const status of [500, 502, 503, 504]) {
      simulator.faults.clear();
      simulator.faults.add({ fault: { kind: 'status', status } });
      const response = await get(sample);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect((response.body as Json).errors).toHaveLength(1);
    }
  });

  it('rate-limits with 429, passing Retry-After through verbatim when given', async () => {
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    simulator.faults.add({ times: 1, fault: { kind: 'rate-limit', retryAfter: '2' } });
    simulator.faults.add({ times: 1, fault: { kind: 'rate-limit', retryAfter: date } });
    simulator.faults.add({ times: 1, fault: { kind: 'rate-limit' } });
    const retryAfters = [];
    for (let index = 0; index < 3; index++) {
      const response = await get(sample);
      expect(response.status).toBe(429);
      retryAfters.push(response.headers.get('retry-after'));
    }
    expect(retryAfters).toEqual(['2', date, null]);
  });

  it('resets the connection without a response', async () => {
    simulator.faults.add({ times: 1, fault: { kind: 'reset' } });
    await expect(request(`${baseUrl}${sample}`, { headers: bearer() })).rejects.toThrow();
    expect(simulator.requests.at(-1)).toMatchObject({ status: 0, bytes: 0 });
  });

  it('hangs until the client gives up', async () => {
    simulator.faults.add({ times: 1, fault: { kind: 'hang' } });
    const started = Date.now();
    await expect(
      fetch(`${baseUrl}${sample}`, { headers: bearer(), signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow(/abort|timeout/i);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect((await get(sample)).status).toBe(200);
  });

  it('sends malformed JSON under a JSON content type', async () => {
    simulator.faults.add({ fault: { kind: 'malformed-json' } });
    const response = await get(sample);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(() => JSON.parse(response.text)).toThrow();
  });

  it('truncates the body below its Content-Length and closes the socket', async () => {
    simulator.faults.add({ fault: { kind: 'truncated-body' } });
    const response = await request(`${baseUrl}${sample}`, { headers: bearer() });
    expect(response.statusCode).toBe(200);
    expect(Number(response.headers['content-length'])).toBeGreaterThan(100);
    await expect(response.body.text()).rejects.toThrow();
  });

  it('sends a record with wrong types, still honouring field filtering', async () => {
    simulator.faults.add({ fault: { kind: 'wrong-types' } });
    const full = (await get(sample)).body as Json;
    expect(full).toMatchObject({
      version: 'two',
      transcoded: 'yes',
      price: {},
      date_start: 'yesterday',
      stir_identity: 'maybe',
      dr_sid: SAMPLE_DR_SID,
    });
    expect(Object.keys(full)).toEqual(CDR_API_FIELDS);
    expect((await get(`${sample}?include_fields=version`)).body).toEqual({ version: 'two' });
  });

  it('sends an unknown direction value', async () => {
    simulator.faults.add({ fault: { kind: 'unknown-enum' } });
    expect(((await get(sample)).body as Json).direction).toBe('sideways');
    const page = (await get('/calls/call_drs')).body as ListBody;
    expect(page.items[0]?.direction).toBe('sideways');
  });

  it('writes raw JSON text verbatim for chosen keys, still honouring field filtering', async () => {
    simulator.faults.add({
      fault: { kind: 'raw-values', values: { price: '12345678901234567.891', extra_key: '[[1]]' } },
    });
    const { text } = await get(sample);
    expect(text).toContain('"price":12345678901234567.891');
    expect(text.endsWith(',"extra_key":[[1]]}')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ dr_sid: SAMPLE_DR_SID, duration: '4.25015' });
    expect((await get(`${sample}?include_fields=price,dr_sid`)).text).toBe(
      `{"dr_sid":"${SAMPLE_DR_SID}","price":12345678901234567.891}`,
    );
  });

  it('sends valid JSON that is not a CDR', async () => {
    simulator.faults.add({ fault: { kind: 'not-a-cdr' } });
    expect((await get(sample)).body).toEqual({ message: 'ok' });
    expect((await get('/calls/call_drs')).body).toEqual([]);
  });

  it('expires after `times` matching requests', async () => {
    simulator.faults.add({ times: 2, fault: { kind: 'status', status: 503 } });
    const statuses = [];
    for (let index = 0; index < 3; index++) statuses.push((await get(sample)).status);
    expect(statuses).toEqual([503, 503, 200]);
  });

  it('match one dr_sid or one token, and the first matching rule wins', async () => {
    simulator.faults.add({ match: { drSid: UNANSWERED_DR_SID }, fault: { kind: 'status', status: 502 } });
    simulator.faults.add({ match: { token: DESCENDANT_TOKEN }, fault: { kind: 'status', status: 504 } });
    simulator.faults.add({ fault: { kind: 'status', status: 500 } });
    expect((await get(`/calls/call_drs/${UNANSWERED_DR_SID}`, DESCENDANT_TOKEN)).status).toBe(502);
    expect((await get(sample, DESCENDANT_TOKEN)).status).toBe(504);
    expect((await get('/calls/call_drs', DESCENDANT_TOKEN)).status).toBe(504);
    expect((await get(sample)).status).toBe(500);
  });

  it('apply only to the CDR endpoints and can be removed one by one', async () => {
    const remove = simulator.faults.add({ fault: { kind: 'status', status: 500 } });
    expect((await get('/calls/elsewhere')).status).toBe(404);
    expect((await get(sample)).status).toBe(500);
    remove();
    expect((await get(sample)).status).toBe(200);
  });

  it('delay the response by latencyMs, with or without a fault', async () => {
    simulator.faults.add({ times: 1, latencyMs: 150 });
    simulator.faults.add({ times: 1, latencyMs: 100, jitterMs: 20, fault: { kind: 'status', status: 503 } });
    let started = Date.now();
    const delayed = await get(sample);
    expect(delayed.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    started = Date.now();
    expect((await get(sample)).status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('reject an invalid rule', () => {
    expect(() => simulator.faults.add({ fault: { kind: 'explode' } as never })).toThrow(/Invalid fault rule/);
    expect(() => simulator.faults.add({ times: 0 })).toThrow(/times/);
  });

  it('are ended by close(), hung requests included', async () => {
    const own = createSimulator({ recordCount: 2 });
    const url = await own.listen(0);
    own.faults.add({ fault: { kind: 'hang' } });
    const pending = fetch(`${url}${sample}`, { headers: bearer() });
    await waitFor(() => own.requests.length === 1);
    await own.close();
    await expect(pending).rejects.toThrow();
  });
});

describe('the control API', () => {
  const controlUrl = (path: string) => new URL(`/_simulator/${path}`, baseUrl).href;

  it('adds, applies and clears fault rules for out-of-process users', async () => {
    const added = await fetch(controlUrl('faults'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ times: 1, fault: { kind: 'rate-limit', retryAfter: 3 } }),
    });
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({ id: expect.any(String) });
    const limited = await get(`/calls/call_drs/${SAMPLE_DR_SID}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');

    await fetch(controlUrl('faults'), {
      method: 'POST',
      body: JSON.stringify({ fault: { kind: 'status', status: 500 } }),
    });
    expect((await fetch(controlUrl('faults'), { method: 'DELETE' })).status).toBe(204);
    expect((await get(`/calls/call_drs/${SAMPLE_DR_SID}`)).status).toBe(200);
  });

  it('answers its printed URL, /_simulator/, with an index of its routes', async () => {
    for (const url of [controlUrl(''), new URL('/_simulator', baseUrl).href]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      const index = (await response.json()) as { routes: { method: string; path: string }[] };
      expect(index.routes).toContainEqual(
        expect.objectContaining({ method: 'GET', path: '/_simulator/faults' }),
      );
      expect(index.routes).toContainEqual(
        expect.objectContaining({ method: 'POST', path: '/_simulator/faults' }),
      );
    }
  });

  it('lists the active fault rules with their ids, and forgets those that expired or were removed', async () => {
    expect(await (await fetch(controlUrl('faults'))).json()).toEqual([]);
    const add = async (rule: unknown) =>
      (
        (await (
          await fetch(controlUrl('faults'), { method: 'POST', body: JSON.stringify(rule) })
        ).json()) as Json
      ).id as string;
    const once = await add({
      times: 1,
      match: { drSid: SAMPLE_DR_SID },
      fault: { kind: 'status', status: 503 },
    });
    const slow = await add({ latencyMs: 5, fault: { kind: 'reset' } });
    expect(await (await fetch(controlUrl('faults'))).json()).toEqual([
      {
        id: once,
        rule: { times: 1, match: { drSid: SAMPLE_DR_SID }, fault: { kind: 'status', status: 503 } },
        remaining: 1,
      },
      { id: slow, rule: { latencyMs: 5, fault: { kind: 'reset' } } },
    ]);
    expect((await get(`/calls/call_drs/${SAMPLE_DR_SID}`)).status).toBe(503);
    expect(await (await fetch(controlUrl('faults'))).json()).toEqual([
      { id: slow, rule: { latencyMs: 5, fault: { kind: 'reset' } } },
    ]);
    expect((await fetch(controlUrl(`faults/${slow}`), { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(controlUrl('faults'))).json()).toEqual([]);
  });

  it('rejects a bad fault rule with 400', async () => {
    for (const body of ['{"fault":{"kind":"status","status":"500"}}', 'not json', '{"surprise":true}']) {
      const response = await fetch(controlUrl('faults'), { method: 'POST', body });
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as Json).message).toBeTruthy();
    }
  });

  it('reports and resets stats and the request log, leaving its own calls out', async () => {
    const record = await get(`/calls/call_drs/${SAMPLE_DR_SID}`);
    const stats = await (await fetch(controlUrl('stats'))).json();
    expect(stats).toEqual({ requests: 1, bytesSent: Buffer.byteLength(record.text) });
    const requests = (await (await fetch(controlUrl('requests'))).json()) as Json[];
    expect(requests).toEqual([expect.objectContaining({ drSid: SAMPLE_DR_SID, status: 200 })]);
    expect((await fetch(controlUrl('stats'), { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(controlUrl('stats'))).json()).toEqual({ requests: 0, bytesSent: 0 });
  });

  it('is not served when control is off', async () => {
    const quiet = createSimulator({ recordCount: 2 });
    const url = await quiet.listen(0);
    try {
      const response = await fetch(new URL('/_simulator/stats', url));
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual(errorOf('Not Found'));
      expect(quiet.stats.requests).toBe(1);
    } finally {
      await quiet.close();
    }
  });
});

describe('the dates of the generated records', () => {
  const DAY_MS = 24 * 3600 * 1000;
  const DATE_FIELDS = ['date_start', 'date_talk', 'date_stop', 'date_insert'] as const;
  const generated = (of: Simulator) =>
    [...of.records.values()].filter((record) => record.dr_sid !== SAMPLE_DR_SID);

  it('serves the same dates all its life, even after the clock passes midnight', async () => {
    const dates = async () =>
      (await list('limit=1000', DESCENDANT_TOKEN)).items.map((item) =>
        DATE_FIELDS.map((field) => item[field]),
      );
    const first = await dates();
    const anchor = simulator.anchor.getTime();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 2 * DAY_MS);
      expect(await dates()).toEqual(first);
      expect(simulator.anchor.getTime()).toBe(anchor);
    } finally {
      vi.useRealTimers();
    }
  });

  it('dates every generated call in the 90 days before 00:00 UTC of the day the simulator starts, the newest yesterday', () => {
    // Midnight may pass while it is created: either day's start is right, nothing else is.
    expect([startOfUtcDay(creating.from), startOfUtcDay(creating.to)]).toContain(simulator.anchor.getTime());
    const anchor = simulator.anchor.getTime();
    const starts = generated(simulator).map((record) => Date.parse(record.date_start as string));
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(anchor - 90 * DAY_MS);
    expect(Math.max(...starts)).toBeGreaterThanOrEqual(anchor - DAY_MS);
    // One check over all of them: an expect per date would make this test slow enough to matter.
    const afterAnchor = generated(simulator).flatMap((record) =>
      DATE_FIELDS.filter(
        (field) => record[field] !== null && Date.parse(record[field] as string) >= anchor,
      ).map((field) => `${record.dr_sid} ${field}`),
    );
    expect(afterAnchor).toEqual([]);
  });

  it("keeps CarrierX's own dates on the sample record", () => {
    const sample = JSON.parse(sampleText) as Json;
    for (const field of DATE_FIELDS) {
      expect(simulator.records.get(SAMPLE_DR_SID)?.[field]).toBe(sample[field]);
    }
  });

  it('moves the generated records by the anchor alone: the same records, order and durations on any day', () => {
    const early = createSimulator({ recordCount: 200, anchor: new Date('2030-01-01T00:00:00.000Z') });
    const late = createSimulator({ recordCount: 200, anchor: new Date('2031-06-15T00:00:00.000Z') });
    const shift = late.anchor.getTime() - early.anchor.getTime();
    const byStart = (of: Simulator) =>
      generated(of)
        .sort((a, b) => Date.parse(a.date_start as string) - Date.parse(b.date_start as string))
        .map((record) => record.dr_sid);
    expect(byStart(late)).toEqual(byStart(early));
    const shifted = generated(early).map((record) => {
      const moved: Json = { ...record };
      for (const field of DATE_FIELDS) {
        if (record[field] !== null) {
          moved[field] = new Date(Date.parse(record[field] as string) + shift).toISOString();
        }
      }
      return moved;
    });
    expect(generated(late)).toEqual(shifted);
    expect(late.records.get(SAMPLE_DR_SID)).toEqual(early.records.get(SAMPLE_DR_SID));
  });
});

describe('new calls (the live feed)', () => {
  // Each test has its own simulator: records added to the shared one would change the totals other tests read.
  // In the past, so that "now" is after every generated record, as it is with the default anchor.
  const ANCHOR = new Date('2025-06-01T00:00:00.000Z');
  const started: Simulator[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(started.splice(0).map((each) => each.close()));
  });
  async function liveSimulator(options: { liveRate?: number; seed?: number } = {}) {
    const sim = createSimulator({ control: true, anchor: ANCHOR, ...options });
    started.push(sim);
    const url = await sim.listen(0);
    const listOf = async (query: string, token: string = DEMO_TOKEN) => {
      const response = await fetch(`${url}/calls/call_drs?${query}`, { headers: bearer(token) });
      expect(response.status, query).toBe(200);
      return (await response.json()) as ListBody;
    };
    const addRecords = async (body?: unknown) => {
      const response = await fetch(new URL('/_simulator/records', url), {
        method: 'POST',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { items: Json[] }).items;
    };
    return { sim, url, listOf, addRecords };
  }
  const since = (watermark: unknown) =>
    `filter=${encodeURIComponent(`date_insert ge "${watermark}"`)}&order=${encodeURIComponent('date_insert asc')}&limit=1000`;

  it('lists records added through the control API after the previous watermark, in date_insert then dr_sid order', async () => {
    const { listOf, addRecords } = await liveSimulator();
    const before = await listOf('order=date_insert%20desc&limit=1', DESCENDANT_TOKEN);
    const watermark = before.items[0]?.date_insert as string;
    // Asked before the records are added too, so that a list sorted before them cannot be served after.
    const { total } = await listOf('limit=1', DESCENDANT_TOKEN);
    const asked = Date.now();
    const [single] = await addRecords();
    const batch = await addRecords({ count: 3 });
    const answered = Date.now();

    const insert = Date.parse(single?.date_insert as string);
    expect(insert).toBeGreaterThanOrEqual(asked);
    expect(insert).toBeLessThanOrEqual(answered);
    // One batch, one instant: the poller must cope with records that share its watermark.
    expect(new Set(batch.map((record) => record.date_insert)).size).toBe(1);
    expect(Date.parse(batch[0]?.date_insert as string)).toBeGreaterThan(insert);
    for (const record of [single, ...batch] as Json[]) {
      expect(Date.parse(record.date_stop as string)).toBeLessThan(Date.parse(record.date_insert as string));
      expect(Date.parse(record.date_start as string)).toBeLessThanOrEqual(
        Date.parse(record.date_stop as string),
      );
    }
    const batchSids = batch.map((record) => record.dr_sid as string);
    expect(batchSids).toEqual([...batchSids].sort());

    const after = await listOf(since(watermark), DESCENDANT_TOKEN);
    expect(sids(after).slice(-4)).toEqual([single?.dr_sid, ...batchSids]);
    expect(after.items.slice(-4)).toEqual([single, ...batch]);
    const fromSingle = await listOf(since(single?.date_insert), DESCENDANT_TOKEN);
    expect(sids(fromSingle)).toEqual([single?.dr_sid, ...batchSids]);
    const fromBatch = await listOf(since(batch[0]?.date_insert), DESCENDANT_TOKEN);
    expect(sids(fromBatch)).toEqual(batchSids);
    expect((await listOf('limit=1', DESCENDANT_TOKEN)).total).toBe((total as number) + 4);
  });

  it("shows a new record only to the tokens that may read its partner's records", async () => {
    const { url, listOf, addRecords } = await liveSimulator();
    const child = await addRecords({ count: 2, partnerSid: CHILD_PARTNER_SID });
    const parent = await addRecords({ partnerSid: PARENT_PARTNER_SID });
    const watermark = child[0]?.date_insert;
    expect(sids(await listOf(since(watermark), DEMO_TOKEN))).toEqual([parent[0]?.dr_sid]);
    expect(sids(await listOf(since(watermark), DESCENDANT_TOKEN))).toEqual([
      ...child.map((record) => record.dr_sid),
      parent[0]?.dr_sid,
    ]);
    const forbidden = await fetch(`${url}/calls/call_drs/${child[0]?.dr_sid}`, { headers: bearer() });
    expect(forbidden.status).toBe(403);

    // Without partnerSid, the new calls are shared out as the generated ones are: mostly the parent's.
    const mixed = await addRecords({ count: 200 });
    const children = mixed.filter((record) => record.partner_sid === CHILD_PARTNER_SID).length;
    expect(children).toBeGreaterThan(5);
    expect(children).toBeLessThan(50);
    expect((await listOf(since(mixed[0]?.date_insert), DEMO_TOKEN)).total).toBe(200 - children);
  });

  it('sets the field values asked for on every new record', async () => {
    const { addRecords } = await liveSimulator();
    const records = await addRecords({
      count: 2,
      fields: { direction: 'inbound', number_src: '+15162065451' },
    });
    for (const record of records)
      expect(record).toMatchObject({ direction: 'inbound', number_src: '+15162065451' });
    expect(Object.keys(records[0] as Json)).toEqual(CDR_API_FIELDS);
  });

  it('answers 400 naming what is wrong with a request to add records, and 405 to other methods', async () => {
    const { sim, url } = await liveSimulator();
    const count = sim.records.size;
    const cases: [string, RegExp][] = [
      ['{"count":0}', /count must be an integer from 1 to 1000/],
      ['{"count":1001}', /count must be an integer from 1 to 1000/],
      ['{"partnerSid":"someone-else"}', /partnerSid must be the parent partner/],
      ['{"fields":{"dr_sid":"x"}}', /fields cannot set dr_sid/],
      ['{"fields":{"date_insert":"2030-01-01T00:00:00.000Z"}}', /fields cannot set date_insert/],
      ['{"fields":{"colour":"red"}}', /unknown field "colour"/],
      ['{"surprise":true}', /Unknown key "surprise"/],
      ['[1]', /Expected an object/],
      ['not json', /./],
    ];
    for (const [body, message] of cases) {
      const response = await fetch(new URL('/_simulator/records', url), { method: 'POST', body });
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as Json).message, body).toMatch(message);
    }
    const get = await fetch(new URL('/_simulator/records', url));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(sim.records.size).toBe(count);
  });

  it('makes the same new calls in the same order in every run of a seed, and other calls for another seed', () => {
    const calls = (seed?: number) => {
      const sim = createSimulator({
        recordCount: 2,
        anchor: ANCHOR,
        ...(seed === undefined ? {} : { seed }),
      });
      const first = sim.addRecords({ count: 3 });
      const second = sim.addRecords();
      // Only date_insert and the dates derived from it depend on when they were added.
      return [...first, ...second].map((record): Json => {
        const { date_insert, date_start, date_stop, date_talk, ...rest } = record;
        return { ...rest, length: Date.parse(date_stop as string) - Date.parse(date_start as string) };
      });
    };
    const run = calls();
    expect(calls()).toEqual(run);
    expect(new Set(run.map((record) => record.dr_sid)).size).toBe(4);
    const other = calls(7).map((record) => record.dr_sid);
    expect(other.filter((sid) => run.some((record) => record.dr_sid === sid))).toEqual([]);
    // The account stays that of the dataset: its numbers are the ones the generated calls use.
    const dataset = new Set(
      [...createSimulator({ recordCount: 300 }).records.values()].map((r) => r.number_billing),
    );
    for (const record of run) expect(dataset).toContain(record.number_billing);
  });

  it('adds liveRate calls a minute while it listens, each dated when it was added, and none after close', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date('2030-01-02T12:00:00.000Z'));
    const { sim } = await liveSimulator({ liveRate: 6 });
    const initial = sim.records.size;
    const start = Date.now();
    vi.advanceTimersByTime(60_000);
    const added = [...sim.records.values()].slice(initial);
    // One every 60000 / 6 = 10000 ms, dated at its tick.
    expect(added.map((record) => Date.parse(record.date_insert as string) - start)).toEqual([
      10_000, 20_000, 30_000, 40_000, 50_000, 60_000,
    ]);
    await sim.close();
    vi.advanceTimersByTime(60_000);
    expect(sim.records.size).toBe(initial + 6);
  });

  it('adds no calls on its own when liveRate is 0, the default', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const { sim } = await liveSimulator();
    const initial = sim.records.size;
    vi.advanceTimersByTime(10 * 60_000);
    expect(sim.records.size).toBe(initial);
  });
});

function bearer(token = DEMO_TOKEN) {
  return { authorization: `Bearer ${token}` };
}

async function waitFor(condition: () => boolean) {
  for (let attempt = 0; attempt < 100 && !condition(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(condition()).toBe(true);
}
