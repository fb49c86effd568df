import type { YogaInitialContext } from 'graphql-yoga';
import type { CarrierXClient } from './carrierx/client.ts';
import { CarrierXError } from './errors.ts';
import { type CdrLoader, createCdrLoader } from './loaders/cdr-loader.ts';
import type { Logger } from './logger.ts';

export interface Context {
  readonly loaders: { readonly cdr: CdrLoader };
  readonly logger: Logger;
}

export interface ContextDeps {
  client: CarrierXClient;
  logger: Logger;
  /** Used only when a request carries no Authorization header. */
  fallbackToken: string | undefined;
  maxParallelPerRequest: number;
  maxRecordsPerOperation: number;
  /** Time from the start of a GraphQL operation after which no upstream call or retry wait may run. */
  requestDeadlineMs: number;
}

// The schemes CarrierX accepts, with an RFC 7235 token68: nothing else may travel upstream in the header.
const AUTHORIZATION = /^(?:Bearer|Basic) [A-Za-z0-9\-._~+/]+=*$/i;
const MAX_AUTHORIZATION_LENGTH = 4096;

/** What to send upstream as Authorization, or why no call may be made. */
export function resolveCredentials(
  header: string | null,
  fallbackToken: string | undefined,
): { authorization: string } | { error: CarrierXError } {
  if (header === null || header.trim() === '') {
    return fallbackToken
      ? { authorization: `Bearer ${fallbackToken}` }
      : {
          error: new CarrierXError(
            'UNAUTHENTICATED',
            'No credentials: send "Authorization: Bearer <CarrierX token>".',
          ),
        };
  }
  if (header.length > MAX_AUTHORIZATION_LENGTH || !AUTHORIZATION.test(header)) {
    return {
      error: new CarrierXError(
        'UNAUTHENTICATED',
        'The Authorization header is malformed: expected "Bearer <token>" or "Basic <credentials>".',
      ),
    };
  }
  return { authorization: header };
}

/**
 * Builds each request's context: its own loaders (nothing shared across requests), credentials, deadline and
 * the request's abort signal, which fires when the client disconnects. None of it is read until an operation
 * first loads a record.
 */
export function createContextFactory(deps: ContextDeps) {
  return ({ request }: YogaInitialContext): Context => {
    let cdr: CdrLoader | undefined;
    const deadlineAt = performance.now() + deps.requestDeadlineMs;
    return {
      logger: deps.logger,
      loaders: {
        // Built on first use: operations that touch no record (introspection, __typename) pay nothing.
        get cdr() {
          cdr ??= createCdrLoader({
            client: deps.client,
            credentials: resolveCredentials(request.headers.get('authorization'), deps.fallbackToken),
            maxParallel: deps.maxParallelPerRequest,
            maxRecords: deps.maxRecordsPerOperation,
            signal: request.signal,
            deadlineAt,
          });
          return cdr;
        },
      },
    };
  };
}
