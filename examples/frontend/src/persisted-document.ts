import type { DocumentNode } from 'graphql';

/**
 * The id GraphQL Code Generator's client preset embedded in a generated document (`__meta__.hash`,
 * "sha256:<hex>"), as the bare hex Apollo's automatic-persisted-queries protocol carries; undefined for a
 * document that codegen did not write.
 */
export function persistedDocumentHash(document: DocumentNode): string | undefined {
  const id = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  return typeof id === 'string' ? id.replace(/^sha256:/, '') : undefined;
}

/**
 * One of the headers that mark a GET as sent by a script: with CSRF prevention on (production) the service
 * refuses a GET without one (CSRF_HEADER_MISSING). A POST of JSON needs none.
 */
export const CSRF_HEADER = { 'x-graphql-yoga-csrf': '1' } as const;

/** Where and how a client reaches the service. */
export interface ServiceOptions {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  url: string;
  /** The CarrierX token the service passes on (`Authorization: Bearer <token>`). */
  token: string;
  /** The Fetch API to send requests with (a test counts them with its own). */
  fetch?: typeof fetch;
  /** The WebSocket class for graphql-ws where there is no global one (Node 20: `ws`); browsers need none. */
  webSocketImpl?: unknown;
}
