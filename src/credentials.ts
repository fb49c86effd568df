import { CREDENTIALS, ServiceError } from './errors.ts';

// Below the context and the caches alike: both ask what a request's headers mean before any record is read.

// The schemes CarrierX accepts, with an RFC 7235 token68: nothing else may travel upstream in the header.
const AUTHORIZATION = /^(?:Bearer|Basic) [A-Za-z0-9\-._~+/]+=*$/i;
const MAX_AUTHORIZATION_LENGTH = 4096;

// RFC 9111: a request's no-cache directive asks for an answer validated with the origin.
const NO_CACHE = /(?:^|,)\s*no-cache\s*(?:,|$)/i;

/** `Cache-Control: no-cache`, or (RFC 9111 5.4) `Pragma: no-cache` from an HTTP/1.0 client sending no Cache-Control. */
export function asksForRefresh(cacheControl: string | null, pragma: string | null): boolean {
  return cacheControl === null ? NO_CACHE.test(pragma ?? '') : NO_CACHE.test(cacheControl);
}

/** What to send upstream as Authorization, or why no call may be made. */
export function resolveCredentials(
  header: string | null,
  fallbackToken: string | undefined,
): { authorization: string } | { error: ServiceError } {
  if (header === null || header.trim() === '') {
    return fallbackToken
      ? { authorization: `Bearer ${fallbackToken}` }
      : { error: new ServiceError('UNAUTHENTICATED', CREDENTIALS.MISSING) };
  }
  if (header.length > MAX_AUTHORIZATION_LENGTH || !AUTHORIZATION.test(header)) {
    return { error: new ServiceError('UNAUTHENTICATED', CREDENTIALS.MALFORMED) };
  }
  return { authorization: header };
}
