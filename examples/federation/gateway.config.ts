// Hive Gateway's configuration for this supergraph. With the Hive Gateway CLI, from this folder:
//   npx @graphql-hive/gateway supergraph supergraph.graphql
// (the CLI reads `gatewayConfig` from gateway.config.ts). gateway.ts runs the same configuration in-process.
import type { GatewayConfigSupergraph } from '@graphql-hive/gateway-runtime';

export const gatewayConfig = {
  // The CDR graph calls CarrierX with the caller's own token, so the gateway must pass Authorization on.
  // `traceparent` too, so that the subgraph's traces (and CarrierX's) continue the caller's.
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => {
      const traceparent = request.headers.get('traceparent');
      return {
        authorization: request.headers.get('authorization') ?? '',
        ...(traceparent === null ? {} : { traceparent }),
      };
    },
  },
} satisfies Partial<GatewayConfigSupergraph>;
