import { Client, cacheExchange, fetchExchange, makeOperation, mapExchange } from '@urql/core';
import { CallDetailRecordQuery } from './call-detail-record.ts';
import { CSRF_HEADER, persistedDocumentHash, type ServiceOptions } from './persisted-document.ts';

/**
 * Adds the generated document's hash to each query urql sends (Apollo's `extensions.persistedQuery`, which
 * urql's fetchExchange knows: it then leaves the text out). @urql/exchange-persisted does this with more
 * options; its retry after PERSISTED_QUERY_NOT_FOUND sends the text urql prints with the manifest's hash,
 * which this service refuses as PERSISTED_QUERY_HASH_MISMATCH, so here an unknown id is an error: deploy the
 * server with the new manifest before the frontend.
 */
export const persistedDocumentExchange = mapExchange({
  onOperation(operation) {
    const hash = operation.kind === 'query' ? persistedDocumentHash(operation.query) : undefined;
    if (hash === undefined) return operation;
    const persistedQuery = { version: 1 as const, sha256Hash: hash };
    return makeOperation(
      operation.kind,
      { ...operation, extensions: { ...operation.extensions, persistedQuery } },
      operation.context,
    );
  },
});

/** urql sending each generated document's hash alone, in one round trip, as a GET the browser may cache. */
export function createUrqlClient({ url, token, fetch }: ServiceOptions) {
  return new Client({
    url,
    ...(fetch ? { fetch } : {}),
    // Queries as GET (with the text left out, the URL stays short); the header a GET needs under CSRF prevention.
    preferGetMethod: 'within-url-limit',
    fetchOptions: { headers: { authorization: `Bearer ${token}`, ...CSRF_HEADER } },
    exchanges: [cacheExchange, persistedDocumentExchange, fetchExchange],
  });
}

/** One call detail record, typed by the generated document. */
export async function fetchCallWithUrql(client: Client, drSid: string) {
  const result = await client.query(CallDetailRecordQuery, { drSid }).toPromise();
  if (result.error) throw result.error;
  return result.data?.callDetailRecord ?? null;
}
