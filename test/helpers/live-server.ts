import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { DEMO_TOKEN, SAMPLE_DR_SID, type SimulatorOptions } from '../../src/carrierx/simulator/index.ts';
import { liveFeedOf } from '../../src/graphql/app.ts';
import { createHttpServer, type HttpServer } from '../../src/http/create-http-server.ts';
import type { LiveFeed } from '../../src/live/feed.ts';
import { createHarness, type Harness } from './harness.ts';

/** The subscription sse() sends unless told another. */
export const SUBSCRIPTION = `subscription Calls($filter: CallDetailRecordFilter) {
  callDetailRecordAdded(filter: $filter) { drSid numberSrc }
}`;

/** The app's Node HTTP server on a free loopback port, the embedded simulator as CarrierX (live feed tests). */
export interface LiveServer {
  harness: Harness;
  http: HttpServer;
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  /**
   * Adds a record to the simulator dated `ms` after the server started plus an hour, after the feed's first
   * watermark whenever its poller starts; `fields` overrides the sample's. Its dr_sid.
   */
  insert(ms: number, fields?: Record<string, unknown>): string;
  /** Drains and closes it (stopLiveServers() closes every one still open). */
  close(): Promise<void>;
}

const started: LiveServer[] = [];

/** A server polling every 20 ms unless `env` says otherwise; stopLiveServers() ends it. */
export async function startLiveServer(
  env: Record<string, string> = {},
  simulatorOptions: SimulatorOptions = {},
): Promise<LiveServer> {
  const harness = await createHarness({ LIVE_POLL_INTERVAL_MS: '20', ...env }, {}, simulatorOptions);
  const http = createHttpServer(harness.app, harness.config);
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  http.markReady();
  const { port } = http.server.address() as AddressInfo;
  const base = Date.now() + 3_600_000;
  const template = harness.simulator.records.get(SAMPLE_DR_SID) as Record<string, unknown>;
  const server: LiveServer = {
    harness,
    http,
    origin: `http://127.0.0.1:${port}`,
    insert(ms, fields = {}) {
      const drSid = randomUUID();
      harness.simulator.addRecord({
        ...template,
        dr_sid: drSid,
        date_insert: new Date(base + ms).toISOString(),
        number_src: '+15550000000',
        ...fields,
      });
      return drSid;
    },
    async close() {
      const at = started.indexOf(server);
      if (at < 0) return;
      started.splice(at, 1);
      http.server.closeAllConnections();
      await http.drain();
      await harness.close();
    },
  };
  started.push(server);
  return server;
}

/**
 * Resolves once the server's feed holds `count` subscriptions. A subscriber joining a running poller gets the
 * records found after it joined: a record must be added only once the subscription it is for exists.
 */
export async function subscribed(server: Pick<LiveServer, 'harness'>, count = 1): Promise<void> {
  const feed = liveFeedOf(server.harness.app) as LiveFeed;
  while (feed.stats().subscriptions < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Resolves once the server's feed holds no subscription (one whose client left ends as the server notices). */
export async function unsubscribed(server: Pick<LiveServer, 'harness'>): Promise<void> {
  const feed = liveFeedOf(server.harness.app) as LiveFeed;
  while (feed.stats().subscriptions > 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** WebSockets opened to these servers, terminated by stopLiveServers() (a test that failed may leave one open). */
const sockets: WebSocket[] = [];

/** A WebSocket of a test's own (a raw upgrade), terminated with the servers. */
export function terminatedWithServers(socket: WebSocket): WebSocket {
  sockets.push(socket);
  return socket;
}

/** The server's graphql-ws URL. */
export function wsUrl(server: Pick<LiveServer, 'origin'>): string {
  return `${server.origin.replace('http', 'ws')}/graphql`;
}

/**
 * A graphql-ws client on this server, connecting at once; `authorization: null` sends connection_init without
 * one (its key in capitals: the server matches it without regard to case). `connected` settles once the server
 * has acknowledged connection_init, `closed` once the socket has closed, its close codes in `closes`.
 */
export function wsClient(
  server: Pick<LiveServer, 'origin'>,
  authorization: string | null = `Bearer ${DEMO_TOKEN}`,
) {
  const closes: { code: number; reason: string }[] = [];
  let acknowledged!: () => void;
  const connected = new Promise<void>((resolve) => {
    acknowledged = resolve;
  });
  let ended!: () => void;
  const closed = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const client = createClient({
    url: wsUrl(server),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    // The closes a test expects are read from `closes`; graphql-ws would also print them to stderr.
    onNonLazyError: () => {},
    connectionParams: authorization === null ? {} : { AUTHORIZATION: authorization },
    on: {
      opened: (socket) => sockets.push(socket as WebSocket),
      connected: () => acknowledged(),
      closed: (event) => {
        closes.push(event as { code: number; reason: string });
        ended();
      },
    },
  });
  return { client, closes, connected, closed };
}

/** Drains and closes every server startLiveServer started, and the WebSockets opened to them (for afterEach). */
export async function stopLiveServers(): Promise<void> {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const server of [...started]) await server.close();
}

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** An SSE subscription (Yoga's distinct-connections protocol): its events as they arrive. */
export async function sse(
  origin: string,
  options: { headers?: Record<string, string>; variables?: Record<string, unknown>; query?: string } = {},
) {
  const abort = new AbortController();
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${DEMO_TOKEN}`,
      ...options.headers,
    },
    body: JSON.stringify({ query: options.query ?? SUBSCRIPTION, variables: options.variables ?? {} }),
    signal: abort.signal,
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const queue: SseEvent[] = [];
  let ended = false;
  async function fill(): Promise<void> {
    while (!buffered.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        return;
      }
      buffered += decoder.decode(value, { stream: true });
    }
  }
  return {
    response,
    /** The next event that is not a keep-alive comment; undefined once the stream has ended. */
    async next(): Promise<SseEvent | undefined> {
      for (;;) {
        if (queue.length > 0) return queue.shift();
        await fill();
        const end = buffered.indexOf('\n\n');
        if (end < 0) return ended ? undefined : this.next();
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const fields = { event: 'message', id: undefined as string | undefined, data: '' };
        let comment = true;
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) continue;
          comment = false;
          const [name, ...rest] = line.split(':');
          const value = rest.join(':').replace(/^ /, '');
          if (name === 'event') fields.event = value;
          if (name === 'id') fields.id = value;
          if (name === 'data') fields.data += value;
        }
        if (!comment) queue.push(fields);
      }
    },
    close: () => abort.abort(),
  };
}

/** The drSids of the next `count` `next` events, with their ids. */
export async function records(stream: Awaited<ReturnType<typeof sse>>, count: number) {
  const got: { drSid: string; id: string | undefined }[] = [];
  while (got.length < count) {
    const event = await stream.next();
    if (!event) throw new Error(`the stream ended after ${got.length} records`);
    if (event.event !== 'next') continue;
    const body = JSON.parse(event.data);
    if (!body.data) throw new Error(`an event without data: ${event.data}`);
    got.push({ drSid: body.data.callDetailRecordAdded.drSid, id: event.id });
  }
  return got;
}
