import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const QUERY = JSON.stringify({ query: `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }` });

async function fromOrigin(h: Harness, origin: string) {
  const preflight = await h.app.fetch('http://localhost/graphql', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  const post = await h.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: QUERY,
  });
  await post.text();
  return {
    preflightAllows: preflight.headers.get('access-control-allow-origin'),
    postAllows: post.headers.get('access-control-allow-origin'),
    preflightVary: preflight.headers.get('vary'),
    postVary: post.headers.get('vary'),
  };
}

describe('cross-origin access', () => {
  describe('by default', () => {
    let h: Harness;
    beforeAll(async () => {
      // The fallback token is what a hostile page would ride on.
      h = await createHarness({ NODE_ENV: 'production', CARRIERX_TOKEN: 'carrierx-demo-token' });
    });
    afterAll(() => h.close());

    it('lets no other web origin read answers, so no page can use the fallback CARRIERX_TOKEN', async () => {
      expect(await fromOrigin(h, 'https://evil.example')).toMatchObject({
        preflightAllows: null,
        postAllows: null,
      });
    });

    it('in production lets no loopback page in either: cross-origin access stays opt-in', async () => {
      expect(await fromOrigin(h, 'http://127.0.0.1:4732')).toMatchObject({
        preflightAllows: null,
        postAllows: null,
      });
    });
  });

  describe('with CORS_ORIGINS', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness({ CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' });
    });
    afterAll(() => h.close());

    it('allows the listed origins and no others', async () => {
      expect(await fromOrigin(h, 'https://admin.example.com')).toMatchObject({
        preflightAllows: 'https://admin.example.com',
        postAllows: 'https://admin.example.com',
      });
      expect(await fromOrigin(h, 'https://evil.example')).toMatchObject({
        preflightAllows: null,
        postAllows: null,
      });
      // A sandboxed page's origin is "null": an `Access-Control-Allow-Origin: null` answer would let it in.
      expect(await fromOrigin(h, 'null')).toMatchObject({ preflightAllows: null, postAllows: null });
    });

    it('lets a listed origin send request ids, trace context and no-cache, and read X-Request-Id and Retry-After', async () => {
      const origin = 'https://app.example.com';
      const answer = await h.app.fetch('http://localhost/graphql', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers':
            'content-type,authorization,x-request-id,traceparent,cache-control',
        },
      });
      const allowed = (answer.headers.get('access-control-allow-headers') ?? '')
        .toLowerCase()
        .split(/\s*,\s*/);
      expect(allowed).toEqual(
        expect.arrayContaining([
          'content-type',
          'authorization',
          'x-request-id',
          'traceparent',
          'cache-control',
        ]),
      );
      const post = await h.app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', 'x-request-id': 'from-the-browser-1' },
        body: QUERY,
      });
      await post.text();
      const exposed = (post.headers.get('access-control-expose-headers') ?? '')
        .toLowerCase()
        .split(/\s*,\s*/);
      expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'retry-after']));
      expect(post.headers.get('x-request-id')).toBe('from-the-browser-1');
    });

    it("marks every answer as depending on Origin, so a shared cache does not hand one origin's answer to another", async () => {
      for (const origin of ['https://app.example.com', 'https://evil.example']) {
        expect(await fromOrigin(h, origin)).toMatchObject({ preflightVary: 'Origin', postVary: 'Origin' });
      }
      const health = await h.app.fetch('http://localhost/health');
      expect(health.headers.get('vary')).toBe('Origin');
    });
  });
});

/** A browser's preflight from `origin`, as Chrome sends it before a JSON POST. */
function preflight(h: Harness, origin: string) {
  return h.app.fetch('http://localhost:4000/graphql', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,authorization',
    },
  });
}

const allowHeaders = (response: Response) =>
  [...response.headers.keys()].filter((name) => name.startsWith('access-control-allow-'));

describe('cross-origin access while developing on the embedded simulator', () => {
  let h: Harness;
  beforeAll(async () => {
    // How a process sees the embedded simulator when CARRIERX_BASE_URL points at it (a cluster worker).
    h = await createHarness({ EMBEDDED_SIMULATOR_WORKER: 'true' });
  });
  afterAll(() => h.close());

  it('lets a browser app on another loopback port (127.0.0.1:4732, localhost:5173, [::1]:3000) call', async () => {
    for (const origin of [
      'http://127.0.0.1:4732',
      'http://localhost:5173',
      'http://[::1]:3000',
      'https://localhost',
    ]) {
      expect(await fromOrigin(h, origin)).toMatchObject({ preflightAllows: origin, postAllows: origin });
    }
  });

  it('still refuses origins that only look local', async () => {
    for (const origin of [
      'http://localhost.evil.example',
      'http://127.0.0.1.nip.io:4732',
      'https://evil.example',
    ]) {
      expect(await fromOrigin(h, origin)).toMatchObject({ preflightAllows: null, postAllows: null });
    }
  });
});

describe('a refused cross-origin request', () => {
  let h: Harness;
  beforeAll(async () => {
    // Development against a real CarrierX: no origin is allowed unless CORS_ORIGINS lists it.
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('gets its preflight answered 204 without allow headers, as CORS expects, not 405', async () => {
    const response = await preflight(h, 'http://127.0.0.1:4732');
    expect(response.status).toBe(204);
    expect(allowHeaders(response)).toEqual([]);
  });

  it('is logged once per origin, naming CORS_ORIGINS', async () => {
    const refusals = () => h.logs.filter((line) => line.includes('CORS_ORIGINS'));
    const before = refusals().length;
    await preflight(h, 'http://127.0.0.1:5555');
    await preflight(h, 'http://127.0.0.1:5555');
    await fromOrigin(h, 'http://127.0.0.1:5555');
    await preflight(h, 'https://other.example');
    const lines = refusals()
      .slice(before)
      .map((line) => JSON.parse(line) as { origin: string });
    expect(lines.map((line) => line.origin)).toEqual(['http://127.0.0.1:5555', 'https://other.example']);
  });

  it('is not logged for a same-origin request, which browsers also send with Origin', async () => {
    const before = h.logs.length;
    const post = await h.app.fetch('http://localhost:4000/graphql', {
      method: 'POST',
      headers: { origin: 'http://localhost:4000', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(post.status).toBe(200);
    expect(h.logs.slice(before).filter((line) => line.includes('CORS_ORIGINS'))).toEqual([]);
  });
});
