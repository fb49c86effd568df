import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { CombinedError } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApolloClient, fetchCallWithApollo } from '../examples/frontend/src/apollo-client.ts';
import { CallDetailRecordQuery } from '../examples/frontend/src/call-detail-record.ts';
import { createUrqlClient, fetchCallWithUrql } from '../examples/frontend/src/urql-client.ts';
import { DEMO_TOKEN, SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createRequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

/** The manifest codegen writes for the frontend example (examples/frontend/graphql.config.yml). */
const MANIFEST = 'examples/frontend/src/gql/persisted-documents.json';
/** The hash of its one document, as the clients send it (bare hex). */
const HASH = (Object.keys(JSON.parse(readFileSync(MANIFEST, 'utf8')))[0] as string).replace(/^sha256:/, '');

/** What a client sent, request by request. */
interface Sent {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** A Fetch API that sends for real and notes each request: the round trips a client made. */
function countingFetch(): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const counting: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === 'GET' ? '' : await request.clone().text();
    sent.push({ method: request.method, url: new URL(request.url), headers: request.headers, body });
    return fetch(request);
  };
  return { fetch: counting, sent };
}

/** The persisted-query hash a request carried, from its URL (GET) or its body (POST). */
function hashSent(request: Sent): string | undefined {
  const extensions =
    request.method === 'GET'
      ? JSON.parse(request.url.searchParams.get('extensions') ?? '{}')
      : JSON.parse(request.body).extensions;
  return extensions?.persistedQuery?.sha256Hash;
}

/** The app behind the real Node HTTP edge on a port of its own, as a browser reaches it. */
async function serve(
  env: Record<string, string>,
): Promise<{ h: Harness; url: string; close(): Promise<void> }> {
  // CSRF prevention as in production: a GET without one of its headers is refused.
  const h = await createHarness({ CSRF_PREVENTION_ENABLED: 'true', ...env });
  const server: Server = createServer(
    createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    h,
    url: `http://127.0.0.1:${port}/graphql`,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await h.close();
    },
  };
}

const EXPECTED_CALL = {
  __typename: 'CallDetailRecord',
  drSid: SAMPLE_DR_SID,
  price: '0.0025',
  direction: 'INBOUND',
};

describe.each([
  ['under the allowlist (PERSISTED_DOCUMENTS_ONLY=true)', 'true'],
  ['with the allowlist off', 'false'],
])('the frontend examples against a server with their manifest, %s', (_mode, only) => {
  let service: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    service = await serve({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ONLY: only });
  });
  afterAll(() => service.close());

  it('Apollo Client fetches a call in one GET carrying the hash alone, then answers again from its cache', async () => {
    const { fetch, sent } = countingFetch();
    const client = createApolloClient({ url: service.url, token: DEMO_TOKEN, fetch });
    expect(await fetchCallWithApollo(client, SAMPLE_DR_SID)).toMatchObject(EXPECTED_CALL);
    expect(sent).toHaveLength(1);
    const [request] = sent as [Sent];
    expect(request.method).toBe('GET');
    expect(hashSent(request)).toBe(HASH);
    expect(request.url.searchParams.has('query')).toBe(false);
    expect(request.headers.get('x-graphql-yoga-csrf')).toBe('1');
    // Normalised by drSid and the __typename the manifest's document selects: no second request.
    expect(await fetchCallWithApollo(client, SAMPLE_DR_SID)).toMatchObject(EXPECTED_CALL);
    expect(sent).toHaveLength(1);
  });

  it('urql fetches a call in one GET carrying the hash alone, then answers again from its cache', async () => {
    const { fetch, sent } = countingFetch();
    const client = createUrqlClient({ url: service.url, token: DEMO_TOKEN, fetch });
    expect(await fetchCallWithUrql(client, SAMPLE_DR_SID)).toMatchObject(EXPECTED_CALL);
    expect(sent).toHaveLength(1);
    const [request] = sent as [Sent];
    expect(request.method).toBe('GET');
    expect(hashSent(request)).toBe(HASH);
    expect(request.url.searchParams.has('query')).toBe(false);
    expect(request.headers.get('x-graphql-yoga-csrf')).toBe('1');
    expect(await fetchCallWithUrql(client, SAMPLE_DR_SID)).toMatchObject(EXPECTED_CALL);
    expect(sent).toHaveLength(1);
  });
});

describe('the frontend examples against a server without their manifest (allowlist off)', () => {
  let service: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    service = await serve({});
  });
  afterAll(() => service.close());

  it('Apollo Client falls back to the text on PERSISTED_QUERY_NOT_FOUND, then sends the text alone', async () => {
    const { fetch, sent } = countingFetch();
    const client = createApolloClient({ url: service.url, token: DEMO_TOKEN, fetch });
    expect(await fetchCallWithApollo(client, SAMPLE_DR_SID)).toMatchObject(EXPECTED_CALL);
    expect(sent.map((request) => request.method)).toEqual(['GET', 'POST']);
    const retry = JSON.parse((sent[1] as Sent).body);
    expect(retry.query).toContain('callDetailRecord');
    expect(retry.extensions?.persistedQuery).toBeUndefined();
    expect((await fetchCallWithApollo(client, UNANSWERED_DR_SID))?.drSid).toBe(UNANSWERED_DR_SID);
    expect(sent.map((request) => request.method)).toEqual(['GET', 'POST', 'POST']);
  });

  it('urql reports PERSISTED_QUERY_NOT_FOUND, the sign that the server was deployed without the manifest', async () => {
    const { fetch, sent } = countingFetch();
    const client = createUrqlClient({ url: service.url, token: DEMO_TOKEN, fetch });
    const failure = await fetchCallWithUrql(client, SAMPLE_DR_SID).catch((error: CombinedError) => error);
    expect(failure).toBeInstanceOf(CombinedError);
    expect((failure as CombinedError).graphQLErrors[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(sent).toHaveLength(1);
  });

  it("Apollo's own hash (automatic persisted queries) costs two round trips for a document's first request, one after", async () => {
    const { fetch, sent } = countingFetch();
    const link = new PersistedQueryLink({
      sha256: (text: string) => createHash('sha256').update(text).digest('hex'),
      useGETForHashedQueries: true,
    });
    const http = new HttpLink({
      uri: service.url,
      fetch,
      headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'x-graphql-yoga-csrf': '1' },
    });
    const client = new ApolloClient({ link: link.concat(http), cache: new InMemoryCache() });
    const ask = (drSid: string) =>
      client.query({ query: CallDetailRecordQuery, variables: { drSid }, fetchPolicy: 'network-only' });
    expect((await ask(SAMPLE_DR_SID)).data?.callDetailRecord).toMatchObject(EXPECTED_CALL);
    // The hash alone (NOT_FOUND), then the text with it, which registers it.
    expect(sent.map((request) => request.method)).toEqual(['GET', 'POST']);
    const registered = JSON.parse((sent[1] as Sent).body);
    expect(registered.extensions.persistedQuery.sha256Hash).toBe(hashSent(sent[0] as Sent));
    expect((await ask(UNANSWERED_DR_SID)).data?.callDetailRecord?.drSid).toBe(UNANSWERED_DR_SID);
    expect(sent.map((request) => request.method)).toEqual(['GET', 'POST', 'GET']);
  });
});
