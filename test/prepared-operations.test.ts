import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createRequestHandler, type RequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { createListeners } from './helpers/listen.ts';
import { postGraphQL } from './helpers/post.ts';

const AUTH = { authorization: 'Bearer carrierx-demo-token' };
const MISSING = '00000000-0000-4000-8000-000000000000';
const THREE = 'query Three($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price dateStart } }';
const body = (query: string, variables?: unknown, operationName?: string) =>
  JSON.stringify({ query, variables, operationName });

let h: Harness;
const { listen, closeAll } = createListeners();
let fast: RequestHandler;
let fastPort = 0;
let yogaPort = 0;

beforeAll(async () => {
  h = await createHarness({ ACCESS_LOG: 'true' });
  fast = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 });
  fastPort = await listen(fast);
  yogaPort = await listen(createRequestHandler(h.app, { fastPath: false, maxBodyBytes: 256 * 1024 }));
});
afterAll(async () => {
  closeAll();
  await h.close();
});
beforeEach(() => {
  h.simulator.faults.clear();
  h.simulator.resetLog();
});

/** Sends `text` to the fast path until it runs prepared, then once more there and once through Yoga alone. */
async function preparedAndYoga(text: string, headers: Record<string, string> = AUTH) {
  const ids = { 'x-request-id': 'prepared-1' };
  await postGraphQL(fastPort, text, { ...headers, ...ids });
  const before = fast.stats.prepared;
  const prepared = await postGraphQL(fastPort, text, { ...headers, ...ids });
  const ranPrepared = fast.stats.prepared - before;
  const yoga = await postGraphQL(yogaPort, text, { ...headers, ...ids });
  return { prepared, yoga, ranPrepared };
}

const same = (a: { status: number; text: string }, b: { status: number; text: string }) =>
  expect({ status: a.status, text: a.text }).toEqual({ status: b.status, text: b.text });

describe('prepared operations', () => {
  it.each([
    [
      'a whole record',
      `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid price ringDuration talkDuration partner { partnerSid } } }`,
    ],
    ['a record by variable', body(THREE, { drSid: UNANSWERED_DR_SID })],
    [
      'two aliases of two records',
      `{ a: callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } b: callDetailRecord(drSid: "${UNANSWERED_DR_SID}") { dateTalk } }`,
    ],
    ['__typename alone', '{ __typename }'],
    [
      'a fragment placed last',
      `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid ... on CallDetailRecord { price } } }`,
    ],
  ])('runs %s again without the pipeline, answering byte for byte as Yoga does', async (_label, query) => {
    const text = query.startsWith('{"') ? query : body(query);
    const { prepared, yoga, ranPrepared } = await preparedAndYoga(text);
    expect(ranPrepared).toBe(1);
    same(prepared, yoga);
    expect(JSON.parse(prepared.text).errors).toBeUndefined();
  });

  it.each([
    [
      '$constructor absent',
      'query C($constructor: Int) { callDetailRecords(first: $constructor) { nodes { drSid } } }',
    ],
    [
      '$toString absent, as a cursor',
      'query S($toString: String) { callDetailRecords(first: 2, after: $toString) { nodes { drSid } } }',
    ],
    [
      '$valueOf in empty variables',
      'query V($valueOf: Int) { callDetailRecords(first: $valueOf) { nodes { drSid } } }',
      {},
    ],
    [
      '$hasOwnProperty given',
      'query H($hasOwnProperty: Int) { callDetailRecords(first: $hasOwnProperty) { nodes { drSid } } }',
      { hasOwnProperty: 2 },
    ],
  ] as const)(
    'runs a variable named after an Object.prototype member (%s) again without the pipeline, answering as Yoga does',
    async (_label, query, variables?: unknown) => {
      const { prepared, yoga, ranPrepared } = await preparedAndYoga(body(query, variables));
      expect(ranPrepared).toBe(1);
      same(prepared, yoga);
      expect(JSON.parse(prepared.text).errors).toBeUndefined();
    },
  );

  it.each([
    [
      'CarrierX has no such record (NOT_FOUND)',
      { match: { drSid: SAMPLE_DR_SID }, fault: { kind: 'status', status: 404 } },
    ],
    [
      'CarrierX fails (retried, then UPSTREAM_UNAVAILABLE)',
      { match: { drSid: SAMPLE_DR_SID }, fault: { kind: 'status', status: 503 } },
    ],
    [
      'CarrierX sends fields of the wrong types (an error per field)',
      { match: { drSid: SAMPLE_DR_SID }, fault: { kind: 'wrong-types' } },
    ],
  ] as const)('answers errors when %s exactly as Yoga does', async (_label, rule) => {
    const text = body(
      `query Errors($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price dateStart duration } }`,
      { drSid: SAMPLE_DR_SID },
    );
    // Prepared while CarrierX answers well; then the same operation meets the fault, on both paths.
    await postGraphQL(fastPort, text, AUTH);
    h.simulator.faults.add(rule as never);
    const { prepared, yoga, ranPrepared } = await preparedAndYoga(text);
    expect(ranPrepared).toBe(1);
    same(prepared, yoga);
    expect(JSON.parse(prepared.text).errors.length).toBeGreaterThan(0);
    expect(prepared.text).toContain('"requestId":"prepared-1"');
  });

  it('answers a caller without credentials as Yoga does (UNAUTHENTICATED), calling nothing', async () => {
    const text = body(THREE, { drSid: SAMPLE_DR_SID });
    await postGraphQL(fastPort, text, AUTH);
    h.simulator.resetLog();
    const { prepared, yoga, ranPrepared } = await preparedAndYoga(text, {});
    expect(ranPrepared).toBe(1);
    same(prepared, yoga);
    expect(JSON.parse(prepared.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(h.simulator.requests).toHaveLength(0);
  });

  it('leaves variables that do not fit their type to the pipeline, which refuses them before calling CarrierX', async () => {
    await postGraphQL(fastPort, body(THREE, { drSid: SAMPLE_DR_SID }), AUTH);
    h.simulator.resetLog();
    for (const drSid of [5, 'not-a-uuid', null]) {
      const before = fast.stats.prepared;
      const text = body(THREE, { drSid });
      const viaFast = await postGraphQL(fastPort, text, { ...AUTH, 'x-request-id': 'v' });
      const viaYoga = await postGraphQL(yogaPort, text, { ...AUTH, 'x-request-id': 'v' });
      expect(fast.stats.prepared).toBe(before);
      same(viaFast, viaYoga);
      expect(JSON.parse(viaFast.text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    expect(h.simulator.requests).toHaveLength(0);
  });

  it('keys a prepared operation by its operation name as well as its text', async () => {
    const query = 'query A { __typename }';
    await postGraphQL(fastPort, body(query, undefined, 'A'), AUTH);
    const before = fast.stats.prepared;
    for (const name of ['B', '']) {
      const text = body(query, undefined, name);
      const viaFast = await postGraphQL(fastPort, text, { ...AUTH, 'x-request-id': 'n' });
      const viaYoga = await postGraphQL(yogaPort, text, { ...AUTH, 'x-request-id': 'n' });
      same(viaFast, viaYoga);
      expect(JSON.parse(viaFast.text).errors).toHaveLength(1);
    }
    expect(fast.stats.prepared).toBe(before);
    await postGraphQL(fastPort, body(query, undefined, 'A'), AUTH);
    expect(fast.stats.prepared).toBe(before + 1);
  });

  it('leaves requests with other parameters (extensions, documentId) to the pipeline', async () => {
    const query = '{ __typename }';
    await postGraphQL(fastPort, body(query), AUTH);
    const before = fast.stats.prepared;
    for (const text of [
      JSON.stringify({ query, extensions: {} }),
      JSON.stringify({ query, documentId: 'sha256:nothing' }),
      JSON.stringify({ query, operationName: 5 }),
    ]) {
      const viaFast = await postGraphQL(fastPort, text, { ...AUTH, 'x-request-id': 'p' });
      const viaYoga = await postGraphQL(yogaPort, text, { ...AUTH, 'x-request-id': 'p' });
      same(viaFast, viaYoga);
    }
    expect(fast.stats.prepared).toBe(before);
  });

  it('writes the same access-log line as the pipeline', async () => {
    const text = body(THREE, { drSid: SAMPLE_DR_SID });
    const { ranPrepared } = await preparedAndYoga(text);
    expect(ranPrepared).toBe(1);
    const lines = h.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'operation' && line.operation === 'Three')
      .slice(-2)
      .map(({ time: _t, ms: _ms, ...rest }) => rest);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual(lines[1]);
    expect(lines[0]).toMatchObject({ upstreamCalls: 1, records: 1, errors: [] });
  });

  it('is off with PREPARED_OPERATIONS=false, and with graphql-jit off', async () => {
    const envs: Record<string, string>[] = [{ PREPARED_OPERATIONS: 'false' }, { GRAPHQL_JIT: 'false' }];
    for (const env of envs) {
      const other = await createHarness(env);
      const handler = createRequestHandler(other.app, { fastPath: true, maxBodyBytes: 256 * 1024 });
      const port = await listen(handler);
      for (let i = 0; i < 3; i++) await postGraphQL(port, body('{ __typename }'), AUTH);
      expect(handler.stats.prepared).toBe(0);
      expect(handler.stats.fastPath).toBe(3);
      await other.close();
    }
  });

  it('mirrors every plugin that acts on a request between its parameters and its result', () => {
    // A prepared operation skips envelop: what plugins do per request in these phases is done by hand in
    // src/execution/prepared.ts. A plugin added with one of these hooks must be mirrored there, then counted
    // here. onParse and onValidate are left out: they depend on the document alone, which passed them once.
    // Yoga's own and ours, as envelop runs them (including the ones plugins add at start-up).
    const { plugins } = h.app as unknown as { plugins: (Record<string, unknown> | false | null)[] };
    const count = (hook: string) =>
      plugins.filter((plugin) => plugin && typeof plugin[hook] === 'function').length;
    expect({
      onParams: count('onParams'),
      onContextBuilding: count('onContextBuilding'),
      onExecute: count('onExecute'),
      onExecutionResult: count('onExecutionResult'),
    }).toEqual({
      // Persisted documents and the query length limit (the text, which passed), Yoga's parameter check.
      onParams: 3,
      // Yoga's context extension: our context factory, which prepared operations call.
      onContextBuilding: 1,
      // Yoga's engine, observability, variable coercion, canonical results, graphql-jit, learning prepared
      // operations, Yoga's error masking. With the cache on, the stale report adds one.
      onExecute: 7,
      onExecutionResult: 0,
    });
  });

  it('sends CarrierX the same request as the pipeline', async () => {
    await postGraphQL(fastPort, body(THREE, { drSid: SAMPLE_DR_SID }), AUTH);
    h.simulator.resetLog();
    const text = body(THREE, { drSid: MISSING });
    const before = fast.stats.prepared;
    await postGraphQL(fastPort, text, AUTH);
    await postGraphQL(yogaPort, text, AUTH);
    expect(fast.stats.prepared).toBe(before + 1);
    const [prepared, yoga] = h.simulator.requests;
    expect(h.simulator.requests).toHaveLength(2);
    expect(prepared).toEqual(yoga);
  });
});
