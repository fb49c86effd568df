import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { documentHash } from '../src/graphql/persisted-documents.ts';
import { createRequestHandler, type RequestHandler } from '../src/http/create-request-handler.ts';
import { metricsRegistry } from '../src/telemetry/metrics.ts';
import { freePort } from './helpers/free-port.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { startServerProcess } from './helpers/server-process.ts';

const MISSING = '00000000-0000-4000-8000-000000000000';
const TWO = `query Two($a: UUID!, $b: UUID!) { a: callDetailRecord(drSid: $a) { drSid price } b: callDetailRecord(drSid: $b) { drSid } }`;
const ONE = `query One($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;

interface Served {
  h: Harness;
  handler: RequestHandler;
  port: number;
  close(): Promise<void>;
}

/** The app behind the Node handler on a loopback port: the fast path on, or Yoga for every request. */
async function serve(fastPath: boolean, env: Record<string, string> = {}): Promise<Served> {
  const h = await createHarness({ ACCESS_LOG: 'true', ...env });
  const handler = createRequestHandler(h.app, { fastPath, maxBodyBytes: 256 * 1024 });
  const server: Server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    h,
    handler,
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await h.close();
    },
  };
}

async function post(port: number, query: string, variables: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    errors?: { extensions: Record<string, unknown> }[];
    extensions?: Record<string, unknown>;
  };
  return { status: response.status, requestId: response.headers.get('x-request-id'), body };
}

/** Every sample of the registry, keyed `name{label="value",...}` as the exposition writes it. */
async function samples(): Promise<Map<string, number>> {
  const text = await metricsRegistry.metrics();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The value of one sample; a key ending in `*` sums every sample whose key starts with the rest. */
function sampleValue(all: Map<string, number>, key: string): number {
  if (!key.endsWith('*')) return all.get(key) ?? 0;
  const prefix = key.slice(0, -1);
  let sum = 0;
  for (const [k, v] of all) if (k.startsWith(prefix)) sum += v;
  return sum;
}

/** How much each listed sample moved while `run` ran. */
async function delta(keys: string[], run: () => Promise<void>): Promise<Record<string, number>> {
  const before = await samples();
  await run();
  const after = await samples();
  return Object.fromEntries(keys.map((k) => [k, sampleValue(after, k) - sampleValue(before, k)]));
}

const logLines = (h: Harness) => h.logs.map((line) => JSON.parse(line) as Record<string, unknown>);

describe.each([
  ['the fast path', true],
  ["Yoga's own handler", false],
])('request ids and the access log through %s', (_label, fastPath) => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(fastPath);
  });
  afterAll(() => s.close());
  beforeEach(() => {
    s.h.logs.length = 0;
  });

  it('echoes a sane X-Request-Id and puts it in the extensions of an error answer and every log line about the request', async () => {
    const before = { ...s.handler.stats };
    const res = await post(s.port, ONE, { drSid: MISSING }, { 'x-request-id': 'gw-7f3a:1.2_x' });
    expect(fastPath ? s.handler.stats.fastPath - before.fastPath : s.handler.stats.yoga - before.yoga).toBe(
      1,
    );
    expect(res.requestId).toBe('gw-7f3a:1.2_x');
    expect(res.body.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    expect(res.body.extensions?.requestId).toBe('gw-7f3a:1.2_x');
    const about = logLines(s.h).filter((line) => line.level !== 20);
    // CarrierX's 404 (info) and the access line.
    expect(about.map((line) => line.msg)).toEqual(['CarrierX answered 404', 'operation']);
    for (const line of about) expect(line.requestId).toBe('gw-7f3a:1.2_x');
  });

  it("ties each failed attempt's warning and the give-up warning of a failing CarrierX call to the request", async () => {
    s.h.simulator.faults.add({ match: { drSid: SAMPLE_DR_SID }, fault: { kind: 'status', status: 503 } });
    try {
      const res = await post(s.port, ONE, { drSid: SAMPLE_DR_SID }, { 'x-request-id': 'flaky-1' });
      expect(res.body.errors?.[0]?.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(res.body.extensions?.requestId).toBe('flaky-1');
    } finally {
      s.h.simulator.faults.clear();
    }
    const warnings = logLines(s.h).filter((line) => line.level === 40);
    expect(warnings.map((line) => line.msg)).toEqual([
      'CarrierX answered an error',
      'CarrierX answered an error',
      'CarrierX answered an error',
      'CarrierX call failed: giving up after 3 attempts',
    ]);
    for (const line of warnings) expect(line.requestId).toBe('flaky-1');
  });

  it.each([
    ['parse', 'GRAPHQL_PARSE_FAILED', JSON.stringify({ query: '{ callDetailRecord(' })],
    ['validation', 'GRAPHQL_VALIDATION_FAILED', JSON.stringify({ query: '{ noSuchField }' })],
    ['request', 'BAD_REQUEST', '{"query": '],
  ])(
    'counts a request refused before execution (%s) and writes one access line for it',
    async (reason, code, body) => {
      const key = `graphql_requests_refused_total{reason="${reason}"}`;
      const moved = await delta([key, 'graphql_operation_duration_seconds_count{*'], async () => {
        const res = await fetch(`http://127.0.0.1:${s.port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': `refused-${reason}` },
          body,
        });
        expect(((await res.json()) as { errors: unknown[] }).errors).toHaveLength(1);
      });
      expect(moved).toEqual({ [key]: 1, 'graphql_operation_duration_seconds_count{*': 0 });
      const access = logLines(s.h).filter((line) => line.msg === 'refused');
      expect(access).toEqual([
        expect.objectContaining({ requestId: `refused-${reason}`, refused: reason, errors: [code] }),
      ]);
    },
  );

  it('replaces an X-Request-Id that is too long or has other characters with a generated one', async () => {
    for (const bad of ['a'.repeat(129), 'id with spaces', 'x"}{']) {
      const res = await post(s.port, ONE, { drSid: MISSING }, { 'x-request-id': bad });
      expect(res.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body.extensions?.requestId).toBe(res.requestId);
    }
    expect(s.h.logs.join('\n')).not.toContain('id with spaces');
  });

  it('generates a request id when none is sent, and answers with it even without errors', async () => {
    const res = await post(s.port, ONE, { drSid: SAMPLE_DR_SID });
    expect(res.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.extensions).toBeUndefined();
  });

  it('logs one summary line per operation, with its name, type, upstream calls and error codes, and no token or variables', async () => {
    const res = await post(s.port, TWO, { a: SAMPLE_DR_SID, b: MISSING }, { 'x-request-id': 'r-1' });
    expect(res.status).toBe(200);
    const access = logLines(s.h).filter((line) => line.msg === 'operation');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 30,
      requestId: 'r-1',
      operation: 'Two',
      type: 'query',
      upstreamCalls: 2,
      records: 1,
      errors: ['NOT_FOUND'],
    });
    expect(typeof access[0]?.ms).toBe('number');
    expect(s.h.logs.join('\n')).not.toContain(DEMO_TOKEN);
    // At the default level (info); LOG_LEVEL=debug shows each CarrierX call, its record's path included.
    const shown = s.h.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 30);
    expect(shown.join('\n')).not.toContain(SAMPLE_DR_SID);
  });
});

describe('ACCESS_LOG=false', () => {
  it('writes no summary line', async () => {
    const s = await serve(true, { ACCESS_LOG: 'false' });
    try {
      await post(s.port, ONE, { drSid: SAMPLE_DR_SID });
      expect(logLines(s.h).filter((line) => line.msg === 'operation')).toHaveLength(0);
    } finally {
      await s.close();
    }
  });
});

describe.each([
  ['the fast path', true],
  ["Yoga's own handler", false],
])('metrics count exactly through %s', (_label, fastPath) => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(fastPath);
    // Connecting and warming up happen before any counting.
    await post(s.port, ONE, { drSid: SAMPLE_DR_SID });
  });
  afterAll(() => s.close());
  beforeEach(() => {
    s.h.simulator.faults.clear();
  });

  it('counts each CarrierX attempt by outcome, retries included, and each operation by name and outcome', async () => {
    const keys = [
      'carrierx_requests_total{outcome="ok",status_class="2xx"}',
      'carrierx_requests_total{outcome="not_found",status_class="4xx"}',
      'carrierx_requests_total{outcome="server_error",status_class="5xx"}',
      'carrierx_retries_total',
      'carrierx_request_duration_seconds_count',
      'carrierx_fields_requested_count',
      'graphql_operations_total{type="query",name="Two",outcome="NOT_FOUND"}',
      'graphql_operations_total{type="query",name="One",outcome="ok"}',
      'graphql_operation_duration_seconds_count{type="query",name="Two"}',
      'graphql_operation_duration_seconds_count{type="query",name="One"}',
      'graphql_records_resolved_sum',
    ];
    const moved = await delta(keys, async () => {
      // Two 503s, then the record: three attempts, two of them retries.
      s.h.simulator.faults.add({
        match: { drSid: SAMPLE_DR_SID },
        times: 2,
        fault: { kind: 'status', status: 503 },
      });
      for (let i = 0; i < 3; i++) {
        await post(s.port, TWO, { a: SAMPLE_DR_SID, b: MISSING });
        s.h.simulator.faults.clear();
      }
      await post(s.port, ONE, { drSid: UNANSWERED_DR_SID });
    });
    expect(moved).toEqual({
      'carrierx_requests_total{outcome="ok",status_class="2xx"}': 4,
      'carrierx_requests_total{outcome="not_found",status_class="4xx"}': 3,
      'carrierx_requests_total{outcome="server_error",status_class="5xx"}': 2,
      carrierx_retries_total: 2,
      carrierx_request_duration_seconds_count: 9,
      carrierx_fields_requested_count: 7,
      'graphql_operations_total{type="query",name="Two",outcome="NOT_FOUND"}': 3,
      'graphql_operations_total{type="query",name="One",outcome="ok"}': 1,
      'graphql_operation_duration_seconds_count{type="query",name="Two"}': 3,
      'graphql_operation_duration_seconds_count{type="query",name="One"}': 1,
      graphql_records_resolved_sum: 4,
    });
  });

  it('counts response bytes as CarrierX sent them', async () => {
    s.h.simulator.resetLog();
    const before = s.h.simulator.stats.bytesSent;
    const moved = await delta(['carrierx_response_bytes_total'], async () => {
      await post(s.port, ONE, { drSid: SAMPLE_DR_SID });
    });
    expect(moved.carrierx_response_bytes_total).toBe(s.h.simulator.stats.bytesSent - before);
  });

  it('reports the circuit as open, and counts the calls it refuses', async () => {
    const t = await serve(fastPath, {
      CARRIERX_BREAKER_THRESHOLD: '1',
      CARRIERX_BREAKER_COOLDOWN_MS: '60000',
    });
    try {
      t.h.simulator.faults.add({ fault: { kind: 'status', status: 500 } });
      const moved = await delta(
        ['carrierx_requests_total{outcome="circuit_open",status_class="none"}'],
        async () => {
          await post(t.port, ONE, { drSid: SAMPLE_DR_SID });
          await post(t.port, ONE, { drSid: SAMPLE_DR_SID });
        },
      );
      expect(moved).toEqual({ 'carrierx_requests_total{outcome="circuit_open",status_class="none"}': 1 });
      expect((await samples()).get('carrierx_circuit_state')).toBe(2);
    } finally {
      await t.close();
    }
  });

  it('counts a call the bulkhead refuses as bulkhead_full, with no attempt made', async () => {
    // One call in flight at a time and no queue: of two records fetched at once, the second is refused.
    const t = await serve(fastPath, { CARRIERX_MAX_CONCURRENT_CALLS: '1', CARRIERX_MAX_QUEUED_CALLS: '0' });
    try {
      t.h.simulator.faults.add({ match: { drSid: SAMPLE_DR_SID }, times: 1, latencyMs: 100 });
      const keys = [
        'carrierx_requests_total{outcome="bulkhead_full",status_class="none"}',
        'carrierx_request_duration_seconds_count',
      ];
      let answer: Awaited<ReturnType<typeof post>> | undefined;
      const moved = await delta(keys, async () => {
        answer = await post(t.port, TWO, { a: SAMPLE_DR_SID, b: MISSING });
      });
      expect(moved).toEqual({
        'carrierx_requests_total{outcome="bulkhead_full",status_class="none"}': 1,
        carrierx_request_duration_seconds_count: 1,
      });
      expect(answer?.body.errors?.map((e) => e.extensions.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(t.h.simulator.requests.map((r) => r.drSid)).toEqual([SAMPLE_DR_SID]);
    } finally {
      await t.close();
    }
  });
});

describe('operation name labels', () => {
  it('keeps the first 100 distinct operation names and reports the rest as "other"', async () => {
    const s = await serve(true);
    try {
      const names = Array.from({ length: 105 }, (_, i) => `Op${i}`);
      for (const name of names) await post(s.port, `query ${name} { __typename }`, {});
      const all = await samples();
      const labelled = [...all.keys()].filter((k) => k.startsWith('graphql_operations_total{'));
      // Names other files' operations took count towards the cap too; the 100 is across the process.
      expect(new Set(labelled.map((k) => /name="([^"]*)"/.exec(k)?.[1])).size).toBeLessThanOrEqual(102);
      expect(
        all.get('graphql_operations_total{type="query",name="other",outcome="ok"}'),
      ).toBeGreaterThanOrEqual(5);
      expect(all.has('graphql_operations_total{type="query",name="Op104",outcome="ok"}')).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('labels each operation of the persisted-documents manifest, and times it, even after 100 other names', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdr-manifest-'));
    const document = 'query FromTheManifest { __typename }';
    const manifest = path.join(dir, 'persisted-documents.json');
    writeFileSync(manifest, JSON.stringify({ [`sha256:${documentHash(document)}`]: document }));
    const s = await serve(true, { PERSISTED_DOCUMENTS: manifest });
    try {
      // However many names this process saw before, these fill the cap.
      for (let i = 0; i < 105; i++) await post(s.port, `query Flood${i} { __typename }`, {});
      const moved = await delta(
        [
          'graphql_operations_total{type="query",name="FromTheManifest",outcome="ok"}',
          'graphql_operation_duration_seconds_count{type="query",name="FromTheManifest"}',
          'graphql_operations_total{type="query",name="other",outcome="ok"}',
        ],
        async () => {
          expect((await post(s.port, document, {})).status).toBe(200);
          await post(s.port, 'query NotInTheManifest { __typename }', {});
        },
      );
      expect(moved).toEqual({
        'graphql_operations_total{type="query",name="FromTheManifest",outcome="ok"}': 1,
        'graphql_operation_duration_seconds_count{type="query",name="FromTheManifest"}': 1,
        'graphql_operations_total{type="query",name="other",outcome="ok"}': 1,
      });
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('labels and logs an operation with a 30,000-character name by at most 100 characters', async () => {
    const s = await serve(true);
    try {
      const long = `Q${'x'.repeat(30_000)}`;
      const before = await samples();
      const answer = await post(s.port, `query ${long} { __typename }`, {});
      expect(answer.body.errors).toBeUndefined();
      const all = await samples();
      for (const key of all.keys()) expect(key.length, key.slice(0, 80)).toBeLessThan(400);
      const other = 'graphql_operations_total{type="query",name="other",outcome="ok"}';
      expect((all.get(other) ?? 0) - (before.get(other) ?? 0)).toBe(1);
      const line = s.h.logs
        .map((text) => JSON.parse(text) as { msg?: string; operation?: string })
        .find((entry) => entry.msg === 'operation' && entry.operation?.startsWith('Qxxx'));
      expect(line?.operation).toBe(`${long.slice(0, 100)}…`);
    } finally {
      await s.close();
    }
  });
});

/** Runs `promtool check metrics` on an exposition; it must be installed (.ci/run installs it). */
function promtool(text: string): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) =>
      resolve({
        code: error ? ((error as { code?: number | string }).code ?? 1) : 0,
        output: `${stdout}${stderr}`,
      }),
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(text);
  });
}

describe('npm start with WEB_CONCURRENCY=2', () => {
  it("serves on METRICS_PORT the sum over its workers, each worker's limiter apart, which promtool accepts", async () => {
    const metricsPort = await freePort();
    const server = await startServerProcess({
      WEB_CONCURRENCY: '2',
      METRICS_PORT: String(metricsPort),
      // Every query an upstream call, so the sum over the workers is known (the cache would answer repeats).
      CACHE_TTL_MS: '0',
      CARRIERX_MAX_CONCURRENT_CALLS: '64',
    });
    try {
      expect(server.output).toContain(`/metrics`);
      // Fresh connections, so the primary hands them to both workers.
      for (let i = 0; i < 6; i++) {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${DEMO_TOKEN}`,
            connection: 'close',
          },
          body: JSON.stringify({ query: ONE, variables: { drSid: SAMPLE_DR_SID } }),
        });
        expect(response.status).toBe(200);
      }
      const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scrape.status).toBe(200);
      const text = await scrape.text();
      expect(text).toMatch(/^graphql_operations_total\{type="query",name="One",outcome="ok"\} 6$/m);
      expect(text).toMatch(/^carrierx_requests_total\{outcome="ok",status_class="2xx"\} 6$/m);
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect(text).toMatch(/^carrierx_circuit_state 0$/m);
      // Each worker's own limit, one series per worker: summed, two workers of 64 would read as up to 128.
      const limits = [...text.matchAll(/^carrierx_concurrency_limit\{worker="(\d+)"\} (\d+)$/gm)];
      expect(limits).toHaveLength(2);
      expect(new Set(limits.map((match) => match[1])).size).toBe(2);
      for (const match of limits) expect(Number(match[2])).toBeLessThanOrEqual(64);
      expect(text).not.toMatch(/^carrierx_concurrency_limit \d/m);
      const checked = await promtool(text);
      expect(checked.output).toBe('');
      expect(checked.code).toBe(0);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

/** Waits until the server's output matches `pattern`; fails (with the output) if it has not within 10 s. */
async function outputMatching(server: { readonly output: string }, pattern: RegExp): Promise<string> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (pattern.test(server.output)) return server.output;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no output matching ${pattern} within 10 s:\n${server.output}`);
}

describe('npm start with METRICS_PORT set', () => {
  it('serves the metrics on METRICS_HOST, not on HOST', async () => {
    const metricsPort = await freePort();
    // Both loopback addresses (127.0.0.0/8 is all loopback on Linux): the API on one, the metrics on the other.
    const server = await startServerProcess({
      HOST: '127.0.0.1',
      METRICS_HOST: '127.0.0.2',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
    });
    try {
      await outputMatching(server, /metrics listening|METRICS_PORT/);
      const scrape = await fetch(`http://127.0.0.2:${metricsPort}/metrics`);
      expect(scrape.status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('logs one line without a stack naming the port and METRICS_PORT when the port is taken, and serves on', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const taken = (holder.address() as AddressInfo).port;
    const server = await startServerProcess({ METRICS_PORT: String(taken) });
    try {
      const output = await outputMatching(server, /METRICS_PORT/);
      const lines = output.split('\n').filter((line) => line.includes('METRICS_PORT'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`port ${taken} on 127.0.0.1 is already in use`);
      expect(output).not.toMatch(/(\n|\\n)\s+at /);
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
        body: JSON.stringify({ query: ONE, variables: { drSid: SAMPLE_DR_SID } }),
      });
      expect(response.status).toBe(200);
    } finally {
      await server.stop();
      holder.close();
    }
  }, 30_000);
});

describe('the exposition', () => {
  it("passes Prometheus's own parser (promtool check metrics)", async () => {
    const text = await metricsRegistry.metrics();
    // Not skipped when promtool is missing: .ci/run installs it, and a missing parser must fail loudly.
    const result = await promtool(text);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });
});
