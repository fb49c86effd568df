import { GraphQLError } from 'graphql';
import { type MaskError, maskError } from 'graphql-yoga';

/**
 * The one error table. Every error this service raises itself (about CarrierX, the caller's credentials or the
 * limits it enforces) carries one of these codes in `extensions.code`. Messages are fixed texts: they never include the caller's token,
 * an upstream response body or a stack trace.
 */
export const ERRORS = {
  NOT_FOUND: 'CarrierX has no call detail record with this SID (records can expire).',
  // CarrierX answered 401. The two cases where CarrierX is not called have their own texts in CREDENTIALS.
  UNAUTHENTICATED:
    'CarrierX rejected the token: it is invalid or has expired. Send a current CarrierX token as "Authorization: Bearer <token>".',
  FORBIDDEN:
    'CarrierX refused access: the token needs the calls.read or calls.manage scope, and calls.read_descendant for records of inherited (descendant) partners.',
  RATE_LIMITED: 'CarrierX is rate limiting these requests. Try again later.',
  // Also raised, with a text from UNAVAILABLE below, when this service holds a call back to protect CarrierX
  // or itself; with the circuit open, `extensions.retryAfter` says in how many seconds calls resume.
  UPSTREAM_UNAVAILABLE: 'CarrierX is unavailable right now. Try again later.',
  UPSTREAM_BAD_RESPONSE: 'CarrierX sent a response this service cannot read.',
  // A federation representation whose key is not a UUID (the root field's argument is checked by validation).
  BAD_USER_INPUT: 'The request carries an invalid value.',
  // An operation whose estimated cost (CarrierX calls and records, src/graphql/execution/cost.ts) is over
  // MAX_OPERATION_COST, refused before anything runs; `extensions.estimated` and `extensions.limit` say by how
  // much, the message which fields cost what. The code Apollo Router's and Hive Router's demand control use.
  COST_ESTIMATED_TOO_EXPENSIVE:
    'This operation is estimated to cost more CarrierX calls and records than this service runs in one operation (MAX_OPERATION_COST, in extensions.limit).',
  // Records fetched by one HTTP request beyond MAX_OPERATION_COST, counted as they are fetched: pages whose
  // records the selection does not show (the estimate counts only records selected, as the spec does), and
  // the operations of a batch together (each alone is held to its estimate first); `extensions.limit` says how many.
  TOO_MANY_RECORDS:
    'This request asks for more call detail records than this service fetches for one request (MAX_OPERATION_COST, in extensions.limit; the operations of a batch count together).',
  // More records x selected fields in one HTTP request than MAX_FIELDS_PER_REQUEST; `extensions.limit` says how many.
  TOO_MANY_FIELDS:
    'This request asks for more record fields (records times selected fields) than this service returns in one request (MAX_FIELDS_PER_REQUEST, in extensions.limit).',
  // HTTP 413, before the body is parsed: the same code Yoga's own limit uses, so clients see one vocabulary.
  REQUEST_ENTITY_TOO_LARGE: 'The request body is larger than this service accepts.',
  // HTTP 400 for a request that is not well-formed HTTP (e.g. an unreadable Content-Length).
  BAD_REQUEST: 'The request is malformed.',
  // HTTP 415 for a POST whose Content-Type no request parser reads (Yoga answered it with an empty body).
  UNSUPPORTED_MEDIA_TYPE:
    'This service does not read a POST body of this Content-Type. Send "Content-Type: application/json" (application/graphql+json, application/graphql and application/x-www-form-urlencoded are read too; multipart is not), or a GET with the query in the URL (?query=...).',
  // HTTP 403 for a GET, or a form-like POST, without one of the headers only a script can send: CSRF prevention
  // (on in production, CSRF_PREVENTION_ENABLED). The header names are src/graphql/plugins/use-csrf-prevention.ts's.
  CSRF_HEADER_MISSING:
    'This request was refused as a possible cross-site request forgery (CSRF): a GET, or a POST with Content-Type text/plain, application/x-www-form-urlencoded or multipart/form-data, must carry one of the headers x-graphql-yoga-csrf, apollo-require-preflight or x-apollo-operation-name (any value, e.g. "x-graphql-yoga-csrf: 1"). A POST with "Content-Type: application/json" needs none.',
  // HTTP 421 for a Host name not in ALLOWED_HOSTS (what a DNS-rebinding page would send).
  MISDIRECTED_REQUEST: 'This service does not answer for this host name (see ALLOWED_HOSTS).',
  // Persisted documents (docs/frontend.md), with the codes Apollo's clients and router use for the same cases:
  // an Apollo client (or urql's persisted exchange) that sent a hash alone reacts to NOT_FOUND by sending the
  // document with it, which registers it unless PERSISTED_DOCUMENTS_ONLY is on (automatic persisted queries).
  PERSISTED_QUERY_NOT_FOUND:
    'No persisted document has this id: send the document with its hash (automatic persisted queries), or a documentId from the manifest this service was deployed with.',
  // PERSISTED_DOCUMENTS_ONLY: the production allowlist.
  PERSISTED_QUERY_NOT_IN_LIST:
    'This service runs only its persisted documents: send the documentId of an operation from its manifest.',
  // A document sent with a hash that is not its sha256.
  PERSISTED_QUERY_HASH_MISMATCH: 'The document id is not the sha256 hash of the document sent with it.',
  // HTTP 403: a gateway signature (Hive Gateway's hmacSignature) that GATEWAY_HMAC_SECRET does not verify.
  GATEWAY_SIGNATURE_INVALID:
    'The request carries a gateway signature (extensions["hmac-signature"]) that does not match it: the gateway signs with another secret than GATEWAY_HMAC_SECRET, or the request was changed after it was signed.',
  // The live call feed (src/live/, issue 24). A subscription refused at its start: more subscriptions than
  // LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL or LIVE_MAX_SUBSCRIPTIONS (the message says which; extensions.limit).
  LIVE_TOO_MANY_SUBSCRIPTIONS:
    'This service already runs as many live subscriptions as it allows (extensions.limit). End one, or try again later.',
  // A subscription whose filter needs a new poller while LIVE_MAX_POLLERS pollers run.
  LIVE_TOO_MANY_POLLERS:
    'This service already polls CarrierX for as many distinct live feeds (credential and filter) as it allows (LIVE_MAX_POLLERS, in extensions.limit). Subscribe with a filter already in use, or try again later.',
  // A resume id (Last-Event-ID) older than the events kept for replay (LIVE_REPLAY_RECORDS): records may have
  // been missed, so the subscription is refused rather than resumed with a gap.
  LIVE_RESUME_TOO_OLD:
    'The resume point (Last-Event-ID) is older than the live events this service keeps for replay (LIVE_REPLAY_RECORDS): records after it may have been missed. Subscribe again without it, and read what was missed with callDetailRecords filtered on dateInsert.',
  // A subscriber that read more slowly than records arrived, with LIVE_SUBSCRIBER_QUEUE events waiting.
  LIVE_SUBSCRIBER_TOO_SLOW:
    'This live subscription fell too far behind the records arriving (LIVE_SUBSCRIBER_QUEUE, in extensions.limit) and was ended. Subscribe again with the last event id to resume.',
} as const;

/**
 * Texts for PERSISTED_QUERY_NOT_IN_LIST when the refused request looks like a federation gateway's (it carries
 * a signature, or asks for `_entities` or `_service`): the advice for a browser's build would mislead there.
 */
export const NOT_IN_LIST = {
  GATEWAY_UNSIGNED:
    "This service runs only its persisted documents, and a federation gateway's queries only when signed: set hmacSignature: { secret } in Hive Gateway's configuration and GATEWAY_HMAC_SECRET here to the same secret.",
  GATEWAY_NO_SECRET:
    "This service runs only its persisted documents, and cannot check the gateway signature this request carries: GATEWAY_HMAC_SECRET is unset. Set it to the secret of the gateway's hmacSignature.",
} as const;

/**
 * Texts for UNAUTHENTICATED when the request's credentials never reach CarrierX. A missing header is most often
 * a gateway that does not pass it on, so that text says so: a newcomer who did send one looks there next.
 */
export const CREDENTIALS = {
  MISSING:
    'No credentials reached this service: the request arrived without an Authorization header. Send "Authorization: Bearer <CarrierX token>"; behind a gateway (e.g. Apollo Router), the gateway must forward the Authorization header to this subgraph.',
  MALFORMED: 'The Authorization header is malformed: expected "Bearer <token>" or "Basic <credentials>".',
} as const;

/**
 * Texts for UPSTREAM_UNAVAILABLE when this service, not CarrierX, declines to make the call or gives it up. Each
 * has its factory below, which also sets the error's `reason`.
 */
export const UNAVAILABLE = {
  CIRCUIT_OPEN: 'CarrierX has been failing, so calls to it are paused for a few seconds. Try again shortly.',
  OVERLOADED: 'This service is overloaded: too many CarrierX calls are already waiting. Try again shortly.',
  DEADLINE: 'CarrierX did not answer in time for this request.',
  DISCONNECTED: 'The request was cancelled: the client disconnected.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Why this service, not CarrierX, ended a call with UPSTREAM_UNAVAILABLE. Code that acts on such an error (the
 * circuit breaker, the adaptive limit, the metrics) reads this and never the text, which is for people and may
 * be reworded.
 */
export type UnavailableReason = 'deadline' | 'circuit-open' | 'overloaded' | 'disconnected';

/**
 * An error this service raises, with a code from the table: about CarrierX, the caller's credentials, the
 * limits it enforces, or the request itself (BAD_REQUEST, 413, persisted documents). GraphQL reports it at the
 * field that failed, or as a request error.
 */
export class ServiceError extends GraphQLError {
  readonly code: ErrorCode;
  /**
   * Set only by the factories below. A class field, not an extension: GraphQLError's JSON carries message,
   * locations, path and extensions alone, so clients' answers do not change with it.
   */
  readonly reason: UnavailableReason | undefined;

  constructor(
    code: ErrorCode,
    message: string = ERRORS[code],
    extensions: Record<string, unknown> = {},
    reason?: UnavailableReason,
  ) {
    super(message, { extensions: { ...extensions, code } });
    this.code = code;
    this.reason = reason;
  }
}

/** At most this many root fields are named in a refusal, the costliest first. */
const FIELDS_NAMED = 3;

/**
 * COST_ESTIMATED_TOO_EXPENSIVE: the estimate and the limit, which root fields cost what (as written, with the
 * variables' values), and what to change.
 */
export function operationTooCostly(
  estimate: { cost: number; fields: readonly { field: string; cost: number }[] },
  limit: number,
): ServiceError {
  const costliest = [...estimate.fields].sort((a, b) => b.cost - a.cost);
  const named = costliest.slice(0, FIELDS_NAMED).map(({ field, cost }) => `${field} costs ${cost}`);
  const rest = costliest.slice(FIELDS_NAMED);
  if (rest.length > 0) {
    named.push(`${rest.length} other fields cost ${rest.reduce((sum, { cost }) => sum + cost, 0)}`);
  }
  return new ServiceError(
    'COST_ESTIMATED_TOO_EXPENSIVE',
    `This operation is estimated to cost ${estimate.cost} CarrierX calls and records; one operation may cost at most ${limit} (MAX_OPERATION_COST). ${named.join('; ')}. A record by drSid costs 2 (a call and its record); a page costs 1 plus its first or last records under each of nodes and edges selected. Ask for smaller pages and follow pageInfo.endCursor, select a page's records under nodes or edges rather than both, or use fewer aliases.`,
    // As a validation error is: a request error, 400 for application/graphql-response+json.
    { estimated: estimate.cost, limit, http: { spec: true, status: 400 } },
  );
}

/**
 * TOO_MANY_RECORDS for a list page: what the caller wrote (`asked`, e.g. "first: $pageSize = 200"), the limit,
 * the setting that holds it and what other fields took of it, so the message says what to change.
 */
export function tooManyRecordsForPage(
  asked: string,
  size: number,
  limit: number,
  taken: number,
): ServiceError {
  const others =
    taken > 0 ? `, and ${taken} of them are already taken by other fields or operations of this request` : '';
  return new ServiceError(
    'TOO_MANY_RECORDS',
    `callDetailRecords(${asked}) asks for a page of ${size} records (fetched whether or not they are selected); one request may fetch at most ${limit} (MAX_OPERATION_COST)${others}. Ask for a smaller page and follow pageInfo.endCursor, send fewer operations in one batch, or raise MAX_OPERATION_COST.`,
    { limit },
  );
}

/** The request's deadline ran out before CarrierX answered, or before a call could start. */
export function deadlineExceeded(): ServiceError {
  return new ServiceError('UPSTREAM_UNAVAILABLE', UNAVAILABLE.DEADLINE, {}, 'deadline');
}

/** The circuit breaker is open; calls resume in `retryAfter` seconds. */
export function circuitOpen(retryAfter: number): ServiceError {
  return new ServiceError('UPSTREAM_UNAVAILABLE', UNAVAILABLE.CIRCUIT_OPEN, { retryAfter }, 'circuit-open');
}

/** The bulkhead and its queue are full. */
export function overloaded(): ServiceError {
  return new ServiceError('UPSTREAM_UNAVAILABLE', UNAVAILABLE.OVERLOADED, {}, 'overloaded');
}

/** The caller went away; nobody reads this answer. */
export function disconnected(): ServiceError {
  return new ServiceError('UPSTREAM_UNAVAILABLE', UNAVAILABLE.DISCONNECTED, {}, 'disconnected');
}

/** The `reason` of a ServiceError made by one of the factories above; undefined for anything else. */
export function reasonOf(error: unknown): UnavailableReason | undefined {
  return error instanceof ServiceError ? error.reason : undefined;
}

/**
 * How the upstream policies may act on a failed call. `transient`: the request never got a real answer
 * (connection refused or reset, 502/503/504), so a retry of the GET may well succeed. `unavailable`: CarrierX
 * failed in a way a quick retry will not fix (500, timeout). `rate-limited`: a 429, retried only when the wait
 * fits.
 */
export type FailureKind = 'transient' | 'unavailable' | 'rate-limited';

/**
 * The one table of upstream statuses: what a status other than 200 means to the caller (`error`) and to the
 * policies (`kind`; undefined for a final answer such as 404, which neither retries nor counts against the
 * circuit breaker).
 */
export function classifyStatus(
  status: number,
  retryAfterSeconds?: number,
): { error: ServiceError; kind: FailureKind | undefined } {
  switch (status) {
    case 401:
      return { error: new ServiceError('UNAUTHENTICATED'), kind: undefined };
    case 403:
      return { error: new ServiceError('FORBIDDEN'), kind: undefined };
    case 404:
      return { error: new ServiceError('NOT_FOUND'), kind: undefined };
    case 429:
      return {
        error: new ServiceError(
          'RATE_LIMITED',
          ERRORS.RATE_LIMITED,
          retryAfterSeconds === undefined ? {} : { retryAfter: retryAfterSeconds },
        ),
        kind: 'rate-limited',
      };
    case 502:
    case 503:
    case 504:
      return { error: new ServiceError('UPSTREAM_UNAVAILABLE'), kind: 'transient' };
    default:
      if (status >= 500) return { error: new ServiceError('UPSTREAM_UNAVAILABLE'), kind: 'unavailable' };
      // A 400/409/415/422 on a GET by SID means CarrierX did not accept what we sent: not the caller's fault.
      return {
        error: new ServiceError(
          'UPSTREAM_BAD_RESPONSE',
          `CarrierX rejected the request with HTTP ${status}.`,
        ),
        kind: undefined,
      };
  }
}

/**
 * Yoga's masking, plus: `extensions.originalError` keeps its name but loses its message. Yoga attaches one to
 * request errors such as invalid JSON, and the parser's message in it quotes the request body back. (Yoga also
 * reads its presence to answer such errors with 400 rather than 200, so it stays.) Used in production, where
 * nothing a client sent or an internal error said is echoed.
 */
export const maskErrorForProduction: MaskError = (error, message, isDev) => {
  const masked = maskError(error, message, isDev);
  // Not every GraphQLError has `extensions`: graphql-jit's own errors leave it undefined.
  const original = masked instanceof GraphQLError ? masked.extensions?.originalError : undefined;
  if (!(masked instanceof GraphQLError) || original === undefined || original instanceof GraphQLError) {
    return masked;
  }
  const name = (original as { name?: unknown } | null)?.name;
  return new GraphQLError(masked.message, {
    nodes: masked.nodes,
    source: masked.source,
    positions: masked.positions,
    path: masked.path,
    extensions: { ...masked.extensions, originalError: { name: typeof name === 'string' ? name : 'Error' } },
  });
};
