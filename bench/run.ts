import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { type RedisServer, startRedisServer } from '../test/helpers/redis-server.ts';
import { createCpuMeter, createForeignProcessTracker } from './cpu.ts';
import { type FairnessResult, measureFairness } from './fairness.ts';
import { type LoadResult, type LoadSpec, type RequestSpec, runLoad } from './load.ts';
import { describeMachine, pinProcess, readAllowedCpus, readPeakRssBytes, readRssBytes } from './machine.ts';
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.ts';
import { createProcessGroup, freePort, type ManagedProcess, waitForHttp } from './processes.ts';
import {
  type BenchReport,
  type CacheMeasure,
  compareWithReference,
  evaluateTargets,
  renderMarkdown,
  renderSummary,
  rollTargets,
  type ScenarioResult,
  type ServerLogKind,
  type SoakResult,
  startupTargets,
} from './report.ts';
import { killRollNow, measureRoll, type RollResult } from './roll.ts';
import {
  AUTHORIZATION,
  createScenarios,
  SAMPLE_DR_SID,
  SCENARIO_11_LATENCY_MS,
  type Scenario,
  type ScenarioTarget,
  soakScenario,
} from './scenarios.ts';
import { prepareSource, type Source } from './source.ts';
import { measureStartup } from './startup.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const MAX_SERVER_LOG_KINDS = 20;
/**
 * Scenario 8e sends a fixed number of operations, each with a credential primed beforehand: this many per
 * second of --warmup and --duration (about what a partial hit reaches on a quiet 2-core machine).
 */
const PRIMED_OPS_PER_SECOND = 2000;
/**
 * How long each process may take to answer after it starts. Five processes compiling through tsx on one core
 * of this shared machine (load ≈ 16) were not all ready in waitForHttp's default 30 s, twice.
 */
const STARTUP_TIMEOUT_MS = 120_000;
/** The Redis server scenarios 8c and 8d read from; stopped however the benchmark ends. */
let redisServer: RedisServer | undefined;

/** A loopback HTTP exchange with a deadline; the benchmark's only fetch besides autocannon. */
async function exchange(
  url: string,
  signal: AbortSignal,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    ...init,
    signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
  });
  return { status: response.status, text: await response.text() };
}

/** The running processes and where each one listens. */
interface Stack {
  upstream: ManagedProcess;
  floor: ManagedProcess;
  reference: ManagedProcess;
  server: ManagedProcess;
  /** The same server with the CDR cache on (the default of npm start): scenarios 8a, 8b and 8e. */
  cached: ManagedProcess;
  /** The same server with the cache in Redis (REDIS_URL) and no in-process layer: scenarios 8c and 8d. */
  redis: ManagedProcess;
  upstreamOrigin: string;
  floorOrigin: string;
  referenceOrigin: string;
  serverOrigin: string;
  cachedOrigin: string;
  redisOrigin: string;
  cores: { upstream: number; server: number; runner: number } | undefined;
}

/**
 * Counts the servers' log lines at warn level and above (and anything on their stderr), grouped by message;
 * lines of any server but the first are marked with its name.
 */
function watchServerLog(...servers: ManagedProcess[]) {
  const kinds = new Map<string, ServerLogKind>();
  let count = 0;
  const onLine = (server: ManagedProcess, line: string, stream: 'stdout' | 'stderr') => {
    if (line.trim() === '') return;
    let entry: { level?: unknown; msg?: unknown; err?: { message?: unknown; name?: unknown } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // Not a log line: on stdout the startup banner, on stderr always worth reporting.
      if (stream === 'stdout') return;
      entry = { level: 50, msg: line.slice(0, 200) };
    }
    const level = Number(entry.level) || 0;
    if (level < 40) return;
    count += 1;
    const message =
      (server === servers[0] ? '' : `[${server.name}] `) +
      [...new Set([entry.msg, entry.err?.message ?? entry.err?.name])].filter(Boolean).join(': ');
    const key = `${level} ${message}`;
    const kind = kinds.get(key);
    if (kind) kind.count += 1;
    else if (kinds.size < MAX_SERVER_LOG_KINDS)
      kinds.set(key, { level, message, count: 1, example: line.slice(0, 500) });
  };
  for (const server of servers) server.onLine = (line, stream) => onLine(server, line, stream);
  return { kinds: () => [...kinds.values()], count: () => count };
}

/**
 * Scenario 9a's OTLP/HTTP receiver: answers every export with an empty success (a valid protobuf
 * ExportTraceServiceResponse) and counts requests and bytes, so the traced server pays for encoding and sending
 * its spans but not for a collector's slowness.
 */
async function startSpanSink() {
  const counts = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      counts.bytes += chunk.length;
    });
    req.on('end', () => {
      counts.requests += 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return counts.requests;
    },
    get bytes() {
      return counts.bytes;
    },
  };
}

/** Problems a load run shows: anything but 200s with the expected body. */
function loadProblems(result: LoadResult, phase: string): string[] {
  const problems: string[] = [];
  if (result.ok === 0) problems.push(`${phase}: no successful response`);
  if (result.non2xx) problems.push(`${phase}: ${result.non2xx} non-2xx responses`);
  if (result.errors) problems.push(`${phase}: ${result.errors} connection errors`);
  if (result.timeouts) problems.push(`${phase}: ${result.timeouts} timeouts`);
  if (result.mismatches) {
    const example = result.badBodies[0] === undefined ? '' : `, e.g. ${result.badBodies[0]}`;
    problems.push(
      `${phase}: ${result.mismatches} of ${result.completed} responses with errors or the wrong body${example}`,
    );
  }
  return problems;
}

async function main(
  options: BenchOptions,
  signal: AbortSignal,
  group: ReturnType<typeof createProcessGroup>,
  source: Source,
) {
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const layout: string[] = [];
  const notes: string[] = [];
  const say = (line: string) => process.stdout.write(`${line}\n`);

  // Where everything runs. The server and the floor simulator share one core (never loaded together); the
  // upstream simulator and autocannon share another unless a third core exists.
  const allowed = readAllowedCpus();
  let cores: Stack['cores'];
  if (!allowed) {
    layout.push('taskset is not available: nothing is pinned, so processes compete for every core.');
  } else if (allowed.length < 2) {
    layout.push(`Only CPU ${allowed.join(',')} is available: nothing is pinned.`);
  } else {
    cores = {
      upstream: allowed[0] as number,
      server: allowed[1] as number,
      runner: (allowed[2] ?? allowed[0]) as number,
    };
    pinProcess(process.pid, cores.runner);
  }

  const [upstreamPort, floorPort, referencePort, serverPort, cachedPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // The cached servers' metrics listeners (for their cache lookups), and the Redis one's API port.
  const [cachedMetricsPort, redisCachedPort, redisMetricsPort, serverMetricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const baseEnv: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) baseEnv[name] = value;
  }
  const simulatorEnv = (port: number) => ({
    ...baseEnv,
    SIMULATOR_PORT: String(port),
    SIMULATOR_HOST: '127.0.0.1',
    SIMULATOR_CONTROL: '1',
  });
  // The same files spelt `src/./server.ts`: other sessions on this machine stop *their* servers with
  // `pkill -f src/server.ts`, which must not stop the benchmark's (it did, mid-run, more than once).
  const simulatorArgs = ['--import', 'tsx', 'src/carrierx/simulator/./main.ts'];
  const serverEnv = {
    ...baseEnv,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    // The scenarios measure the GraphQL layer over CarrierX: with the CDR cache on (its default), every
    // repeat of one request would be a cache hit and the upstream targets meaningless. `--server-env
    // CACHE_TTL_MS=60000` measures the cache instead (see bench/README.md).
    CACHE_TTL_MS: '0',
    // Not the default 9464, which another server on the machine may hold.
    METRICS_PORT: String(serverMetricsPort),
    ...options.serverEnv,
    PORT: String(serverPort),
    HOST: '127.0.0.1',
    CARRIERX_BASE_URL: `http://127.0.0.1:${upstreamPort}/core/v2`,
  };
  // The server runs compiled, as `npm start` and the image run it: built here from the code under test, and
  // spelt `dist/./server.js` for the same reason as the simulators' path above.
  execFileSync(process.execPath, ['scripts/build.mjs'], {
    cwd: source.dir,
    stdio: 'inherit',
    timeout: 120_000,
  });
  const serverArgs = ['--enable-source-maps', 'dist/./server.js'];
  // Measured first, while none of the benchmark's other processes run: start to /ready and idle memory.
  const startup = await measureStartup({
    args: serverArgs,
    cwd: source.dir,
    env: serverEnv,
    runs: options.quick ? 3 : 5,
    signal,
    ...(cores ? { cpu: cores.server } : {}),
  });
  say(
    `Start to /ready: ${startup.medianStartMs.toFixed(0)} ms; idle RSS ${(startup.medianIdleRssBytes / 2 ** 20).toFixed(1)} MB (median of ${startup.runs})${startup.problems.length ? `; ${startup.problems.join('; ')}` : ''}`,
  );
  /** A simulator on `port`, pinned to `cpu` when there are cores to pin to. */
  const startSimulator = (name: string, port: number, cpu: number | undefined) =>
    group.start({
      name,
      args: simulatorArgs,
      env: simulatorEnv(port),
      cwd: source.dir,
      ...(cpu === undefined ? {} : { cpu }),
    });
  const upstream = startSimulator('upstream simulator', upstreamPort, cores?.upstream);
  const floor = startSimulator('floor simulator', floorPort, cores?.server);
  const reference = group.start({
    name: 'reference layer',
    args: ['--import', 'tsx', 'bench/reference-proxy.ts'],
    env: {
      ...baseEnv,
      PORT: String(referencePort),
      UPSTREAM_BASE_URL: serverEnv.CARRIERX_BASE_URL,
      CONNECTIONS: options.serverEnv.CARRIERX_CONNECTIONS ?? '64',
    },
    cwd: source.dir,
    ...(cores ? { cpu: cores.server } : {}),
  });
  // A cluster's workers inherit the primary's CPU: pinned, they would all share one core.
  const workers = Number(options.serverEnv.WEB_CONCURRENCY ?? 1);
  const clustered = workers > 1;
  /** A server process of the compiled build with `env`, on the server's core (a cluster left unpinned). */
  const startServer = (name: string, env: Record<string, string>) =>
    group.start({
      name,
      args: serverArgs,
      env,
      cwd: source.dir,
      ...(cores && !clustered ? { cpu: cores.server } : {}),
    });
  const server = startServer('server', serverEnv);
  // The cached server: the same files and options, the cache at its default (on, in-process), on the server's
  // core and loaded only while the others there idle, like the floor and the reference layer.
  const { CACHE_TTL_MS: _off, ...cachedEnv } = serverEnv;
  const cached = startServer('cached server', {
    ...cachedEnv,
    PORT: String(cachedPort),
    METRICS_PORT: String(cachedMetricsPort),
  });
  await Promise.all([
    waitForHttp(`http://127.0.0.1:${upstreamPort}/_simulator/stats`, upstream, signal, STARTUP_TIMEOUT_MS),
    waitForHttp(`http://127.0.0.1:${floorPort}/_simulator/stats`, floor, signal, STARTUP_TIMEOUT_MS),
    waitForHttp(`http://127.0.0.1:${serverPort}/health`, server, signal, STARTUP_TIMEOUT_MS),
    waitForHttp(`http://127.0.0.1:${cachedPort}/health`, cached, signal, STARTUP_TIMEOUT_MS),
    waitForHttp(`http://127.0.0.1:${referencePort}/health`, reference, signal, STARTUP_TIMEOUT_MS),
  ]);
  // A real redis-server, persistence off, beside the upstream simulator (a backend, like it); and a third server
  // that keeps its cache there, with no in-process layer: every lookup is a Redis round trip.
  redisServer = await startRedisServer(cores ? { cpu: cores.upstream } : {});
  const redis = startServer('Redis-cached server', {
    ...cachedEnv,
    PORT: String(redisCachedPort),
    METRICS_PORT: String(redisMetricsPort),
    REDIS_URL: redisServer.url,
    // Required in production with REDIS_URL.
    CACHE_KEY_SECRET: randomBytes(32).toString('hex'),
  });
  const stack: Stack = {
    upstream,
    floor,
    reference,
    server,
    cached,
    redis,
    upstreamOrigin: `http://127.0.0.1:${upstreamPort}`,
    floorOrigin: `http://127.0.0.1:${floorPort}`,
    referenceOrigin: `http://127.0.0.1:${referencePort}`,
    serverOrigin: `http://127.0.0.1:${serverPort}`,
    cachedOrigin: `http://127.0.0.1:${cachedPort}`,
    redisOrigin: `http://127.0.0.1:${redisCachedPort}`,
    cores,
  };
  const serverLog = watchServerLog(server, cached, redis);
  // Scenarios 9a and 9b's servers, started once the others are up (two more servers starting at once on the
  // server's core took longer than a start may), and only when their scenarios run.
  const wanted = (key: string) => !options.only || options.only.includes(key);
  // Scenario 9a's server: tracing on (OTLP over HTTP/protobuf, the default protocol), every trace sampled,
  // exporting to a sink in this process that only counts what arrives; the rest as the server.
  const sink = await startSpanSink();
  const [tracedPort, tracedMetricsPort, unmeteredPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const traced = !wanted('9a')
    ? undefined
    : startServer('traced server', {
        ...serverEnv,
        PORT: String(tracedPort),
        // Its own metrics listener (the server holds its port), so that only tracing differs from the server.
        METRICS_PORT: String(tracedMetricsPort),
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_TRACES_SAMPLER: 'always_on',
      });
  // Scenario 9b's server: metrics off, the rest as the server.
  const unmetered = !wanted('9b')
    ? undefined
    : startServer('server without metrics', { ...serverEnv, PORT: String(unmeteredPort), METRICS_PORT: '0' });
  const tracedOrigin = `http://127.0.0.1:${tracedPort}`;
  const unmeteredOrigin = `http://127.0.0.1:${unmeteredPort}`;
  await Promise.all([
    traced && waitForHttp(`${tracedOrigin}/health`, traced, signal),
    unmetered && waitForHttp(`${unmeteredOrigin}/health`, unmetered, signal),
  ]);
  // Scenarios 11 and 11b: a second upstream simulator answering after SCENARIO_11_LATENCY_MS, and a second server
  // (the same files and settings) calling it, so that scenario 3 and 11 come from one run. Pinned like their
  // twins; started only when an 11 runs. HTTP_MAX_CONNECTIONS leaves room for 11b's 1,024 connections plus the
  // sampled requests' keep-alive connection. Started once the others are up: on a busy machine, five processes
  // starting at once on the server's core took longer than the readiness wait.
  const latencyWanted = !options.only || options.only.some((key) => key.startsWith('11'));
  const latencyUpstreamPort = latencyWanted ? await freePort() : 0;
  const latencyPort = latencyWanted ? await freePort() : 0;
  const latencyUpstream = latencyWanted
    ? startSimulator('latency upstream simulator', latencyUpstreamPort, cores?.upstream)
    : undefined;
  const latencyServer = latencyWanted
    ? startServer('latency server', {
        ...serverEnv,
        HTTP_MAX_CONNECTIONS: '2048',
        PORT: String(latencyPort),
        CARRIERX_BASE_URL: `http://127.0.0.1:${latencyUpstreamPort}/core/v2`,
      })
    : undefined;
  const latencyUpstreamOrigin = `http://127.0.0.1:${latencyUpstreamPort}`;
  const latencyOrigin = `http://127.0.0.1:${latencyPort}`;
  if (latencyUpstream && latencyServer) {
    await Promise.all([
      waitForHttp(`${latencyUpstreamOrigin}/_simulator/stats`, latencyUpstream, signal),
      waitForHttp(`${latencyOrigin}/health`, latencyServer, signal),
    ]);
  }
  // Scenario 12: a server of its own (the same files and settings, the CDR cache off), so that a second
  // credential's 429s and slow calls move only its adaptive limit, over an upstream simulator of its own, so
  // that its fault rules come first in that simulator's list. Pinned like their twins; started only when 12 runs.
  const fairWanted = wanted('12');
  const [fairUpstreamPort, fairPort, fairMetricsPort] = fairWanted
    ? [await freePort(), await freePort(), await freePort()]
    : [0, 0, 0];
  const fairUpstream = fairWanted
    ? startSimulator('two-credential upstream simulator', fairUpstreamPort, cores?.upstream)
    : undefined;
  const fairServer = fairWanted
    ? startServer('two-credential server', {
        ...serverEnv,
        PORT: String(fairPort),
        METRICS_PORT: String(fairMetricsPort),
        CARRIERX_BASE_URL: `http://127.0.0.1:${fairUpstreamPort}/core/v2`,
      })
    : undefined;
  const fairUpstreamOrigin = `http://127.0.0.1:${fairUpstreamPort}`;
  const fairOrigin = `http://127.0.0.1:${fairPort}`;
  if (fairUpstream && fairServer) {
    await Promise.all([
      waitForHttp(`${fairUpstreamOrigin}/_simulator/stats`, fairUpstream, signal),
      waitForHttp(`${fairOrigin}/health`, fairServer, signal),
    ]);
  }
  // Started once the others are up, so that fewer processes start at once on the server's core.
  await waitForHttp(`${stack.redisOrigin}/health`, redis, signal, STARTUP_TIMEOUT_MS);
  // Scenario 13's HAProxy listens here; it and its replicas start only when 13 runs (bench/roll.ts).
  const rollFrontPort = wanted('13') ? await freePort() : 0;
  const rollOrigin = `http://127.0.0.1:${rollFrontPort}`;

  if (cores) {
    layout.push(
      `Pinned with taskset: upstream simulator (pid ${upstream.pid}) on CPU ${cores.upstream}; server (pid ${server.pid}) on CPU ${cores.server}; floor simulator (pid ${floor.pid}) and reference layer (pid ${reference.pid}) also on CPU ${cores.server}, each loaded only while the other processes there idle; this process (autocannon, pid ${process.pid}) on CPU ${cores.runner}.`,
    );
    if (cores.runner === cores.upstream) {
      layout.push(
        `With ${allowed?.length} CPUs there is no third core: autocannon shares CPU ${cores.upstream} with the upstream simulator, so the measured process always has CPU ${cores.server} to itself.`,
      );
    }
  }
  say(
    source.exported
      ? `Code under test: commit ${source.commit} exported to ${source.dir}.`
      : `Code under test: the working tree (${source.commit}${source.dirtyFiles ? ` + ${source.dirtyFiles} uncommitted paths` : ''}).`,
  );
  layout.push(
    `Server: \`node --enable-source-maps dist/./server.js\` (the compiled build of src/server.ts, \`npm run build\`; spelt so that another session's \`pkill -f dist/server.js\` misses it) with NODE_ENV=production LOG_LEVEL=warn HOST=127.0.0.1 PORT=${serverPort} CARRIERX_BASE_URL=${serverEnv.CARRIERX_BASE_URL}${Object.entries(
      options.serverEnv,
    )
      .map(([key, value]) => ` ${key}=${value}`)
      .join('')}.`,
    'Simulators: `node --import tsx src/carrierx/simulator/./main.ts` with SIMULATOR_CONTROL=1.',
    clustered
      ? `Cluster: WEB_CONCURRENCY=${workers}. The server and its workers are not pinned (pinned, every worker would inherit one CPU): they compete with the upstream simulator and autocannon for every core, so compare its req/s, not its per-core figures, with a pinned run. Its CPU and RSS are the primary's plus its workers'.`
      : 'Cluster (WEB_CONCURRENCY): not in this run; `--server-env WEB_CONCURRENCY=2` measures it.',
  );
  layout.push(
    `Cached servers (8a–8e): the same command and options with the CDR cache at its default (on): one in-process (pid ${cached.pid}, 8a, 8b, 8e), one with REDIS_URL and no in-process layer (pid ${redis.pid}, 8c, 8d), both on the server's CPU like the floor and the reference layer. Their redis-server (pid ${redisServer.pid}, no persistence) runs ${cores ? `on CPU ${cores.upstream}, beside the upstream simulator` : 'unpinned'}.`,
  );
  for (const line of layout) say(line);

  const control = async (origin: string, path: string, method: string, body?: unknown) => {
    const reply = await exchange(`${origin}/_simulator/${path}`, signal, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (reply.status >= 300)
      throw new Error(`${method} /_simulator/${path} answered ${reply.status}: ${reply.text}`);
    return reply.text ? (JSON.parse(reply.text) as unknown) : undefined;
  };
  if (fairUpstream && fairServer) {
    layout.push(
      `Scenario 12: a server (pid ${fairServer.pid}, the same command and settings, its own metrics port) on the server's core, over an upstream simulator of its own (pid ${fairUpstream.pid}) on the upstream's core; both idle while the other scenarios run. Its phases and fault rules: bench/README.md.`,
    );
  }
  const stats = async (origin: string) =>
    (await control(origin, 'stats', 'GET')) as { requests: number; bytesSent: number };

  if (options.upstreamLatencyMs > 0) {
    // A global rule (no match, no times): every CDR response of both simulators waits this long.
    for (const origin of [stack.upstreamOrigin, stack.floorOrigin]) {
      await control(origin, 'faults', 'POST', { latencyMs: options.upstreamLatencyMs });
    }
    layout.push(
      `Both simulators delay every response by ${options.upstreamLatencyMs} ms (global latency fault rule).`,
    );
  }

  if (latencyUpstream && latencyServer) {
    await control(latencyUpstreamOrigin, 'faults', 'POST', {
      latencyMs: SCENARIO_11_LATENCY_MS + options.upstreamLatencyMs,
    });
    layout.push(
      `Scenarios 11 and 11b: a second server (pid ${latencyServer.pid}, the same command and settings plus HTTP_MAX_CONNECTIONS=2048) on the server's core, over a second upstream simulator (pid ${latencyUpstream.pid}) on the upstream's core that delays every response by ${SCENARIO_11_LATENCY_MS + options.upstreamLatencyMs} ms; both idle while the other scenarios run.`,
    );
  }

  const list = await exchange(`${stack.upstreamOrigin}/core/v2/calls/call_drs?limit=10`, signal, {
    headers: { authorization: AUTHORIZATION },
  });
  const items =
    list.status === 200 ? ((JSON.parse(list.text) as { items?: { dr_sid?: unknown }[] }).items ?? []) : [];
  const sids = [
    ...new Set(items.map((item) => item.dr_sid).filter((sid): sid is string => typeof sid === 'string')),
  ];
  if (sids.length !== 10) {
    throw new Error(
      `The simulator's list endpoint gave ${sids.length} distinct SIDs (status ${list.status}), need 10`,
    );
  }
  const scenarios = createScenarios(options.connections, sids);
  const unknown = options.only?.filter((key) => !scenarios.some((scenario) => scenario.key === key)) ?? [];
  if (unknown.length) throw new Error(`--only: no scenario ${unknown.join(', ')}`);
  const meter = createCpuMeter(
    [
      { pid: upstream.pid, core: cores?.upstream },
      { pid: floor.pid, core: cores?.server },
      { pid: reference.pid, core: cores?.server },
      { pid: server.pid, core: clustered ? undefined : cores?.server },
      { pid: cached.pid, core: clustered ? undefined : cores?.server },
      ...[traced, unmetered]
        .filter((one) => one !== undefined)
        .map((one) => ({ pid: one.pid, core: clustered ? undefined : cores?.server })),
      ...(latencyUpstream ? [{ pid: latencyUpstream.pid, core: cores?.upstream }] : []),
      ...(latencyServer ? [{ pid: latencyServer.pid, core: clustered ? undefined : cores?.server }] : []),
      ...(fairUpstream ? [{ pid: fairUpstream.pid, core: cores?.upstream }] : []),
      ...(fairServer ? [{ pid: fairServer.pid, core: clustered ? undefined : cores?.server }] : []),
      { pid: redis.pid, core: clustered ? undefined : cores?.server },
      { pid: redisServer.pid, core: cores?.upstream },
    ],
    cores?.runner,
  );
  const foreign = createForeignProcessTracker(
    () =>
      new Set([
        process.pid,
        process.ppid,
        upstream.pid,
        floor.pid,
        reference.pid,
        server.pid,
        cached.pid,
        ...(traced ? [traced.pid] : []),
        ...(unmetered ? [unmetered.pid] : []),
        ...(latencyUpstream ? [latencyUpstream.pid] : []),
        ...(latencyServer ? [latencyServer.pid] : []),
        ...(fairUpstream ? [fairUpstream.pid] : []),
        ...(fairServer ? [fairServer.pid] : []),
        redis.pid,
        redisServer?.pid ?? 0,
      ]),
  );

  const originOf = {
    floor: stack.floorOrigin,
    reference: stack.referenceOrigin,
    server: stack.serverOrigin,
    cached: stack.cachedOrigin,
    traced: tracedOrigin,
    unmetered: unmeteredOrigin,
    latency: latencyOrigin,
    redis: stack.redisOrigin,
    fair: fairOrigin,
    roll: rollOrigin,
  } as const;
  const requestFor = (scenario: Scenario, authorization = AUTHORIZATION): RequestSpec => ({
    url: `${originOf[scenario.target]}${scenario.path}`,
    method: scenario.method,
    headers: {
      authorization,
      accept: 'application/json',
      ...(scenario.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(scenario.body === undefined ? {} : { body: scenario.body }),
  });

  /** One request, fully checked; returns its body size or throws with what is wrong. */
  const sample = async (scenario: Scenario, authorization?: string): Promise<number> => {
    const request = requestFor(scenario, authorization);
    const reply = await exchange(request.url, signal, request);
    if (reply.status !== 200) throw new Error(`status ${reply.status}: ${reply.text.slice(0, 300)}`);
    let body: unknown;
    try {
      body = JSON.parse(reply.text);
    } catch {
      throw new Error(`not JSON: ${reply.text.slice(0, 300)}`);
    }
    const problem = scenario.validate(body);
    if (problem) throw new Error(problem);
    if (!scenario.verifyBody(reply.text)) throw new Error('the body fails the under-load check');
    return Buffer.byteLength(reply.text);
  };

  /** Reads the upstream counters once they stop moving (requests in flight at the end still land), ≤ 3 s. */
  const settledStats = async (origin: string) => {
    let last = await stats(origin);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      await sleep(100, undefined, { signal });
      const next = await stats(origin);
      if (next.requests === last.requests && next.bytesSent === last.bytesSent) return next;
      last = next;
    }
    return last;
  };

  /** Discarded load; returns once the operations it left in flight have finished upstream too. */
  const warm = async (
    scenario: Scenario,
    upstreamOrigin: string,
    problems: string[],
    perOperation: Partial<LoadSpec> = {},
  ) => {
    if (options.warmup <= 0) return;
    const warmup = await runLoad(
      {
        ...requestFor(scenario),
        connections: scenario.connections,
        seconds: options.warmup,
        verifyBody: scenario.verifyBody,
        ...perOperation,
      },
      signal,
    );
    signal.throwIfAborted();
    problems.push(...loadProblems(warmup, 'warm-up'));
    await settledStats(upstreamOrigin);
  };

  // What the cached servers' caches do: their lookups by result, and the Redis commands they send.
  const metricsOriginOf: Partial<Record<ScenarioTarget, string>> = {
    cached: `http://127.0.0.1:${cachedMetricsPort}`,
    redis: `http://127.0.0.1:${redisMetricsPort}`,
  };
  const cacheLookups = async (origin: string): Promise<Record<string, number>> => {
    const reply = await exchange(`${origin}/metrics`, signal);
    if (reply.status !== 200) throw new Error(`${origin}/metrics answered ${reply.status}`);
    const counts: Record<string, number> = {};
    for (const match of reply.text.matchAll(/^cdr_cache_lookups_total\{result="(\w+)"\} (\S+)$/gm)) {
      counts[match[1] as string] = Number(match[2]);
    }
    return counts;
  };
  const redisClient = createClient({ url: redisServer.url });
  await redisClient.connect();
  /** Commands Redis has run so far, INFO (this benchmark's own) left out. */
  const redisCommands = async () => {
    const text = String(await redisClient.info('commandstats'));
    let total = 0;
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (match[1] !== 'info') total += Number(match[2]);
    }
    return total;
  };

  // Scenario 8e's credentials: Basic with a user name of their own and the demo token as the password, which
  // CarrierX (and the simulator) accept whatever the user name; each is a credential, so an entry, of its own.
  const demoToken = AUTHORIZATION.slice('Bearer '.length);
  const runTag = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  let credentials = 0;
  /** `count` new credentials, each with an entry primed by `scenario.primeEach`'s request. */
  const prime = async (scenario: Scenario, count: number): Promise<string[]> => {
    const body = scenario.primeEach?.body;
    if (body === undefined) throw new Error(`scenario ${scenario.key} has nothing to prime`);
    const primed = Array.from(
      { length: count },
      () => `Basic ${Buffer.from(`bench-${runTag}-${credentials++}:${demoToken}`).toString('base64')}`,
    );
    let next = 0;
    const primeSome = async () => {
      while (next < primed.length) {
        const authorization = primed[next++] as string;
        const reply = await exchange(`${originOf[scenario.target]}${scenario.path}`, signal, {
          method: 'POST',
          headers: { authorization, accept: 'application/json', 'content-type': 'application/json' },
          body,
        });
        if (reply.status !== 200 || !reply.text.startsWith('{"data":{"callDetailRecord":{')) {
          throw new Error(
            `priming scenario ${scenario.key}: status ${reply.status}: ${reply.text.slice(0, 300)}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, primeSome));
    return primed;
  };
  /** The load options that give each operation one of `count` primed credentials, and a check they sufficed. */
  const primedLoad = async (scenario: Scenario, count: number) => {
    // autocannon may build a request or two per connection that it never sends: prime a few spare.
    const pool = await prime(scenario, count + 2 * scenario.connections);
    let taken = 0;
    return {
      spec: {
        amount: count,
        nextAuthorization: () => pool[Math.min(taken++, pool.length - 1)] as string,
      } satisfies Partial<LoadSpec>,
      exhausted: () => taken > pool.length,
    };
  };

  const results: ScenarioResult[] = [];
  let fairness: FairnessResult | undefined;
  let roll: RollResult | undefined;
  let soak: SoakResult | undefined;
  let aborted: string | undefined;
  const measureAll = async () => {
    for (const scenario of scenarios) {
      if (options.only && !options.only.includes(scenario.key)) continue;
      if (scenario.target === 'fair') {
        if (!fairServer) throw new Error(`scenario ${scenario.key}: its server was not started`);
        say(`\n[${scenario.key}] ${scenario.title}, ${scenario.connections} connection(s)`);
        fairness = await measureFairness({
          scenario,
          request: (authorization) => requestFor(scenario, authorization),
          sample: () => sample(scenario),
          control: (path, method, body) => control(fairUpstreamOrigin, path, method, body),
          measureCpu: () => {
            const before = meter.start();
            return () => meter.stop(before, fairServer.pid);
          },
          metricsOrigin: `http://127.0.0.1:${fairMetricsPort}`,
          baseRules: options.upstreamLatencyMs > 0 ? [{ latencyMs: options.upstreamLatencyMs }] : [],
          warmupSeconds: options.warmup,
          durationSeconds: options.duration,
          signal,
          say,
        });
        if (fairness.problems.length) say(`    FAILED: ${fairness.problems.join('; ')}`);
        continue;
      }
      if (scenario.target === 'roll') {
        if (!redisServer) throw new Error(`scenario ${scenario.key}: its redis-server was not started`);
        say(`\n[${scenario.key}] ${scenario.title}, ${scenario.connections} connection(s)`);
        roll = await measureRoll({
          scenario,
          request: requestFor(scenario),
          frontPort: rollFrontPort,
          serverArgs,
          cwd: source.dir,
          // The cache at its default (on), as users run replicas; roll.ts sets ports, Redis and the rest.
          env: cachedEnv,
          serverEnv: options.serverEnv,
          redisUrl: redisServer.url,
          cacheKeySecret: randomBytes(32).toString('hex'),
          warmupSeconds: options.warmup,
          durationSeconds: options.duration,
          signal,
          say,
        });
        const row = (name: string, p: RollResult['steady']) =>
          `    ${name}: ${p.sent} sent, ${p.socketErrors + p.non200 + p.wrongBodies} failed, ${p.requestsPerSecond.toFixed(0)} req/s, p50 ${p.latency.p50.toFixed(3)} ms, p99 ${p.latency.p99.toFixed(3)} ms`;
        say(row('steady', roll.steady));
        say(`${row('during the roll', roll.roll)}; the roll took ${roll.rollSeconds.toFixed(1)} s`);
        if (roll.problems.length) say(`    FAILED: ${roll.problems.join('; ')}`);
        continue;
      }
      const measured = {
        floor,
        reference,
        server,
        cached,
        redis,
        traced,
        unmetered,
        latency: latencyServer ?? server,
        fair: fairServer,
      }[scenario.target];
      if (!measured) throw new Error(`scenario ${scenario.key}: its server was not started`);
      const exportsBefore = sink.requests;
      const upstreamOrigin =
        scenario.target === 'floor'
          ? stack.floorOrigin
          : scenario.target === 'latency'
            ? latencyUpstreamOrigin
            : stack.upstreamOrigin;
      const problems: string[] = [];
      const warningsBefore = serverLog.count();
      say(`\n[${scenario.key}] ${scenario.title}, ${scenario.connections} connection(s)`);

      // Exact upstream traffic of single operations, and the first correctness check.
      const probe = { calls: [] as number[], bytes: [] as number[] };
      let clientBodyBytes = 0;
      let missingFieldsBytes: number | undefined;
      if (scenario.primeEach) {
        // What CarrierX sends for the missing fields alone: the most a partial hit should cost upstream.
        const fields = [...scenario.primeEach.missingApiFields, 'dr_sid'].join(',');
        const reply = await exchange(
          `${upstreamOrigin}/core/v2/calls/call_drs/${SAMPLE_DR_SID}?include_fields=${fields}`,
          signal,
          { headers: { authorization: AUTHORIZATION } },
        );
        if (reply.status === 200) missingFieldsBytes = Buffer.byteLength(reply.text);
        else problems.push(`the missing fields' GET answered ${reply.status}`);
      }
      for (let i = 0; i < options.probes; i++) {
        const [primed] = scenario.primeEach ? await prime(scenario, 1) : [undefined];
        await control(upstreamOrigin, 'stats', 'DELETE');
        try {
          clientBodyBytes = await sample(scenario, primed);
        } catch (error) {
          problems.push(`sampled response before the run: ${(error as Error).message}`);
          break;
        }
        const counted = await stats(upstreamOrigin);
        probe.calls.push(counted.requests);
        probe.bytes.push(counted.bytesSent);
      }

      if (scenario.primeEach) {
        const warmOps = Math.round(options.warmup * PRIMED_OPS_PER_SECOND);
        if (warmOps > 0)
          await warm(scenario, upstreamOrigin, problems, (await primedLoad(scenario, warmOps)).spec);
      } else {
        await warm(scenario, upstreamOrigin, problems);
      }
      const primedRun = scenario.primeEach
        ? await primedLoad(scenario, Math.round(options.duration * PRIMED_OPS_PER_SECOND))
        : undefined;
      const metricsOrigin = metricsOriginOf[scenario.target];
      const lookupsBefore = metricsOrigin ? await cacheLookups(metricsOrigin) : undefined;
      const redisBefore = scenario.target === 'redis' ? await redisCommands() : undefined;
      const rssBefore = readRssBytes(measured.pid);
      await control(upstreamOrigin, 'stats', 'DELETE');
      foreign.mark();
      const cpuBefore = meter.start();
      const load = await runLoad(
        {
          ...requestFor(scenario),
          connections: scenario.connections,
          seconds: options.duration,
          verifyBody: scenario.verifyBody,
          ...primedRun?.spec,
        },
        signal,
      );
      signal.throwIfAborted();
      const cpu = meter.stop(cpuBefore, measured.pid);
      const others = foreign.mark();
      const rssAfter = readRssBytes(measured.pid);
      const upstreamStats = await settledStats(upstreamOrigin);
      problems.push(...loadProblems(load, 'under load'));
      // Tracing that exported nothing would make 9a measure a server without its cost.
      if (scenario.target === 'traced' && sink.requests === exportsBefore) {
        problems.push('the span sink received no export during the run');
      }
      if (primedRun?.exhausted()) {
        problems.push('under load: more operations than primed credentials (some were not partial hits)');
      }
      let cache: CacheMeasure | undefined;
      if (metricsOrigin && lookupsBefore) {
        const lookupsAfter = await cacheLookups(metricsOrigin);
        const lookups: Record<string, number> = {};
        for (const [result, count] of Object.entries(lookupsAfter)) {
          lookups[result] = count - (lookupsBefore[result] ?? 0);
        }
        const total = Object.values(lookups).reduce((sum, count) => sum + count, 0);
        cache = {
          lookups,
          hitRatio: total > 0 ? (lookups.hit ?? 0) / total : undefined,
          ...(redisBefore === undefined
            ? {}
            : { redisCommandsPerOp: ((await redisCommands()) - redisBefore) / (load.sent || 1) }),
          ...(missingFieldsBytes === undefined ? {} : { missingFieldsBytes }),
        };
      }
      try {
        await sample(scenario, scenario.primeEach ? (await prime(scenario, 1))[0] : undefined);
      } catch (error) {
        problems.push(`sampled response after the run: ${(error as Error).message}`);
      }
      // Requests in flight when autocannon stops still reach the server and the upstream: count per request sent.
      const sent = load.sent || 1;
      const result: ScenarioResult = {
        key: scenario.key,
        title: scenario.title,
        target: scenario.target,
        connections: scenario.connections,
        load,
        upstream: {
          requests: upstreamStats.requests,
          bytes: upstreamStats.bytesSent,
          callsPerOp: upstreamStats.requests / sent,
          bytesPerOp: upstreamStats.bytesSent / sent,
        },
        probe,
        clientBodyBytes,
        rss: { before: rssBefore, after: rssAfter },
        cpu,
        otherProcesses: others,
        serverWarnings: serverLog.count() - warningsBefore,
        problems,
        ...(scenario.target === 'latency' ? { peakRss: readPeakRssBytes(measured.pid) } : {}),
        ...(cache ? { cache } : {}),
      };
      if (result.serverWarnings) {
        notes.push(
          `Scenario ${scenario.key}: the server logged about ${result.serverWarnings} lines at warn level or above (counted as they arrive through its stdout pipe, so a few may belong to the previous scenario).`,
        );
      }
      results.push(result);
      const l = load.latency;
      say(
        `    ${load.requestsPerSecond.toFixed(0)} req/s, p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, ` +
          `upstream ${result.upstream.callsPerOp.toFixed(3)} calls/op (probe ${probe.calls.join(',')}), ` +
          `${result.upstream.bytesPerOp.toFixed(0)} B/op, measured CPU ${cpu.measured?.toFixed(0) ?? 'n/a'}%, ` +
          `other load ${Object.entries(cpu.otherByCore)
            .map(([core, percent]) => `${core} ${percent.toFixed(0)}%`)
            .join(' ')}` +
          (others.length
            ? ` (${others.map((o) => `pid ${o.pid} ${o.percent.toFixed(0)}%`).join(', ')})`
            : '') +
          (problems.length ? `\n    FAILED: ${problems.join('; ')}` : `, all ${load.ok} responses correct`),
      );
    }

    if (options.soakSeconds > 0) {
      const scenario = soakScenario(scenarios, options.soakSeconds);
      say(`\n[soak] ${scenario.title}, ${scenario.connections} connection(s)`);
      const problems: string[] = [];
      await warm(scenario, stack.upstreamOrigin, problems);
      const rssAfterWarmup = readRssBytes(server.pid);
      let rssMin = rssAfterWarmup;
      let rssMax = rssAfterWarmup;
      const watch = setInterval(() => {
        const rss = readRssBytes(server.pid);
        if (rss === undefined) return;
        rssMin = Math.min(rssMin ?? rss, rss);
        rssMax = Math.max(rssMax ?? rss, rss);
      }, 1000);
      let load: LoadResult;
      try {
        load = await runLoad(
          {
            ...requestFor(scenario),
            connections: scenario.connections,
            seconds: options.soakSeconds,
            verifyBody: scenario.verifyBody,
          },
          signal,
        );
      } finally {
        clearInterval(watch);
      }
      signal.throwIfAborted();
      const rssAfter = readRssBytes(server.pid);
      problems.push(...loadProblems(load, 'soak'));
      soak = {
        seconds: options.soakSeconds,
        requestsPerSecond: load.requestsPerSecond,
        rssAfterWarmup,
        rssAfter,
        rssMin,
        rssMax,
        problems,
      };
      say(
        `    ${load.requestsPerSecond.toFixed(0)} req/s; server RSS ${((rssAfterWarmup ?? 0) / 2 ** 20).toFixed(1)} MB after warm-up → ${((rssAfter ?? 0) / 2 ** 20).toFixed(1)} MB` +
          (problems.length ? `\n    FAILED: ${problems.join('; ')}` : ''),
      );
    }
  };
  try {
    await measureAll();
  } catch (error) {
    redisClient.destroy();
    // Keep what was measured: a run stopped by Ctrl-C or a dead child still leaves a (marked) report.
    if (results.length === 0 && !fairness && !roll) throw error;
    const reason = signal.aborted ? signal.reason : error;
    aborted = reason instanceof Error ? reason.message : String(reason);
  }

  if (redisClient.isOpen) await redisClient.close();
  foreign.mark();
  // The kernel's high-water marks (VmHWM) over the whole run, read while the processes still live.
  const peakRss = { server: readPeakRssBytes(server.pid), reference: readPeakRssBytes(reference.pid) };
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    options,
    code: { commit: source.commit, dirtyFiles: source.dirtyFiles, exported: source.exported },
    machine: {
      atStart: machine,
      loadAverageAtEnd: describeMachine().loadAverage,
      otherProcesses: foreign.totals(),
    },
    layout,
    sids,
    scenarios: results,
    ...(fairness ? { fairness } : {}),
    ...(roll ? { roll } : {}),
    soak,
    targets: [
      ...evaluateTargets(results, soak, options, peakRss),
      ...startupTargets(startup),
      ...(roll ? rollTargets(roll) : []),
    ],
    startup,
    reference: compareWithReference(results),
    peakRss,
    serverLog: serverLog.kinds(),
    notes,
    ...(aborted ? { aborted } : {}),
  };
  const markdown = renderMarkdown(report);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await mkdir(RESULTS_DIR, { recursive: true });
  const written: string[] = [];
  // Only a full run replaces latest.* (and leaves a dated copy); smoke and partial runs have their own files.
  const names = aborted
    ? ['aborted']
    : options.only
      ? ['partial']
      : options.quick
        ? ['quick']
        : ['latest', startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')];
  for (const name of names) {
    await writeFile(`${RESULTS_DIR}${name}.md`, markdown);
    await writeFile(`${RESULTS_DIR}${name}.json`, json);
    written.push(`bench/results/${name}.md`, `bench/results/${name}.json`);
  }
  say(`\n${markdown}`);
  say(renderSummary(report));
  say(`\nWrote ${written.join(', ')}`);
  if (aborted) {
    say(`\nThe run was aborted before it finished: ${aborted}`);
    return 1;
  }
  const failed =
    results.some((r) => r.problems.length > 0) ||
    (soak?.problems.length ?? 0) > 0 ||
    (fairness?.problems.length ?? 0) > 0 ||
    (roll?.problems.length ?? 0) > 0;
  if (failed) say('\nSome scenarios failed their correctness checks: their numbers are not valid.');
  return failed ? 1 : 0;
}

let options: BenchOptions | undefined;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (!options) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const controller = new AbortController();
const group = createProcessGroup({
  onUnexpectedExit: (child) => {
    // The server and simulator exit 0 only through their SIGINT/SIGTERM handlers.
    const hint =
      child.exit === 'exit code 0' || child.exit?.startsWith('signal')
        ? ' It was stopped from outside: did another process signal it (a pkill -f, say)?'
        : '';
    controller.abort(
      new Error(`${child.name} exited unexpectedly (${child.exit}).${hint}\n${child.tail.join('\n')}`),
    );
  },
});
// Whatever ends this process, no child outlives it.
let source: Source | undefined;
process.on('exit', () => {
  group.killAllNow();
  killRollNow();
  redisServer?.killNow();
  source?.remove();
});
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) {
      group.killAllNow();
      killRollNow();
      redisServer?.killNow();
      process.exit(130);
    }
    process.stderr.write(`\n${signal}: stopping the benchmark and its processes…\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  });
}

let exitCode = 1;
try {
  source = prepareSource(REPO_ROOT, options.ref);
  exitCode = await main(options, controller.signal, group, source);
} catch (error) {
  const reason = controller.signal.aborted ? controller.signal.reason : error;
  process.stderr.write(`\nBenchmark failed: ${reason instanceof Error ? reason.message : String(reason)}\n`);
  exitCode = signals > 0 ? 130 : 1;
} finally {
  await group.stopAll();
  await redisServer?.stop();
  source?.remove();
}
process.exit(exitCode);
