import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import { createGraphQLError, type GraphQLParams, isAsyncIterable, processRegularResult } from 'graphql-yoga';
import { ERRORS, type ErrorCode } from '../errors.ts';
import type { App } from '../graphql/app.ts';
import { type Context, tallyOf } from '../graphql/context.ts';
import { CONTENT_LENGTH } from '../graphql/plugins/use-request-body-limit.ts';
import { REQUEST_ID_HEADER, requestIdFrom, withRequestId } from '../telemetry/request-id.ts';
import { requestTraceIdOf, tracer } from '../telemetry/tracing.ts';
import { answerCacheOf } from './answer-cache.ts';

export interface RequestHandlerOptions {
  /** Serve plain JSON POSTs without Yoga's Fetch API adapter (see below). */
  fastPath: boolean;
  /** Same limit as the app's body-size check; a larger declared body goes to Yoga, which refuses it. */
  maxBodyBytes: number;
  graphqlEndpoint?: string;
  /** Answered for any Host (still a valid one): it carries no data, and probes often address the server by IP. */
  healthCheckEndpoint?: string;
  /** Host names (lower case, no port) answered; others get 421. `['*']` (the default): any. */
  allowedHosts?: readonly string[];
  /**
   * Readiness, answered at `GET /ready` (any Host, like health): 200 while it returns true, 503 otherwise.
   * Unset: always ready.
   */
  ready?: () => boolean;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The handler, with counts of how requests were served (for tests and metrics). */
export type RequestHandler = NodeHandler & {
  /** `answered`: fast-path requests answered from the answer cache, without running GraphQL. */
  readonly stats: { fastPath: number; yoga: number; replayed: number; answered: number };
  /** Why a WebSocket upgrade must be refused by the same Host and target checks as a request, if it must. */
  refuseUpgrade(req: IncomingMessage): { status: number; body: string } | undefined;
};

const JSON_CONTENT_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;
const JSON_ACCEPT = /^(\*\/\*|application\/json)\s*(;\s*charset=utf-8\s*)?$/i;
const RESPONSE_CONTENT_TYPE = 'application/json; charset=utf-8';
const errorBody = (code: ErrorCode, message: string = ERRORS[code]) =>
  JSON.stringify({ errors: [{ message, extensions: { code } }] });
const BAD_HOST = errorBody('BAD_REQUEST', 'The Host header is invalid.');
const BAD_TARGET = errorBody('BAD_REQUEST', 'The request target is invalid: send a path such as /graphql.');
const MISDIRECTED = errorBody('MISDIRECTED_REQUEST');
const SUBSCRIPTION_WORD = /\bsubscription\b/;
const READY_ENDPOINT = '/ready';
const READY = '{"status":"ready"}';
const NOT_READY = '{"status":"not ready"}';
/** A Host header: a name or IPv4 address, or a bracketed IPv6 address, then an optional port. */
const HOST_HEADER = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;
/** The error Yoga's masking makes of an error it did not expect. */
const UNEXPECTED = () =>
  createGraphQLError('Unexpected error.', {
    extensions: { code: 'INTERNAL_SERVER_ERROR', unexpected: true },
  });

/**
 * Whether Yoga would answer this request exactly as the fast path does: a POST of a declared-length JSON body
 * to the GraphQL endpoint, answered as application/json, with no Origin (so no CORS headers to add). Everything
 * else (GET, GraphiQL, health, CORS, chunked bodies, other media types, batches) goes to Yoga untouched.
 */
function isPlainJsonPost(req: IncomingMessage, endpoint: string, maxBodyBytes: number): boolean {
  const { headers } = req;
  if (req.method !== 'POST' || req.url !== endpoint || headers.origin !== undefined) return false;
  const contentType = headers['content-type'];
  const accept = headers.accept;
  const length = headers['content-length'];
  return (
    contentType !== undefined &&
    JSON_CONTENT_TYPE.test(contentType) &&
    (accept === undefined || JSON_ACCEPT.test(accept)) &&
    length !== undefined &&
    CONTENT_LENGTH.test(length) &&
    Number(length) <= maxBodyBytes
  );
}

function isParams(value: unknown): value is GraphQLParams {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A Node header value as the Fetch API reads it: repeated headers joined with ", ". */
function headerValue(value: string | string[]): string {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The headers of a Node request, read through the Fetch API's `get`/`has`. */
class NodeHeaders {
  constructor(private readonly raw: IncomingMessage['headers']) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    return value === undefined ? null : headerValue(value);
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
}

/**
 * The request's abort signal on the fast path: an EventTarget with the part of AbortSignal that the loader,
 * client and policies read (`aborted`, `reason`, `throwIfAborted`, 'abort' events). Node 20's own AbortSignal
 * costs ~5 us per abort listener, and once it has had one it lives until a major GC, with all it references
 * (measured: 2 million signals with a listener added and removed ran 86 mark-compacts; plain EventTargets none).
 * Every upstream call listens on this one.
 */
class RequestSignal extends EventTarget {
  constructor() {
    super();
    // One listener per upstream call in flight for this request (up to CARRIERX_MAX_PARALLEL_PER_REQUEST):
    // Node's default cap of 10 would print a leak warning for what is normal here.
    setMaxListeners(0, this);
  }

  aborted = false;
  reason: unknown = undefined;
  onabort: ((event: Event) => void) | null = null;

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const event = new Event('abort');
    this.onabort?.(event);
    this.dispatchEvent(event);
  }
}

/**
 * The slice of a Fetch API Request that the operation pipeline and our context read. A class rather than an
 * object literal of closures: nothing is allocated per request beyond the instance itself.
 */
class NodeRequestView {
  readonly method = 'POST';
  private requestSignal: RequestSignal | undefined;

  constructor(
    readonly url: string,
    readonly headers: NodeHeaders,
    private readonly res: ServerResponse,
  ) {}

  /** Created on first use (only operations that call CarrierX ask): aborts when the client goes away. */
  get signal(): AbortSignal {
    if (!this.requestSignal) {
      const signal = new RequestSignal();
      this.requestSignal = signal;
      const { res } = this;
      res.once('close', () => {
        if (!res.writableFinished) signal.abort(new DOMException('The client disconnected', 'AbortError'));
      });
    }
    return this.requestSignal as unknown as AbortSignal;
  }
}

/**
 * The Node HTTP handler for the app. Yoga's Fetch API adapter costs more per request than the whole GraphQL
 * operation it carries (a Request, Headers and body stream per call, content negotiation, a Response); for the
 * one shape of request that dominates traffic — a JSON POST from a server or a gateway — the fast path reads the
 * body itself and hands the parameters to Yoga's own operation pipeline (`getResultForParams`: the same
 * parameter checks, parse and validation caches, query limits, context, graphql-jit execution and error
 * masking; a document that ran cleanly before runs there as a prepared operation, src/graphql/execution/prepared.ts).
 * Any request of another shape, and any request the pipeline refuses before
 * executing, is answered by Yoga itself; test/http-fast-path.test.ts and test/prepared-operations.test.ts hold
 * the paths to byte-identical answers.
 *
 * Yoga's request-level hooks (onRequest, onRequestParse, onResultProcess, onResponse) do not run here. The
 * plugins this app has there (CSRF, CORS, GraphiQL, the body limit) have nothing to do for a request of this
 * shape or are mirrored by `isPlainJsonPost`; a new plugin that must see every request has to be added there too.
 */
export function createRequestHandler(app: App, options: RequestHandlerOptions): RequestHandler {
  const endpoint = options.graphqlEndpoint ?? '/graphql';
  const yoga = app as unknown as NodeHandler;
  const stats = { fastPath: 0, yoga: 0, replayed: 0, answered: 0 };
  const answers = answerCacheOf(app);

  // Used when a buffered request turns out to need Yoga after all: the same bytes, through the adapter.
  async function replay(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    stats.replayed++;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, headerValue(value));
    }
    const response = await app.fetch(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
      method: 'POST',
      headers,
      body,
    });
    await writeResponse(res, response);
  }

  /** Writes a Fetch API Response from Yoga as it is: status, every header, body. */
  async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
    const text = await response.text();
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      out[name] = value;
    });
    out['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(response.status, out);
    res.end(text);
  }

  function send(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, {
      'content-type': RESPONSE_CONTENT_TYPE,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  async function respond(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    // The answer cache (src/http/answer-cache.ts): a repeated request whose records are all still current in the
    // record cache is answered with the bytes computed before, without running GraphQL again.
    // One view of the headers for the answer cache and the operation (read through the Fetch API's `get`).
    const headers = new NodeHeaders(req.headers);
    const lookup = answers?.begin(headers, body);
    if (lookup && !lookup.refresh) {
      const found = answers?.find(lookup);
      const answer = found instanceof Promise ? await found : found;
      if (answer) {
        stats.answered++;
        res.writeHead(200, { 'content-type': RESPONSE_CONTENT_TYPE, 'content-length': answer.bytes });
        res.end(answer.body);
        answers?.served(lookup, answer, req.headers[REQUEST_ID_HEADER] as string, requestTraceIdOf(req));
        return;
      }
    }
    let params: unknown;
    try {
      params = JSON.parse(body.toString('utf8'));
    } catch {
      return replay(req, res, body);
    }
    if (!isParams(params)) return replay(req, res, body);
    // A subscription streams, which only Yoga writes (and refuses as JSON): executing it here would start a live
    // feed subscription only to drop it. A document that merely mentions the word goes to Yoga too, harmlessly.
    if (typeof params.query === 'string' && SUBSCRIPTION_WORD.test(params.query))
      return replay(req, res, body);
    const request = new NodeRequestView(
      `http://${req.headers.host ?? 'localhost'}${endpoint}`,
      headers,
      res,
    ) as unknown as Request;
    let result: ExecutionResult | AsyncIterable<ExecutionResult> | undefined;
    // With an answer lookup, the request's tally keeps the record-cache entries it reads, for `keep`.
    const serverContext: Record<string, unknown> = lookup ? { req, res, recordReads: true } : { req, res };
    try {
      result = await app.getResultForParams({ params, request }, serverContext as never);
    } catch (error) {
      // Refused before execution (e.g. malformed parameters): Yoga shapes that answer from the same bytes.
      // Yoga builds the operation's context (src/graphql/context.ts: `loaders`) on this object just before it
      // executes; once it has, a replay would run the operation again: CarrierX called twice, the error
      // logged twice. Answer as Yoga answers an error thrown there instead: logged once, masked, 500.
      if (!('loaders' in serverContext)) return replay(req, res, body);
      app.logger.error(error);
      const unexpected = withRequestId({ errors: [UNEXPECTED()] }, req.headers[REQUEST_ID_HEADER] as string);
      return writeResponse(res, await processRegularResult(unexpected, app.fetchAPI, 'application/json'));
    }
    if (isAsyncIterable(result)) {
      // A subscription the word check could not see (a persisted document): end it before Yoga answers.
      await result[Symbol.asyncIterator]().return?.();
      return replay(req, res, body);
    }
    if (!result) return replay(req, res, body);
    if (!result.errors?.length && !result.extensions) {
      const stringify = (result as { stringify?: (r: unknown) => string }).stringify ?? JSON.stringify;
      const text = stringify(result);
      if (lookup) {
        const { observed } = serverContext as Partial<Context>;
        answers?.keep(lookup, text, tallyOf(request), observed?.operation);
      }
      return send(res, 200, text);
    }
    // Errors: Yoga's own result processor decides the status and headers and strips internal extensions.
    const requestId = req.headers[REQUEST_ID_HEADER] as string;
    await writeResponse(
      res,
      await processRegularResult(withRequestId(result, requestId), app.fetchAPI, 'application/json'),
    );
  }

  const healthCheckEndpoint = options.healthCheckEndpoint ?? '/health';
  const allowedHosts = options.allowedHosts ?? ['*'];
  const anyHost = allowedHosts.includes('*');
  const allowed = new Set(allowedHosts);

  /**
   * Yoga's adapter builds a URL from the Host header and the request target and answers a 500 with a stack
   * trace when it cannot, so both are checked here first. The target must be a path (origin-form); the
   * absolute form (`GET http://host/path`, which HTTP/1.1 servers must accept) is turned into one, its
   * authority taking the place of Host as RFC 9112 says; `OPTIONS *` is answered here. The Host must be a
   * well-formed name, and an allowed one: a DNS-rebinding page reaches this server under its own name, and
   * must not get to use the fallback CARRIERX_TOKEN. The last allowed Host skips the parse.
   */
  let knownGoodHost: string | undefined;
  function earlyAnswer(req: IncomingMessage): { status: number; body: string } | undefined {
    const target = req.url ?? '/';
    if (target[0] !== '/') {
      if (target === '*') {
        return req.method === 'OPTIONS' ? { status: 204, body: '' } : { status: 400, body: BAD_TARGET };
      }
      const url = URL.canParse(target) ? new URL(target) : undefined;
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
        return { status: 400, body: BAD_TARGET };
      }
      req.url = `${url.pathname}${url.search}`;
      req.headers.host = url.host;
    }
    const host = req.headers.host;
    // No Host at all: HTTP/1.0 (Node refuses HTTP/1.1 without one). No browser sends that, so no rebinding.
    if (host === undefined || host === knownGoodHost) return undefined;
    if (!HOST_HEADER.test(host) || !URL.canParse(`http://${host}/`)) return { status: 400, body: BAD_HOST };
    if (anyHost || allowed.has(new URL(`http://${host}/`).hostname.replace(/\.$/, ''))) {
      knownGoodHost = host;
      return undefined;
    }
    return req.url === healthCheckEndpoint || req.url === READY_ENDPOINT
      ? undefined
      : { status: 421, body: MISDIRECTED };
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    // The request id, taken or made here once: written back into the request's headers, every later reader
    // (the fast path, Yoga's adapter, a replay) sees the same sane id; set on the response, every answer
    // carries it (writeHead merges it in).
    const header = req.headers[REQUEST_ID_HEADER];
    const requestId = requestIdFrom(header);
    if (requestId !== header) req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    tracer?.startRequest(req, res, requestId);
    const early = earlyAnswer(req);
    if (early) {
      stats.yoga++;
      res.shouldKeepAlive = false;
      if (early.status === 204) {
        res.writeHead(204, { allow: 'GET, POST, OPTIONS' });
        res.end();
      } else send(res, early.status, early.body);
      return;
    }
    if (req.url === READY_ENDPOINT && (req.method === 'GET' || req.method === 'HEAD')) {
      stats.yoga++;
      // Never touches CarrierX: readiness is this process's own state (listening, not draining).
      const ready = options.ready?.() ?? true;
      send(res, ready ? 200 : 503, ready ? READY : NOT_READY);
      return;
    }
    if (!options.fastPath || !isPlainJsonPost(req, endpoint, options.maxBodyBytes)) {
      stats.yoga++;
      yoga(req, res);
      return;
    }
    stats.fastPath++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      respond(req, res, body).catch((error: unknown) => {
        app.logger.error(error);
        if (!res.headersSent) send(res, 500, '{"errors":[{"message":"Unexpected error."}]}');
        else res.destroy();
      });
    });
  };
  const refuseUpgrade = (req: IncomingMessage) => {
    const early = earlyAnswer(req);
    return early?.status === 204 ? { status: 400, body: BAD_TARGET } : early;
  };
  return Object.assign(handler, { stats, refuseUpgrade });
}
