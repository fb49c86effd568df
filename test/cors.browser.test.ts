import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createRequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const CHROMIUM = '/usr/bin/chromium';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * A front end under development on its own port (as Vite serves one) calls the GraphQL server on another:
 * a JSON POST with Authorization, so Chromium sends a preflight first.
 */
describe('a browser app on another loopback port', () => {
  let browser: Browser;
  const servers: Server[] = [];
  const harnesses: Harness[] = [];

  /** The GraphQL server, as `npm start` serves it, with `env`; returns its endpoint on 127.0.0.1. */
  async function graphqlServer(env: Record<string, string>): Promise<{ url: string; h: Harness }> {
    const h = await createHarness(env);
    harnesses.push(h);
    const server = createServer(createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 }));
    servers.push(server);
    return { url: `http://127.0.0.1:${await listen(server)}/graphql`, h };
  }

  /** Loads a blank page from localhost:<port> and runs the app's fetch there; its result or the error text. */
  async function fetchFromApp(endpoint: string): Promise<unknown> {
    const app = createServer((_req, res) => res.end('<!doctype html><title>app</title>'));
    servers.push(app);
    const port = await listen(app);
    const page = await browser.newPage();
    try {
      await page.goto(`http://localhost:${port}/`);
      return await page.evaluate(
        async ({ endpoint, token, sid }) => {
          try {
            const response = await fetch(endpoint, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
              body: JSON.stringify({ query: `{ callDetailRecord(drSid: "${sid}") { drSid } }` }),
            });
            return await response.json();
          } catch (error) {
            return String(error);
          }
        },
        { endpoint, token: DEMO_TOKEN, sid: SAMPLE_DR_SID },
      );
    } finally {
      await page.close();
    }
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) server.close();
    for (const h of harnesses) await h.close();
  });

  it('reads records from the server in development on the embedded simulator, with no CORS_ORIGINS', async () => {
    const { url } = await graphqlServer({ EMBEDDED_SIMULATOR_WORKER: 'true' });
    expect(await fetchFromApp(url)).toEqual({ data: { callDetailRecord: { drSid: SAMPLE_DR_SID } } });
  }, 60_000);

  it('is refused by a server on a real CarrierX, and the server logs one line naming CORS_ORIGINS', async () => {
    const { url, h } = await graphqlServer({});
    expect(await fetchFromApp(url)).toMatch(/TypeError: Failed to fetch/);
    expect(h.logs.filter((line) => line.includes('CORS_ORIGINS'))).toHaveLength(1);
    // The refusal happened at the preflight: the POST never ran, so CarrierX was not called.
    expect(h.simulator.stats.requests).toBe(0);
  }, 60_000);
});
