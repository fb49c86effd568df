import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

/**
 * Paths pino blanks in every log line. Tokens travel in the Authorization header and in the
 * CARRIERX_TOKEN setting; neither may ever reach a log.
 */
const REDACT_PATHS = [
  'authorization',
  'Authorization',
  'token',
  '*.authorization',
  '*.Authorization',
  '*.token',
  // Request headers one and two levels down, e.g. { req: { headers } } or { err: { request: { headers } } }.
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.*.headers.authorization',
  '*.*.headers.Authorization',
  'config.carrierx.token',
];

/**
 * pino-pretty, loaded when a developer's terminal first needs it: a production process (or any whose stdout is
 * not a terminal) never loads it or the colour libraries it brings. Synchronous, so createLogger stays so.
 */
function loadPinoPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

/**
 * Creates the JSON logger; `destination` lets tests capture lines. `pretty` (a developer at a terminal) prints
 * the same lines human-readable instead, synchronously so that a fatal line is out before the process exits.
 */
export function createLogger(
  options: { level?: string; destination?: DestinationStream; pretty?: boolean } = {},
): Logger {
  const destination = options.pretty
    ? loadPinoPretty()({ sync: true, ignore: 'service,hostname', translateTime: 'SYS:HH:MM:ss.l' })
    : options.destination;
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Every line names its process: with WEB_CONCURRENCY above 1, several workers write to one stream.
      base: { service: 'carrierx-cdr-graphql', pid: process.pid },
    },
    destination,
  );
}

/**
 * Call options whose `logger` is read from `source` only when something is logged: reading a request's logger
 * makes its child logger (a pino child with serialised bindings), wanted only for the rare line. Use as
 * `withDeferredLogger(source, { ...other options })`.
 *
 * A class with a prototype getter, not an object literal with `get logger()`: V8 keeps an accessor in the
 * object's hidden class, so a literal whose getter is a fresh closure gets a map of its own on every call, in
 * the old generation, which keeps the closure and all it reaches alive through young-generation GCs (see
 * RequestLoaders in src/graphql/context.ts).
 */
class DeferredLogger {
  constructor(private readonly source: { readonly logger?: Logger | undefined } | undefined) {}

  get logger(): Logger | undefined {
    return this.source?.logger;
  }
}

export function withDeferredLogger<T extends object>(
  source: { readonly logger?: Logger | undefined } | undefined,
  options: T,
): T & { readonly logger: Logger | undefined } {
  return Object.assign(new DeferredLogger(source), options);
}
