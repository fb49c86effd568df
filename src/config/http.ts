import { z } from 'zod';
import { commaList, flag, integer, optional, urlHostname, whenValid } from './shared.ts';

const HOSTS_ERROR = 'must be a comma-separated list of host names such as api.example.com (no port), or *';

/** Node's HTTP server: where it listens, whom it answers, and how long it waits for a client. */
export const httpEnv = z
  .object({
    PORT: optional(integer(0, 65535)).default(4000).describe('HTTP port'),
    HOST: optional(z.string()).default('0.0.0.0').describe('interface to listen on'),
    CORS_ORIGINS: optional(
      commaList().pipe(
        z.array(
          z.string().regex(/^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/, {
            error: 'must be a comma-separated list of origins such as https://app.example.com, or *',
          }),
        ),
      ),
    ).describe('browser origins allowed to call cross-origin (with credentials); * allows any origin'),
    // Unset: any host, unless CARRIERX_TOKEN is set, when only loopback and HOST: a DNS-rebinding page must not
    // reach the fallback token under its own name.
    ALLOWED_HOSTS: optional(
      commaList((host) => host.toLowerCase().replace(/\.$/, '')).pipe(
        z.array(
          z
            .string()
            .regex(/^(\*|[a-z0-9_.-]+|\[[0-9a-f:.]+\])$/, { error: HOSTS_ERROR })
            .refine((host) => host === '*' || URL.canParse(`http://${host}/`), { error: HOSTS_ERROR })
            .transform((host) => (host === '*' ? host : urlHostname(host))),
        ),
      ),
    ).meta({
      description: 'host names this service answers for (any port); * allows any',
      unset: 'any host; with CARRIERX_TOKEN set, loopback only',
    }),
    // A slow or stalled client is cut off instead of holding memory and shutdown.
    HTTP_REQUEST_TIMEOUT_MS: optional(integer(1, 3_600_000))
      .default(30_000)
      .describe('time a client has to send a whole request, headers and body'),
    HTTP_HEADERS_TIMEOUT_MS: optional(integer(1, 3_600_000))
      .default(10_000)
      .describe("time a client has to send a request's headers"),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: optional(integer(1, 3_600_000))
      .default(5_000)
      .describe('how long an idle keep-alive connection stays open'),
    HTTP_MAX_CONNECTIONS: optional(integer(1, 1_000_000))
      .default(1_024)
      .describe('open connections per process, and the listen backlog'),
    // A balancer sees /ready fail only at its next health check: until then it still sends new connections.
    SHUTDOWN_DELAY_MS: optional(integer(0, 600_000)).meta({
      description:
        'after SIGTERM, how long /ready answers 503 while the server still serves, before it drains',
      unset: '0 in development, 5000 in production',
    }),
    HTTP_FAST_PATH: optional(flag)
      .default(true)
      .describe("plain JSON POSTs skip Yoga's Fetch API adapter (src/http/create-request-handler.ts)"),
  })
  // Node refuses a headers timeout longer than the whole request's.
  .refine((e) => e.HTTP_HEADERS_TIMEOUT_MS <= e.HTTP_REQUEST_TIMEOUT_MS, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    ...whenValid,
    error: 'must not exceed HTTP_REQUEST_TIMEOUT_MS',
  });

/** Names every local client may use, whatever ALLOWED_HOSTS says (as URL.hostname spells them). */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

function allowedHosts(e: z.output<typeof httpEnv>, fallbackToken: boolean): string[] {
  const listed = e.ALLOWED_HOSTS;
  if (listed?.includes('*') || (listed === undefined && !fallbackToken)) return ['*'];
  const host = e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST;
  const wildcard = e.HOST === '0.0.0.0' || e.HOST === '::';
  const own = wildcard || !URL.canParse(`http://${host}/`) ? [] : [urlHostname(host)];
  return [...new Set([...LOOPBACK_HOSTS, ...own, ...(listed ?? [])])];
}

export function httpConfig(
  e: z.output<typeof httpEnv>,
  /** `fallbackToken`: CARRIERX_TOKEN is set; `onSimulator`: the upstream is an embedded simulator. */
  context: { production: boolean; fallbackToken: boolean; onSimulator: boolean },
) {
  return {
    port: e.PORT,
    host: e.HOST,
    httpFastPath: e.HTTP_FAST_PATH,
    /** Origins a browser may call from; empty: no cross-origin access at all (but see corsLoopback). */
    corsOrigins: e.CORS_ORIGINS ?? [],
    /**
     * Any loopback origin (http(s)://localhost, 127.0.0.1 or [::1], any port) may call too: a front end under
     * development on its own port. Only while developing against the embedded simulator with CORS_ORIGINS
     * unset: its data is fake, whereas a real CarrierX behind a fallback token must not be readable by any
     * local page.
     */
    corsLoopback: e.CORS_ORIGINS === undefined && !context.production && context.onSimulator,
    http: {
      /** Host names (lower case, no port) the server answers for; `['*']`: any. */
      allowedHosts: allowedHosts(e, context.fallbackToken),
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      /**
       * After SIGTERM/SIGINT: /ready answers 503 and every response closes its connection, while the server still
       * accepts and serves, for this long; then it drains. In production a balancer needs it to notice; while
       * developing, a Ctrl-C should stop at once.
       */
      shutdownDelayMs: e.SHUTDOWN_DELAY_MS ?? (context.production ? 5_000 : 0),
    },
  };
}
