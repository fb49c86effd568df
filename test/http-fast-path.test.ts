import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CallDetailRecordDocument } from '../examples/operations/gql/graphql.ts';
import { SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createRequestHandler, type RequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { createListeners } from './helpers/listen.ts';

interface RawResponse {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** One HTTP/1.1 request with exactly these headers and bytes (fetch would add or normalise some). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<RawResponse>((resolve, reject) => {
    // A fresh connection each time: a refused oversized body leaves its socket unusable.
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: text }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json', authorization: 'Bearer carrierx-demo-token' };
const post = (body: string, headers: Record<string, string> = json) => ({
  method: 'POST',
  headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
  body,
});
const q = (query: string, variables?: unknown) => JSON.stringify({ query, variables });
/** The example operations' manifest (npm run codegen), and the id of the one-record operation in it. */
const PERSISTED_MANIFEST = 'examples/operations/gql/persisted-documents.json';
const PERSISTED_ID = (CallDetailRecordDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;

/** Requests of every shape: the fast path must answer each byte-for-byte as Yoga does. */
const CASES: [string, { method: string; headers: Record<string, string>; body?: string }][] = [
  [
    'a record with all its derived fields',
    post(
      q(
        `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid price ringDuration talkDuration partner { partnerSid } } }`,
      ),
    ),
  ],
  [
    'two records by variables',
    post(
      q(
        'query($a: UUID!, $b: UUID!) { a: callDetailRecord(drSid: $a) { price } b: callDetailRecord(drSid: $b) { dateTalk } }',
        { a: SAMPLE_DR_SID, b: UNANSWERED_DR_SID },
      ),
    ),
  ],
  [
    'a filtered page of callDetailRecords with edges and page info',
    post(
      q(
        'query($f: CallDetailRecordFilter) { callDetailRecords(first: 3, filter: $f, orderBy: { field: PRICE, direction: DESC }) { totalCount edges { cursor node { drSid price numberSrc } } pageInfo { hasNextPage endCursor } } }',
        { f: { direction: 'INBOUND', numberSrc: { like: '+1%' } } },
      ),
    ),
  ],
  [
    'a callDetailRecords cursor that is not one (BAD_USER_INPUT)',
    post(q('{ callDetailRecords(after: "nope") { nodes { drSid } } }')),
  ],
  [
    'a missing record (NOT_FOUND)',
    post(q('{ callDetailRecord(drSid: "00000000-0000-4000-8000-000000000000") { price } }')),
  ],
  [
    'no credentials (UNAUTHENTICATED)',
    post(q(`{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }`), {
      'content-type': 'application/json',
    }),
  ],
  ['a validation error', post(q('{ callDetailRecord(drSid: "nope") { price } }'))],
  ['an unknown field', post(q('{ nothing }'))],
  ['a syntax error', post(q('{ callDetailRecord('))],
  [
    'a variable of the wrong type',
    post(q('query($a: UUID!) { callDetailRecord(drSid: $a) { price } }', { a: 5 })),
  ],
  ['a missing query', post('{"variables":{}}')],
  ['a query that is not a string', post('{"query":42}')],
  ['malformed JSON', post('{"query": "{ __typename }"')],
  ['a JSON string body', post('"{ __typename }"')],
  ['a batch', post(`[${q('{ __typename }')}]`)],
  ['a mutation', post(q('mutation { x }'))],
  [
    'a persisted document by documentId',
    post(JSON.stringify({ documentId: PERSISTED_ID, variables: { drSid: SAMPLE_DR_SID } })),
  ],
  [
    'a documentId in no manifest (PERSISTED_QUERY_NOT_FOUND)',
    post(`{"documentId":"sha256:${'0'.repeat(64)}"}`),
  ],
  [
    'a document with a hash that is not its own (PERSISTED_QUERY_HASH_MISMATCH)',
    post(JSON.stringify({ query: '{ __typename }', documentId: PERSISTED_ID })),
  ],
  [
    'an operation name that is not in the document',
    { ...post(JSON.stringify({ query: 'query A { __typename }', operationName: 'B' })) },
  ],
  ['an Origin header (CORS)', post(q('{ __typename }'), { ...json, origin: 'http://example.com' })],
  [
    'application/graphql-response+json',
    post(q('{ __typename }'), { ...json, accept: 'application/graphql-response+json' }),
  ],
  ['an explicit application/json Accept', post(q('{ __typename }'), { ...json, accept: 'application/json' })],
  [
    'a charset in the content type',
    post(q('{ __typename }'), { ...json, 'content-type': 'application/json; charset=utf-8' }),
  ],
  ['a text/plain body', post(q('{ __typename }'), { ...json, 'content-type': 'text/plain' })],
  [
    'an oversized declared body',
    { method: 'POST', headers: { ...json, 'content-length': '999999999' }, body: '' },
  ],
  ['a GET', { method: 'GET', headers: { accept: 'application/json' } }],
  ['a body over the limit', post(q(`{ __typename } # ${'x'.repeat(300 * 1024)}`))],
  ['a Host header no URL can hold', post(q('{ __typename }'), { ...json, host: 'localhost:99999' })],
  ['a GET with a Host header no URL can hold', { method: 'GET', headers: { host: 'a b' } }],
];

let h: Harness;
const { listen, closeAll } = createListeners();
let fastPort = 0;
let yogaPort = 0;
let fast: RequestHandler;

beforeAll(async () => {
  h = await createHarness({ PERSISTED_DOCUMENTS: PERSISTED_MANIFEST });
  const maxBodyBytes = 256 * 1024; // the app's default MAX_REQUEST_BODY_BYTES
  fast = createRequestHandler(h.app, { fastPath: true, maxBodyBytes });
  fastPort = await listen(fast);
  yogaPort = await listen(createRequestHandler(h.app, { fastPath: false, maxBodyBytes }));
});
afterAll(async () => {
  closeAll();
  await h.close();
});
beforeEach(() => h.simulator.resetLog());

describe('the HTTP fast path', () => {
  it.each(CASES)('answers %s exactly as Yoga does', async (_label, { method, headers, body }) => {
    const path = method === 'GET' ? `/graphql?query=${encodeURIComponent('{ __typename }')}` : '/graphql';
    // One request id for both: a generated one would differ, and error answers carry it.
    const withId = { 'x-request-id': 'parity-1', ...headers };
    const viaFastPath = await send(fastPort, method, path, withId, body);
    const calls = h.simulator.requests.length;
    const viaYoga = await send(yogaPort, method, path, withId, body);
    expect(viaFastPath).toEqual(viaYoga);
    expect(viaFastPath.status).toBeLessThan(500);
    // Both made the same upstream calls.
    expect(h.simulator.requests.length).toBe(calls * 2);
  });

  it('serves plain JSON POSTs itself and leaves every other shape to Yoga', async () => {
    const before = { ...fast.stats };
    await send(fastPort, 'POST', '/graphql', post(q('{ __typename }')).headers, q('{ __typename }'));
    await send(fastPort, 'GET', `/graphql?query=${encodeURIComponent('{ __typename }')}`, {});
    await send(
      fastPort,
      'POST',
      '/graphql',
      post(q('{ __typename }'), { ...json, origin: 'http://x' }).headers,
      q('{ __typename }'),
    );
    expect(fast.stats.fastPath - before.fastPath).toBe(1);
    expect(fast.stats.yoga - before.yoga).toBe(2);
  });

  it('lets many upstream calls of one request wait on its signal without a listener-leak warning', async () => {
    // Two upstream slots for ten parallel calls: each call listens on the request's signal while it waits for
    // a slot and while it runs, so more than Node's default of 10 listeners are on it at once.
    const small = await createHarness({ CARRIERX_MAX_CONCURRENT_CALLS: '2', CARRIERX_CONNECTIONS: '2' });
    const port = await listen(createRequestHandler(small.app, { fastPath: true, maxBodyBytes: 256 * 1024 }));
    const list = await fetch(`${small.baseUrl}/calls/call_drs?limit=20`, {
      headers: { authorization: 'Bearer carrierx-demo-token' },
    });
    const sids = ((await list.json()) as { items: { dr_sid: string }[] }).items.map((item) => item.dr_sid);
    expect(sids).toHaveLength(20);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    small.simulator.faults.add({ latencyMs: 10 });
    const body = q(
      `{ ${sids.map((sid, i) => `r${i}: callDetailRecord(drSid: "${sid}") { drSid }`).join(' ')} }`,
    );
    const res = await send(port, 'POST', '/graphql', post(body).headers, body);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    await small.close();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).errors).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('cancels the upstream call when the client disconnects', async () => {
    h.simulator.faults.add({ fault: { kind: 'hang' } });
    const body = q(`{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }`);
    const req = request({
      host: '127.0.0.1',
      port: fastPort,
      method: 'POST',
      path: '/graphql',
      headers: post(body).headers,
    });
    req.on('error', () => {});
    req.end(body);
    await expect.poll(() => h.simulator.requests.length + h.simulator.stats.requests).toBeGreaterThan(0);
    req.destroy();
    await expect
      .poll(() => h.logs.some((line) => line.includes('CarrierX call cancelled: the client disconnected')))
      .toBe(true);
    // A client that goes away is not a server error.
    expect(h.logs.filter((line) => line.includes('"level":50'))).toEqual([]);
    h.simulator.faults.clear();
  });

  it('answers an error thrown after the operation ran with one 500, without running it again through Yoga', async () => {
    // Last: it logs an error, which the test above forbids. It stands in for any failure past execution
    // (such as the production error masking that once threw).
    const app = Object.create(h.app) as typeof h.app;
    app.getResultForParams = async (...args) => {
      await h.app.getResultForParams(...args);
      throw new Error('failed after execution');
    };
    const port = await listen(createRequestHandler(app, { fastPath: true, maxBodyBytes: 256 * 1024 }));
    const logged = h.logs.length;
    const body = q(`{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }`);
    const res = await send(
      port,
      'POST',
      '/graphql',
      { ...post(body).headers, 'x-request-id': 'r-500' },
      body,
    );
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({
      errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      extensions: { requestId: 'r-500' },
    });
    expect(h.simulator.requests).toHaveLength(1);
    expect(h.logs.slice(logged).filter((line) => line.includes('failed after execution'))).toHaveLength(1);
  });
});
