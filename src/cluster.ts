import cluster, { type Worker } from 'node:cluster';
import { banner, listeningFields } from './banner.ts';
import type { Config } from './config/index.ts';
import { fatal, shutdownBoundMs, workerCachesNeedRelay } from './lifecycle.ts';
import { relayClusterInvalidations } from './records/cluster-invalidation.ts';
import type { Logger } from './telemetry/logger.ts';
import { startMetricsServer } from './telemetry/metrics.ts';
import { startUpstream } from './upstream.ts';

// With WEB_CONCURRENCY above 1 this process is a cluster primary: it runs the embedded simulator if there is
// one, forks the workers (each a whole server; the primary hands out connections), replaces those that die and
// stops them all on a signal.

// A worker that dies this soon after it was forked counts towards a crash loop: this many such deaths within
// the window stop the service rather than fork forever. Deaths further apart (an OOM kill, an operator's
// kill) are replaced however many there are.
const EARLY_EXIT_MS = 10_000;
const MAX_EARLY_EXITS = 5;
const EARLY_EXIT_WINDOW_MS = 60_000;

/** The cluster primary: forks `config.workers` servers, replaces one that dies, stops them all on a signal. */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
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
    startMetricsServer({ port: config.metricsPort, host: config.metricsHost, cluster: 'primary', logger });
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

  // Until then (after the first signal) the workers are in their SHUTDOWN_DELAY_MS: still serving.
  let delayEndsAt = 0;
  const stopAll = (reason: string) => {
    if (stopping) {
      // A second signal during the delay: each worker, signalled again, skips the rest of its delay and drains.
      if (Date.now() < delayEndsAt) {
        delayEndsAt = 0;
        for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
        return;
      }
      // A second signal while they drain: stop now, without waiting for in-flight requests.
      for (const worker of startedAt.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.info({ reason }, 'stopping workers');
    // Each worker waits SHUTDOWN_DELAY_MS itself (its /ready failing, the primary still handing it connections),
    // then drains its own requests (up to the request deadline) before it exits.
    const delayMs = config.http.shutdownDelayMs;
    delayEndsAt = Date.now() + delayMs;
    // A worker's own bound, and as long again as its margin for it to exit after that.
    const graceMs = shutdownBoundMs(config) + 5_000;
    setTimeout(
      () => fatal(logger, `workers were still running ${graceMs} ms after ${reason}; exiting without them`),
      graceMs,
    ).unref();
    if (startedAt.size === 0) finish();
    for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
  };
  process.on('SIGINT', () => stopAll('SIGINT'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));
  // An operator signals the primary, whose pid is the service's: each worker reloads its own persisted documents
  // (each also watches the manifests itself). Without manifests SIGHUP keeps its default, as in one process.
  if (config.persistedDocuments.paths.length > 0) {
    process.on('SIGHUP', () => {
      if (stopping) return;
      for (const worker of startedAt.keys()) worker.process.kill('SIGHUP');
    });
  }

  for (let i = 0; i < config.workers; i++) fork();
}
