import cluster from 'node:cluster';
import { banner, listeningFields } from './banner.ts';
import { carrierXClientFor } from './carrierx/client.ts';
import type { Config } from './config/index.ts';
import { createApp } from './graphql/app.ts';
import { createLivePersistedDocuments } from './graphql/persisted-documents.ts';
import { createHttpServer } from './http/create-http-server.ts';
import { createClusterInvalidation } from './records/cluster-invalidation.ts';
import type { Logger } from './telemetry/logger.ts';
import { startMetricsServer } from './telemetry/metrics.ts';
import { startTracing } from './telemetry/tracing.ts';
import { startUpstream } from './upstream.ts';

// One server's life: its parts (upstream, tracing, client, cache store, app), the HTTP listener, and on
// SIGINT/SIGTERM the drain that stops all it started. It is the only process, or one cluster worker.

/**
 * Each worker keeps its own in-process cache (no REDIS_URL) and the invalidation endpoint is on: invalidations
 * must be relayed to every worker. With Redis, every worker reads the one store an invalidation changes.
 */
export function workerCachesNeedRelay(config: Config): boolean {
  return config.cache.ttlMs > 0 && !config.cache.redisUrl && config.cache.adminToken !== undefined;
}

// Beyond a request's deadline, for what follows its end (its answer written, the pools closed) before a stop gives up.
const STOP_MARGIN_MS = 5_000;

/**
 * How long a stop may take, from its signal until the server gives up on requests still in flight: the drain
 * delay (SHUTDOWN_DELAY_MS), then up to a whole REQUEST_DEADLINE_MS for operations started just before it ended,
 * and a little more. What a deployment's grace period must exceed (deploy/, test/deploy.test.ts).
 */
export function shutdownBoundMs(config: Config): number {
  return config.http.shutdownDelayMs + config.limits.requestDeadlineMs + STOP_MARGIN_MS;
}

/** One server: the whole app on one HTTP listener (the only process, or one cluster worker). */
export async function runServer(config: Config, logger: Logger): Promise<void> {
  const upstream = await startUpstream(config);
  // Each process that serves requests exports its own spans (a cluster primary serves none).
  const tracing = await startTracing(config.tracing, logger);
  const client = carrierXClientFor(config.carrierx, upstream.baseUrl, logger);
  // With REDIS_URL, every replica and worker shares one store; without, createApp keeps one in this process.
  // Imported only then: the redis client is ~600 modules, half of what a server without it loads at start.
  const cacheStore =
    config.cache.redisUrl && config.cache.ttlMs > 0
      ? (await import('./records/redis-store.ts')).createRedisStore({
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
  // With REDIS_URL, one replica of the fleet polls each live feed and every replica reads what it delivers;
  // imported only then, as the cache's store is.
  const liveLedger = config.cache.redisUrl
    ? (await import('./live/redis-ledger.ts')).createRedisLedger({
        url: config.cache.redisUrl,
        timeoutMs: config.cache.redisTimeoutMs,
        keyPrefix: config.cache.keyPrefix,
        leaseMs: config.live.leaseMs,
        replayRecords: config.live.replayRecords,
        lookbackMs: config.live.lookbackMs,
        pageSize: config.live.pageSize,
        logger,
      })
    : undefined;
  // Reloaded without a restart (docs/frontend.md): on SIGHUP (a cluster primary passes it on to each worker),
  // and when a manifest's file changes.
  const persistedDocuments = createLivePersistedDocuments({ ...config.persistedDocuments, logger });
  const reloading = config.persistedDocuments.paths.length > 0;
  const stopWatching = reloading ? persistedDocuments.watch() : undefined;
  // Without manifests SIGHUP keeps its default (the process ends), as before there was anything to reload.
  if (reloading) process.on('SIGHUP', () => persistedDocuments.reload('SIGHUP'));
  const app = createApp({
    config,
    client,
    logger,
    persistedDocuments,
    ...(cacheStore ? { cacheStore } : {}),
    ...(liveLedger ? { liveLedger } : {}),
    // A worker's in-process cache is one of several: an invalidation goes through the primary to all of them.
    ...(cluster.isWorker && workerCachesNeedRelay(config)
      ? {
          spreadInvalidation: (dropLocal: (drSids: readonly string[]) => Promise<void>) =>
            createClusterInvalidation(process, dropLocal),
        }
      : {}),
    ...(upstream.demoToken ? { demoToken: upstream.demoToken } : {}),
  });
  const { server, drain, markReady, markStopping } = createHttpServer(app, config);
  // A worker's metrics are served by its primary, summed over all workers.
  const metrics =
    config.metricsPort === 0
      ? undefined
      : startMetricsServer({
          port: config.metricsPort,
          host: config.metricsHost,
          cluster: cluster.isPrimary ? 'single' : 'worker',
          logger,
        });
  let stopping = false;
  // While SHUTDOWN_DELAY_MS runs (after the first signal, before the drain): ends it early.
  let endDelay: (() => void) | undefined;
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
      // A second signal during the delay: drain now (an operator, or a primary passing on its second signal).
      if (endDelay) {
        endDelay();
        return;
      }
      // A second signal while draining: stop now, without waiting for in-flight requests. Not in a worker: on
      // Ctrl-C it gets SIGINT from the terminal and SIGTERM from its primary, which does the hard stop on a
      // second Ctrl-C.
      if (cluster.isPrimary) process.exit(1);
      return;
    }
    stopping = true;
    const delayMs = config.http.shutdownDelayMs;
    logger.info({ signal, delayMs }, 'shutting down');
    const graceMs = shutdownBoundMs(config);
    setTimeout(
      () =>
        fatal(logger, `requests were still in flight ${graceMs} ms after ${signal}; exiting without them`),
      graceMs,
    ).unref();
    // First /ready fails while the server still serves (each answer closing its connection), for as long as
    // a balancer takes to see it; only then does it stop accepting, which would otherwise refuse the
    // connections the balancer still sends and race the requests on its kept-alive ones.
    markStopping();
    const delayed = new Promise<void>((resolve) => {
      if (delayMs === 0) return resolve();
      const timer = setTimeout(resolve, delayMs);
      endDelay = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    void delayed
      .then(() => {
        endDelay = undefined;
        // Stop accepting, let in-flight requests finish, then close the upstream pool and the simulator.
        return drain();
      })
      .then(async () => {
        stopWatching?.();
        await client.close();
        await cacheStore?.close?.();
        // After the drain closed the feed: each feed's lease is released, for another replica to take at once.
        await liveLedger?.close();
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

/** In production, where stderr too carries only JSON lines: the logger for them (set once, by fatalAsJson). */
let stderrJson: Logger | undefined;

/** From now on fatal() writes its stderr line as JSON through this logger (production). */
export function fatalAsJson(logger: Logger): void {
  stderrJson = logger;
}

/**
 * Logs a fatal error and exits 1. It also goes to stderr, whatever LOG_LEVEL says (even `silent`): a process
 * that stops must say why where an operator looks. As plain text in development, one JSON line in production.
 */
export function fatal(logger: Logger, message: string, error?: unknown): never {
  if (error === undefined) logger.fatal(message);
  else logger.fatal({ err: error }, message);
  const reason =
    error instanceof Error ? `: ${error.message}` : error === undefined ? '' : `: ${String(error)}`;
  if (stderrJson) stderrJson.fatal(`${message}${reason}`);
  else process.stderr.write(`${message}${reason}\n`);
  process.exit(1);
}
