import { readFileSync } from 'node:fs';
import type { Config } from './config/index.ts';
import { DEFAULT_SIMULATOR_PORT, type Upstream } from './upstream.ts';

// What a started server says about itself: the banner a developer reads at a terminal, and the same facts as
// log fields for production's JSON lines.

/** The lines a developer sees once the server (or every cluster worker) listens. */
export function banner(config: Config, port: number, upstream: Upstream): string {
  const shownHost = shown(config.host);
  const url = `http://${shownHost}:${port}/graphql`;
  const lines = [
    '',
    `  CarrierX CDR GraphQL is listening on ${url}`,
    config.graphiql
      ? `  GraphiQL:  open ${url} in a browser`
      : '  GraphiQL:  off (GRAPHIQL_ENABLED=true turns it on)',
    `  Health:    http://${shownHost}:${port}/health (readiness: /ready)`,
    ...(config.metricsPort === 0
      ? []
      : [`  Metrics:   http://${shown(config.metricsHost)}:${config.metricsPort}/metrics`]),
    upstream.demoToken
      ? `  Upstream:  the embedded CarrierX simulator at ${upstream.baseUrl} (CARRIERX_BASE_URL is not set)`
      : `  Upstream:  ${upstream.baseUrl}`,
    ...(upstream.demoToken && !config.embeddedSimulatorWorker
      ? [simulatorLine(upstream, config.simulator.port)]
      : []),
    `  CORS:      ${corsLine(config)}`,
    ...(config.workers > 1 ? [`  Workers:   ${config.workers} processes (WEB_CONCURRENCY)`] : []),
    ...(upstream.demoToken
      ? [`  Demo token: ${upstream.demoToken}  (send "Authorization: Bearer ${upstream.demoToken}")`]
      : []),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/** A host as a URL a developer can open: localhost for every interface. */
function shown(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/** Which browser pages on other origins may call, and the variable that changes it. */
function corsLine(config: Config): string {
  if (config.corsOrigins.includes('*')) return 'any origin (CORS_ORIGINS=*)';
  if (config.corsOrigins.length > 0) return `${config.corsOrigins.join(', ')} (CORS_ORIGINS)`;
  if (config.corsLoopback) {
    return 'pages on localhost, 127.0.0.1 and [::1] (any port), while on the simulator; CORS_ORIGINS lists others';
  }
  return 'no other origin (CORS_ORIGINS lists the ones allowed)';
}

/** Where the simulator's control API is, or how to turn it on; and why the port is not 4010 if it is not. */
function simulatorLine(upstream: Upstream, asked: number | undefined): string {
  const port = Number(new URL(upstream.baseUrl).port);
  const moved =
    asked === undefined && port !== DEFAULT_SIMULATOR_PORT
      ? ` (port ${DEFAULT_SIMULATOR_PORT} was taken; SIMULATOR_PORT picks one)`
      : '';
  return upstream.control
    ? `  Simulator: control API at ${new URL('/_simulator/', upstream.baseUrl).href}${moved}`
    : `  Simulator: control API off (SIMULATOR_CONTROL=true turns it on; see docs/simulator.md)${moved}`;
}

/** This service's version, for the production `listening` line. */
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The banner's facts as log fields: in production stdout carries only JSON lines, so a log collector can read
 * where the service listens, what it calls and within which limits, without parsing prose.
 */
export function listeningFields(config: Config, port: number, upstream: Upstream) {
  return {
    url: `http://${shown(config.host)}:${port}/graphql`,
    host: config.host,
    port,
    version: VERSION,
    upstream: upstream.baseUrl,
    workers: config.workers,
    graphiql: config.graphiql,
    corsOrigins: config.corsOrigins,
    limits: config.limits,
    /** Where records are cached: this process (memory), the shared Redis, or nowhere (CACHE_TTL_MS=0). */
    cache: config.cache.ttlMs === 0 ? 'off' : config.cache.redisUrl ? 'redis' : 'memory',
    /** Only documents from PERSISTED_DOCUMENTS run (PERSISTED_DOCUMENTS_ONLY). */
    persistedDocumentsOnly: config.persistedDocuments.only,
    /** How long /ready answers 503 before the server stops listening, on SIGTERM (SHUTDOWN_DELAY_MS). */
    shutdownDelayMs: config.http.shutdownDelayMs,
    /** Where Prometheus scrapes; off when METRICS_PORT=0. */
    metrics: config.metricsPort === 0 ? 'off' : { host: config.metricsHost, port: config.metricsPort },
  };
}
