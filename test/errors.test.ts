import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DESCENDANT_DR_SID,
  DESCENDANT_TOKEN,
  NO_SCOPE_TOKEN,
  SAMPLE_DR_SID,
  UNANSWERED_DR_SID,
} from '../src/carrierx/simulator/index.ts';
import { maskErrorForProduction } from '../src/errors.ts';
import { graphql } from './gql/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const MISSING_SID = '00000000-0000-4000-8000-000000000000';
const PriceQuery = graphql(`
  query Price($drSid: UUID!) {
    callDetailRecord(drSid: $drSid) {
      drSid
      price
    }
  }
`);
const TwoRecords = graphql(`
  query TwoRecords($a: UUID!, $b: UUID!) {
    a: callDetailRecord(drSid: $a) {
      drSid
      price
    }
    b: callDetailRecord(drSid: $b) {
      drSid
      price
    }
  }
`);

let h: Harness;
beforeAll(async () => {
  // The default CARRIERX_TIMEOUT_MS: a short one here made a cold first call on a loaded machine time out in
  // tests that are not about timeouts. The timeout test has its own harness.
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  h.simulator.faults.clear();
  h.simulator.resetLog();
});

const codes = (res: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  (res.body.errors ?? []).map((e) => e.extensions?.code);

describe('error codes', () => {
  it('returns null and NOT_FOUND when the record does not exist', async () => {
    const res = await h.execute(PriceQuery, { drSid: MISSING_SID });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ callDetailRecord: null });
    expect(codes(res)).toEqual(['NOT_FOUND']);
    expect(res.body.errors?.[0]?.path).toEqual(['callDetailRecord']);
  });

  it('returns UNAUTHENTICATED saying the token was rejected (invalid or expired) when CarrierX refuses it', async () => {
    const res = await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { token: 'not-a-real-token' });
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    const message = res.body.errors?.[0]?.message;
    // The caller did send a header: telling them to send one would send them looking in the wrong place.
    expect(message).toMatch(/rejected the token.*invalid or has expired/);
    expect(message).not.toContain('not-a-real-token');
    expect(h.simulator.requests).toHaveLength(1);
  });

  it('returns UNAUTHENTICATED without calling CarrierX when the request has no credentials, saying a gateway must forward Authorization', async () => {
    const res = await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { token: null });
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.body.errors?.[0]?.message).toMatch(
      /without an Authorization header.*gateway.*must forward the Authorization header to this subgraph/,
    );
    expect(h.simulator.requests).toHaveLength(0);
  });

  it.each([
    ['a scheme CarrierX does not use', 'Token abc'],
    ['a header-injection attempt', 'Bearer abc\tX-Injected: 1'],
    ['a bare token', 'carrierx-demo-token'],
    ['an overlong token', `Bearer ${'a'.repeat(5000)}`],
  ])('returns UNAUTHENTICATED without calling CarrierX for %s', async (_label, authorization) => {
    const res = await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { authorization });
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.body.errors?.[0]?.message).toMatch(/^The Authorization header is malformed/);
    expect(h.simulator.requests).toHaveLength(0);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['multipart/form-data', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['no Content-Type at all', {}],
  ])(
    'answers a POST of %s with 415 and a JSON error naming the media types that are accepted',
    async (_label, headers) => {
      const res = await h.app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: headers as Record<string, string>,
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors.map((e) => e.extensions.code)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
      expect(body.errors[0]?.message).toContain('application/json');
      expect(body.errors[0]?.message).toContain('application/graphql+json');
      expect(body.errors[0]?.message).toContain('GET');
    },
  );

  it('returns FORBIDDEN naming the scopes when the token lacks calls.read', async () => {
    const res = await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { token: NO_SCOPE_TOKEN });
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expect(res.body.errors?.[0]?.message).toMatch(/calls\.read.*calls\.manage/);
  });

  it('returns FORBIDDEN naming calls.read_descendant for a record of an inherited partner', async () => {
    const denied = await h.execute(PriceQuery, { drSid: DESCENDANT_DR_SID });
    expect(codes(denied)).toEqual(['FORBIDDEN']);
    expect(denied.body.errors?.[0]?.message).toContain('calls.read_descendant');
    const allowed = await h.execute(PriceQuery, { drSid: DESCENDANT_DR_SID }, { token: DESCENDANT_TOKEN });
    expect(allowed.body.data?.callDetailRecord?.drSid).toBe(DESCENDANT_DR_SID);
  });

  it('returns RATE_LIMITED with retryAfter when CarrierX answers 429', async () => {
    // On a server of its own: the token then waits out Retry-After (7 s) on every call, the next tests' too.
    const limited = await createHarness();
    try {
      limited.simulator.faults.add({ fault: { kind: 'rate-limit', retryAfter: '7' } });
      const res = await limited.execute(PriceQuery, { drSid: SAMPLE_DR_SID });
      expect(codes(res)).toEqual(['RATE_LIMITED']);
      expect(res.body.errors?.[0]?.extensions?.retryAfter).toBe(7);
    } finally {
      await limited.close();
    }
  });

  it.each([500, 502, 503, 504])('returns UPSTREAM_UNAVAILABLE when CarrierX answers %i', async (status) => {
    h.simulator.faults.add({ fault: { kind: 'status', status } });
    const res = await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID });
    expect(codes(res)).toEqual(['UPSTREAM_UNAVAILABLE']);
  });

  it('returns UPSTREAM_UNAVAILABLE when the connection is reset', async () => {
    h.simulator.faults.add({ fault: { kind: 'reset' } });
    const res = await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID });
    expect(codes(res)).toEqual(['UPSTREAM_UNAVAILABLE']);
  });

  it('returns UPSTREAM_UNAVAILABLE when CarrierX does not answer within CARRIERX_TIMEOUT_MS', async () => {
    const short = await createHarness({ CARRIERX_TIMEOUT_MS: '300' });
    try {
      short.simulator.faults.add({ fault: { kind: 'hang' } });
      const res = await short.execute(PriceQuery, { drSid: SAMPLE_DR_SID });
      expect(codes(res)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(res.body.errors?.[0]?.message).toContain('300 ms');
    } finally {
      await short.close();
    }
  });

  it('returns UPSTREAM_UNAVAILABLE when nothing listens at CARRIERX_BASE_URL', async () => {
    const down = await createHarness();
    await down.simulator.close();
    const res = await down.execute(PriceQuery, { drSid: SAMPLE_DR_SID });
    expect(codes(res)).toEqual(['UPSTREAM_UNAVAILABLE']);
    await down.close().catch(() => {});
  });

  it.each([
    ['a body that is not JSON', 'malformed-json'],
    ['a JSON body that is not a CDR object', 'not-a-cdr'],
    ['a truncated body', 'truncated-body'],
  ] as const)('returns UPSTREAM_BAD_RESPONSE for %s', async (_label, kind) => {
    h.simulator.faults.add({ fault: { kind } });
    const res = await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID });
    expect(res.body.data).toEqual({ callDetailRecord: null });
    expect(codes(res)).toEqual(['UPSTREAM_BAD_RESPONSE']);
  });
});

describe('unexpected upstream values', () => {
  it('nulls only the fields with a wrong type, each with its own error, and logs them', async () => {
    h.simulator.faults.add({ fault: { kind: 'wrong-types' } });
    const res = await h.execute(
      `query($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid version transcoded price dateStart stirIdentity numberSrc } }`,
      { drSid: SAMPLE_DR_SID },
    );
    const record = (res.body.data as { callDetailRecord: Record<string, unknown> }).callDetailRecord;
    expect(record).toMatchObject({
      drSid: SAMPLE_DR_SID,
      numberSrc: '+15012678830',
      version: null,
      transcoded: null,
      price: null,
      dateStart: null,
      stirIdentity: null,
    });
    const failed = (res.body.errors ?? []).map((e) => [e.path?.at(-1), e.extensions?.code]);
    expect(failed.sort()).toEqual(
      ['dateStart', 'price', 'stirIdentity', 'transcoded', 'version'].map((f) => [
        f,
        'UPSTREAM_BAD_RESPONSE',
      ]),
    );
    expect(h.logs.some((l) => l.includes('unexpected field value') && l.includes('"field":"version"'))).toBe(
      true,
    );
  });

  it('nulls direction alone, with an error, when CarrierX sends a direction it never documented', async () => {
    h.simulator.faults.add({ fault: { kind: 'unknown-enum' } });
    const res = await h.execute(
      `query($drSid: UUID!) { callDetailRecord(drSid: $drSid) { direction price } }`,
      {
        drSid: SAMPLE_DR_SID,
      },
    );
    expect(res.body.data).toEqual({ callDetailRecord: { direction: null, price: '0.0025' } });
    expect(codes(res)).toEqual(['UPSTREAM_BAD_RESPONSE']);
  });
});

describe('isolation and validation', () => {
  it('one failing SID never fails the other records in the same operation', async () => {
    h.simulator.faults.add({ match: { drSid: UNANSWERED_DR_SID }, fault: { kind: 'status', status: 503 } });
    const res = await h.execute(TwoRecords, { a: SAMPLE_DR_SID, b: UNANSWERED_DR_SID });
    expect(res.body.data?.a).toEqual({ drSid: SAMPLE_DR_SID, price: '0.0025' });
    expect(res.body.data?.b).toBeNull();
    expect(codes(res)).toEqual(['UPSTREAM_UNAVAILABLE']);
  });

  it.each([
    'not-a-uuid',
    '../../calls/call_drs',
    'c02a73b2-8401-459a-af7e-f4cc3eee7854/../x',
    'c02a73b2-8401-459a-af7e-f4cc3eee7854?include_fields=price',
    '',
  ])('rejects the malformed drSid %j as a validation error without calling CarrierX', async (drSid) => {
    const res = await h.execute(PriceQuery, { drSid });
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0]?.message).toMatch(/UUID/);
    expect(h.simulator.requests).toHaveLength(0);
  });

  it('rejects a malformed drSid literal without calling CarrierX', async () => {
    const res = await h.execute(`{ callDetailRecord(drSid: "12345") { price } }`);
    expect(res.body.errors?.[0]?.message).toMatch(/UUID/);
    expect(h.simulator.requests).toHaveLength(0);
  });

  it('uses CARRIERX_TOKEN only when the request carries no Authorization header', async () => {
    const withFallback = await createHarness({ CARRIERX_TOKEN: 'carrierx-demo-token' });
    const res = await withFallback.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { token: null });
    expect(res.body.data?.callDetailRecord?.price).toBe('0.0025');
    expect(withFallback.simulator.requests[0]?.authorization).toBe('Bearer carrierx-demo-token');
    const own = await withFallback.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { token: NO_SCOPE_TOKEN });
    expect(codes(own)).toEqual(['FORBIDDEN']);
    expect(withFallback.simulator.requests[1]?.authorization).toBe(`Bearer ${NO_SCOPE_TOKEN}`);
    await withFallback.close();
  });

  it('forwards the Authorization header verbatim and URL-encodes dr_sid in the path', async () => {
    await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { authorization: 'bearer carrierx-demo-token' });
    expect(h.simulator.requests[0]?.authorization).toBe('bearer carrierx-demo-token');
    expect(h.simulator.requests[0]?.path).toBe(`/core/v2/calls/call_drs/${SAMPLE_DR_SID}`);
  });
});

describe('secrets', () => {
  it('never puts the caller token, an upstream body or a stack trace into responses or logs', async () => {
    const secret = 'Sup3rSecretTokenValue';
    const responses: string[] = [];
    responses.push((await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { token: secret })).text);
    responses.push((await h.execute(PriceQuery, { drSid: MISSING_SID }, { token: secret })).text);
    h.simulator.faults.add({ fault: { kind: 'malformed-json' } });
    responses.push((await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { token: secret })).text);
    h.simulator.faults.clear();
    h.simulator.faults.add({ fault: { kind: 'status', status: 500 } });
    responses.push((await h.execute(PriceQuery, { drSid: SAMPLE_DR_SID }, { token: secret })).text);
    for (const text of [...responses, ...h.logs]) {
      expect(text).not.toContain(secret);
      expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
      expect(text).not.toContain('Bad credentials');
      expect(text).not.toContain('Cannot find item by SID');
    }
  });
});

describe('error masking in production', () => {
  it('answers an error whose extensions are missing (as graphql-jit builds them) instead of failing with a 500', () => {
    // graphql-jit's errors are GraphQLErrors by prototype, with `extensions` left undefined; Yoga's masking
    // passes one with no originalError through as it is.
    const jitStyle = Object.create(GraphQLError.prototype, {
      message: { value: 'Variable "$s" of required type "UUID!" was not provided.', enumerable: true },
      extensions: { value: undefined },
    }) as GraphQLError;
    const masked = maskErrorForProduction(jitStyle, 'Unexpected error.', false) as GraphQLError;
    expect(masked.message).toBe('Variable "$s" of required type "UUID!" was not provided.');
  });
});
