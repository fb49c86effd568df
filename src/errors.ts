import { GraphQLError } from 'graphql';
import { type MaskError, maskError } from 'graphql-yoga';

/**
 * The one error table. Every error this service raises itself (about CarrierX, the caller's credentials or the
 * limits it enforces) carries one of these codes in `extensions.code`. Messages are fixed texts: they never include the caller's token,
 * an upstream response body or a stack trace.
 */
export const ERRORS = {
  NOT_FOUND: 'CarrierX has no call detail record with this SID (records can expire).',
  UNAUTHENTICATED:
    'CarrierX did not accept the credentials. Send "Authorization: Bearer <CarrierX token>" with the request.',
  FORBIDDEN:
    'CarrierX refused access: the token needs the calls.read or calls.manage scope, and calls.read_descendant for records of inherited (descendant) partners.',
  RATE_LIMITED: 'CarrierX is rate limiting these requests. Try again later.',
  // Also raised, with a text from UNAVAILABLE below, when this service holds a call back to protect CarrierX
  // or itself; with the circuit open, `extensions.retryAfter` says in how many seconds calls resume.
  UPSTREAM_UNAVAILABLE: 'CarrierX is unavailable right now. Try again later.',
  UPSTREAM_BAD_RESPONSE: 'CarrierX sent a response this service cannot read.',
  // A federation representation whose key is not a UUID (the root field's argument is checked by validation).
  BAD_USER_INPUT: 'The request carries an invalid value.',
  // More distinct records in one operation than MAX_RECORDS_PER_OPERATION; `extensions.limit` says how many.
  TOO_MANY_RECORDS:
    'This operation asks for more call detail records than this service fetches in one operation.',
  // HTTP 413, before the body is parsed: the same code Yoga's own limit uses, so clients see one vocabulary.
  REQUEST_ENTITY_TOO_LARGE: 'The request body is larger than this service accepts.',
  // HTTP 400 for a request that is not well-formed HTTP (e.g. an unreadable Content-Length).
  BAD_REQUEST: 'The request is malformed.',
} as const;

/** Texts for UPSTREAM_UNAVAILABLE when this service, not CarrierX, declines to make the call. */
export const UNAVAILABLE = {
  CIRCUIT_OPEN: 'CarrierX has been failing, so calls to it are paused for a few seconds. Try again shortly.',
  OVERLOADED: 'This service is overloaded: too many CarrierX calls are already waiting. Try again shortly.',
  DEADLINE: 'CarrierX did not answer in time for this request.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a code from the table; GraphQL reports it at the field that failed. */
export class CarrierXError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string = ERRORS[code], extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.code = code;
  }
}

/** Maps an upstream HTTP status that is not 200 to the error the caller sees. */
export function errorForStatus(status: number, retryAfterSeconds?: number): CarrierXError {
  switch (status) {
    case 401:
      return new CarrierXError('UNAUTHENTICATED');
    case 403:
      return new CarrierXError('FORBIDDEN');
    case 404:
      return new CarrierXError('NOT_FOUND');
    case 429:
      return new CarrierXError(
        'RATE_LIMITED',
        ERRORS.RATE_LIMITED,
        retryAfterSeconds === undefined ? {} : { retryAfter: retryAfterSeconds },
      );
    default:
      if (status >= 500) return new CarrierXError('UPSTREAM_UNAVAILABLE');
      // A 400/409/415/422 on a GET by SID means CarrierX did not accept what we sent: not the caller's fault.
      return new CarrierXError('UPSTREAM_BAD_RESPONSE', `CarrierX rejected the request with HTTP ${status}.`);
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
  const original = masked instanceof GraphQLError ? masked.extensions.originalError : undefined;
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
