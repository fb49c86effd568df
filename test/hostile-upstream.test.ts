import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CDR_FIELDS } from '../src/carrierx/fields.ts';
import { SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createRequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type GraphQLResponse, type Harness } from './helpers/harness.ts';

// Every field of the type, the derived ones included.
const ALL_FIELDS = [...CDR_FIELDS.map((f) => f.name), 'ringDuration', 'talkDuration'];
const RECORD_QUERY = `query($drSid: UUID!) { callDetailRecord(drSid: $drSid) { ${ALL_FIELDS.join(' ')} } }`;
const TWO_RECORDS = `query($a: UUID!, $b: UUID!) {
  a: callDetailRecord(drSid: $a) { ${ALL_FIELDS.join(' ')} }
  b: callDetailRecord(drSid: $b) { ${ALL_FIELDS.join(' ')} }
}`;

type Data = { callDetailRecord: Record<string, unknown> | null };
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

let h: Harness;
let server: Server;
let port = 0;
let pristine: Record<string, unknown>;

beforeAll(async () => {
  h = await createHarness();
  server = createServer(createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const res = await h.execute<Data, unknown>(RECORD_QUERY, { drSid: SAMPLE_DR_SID });
  pristine = res.body.data?.callDetailRecord as Record<string, unknown>;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await h.close();
});
beforeEach(() => {
  h.simulator.faults.clear();
  h.logs.length = 0;
});

/** The operation over a real socket, through the server's own HTTP handler (the fast path included). */
async function overHttp<T>(query: string, variables: unknown): Promise<GraphQLResponse<T>> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer carrierx-demo-token' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

/** [field, code] of each error, sorted: where the response says it failed. */
function failedFields(res: GraphQLResponse<unknown>): [unknown, unknown][] {
  return (res.body.errors ?? [])
    .map((e) => [e.path?.join('.'), e.extensions?.code] as [unknown, unknown])
    .sort();
}

/** Every field but `except` is what CarrierX's unspoilt record gives. */
function expectOthersIntact(record: Record<string, unknown>, except: readonly string[]) {
  for (const name of ALL_FIELDS)
    if (!except.includes(name)) expect(record[name], name).toEqual(pristine[name]);
}

describe('a hostile upstream, end to end', () => {
  it('answers 200 when one record holds a user_data nested 5,000 deep: that field null, the rest intact', async () => {
    h.simulator.faults.add({
      match: { drSid: SAMPLE_DR_SID },
      fault: { kind: 'raw-values', values: { user_data: nested(5000) } },
    });
    const res = await overHttp<Record<string, Record<string, unknown>>>(TWO_RECORDS, {
      a: SAMPLE_DR_SID,
      b: UNANSWERED_DR_SID,
    });
    expect(res.status).toBe(200);
    expect(failedFields(res)).toEqual([['a.userData', 'UPSTREAM_BAD_RESPONSE']]);
    const a = res.body.data?.a as Record<string, unknown>;
    expect(a.userData).toBeNull();
    expectOthersIntact(a, ['userData']);
    expect(res.body.data?.b?.drSid).toBe(UNANSWERED_DR_SID);
  });

  it('keeps the exact text of decimals CarrierX sends as JSON numbers', async () => {
    h.simulator.faults.add({
      fault: {
        kind: 'raw-values',
        values: {
          price: '12345678901234567.891',
          rate: '12.50',
          price_lcr_dst: '0.0000001',
          duration: '4.0',
        },
      },
    });
    const res = await overHttp<Data>(RECORD_QUERY, { drSid: SAMPLE_DR_SID });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const record = res.body.data?.callDetailRecord as Record<string, unknown>;
    expect(record).toMatchObject({
      price: '12345678901234567.891',
      rate: '12.50',
      priceLcrDst: '0.0000001',
      duration: '4.0',
    });
    expectOthersIntact(record, ['price', 'rate', 'priceLcrDst', 'duration']);
  });

  it('refuses an impossible date, and the durations derived from it, without rolling it over', async () => {
    h.simulator.faults.add({
      fault: {
        kind: 'raw-values',
        values: { date_talk: '"2025-02-30T10:00:00Z"', date_stop: '"2025-05-18T24:00:00Z"' },
      },
    });
    const res = await overHttp<Data>(RECORD_QUERY, { drSid: SAMPLE_DR_SID });
    expect(res.status).toBe(200);
    const failed = ['dateStop', 'dateTalk', 'ringDuration', 'talkDuration'];
    expect(failedFields(res)).toEqual(failed.map((f) => [`callDetailRecord.${f}`, 'UPSTREAM_BAD_RESPONSE']));
    const record = res.body.data?.callDetailRecord as Record<string, unknown>;
    for (const name of failed) expect(record[name]).toBeNull();
    expectOthersIntact(record, failed);
  });

  it('keeps a __proto__ key in user_data as plain data', async () => {
    h.simulator.faults.add({
      fault: { kind: 'raw-values', values: { user_data: '{"__proto__":{"admin":true},"identity":"x"}' } },
    });
    const res = await overHttp<Data>(RECORD_QUERY, { drSid: SAMPLE_DR_SID });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.text).toContain('"userData":{"__proto__":{"admin":true},"identity":"x"}');
    expectOthersIntact(res.body.data?.callDetailRecord as Record<string, unknown>, ['userData']);
  });

  it('nulls only the one field, logged once without its value, whichever field gets an array 5,000 deep', async () => {
    for (const f of CDR_FIELDS) {
      if (f.kind === 'id') continue;
      h.simulator.faults.clear();
      h.logs.length = 0;
      h.simulator.faults.add({ fault: { kind: 'raw-values', values: { [f.api]: nested(5000) } } });
      const res = await h.execute<Data, unknown>(RECORD_QUERY, { drSid: SAMPLE_DR_SID });
      expect(res.status, f.api).toBe(200);
      // The derived durations fail with the dates they are computed from.
      const derived = {
        date_start: ['ringDuration'],
        date_talk: ['ringDuration', 'talkDuration'],
        date_stop: ['talkDuration'],
      };
      const failed = [f.name, ...((derived as Record<string, string[]>)[f.api] ?? [])];
      expect(failedFields(res), f.api).toEqual(
        failed.map((name) => [`callDetailRecord.${name}`, 'UPSTREAM_BAD_RESPONSE']).sort(),
      );
      expectOthersIntact(res.body.data?.callDetailRecord as Record<string, unknown>, failed);
      const warnings = h.logs.filter((l) => l.includes('unexpected field value'));
      expect(warnings, f.api).toHaveLength(1);
      expect(warnings[0]).toContain(`"field":"${f.api}"`);
      expect(warnings[0]).not.toContain('[[[');
    }
  });
});
