import { GraphQLError } from 'graphql';

/**
 * The one error table. Every error this service reports about CarrierX or the caller's credentials carries
 * one of these codes in `extensions.code`. Messages are fixed texts: they never include the caller's token,
 * an upstream response body or a stack trace.
 */
export const ERRORS = {
  NOT_FOUND: 'CarrierX has no call detail record with this SID (records can expire).',
  UNAUTHENTICATED:
    'CarrierX did not accept the credentials. Send "Authorization: Bearer <CarrierX token>" with the request.',
  FORBIDDEN:
    'CarrierX refused access: the token needs the calls.read or calls.manage scope, and calls.read_descendant for records of inherited (descendant) partners.',
  RATE_LIMITED: 'CarrierX is rate limiting these requests. Try again later.',
  UPSTREAM_UNAVAILABLE: 'CarrierX is unavailable right now. Try again later.',
  UPSTREAM_BAD_RESPONSE: 'CarrierX sent a response this service cannot read.',
  // A federation representation whose key is not a UUID (the root field's argument is checked by validation).
  BAD_USER_INPUT: 'The request carries an invalid value.',
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
