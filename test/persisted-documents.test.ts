import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { executeCodegen } from '@graphql-codegen/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import repoCodegen from '../codegen.ts';
import { CallDetailRecordDocument } from '../examples/operations/gql/graphql.ts';
import { SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { createRegisteredDocuments, documentHash } from '../src/graphql/persisted-documents.ts';
import { createRequestHandler, type RequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { postGraphQL } from './helpers/post.ts';

/** The manifest codegen writes for examples/operations, as a frontend ships it. */
const MANIFEST = 'examples/operations/gql/persisted-documents.json';
/** The id the generated document carries, as a frontend's client sends it. */
const DOCUMENT_ID = (CallDetailRecordDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
const HASH = DOCUMENT_ID.replace(/^sha256:/, '');
const AUTH = { authorization: 'Bearer carrierx-demo-token' };
const ARBITRARY = `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }`;
const variables = { drSid: SAMPLE_DR_SID };

interface Answer {
  status: number;
  headers: Headers;
  body: {
    data?: { callDetailRecord?: Record<string, unknown> | null };
    errors?: { extensions?: { code?: string } }[];
  };
}

async function post(h: Harness, body: unknown): Promise<Answer> {
  const response = await h.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function get(h: Harness, params: Record<string, string>): Promise<Answer> {
  const response = await h.app.fetch(`http://localhost/graphql?${new URLSearchParams(params)}`, {
    headers: { accept: 'application/json', ...AUTH },
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const codeOf = (answer: Answer) => answer.body.errors?.map((error) => error.extensions?.code);
const upstreamCalls = (h: Harness) => h.simulator.requests.filter((r) => r.path.includes('/calls/')).length;

/** One raw HTTP POST to the request handler, as a server or gateway sends it. */
const rawPost = (port: number, body: string) =>
  postGraphQL(port, body, AUTH).then((reply) => ({ status: reply.status, body: reply.text }));

/** Writes a manifest to a temporary file and returns its path. */
function manifestFile(content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'persisted-')), 'manifest.json');
  writeFileSync(file, content);
  return file;
}

describe('persisted documents from PERSISTED_DOCUMENTS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ PERSISTED_DOCUMENTS: MANIFEST });
  });
  afterAll(() => h.close());

  it('runs the generated operation by its documentId over POST, fetching only the fields it selects', async () => {
    h.simulator.resetLog();
    const answer = await post(h, { documentId: DOCUMENT_ID, variables });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.callDetailRecord).toMatchObject({ drSid: SAMPLE_DR_SID, price: '0.0025' });
    expect(h.includeFieldsSeen()[0]).toContain('price');
    expect(h.includeFieldsSeen()[0]).not.toContain('user_data');
    // POST answers are not cacheable, persisted or not.
    expect(answer.headers.get('cache-control')).toBeNull();
  });

  it("takes the bare hash and Apollo's extensions.persistedQuery.sha256Hash too", async () => {
    for (const body of [
      { documentId: HASH, variables },
      { extensions: { persistedQuery: { version: 1, sha256Hash: HASH } }, variables },
    ]) {
      const answer = await post(h, body);
      expect(answer.body.errors, JSON.stringify(body)).toBeUndefined();
      expect(answer.body.data?.callDetailRecord?.drSid).toBe(SAMPLE_DR_SID);
    }
  });

  it('runs it over GET, with Cache-Control: private, max-age=0 when there is no cache', async () => {
    const answer = await get(h, { documentId: DOCUMENT_ID, variables: JSON.stringify(variables) });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.callDetailRecord?.drSid).toBe(SAMPLE_DR_SID);
    expect(answer.headers.get('cache-control')).toBe('private, max-age=0');
    expect(answer.headers.get('vary')).toMatch(/Authorization/);
  });

  it('answers a GET of an ordinary query without Cache-Control', async () => {
    const answer = await get(h, { query: ARBITRARY });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.headers.get('cache-control')).toBeNull();
  });

  it('answers PERSISTED_QUERY_NOT_FOUND for an id that is in no manifest, without calling CarrierX', async () => {
    h.simulator.resetLog();
    for (const documentId of [`sha256:${'0'.repeat(64)}`, 'not-a-hash']) {
      const answer = await post(h, { documentId, variables });
      expect(answer.status).toBe(400);
      expect(codeOf(answer)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    }
    const answer = await get(h, { documentId: `sha256:${'1'.repeat(64)}` });
    expect(codeOf(answer)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(upstreamCalls(h)).toBe(0);
  });

  it('refuses a document sent with an id that is not its hash (PERSISTED_QUERY_HASH_MISMATCH)', async () => {
    h.simulator.resetLog();
    for (const body of [
      { query: ARBITRARY, documentId: DOCUMENT_ID },
      { query: ARBITRARY, extensions: { persistedQuery: { version: 1, sha256Hash: HASH } } },
    ]) {
      const answer = await post(h, body);
      expect(answer.status).toBe(400);
      expect(codeOf(answer)).toEqual(['PERSISTED_QUERY_HASH_MISMATCH']);
    }
    expect(upstreamCalls(h)).toBe(0);
  });

  it('runs and registers a document sent with its own hash, as an Apollo client does after PERSISTED_QUERY_NOT_FOUND', async () => {
    const apq = { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(ARBITRARY) } } };
    const answer = await post(h, { query: ARBITRARY, ...apq });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.callDetailRecord?.price).toBe('0.0025');
    // Beside the manifests: the allowlist is off, so the hash alone now runs it.
    const byHash = await post(h, { ...apq, variables });
    expect(byHash.body.data?.callDetailRecord?.price).toBe('0.0025');
  });

  it('refuses a documentId that is not a string, and a malformed persistedQuery, as BAD_REQUEST', async () => {
    for (const body of [
      { documentId: 42 },
      { extensions: { persistedQuery: { version: 2, sha256Hash: HASH } } },
      { documentId: DOCUMENT_ID, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } },
    ]) {
      const answer = await post(h, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(codeOf(answer)).toEqual(['BAD_REQUEST']);
    }
  });
});

describe('a GET for a persisted document with the CDR cache on', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ PERSISTED_DOCUMENTS: MANIFEST, CACHE_TTL_MS: '30000' });
  });
  afterAll(() => h.close());

  it('may be kept by the browser for as long as the cache keeps records fresh (CACHE_TTL_MS)', async () => {
    const answer = await get(h, { documentId: DOCUMENT_ID, variables: JSON.stringify(variables) });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.headers.get('cache-control')).toBe('private, max-age=30');
  });

  it('is not kept when it holds a page of calls, which is asked of CarrierX every time', async () => {
    const page = Object.entries(JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>).find(
      ([, text]) => text.includes('callDetailRecords('),
    );
    expect(page).toBeDefined();
    const answer = await get(h, { documentId: (page as [string, string])[0] });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data).toHaveProperty('callDetailRecords');
    expect(answer.headers.get('cache-control')).toBe('private, max-age=0');
  });

  it('is not kept when it carries an error', async () => {
    const missing = { drSid: '00000000-0000-4000-8000-000000000000' };
    const answer = await get(h, { documentId: DOCUMENT_ID, variables: JSON.stringify(missing) });
    expect(codeOf(answer)).toEqual(['NOT_FOUND']);
    expect(answer.headers.get('cache-control')).toBe('private, max-age=0');
  });
});

describe('automatic persisted queries, without PERSISTED_DOCUMENTS', () => {
  let h: Harness;
  let server: Server;
  let port: number;
  let handler: RequestHandler;
  beforeAll(async () => {
    h = await createHarness();
    handler = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  /** A document of its own for each test: what one test registers is not another's to find. */
  const documentFor = (alias: string) =>
    `{ ${alias}: callDetailRecord(drSid: "${SAMPLE_DR_SID}") { price } }`;
  const byHash = (text: string) => ({
    extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(text) } },
  });

  it("answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, on which Apollo's link sends the document", async () => {
    h.simulator.resetLog();
    const answer = await post(h, byHash(documentFor('unknown')));
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(upstreamCalls(h)).toBe(0);
  });

  it('registers a document sent with its hash, then runs it by the hash alone over POST and GET', async () => {
    const text = documentFor('registered');
    const registering = await post(h, { query: text, ...byHash(text) });
    expect(registering.body.errors).toBeUndefined();
    const byPost = await post(h, byHash(text));
    expect(byPost.body.errors).toBeUndefined();
    expect(byPost.body.data).toEqual({ registered: { price: '0.0025' } });
    const byGet = await get(h, { extensions: JSON.stringify(byHash(text).extensions) });
    expect(byGet.body.data).toEqual({ registered: { price: '0.0025' } });
  });

  it('registers on the HTTP fast path too, where a JSON POST from a server is answered', async () => {
    const text = documentFor('fast');
    const before = { ...handler.stats };
    const registering = await rawPost(port, JSON.stringify({ query: text, ...byHash(text) }));
    expect(registering.status).toBe(200);
    const answer = await rawPost(port, JSON.stringify(byHash(text)));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data).toEqual({ fast: { price: '0.0025' } });
    expect(handler.stats.fastPath - before.fastPath).toBe(2);
    expect(handler.stats.replayed - before.replayed).toBe(0);
  });

  it('registers nothing for a document sent with a hash that is not its own (PERSISTED_QUERY_HASH_MISMATCH)', async () => {
    const text = documentFor('mismatched');
    const claimed = documentHash(documentFor('claimed'));
    const refused = await post(h, {
      query: text,
      extensions: { persistedQuery: { version: 1, sha256Hash: claimed } },
    });
    expect(refused.status).toBe(400);
    expect(codeOf(refused)).toEqual(['PERSISTED_QUERY_HASH_MISMATCH']);
    const later = await post(h, { extensions: { persistedQuery: { version: 1, sha256Hash: claimed } } });
    expect(codeOf(later)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('registers nothing for a document that fails validation', async () => {
    const text = '{ callDetailRecord(drSid: "not-a-uuid") { price } }';
    const refused = await post(h, { query: text, ...byHash(text) });
    expect(codeOf(refused)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const later = await post(h, byHash(text));
    expect(codeOf(later)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('still runs any document sent as text', async () => {
    const answer = await post(h, { query: ARBITRARY });
    expect(answer.body.data?.callDetailRecord?.price).toBe('0.0025');
  });
});

describe('the store of registered documents', () => {
  it('keeps at most its bound, forgetting the least recently used first', () => {
    const registered = createRegisteredDocuments(2);
    registered.set('a', '{ a }');
    registered.set('b', '{ b }');
    expect(registered.get('a')).toBe('{ a }');
    registered.set('c', '{ c }');
    expect(registered.size).toBe(2);
    expect(registered.get('b')).toBeUndefined();
    expect(registered.get('a')).toBe('{ a }');
    expect(registered.get('c')).toBe('{ c }');
  });
});

describe('the production allowlist (PERSISTED_DOCUMENTS_ONLY=true)', () => {
  let h: Harness;
  let server: Server;
  let port: number;
  let handler: RequestHandler;
  beforeAll(async () => {
    h = await createHarness({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ONLY: 'true' });
    handler = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  it('refuses an arbitrary document with PERSISTED_QUERY_NOT_IN_LIST over POST and GET, without calling CarrierX', async () => {
    h.simulator.resetLog();
    const byPost = await post(h, { query: ARBITRARY });
    expect(byPost.status).toBe(400);
    expect(codeOf(byPost)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    const byGet = await get(h, { query: ARBITRARY });
    expect(codeOf(byGet)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    // Not even with its own hash: the allowlist is the manifests, not whatever hashes correctly.
    const withHash = await post(h, { query: ARBITRARY, documentId: documentHash(ARBITRARY) });
    expect(codeOf(withHash)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    // Nor registered by it: automatic persisted queries are off under the allowlist.
    const byHash = await post(h, { documentId: documentHash(ARBITRARY) });
    expect(codeOf(byHash)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(upstreamCalls(h)).toBe(0);
  });

  it('refuses an arbitrary document on the HTTP fast path too', async () => {
    h.simulator.resetLog();
    const before = { ...handler.stats };
    const answer = await rawPost(port, JSON.stringify({ query: ARBITRARY }));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(handler.stats.fastPath - before.fastPath).toBe(1);
    expect(upstreamCalls(h)).toBe(0);
  });

  it('serves a persisted document by id on the fast path itself', async () => {
    const before = { ...handler.stats };
    const answer = await rawPost(port, JSON.stringify({ documentId: DOCUMENT_ID, variables }));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data.callDetailRecord.drSid).toBe(SAMPLE_DR_SID);
    expect(handler.stats.fastPath - before.fastPath).toBe(1);
    expect(handler.stats.replayed - before.replayed).toBe(0);
  });

  it("runs a manifest's document sent as its text, and by id over GET", async () => {
    const [text] = Object.values(JSON.parse(readFileSync(MANIFEST, 'utf8')));
    const asText = await post(h, { query: text, variables });
    expect(asText.body.data?.callDetailRecord?.drSid).toBe(SAMPLE_DR_SID);
    const byGet = await get(h, { documentId: DOCUMENT_ID, variables: JSON.stringify(variables) });
    expect(byGet.body.data?.callDetailRecord?.drSid).toBe(SAMPLE_DR_SID);
  });
});

describe('the committed example manifest', () => {
  it('is what npm run codegen generates from examples/operations (an operation added without codegen fails here)', async () => {
    const output = 'examples/operations/gql/';
    const { result, error } = await executeCodegen({
      ...repoCodegen,
      generates: { [output]: repoCodegen.generates[output] as never },
    });
    if (error) throw error;
    const generated = result.find((file) => file.filename.endsWith('persisted-documents.json'));
    expect(JSON.parse(generated?.content ?? 'null')).toEqual(JSON.parse(readFileSync(MANIFEST, 'utf8')));
  }, 30_000);
});

describe('PERSISTED_DOCUMENTS at startup', () => {
  const problem = (env: Record<string, string>) => {
    try {
      loadConfig({ CARRIERX_BASE_URL: 'http://127.0.0.1:1', ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('loadConfig accepted it');
  };
  const document = '{ __typename }';

  it('loads every manifest listed, comma-separated', () => {
    const other = manifestFile(JSON.stringify({ [`sha256:${documentHash(document)}`]: document }));
    const config = loadConfig({
      CARRIERX_BASE_URL: 'http://127.0.0.1:1',
      PERSISTED_DOCUMENTS: `${MANIFEST}, ${other}`,
    });
    // Every operation of the example manifest, and the other file's one.
    const examples = Object.keys(JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>);
    expect(examples).toContain(DOCUMENT_ID);
    expect([...config.persistedDocuments.documents.keys()].sort()).toEqual(
      [...examples.map((id) => id.replace(/^sha256:/, '')), documentHash(document)].sort(),
    );
  });

  it('refuses to start with a missing or malformed manifest, naming the file and the variable', () => {
    const missing = path.join(tmpdir(), 'no-such-manifest.json');
    expect(problem({ PERSISTED_DOCUMENTS: missing })).toMatch(
      /PERSISTED_DOCUMENTS: .*no-such-manifest.json: no such file/,
    );
    expect(problem({ PERSISTED_DOCUMENTS: manifestFile('{ not json') })).toMatch(/not readable JSON/);
    expect(problem({ PERSISTED_DOCUMENTS: manifestFile('["{ __typename }"]') })).toMatch(
      /not a persisted-documents manifest/,
    );
    expect(problem({ PERSISTED_DOCUMENTS: manifestFile(JSON.stringify({ abc: document })) })).toMatch(
      /"abc" is not a sha256 document id/,
    );
    expect(
      problem({ PERSISTED_DOCUMENTS: manifestFile(JSON.stringify({ [`sha256:${HASH}`]: document })) }),
    ).toMatch(/is not the sha256 of its document/);
    const broken = '{ callDetailRecord(';
    expect(
      problem({ PERSISTED_DOCUMENTS: manifestFile(JSON.stringify({ [documentHash(broken)]: broken })) }),
    ).toMatch(/is not valid GraphQL/);
  });

  it('refuses PERSISTED_DOCUMENTS_ONLY without a manifest, which would refuse every operation', () => {
    expect(problem({ PERSISTED_DOCUMENTS_ONLY: 'true' })).toMatch(
      /PERSISTED_DOCUMENTS_ONLY: needs PERSISTED_DOCUMENTS/,
    );
    expect(problem({ PERSISTED_DOCUMENTS_ONLY: 'true', PERSISTED_DOCUMENTS: manifestFile('{}') })).toMatch(
      /PERSISTED_DOCUMENTS_ONLY/,
    );
  });
});
