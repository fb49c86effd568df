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

    it("marks every answer as depending on Origin, so a shared cache does not hand one origin's answer to another", async () => {
      for (const origin of ['https://app.example.com', 'https://evil.example']) {
        expect(await fromOrigin(h, origin)).toMatchObject({ preflightVary: 'Origin', postVary: 'Origin' });
      }
      const health = await h.app.fetch('http://localhost/health');
      expect(health.headers.get('vary')).toBe('Origin');
    });
  });
});
