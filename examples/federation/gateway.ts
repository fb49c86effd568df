// The gateway in-process, with Hive Gateway's runtime (no CLI needed):
//   node --import tsx examples/federation/gateway.ts [supergraph.graphql]
// serves the supergraph on http://localhost:4002/graphql (GATEWAY_PORT).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
// The transport is the package's default export.
import httpTransport from '@graphql-mesh/transport-http';
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

if (import.meta.filename === process.argv[1]) {
  const gateway = createGateway(readFileSync(process.argv[2] ?? 'supergraph.graphql', 'utf8'));
  const server = createServer(gateway);
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
    await gateway.dispose();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop());
}
