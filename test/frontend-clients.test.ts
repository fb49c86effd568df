import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { CombinedError } from '@urql/core';
import { type GraphQLFormattedError, print } from 'graphql';
import { type SubscribePayload, validateMessage } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  createApolloClient,
  fetchCallWithApollo,
  watchCallsWithApollo,
} from '../examples/frontend/src/apollo-client.ts';
import { CallDetailRecordQuery } from '../examples/frontend/src/call-detail-record.ts';
import { CallDetailRecordAddedSubscription } from '../examples/frontend/src/call-detail-record-added.ts';
import { persistedDocumentHash } from '../examples/frontend/src/persisted-document.ts';
import {
  createUrqlClient,
  fetchCallWithUrql,
  watchCallsWithUrql,
} from '../examples/frontend/src/urql-client.ts';
import { DEMO_TOKEN, SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { globalIdOf } from '../src/graphql/schema/global-id.ts';
import { createRequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import {
  type LiveServer,
  startLiveServer,
  stopLiveServers,
  subscribed,
  wsClient,
} from './helpers/live-server.ts';

/** The manifest codegen writes for the frontend example (examples/frontend/graphql.config.yml). */
const MANIFEST = 'examples/frontend/src/gql/persisted-documents.json';
/** Its documents by id ("sha256:<hex>"). */
const DOCUMENTS = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
/** The hash of the query's document, as the clients send it (bare hex). */
const HASH = persistedDocumentHash(CallDetailRecordQuery) as string;
/** The hash of the live feed's subscription. */
const SUBSCRIPTION_HASH = persistedDocumentHash(CallDetailRecordAddedSubscription) as string;

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
    const client = createApolloClient({
      url: service.url,
      token: DEMO_TOKEN,
      fetch,
      webSocketImpl: WebSocket,
    });
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
    const client = createApolloClient({
      url: service.url,
      token: DEMO_TOKEN,
      fetch,
      webSocketImpl: WebSocket,
    });
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

/** A WebSocket (the `ws` package, as Node 20 has no global one) that notes each message it sends. */
function recordingWebSocket(sentFrames: unknown[]) {
  return class extends WebSocket {
    override send(data: string, ...rest: never[]) {
      sentFrames.push(JSON.parse(data));
      (super.send as (data: string, ...rest: never[]) => void)(data, ...rest);
    }
  };
}

/** The record the example's subscription selects, for the number the feed is filtered on. */
const expectedRecord = (drSid: string) => ({
  __typename: 'CallDetailRecord',
  id: globalIdOf(drSid),
  drSid,
  dateInsert: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  numberSrc: WATCHED,
  numberDst: expect.any(String),
  price: '0.0025',
  direction: 'INBOUND',
});

/** The caller number the examples' feeds are filtered on; records from another are not theirs. */
const WATCHED = '+15551110000';

describe.each([
  ['under the allowlist (PERSISTED_DOCUMENTS_ONLY=true)', 'true'],
  ['with the allowlist off', 'false'],
])('the live feed through the frontend examples, with their manifest, %s', (_mode, only) => {
  let stop: (() => void) | undefined;
  afterEach(async () => {
    stop?.();
    await stopLiveServers();
  });

  /**
   * Starts an example's watch (it returns what stops it), adds a call from another number, then one from WATCHED:
   * the record the watch received first, and the dr_sid it should have.
   */
  async function watchedCall(
    server: LiveServer,
    watch: (onRecord: (record: unknown) => void, onError: (error: Error) => void) => () => void,
  ) {
    const received = new Promise((resolve, reject) => {
      stop = watch(resolve, reject);
    });
    // A refusal rejects `received` before the feed ever holds the subscription.
    await Promise.race([subscribed(server), received]);
    server.insert(1);
    const drSid = server.insert(2, { number_src: WATCHED });
    return { received: await received, drSid };
  }

  it('urql receives a new call over server-sent events, typed, the subscription sent by its hash alone', async () => {
    const server = await startLiveServer({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ONLY: only });
    const { fetch, sent } = countingFetch();
    const client = createUrqlClient({ url: `${server.origin}/graphql`, token: DEMO_TOKEN, fetch });
    const { received, drSid } = await watchedCall(server, (onRecord, onError) =>
      watchCallsWithUrql(client, { numberSrc: { eq: WATCHED } }, onRecord, onError),
    );
    expect(received).toEqual(expectedRecord(drSid));

    // One POST asking for an event stream, carrying the hash and the filter, no text.
    expect(sent).toHaveLength(1);
    const [request] = sent as [Sent];
    expect(request.method).toBe('POST');
    expect(request.headers.get('accept')).toBe('text/event-stream');
    expect(request.headers.get('authorization')).toBe(`Bearer ${DEMO_TOKEN}`);
    const body = JSON.parse(request.body);
    expect(body.query).toBeUndefined();
    expect(hashSent(request)).toBe(SUBSCRIPTION_HASH);
    expect(body.variables).toEqual({ filter: { numberSrc: { eq: WATCHED } } });
  });

  it("Apollo Client receives a new call over graphql-ws, typed, the subscription sent as the manifest's text with its hash", async () => {
    const server = await startLiveServer({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ONLY: only });
    const { fetch, sent } = countingFetch();
    const frames: unknown[] = [];
    const client = createApolloClient({
      url: `${server.origin}/graphql`,
      token: DEMO_TOKEN,
      fetch,
      webSocketImpl: recordingWebSocket(frames),
    });
    const { received, drSid } = await watchedCall(server, (onRecord, onError) =>
      watchCallsWithApollo(client, { numberSrc: { eq: WATCHED } }, onRecord, onError),
    );
    expect(received).toEqual(expectedRecord(drSid));

    // Nothing over HTTP: the token in connection_init, then the manifest's text with its hash.
    expect(sent).toHaveLength(0);
    expect(frames[0]).toEqual({
      type: 'connection_init',
      payload: { Authorization: `Bearer ${DEMO_TOKEN}` },
    });
    expect(frames[1]).toMatchObject({
      type: 'subscribe',
      payload: {
        query: DOCUMENTS[`sha256:${SUBSCRIPTION_HASH}`],
        variables: { filter: { numberSrc: { eq: WATCHED } } },
        extensions: { persistedQuery: { version: 1, sha256Hash: SUBSCRIPTION_HASH } },
      },
    });
  });
});

describe('the live feed through urql, refused', () => {
  afterEach(() => stopLiveServers());

  it('reports the code of a subscription the allowlist refuses at once, without retrying it as a network failure', async () => {
    const server = await startLiveServer({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ONLY: 'true' });
    const { fetch, sent } = countingFetch();
    const client = createUrqlClient({ url: `${server.origin}/graphql`, token: DEMO_TOKEN, fetch });
    // A document codegen did not write: sent as text, and not in the manifest.
    const result = await client
      .subscription('subscription { callDetailRecordAdded { drSid } }', {})
      .toPromise();
    expect(result.error?.graphQLErrors[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(sent).toHaveLength(1);
  });
});

describe('the live feed over graphql-ws under the allowlist', () => {
  afterEach(() => stopLiveServers());

  it("runs a subscription only as the manifest's text: an empty text with the hash, or the text Apollo prints, is refused", async () => {
    const server = await startLiveServer({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ONLY: 'true' });
    const { client: socket } = wsClient(server);
    const persistedQuery = { version: 1, sha256Hash: SUBSCRIPTION_HASH };
    /** The code of the error the server answers a subscribe with. */
    const refusal = (payload: SubscribePayload) =>
      new Promise((resolve, reject) => {
        socket.subscribe(payload, {
          next: reject,
          complete: () => reject(new Error('completed without an error')),
          error: (errors) => resolve((errors as GraphQLFormattedError[])[0]?.extensions?.code),
        });
      });
    // graphql-ws's protocol requires the text: its client does not send a subscribe without one, nor its server
    // take one (both check messages with validateMessage).
    expect(() =>
      validateMessage({ type: 'subscribe', id: '1', payload: { extensions: { persistedQuery } } }),
    ).toThrow(/'query' property to be a string/);
    expect(await refusal({ query: '', extensions: { persistedQuery } })).toBe(
      'PERSISTED_QUERY_HASH_MISMATCH',
    );
    expect(await refusal({ query: print(CallDetailRecordAddedSubscription) })).toBe(
      'PERSISTED_QUERY_NOT_IN_LIST',
    );
    await socket.dispose();
  });
});
