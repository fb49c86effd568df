import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../examples/federation/compose.ts';
import { createGateway } from '../examples/federation/gateway.ts';
import { DEMO_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { metricsRegistry } from '../src/telemetry/metrics.ts';
import { createTracing } from '../src/telemetry/tracing-sdk.ts';
import { freePort } from './helpers/free-port.ts';
import { sse } from './helpers/live-server.ts';
import { startServerProcess } from './helpers/server-process.ts';

// Traces from `npm start` to a real OTLP/HTTP receiver started here, over the JSON protocol
// (OTEL_EXPORTER_OTLP_PROTOCOL=http/json): what arrives is OpenTelemetry's own encoding, read as it is sent.

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status: { code?: number };
  attributes: { key: string; value: OtlpValue }[];
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: 'internal' | 'server' | 'client';
  error: boolean;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

const KINDS = { 1: 'internal', 2: 'server', 3: 'client' } as const;

function decodeValue(value: OtlpValue): unknown {
  if (value.arrayValue) return value.arrayValue.values.map(decodeValue);
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue;
}

const attributesOf = (list: { key: string; value: OtlpValue }[]) =>
  Object.fromEntries(list.map(({ key, value }) => [key, decodeValue(value)]));

/** A tiny OTLP/HTTP receiver: each export request's spans, flattened, and the headers it came with. */
async function startReceiver() {
  const spans: Span[] = [];
  const headers: IncomingHttpHeaders[] = [];
  /** Bodies sent as protobuf (the default protocol), kept as they came. */
  const protobuf: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      headers.push(req.headers);
      if (req.headers['content-type'] === 'application/x-protobuf') {
        protobuf.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
        res.end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: OtlpValue }[] };
          scopeSpans: { spans: OtlpSpan[] }[];
        }[];
      };
      for (const { resource, scopeSpans } of body.resourceSpans) {
        for (const scope of scopeSpans) {
          for (const span of scope.spans) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              kind: KINDS[span.kind as 1 | 2 | 3],
              error: span.status.code === 2,
              attributes: attributesOf(span.attributes),
              resource: attributesOf(resource.attributes),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    headers,
    protobuf,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A W3C traceparent as a gateway would send it: a fresh trace id and parent span id, sampled. */
function traceparent(): { header: string; traceId: string; spanId: string } {
  const traceId = createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 32);
  const spanId = traceId.slice(0, 16);
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

const ONE = 'query One($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }';
const AUTH = { authorization: `Bearer ${DEMO_TOKEN}` };

interface Recorded {
  drSid?: string;
  status: number;
  traceparent?: string;
  query: Record<string, string>;
}

describe('OpenTelemetry traces from npm start', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let output = '';
  /** What CarrierX (the simulator) received, read before the server stopped. */
  let upstream: Recorded[] = [];
  const fast = traceparent();
  const yoga = traceparent();
  const retried = traceparent();
  const gatewayTrace = traceparent();
  const listed = traceparent();
  const subscribed = traceparent();
  /** A value a caller filters by: telemetry may record that the filter has a condition, never its value. */
  const SECRET_NUMBER = '+15165551234';

  beforeAll(async () => {
    receiver = await startReceiver();
    const server = await startServerProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=s3cret%20key',
      OTEL_SERVICE_NAME: 'cdr-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,service.name=overridden',
      SIMULATOR_CONTROL: 'true',
      CACHE_TTL_MS: '0',
      CARRIERX_RETRY_BASE_DELAY_MS: '1',
      CARRIERX_RETRY_MAX_DELAY_MS: '1',
      LOG_LEVEL: 'info',
      ACCESS_LOG: 'true',
    });
    const simulator = /control API at (http:\/\/\S+)\/_simulator\//.exec(server.output)?.[1] as string;
    const post = (tp: string, headers: Record<string, string> = {}) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...AUTH, traceparent: tp, ...headers },
        body: JSON.stringify({ query: ONE, variables: { drSid: SAMPLE_DR_SID } }),
      }).then((r) => r.json());
    try {
      // The fast path (a plain JSON POST), then Yoga's own handler (a GET), each continuing a caller's trace.
      expect(await post(fast.header, { 'x-request-id': 'traced-fast' })).toHaveProperty('data');
      const get = new URL(server.url);
      get.searchParams.set('query', ONE);
      get.searchParams.set('variables', JSON.stringify({ drSid: SAMPLE_DR_SID }));
      const viaYoga = await fetch(get, { headers: { ...AUTH, traceparent: yoga.header } });
      expect(await viaYoga.json()).toHaveProperty('data');
      // One 503, then the retry answers.
      await fetch(`${simulator}/_simulator/faults`, {
        method: 'POST',
        body: JSON.stringify({
          match: { drSid: SAMPLE_DR_SID },
          times: 1,
          fault: { kind: 'status', status: 503 },
        }),
      });
      expect(await post(retried.header)).toHaveProperty('data');
      // Through Hive Gateway's runtime: its example configuration passes the caller's traceparent on.
      const gateway = createGateway(composeSupergraph({ cdr: server.url }));
      try {
        const response = await gateway.fetch('http://gateway.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...AUTH, traceparent: gatewayTrace.header },
          body: JSON.stringify({ query: `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }` }),
        });
        expect(await response.json()).toHaveProperty('data.callDetailRecord.price');
      } finally {
        await gateway.dispose();
      }
      // A page filtered by a caller's number.
      const page = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...AUTH, traceparent: listed.header },
        body: JSON.stringify({
          query:
            'query Page($n: String) { callDetailRecords(first: 2, filter: { numberSrc: { like: $n } }) { totalCount } }',
          variables: { n: `${SECRET_NUMBER}%` },
        }),
      });
      expect(await page.json()).toHaveProperty('data.callDetailRecords');
      // A live subscription over SSE: its response starts once it has subscribed; then the client leaves.
      const stream = await sse(new URL(server.url).origin, {
        query: 'subscription Calls { callDetailRecordAdded { drSid } }',
        headers: { traceparent: subscribed.header },
      });
      expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      stream.close();
      upstream = (await (await fetch(`${simulator}/_simulator/requests`)).json()) as Recorded[];
    } finally {
      // SIGTERM: the spans still batched must be exported before the process exits.
      await server.stop();
      output = server.output;
    }
  }, 120_000);
  afterAll(() => receiver?.close());

  const traceOf = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
  const one = (spans: Span[], kind: Span['kind']) => {
    const found = spans.filter((span) => span.kind === kind);
    expect(found).toHaveLength(1);
    return found[0] as Span;
  };

  it("shows a page's filter in its CarrierX span by field and operator, never a value the caller sent", () => {
    const client = one(traceOf(listed.traceId), 'client');
    const url = new URL(client.attributes['url.full'] as string);
    expect(url.pathname).toMatch(/\/calls\/call_drs$/);
    expect(url.searchParams.get('filter')).toBe('number_src like ?');
    // Nowhere in any span, whatever the encoding.
    const exported = JSON.stringify(receiver.spans);
    for (const form of [SECRET_NUMBER, encodeURIComponent(SECRET_NUMBER), '5165551234']) {
      expect(exported).not.toContain(form);
    }
    // CarrierX itself was asked for it, of course.
    expect(upstream.some((r) => r.query.filter?.includes(SECRET_NUMBER))).toBe(true);
  });

  it.each([
    ['the fast path', () => fast, 'POST /graphql'],
    ["Yoga's own handler", () => yoga, 'GET /graphql'],
  ])('continues the caller’s trace through %s: request, operation, CarrierX call', (_path, trace, name) => {
    const { traceId, spanId } = trace();
    const spans = traceOf(traceId);
    expect(spans).toHaveLength(3);
    const server = one(spans, 'server');
    const operation = one(spans, 'internal');
    const client = one(spans, 'client');
    expect(server).toMatchObject({ name, parentSpanId: spanId });
    expect(server.attributes).toMatchObject({ 'http.route': '/graphql', 'http.response.status_code': 200 });
    expect(operation).toMatchObject({ name: 'query One', parentSpanId: server.spanId, error: false });
    expect(operation.attributes).toEqual({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'One',
      'graphql.document.hash': `sha256:${createHash('sha256').update(ONE).digest('hex')}`,
      'carrierx.upstream_calls': 1,
      'graphql.records_resolved': 1,
    });
    expect(client).toMatchObject({ parentSpanId: operation.spanId, error: false });
    expect(client.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'carrierx.attempt': 1,
      'carrierx.outcome': 'ok',
      'carrierx.include_fields': ['dr_sid', 'price'],
      'carrierx.dr_sid': SAMPLE_DR_SID,
    });
    expect(client.attributes['url.full']).toMatch(
      new RegExp(
        `^http://127\\.0\\.0\\.1:\\d+/core/v2/calls/call_drs/${SAMPLE_DR_SID}\\?include_fields=dr_sid,price$`,
      ),
    );
    // CarrierX received the client span's context: its trace id, the client span as parent.
    expect(upstream.filter((r) => r.traceparent?.includes(traceId)).map((r) => r.traceparent)).toEqual([
      `00-${traceId}-${client.spanId}-01`,
    ]);
  });

  it("gives a subscription one span for its setup, under its request's span, and none for its life", () => {
    const spans = traceOf(subscribed.traceId);
    const server = one(spans, 'server');
    const operation = one(spans, 'internal');
    expect(server).toMatchObject({ name: 'POST /graphql', parentSpanId: subscribed.spanId });
    expect(operation).toMatchObject({
      name: 'subscription Calls',
      parentSpanId: server.spanId,
      error: false,
    });
    expect(operation.attributes).toMatchObject({
      'graphql.operation.type': 'subscription',
      'graphql.operation.name': 'Calls',
      'carrierx.upstream_calls': 0,
    });
    // The feed's polls are traces of their own (one poll serves every subscriber of a filter).
    expect(spans.filter((span) => span.kind === 'client')).toEqual([]);
  });

  it('makes one client span per CarrierX attempt, the retry numbered and the failed one marked', () => {
    const spans = traceOf(retried.traceId).filter((span) => span.kind === 'client');
    expect(spans.map((span) => span.attributes['carrierx.attempt'])).toEqual([1, 2]);
    const [first, retry] = spans as [Span, Span];
    expect(first.error).toBe(true);
    expect(first.attributes).toMatchObject({
      'http.response.status_code': 503,
      'carrierx.outcome': 'server_error',
    });
    expect(retry.error).toBe(false);
    expect(retry.attributes).toMatchObject({ 'http.request.resend_count': 1, 'carrierx.outcome': 'ok' });
    const received = upstream.filter((r) => r.traceparent?.includes(retried.traceId));
    expect(received.map((r) => [r.status, r.traceparent])).toEqual([
      [503, `00-${retried.traceId}-${first.spanId}-01`],
      [200, `00-${retried.traceId}-${retry.spanId}-01`],
    ]);
  });

  it('keeps one trace from a Hive Gateway request to the CarrierX call', () => {
    const spans = traceOf(gatewayTrace.traceId);
    const server = one(spans, 'server');
    const client = one(spans, 'client');
    expect(server.parentSpanId).toBe(gatewayTrace.spanId);
    expect(upstream.some((r) => r.traceparent === `00-${gatewayTrace.traceId}-${client.spanId}-01`)).toBe(
      true,
    );
  });

  it('names the service and its resource attributes, and sends the exporter headers', () => {
    expect(receiver.spans.length).toBeGreaterThan(0);
    for (const span of receiver.spans) {
      expect(span.resource).toMatchObject({
        'service.name': 'cdr-under-test',
        'deployment.environment.name': 'test',
      });
    }
    expect(receiver.headers.every((h) => h['x-collector-key'] === 's3cret key')).toBe(true);
  });

  it('puts no variable value on the request or operation spans', () => {
    for (const span of receiver.spans.filter((s) => s.kind !== 'client')) {
      expect(JSON.stringify(span.attributes)).not.toContain(SAMPLE_DR_SID);
    }
  });

  it('writes the trace id beside the request id in the access log, and never the exporter headers', () => {
    const line = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'operation' && l.requestId === 'traced-fast');
    expect(line).toMatchObject({ traceId: fast.traceId });
    expect(output).not.toContain('s3cret');
  });
});

describe('OpenTelemetry traces with WEB_CONCURRENCY workers', () => {
  it('exports each worker’s spans, flushed when the primary stops them', async () => {
    const receiver = await startReceiver();
    try {
      const server = await startServerProcess({
        WEB_CONCURRENCY: '2',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        CACHE_TTL_MS: '0',
      });
      const traces = [traceparent(), traceparent(), traceparent(), traceparent()];
      try {
        for (const trace of traces) {
          const response = await fetch(server.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...AUTH, traceparent: trace.header },
            body: JSON.stringify({ query: ONE, variables: { drSid: SAMPLE_DR_SID } }),
          });
          expect(await response.json()).toHaveProperty('data');
        }
      } finally {
        await server.stop();
      }
      for (const { traceId, spanId } of traces) {
        const spans = receiver.spans.filter((span) => span.traceId === traceId);
        expect(spans.map((span) => span.kind).sort()).toEqual(['client', 'internal', 'server']);
        expect(spans.find((span) => span.kind === 'server')?.parentSpanId).toBe(spanId);
      }
    } finally {
      await receiver.close();
    }
  }, 120_000);
});

describe('OpenTelemetry traces over OTLP/HTTP protobuf, the default protocol', () => {
  it('exports the request’s spans as protobuf', async () => {
    const receiver = await startReceiver();
    try {
      const server = await startServerProcess({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        CACHE_TTL_MS: '0',
      });
      const trace = traceparent();
      try {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...AUTH, traceparent: trace.header },
          body: JSON.stringify({ query: ONE, variables: { drSid: SAMPLE_DR_SID } }),
        });
        expect(await response.json()).toHaveProperty('data');
      } finally {
        await server.stop();
      }
      expect(receiver.spans).toEqual([]);
      const sent = Buffer.concat(receiver.protobuf);
      // Protobuf carries ids as raw bytes and names as UTF-8: the trace and all three spans are in it.
      expect(sent.includes(Buffer.from(trace.traceId, 'hex'))).toBe(true);
      for (const name of ['POST /graphql', 'query One', 'GET /calls/call_drs/{dr_sid}']) {
        expect(sent.includes(Buffer.from(name))).toBe(true);
      }
    } finally {
      await receiver.close();
    }
  }, 120_000);
});

describe('tracing configuration', () => {
  it('is off, with nothing to load, when no OTLP endpoint is set', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).tracing).toBeUndefined();
  });

  it('reads the standard variables, the traces-specific ones first', () => {
    const tracing = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).tracing;
    expect(tracing).toMatchObject({
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: { a: '1', b: '3' },
      serviceName: 'carrierx-cdr-graphql',
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
    });
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
      }).tracing?.url,
    ).toBe('http://traces:9999/custom');
  });

  it('stays off when OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none says so', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
    expect(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeUndefined();
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', /OTLP over gRPC is not supported/],
    ['OTEL_TRACES_SAMPLER', 'sometimes', /must be one of always_on/],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5', /ratio from 0 to 1/],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', /http\(s\) URL/],
    ['OTEL_RESOURCE_ATTRIBUTES', 'no-equals-sign', /key=value pairs/],
  ])('refuses %s=%s, naming the variable', (variable, value, problem) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(variable);
    expect(() => loadConfig({ [variable]: value })).toThrow(problem);
  });

  it('never echoes the exporter headers or an endpoint’s credentials in a configuration error', () => {
    for (const env of [
      { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=%zz-secret-value' },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:secret-value@collector:4318' },
    ]) {
      expect(() => loadConfig(env)).toThrow();
      try {
        loadConfig(env);
      } catch (error) {
        expect((error as Error).message).not.toContain('secret-value');
      }
    }
  });
});

describe('OpenTelemetry traces from npm start with the CDR cache on (its default)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const miss = traceparent();
  const hit = traceparent();
  const partial = traceparent();
  const refresh = traceparent();
  const invalidation = traceparent();
  const ADMIN_TOKEN = 'a-cache-admin-token-for-this-test-only';
  let output = '';

  beforeAll(async () => {
    receiver = await startReceiver();
    const server = await startServerProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      LOG_LEVEL: 'info',
      ACCESS_LOG: 'true',
      CACHE_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    const ask = (trace: { header: string }, fields: string, headers: Record<string, string> = {}) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...AUTH, traceparent: trace.header, ...headers },
        body: JSON.stringify({ query: `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { ${fields} } }` }),
      }).then((r) => r.json());
    try {
      // In order: nothing held, then all held, then one field more, then a refresh on demand.
      expect(await ask(miss, 'drSid price')).toHaveProperty('data.callDetailRecord.price');
      expect(await ask(hit, 'drSid price')).toHaveProperty('data.callDetailRecord.price');
      expect(await ask(partial, 'drSid price duration')).toHaveProperty('data.callDetailRecord.duration');
      expect(await ask(refresh, 'drSid price', { 'cache-control': 'no-cache' })).toHaveProperty(
        'data.callDetailRecord.price',
      );
      const invalidated = await fetch(new URL('/cache/invalidate', server.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${ADMIN_TOKEN}`,
          traceparent: invalidation.header,
          'x-request-id': 'admin-1',
        },
        body: JSON.stringify({ drSids: [SAMPLE_DR_SID] }),
      });
      expect(invalidated.status).toBe(200);
    } finally {
      await server.stop();
      output = server.output;
    }
  }, 120_000);

  const logLines = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  afterAll(() => receiver?.close());

  const callsOf = (trace: { traceId: string }) =>
    receiver.spans.filter((span) => span.traceId === trace.traceId && span.kind === 'client');

  it('says on each CarrierX span why the cache asked: a miss, a partial hit, a refresh', () => {
    expect(callsOf(miss).map((span) => span.attributes['carrierx.cache_result'])).toEqual(['miss']);
    const [partialCall] = callsOf(partial);
    expect(partialCall?.attributes).toMatchObject({
      'carrierx.cache_result': 'partial',
      // Only the field the entry lacked (and dr_sid) went to CarrierX.
      'carrierx.include_fields': ['dr_sid', 'duration'],
    });
    expect(callsOf(refresh).map((span) => span.attributes['carrierx.cache_result'])).toEqual(['refresh']);
  });

  it('makes no CarrierX span for a hit, which calls no one', () => {
    expect(receiver.spans.filter((span) => span.traceId === hit.traceId).length).toBeGreaterThan(0);
    expect(callsOf(hit)).toEqual([]);
  });

  it('writes the trace id on the access line of an answer served from the answer cache', () => {
    const served = logLines().filter((l) => l.msg === 'operation' && l.answerCache === 'hit');
    expect(served).toHaveLength(1);
    expect(served[0]).toMatchObject({ traceId: hit.traceId });
  });

  it('writes the request id and trace id on the line of a cache invalidation', () => {
    const line = logLines().find((l) => l.msg === 'cache entries invalidated');
    expect(line).toMatchObject({ requestId: 'admin-1', traceId: invalidation.traceId, count: 1 });
  });
});

describe('a trace collector that is down', () => {
  it('logs one readable line without a stack, and counts the spans it dropped', async () => {
    // Nothing listens on this port: every export is refused.
    const port = await freePort();
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => lines.push(line) } });
    const config = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    });
    const dropped = async () =>
      (await metricsRegistry.getSingleMetric('tracing_spans_dropped_total')?.get())?.values.find(
        (value) => value.labels.reason === 'export_failed',
      )?.value ?? 0;
    const before = await dropped();
    const tracing = await createTracing(config.tracing as NonNullable<typeof config.tracing>, logger);
    try {
      for (const name of ['First', 'Second']) {
        const span = tracing.startOperation(undefined, { get: () => null }, 'query', name, undefined);
        tracing.endOperation(span, { errorCodes: [], upstreamCalls: 0, records: 0 });
      }
      const warned = () =>
        lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.level === 40);
      // The processor exports every 5 s; the refused export ends within the 1 s timeout and its retries.
      for (let waited = 0; warned().length === 0 && waited < 30_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const warnings = warned();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        msg: expect.stringContaining('the trace collector did not take the spans'),
        droppedSpans: 2,
        code: 'ECONNREFUSED',
      });
      expect(lines.join('\n')).not.toContain('stack');
      expect(String(warnings[0]?.msg)).not.toContain('{');
      expect((await dropped()) - before).toBe(2);
    } finally {
      await tracing.shutdown();
    }
  }, 60_000);
});
