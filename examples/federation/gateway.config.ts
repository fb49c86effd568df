// Hive Gateway's configuration for this supergraph. With the Hive Gateway CLI (a pinned devDependency), from the
// repository root: `npm run gateway` (compose.ts writes examples/federation/supergraph.graphql first), which runs
//   npx hive-gateway supergraph supergraph.graphql   in examples/federation/
// (the CLI reads `gatewayConfig` from gateway.config.ts). gateway.ts runs the same configuration in-process.
import type { GatewayConfigSupergraph } from '@graphql-hive/gateway-runtime';

/**
 * GATEWAY_HMAC_SECRET, the same secret as the CDR graph's: the gateway signs every subgraph request with it
 * (Hive Gateway's HMAC upstream signature), so a CDR graph running only its persisted documents still runs the
 * queries the gateway plans. Unset: requests go unsigned.
 */
const hmacSecret = process.env.GATEWAY_HMAC_SECRET || undefined;

export const gatewayConfig = {
  // The CDR graph calls CarrierX with the caller's own token, so the gateway must pass Authorization on.
  // `traceparent` too, so that the subgraph's traces (and CarrierX's) continue the caller's, and `x-request-id`
  // so that one id names the request in the gateway's logs and the subgraph's.
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => {
      const headers: Record<string, string> = { authorization: request.headers.get('authorization') ?? '' };
      for (const name of ['traceparent', 'x-request-id']) {
        const value = request.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      return headers;
    },
  },
  ...(hmacSecret === undefined ? {} : { hmacSignature: { secret: hmacSecret } }),
} satisfies Partial<GatewayConfigSupergraph>;
