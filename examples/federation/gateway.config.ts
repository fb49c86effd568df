// Hive Gateway's configuration for this supergraph. With the Hive Gateway CLI (a pinned devDependency), from the
// repository root: `npm run gateway` (compose.ts writes examples/federation/supergraph.graphql first), which runs
//   npx hive-gateway supergraph supergraph.graphql   in examples/federation/
// (the CLI reads `gatewayConfig` from gateway.config.ts). gateway.ts runs the same configuration in-process.
// Both serve subscriptions (the CDR graph's callDetailRecordAdded) over SSE and graphql-ws at /graphql.
import type { GatewayConfigSupergraph } from '@graphql-hive/gateway-runtime';

/**
 * GATEWAY_HMAC_SECRET, the same secret as the CDR graph's: the gateway signs every subgraph request with it
 * (Hive Gateway's HMAC upstream signature), so a CDR graph running only its persisted documents still runs the
 * queries the gateway plans. Unset: requests go unsigned.
 */
const hmacSecret = process.env.GATEWAY_HMAC_SECRET || undefined;

/**
 * The Authorization a graphql-ws client put in its connection_init payload (the key in any case, as the CDR
 * graph reads it), or null. A browser cannot set headers on a WebSocket, so that payload is where its token is.
 */
function connectionAuthorization(context: unknown): string | null {
  const params = (context as { connectionParams?: unknown } | undefined)?.connectionParams;
  if (typeof params !== 'object' || params === null) return null;
  for (const [key, value] of Object.entries(params)) {
    if (key.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  }
  return null;
}

export const gatewayConfig = {
  // The CDR graph calls CarrierX with the caller's own token, so the gateway must pass Authorization on: from
  // the request's header, or, for a client subscribed over graphql-ws, from its connection_init payload (the
  // gateway's context carries it; the upgrade request has no such header). The gateway subscribes to the CDR
  // graph over SSE (its HTTP transport's default for subscriptions), a request like any other, so the token
  // travels as the header there. `traceparent` too, so that the subgraph's traces (and CarrierX's) continue the
  // caller's, and `x-request-id` so that one id names the request in the gateway's logs and the subgraph's.
  propagateHeaders: {
    fromClientToSubgraphs: ({ request, context }) => {
      const headers: Record<string, string> = {
        authorization: connectionAuthorization(context) ?? request.headers.get('authorization') ?? '',
      };
      for (const name of ['traceparent', 'x-request-id']) {
        const value = request.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      return headers;
    },
  },
  ...(hmacSecret === undefined ? {} : { hmacSignature: { secret: hmacSecret } }),
} satisfies Partial<GatewayConfigSupergraph>;
