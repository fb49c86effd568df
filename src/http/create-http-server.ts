import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Config } from '../config/index.ts';
import { type App, liveFeedOf } from '../graphql/app.ts';
import { createRequestHandler, type RequestHandler } from './create-request-handler.ts';
import { attachGraphQLWs, type GraphQLWs } from './graphql-ws.ts';

export interface HttpServer {
  /** Not yet listening: the entry point (src/server.ts) listens. */
  server: Server;
  handler: RequestHandler;
  /** The graphql-ws endpoint on the same server (upgrades on /graphql). */
  webSockets: GraphQLWs;
  /**
   * Marks the server ready: `GET /ready` answers 503 until this is called (the entry point calls it once it
   * listens) and again from the moment `markStopping()` or `drain()` is called.
   */
  markReady(): void;
  /**
   * Announces a stop without making it yet: `GET /ready` answers 503 and every response closes its connection
   * (`Connection: close`), while the server still accepts and serves. A balancer takes the server out at its
   * next health check, and its keep-alive clients reconnect to another replica, before `drain()` refuses them.
   */
  markStopping(): void;
  /**
   * Starts a graceful stop: no new connections; idle ones, and ones still sending a request body, are closed
   * (a stalled upload would otherwise hold the process until the request timeout); requests being answered
   * finish, each response closing its connection. Live subscriptions end first: the feed closes (SSE streams
   * complete), then each WebSocket closes 1001 'Going away'. Resolves when the last connection has closed.
   */
  drain(): Promise<void>;
}

/**
 * The Node HTTP server for the app, with the limits a GraphQL API needs against slow or idle clients: the
 * whole request (headers and body, at most MAX_REQUEST_BODY_BYTES) must arrive within HTTP_REQUEST_TIMEOUT_MS,
 * its headers within HTTP_HEADERS_TIMEOUT_MS; idle keep-alive connections close after
 * HTTP_KEEP_ALIVE_TIMEOUT_MS; at most HTTP_MAX_CONNECTIONS are open. Without them Node waits 300 s for a body,
 * and a thousand stalled uploads held ~230 MB.
 */
export function createHttpServer(app: App, config: Config): HttpServer {
  let ready = false;
  let stopping = false;
  let draining = false;
  const handler = createRequestHandler(app, {
    ready: () => ready && !stopping,
    fastPath: config.httpFastPath,
    maxBodyBytes: config.limits.requestBodyBytes,
    allowedHosts: config.http.allowedHosts,
  });
  const { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs, maxConnections } = config.http;
  // Node checks the request and headers timeouts on this interval (30 s by default), so a timeout is enforced
  // late by up to one interval: keep that a fraction of the shorter one.
  const connectionsCheckingInterval = Math.max(10, Math.min(1_000, Math.floor(headersTimeoutMs / 4)));
  const requests = new InFlight();

  const server = createServer(
    { requestTimeout: requestTimeoutMs, headersTimeout: headersTimeoutMs, connectionsCheckingInterval },
    (req, res) => {
      // While shutting down, each response closes its connection, so busy keep-alive clients let go too.
      if (stopping) res.setHeader('connection', 'close');
      const slot = requests.add(req);
      res.once('close', () => {
        requests.remove(slot);
        // A response begun before the drain (a live SSE stream) kept its connection alive: once it ends, that
        // connection is idle, and the drain waits on it unless it is closed too.
        if (draining) server.closeIdleConnections();
      });
      handler(req, res);
    },
  );
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.maxConnections = maxConnections;
  const webSockets = attachGraphQLWs(server, app, handler, {
    maxMessageBytes: config.limits.requestBodyBytes,
    // The handshake's part of a connection, like a request's headers, must arrive in this time.
    connectionInitTimeoutMs: headersTimeoutMs,
    fallbackToken: config.carrierx.token,
  });

  return {
    server,
    handler,
    webSockets,
    markReady() {
      ready = true;
    },
    markStopping() {
      stopping = true;
    },
    async drain() {
      stopping = true;
      // An open subscription is a request (SSE) or a connection (WebSocket) that would never end by itself.
      await liveFeedOf(app)?.close();
      await webSockets.close();
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // A request whose body has not fully arrived cannot be answered; its client may never send the rest.
      for (const req of requests) if (!req.complete) req.socket.destroy();
      return closed;
    },
  };
}

/**
 * The requests being served, for drain(). Not a Set: V8 rebuilds a Set's table as entries come and go, and a
 * table that was promoted to the old generation and then replaced still points at the requests it held, which
 * survive every young-generation GC (and are promoted, with all they reference) until the next mark-compact.
 * At 10 concurrent clients that Set alone made 9-10% of the young generation survive each scavenge, against 1%
 * without it (`--trace-gc-nvp`, benchmark scenario 4). Here a request takes a slot, emptied when it closes:
 * nothing keeps a pointer to a finished request.
 */
class InFlight {
  private readonly slots: (IncomingMessage | undefined)[] = [];
  private readonly free: number[] = [];

  add(req: IncomingMessage): number {
    const slot = this.free.pop() ?? this.slots.length;
    this.slots[slot] = req;
    return slot;
  }

  remove(slot: number): void {
    this.slots[slot] = undefined;
    this.free.push(slot);
  }

  *[Symbol.iterator](): IterableIterator<IncomingMessage> {
    for (const req of this.slots) if (req !== undefined) yield req;
  }
}
