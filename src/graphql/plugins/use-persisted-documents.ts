import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { type ErrorCode, NOT_IN_LIST, ServiceError } from '../../errors.ts';
import { tallyOf } from '../context.ts';
import { createGatewaySignatureCheck, GATEWAY_SIGNATURE_EXTENSION } from '../gateway-signature.ts';
import { documentHash, hashOfDocumentId, type PersistedDocuments } from '../persisted-documents.ts';

export interface PersistedDocumentsOptions {
  /** The manifests' documents by hex sha256 (src/graphql/persisted-documents.ts). */
  documents: PersistedDocuments;
  /** PERSISTED_DOCUMENTS_ONLY: refuse every document that is not in `documents`. */
  only: boolean;
  /** `max-age` of a GET answer for a persisted document: how long the records in it stay fresh here. */
  maxAgeSeconds: number;
  /** GATEWAY_HMAC_SECRET: a request the federation gateway signed with it runs any document. */
  gatewaySecret?: string | undefined;
}

// Request-level refusals: the operation never runs, CarrierX is never called.
const refuse = (code: ErrorCode, message?: string) =>
  new ServiceError(code, message, { http: { status: 400 } });

const DOCUMENT_ID_TYPE =
  'documentId must be a string: "sha256:" and the 64 hex digits of the document\'s hash.';
const APQ_SHAPE = 'extensions.persistedQuery must be { "version": 1, "sha256Hash": "<64 hex digits>" }.';
const TWO_IDS = 'documentId and extensions.persistedQuery.sha256Hash name different documents.';

/** Fields only a federation gateway asks for: a refused document naming one is most likely a gateway's. */
const GATEWAY_FIELDS = /\b_(?:entities|service)\b/;

/** The allowlist's refusal, in words that fit who sent the request. */
function notInList(params: GraphQLParams, gatewaySecret: string | undefined): ServiceError {
  const signed = (params.extensions as Record<string, unknown> | undefined)?.[GATEWAY_SIGNATURE_EXTENSION];
  if (signed !== undefined && gatewaySecret === undefined) {
    return refuse('PERSISTED_QUERY_NOT_IN_LIST', NOT_IN_LIST.GATEWAY_NO_SECRET);
  }
  if (typeof params.query === 'string' && GATEWAY_FIELDS.test(params.query)) {
    return refuse('PERSISTED_QUERY_NOT_IN_LIST', NOT_IN_LIST.GATEWAY_UNSIGNED);
  }
  return refuse('PERSISTED_QUERY_NOT_IN_LIST');
}

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
 * text, before it is parsed: the allowlist that keeps arbitrary queries out in production. A federation gateway
 * plans its own queries (`_entities`, a root field's part of an operation), which no manifest can list: a
 * request signed by the gateway (Hive Gateway's HMAC upstream signature, src/graphql/gateway-signature.ts, with
 * `gatewaySecret`) runs any document, an unsigned one meets the allowlist, and a badly signed one is refused
 * whether or not the allowlist is on.
 *
 * An `onParams` hook, placed before the query limits so they judge the document that runs: the HTTP fast path
 * runs the same hooks (`getResultForParams`), so a persisted document is served there too, and a refusal thrown
 * here, before execution, is answered by Yoga. Not @graphql-yoga/plugin-persisted-operations: it ignores an id
 * sent with a document (no hash check), refuses a manifest's own text under an allowlist, and cannot tell
 * "no manifests" (Apollo's NOT_SUPPORTED) from "not in them"; with those added, its lookup is all that was left.
 *
 * A GET answer for a persisted document is cacheable by the browser, `Cache-Control: private, max-age=N`:
 * only a GET can be cached, only a known document makes a stable URL, and `private` because it depends on the
 * caller's credentials. N is the CDR cache's freshness (0 without one, and 0 for an answer with errors, holding
 * stale records, or holding anything no cache entry vouches for: a page of the list endpoint, which is asked of
 * CarrierX every time since which calls match a filter changes as calls are made, or a record the cache refused
 * to keep because it was invalidated while CarrierX was being asked, or could not keep because its store failed).
 */
export function usePersistedDocuments(options: PersistedDocumentsOptions): Plugin {
  const { documents, only, gatewaySecret } = options;
  const checkSignature = gatewaySecret === undefined ? undefined : createGatewaySignatureCheck(gatewaySecret);
  // The GET requests that ran a persisted document, and whether their answer may be kept for max-age.
  const cacheable = new WeakMap<Request, boolean>();

  return {
    onParams({ params, request, setParams }) {
      const id = requestedId(params, request);
      const { query } = params;
      const signature = checkSignature?.(params) ?? 'unsigned';
      if (signature === 'forged') {
        throw new ServiceError('GATEWAY_SIGNATURE_INVALID', undefined, { http: { status: 403 } });
      }
      if (id === undefined) {
        if (!only || typeof query !== 'string' || signature === 'signed') return;
        if (!documents.has(documentHash(query))) throw notInList(params, gatewaySecret);
        if (request.method === 'GET') cacheable.set(request, true);
        return;
      }
      const hash = hashOfDocumentId(id);
      let text: string;
      if (typeof query === 'string') {
        // A document sent with its hash (Apollo's automatic persisted queries, after a NOT_FOUND).
        if (hash === undefined || documentHash(query) !== hash) throw refuse('PERSISTED_QUERY_HASH_MISMATCH');
        if (only && !documents.has(hash) && signature !== 'signed') throw notInList(params, gatewaySecret);
        text = query;
      } else {
        if (documents.size === 0) throw refuse('PERSISTED_QUERY_NOT_SUPPORTED');
        const found = hash === undefined ? undefined : documents.get(hash);
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
