import {
  Client,
  cacheExchange,
  fetchExchange,
  makeOperation,
  mapExchange,
  subscriptionExchange,
} from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { CallDetailRecordQuery } from './call-detail-record.ts';
import { CallDetailRecordAddedSubscription } from './call-detail-record-added.ts';
import type { CallDetailRecordAddedSubscription as Added, CallDetailRecordFilter } from './gql/graphql.ts';
import { CSRF_HEADER, persistedDocumentHash, type ServiceOptions } from './persisted-document.ts';

/**
 * Adds the generated document's hash to each query and subscription urql sends (Apollo's
 * `extensions.persistedQuery`, which urql's fetchExchange and subscriptionExchange know: they then leave the
 * text out). @urql/exchange-persisted does this with more options; its retry after PERSISTED_QUERY_NOT_FOUND
 * sends the text urql prints with the manifest's hash, which this service refuses as
 * PERSISTED_QUERY_HASH_MISMATCH, so here an unknown id is an error: deploy the server with the new manifest
 * before the frontend.
 */
export const persistedDocumentExchange = mapExchange({
  onOperation(operation) {
    const sent = operation.kind === 'query' || operation.kind === 'subscription';
    const hash = sent ? persistedDocumentHash(operation.query) : undefined;
    if (hash === undefined) return operation;
    const persistedQuery = { version: 1 as const, sha256Hash: hash };
    return makeOperation(
      operation.kind,
      { ...operation, extensions: { ...operation.extensions, persistedQuery } },
      operation.context,
    );
  },
});

/**
 * graphql-sse's client retries every answer that is not 2xx as if the network had failed (five times, over 30 to
 * 45 seconds), then reports a network error without the GraphQL error. This service answers a subscription its
 * persisted documents refuse (PERSISTED_QUERY_NOT_IN_LIST, PERSISTED_QUERY_NOT_FOUND) 400, with the errors as the
 * stream's one `next` event: handed over as a 200, that event reaches urql at once, with its code. A 5xx (the
 * service in trouble) is still retried.
 */
function readingRefusals(send: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await send(input, init);
    const refused =
      response.status >= 400 &&
      response.status < 500 &&
      response.headers.get('content-type')?.startsWith('text/event-stream') === true;
    return refused ? new Response(response.body, { status: 200, headers: response.headers }) : response;
  };
}

/**
 * urql sending each generated document's hash alone, in one round trip: queries as a GET the browser may cache,
 * subscriptions as server-sent events (graphql-sse's client in distinct-connections mode, Yoga's: one POST
 * with `Accept: text/event-stream` per subscription, the hash in its body).
 */
export function createUrqlClient({ url, token, fetch }: ServiceOptions) {
  const authorization = `Bearer ${token}`;
  const sse = createSseClient({
    url,
    headers: { authorization },
    singleConnection: false,
    fetchFn: readingRefusals(fetch ?? ((input, init) => globalThis.fetch(input, init))),
  });
  return new Client({
    url,
    ...(fetch ? { fetch } : {}),
    // Queries as GET (with the text left out, the URL stays short); the header a GET needs under CSRF prevention.
    preferGetMethod: 'within-url-limit',
    fetchOptions: { headers: { authorization, ...CSRF_HEADER } },
    exchanges: [
      cacheExchange,
      persistedDocumentExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          // With the hash in extensions urql leaves `query` out, which graphql-sse's type requires and its
          // client does not: the POST body carries the hash alone.
          subscribe: (sink) => ({
            unsubscribe: sse.subscribe({ ...request, query: request.query as string }, sink),
          }),
        }),
      }),
      fetchExchange,
    ],
  });
}

/** One call detail record, typed by the generated document. */
export async function fetchCallWithUrql(client: Client, drSid: string) {
  const result = await client.query(CallDetailRecordQuery, { drSid }).toPromise();
  if (result.error) throw result.error;
  return result.data?.callDetailRecord ?? null;
}

/**
 * Hands `onRecord` each new call detail record matching `filter`, typed by the generated document, and `onError`
 * what ends the feed (a refusal, or the stream lost after graphql-sse's retries); returns what unsubscribes.
 */
export function watchCallsWithUrql(
  client: Client,
  filter: CallDetailRecordFilter | undefined,
  onRecord: (record: Added['callDetailRecordAdded']) => void,
  onError: (error: Error) => void,
): () => void {
  const { unsubscribe } = client
    .subscription(CallDetailRecordAddedSubscription, { filter })
    .subscribe((result) => {
      if (result.error) onError(result.error);
      else if (result.data) onRecord(result.data.callDetailRecordAdded);
    });
  return unsubscribe;
}
