import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createApp } from './app.ts';
import { createClusterInvalidation, relayClusterInvalidations } from './cache/cluster-invalidation.ts';
import { createCarrierXClient } from './carrierx/client.ts';
import { type Config, ConfigError, loadConfig } from './config/index.ts';
import { createHttpServer } from './http/create-http-server.ts';
import { createLogger, type Logger } from './logger.ts';
import { startMetricsServer } from './observability/metrics.ts';
import { startTracing } from './observability/tracing.ts';

// The only file that listens. Everything it starts, it stops on SIGINT/SIGTERM. With WEB_CONCURRENCY above 1
// this process is a cluster primary: it runs the embedded simulator if there is one, forks the workers (each a
// whole server; the primary hands out connections) and stops them all on a signal.

interface Upstream {
  baseUrl: string;
  /** Set when the upstream is the embedded simulator (this process's, or a cluster primary's). */
  demoToken?: string;
  /** The embedded simulator serves its control API (SIMULATOR_CONTROL). */
  control?: boolean;
  close(): Promise<void>;
}

/** CARRIERX_BASE_URL, or the embedded simulator when it is unset. */
async function startUpstream(config: Config): Promise<Upstream> {
  const { baseUrl } = config.carrierx;
  if (baseUrl) {
    const { DEMO_TOKEN } = config.embeddedSimulatorWorker
      ? await import('./carrierx/simulator/tokens.ts')
      : { DEMO_TOKEN: undefined };
    return { baseUrl, ...(DEMO_TOKEN ? { demoToken: DEMO_TOKEN } : {}), close: async () => {} };
  }
  // Imported only when used: a production deployment never loads the simulator's data.
  const sim = await import('./carrierx/simulator/index.ts');
  const instance = sim.createSimulator({ control: config.simulator.control });
  return {
    baseUrl: await listenSimulator(instance, config.simulator.port),
    demoToken: sim.DEMO_TOKEN,
    control: config.simulator.control,
    close: () => instance.close(),
  };
}

/** The embedded simulator's default port: stable, so its URL can be bookmarked; `npm run simulator` uses it too. */
const DEFAULT_SIMULATOR_PORT = 4010;

/**
 * Listens on SIMULATOR_PORT, or on 4010 when it is unset. A taken default port (another `npm start`, a
 * standalone simulator) is no reason to refuse to start: a free port is used and the banner shows it. A port
 * the user asked for is not silently replaced.
 */
async function listenSimulator(
  instance: { listen(port?: number, host?: string): Promise<string> },
  port: number | undefined,
): Promise<string> {
  if (port !== undefined) {
    try {
      return await instance.listen(port, '127.0.0.1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      process.stderr.write(`SIMULATOR_PORT ${port} is in use; choose another, or 0 for any free port\n`);
      process.exit(1);
    }
  }
  try {
    return await instance.listen(DEFAULT_SIMULATOR_PORT, '127.0.0.1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return instance.listen(0, '127.0.0.1');
  }
}

function banner(config: Config, port: number, upstream: Upstream): string {
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost}:${port}/graphql`;
  const lines = [
    '',
    `  CarrierX CDR GraphQL is listening on ${url}`,
    config.graphiql
      ? `  GraphiQL:  open ${url} in a browser`
      : '  GraphiQL:  off (GRAPHIQL_ENABLED=true turns it on)',
    `  Health:    http://${shownHost}:${port}/health (readiness: /ready)`,
    ...(config.metricsPort === 0 ? [] : [`  Metrics:   http://${shownHost}:${config.metricsPort}/metrics`]),
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
function listeningFields(config: Config, port: number, upstream: Upstream) {
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return {
    url: `http://${shownHost}:${port}/graphql`,
    host: config.host,
    port,
    version: VERSION,
    upstream: upstream.baseUrl,
    workers: config.workers,
    graphiql: config.graphiql,
    corsOrigins: config.corsOrigins,
    limits: config.limits,
  };
}

/**
 * Each worker keeps its own in-process cache (no REDIS_URL) and the invalidation endpoint is on: invalidations
 * must be relayed to every worker. With Redis, every worker reads the one store an invalidation changes.
 */
function workerCachesNeedRelay(config: Config): boolean {
  return config.cache.ttlMs > 0 && !config.cache.redisUrl && config.cache.adminToken !== undefined;
}

/** One server: the whole app on one HTTP listener (the only process, or one cluster worker). */
async function runServer(config: Config, logger: Logger): Promise<void> {
  const upstream = await startUpstream(config);
  // Each process that serves requests exports its own spans (a cluster primary serves none).
  const tracing = await startTracing(config.tracing, logger);
  const client = createCarrierXClient({
    baseUrl: upstream.baseUrl,
    timeoutMs: config.carrierx.timeoutMs,
    includeFieldsParam: config.carrierx.includeFieldsParam,
    connections: config.carrierx.connections,
    http2: config.carrierx.http2,
    policies: config.carrierx.policies,
    logger,
  });
  // With REDIS_URL, every replica and worker shares one store; without, createApp keeps one in this process.
  // Imported only then: the redis client is ~600 modules, half of what a server without it loads at start.
  const cacheStore =
    config.cache.redisUrl && config.cache.ttlMs > 0
      ? (await import('./cache/redis-store.ts')).createRedisStore({
          url: config.cache.redisUrl,
          timeoutMs: config.cache.redisTimeoutMs,
          keyPrefix: config.cache.keyPrefix,
          logger,
        })
      : undefined;
  // A moment for the first connection, so the first requests already share entries; never longer than a
  // Redis command may take, and without Redis the server starts all the same.
  if (cacheStore) {
    await Promise.race([
      cacheStore.connected,
      new Promise((resolve) => setTimeout(resolve, config.cache.redisTimeoutMs).unref()),
    ]);
  }
  const app = createApp({
    config,
    client,
    logger,
    ...(cacheStore ? { cacheStore } : {}),
    // A worker's in-process cache is one of several: an invalidation goes through the primary to all of them.
    ...(cluster.isWorker && workerCachesNeedRelay(config)
      ? {
          spreadInvalidation: (dropLocal: (drSids: readonly string[]) => Promise<void>) =>
            createClusterInvalidation(process, dropLocal),
        }
      : {}),
    ...(upstream.demoToken ? { demoToken: upstream.demoToken } : {}),
  });
  const { server, drain, markReady } = createHttpServer(app, config);
  // A worker's metrics are served by its primary, summed over all workers.
  const metrics =
    config.metricsPort === 0
      ? undefined
      : startMetricsServer({
          port: config.metricsPort,
          host: config.host,
          cluster: cluster.isPrimary ? 'single' : 'worker',
          logger,
        });
  let stopping = false;
  server.on('error', (error: NodeJS.ErrnoException) => {
    // The commonest way a newcomer's start fails (a second `npm start`): say what to do, not a stack.
    if (error.code === 'EADDRINUSE') {
      fatal(
        logger,
        `port ${config.port} on ${config.host} is already in use (EADDRINUSE): stop the program that holds it, or set PORT to another port (PORT=0 picks any free one)`,
      );
    }
    fatal(logger, 'the HTTP server failed', error);
  });
  // The kernel queues connections not yet accepted up to the backlog; past it, a connect is dropped and the
  // client retries it 1, 3, 7 s later. Node's default of 511 is below HTTP_MAX_CONNECTIONS: a burst of 1,024
  // clients connecting to a busy process had hundreds of connects time out (bench 11b). The kernel caps it at
  // net.core.somaxconn.
  server.listen(
    { port: config.port, host: config.host, backlog: Math.max(511, config.http.maxConnections) },
    () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      markReady();
      // A worker's primary prints the banner (or the production `listening` line) once for all of them.
      if (config.production && cluster.isPrimary) {
        logger.info(listeningFields(config, port, upstream), 'listening');
        return;
      }
      if (cluster.isPrimary) process.stdout.write(banner(config, port, upstream));
      logger.info({ port, host: config.host, simulator: Boolean(upstream.demoToken) }, 'listening');
    },
  );

  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: stop now, without waiting for in-flight requests. Not in a worker: on Ctrl-C it gets
      // SIGINT from the terminal and SIGTERM from its primary, which does the hard stop on a second Ctrl-C.
      if (cluster.isPrimary) process.exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Stop accepting, let in-flight requests finish, then close the upstream pool and the simulator.
    // In-flight operations may take up to their deadline; give them that, and a little more, before giving up.
    const graceMs = config.limits.requestDeadlineMs + 5_000;
    setTimeout(
      () =>
        fatal(logger, `requests were still in flight ${graceMs} ms after ${signal}; exiting without them`),
      graceMs,
    ).unref();
    void drain()
      .then(async () => {
        await client.close();
        await cacheStore?.close?.();
        await upstream.close();
        metrics?.close();
        // The spans of the last requests are still in the batch: sent before the process goes.
        await tracing?.shutdown();
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => fatal(logger, 'shutting down failed', error));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

// A worker that dies this soon after it was forked counts towards a crash loop: this many such deaths within
// the window stop the service rather than fork forever. Deaths further apart (an OOM kill, an operator's
// kill) are replaced however many there are.
const EARLY_EXIT_MS = 10_000;
const MAX_EARLY_EXITS = 5;
const EARLY_EXIT_WINDOW_MS = 60_000;

/** The cluster primary: forks `config.workers` servers, replaces one that dies, stops them all on a signal. */
async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const upstream = await startUpstream(config);
  // Workers get the upstream this process settled on: every one of them talks to the same simulator.
  const workerEnv = {
    CARRIERX_BASE_URL: upstream.baseUrl,
    ...(upstream.demoToken ? { EMBEDDED_SIMULATOR_WORKER: 'true' } : {}),
  };
  const startedAt = new Map<Worker, number>();
  let stopping = false;
  let earlyExits: number[] = [];
  let listening = 0;
  let exitCode = 0;
  const finish = () =>
    void upstream
      .close()
      .catch((error: unknown) => logger.error({ err: error }, 'closing the upstream failed'))
      .finally(() => process.exit(exitCode));

  const fork = () => startedAt.set(cluster.fork(workerEnv), Date.now());
  if (workerCachesNeedRelay(config)) relayClusterInvalidations(cluster);
  if (config.metricsPort !== 0) {
    startMetricsServer({ port: config.metricsPort, host: config.host, cluster: 'primary', logger });
  }
  cluster.on('listening', (_worker, address) => {
    listening += 1;
    if (listening === config.workers) {
      if (config.production) {
        logger.info(listeningFields(config, address.port, upstream), 'listening');
        return;
      }
      process.stdout.write(banner(config, address.port, upstream));
      logger.info({ workers: config.workers, port: address.port }, 'all workers listening');
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    const started = startedAt.get(worker) ?? 0;
    startedAt.delete(worker);
    if (stopping) {
      if (startedAt.size === 0) finish();
      return;
    }
    const now = Date.now();
    if (now - started < EARLY_EXIT_MS) {
      earlyExits = [...earlyExits.filter((at) => now - at < EARLY_EXIT_WINDOW_MS), now];
      if (earlyExits.length >= MAX_EARLY_EXITS) {
        logger.fatal(
          { workerPid: worker.process.pid, code, signal, earlyExits: earlyExits.length },
          'workers keep exiting right after they start; giving up',
        );
        exitCode = 1;
        stopAll('crash loop');
        return;
      }
    }
    logger.error({ workerPid: worker.process.pid, code, signal }, 'worker exited; starting another');
    fork();
  });

  const stopAll = (reason: string) => {
    if (stopping) {
      // A second signal: stop now, without waiting for in-flight requests.
      for (const worker of startedAt.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.info({ reason }, 'stopping workers');
    // Each worker drains its own requests (up to the request deadline) before it exits.
    const graceMs = config.limits.requestDeadlineMs + 10_000;
    setTimeout(
      () => fatal(logger, `workers were still running ${graceMs} ms after ${reason}; exiting without them`),
      graceMs,
    ).unref();
    if (startedAt.size === 0) finish();
    for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
  };
  process.on('SIGINT', () => stopAll('SIGINT'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));

  for (let i = 0; i < config.workers; i++) fork();
}

/** In production, where stderr too carries only JSON lines: the logger for them (set once by main). */
let stderrJson: Logger | undefined;

/**
 * Logs a fatal error and exits 1. It also goes to stderr, whatever LOG_LEVEL says (even `silent`): a process
 * that stops must say why where an operator looks. As plain text in development, one JSON line in production.
 */
function fatal(logger: Logger, message: string, error?: unknown): never {
  if (error === undefined) logger.fatal(message);
  else logger.fatal({ err: error }, message);
  const reason =
    error instanceof Error ? `: ${error.message}` : error === undefined ? '' : `: ${String(error)}`;
  if (stderrJson) stderrJson.fatal(`${message}${reason}`);
  else process.stderr.write(`${message}${reason}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      if (error.production) {
        const names = error.problems.map((p) => p.variable).join(', ');
        createLogger({ destination: process.stderr }).fatal(
          { problems: error.problems },
          `invalid configuration: ${names}`,
        );
      } else process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (config.production) stderrJson = createLogger({ destination: process.stderr });
  // Human-readable lines for a developer at a terminal; JSON wherever a program reads them (and in production).
  const pretty = !config.production && process.stdout.isTTY === true;
  const logger = createLogger({ level: config.logLevel, pretty });
  try {
    if (cluster.isPrimary && config.workers > 1) await runPrimary(config, logger);
    else await runServer(config, logger);
  } catch (error) {
    fatal(logger, 'the server could not start', error);
  }
}

await main();
