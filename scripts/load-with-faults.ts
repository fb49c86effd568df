/**
 * Steady load while the upstream misbehaves, on loopback only, stopping by itself (about 25 s by default).
 *
 * Starts the embedded CarrierX simulator in this process and the real server (src/server.ts) as a child pointed at
 * it, then drives a closed loop of GraphQL requests through phases: healthy, flaky 5xx, rate limiting, slowness
 * and hangs, bad bodies, a full outage (the circuit opens) and recovery. Each phase reports requests, HTTP
 * statuses, errors by code, p50/p99 latency and the calls CarrierX received; each request counts in the phase it
 * started in (the load never pauses, so a slow failure can finish in the next phase). The run ends with a
 * verdict (scripts/load-verdict.ts): no HTTP 5xx, no lost response, every request clean again within
 * --recover-within seconds of the upstream recovering (time to recover is printed), the server's RSS growth
 * within --max-rss-growth percent, /health answering; it exits 1 when any of these fails.
 *
 *   npm run load:faults                     # defaults
 *   npm run load:faults -- --scale 2        # every phase twice as long
 *   npm run load:faults -- --concurrency 64
 *   npm run load:faults -- --scale 0.5 --recover-within 4 --max-rss-growth 30 --max-5xx 0 --max-lost 0
 *   CARRIERX_BREAKER_THRESHOLD=20 npm run load:faults   # server settings pass through
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { createSimulator, DESCENDANT_TOKEN, type FaultRule } from '../src/carrierx/simulator/index.ts';
import { UNAVAILABLE } from '../src/errors.ts';
import { judge, type RecoverySample, type Thresholds, timeToRecover } from './load-verdict.ts';

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '32' },
    'max-5xx': { type: 'string', default: '0' },
    'max-lost': { type: 'string', default: '0' },
    // Default: the breaker's cooldown plus a second for its probe and the clients' in-flight retries.
    'recover-within': { type: 'string' },
    // RSS moves by ±10% with the garbage collector's timing alone (see docs/performance.md).
    'max-rss-growth': { type: 'string', default: '25' },
  },
});
const scale = Number(args.scale);
const concurrency = Number(args.concurrency);
if (
  !(scale > 0 && scale <= 10) ||
  !(Number.isInteger(concurrency) && concurrency > 0 && concurrency <= 512)
) {
  console.error('--scale must be in (0, 10] and --concurrency a whole number from 1 to 512');
  process.exit(1);
}

// The server's settings for this run: short enough that hangs and outages play out within a phase. Settings
// of the resilience and limits families in this script's environment override them.
const SERVER_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  CARRIERX_TIMEOUT_MS: '1000',
  REQUEST_DEADLINE_MS: '2000',
  CARRIERX_BREAKER_COOLDOWN_MS: '2000',
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        /^(CARRIERX_|REQUEST_|MAX_|GRAPHQL_|LOG_LEVEL$)/.test(entry[0]) &&
        entry[0] !== 'CARRIERX_BASE_URL' &&
        !!entry[1],
    ),
  ),
  // Loopback only, on a free port.
  HOST: '127.0.0.1',
  PORT: '0',
};

const limits: Thresholds = {
  max5xx: Number(args['max-5xx']),
  maxLost: Number(args['max-lost']),
  recoverWithinS: Number(
    args['recover-within'] ?? Number(SERVER_ENV.CARRIERX_BREAKER_COOLDOWN_MS) / 1000 + 1,
  ),
  maxRssGrowthPct: Number(args['max-rss-growth']),
};
if (!Object.values(limits).every((value) => Number.isFinite(value) && value >= 0)) {
  console.error('--max-5xx, --max-lost, --recover-within and --max-rss-growth must be numbers of at least 0');
  process.exit(1);
}

/** A short name for why a record failed: the code, and for UPSTREAM_UNAVAILABLE which kind. */
function reason(error: { message?: string; extensions?: { code?: string } }): string {
  const code = error.extensions?.code ?? '(no code)';
  if (code !== 'UPSTREAM_UNAVAILABLE') return code;
  const message = error.message ?? '';
  if (message === UNAVAILABLE.CIRCUIT_OPEN) return `${code} (circuit open)`;
  if (message === UNAVAILABLE.OVERLOADED) return `${code} (overloaded)`;
  if (message === UNAVAILABLE.DEADLINE) return `${code} (deadline)`;
  if (message.includes('did not answer within')) return `${code} (timeout)`;
  if (message.includes('could not be reached')) return `${code} (connection)`;
  return `${code} (5xx)`;
}

interface Phase {
  name: string;
  seconds: number;
  /** Fault rules for this phase, given the SIDs under load; the previous phase's rules are cleared first. */
  faults: (sids: readonly string[]) => FaultRule[];
}

// A fifth of the records misbehave in the partial phases; the others must keep answering.
const share = (sids: readonly string[], from: number, to: number) =>
  sids.slice(Math.floor(sids.length * from), Math.floor(sids.length * to));
const each = (sids: readonly string[], rule: Omit<FaultRule, 'match'>) =>
  sids.map((drSid) => ({ ...rule, match: { drSid } }));

const PHASES: Phase[] = [
  { name: 'warm-up', seconds: 2, faults: () => [] },
  { name: 'healthy', seconds: 3, faults: () => [] },
  {
    name: 'flaky 5xx (20% of records: 502/503, resets)',
    seconds: 3,
    faults: (sids) => [
      ...each(share(sids, 0, 0.1), { fault: { kind: 'status', status: 503 } }),
      ...each(share(sids, 0.1, 0.15), { fault: { kind: 'status', status: 502 } }),
      ...each(share(sids, 0.15, 0.2), { fault: { kind: 'reset' } }),
    ],
  },
  {
    name: 'rate limited (20%: Retry-After 1, none, 120)',
    seconds: 3,
    faults: (sids) => [
      ...each(share(sids, 0, 0.1), { fault: { kind: 'rate-limit', retryAfter: '1' } }),
      ...each(share(sids, 0.1, 0.15), { fault: { kind: 'rate-limit' } }),
      ...each(share(sids, 0.15, 0.2), { fault: { kind: 'rate-limit', retryAfter: '120' } }),
    ],
  },
  {
    name: 'slow (20%: 100-400 ms) and hanging (2%)',
    seconds: 3,
    faults: (sids) => [
      ...each(share(sids, 0, 0.02), { fault: { kind: 'hang' } }),
      ...each(share(sids, 0.02, 0.2), { latencyMs: 100, jitterMs: 300 }),
    ],
  },
  {
    name: 'bad bodies (20%: malformed, truncated, wrong types, not a CDR)',
    seconds: 3,
    faults: (sids) => [
      ...each(share(sids, 0, 0.05), { fault: { kind: 'malformed-json' } }),
      ...each(share(sids, 0.05, 0.1), { fault: { kind: 'truncated-body' } }),
      ...each(share(sids, 0.1, 0.15), { fault: { kind: 'wrong-types' } }),
      ...each(share(sids, 0.15, 0.2), { fault: { kind: 'not-a-cdr' } }),
    ],
  },
  { name: 'outage (every call 503)', seconds: 3, faults: () => [{ fault: { kind: 'status', status: 503 } }] },
  { name: 'recovery', seconds: 4, faults: () => [] },
];

/** A phase's length; recovery lasts long enough to judge --recover-within however short --scale makes it. */
const secondsOf = (phase: Phase) =>
  phase.name === 'recovery'
    ? Math.max(phase.seconds * scale, limits.recoverWithinS + 2)
    : phase.seconds * scale;

const QUERY = `query Two($a: UUID!, $b: UUID!) {
  a: callDetailRecord(drSid: $a) { drSid dateStart numberSrc numberDst price direction }
  b: callDetailRecord(drSid: $b) { drSid dateStart numberSrc numberDst price direction }
}`;

interface PhaseStats {
  requests: number;
  statuses: Map<number, number>;
  codes: Map<string, number>;
  /** Responses with no error at all. */
  clean: number;
  latencies: number[];
  upstreamCalls: number;
  /** Requests that got no HTTP response, by error code. */
  transportErrors: Map<string, number>;
  /** The server's warnings logged during the phase, by message. */
  warnings: Map<string, number>;
  /** The server's RSS at the end of the phase, MiB. */
  rss?: number | undefined;
  /** When the phase began (performance.now()), and each request's start and cleanliness relative to it. */
  startedAt: number;
  samples: RecoverySample[];
}

const newStats = (): PhaseStats => ({
  requests: 0,
  statuses: new Map(),
  codes: new Map(),
  clean: 0,
  latencies: [],
  upstreamCalls: 0,
  transportErrors: new Map(),
  warnings: new Map(),
  startedAt: performance.now(),
  samples: [],
});
const total = (map: Map<unknown, number>) => [...map.values()].reduce((sum, n) => sum + n, 0);
const list = (map: Map<string | number, number>) =>
  [...map]
    .sort((x, y) => y[1] - x[1])
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');
const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Resident set size of a process in MiB, from /proc (Linux); undefined elsewhere. */
function rssMiB(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function startServer(
  baseUrl: string,
  onWarning: (message: string) => void,
): Promise<{ child: ChildProcess; url: string }> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...SERVER_ENV, CARRIERX_BASE_URL: baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const failed = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the server did not start within 15 s'));
    }, 15_000);
    child.once('exit', (code) => reject(new Error(`the server exited early with code ${code}`)));
    child.once('exit', (code, signal) => {
      if (code !== 0) console.error(`load-with-faults: the server exited (${code ?? signal})`);
    });
    child.stderr?.pipe(process.stderr);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      // The banner names the address even when LOG_LEVEL hides the 'listening' log line.
      const banner = /listening on (http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(line);
      if (banner) {
        clearTimeout(failed);
        resolve({ child, url: banner[1] as string });
        return;
      }
      if (!line.startsWith('{')) return;
      let entry: { msg?: string; level?: number };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      // Warnings, and the breaker's state changes whatever their level.
      if (entry.msg && ((entry.level ?? 0) >= 40 || entry.msg.includes('circuit'))) onWarning(entry.msg);
    });
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const simulator = createSimulator({ maxRecorded: 0 });
  const baseUrl = await simulator.listen(0, '127.0.0.1');
  const sids = [...simulator.records.keys()].slice(0, 200);
  let stats = newStats();
  const server = await startServer(baseUrl, (message) => bump(stats.warnings, message));
  const { child } = server;
  // Never outlive a stuck run: whatever happens, stop everything after twice the planned time plus a margin.
  const planned = PHASES.reduce((sum, phase) => sum + secondsOf(phase), 0);
  const watchdog = setTimeout(
    () => {
      console.error('load-with-faults: over time, stopping');
      child.kill('SIGKILL');
      process.exit(2);
    },
    (planned * 2 + 20) * 1000,
  );
  watchdog.unref();

  const pool = new Pool(server.url, { connections: concurrency, pipelining: 1 });
  // Records picked at random: walking the list in order would send the faulty fifth in one burst.
  const pick = () => sids[Math.floor(Math.random() * sids.length)];
  const body = () => JSON.stringify({ query: QUERY, variables: { a: pick(), b: pick() } });

  // The load never pauses between phases (a pause would end each phase with a burst of its slowest failures):
  // the simulator's behaviour changes under it, and each request counts in the phase it started in.
  let running = true;
  async function worker(): Promise<void> {
    while (running) {
      const current = stats;
      const t0 = performance.now();
      try {
        const res = await pool.request({
          method: 'POST',
          path: '/graphql',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            authorization: `Bearer ${DESCENDANT_TOKEN}`,
          },
          body: body(),
        });
        const text = await res.body.text();
        current.latencies.push(performance.now() - t0);
        current.requests += 1;
        bump(current.statuses, res.statusCode);
        const parsed = JSON.parse(text) as {
          errors?: { message?: string; extensions?: { code?: string } }[];
        };
        const clean = res.statusCode === 200 && !parsed.errors?.length;
        if (clean) current.clean += 1;
        current.samples.push({ startMs: t0 - current.startedAt, clean });
        for (const error of parsed.errors ?? []) bump(current.codes, reason(error));
      } catch (error) {
        current.samples.push({ startMs: t0 - current.startedAt, clean: false });
        bump(current.transportErrors, (error as { code?: string }).code ?? (error as Error).name);
      }
    }
  }

  const rssBefore: (number | undefined)[] = [];
  const rows: { phase: Phase; stats: PhaseStats }[] = [];
  let workers: Promise<unknown> | undefined;
  for (const phase of PHASES) {
    simulator.faults.clear();
    for (const rule of phase.faults(sids)) simulator.faults.add(rule);
    stats = newStats();
    workers ??= Promise.all(Array.from({ length: concurrency }, worker));
    const upstreamBefore = simulator.stats.requests;
    await sleep(secondsOf(phase) * 1000);
    stats.upstreamCalls = simulator.stats.requests - upstreamBefore;
    stats.rss = rssMiB(child.pid ?? 0);
    rows.push({ phase, stats });
    if (phase.name === 'warm-up') rssBefore.push(rssMiB(child.pid ?? 0));
  }
  running = false;
  await workers;
  simulator.faults.clear();

  const health = await pool.request({ method: 'GET', path: '/health' }).then(
    async (res) => {
      await res.body.dump();
      return res.statusCode;
    },
    () => 0,
  );
  const rssAfter = rssMiB(child.pid ?? 0);

  report(rows, rssBefore[0], rssAfter, health);
  await pool.close();
  const serverDied = child.exitCode !== null || child.signalCode !== null;
  if (serverDied) {
    console.log(
      `\nTHE SERVER DIED during the run (${child.exitCode ?? child.signalCode}); see its stderr above`,
    );
  }
  const everything = rows.map((row) => row.stats);
  const verdict = judge(
    {
      fiveHundreds: everything.reduce(
        (sum, stats) => sum + [...stats.statuses].filter(([s]) => s >= 500).reduce((n, [, k]) => n + k, 0),
        0,
      ),
      lost: everything.reduce((sum, stats) => sum + total(stats.transportErrors), 0),
      recovery: rows.find((row) => row.phase.name === 'recovery')?.stats.samples ?? [],
      rssBefore: rssBefore[0],
      rssAfter,
      health,
      serverDied,
    },
    limits,
  );
  console.log('\n== verdict (every phase, warm-up included)');
  for (const check of verdict.checks)
    console.log(`   ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  console.log(
    verdict.pass
      ? 'PASS'
      : `FAIL: ${verdict.checks
          .filter((check) => !check.ok)
          .map((check) => check.name)
          .join(', ')}`,
  );
  if (!verdict.pass) process.exitCode = 1;
  if (!serverDied) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  await simulator.close();
  console.log(`\nfinished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function report(
  rows: { phase: Phase; stats: PhaseStats }[],
  rssBefore: number | undefined,
  rssAfter: number | undefined,
  health: number,
): void {
  const fmt = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1));
  const mib = (n: number | undefined) => (n === undefined ? 'n/a' : `${n.toFixed(1)} MiB`);
  console.log(`load-with-faults: ${concurrency} concurrent clients, 2 records per request, loopback only`);
  console.log('each request counts in the phase it started in; "clean" means HTTP 200 with no GraphQL error');
  console.log(
    `server: ${Object.entries(SERVER_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}\n`,
  );
  const all = newStats();
  for (const { phase, stats } of rows) {
    const sorted = stats.latencies.sort((x, y) => x - y);
    const seconds = secondsOf(phase);
    console.log(`== ${phase.name} (${seconds} s)`);
    console.log(
      `   requests ${stats.requests} (${fmt(stats.requests / seconds)}/s), clean ${stats.clean}, ` +
        `p50 ${fmt(percentile(sorted, 50))} ms, p99 ${fmt(percentile(sorted, 99))} ms, ` +
        `max ${fmt(sorted.at(-1) ?? Number.NaN)} ms, upstream calls ${stats.upstreamCalls}, ` +
        `server RSS ${mib(stats.rss)}`,
    );
    console.log(
      `   HTTP ${[...stats.statuses].map(([s, n]) => `${s}: ${n}`).join(', ') || '-'}` +
        (stats.transportErrors.size ? `; no response: ${list(stats.transportErrors)}` : ''),
    );
    console.log(`   errors by code: ${list(stats.codes) || 'none'}`);
    if (stats.warnings.size) console.log(`   server warnings: ${list(stats.warnings)}`);
    if (phase.name === 'recovery') {
      const recovered = timeToRecover(stats.samples);
      console.log(
        `   time to recover: ${recovered === undefined ? 'not recovered' : `${recovered.toFixed(2)} s`} ` +
          '(from the upstream recovering to the first request after which all were clean)',
      );
    }
    if (phase.name === 'warm-up') continue;
    all.requests += stats.requests;
    all.latencies.push(...stats.latencies);
    for (const [c, n] of stats.transportErrors)
      all.transportErrors.set(c, (all.transportErrors.get(c) ?? 0) + n);
    for (const [s, n] of stats.statuses) all.statuses.set(s, (all.statuses.get(s) ?? 0) + n);
    for (const [c, n] of stats.codes) all.codes.set(c, (all.codes.get(c) ?? 0) + n);
    for (const [m, n] of stats.warnings) all.warnings.set(m, (all.warnings.get(m) ?? 0) + n);
  }
  const sorted = all.latencies.sort((x, y) => x - y);
  const fiveHundreds = [...all.statuses].filter(([s]) => s >= 500).reduce((sum, [, n]) => sum + n, 0);
  console.log('\n== total (after warm-up)');
  console.log(
    `   requests ${all.requests}, p99 ${fmt(percentile(sorted, 99))} ms, HTTP 5xx ${fiveHundreds}, ` +
      `no response ${total(all.transportErrors)}`,
  );
  console.log(`   errors by code: ${list(all.codes)}`);
  console.log(`   server RSS: ${mib(rssBefore)} after warm-up, ${mib(rssAfter)} at the end`);
  console.log(`   /health after the run: ${health}`);
  console.log(`   server warnings: ${list(all.warnings) || 'none'}`);
}

await main();
