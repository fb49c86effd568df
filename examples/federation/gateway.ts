// The gateway in-process, with Hive Gateway's runtime (no CLI needed):
//   node --import tsx examples/federation/gateway.ts [supergraph.graphql]
// serves the supergraph on http://localhost:4002/graphql (GATEWAY_PORT): queries over HTTP, subscriptions over
// SSE (`Accept: text/event-stream`) and graphql-ws (upgrades of /graphql), as the CLI serves them.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, getGraphQLWSOptions } from '@graphql-hive/gateway-runtime';
// The transport is the package's default export.
import httpTransport from '@graphql-mesh/transport-http';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { gatewayConfig } from './gateway.config.ts';

/**
 * A gateway over the composed supergraph SDL: a request handler for node:http, disposed with dispose().
 * `hmacSecret` signs its subgraph requests (GATEWAY_HMAC_SECRET's part of gateway.config.ts, given here).
 */
export function createGateway(supergraphSdl: string, options: { hmacSecret?: string } = {}) {
  return createGatewayRuntime({
    ...gatewayConfig,
    ...(options.hmacSecret === undefined ? {} : { hmacSignature: { secret: options.hmacSecret } }),
    supergraph: supergraphSdl,
    // The CLI loads transports by itself; the runtime needs to be given them.
    transports: { http: httpTransport },
    logging: false,
  });
}

/**
 * graphql-ws on `server`, on upgrades of the gateway's endpoint, as the Hive Gateway CLI serves it: each
 * operation runs through the gateway with the upgrade request as its request and the connection_init payload
 * as `connectionParams` in its context (gateway.config.ts reads the client's token there). Resolves its
 * close() once every socket has closed.
 */
export function attachWebSockets(server: Server, gateway: ReturnType<typeof createGateway>) {
  const wss = new WebSocketServer({ server, path: gateway.graphqlEndpoint });
  const disposable = useServer(
    getGraphQLWSOptions<Record<string, unknown>, Extra>(gateway, async ({ extra }) => {
      // The runtime loads the supergraph on its first HTTP request (the CLI, at startup): a socket may come
      // first, and its operation would meet no schema.
      await gateway.getSchema();
      const { request: upgrade, socket } = extra;
      const headers = new Headers();
      for (const [name, value] of Object.entries(upgrade.headers)) {
        if (typeof value === 'string') headers.set(name, value);
      }
      return {
        req: upgrade,
        socket,
        request: new Request(`http://${upgrade.headers.host ?? 'localhost'}${upgrade.url ?? '/'}`, {
          headers,
        }),
      };
    }),
    wss,
  );
  return { close: async () => void (await disposable.dispose()) };
}

if (import.meta.filename === process.argv[1]) {
  const gateway = createGateway(readFileSync(process.argv[2] ?? 'supergraph.graphql', 'utf8'));
  const server = createServer(gateway);
  const webSockets = attachWebSockets(server, gateway);
  server.listen(Number(process.env.GATEWAY_PORT ?? 4002), () => {
    const { port } = server.address() as AddressInfo;
    console.log(`gateway on http://localhost:${port}/graphql`);
  });
  // The runtime registers signal handlers of its own that dispose of it but leave the process (and this
  // server) running: Ctrl-C and SIGTERM did nothing. Stop serving, dispose of the gateway, then exit.
  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1); // a second Ctrl-C: now
    stopping = true;
    server.close();
    server.closeAllConnections();
    await webSockets.close();
    await gateway.dispose();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop());
}
