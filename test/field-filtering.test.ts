import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { graphql } from './gql/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.simulator.resetLog());

describe('include_fields pushdown', () => {
  it('asks CarrierX only for the one field a query selects', async () => {
    const res = await h.execute(
      graphql(`
        query OneField($drSid: UUID!) {
          callDetailRecord(drSid: $drSid) {
            price
          }
        }
      `),
      { drSid: SAMPLE_DR_SID },
    );
    expect(res.body.data?.callDetailRecord?.price).toBe('0.0025');
    expect(h.includeFieldsSeen()).toEqual([['dr_sid', 'price']]);
  });

  it('maps aliases back to the API names they select', async () => {
    const res = await h.execute(
      graphql(`
        query Aliases($drSid: UUID!) {
          callDetailRecord(drSid: $drSid) {
            cost: price
            alsoCost: price
            caller: numberSrc
          }
        }
      `),
      { drSid: SAMPLE_DR_SID },
    );
    expect(res.body.data?.callDetailRecord).toEqual({
      cost: '0.0025',
      alsoCost: '0.0025',
      caller: '+15012678830',
    });
    expect(h.includeFieldsSeen()).toEqual([['dr_sid', 'number_src', 'price']]);
  });

  it('follows named and inline fragments', async () => {
    graphql(`
      fragment Codecs on CallDetailRecord {
        codecSrc
      }
    `);
    graphql(`
      fragment Billing on CallDetailRecord {
        durationBilling
        ...Codecs
      }
    `);
    const res = await h.execute(
      graphql(`
        query Fragments($drSid: UUID!) {
          callDetailRecord(drSid: $drSid) {
            ...Billing
            ... on CallDetailRecord {
              ipDst
            }
            ... {
              sipcause
            }
          }
        }
      `),
      { drSid: SAMPLE_DR_SID },
    );
    expect(res.body.data?.callDetailRecord).toMatchObject({
      durationBilling: '60',
      codecSrc: 'amrwb',
      ipDst: '10.222.2.197:5060',
      sipcause: '200',
    });
    expect(h.includeFieldsSeen()).toEqual([
      ['codec_src', 'dr_sid', 'duration_billing', 'ip_dst', 'sipcause'],
    ]);
  });

  it('leaves out fields under @include(if: false) and @skip(if: true), per the variables of each request', async () => {
    const doc = graphql(`
      query Conditional($drSid: UUID!, $withPrice: Boolean!, $skipRate: Boolean!) {
        callDetailRecord(drSid: $drSid) {
          type
          price @include(if: $withPrice)
          rate @skip(if: $skipRate)
        }
      }
    `);
    await h.execute(doc, { drSid: SAMPLE_DR_SID, withPrice: false, skipRate: true });
    await h.execute(doc, { drSid: SAMPLE_DR_SID, withPrice: true, skipRate: false });
    expect(h.includeFieldsSeen()).toEqual([
      ['dr_sid', 'type'],
      ['dr_sid', 'price', 'rate', 'type'],
    ]);
  });

  it('asks only for dr_sid when the query selects just __typename', async () => {
    const res = await h.execute(
      graphql(`
        query TypenameOnly($drSid: UUID!) {
          callDetailRecord(drSid: $drSid) {
            __typename
          }
        }
      `),
      { drSid: SAMPLE_DR_SID },
    );
    expect(res.body.data?.callDetailRecord).toEqual({ __typename: 'CallDetailRecord' });
    expect(h.includeFieldsSeen()).toEqual([['dr_sid']]);
  });

  it('fetches only the date fields that ringDuration and talkDuration are computed from', async () => {
    const doc = graphql(`
      query Derived($drSid: UUID!) {
        callDetailRecord(drSid: $drSid) {
          ringDuration
          talkDuration
        }
      }
    `);
    const answered = await h.execute(doc, { drSid: SAMPLE_DR_SID });
    // 15:32:15.589 → 15:32:16.535 → 15:32:19.839
    expect(answered.body.data?.callDetailRecord).toEqual({ ringDuration: '0.946', talkDuration: '3.304' });
    const unanswered = await h.execute(doc, { drSid: UNANSWERED_DR_SID });
    expect(unanswered.body.data?.callDetailRecord).toEqual({ ringDuration: null, talkDuration: null });
    expect(unanswered.body.errors).toBeUndefined();
    expect(h.includeFieldsSeen()).toEqual([
      ['date_start', 'date_stop', 'date_talk', 'dr_sid'],
      ['date_start', 'date_stop', 'date_talk', 'dr_sid'],
    ]);
  });
});

describe('batching', () => {
  it('makes one upstream call with the union of fields for two aliases of one SID', async () => {
    const res = await h.execute(
      graphql(`
        query SameSidTwice($drSid: UUID!) {
          money: callDetailRecord(drSid: $drSid) {
            price
            rate
          }
          numbers: callDetailRecord(drSid: $drSid) {
            numberSrc
            numberDst
          }
        }
      `),
      { drSid: SAMPLE_DR_SID },
    );
    expect(res.body.data).toEqual({
      money: { price: '0.0025', rate: '0.0025' },
      numbers: { numberSrc: '+15012678830', numberDst: '15162065451' },
    });
    expect(h.includeFieldsSeen()).toEqual([['dr_sid', 'number_dst', 'number_src', 'price', 'rate']]);
  });

  it('treats differently-cased spellings of one SID as the same record', async () => {
    await h.execute(
      graphql(`
        query CaseInsensitive($lower: UUID!, $upper: UUID!) {
          a: callDetailRecord(drSid: $lower) {
            price
          }
          b: callDetailRecord(drSid: $upper) {
            rate
          }
        }
      `),
      { lower: SAMPLE_DR_SID, upper: SAMPLE_DR_SID.toUpperCase() },
    );
    expect(h.includeFieldsSeen()).toEqual([['dr_sid', 'price', 'rate']]);
  });

  it('makes one call per distinct SID', async () => {
    const res = await h.execute(
      graphql(`
        query TwoSids($a: UUID!, $b: UUID!) {
          a: callDetailRecord(drSid: $a) {
            drSid
          }
          b: callDetailRecord(drSid: $b) {
            drSid
            dateTalk
          }
        }
      `),
      { a: SAMPLE_DR_SID, b: UNANSWERED_DR_SID },
    );
    expect(res.body.data).toEqual({
      a: { drSid: SAMPLE_DR_SID },
      b: { drSid: UNANSWERED_DR_SID, dateTalk: null },
    });
    const seen = h.simulator.requests.map((r) => r.drSid).sort();
    expect(seen).toEqual([SAMPLE_DR_SID, UNANSWERED_DR_SID].sort());
  });

  it('shares nothing between requests: the same query twice makes two upstream calls', async () => {
    const doc = graphql(`
      query Twice($drSid: UUID!) {
        callDetailRecord(drSid: $drSid) {
          price
        }
      }
    `);
    await h.execute(doc, { drSid: SAMPLE_DR_SID });
    await h.execute(doc, { drSid: SAMPLE_DR_SID });
    expect(h.simulator.requests).toHaveLength(2);
  });
});

describe('documents graphql-jit would get wrong', () => {
  it('runs the operation named in operationName when a document holds several', async () => {
    const document = `query A { __typename } query B { callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }`;
    const run = async (operationName: string) => {
      const response = await h.app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer carrierx-demo-token' },
        body: JSON.stringify({ query: document, operationName }),
      });
      return response.json();
    };
    expect(await run('B')).toEqual({ data: { callDetailRecord: { price: '0.0025' } } });
    expect(await run('A')).toEqual({ data: { __typename: 'Query' } });
    expect(h.simulator.requests).toHaveLength(1);
  });

  it('uses a required variable default when no value is sent', async () => {
    const res = await h.execute(
      `query ($drSid: UUID! = "${SAMPLE_DR_SID}") { callDetailRecord(drSid: $drSid) { price } }`,
    );
    expect(res.body).toEqual({ data: { callDetailRecord: { price: '0.0025' } } });
  });
});

describe('CARRIERX_INCLUDE_FIELDS_PARAM', () => {
  const query = `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price numberSrc } }`;

  it('sends the field list under another parameter name when configured', async () => {
    const renamed = await createHarness({ CARRIERX_INCLUDE_FIELDS_PARAM: 'includeFields' });
    const res = await renamed.execute(query);
    expect(res.body).toEqual({ data: { callDetailRecord: { price: '0.0025', numberSrc: '+15012678830' } } });
    expect(renamed.simulator.requests[0]?.query).toEqual({ includeFields: 'dr_sid,number_src,price' });
    await renamed.close();
  });

  it('fetches whole records, with the same answers, when set to off', async () => {
    const off = await createHarness({ CARRIERX_INCLUDE_FIELDS_PARAM: 'off' });
    const res = await off.execute(query);
    expect(res.body).toEqual({ data: { callDetailRecord: { price: '0.0025', numberSrc: '+15012678830' } } });
    expect(off.simulator.requests[0]?.query).toEqual({});
    await off.close();
  });
});
