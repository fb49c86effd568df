// The gateway in-process, with Hive Gateway's runtime (no CLI needed):
//   node --import tsx examples/federation/gateway.ts [supergraph.graphql]
// serves the supergraph on http://localhost:4002/graphql (GATEWAY_PORT).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
// The transport is the package's default export.
import httpTransport from '@graphql-mesh/transport-http';
import { gatewayConfig } from './gateway.config.ts';

/** A gateway over the composed supergraph SDL: a request handler for node:http, disposed with dispose(). */
export function createGateway(supergraphSdl: string) {
  return createGatewayRuntime({
    ...gatewayConfig,
    supergraph: supergraphSdl,
    // The CLI loads transports by itself; the runtime needs to be given them.
    transports: { http: httpTransport },
    logging: false,
  });
}

if (import.meta.filename === process.argv[1]) {
  const port = Number(process.env.GATEWAY_PORT ?? 4002);
  const gateway = createGateway(readFileSync(process.argv[2] ?? 'supergraph.graphql', 'utf8'));
  createServer(gateway).listen(port, () => console.log(`gateway on http://localhost:${port}/graphql`));
}
