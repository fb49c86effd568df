import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { freePort } from '../test/helpers/free-port.ts';
import {
  HAPROXY_CHECK,
  type Haproxy,
  REPLICA_SHUTDOWN_DELAY_MS,
  startHaproxy,
} from '../test/helpers/haproxy.ts';
import { type ServerProcess, startServerProcess } from '../test/helpers/server-process.ts';
import { type Latency, type RequestSpec, summariseLatency } from './load.ts';
import type { Scenario } from './scenarios.ts';

/** Replicas behind the balancer, as test/fleet.test.ts runs them. */
const REPLICAS = 3;
/**
 * A client whose request failed waits this long before its next one (as a client backs off), so that one broken
 * replica shows as a few failures, not thousands; longer than HAProxy takes to take a dead replica out.
 */
const BACKOFF_MS = 1_000;
/** Per request, as autocannon's `timeout: 10` in bench/load.ts. */
const REQUEST_TIMEOUT_MS = 10_000;
/** How long a replica may take to start again (the machine is shared; see STARTUP_TIMEOUT_MS in run.ts). */
const START_TIMEOUT_MS = 120_000;
const MAX_EXAMPLES = 5;
/**
 * The least warm-up and steady window, whatever --warmup and --duration say (--quick's 1 s and 2 s): three
 * replicas just started warm their JIT and the shared cache under the load first, and the steady figures are
 * the baseline the roll is compared with.
 */
const MIN_WARMUP_S = 5;
const MIN_STEADY_S = 5;

/** What the load saw while one phase was on: every request counted in the phase it was sent in. */
export interface RollPhase {
  seconds: number;
  sent: number;
  /** 200s with the expected body (scenario 3's under-load check). */
  ok: number;
  /** Requests that got no answer: connection reset or closed, refused, timed out. */
  socketErrors: number;
  non200: number;
  wrongBodies: number;
  requestsPerSecond: number;
  /** Of the correct answers. */
  latency: Latency;
}

/** One replica's turn: SIGTERM to exit, exit to listening again, listening to back in HAProxy's rotation. */
export interface RollStep {
  replica: number;
  stopMs: number;
  startMs: number;
  backMs: number;
}

export interface RollResult {
  key: string;
  title: string;
  connections: number;
  replicas: number;
  steady: RollPhase;
  roll: RollPhase;
  /** From the first SIGTERM to the last replica back in rotation. */
  rollSeconds: number;
  steps: RollStep[];
  /** What went wrong in each failed request (the first few). */
  failures: string[];
  /** Why the figures cannot be trusted, or the target missed; empty when every check passed. */
  problems: string[];
}

export interface RollContext {
  scenario: Scenario;
  /** The scenario's request, its URL through HAProxy (127.0.0.1:frontPort). */
  request: RequestSpec;
  frontPort: number;
  /** Node's arguments and working directory for the compiled server, as the bench runs it. */
  serverArgs: string[];
  cwd: string;
  /** The bench's server environment with the cache at its default; PORT, METRICS_PORT and the rest are set here. */
  env: Record<string, string>;
  /** --server-env, applied over this scenario's own settings too (but not over ports and log settings). */
  serverEnv: Record<string, string>;
  redisUrl: string;
  cacheKeySecret: string;
  warmupSeconds: number;
  durationSeconds: number;
  signal: AbortSignal;
  say(line: string): void;
}

/** Everything scenario 13 started and still runs, for run.ts's exit handler. */
const running = { replicas: new Set<ServerProcess>(), haproxy: undefined as Haproxy | undefined };

/** SIGKILL to scenario 13's replicas and HAProxy, synchronously (for process 'exit'). */
export function killRollNow(): void {
  for (const replica of running.replicas) {
    try {
      process.kill(replica.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  running.haproxy?.killNow();
}

type PhaseName = 'warm-up' | 'steady' | 'roll';

function createTally() {
  return { sent: 0, ok: 0, socketErrors: 0, non200: 0, wrongBodies: 0, latencies: [] as number[] };
}

function phaseOf(tally: ReturnType<typeof createTally>, seconds: number): RollPhase {
  return {
    seconds,
    sent: tally.sent,
    ok: tally.ok,
    socketErrors: tally.socketErrors,
    non200: tally.non200,
    wrongBodies: tally.wrongBodies,
    requestsPerSecond: seconds > 0 ? tally.ok / seconds : Number.NaN,
    latency: summariseLatency(Float64Array.from(tally.latencies)),
  };
}

/**
 * Scenario 13: three production replicas (REDIS_URL, the cache on) behind HAProxy, loaded through it at a fixed
 * number of keep-alive connections with the scenario's request; a steady window, then the same load while each
 * replica in turn gets SIGTERM, exits, starts again on its port and is back in HAProxy's rotation.
 */
export async function measureRoll(context: RollContext): Promise<RollResult> {
  const { scenario, signal, say } = context;
  const problems: string[] = [];
  const failures: string[] = [];
  const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
  const metricsPorts = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
  const replicas: ServerProcess[] = [];

  const startReplica = async (i: number): Promise<ServerProcess> => {
    const replica = await startServerProcess(
      {
        ...context.env,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        REDIS_URL: context.redisUrl,
        CACHE_KEY_SECRET: context.cacheKeySecret,
        SHUTDOWN_DELAY_MS: String(REPLICA_SHUTDOWN_DELAY_MS),
        // --server-env after the defaults: `SHUTDOWN_DELAY_MS=0` shows what the drain is worth.
        ...context.serverEnv,
        PORT: String(ports[i]),
        METRICS_PORT: String(metricsPorts[i]),
        // `listening` and `stopped` are info lines: the first says it is up, the second that it stopped as asked.
        LOG_LEVEL: 'info',
        ACCESS_LOG: 'false',
      },
      { file: process.execPath, args: context.serverArgs, cwd: context.cwd },
    );
    running.replicas.add(replica);
    return replica;
  };
  const ready = async (i: number) => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      signal.throwIfAborted();
      const status = await fetch(`http://127.0.0.1:${ports[i]}/ready`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(1_000)]),
      })
        .then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        })
        .catch(() => 0);
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`replica ${i} was not ready after ${START_TIMEOUT_MS} ms`);
      await sleep(50, undefined, { signal });
    }
  };

  const tallies: Record<PhaseName, ReturnType<typeof createTally>> = {
    'warm-up': createTally(),
    steady: createTally(),
    roll: createTally(),
  };
  let phase: PhaseName = 'warm-up';
  let loading = true;
  const body = context.request.body;
  const headers = context.request.headers;
  const path = new URL(context.request.url).pathname;

  async function client(): Promise<void> {
    // One keep-alive connection per client and one request at a time on it, as autocannon's; undici's Client
    // rather than autocannon because it honours `Connection: close` (a draining replica's answers carry it),
    // where autocannon writes its next request on the closing connection and counts the reset as an error:
    // a failure of the load generator, not of the service, which a real HTTP client does not have.
    const connection = new Client(`http://127.0.0.1:${context.frontPort}`, {
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    try {
      while (loading) {
        const tally = tallies[phase];
        tally.sent += 1;
        const started = performance.now();
        try {
          const response = await connection.request({
            path,
            method: context.request.method,
            headers,
            ...(body === undefined ? {} : { body }),
          });
          const text = await response.body.text();
          if (response.statusCode !== 200) {
            tally.non200 += 1;
            if (failures.length < MAX_EXAMPLES)
              failures.push(`${phase}: status ${response.statusCode}: ${text.slice(0, 200)}`);
          } else if (!scenario.verifyBody(text)) {
            tally.wrongBodies += 1;
            if (failures.length < MAX_EXAMPLES) failures.push(`${phase}: wrong body: ${text.slice(0, 200)}`);
          } else {
            tally.ok += 1;
            tally.latencies.push(performance.now() - started);
          }
        } catch (error) {
          tally.socketErrors += 1;
          if (failures.length < MAX_EXAMPLES) {
            failures.push(`${phase}: ${(error as Error).name}: ${(error as Error).message}`);
          }
          await sleep(BACKOFF_MS);
        }
      }
    } finally {
      await connection.close().catch(() => {});
    }
  }

  const steps: RollStep[] = [];
  let steadySeconds = 0;
  let rollSeconds = 0;
  let load: Promise<unknown> | undefined;
  try {
    for (let i = 0; i < REPLICAS; i++) replicas.push(await startReplica(i));
    await Promise.all(replicas.map((_, i) => ready(i)));
    running.haproxy = await startHaproxy(context.frontPort, ports).catch((error: unknown) => {
      throw new Error(`scenario ${scenario.key} needs HAProxy: ${(error as Error).message}`);
    });
    say(
      `    replicas on ports ${ports.join(', ')} (pids ${replicas.map((r) => r.pid).join(', ')}; metrics on ${metricsPorts.join(', ')}), HAProxy on ${context.frontPort} (pid ${running.haproxy.pid}); none pinned`,
    );

    // One answer through HAProxy, fully checked, before any load.
    const sampled = await fetch(context.request.url, {
      method: context.request.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    });
    const sampledText = await sampled.text();
    const problem =
      sampled.status !== 200
        ? `status ${sampled.status}: ${sampledText.slice(0, 300)}`
        : (scenario.validate(JSON.parse(sampledText)) ??
          (scenario.verifyBody(sampledText) ? undefined : 'the body fails the under-load check'));
    if (problem) throw new Error(`sampled response through HAProxy: ${problem}`);

    load = Promise.all(Array.from({ length: scenario.connections }, () => client()));
    await sleep(Math.max(context.warmupSeconds, MIN_WARMUP_S) * 1000, undefined, { signal });
    phase = 'steady';
    let mark = performance.now();
    await sleep(Math.max(context.durationSeconds, MIN_STEADY_S) * 1000, undefined, { signal });
    steadySeconds = (performance.now() - mark) / 1000;

    // Each replica in turn, the next one only once HAProxy sends to this one again.
    phase = 'roll';
    mark = performance.now();
    for (let i = 0; i < REPLICAS; i++) {
      signal.throwIfAborted();
      const old = replicas[i] as ServerProcess;
      const t0 = performance.now();
      await old.stop();
      running.replicas.delete(old);
      if (!old.output.includes('"msg":"stopped"')) {
        problems.push(`replica ${i} did not log "stopped" (it did not stop cleanly)`);
      }
      const t1 = performance.now();
      replicas[i] = await startReplica(i);
      const t2 = performance.now();
      await ready(i);
      // HAProxy checks every interMs and puts a replica back after `rise` passed checks; one more is margin.
      await sleep((HAPROXY_CHECK.rise + 1) * HAPROXY_CHECK.interMs, undefined, { signal });
      const t3 = performance.now();
      steps.push({ replica: i, stopMs: t1 - t0, startMs: t2 - t1, backMs: t3 - t2 });
      say(
        `    replica ${i}: SIGTERM → exited ${((t1 - t0) / 1000).toFixed(2)} s, started ${((t2 - t1) / 1000).toFixed(2)} s, back in rotation ${((t3 - t2) / 1000).toFixed(2)} s`,
      );
    }
    rollSeconds = (performance.now() - mark) / 1000;
  } finally {
    loading = false;
    await load;
    await stopRoll(replicas);
  }

  const steady = phaseOf(tallies.steady, steadySeconds);
  const roll = phaseOf(tallies.roll, rollSeconds);
  for (const [name, p] of [
    ['steady', steady],
    ['roll', roll],
  ] as const) {
    if (p.ok === 0) problems.push(`${name}: no correct answer`);
    const failed = p.socketErrors + p.non200 + p.wrongBodies;
    if (failed) {
      problems.push(
        `${name}: ${failed} of ${p.sent} requests failed (${p.socketErrors} socket errors, ${p.non200} non-200, ${p.wrongBodies} wrong bodies)`,
      );
    }
  }
  const warm = tallies['warm-up'];
  if (warm.socketErrors + warm.non200 + warm.wrongBodies) {
    problems.push(`warm-up: ${warm.socketErrors + warm.non200 + warm.wrongBodies} requests failed`);
  }
  return {
    key: scenario.key,
    title: scenario.title,
    connections: scenario.connections,
    replicas: REPLICAS,
    steady,
    roll,
    rollSeconds,
    steps,
    failures,
    problems,
  };
}

/** Stops HAProxy and the replicas; a second SIGTERM ends each replica's shutdown delay at once. */
async function stopRoll(replicas: ServerProcess[]): Promise<void> {
  await running.haproxy?.stop();
  running.haproxy = undefined;
  await Promise.all(
    replicas.map(async (replica) => {
      const stopped = replica.stop();
      await sleep(50);
      try {
        process.kill(replica.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await stopped;
      running.replicas.delete(replica);
    }),
  );
}
