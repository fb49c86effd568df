import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { liveFeedOf } from '../src/graphql/app.ts';
import { findGraphiQLAssets } from '../src/graphql/graphiql/use-offline-graphiql.ts';
import type { LiveFeed } from '../src/live/feed.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

/** The @graphql-yoga/graphiql version in every asset URL (tests run src/, so the installed package's). */
const GRAPHIQL_VERSION = findGraphiQLAssets().version;

const CHROMIUM = '/usr/bin/chromium';
/**
 * Where to keep a screenshot of each page the tests end on, for a person checking the layout: off unless
 * GRAPHIQL_SCREENSHOTS names a directory (no fixed names in the shared temporary directory).
 */
const SCREENSHOTS = process.env.GRAPHIQL_SCREENSHOTS;

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isOffHost(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return (
    (protocol === 'http:' || protocol === 'https:' || protocol === 'ws:' || protocol === 'wss:') &&
    !LOOPBACK_HOSTS.has(hostname)
  );
}

/** The text a Monaco editor shows; it renders spaces as U+00A0, which `\s` matches. */
async function monacoText(editor: Locator): Promise<string> {
  return ((await editor.locator('.view-lines').textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** A raw HTTP GET whose path the client does not normalise, unlike fetch and URL. */
function rawGet(origin: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(new URL(origin), { path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('GraphiQL in a browser with no internet', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  let h: Harness;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``);
    }
    // The real app on the embedded simulator, as `npm start` serves it.
    // Polled often: the live tab's test waits for records to arrive.
    h = await createHarness({ LIVE_POLL_INTERVAL_MS: '200' }, { demoToken: DEMO_TOKEN });
    server = createServer(h.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  /**
   * GraphiQL's page in a new browser context with no internet: any request off this host is aborted and listed
   * in `offHost`, and the page's uncaught errors in `pageErrors`.
   */
  async function openGraphiQL() {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const offHost: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (!isOffHost(url)) return route.continue();
      offHost.push(url);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`${origin}/graphql`);
    return { context, page, offHost, pageErrors };
  }

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await h?.close();
  });

  it('renders GraphiQL and runs the example query with the demo token using only loopback requests', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const offHost: string[] = [];
    const seen: string[] = [];
    const consoleErrors: string[] = [];
    // On the context, not the page, so requests from the Monaco workers are caught too.
    context.on('request', (req) => {
      seen.push(req.url());
    });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isOffHost(url)) {
        offHost.push(url);
        return route.abort('internetdisconnected');
      }
      return route.continue();
    });

    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));

    await page.goto(`${origin}/graphql`);
    // Fails here, naming the URLs, if the page itself points anywhere but loopback (as Yoga's stock page does).
    expect(offHost).toEqual([]);
    await expect(page.title()).resolves.toBe('CarrierX Call Detail Records');
    const editor = page.locator('.graphiql-query-editor .monaco-editor');
    await editor.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => monacoText(editor), { timeout: 10_000 })
      .toContain('callDetailRecord(drSid: $drSid)');
    h.simulator.resetLog();

    await page.locator('button.graphiql-execute-button').click();
    const result = page.locator('.graphiql-response .monaco-editor');
    await expect.poll(() => monacoText(result), { timeout: 15_000 }).toContain('"data"');
    const answer = JSON.parse(await monacoText(result));
    expect(answer.errors).toBeUndefined();
    expect(answer.data.callDetailRecord).toMatchObject({
      drSid: SAMPLE_DR_SID,
      price: '0.0025',
      ringDuration: '0.946',
    });

    await screenshot(page, 'graphiql');

    // GraphiQL's pre-filled headers carried the demo token all the way to the (simulated) upstream.
    expect(h.simulator.requests.at(-1)?.authorization).toBe(`Bearer ${DEMO_TOKEN}`);

    // The page fetched its workers (so the editor is fully functional) from the local asset path.
    expect(seen).toContain(
      `${origin}/graphiql-assets/${GRAPHIQL_VERSION}/monacoeditorwork/graphql.worker..bundle.js`,
    );
    expect(offHost).toEqual([]);
    expect(seen.filter(isOffHost)).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await context.close();
  }, 90_000);

  it('builds a query by ticking a field in the Explorer, runs it, and opens a second tab with a page of calls', async () => {
    const { context, page, offHost, pageErrors } = await openGraphiQL();
    const editor = page.locator('.graphiql-query-editor .monaco-editor');
    await editor.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => monacoText(editor), { timeout: 10_000 })
      .toContain('callDetailRecord(drSid: $drSid)');

    // The three example tabs: one record, a filtered page of the callDetailRecords connection, the live feed.
    await expect.poll(() => page.locator('.graphiql-tab').count()).toBe(3);
    expect(await page.locator('.graphiql-tab').nth(1).textContent()).toContain('CallDetailRecords');
    expect(await page.locator('.graphiql-tab').nth(2).textContent()).toContain('CallDetailRecordAdded');

    // The Explorer lists the record's fields under the example query's callDetailRecord; sipcause is not in it.
    expect(await monacoText(editor)).not.toContain('sipcause');
    await page.locator('.graphiql-sidebar button[aria-label="Show GraphiQL Explorer"]').click();
    const field = page.locator('.graphiql-explorer-callDetailRecord [data-field-name="sipcause"]');
    await field.waitFor({ timeout: 10_000 });
    await field.click();
    await expect.poll(() => monacoText(editor), { timeout: 10_000 }).toContain('sipcause');

    h.simulator.resetLog();
    await page.locator('button.graphiql-execute-button').click();
    const result = page.locator('.graphiql-response .monaco-editor');
    await expect.poll(() => monacoText(result), { timeout: 15_000 }).toContain('"sipcause"');
    const answer = JSON.parse(await monacoText(result));
    expect(answer.errors).toBeUndefined();
    expect(answer.data.callDetailRecord).toMatchObject({ drSid: SAMPLE_DR_SID, sipcause: '200' });
    // The ticked field travelled to CarrierX as part of include_fields.
    expect(h.includeFieldsSeen().at(-1)).toContain('sipcause');
    await screenshot(page, 'graphiql-explorer');

    expect(offHost).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 90_000);

  it('runs the live feed tab and shows each new call as it arrives', async () => {
    const { context, page, offHost, pageErrors } = await openGraphiQL();
    await expect.poll(() => page.locator('.graphiql-tab').count(), { timeout: 30_000 }).toBe(3);
    await page.locator('.graphiql-tab').nth(2).locator('button').first().click();
    const editor = page.locator('.graphiql-query-editor .monaco-editor');
    await expect.poll(() => monacoText(editor), { timeout: 10_000 }).toContain('callDetailRecordAdded');
    // GraphiQL 5.2 learns the tab's operation 100 ms after its text shows (a debounced parse, which also stores
    // the text); run before that sends the previous tab's operation name, which the fetcher refuses ("Cannot
    // infer operation CallDetailRecord"). A person cannot click that fast; a test can.
    await expect
      .poll(() => page.evaluate(() => localStorage.getItem('graphiql:query')), { timeout: 10_000 })
      .toContain('callDetailRecordAdded');
    await page.locator('button.graphiql-execute-button').click();
    const feed = liveFeedOf(h.app) as LiveFeed;
    await expect.poll(() => feed.stats().subscriptions, { timeout: 10_000 }).toBe(1);

    // New calls, dated after the feed started: each replaces the last in the response pane as it comes.
    const template = h.simulator.records.get(SAMPLE_DR_SID) as Record<string, unknown>;
    const result = page.locator('.graphiql-response .monaco-editor');
    for (const [i, drSid] of [randomUUID(), randomUUID()].entries()) {
      h.simulator.addRecord({
        ...template,
        dr_sid: drSid,
        date_insert: new Date(Date.now() + 60_000 + i).toISOString(),
      });
      await expect.poll(() => monacoText(result), { timeout: 15_000 }).toContain(drSid);
    }
    await screenshot(page, 'graphiql-live');
    // The execute button stops a running subscription.
    await page.locator('button.graphiql-execute-button').click();
    await expect.poll(() => feed.stats().subscriptions, { timeout: 10_000 }).toBe(0);

    expect(offHost).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 90_000);

  it("lists the record's root fields first in the Explorer, and Federation's _entities and _service last", async () => {
    const { context, page } = await openGraphiQL();
    await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout: 30_000 });
    await page.locator('.graphiql-sidebar button[aria-label="Show GraphiQL Explorer"]').click();
    // The example query's operation, as the Explorer lays it out: its root fields, top to bottom on screen (each
    // child after the title bar is one, wrapped in a div of its own once it has arguments to show).
    const operation = page.locator('[id="query-CallDetailRecord"]');
    await operation.locator('[data-field-name="_service"]').waitFor({ timeout: 10_000 });
    const shown = await operation.evaluate((element) =>
      [...element.querySelectorAll(':scope > :not(.graphiql-operation-title-bar)')]
        .map((node) => ({
          name: node.querySelector('[data-field-name]')?.getAttribute('data-field-name'),
          top: node.getBoundingClientRect().top,
        }))
        .sort((a, b) => a.top - b.top)
        .map((field) => field.name),
    );
    expect(shown[0]).toBe('callDetailRecord');
    // Still there for a federation owner to tick: at the end, not gone.
    expect(shown.slice(-2).sort()).toEqual(['_entities', '_service']);
    expect(shown.length).toBeGreaterThan(3);
    await screenshot(page, 'graphiql-explorer-order');
    await context.close();
  }, 90_000);

  it('answers 404 to unnormalised traversal paths on the wire', async () => {
    const prefix = `/graphiql-assets/${GRAPHIQL_VERSION}`;
    for (const path of [
      `${prefix}/../../../package.json`,
      `${prefix}/..%2f..%2fpackage.json`,
      `${prefix}/monacoeditorwork/..%5c..%5cgraphiql.css`,
    ]) {
      expect(await rawGet(origin, path), path).toBe(404);
    }
  });
});
