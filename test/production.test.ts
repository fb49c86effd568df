import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const ENDPOINT = 'http://localhost/graphql';
const TYPENAME = encodeURIComponent('{ __typename }');
const json = (query: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
  body: JSON.stringify({ query }),
});

async function call(h: Harness, url: string, init: RequestInit = {}) {
  const res = await h.app.fetch(url, init);
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text };
}

describe('production mode (NODE_ENV=production)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ NODE_ENV: 'production' });
  });
  afterAll(() => h.close());

  it('serves no GraphiQL page and no GraphiQL assets', async () => {
    const page = await call(h, ENDPOINT, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(406);
    expect(page.text).not.toContain('<html');
    const asset = await call(h, 'http://localhost/graphiql-assets/any/graphiql.css');
    expect(asset.status).toBe(404);
  });

  it('refuses introspection but still answers __typename', async () => {
    for (const query of [
      '{ __schema { types { name } } }',
      '{ __type(name: "CallDetailRecord") { name } }',
    ]) {
      const res = await call(h, ENDPOINT, json(query));
      expect(res.text).toContain('introspection has been disabled');
      expect(res.text).not.toContain('"data"');
    }
    const res = await call(h, ENDPOINT, json('{ __typename }'));
    expect(JSON.parse(res.text)).toEqual({ data: { __typename: 'Query' } });
  });

  it('does not spell out the schema in "Did you mean" hints', async () => {
    const res = await call(h, ENDPOINT, json(`{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { pric } }`));
    expect(res.text).toContain('Cannot query field');
    expect(res.text).not.toContain('Did you mean');
    expect(res.text).not.toContain('price');
  });

  it('refuses a GET without a CSRF header with 403 and accepts it with one', async () => {
    const bare = await call(h, `${ENDPOINT}?query=${TYPENAME}`, { headers: { accept: 'application/json' } });
    expect(bare.status).toBe(403);
    // A code a client can act on, and a message that says what to send.
    const [error] = JSON.parse(bare.text).errors;
    expect(error.extensions.code).toBe('CSRF_HEADER_MISSING');
    for (const header of ['x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-apollo-operation-name']) {
      expect(error.message).toContain(header);
    }
    for (const header of ['x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-apollo-operation-name']) {
      const ok = await call(h, `${ENDPOINT}?query=${TYPENAME}`, {
        headers: { accept: 'application/json', [header]: '1' },
      });
      expect(ok.status).toBe(200);
    }
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'refuses a POST with the simple content type %s (no preflight) with 403',
    async (contentType) => {
      const res = await call(h, ENDPOINT, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.text).errors[0].extensions.code).toBe('CSRF_HEADER_MISSING');
    },
  );

  it('accepts a JSON POST without a CSRF header (JSON needs a preflight)', async () => {
    const res = await call(h, ENDPOINT, json('{ __typename }'));
    expect(res.status).toBe(200);
  });

  it('does not quote the request body back in a JSON parse error', async () => {
    const res = await call(h, ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{"query": "PRIVATE-BODY-TEXT',
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).errors[0]).toEqual({
      message: 'POST body sent invalid JSON.',
      extensions: { code: 'BAD_REQUEST', originalError: { name: 'SyntaxError' } },
    });
    expect(res.text).not.toContain('PRIVATE-BODY-TEXT');
  });

  it('keeps the caller token out of every log line, even at debug level', async () => {
    const secret = 'Pr0ductionSecretToken';
    const query = `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }`;
    await call(h, ENDPOINT, json(query, { authorization: `Bearer ${secret}` }));
    await call(h, ENDPOINT, json(query, { authorization: `Bearer ${secret} trailing` }));
    h.simulator.faults.add({ times: 1, fault: { kind: 'status', status: 500 } });
    await call(h, ENDPOINT, json(query, { authorization: `Bearer ${secret}` }));
    expect(h.logs.length).toBeGreaterThan(0);
    for (const line of h.logs) expect(line).not.toContain(secret);
  });
});

describe('production mode with the developer tools switched back on', () => {
  it('serves GraphiQL with GRAPHIQL_ENABLED=true and introspection with INTROSPECTION_ENABLED=true', async () => {
    const h = await createHarness({
      NODE_ENV: 'production',
      GRAPHIQL_ENABLED: 'true',
      INTROSPECTION_ENABLED: 'true',
    });
    const page = await call(h, ENDPOINT, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.contentType).toContain('text/html');
    const schema = await call(h, ENDPOINT, json('{ __schema { queryType { name } } }'));
    expect(JSON.parse(schema.text)).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    await h.close();
  });
});

describe('development mode (the default)', () => {
  it('serves GraphiQL and introspection and accepts a plain GET', async () => {
    const h = await createHarness();
    const page = await call(h, ENDPOINT, { headers: { accept: 'text/html' } });
    expect(page.contentType).toContain('text/html');
    const schema = await call(h, ENDPOINT, json('{ __schema { queryType { name } } }'));
    expect(schema.text).toContain('"queryType"');
    const get = await call(h, `${ENDPOINT}?query=${TYPENAME}`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(200);
    await h.close();
  });

  it('can switch GraphiQL and introspection off with GRAPHIQL_ENABLED=false and INTROSPECTION_ENABLED=0', async () => {
    const h = await createHarness({ GRAPHIQL_ENABLED: 'false', INTROSPECTION_ENABLED: '0' });
    expect((await call(h, ENDPOINT, { headers: { accept: 'text/html' } })).status).toBe(406);
    const schema = await call(h, ENDPOINT, json('{ __schema { queryType { name } } }'));
    expect(schema.text).toContain('introspection has been disabled');
    await h.close();
  });
});

describe('configuration of the limits and switches', () => {
  it('documents its defaults: developer tools on in development, off in production', () => {
    expect(loadConfig({})).toMatchObject({ graphiql: true, introspection: true, csrfPrevention: false });
    expect(
      loadConfig({ NODE_ENV: 'production', CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2' }),
    ).toMatchObject({
      graphiql: false,
      introspection: false,
      csrfPrevention: true,
    });
    expect(loadConfig({}).limits).toEqual({
      requestDeadlineMs: 15_000,
      operationCost: 250,
      maxStatsRecords: 100_000,
      maxFieldsPerRequest: 20_000,
      queryLength: 32_768,
      queryDepth: 8,
      queryAliases: 30,
      queryTokens: 2_000,
      queryDirectives: 50,
      requestBodyBytes: 262_144,
      requestBodyLimitStrategy: 'content-length',
      batch: 0,
    });
    expect(loadConfig({ CARRIERX_CONNECTIONS: '32' }).carrierx.policies).toEqual({
      retries: 2,
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 2_000,
      breakerThreshold: 10,
      breakerCooldownMs: 10_000,
      maxConcurrentCalls: 32,
      minConcurrentCalls: 8,
      adaptiveConcurrency: true,
      maxQueuedCalls: 1_000,
      retryBudgetRatio: 0.2,
      retryBudgetMinPerSecond: 1,
      maxSharePerCredential: 0.5,
    });
  });

  it('names each invalid setting', () => {
    let message = '';
    try {
      loadConfig({
        GRAPHIQL_ENABLED: 'maybe',
        REQUEST_DEADLINE_MS: '0',
        REQUEST_BODY_LIMIT_STRATEGY: 'sometimes',
        MAX_QUERY_DEPTH: 'deep',
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    for (const name of [
      'GRAPHIQL_ENABLED',
      'REQUEST_DEADLINE_MS',
      'REQUEST_BODY_LIMIT_STRATEGY',
      'MAX_QUERY_DEPTH',
    ])
      expect(message).toContain(name);
  });

  it('refuses a retry delay cap below the base delay', () => {
    expect(() =>
      loadConfig({ CARRIERX_RETRY_BASE_DELAY_MS: '500', CARRIERX_RETRY_MAX_DELAY_MS: '100' }),
    ).toThrow(/CARRIERX_RETRY_MAX_DELAY_MS/);
  });
});

describe('log redaction', () => {
  it('blanks Authorization headers and tokens wherever the logger is handed them', () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => lines.push(line) } });
    logger.info({ authorization: 'Bearer S1', token: 'S2' }, 'top level');
    logger.info({ headers: { authorization: 'Bearer S3', Authorization: 'Bearer S4' } }, 'headers');
    logger.info({ req: { headers: { authorization: 'Bearer S5' } } }, 'request');
    logger.info({ err: { request: { headers: { Authorization: 'Bearer S6' } } } }, 'nested');
    logger.info({ config: { carrierx: { token: 'S7' } } }, 'config');
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).not.toMatch(/S[1-7]\b/);
  });
});
