import { readFileSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it, vi } from 'vitest';
import { createGraphiQLRenderer, renderGraphiQL } from '../src/graphql/graphiql/render-graphiql.ts';
import { findGraphiQLAssets, useOfflineGraphiQL } from '../src/graphql/graphiql/use-offline-graphiql.ts';

const readFileCalls = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    readFile: ((file: string, ...rest: []) => {
      readFileCalls.push(String(file));
      return fs.readFile(file, ...rest);
    }) as typeof fs.readFile,
  };
});

/** The @graphql-yoga/graphiql version in every asset URL (tests run src/, so the installed package's). */
const GRAPHIQL_VERSION = findGraphiQLAssets().version;
const base = `http://yoga/graphiql-assets/${GRAPHIQL_VERSION}`;
const bundlePath = new URL(
  '../node_modules/@graphql-yoga/graphiql/dist/yoga-graphiql.umd.js',
  import.meta.url,
);

function createTestYoga() {
  return createYoga({
    schema: createSchema({
      typeDefs: 'type Query { hello: String }',
      resolvers: { Query: { hello: () => 'world' } },
    }),
    graphiql: {
      title: 'CDR API',
      defaultQuery: '{ hello }',
      headers: JSON.stringify({ Authorization: 'Bearer demo' }),
    },
    renderGraphiQL,
    plugins: [useOfflineGraphiQL()],
  });
}

async function getPage(yoga = createTestYoga()) {
  const response = await yoga.fetch('http://yoga/graphql', { headers: { accept: 'text/html' } });
  return { response, html: await response.text() };
}

describe('GraphiQL page', () => {
  it('loads its script and stylesheet only from local asset URLs', async () => {
    const { response, html } = await getPage();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');

    const srcs = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(srcs).toContain(`/graphiql-assets/${GRAPHIQL_VERSION}/yoga-graphiql.umd.js`);
    expect(srcs).toContain(`/graphiql-assets/${GRAPHIQL_VERSION}/graphiql.css`);
    for (const src of srcs) expect(src).not.toMatch(/^(https?:)?\/\//);
    expect(html).not.toMatch(/unpkg|githubusercontent|jsdelivr/);
  });

  it('passes the configured title, default query and headers to GraphiQL', async () => {
    const { html } = await getPage();
    expect(html).toContain('<title>CDR API</title>');
    const options = /renderYogaGraphiQL\([^,]+, (.*)\);/.exec(html)?.[1];
    expect(JSON.parse(options ?? 'null')).toEqual({
      title: 'CDR API',
      defaultQuery: '{ hello }',
      headers: '{"Authorization":"Bearer demo"}',
      query: '{ hello }',
    });
  });

  it('keeps option values from breaking out of the inline script or the title', () => {
    const html = renderGraphiQL({
      title: '</title><script>alert(1)</script>',
      defaultQuery: '# </script><script>alert(2)</script>',
    });
    expect(html).not.toContain('<script>alert');
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    const options = /renderYogaGraphiQL\([^,]+, (.*)\);/.exec(html)?.[1];
    expect(JSON.parse(options ?? 'null').defaultQuery).toBe('# </script><script>alert(2)</script>');
  });

  it('points Monaco at the locally served workers', async () => {
    const { html } = await getPage();
    for (const worker of ['editor.worker.bundle.js', 'json.worker.bundle.js', 'graphql.worker..bundle.js']) {
      expect(html).toContain(`"/graphiql-assets/${GRAPHIQL_VERSION}/monacoeditorwork/${worker}"`);
    }
  });

  it('uses the same basePath for the page and the assets when one is configured', async () => {
    const yoga = createYoga({
      schema: createSchema({ typeDefs: 'type Query { hello: String }' }),
      renderGraphiQL: createGraphiQLRenderer({ basePath: '/api/static/' }),
      plugins: [useOfflineGraphiQL({ basePath: '/api/static/' })],
    });
    const { html } = await getPage(yoga);
    const script = /<script src="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(script).toBe(`/api/static/${GRAPHIQL_VERSION}/yoga-graphiql.umd.js`);
    expect((await yoga.fetch(`http://yoga${script}`)).status).toBe(200);
  });

  it('still answers GraphQL queries on the same endpoint', async () => {
    const response = await createTestYoga().fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ hello }' }),
    });
    expect(await response.json()).toEqual({ data: { hello: 'world' } });
  });
});

describe('GraphiQL assets', () => {
  it('serves the bundle uncompressed with its content type, length and an immutable cache policy', async () => {
    const response = await createTestYoga().fetch(`${base}/yoga-graphiql.umd.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('vary')).toBe('Accept-Encoding');
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(response.headers.get('etag')).toMatch(/^"[\w-]+"$/);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(Buffer.compare(body, readFileSync(bundlePath))).toBe(0);
    expect(response.headers.get('content-length')).toBe(String(body.byteLength));
  });

  it('serves the stylesheet and every Monaco worker the page names', async () => {
    const yoga = createTestYoga();
    const expected: Record<string, string> = {
      'graphiql.css': 'text/css; charset=utf-8',
      'monacoeditorwork/editor.worker.bundle.js': 'text/javascript; charset=utf-8',
      'monacoeditorwork/json.worker.bundle.js': 'text/javascript; charset=utf-8',
      'monacoeditorwork/graphql.worker..bundle.js': 'text/javascript; charset=utf-8',
    };
    for (const [file, type] of Object.entries(expected)) {
      const response = await yoga.fetch(`${base}/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toBe(type);
    }
  });

  it('answers 304 when If-None-Match carries the ETag', async () => {
    const yoga = createTestYoga();
    const first = await yoga.fetch(`${base}/graphiql.css`);
    const etag = first.headers.get('etag') ?? '';
    const second = await yoga.fetch(`${base}/graphiql.css`, { headers: { 'if-none-match': etag } });
    expect(second.status).toBe(304);
    expect(second.headers.get('etag')).toBe(etag);
    expect(second.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await second.text()).toBe('');

    const stale = await yoga.fetch(`${base}/graphiql.css`, {
      headers: { 'if-none-match': '"something-else"' },
    });
    expect(stale.status).toBe(200);
  });

  it('sends brotli when accepted and gzip when brotli is not, each with its own ETag', async () => {
    const yoga = createTestYoga();
    const raw = readFileSync(
      new URL('../node_modules/@graphql-yoga/graphiql/dist/graphiql.css', import.meta.url),
    );

    const br = await yoga.fetch(`${base}/graphiql.css`, {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(br.headers.get('content-encoding')).toBe('br');
    const brBody = Buffer.from(await br.arrayBuffer());
    expect(brBody.byteLength).toBeLessThan(raw.byteLength / 2);
    expect(br.headers.get('content-length')).toBe(String(brBody.byteLength));
    expect(Buffer.compare(brotliDecompressSync(brBody), raw)).toBe(0);

    const gz = await yoga.fetch(`${base}/graphiql.css`, { headers: { 'accept-encoding': 'gzip, br;q=0' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(Buffer.compare(gunzipSync(Buffer.from(await gz.arrayBuffer())), raw)).toBe(0);

    expect(new Set([br.headers.get('etag'), gz.headers.get('etag')]).size).toBe(2);
  });

  it('answers 404 to traversal attempts, unlisted files and other versions', async () => {
    const yoga = createTestYoga();
    const attempts = [
      `${base}/../../package.json`,
      `${base}/..%2F..%2Fpackage.json`,
      `${base}/%2e%2e/%2e%2e/package.json`,
      `${base}/monacoeditorwork%2Fjson.worker.bundle.js`,
      `${base}/yoga-graphiql.es.js`,
      `${base}/constructor`,
      `${base}/`,
      `${base}/graphiql.css/`,
      'http://yoga/graphiql-assets/0.0.0/graphiql.css',
      'http://yoga/graphiql-assets/graphiql.css',
    ];
    for (const url of attempts) {
      expect((await yoga.fetch(url)).status, url).toBe(404);
    }
  });

  it('reads each file once however many requests ask for it', async () => {
    const yoga = createTestYoga();
    const cssReads = () => readFileCalls.filter((file) => file.endsWith('graphiql.css')).length;
    const before = cssReads();
    const statuses = await Promise.all(
      Array.from({ length: 5 }, async () => (await yoga.fetch(`${base}/graphiql.css`)).status),
    );
    statuses.push(
      (await yoga.fetch(`${base}/graphiql.css`, { headers: { 'accept-encoding': 'gzip' } })).status,
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(cssReads() - before).toBe(1);
  });
});
