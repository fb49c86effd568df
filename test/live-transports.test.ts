import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { liveFeedOf } from '../src/graphql/app.ts';
import type { LiveFeed } from '../src/live/feed.ts';
import {
  type LiveServer,
  records,
  SUBSCRIPTION,
  sse as sseAt,
  startLiveServer,
  stopLiveServers,
  subscribed,
  terminatedWithServers,
  wsClient,
  wsUrl,
} from './helpers/live-server.ts';
import { alive, startServerProcess } from './helpers/server-process.ts';

// The live call feed over real transports: the app's Node HTTP server on a free loopback port, the embedded
// simulator as CarrierX, records added to it while subscribers listen.

/** An example manifest: under PERSISTED_DOCUMENTS_ONLY, the live subscription is not in it. */
const MANIFEST = 'examples/operations/gql/persisted-documents.json';

afterEach(() => stopLiveServers());

const sse = (server: { origin: string }, options?: Parameters<typeof sseAt>[1]) =>
  sseAt(server.origin, options);

/** A raw WebSocket upgrade on this server: the status it was refused with, or 101. */
function upgradeStatus(server: LiveServer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = terminatedWithServers(new WebSocket(wsUrl(server), 'graphql-transport-ws', { headers }));
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('open', () => resolve(101));
    socket.on('error', reject);
  });
}

describe('live call feed over SSE', () => {
  it('sends each record added at CarrierX to an SSE subscriber, once, in date_insert order, each with an id', async () => {
    const server = await startLiveServer();
    const stream = await sse(server);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const first = server.insert(2);
    const second = server.insert(1);
    const got = await records(stream, 2);
    expect(got.map((r) => r.drSid)).toEqual([second, first]);
    for (const { id } of got) expect(id).toMatch(/\S/);
    expect(new Set(got.map((r) => r.id)).size).toBe(2);
    stream.close();
  });

  it('resumes after the Last-Event-ID a reconnecting client sends, without repeating or missing a record', async () => {
    const server = await startLiveServer();
    const stream = await sse(server);
    const sids = [server.insert(1), server.insert(2)];
    const [first] = await records(stream, 2);
    stream.close();
    sids.push(server.insert(3));
    const resumed = await sse(server, { headers: { 'last-event-id': first?.id as string } });
    expect((await records(resumed, 2)).map((r) => r.drSid)).toEqual(sids.slice(1));
    resumed.close();
  });

  it('reads a missed record again for a client that resumes selecting more than it did before', async () => {
    const server = await startLiveServer();
    const narrow = 'subscription { callDetailRecordAdded { drSid } }';
    const stream = await sse(server, { query: narrow });
    server.insert(1);
    const [first] = await records(stream, 1);
    stream.close();
    const requests = () => server.harness.simulator.requests.filter((r) => r.path.endsWith('/call_drs'));
    const before = requests().length;
    const missed = server.insert(2, { number_src: '+15551234567' });
    // Two polls begun after it: it was delivered, with the narrow selection's fields, before the client returns.
    while (requests().length < before + 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const resumed = await sse(server, { headers: { 'last-event-id': first?.id as string } });
    const event = await resumed.next();
    resumed.close();
    expect(JSON.parse(event?.data ?? '{}')).toEqual({
      data: { callDetailRecordAdded: { drSid: missed, numberSrc: '+15551234567' } },
    });
  });

  it('answers a subscription past LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL with LIVE_TOO_MANY_SUBSCRIPTIONS', async () => {
    const server = await startLiveServer({ LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL: '1' });
    const first = await sse(server);
    const drSid = server.insert(1);
    expect((await records(first, 1))[0]?.drSid).toBe(drSid);
    const second = await sse(server);
    const event = await second.next();
    expect(event?.event).toBe('next');
    expect(JSON.parse(event?.data ?? '{}').errors[0].extensions.code).toBe('LIVE_TOO_MANY_SUBSCRIPTIONS');
    expect((await second.next())?.event).toBe('complete');
    first.close();
  });

  it('refuses an SSE subscription without a token when there is no fallback token', async () => {
    const server = await startLiveServer();
    const stream = await sse(server, { headers: { authorization: '' } });
    const event = await stream.next();
    expect(JSON.parse(event?.data ?? '{}').errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('live call feed and the HTTP fast path', () => {
  it('leaves a subscription sent as a plain JSON POST to Yoga, which refuses it 406 without subscribing', async () => {
    const server = await startLiveServer();
    const response = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${DEMO_TOKEN}`,
      },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    });
    expect(response.status).toBe(406);
    await response.text();
    expect(server.http.handler.stats.replayed).toBe(1);
    expect((liveFeedOf(server.harness.app) as LiveFeed).stats().subscriptions).toBe(0);
  });
});

describe('live call feed over graphql-ws', () => {
  it('sends each record added at CarrierX to a WebSocket subscriber', async () => {
    const server = await startLiveServer();
    const { client } = wsClient(server);
    const events = client.iterate({ query: SUBSCRIPTION });
    await subscribed(server, 1);
    const drSid = server.insert(1);
    const next = await events.next();
    expect(next.value).toEqual({ data: { callDetailRecordAdded: { drSid, numberSrc: '+15550000000' } } });
    await events.return?.();
    await client.dispose();
  });

  it('closes the connection 4403 when connection_init carries a malformed token, or none and there is no fallback', async () => {
    const server = await startLiveServer();
    for (const authorization of ['Bearer not a token', null]) {
      const { client, closes } = wsClient(server, authorization);
      const events = client.iterate({ query: SUBSCRIPTION });
      await expect(events.next()).rejects.toBeDefined();
      expect(closes[0]?.code).toBe(4403);
      await client.dispose();
    }
  });

  it('refuses the upgrade from a page of another origin (403) and for a Host not in ALLOWED_HOSTS (421)', async () => {
    const server = await startLiveServer({ CARRIERX_TOKEN: DEMO_TOKEN, ALLOWED_HOSTS: 'api.example.com' });
    expect(await upgradeStatus(server, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(server, { host: 'evil.example' })).toBe(421);
    expect(await upgradeStatus(server, { host: 'api.example.com', origin: 'http://api.example.com' })).toBe(
      101,
    );
  });
});

describe('limits over graphql-ws', () => {
  it('holds a WebSocket operation to the query limits and to PERSISTED_DOCUMENTS_ONLY, as an HTTP request is', async () => {
    const deep = await startLiveServer({ MAX_QUERY_DEPTH: '1' });
    const first = wsClient(deep);
    await expect(first.client.iterate({ query: SUBSCRIPTION }).next()).rejects.toMatchObject([
      { message: expect.stringMatching(/depth/i), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
    await first.client.dispose();
    const persisted = await startLiveServer({
      PERSISTED_DOCUMENTS: MANIFEST,
      PERSISTED_DOCUMENTS_ONLY: 'true',
    });
    const second = wsClient(persisted);
    await expect(second.client.iterate({ query: SUBSCRIPTION }).next()).rejects.toMatchObject([
      { extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } },
    ]);
    await second.client.dispose();
  });

  it('answers a query over WebSocket, through the same pipeline as over HTTP', async () => {
    const server = await startLiveServer();
    const { client } = wsClient(server);
    const query = `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid } }`;
    const answer = await client.iterate({ query }).next();
    expect(answer.value).toMatchObject({ data: { callDetailRecord: { drSid: SAMPLE_DR_SID } } });
    await client.dispose();
  });
});

describe('drain with open subscriptions', () => {
  it('completes SSE streams and closes WebSockets 1001 before the server stops', async () => {
    const server = await startLiveServer();
    const stream = await sse(server);
    const { client, closes, closed } = wsClient(server);
    const events = client.iterate({ query: SUBSCRIPTION });
    await subscribed(server, 2);
    const drSid = server.insert(1);
    expect((await records(stream, 1))[0]?.drSid).toBe(drSid);
    expect((await events.next()).value).toMatchObject({ data: { callDetailRecordAdded: { drSid } } });
    await server.http.drain();
    expect((await stream.next())?.event).toBe('complete');
    expect(await stream.next()).toBeUndefined();
    // The feed's end sends graphql-ws `complete`, which may or may not reach the client before the close does.
    const ending = await events.next().then(
      (step) => (step.done ? 'complete' : 'another event'),
      (error: { code?: number }) => error.code,
    );
    expect(['complete', 1001]).toContain(ending);
    // The subscription's `complete` may come before the socket's close.
    await closed;
    expect(closes.map((c) => c.code)).toEqual([1001]);
    await client.dispose();
  });

  it('on SIGTERM, npm start ends open SSE streams and WebSockets cleanly, then exits', async () => {
    const child = await startServerProcess();
    try {
      const server = { origin: new URL(child.url).origin };
      const stream = await sse(server);
      const { client, closes, connected, closed } = wsClient(server);
      const events = client.iterate({ query: SUBSCRIPTION });
      // Waited on before the signal: graphql-ws's iterate() never settles a next() first called after its
      // subscription has completed or failed (it waits for a wake-up that was already spent).
      const ending = events.next().then(
        (step) => (step.done ? 'complete' : 'another event'),
        (error: { code?: number }) => error.code,
      );
      await connected;
      process.kill(child.pid, 'SIGTERM');
      expect((await stream.next())?.event).toBe('complete');
      expect(await stream.next()).toBeUndefined();
      expect(['complete', 1001]).toContain(await ending);
      // The subscription's `complete` may come before the socket's close.
      await closed;
      expect(closes.map((c) => c.code)).toEqual([1001]);
      while (alive(child.pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(child.output).not.toMatch(/still in flight|fatal/i);
      await client.dispose();
    } finally {
      await child.stop();
    }
  });
});
