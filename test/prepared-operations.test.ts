import { register as metricsRegistry } from 'prom-client';
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

// `h` prepares documents; `plain` (PREPARED_OPERATIONS=false) runs every request through the whole pipeline,
// through Yoga's own handler: what a prepared operation answers is held to what the pipeline answers.
let h: Harness;
let plain: Harness;
const { listen, closeAll } = createListeners();
let fast: RequestHandler;
let fastPort = 0;
let yogaPort = 0;
let plainPort = 0;

beforeAll(async () => {
  h = await createHarness({ ACCESS_LOG: 'true' });
  plain = await createHarness({ ACCESS_LOG: 'true', PREPARED_OPERATIONS: 'false' });
  fast = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 });
  fastPort = await listen(fast);
  yogaPort = await listen(createRequestHandler(h.app, { fastPath: false, maxBodyBytes: 256 * 1024 }));
  plainPort = await listen(createRequestHandler(plain.app, { fastPath: false, maxBodyBytes: 256 * 1024 }));
});
afterAll(async () => {
  closeAll();
  await h.close();
  await plain.close();
});
beforeEach(() => {
  for (const harness of [h, plain]) {
    harness.simulator.faults.clear();
    harness.simulator.resetLog();
  }
});

/** Operations run prepared in this process so far (graphql_prepared_operations_total). */
async function preparedRuns(): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('graphql_prepared_operations_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

/** Sends `text` to the fast path until it runs prepared, then once more there and once through the pipeline. */
async function preparedAndYoga(text: string, headers: Record<string, string> = AUTH) {
  const ids = { 'x-request-id': 'prepared-1' };
  await postGraphQL(fastPort, text, { ...headers, ...ids });
  const before = await preparedRuns();
  const prepared = await postGraphQL(fastPort, text, { ...headers, ...ids });
  const ranPrepared = (await preparedRuns()) - before;
  const yoga = await postGraphQL(plainPort, text, { ...headers, ...ids });
  return { prepared, yoga, ranPrepared };
}

/** Adds a fault rule to both simulators. */
function fault(rule: unknown): void {
  for (const harness of [h, plain]) harness.simulator.faults.add(rule as never);
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
    fault(rule);
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
    expect(plain.simulator.requests).toHaveLength(0);
  });

  it('refuses variables that do not fit their type as the pipeline does, before calling CarrierX', async () => {
    await postGraphQL(fastPort, body(THREE, { drSid: SAMPLE_DR_SID }), AUTH);
    h.simulator.resetLog();
    for (const drSid of [5, 'not-a-uuid', null]) {
      const before = await preparedRuns();
      const text = body(THREE, { drSid });
      const viaFast = await postGraphQL(fastPort, text, { ...AUTH, 'x-request-id': 'v' });
      const viaPipeline = await postGraphQL(plainPort, text, { ...AUTH, 'x-request-id': 'v' });
      expect(await preparedRuns()).toBe(before + 1);
      same(viaFast, viaPipeline);
      expect(JSON.parse(viaFast.text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    expect(h.simulator.requests).toHaveLength(0);
  });

  it('keys a prepared operation by its operation name as well as its text', async () => {
    const query = 'query A { __typename }';
    await postGraphQL(fastPort, body(query, undefined, 'A'), AUTH);
    const before = await preparedRuns();
    for (const name of ['B', '']) {
      const text = body(query, undefined, name);
      const viaFast = await postGraphQL(fastPort, text, { ...AUTH, 'x-request-id': 'n' });
      const viaPipeline = await postGraphQL(plainPort, text, { ...AUTH, 'x-request-id': 'n' });
      same(viaFast, viaPipeline);
      expect(JSON.parse(viaFast.text).errors).toHaveLength(1);
    }
    expect(await preparedRuns()).toBe(before);
    await postGraphQL(fastPort, body(query, undefined, 'A'), AUTH);
    expect(await preparedRuns()).toBe(before + 1);
  });

  it('leaves requests with other parameters (extensions, documentId) to the pipeline', async () => {
    const query = '{ __typename }';
    await postGraphQL(fastPort, body(query), AUTH);
    const before = await preparedRuns();
    for (const text of [
      JSON.stringify({ query, extensions: {} }),
      JSON.stringify({ query, documentId: 'sha256:nothing' }),
      JSON.stringify({ query, operationName: 5 }),
    ]) {
      const viaFast = await postGraphQL(fastPort, text, { ...AUTH, 'x-request-id': 'p' });
      const viaPipeline = await postGraphQL(plainPort, text, { ...AUTH, 'x-request-id': 'p' });
      same(viaFast, viaPipeline);
    }
    expect(await preparedRuns()).toBe(before);
  });

  it('writes the same access-log line as the pipeline', async () => {
    const text = body(THREE, { drSid: SAMPLE_DR_SID });
    const { ranPrepared } = await preparedAndYoga(text);
    expect(ranPrepared).toBe(1);
    const lastLine = (logs: string[]) =>
      logs
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === 'operation' && line.operation === 'Three')
        .slice(-1)
        .map(({ time: _t, ms: _ms, pid: _p, ...rest }) => rest);
    const lines = [...lastLine(h.logs), ...lastLine(plain.logs)];
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
      const before = await preparedRuns();
      for (let i = 0; i < 3; i++) await postGraphQL(port, body('{ __typename }'), AUTH);
      expect(await preparedRuns()).toBe(before);
      expect(handler.stats.fastPath).toBe(3);
      await other.close();
    }
  });

  it("runs prepared behind Yoga's own handler too (a GET), answering as the pipeline does", async () => {
    const query = `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid price } }`;
    const get = (port: number) =>
      fetch(`http://127.0.0.1:${port}/graphql?query=${encodeURIComponent(query)}`, {
        headers: { ...AUTH, 'x-request-id': 'g', accept: 'application/json' },
      }).then(async (response) => ({ status: response.status, text: await response.text() }));
    await get(yogaPort);
    const before = await preparedRuns();
    const prepared = await get(yogaPort);
    expect(await preparedRuns()).toBe(before + 1);
    same(prepared, await get(plainPort));
  });

  it('sends CarrierX the same request as the pipeline', async () => {
    await postGraphQL(fastPort, body(THREE, { drSid: SAMPLE_DR_SID }), AUTH);
    h.simulator.resetLog();
    const text = body(THREE, { drSid: MISSING });
    const before = await preparedRuns();
    await postGraphQL(fastPort, text, AUTH);
    await postGraphQL(plainPort, text, AUTH);
    expect(await preparedRuns()).toBe(before + 1);
    expect(h.simulator.requests).toHaveLength(1);
    expect(plain.simulator.requests).toHaveLength(1);
    const strip = ({ at: _a, ...rest }: Record<string, unknown>) => rest;
    expect(strip(h.simulator.requests[0] as never)).toEqual(strip(plain.simulator.requests[0] as never));
  });
});
