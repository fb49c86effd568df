import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type GraphQLError, parse } from 'graphql';
import { useServer, type Extra as WsExtra } from 'graphql-ws/use/ws';
import { createGraphQLError, type GraphQLParams, isAsyncIterable } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { resolveCredentials } from '../credentials.ts';
import { type App, crossOriginAllowed } from '../graphql/app.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from '../telemetry/request-id.ts';
import type { RequestHandler } from './create-request-handler.ts';

export interface GraphQLWsOptions {
  endpoint?: string;
  /** The largest message a client may send (MAX_REQUEST_BODY_BYTES, as for a request body). */
  maxMessageBytes: number;
  /** How long a connection may wait before its connection_init (HTTP_HEADERS_TIMEOUT_MS, as for headers). */
  connectionInitTimeoutMs: number;
  /** Used when connection_init carries no Authorization (CARRIERX_TOKEN), as for a request without the header. */
  fallbackToken: string | undefined;
}

export interface GraphQLWs {
  /** Ends every connection with 1001 'Going away' (after its subscriptions end) and refuses new ones. */
  close(): Promise<void>;
  /** Open WebSocket connections. */
  connections(): number;
}

/** What a connection carries from its connection_init to each operation (beside its socket and upgrade). */
type Extra = { authorization?: string; closed?: AbortSignal };

// graphql-ws decides between execute and subscribe by the operation type of the document it is handed, and
// passes the result through either way: the operation itself is run by Yoga before (`runOperation`).
const RUN_ON_YOGA = parse('subscription RunOnYoga { __typename }');

/** The Authorization a connection_init payload carries: its key matched without regard to case, as a header's. */
function authorizationOf(payload: Readonly<Record<string, unknown>> | undefined): unknown {
  if (!payload) return null;
  for (const key of Object.keys(payload)) if (key.toLowerCase() === 'authorization') return payload[key];
  return null;
}

/**
 * The graphql-ws protocol (graphql-transport-ws) on the app's HTTP server, upgrades on the GraphQL endpoint.
 * An upgrade passes the same Host and target checks as a request and, from a browser (with an Origin), the CORS
 * origins, which WebSockets otherwise bypass. connection_init's `Authorization` is checked as the header is
 * (a malformed one closes the connection 4403, as graphql-ws closes a refused connection); each operation then
 * runs through Yoga's whole request pipeline (`getResultForParams`: persisted documents, query limits, cost,
 * context, masking), as an HTTP request with that Authorization would. Queries are served too: the same
 * checks hold, only the answer cache is not used.
 */
export function attachGraphQLWs(
  server: Server,
  app: App,
  handler: RequestHandler,
  options: GraphQLWsOptions,
): GraphQLWs {
  const endpoint = options.endpoint ?? '/graphql';
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });
  let closing = false;

  function refuse(socket: Duplex, status: number, body = ''): void {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\n` +
        `connection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const early = handler.refuseUpgrade(req);
    if (early) return refuse(socket, early.status, early.body);
    if (closing) return refuse(socket, 503);
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== endpoint) return refuse(socket, 404);
    const origin = req.headers.origin;
    if (
      origin !== undefined &&
      !sameOrigin(origin, req.headers.host) &&
      !crossOriginAllowed(app, origin, `http://${req.headers.host ?? 'localhost'}${endpoint}`)
    ) {
      app.logger.info(
        { origin: origin.slice(0, 200) },
        'WebSocket refused: this origin is not in CORS_ORIGINS',
      );
      return refuse(socket, 403);
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  /** Runs one operation through Yoga's pipeline, as a request from this connection. */
  async function runOperation(extra: Extra & WsExtra, params: GraphQLParams, signal: AbortSignal) {
    const { request: upgrade } = extra;
    const headers = new Headers({ 'content-type': 'application/json' });
    if (extra.authorization !== undefined) headers.set('authorization', extra.authorization);
    headers.set(REQUEST_ID_HEADER, requestIdFrom(upgrade.headers[REQUEST_ID_HEADER]));
    if (upgrade.headers.origin !== undefined) headers.set('origin', upgrade.headers.origin);
    const request = new Request(`http://${upgrade.headers.host ?? 'localhost'}${endpoint}`, {
      method: 'POST',
      headers,
      signal,
    });
    return app.getResultForParams({ params, request }, { req: upgrade, socket: extra.socket } as never);
  }

  const disposer = useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: options.connectionInitTimeoutMs,
      onConnect(ctx) {
        const header = authorizationOf(ctx.connectionParams);
        if (header !== null && header !== undefined && typeof header !== 'string') return false;
        const credentials = resolveCredentials(
          (header as string | null | undefined) ?? null,
          options.fallbackToken,
        );
        if ('error' in credentials) return false;
        // Only what the client sent: the fallback token is applied per operation, as for HTTP requests.
        if (typeof header === 'string' && header.trim() !== '') ctx.extra.authorization = header;
        // One signal per connection, which every operation's request carries: aborted when the socket closes.
        const closed = new AbortController();
        ctx.extra.socket.once('close', () =>
          closed.abort(new DOMException('The client disconnected', 'AbortError')),
        );
        ctx.extra.closed = closed.signal;
        return true;
      },
      async onSubscribe(ctx, _id, payload) {
        let result: Awaited<ReturnType<typeof runOperation>>;
        try {
          result = await runOperation(ctx.extra, payload as GraphQLParams, ctx.extra.closed as AbortSignal);
        } catch (error) {
          // Refused before execution (persisted documents, limits): Yoga's error, as HTTP would answer it.
          return [asGraphQLError(error)];
        }
        // Refused at parse or validation (query limits, persisted documents): graphql-ws's `error` message.
        if (!result) return [asGraphQLError(undefined)];
        if (!isAsyncIterable(result) && result.errors?.length && result.data == null) return result.errors;
        const root = { result };
        return {
          schema: app.getEnveloped().schema,
          document: RUN_ON_YOGA,
          rootValue: root,
          contextValue: {},
        };
      },
      subscribe: (args) => (args.rootValue as { result: never }).result,
      execute: (args) => (args.rootValue as { result: never }).result,
    },
    wss,
  );

  let closed: Promise<void> | undefined;
  return {
    close() {
      closing = true;
      // Once: ws refuses to close a closed server.
      closed ??= Promise.resolve(disposer.dispose());
      return closed;
    },
    connections: () => wss.clients.size,
  };
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host.toLowerCase();
}

function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof Error && 'extensions' in error) return error as GraphQLError;
  return createGraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
