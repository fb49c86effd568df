import { randomUUID } from 'node:crypto';
import type { ExecutionResult } from 'graphql';

/** The header a request id travels in, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

// What a caller's id may look like to be kept: enough for UUIDs, ULIDs and gateways' ids, nothing that could
// forge a log line or a header.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's request id when it is sane, a new one otherwise. */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

// Requests served through `app.fetch` with no sane id of their own (tests, other embedders): one generated
// id per Request object, so its context, its answer's header and its error extensions agree.
const generated = new WeakMap<object, string>();

/**
 * The request id of a Fetch API request (or the fast path's view of one). The Node handler has already put a
 * sane id in the header (src/http/create-request-handler.ts), so this is a header read and a regex test.
 */
export function requestIdOf(request: { readonly headers: { get(name: string): string | null } }): string {
  const header = request.headers.get(REQUEST_ID_HEADER);
  if (header !== null && SANE_REQUEST_ID.test(header)) return header;
  let id = generated.get(request);
  if (id === undefined) {
    id = randomUUID();
    generated.set(request, id);
  }
  return id;
}

/**
 * The result of a request that failed, with `extensions.requestId`: a user's bug report leads to the log lines.
 * On the response, not on each error, so errors stay as the error table and graphql-js shape them.
 */
export function withRequestId<T extends ExecutionResult>(result: T, requestId: string): T {
  if (!result.errors?.length || result.extensions?.requestId === requestId) return result;
  return { ...result, extensions: { ...result.extensions, requestId } };
}
