import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { type ErrorCode, ServiceError } from '../../errors.ts';
import { tallyOf } from '../context.ts';
import {
  documentHash,
  hashOfDocumentId,
  type PersistedDocuments,
  type RegisteredDocuments,
} from '../persisted-documents.ts';

export interface PersistedDocumentsOptions {
  /**
   * The manifests' documents in force, by hex sha256 (src/graphql/persisted-documents.ts): read once per request,
   * so a reload that swaps them is seen whole or not at all.
   */
  documents: () => PersistedDocuments;
  /** PERSISTED_DOCUMENTS_ONLY: refuse every document that is not in `documents`. */
  only: boolean;
  /**
   * Where automatic persisted queries register documents sent with their hash; unused under `only`, where
   * nothing outside the manifests runs, so nothing is registered.
   */
  registered: RegisteredDocuments;
  /** `max-age` of a GET answer for a persisted document: how long the records in it stay fresh here. */
  maxAgeSeconds: number;
}

// Request-level refusals: the operation never runs, CarrierX is never called.
const refuse = (code: ErrorCode, message?: string) =>
  new ServiceError(code, message, { http: { status: 400 } });

const DOCUMENT_ID_TYPE =
  'documentId must be a string: "sha256:" and the 64 hex digits of the document\'s hash.';
const APQ_SHAPE = 'extensions.persistedQuery must be { "version": 1, "sha256Hash": "<64 hex digits>" }.';
const TWO_IDS = 'documentId and extensions.persistedQuery.sha256Hash name different documents.';

/** The id a request names, by either convention; undefined when it names none. */
function requestedId(params: GraphQLParams & { documentId?: unknown }, request: Request): string | undefined {
  // Yoga's GET parser keeps only query, operationName, variables and extensions: documentId is read here.
  let documentId = params.documentId;
  if (documentId === undefined && request.method === 'GET' && request.url.includes('documentId=')) {
    documentId = new URL(request.url).searchParams.get('documentId') ?? undefined;
  }
  if (documentId !== undefined && documentId !== null && typeof documentId !== 'string') {
    throw refuse('BAD_REQUEST', DOCUMENT_ID_TYPE);
  }
  const apq = (params.extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery;
  let apqHash: string | undefined;
  if (apq !== undefined && apq !== null) {
    const { version, sha256Hash } = apq as { version?: unknown; sha256Hash?: unknown };
    if (version !== 1 || typeof sha256Hash !== 'string') throw refuse('BAD_REQUEST', APQ_SHAPE);
    apqHash = sha256Hash;
  }
  if (typeof documentId === 'string' && apqHash !== undefined) {
    if (hashOfDocumentId(documentId) !== hashOfDocumentId(apqHash)) throw refuse('BAD_REQUEST', TWO_IDS);
  }
  return typeof documentId === 'string' ? documentId : apqHash;
}

/**
 * Persisted documents (trusted documents): a request may name a document from the manifests by its sha256,
 * as `documentId` (the GraphQL-over-HTTP convention, `sha256:<hex>` or `<hex>`) or as Apollo's
 * `extensions.persistedQuery.sha256Hash`, over POST or GET. A document sent along with an id must hash to it.
 * With `only` (PERSISTED_DOCUMENTS_ONLY) any document not in the manifests is refused, whether sent by id or as
 * text, before it is parsed: the allowlist that keeps arbitrary queries out in production.
 *
 * An `onParams` hook, placed before the query limits so they judge the document that runs: the HTTP fast path
 * runs the same hooks (`getResultForParams`), so a persisted document is served there too, and a refusal thrown
 * here, before execution, is answered by Yoga. Not @graphql-yoga/plugin-persisted-operations: it ignores an id
 * sent with a document (no hash check) and refuses a manifest's own text under an allowlist; with those added,
 * its lookup is all that was left.
 *
 * Automatic persisted queries (Apollo's protocol), without `only`: a document sent with its hash is registered
 * once it has been parsed and validated (when it starts executing, on either HTTP path), and a later request by
 * the hash alone runs it. An unknown hash is answered PERSISTED_QUERY_NOT_FOUND, on which Apollo's link (and
 * urql's persisted exchange) send the text with the hash: two round trips for a document's first request to a
 * process, one after. The hash is always checked (PERSISTED_QUERY_HASH_MISMATCH), so an entry is the document
 * its hash names, whoever registered it. Under `only` nothing is registered: a text outside the manifests is
 * refused (PERSISTED_QUERY_NOT_IN_LIST).
 *
 * The documents may be replaced while the server runs (a reload, docs/frontend.md): each request judges by the
 * set in force when it arrived, and everything after this hook (prepared operations, the execution) only runs
 * what passed it.
 *
 * A GET answer for a persisted document is cacheable by the browser, `Cache-Control: private, max-age=N`:
 * only a GET can be cached, only a known document makes a stable URL, and `private` because it depends on the
 * caller's credentials. N is the CDR cache's freshness (0 without one, and 0 for an answer with errors, holding
 * stale records, or holding anything no cache entry vouches for: a page of the list endpoint, which is asked of
 * CarrierX every time since which calls match a filter changes as calls are made, or a record the cache refused
 * to keep because it was invalidated while CarrierX was being asked, or could not keep because its store failed).
 */
export function usePersistedDocuments(options: PersistedDocumentsOptions): Plugin {
  const { only, registered } = options;
  // The GET requests that ran a persisted document, and whether their answer may be kept for max-age.
  const cacheable = new WeakMap<Request, boolean>();
  // Requests carrying a document and its verified hash, to register once the document has passed validation.
  const registering = new WeakMap<Request, { hash: string; text: string }>();

  return {
    onParams({ params, request, setParams }) {
      const documents = options.documents();
      const id = requestedId(params, request);
      const { query } = params;
      if (id === undefined) {
        if (!only || typeof query !== 'string') return;
        if (!documents.has(documentHash(query))) throw refuse('PERSISTED_QUERY_NOT_IN_LIST');
        if (request.method === 'GET') cacheable.set(request, true);
        return;
      }
      const hash = hashOfDocumentId(id);
      let text: string;
      if (typeof query === 'string') {
        // A document sent with its hash (Apollo's automatic persisted queries, after a NOT_FOUND).
        if (hash === undefined || documentHash(query) !== hash) throw refuse('PERSISTED_QUERY_HASH_MISMATCH');
        if (only && !documents.has(hash)) throw refuse('PERSISTED_QUERY_NOT_IN_LIST');
        if (!only && !documents.has(hash)) registering.set(request, { hash, text: query });
        text = query;
      } else {
        // Under `only` nothing is ever registered: the manifests alone answer.
        const found = hash === undefined ? undefined : (documents.get(hash) ?? registered.get(hash));
        if (found === undefined) throw refuse('PERSISTED_QUERY_NOT_FOUND');
        text = found;
      }
      if (request.method === 'GET' && hash !== undefined && documents.has(hash)) cacheable.set(request, true);
      // Without documentId: Yoga's own parameter check refuses parameters it does not know.
      setParams({
        query: text,
        operationName: params.operationName,
        variables: params.variables,
        extensions: params.extensions,
      });
    },
    onExecute({ args }) {
      // Execution starts only for a document that parsed and passed validation and the query limits.
      const request = (args.contextValue as { request?: Request }).request;
      const document = request && registering.get(request);
      if (document) registered.set(document.hash, document.text);
    },
    onResultProcess({ request, result }) {
      if (!cacheable.has(request)) return;
      const single = Array.isArray(result)
        ? undefined
        : (result as { errors?: unknown[]; extensions?: object });
      const fresh =
        single !== undefined &&
        !single.errors?.length &&
        !(single.extensions && 'stale' in single.extensions) &&
        !tallyOf(request)?.unvouched;
      cacheable.set(request, fresh);
    },
    onResponse({ request, response }) {
      const fresh = cacheable.get(request);
      if (fresh === undefined) return;
      response.headers.set('cache-control', `private, max-age=${fresh ? options.maxAgeSeconds : 0}`);
      response.headers.append('vary', 'Authorization');
    },
  };
}
