/**
 * The live feed's benchmark (issue 24, "Benchmark"): N SSE subscribers (default 1,000) on one filter, served by one
 * server process or by a fleet of them sharing a real redis-server. Prints CarrierX list calls per poll interval
 * for the whole fleet (target 1, counted at the simulator), the delivery latency from a record's appearance at the
 * simulator to each client (p50, p99; per process and overall) and how much of it was the wait for the poll,
 * each process's RSS per subscriber, and whether every record reached every subscriber exactly once.
 *
 *   npm run bench:live [-- --subscribers 1000 --records 20 --interval-ms 2000 --out bench/results/live.md]
 *   npm run bench:live -- --fleet          # two server processes sharing Redis, half the subscribers on each
 *   npm run bench:live -- --processes 3    # three; --redis puts a single process on Redis too (the Redis hop alone)
 *
 * The simulator runs in this process (liveRate 0: only the records this script adds), each server as a child
 * process (dist/server.js when built, else src/server.ts through tsx), so /proc's VmRSS is that server's alone.
 * With several processes (or --redis) each gets REDIS_URL of a redis-server started here on a free port
 * (persistence off) and one CACHE_KEY_SECRET: one of them polls the feed under the Redis lease and every one
 * reads the feed's log from Redis, so each delivery, the polling process's included, crosses Redis. Subscriber i
 * connects to process i mod N. The SSE clients also run in this process: their parsing shares a core with the
 * simulator, and a busy bench process shows up as latency. Nothing is pinned: on this 2-core machine the servers,
 * Redis and the clients cannot each have a core, and any split would be one more variable.
 *
 * Measured 2026-12-07 (three runs of each, interleaved, load average 0.8–3.9 on 2 shared cores; every run in
 * bench/results/2026-12-07-live-fleet.md, the summary in docs/performance.md "The live call feed"): one process and
 * a fleet of two alike made 1.00 CarrierX list call per poll round (in the fleet all by the lease holder), and
 * delivered 20,000 of 20,000, none missing or doubled; latency p50 1.0–1.25 s, p99 2.0–2.15 s either way, nearly
 * all of it the wait for the poll; from the poll's answer to the client p50 61–93 ms in the fleet, 65–92 ms alone;
 * RSS 48–51 KiB a subscriber in each fleet process (which idles at 109 MiB with Redis), 65–68 KiB alone (88 MiB).
 */
import { randomBytes } from 'node:crypto';
import { subscribe as observe } from 'node:diagnostics_channel';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Agent, fetch } from 'undici';
import { createSimulator, DEMO_TOKEN, PARENT_PARTNER_SID } from '../src/carrierx/simulator/index.ts';
import { type RedisServer, startRedisServer } from '../test/helpers/redis-server.ts';
import { readCpuSeconds, readPeakRssBytes, readRssBytes } from './machine.ts';
import { createProcessGroup, freePort, type ManagedProcess, waitForHttp } from './processes.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    records: { type: 'string', default: '20' },
    'interval-ms': { type: 'string', default: '2000' },
    processes: { type: 'string' },
    fleet: { type: 'boolean', default: false },
    redis: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const subscribers = Number(values.subscribers);
const recordCount = Number(values.records);
const intervalMs = Number(values['interval-ms']);
const processCount = Number(values.processes ?? (values.fleet ? 2 : 1));
for (const [name, value] of [
  ['--subscribers', subscribers],
  ['--records', recordCount],
  ['--interval-ms', intervalMs],
  ['--processes', processCount],
] as const) {
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer`);
}
if (values.fleet && processCount < 2) throw new Error('--fleet means at least two processes');
if (subscribers < processCount) throw new Error('--subscribers must be at least --processes');
// A fleet shares its feeds only through Redis; without it each process would poll for its own subscribers.
const useRedis = processCount > 1 || values.redis;

const CDR_LIST_PATH = '/core/v2/calls/call_drs';
// One filter for every subscriber, so one poller serves them all; the records added match it.
const SUBSCRIPTION = /* GraphQL */ `
  subscription LiveBench {
    callDetailRecordAdded(filter: { direction: INBOUND }) { drSid dateInsert }
  }
`;

const output: string[] = [];
const print = (line = '') => {
  console.log(line);
  output.push(line);
};
const mib = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${(bytes / 1048576).toFixed(1)} MiB`;
const ms = (value: number | undefined) =>
  value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toFixed(0)} ms`;
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);
const sum = (numbers: readonly (number | undefined)[]) =>
  numbers.some((n) => n === undefined) ? undefined : numbers.reduce<number>((a, n) => a + (n ?? 0), 0);

// A request log large enough to hold every call of the run, so list calls are counted from it exactly.
const simulator = createSimulator({ liveRate: 0, maxRecorded: 100_000 });
/**
 * When each list call reached the simulator and when its answer was written, from Node's own HTTP server
 * events (the simulator is the only HTTP server in this process). The first list call a record's insertion
 * precedes is the one that found it: the simulator answers within the request's own event, so a call that
 * arrived earlier read the records before it. This splits a delivery's latency into the wait for the poll and
 * what the servers (and Redis) took from the poll's answer to the client.
 */
interface ListCall {
  arrived: number;
  answered?: number;
}
const listCallTimes: ListCall[] = [];
const answering = new WeakMap<object, ListCall>();
observe('http.server.request.start', (message) => {
  const { request } = message as { request: { method?: string; url?: string } };
  if (request.method !== 'GET' || !request.url?.startsWith(CDR_LIST_PATH)) return;
  const call: ListCall = { arrived: performance.now() };
  listCallTimes.push(call);
  answering.set(request, call);
});
observe('http.server.response.finish', (message) => {
  const call = answering.get((message as { request: object }).request);
  if (call) call.answered = performance.now();
});
/** When the answer of the list call that found a record added at `addedAt` was written (undefined: none yet). */
const answeredAfter = (addedAt: number) => listCallTimes.find((call) => call.arrived > addedAt)?.answered;
const baseUrl = await simulator.listen(0, '127.0.0.1');
const abort = new AbortController();
const group = createProcessGroup({
  onUnexpectedExit: (child) => {
    console.error(`${child.name} exited (${child.exit}) during the run:\n${child.tail.join('\n')}`);
    process.exitCode = 1;
    abort.abort(new Error(`${child.name} exited`));
  },
});
// Each client is one connection: undici's default pool would also open one per stream, but say so.
const dispatcher = new Agent({ connections: null, pipelining: 0, bodyTimeout: 0, headersTimeout: 60_000 });
let redis: RedisServer | undefined;
process.on('exit', () => {
  group.killAllNow();
  redis?.killNow();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    abort.abort(new Error(signal));
  });
}

interface Client {
  /** performance.now() when the stream's first bytes arrived. */
  opened?: number;
  /** When each record first arrived. */
  arrivals: Map<string, number>;
  /** Records that arrived again after their first arrival. */
  doubled: number;
  error?: string;
  ended: boolean;
}

/** One server process of the run and what was read of it. */
interface Server {
  readonly name: string;
  readonly process: ManagedProcess;
  readonly port: number;
  readonly metricsPort: number;
  readonly clients: Client[];
  rssIdle?: number | undefined;
  rssConnected?: number | undefined;
  rssAfter?: number | undefined;
  peak?: number | undefined;
  pollsBefore: number;
  polls: number;
  /** live_feed_pollers_polling at the end: 1 on the process that holds the feed's lease. */
  polling: number;
  cpuBefore?: number | undefined;
  cpu?: number | undefined;
  /**
   * The longest its event loop was held up, by the bench's phase: a Redis command's timer that expires while the
   * loop is held fires before the answer that came meanwhile is read, and the command counts as timed out.
   */
  readonly loopDelayMaxMs: Partial<Record<Phase, number>>;
  /**
   * What it logged (LOG_LEVEL=warn: warnings and errors only), e.g. Redis trouble a figure alone would hide, each
   * line with the bench's phase when it came.
   */
  readonly logged: { phase: Phase; line: string }[];
}

const built = existsSync('dist/server.js');
// Spelt with `/./`: other sessions on this machine stop *their* servers with `pkill -f src/server.ts` (see
// bench/run.ts), which must not stop the benchmark's.
const serverArgs = built
  ? ['--enable-source-maps', 'dist/./server.js']
  : ['--import', 'tsx', 'src/./server.ts'];
const perProcess = Math.ceil(subscribers / processCount);

async function subscribe(client: Client, url: string): Promise<void> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        authorization: `Bearer ${DEMO_TOKEN}`,
      },
      body: JSON.stringify({ query: SUBSCRIPTION }),
      signal: abort.signal,
      dispatcher,
    });
    if (!response.ok || !response.body) {
      client.error = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
      return;
    }
    const decoder = new TextDecoder();
    let buffered = '';
    const reader = response.body.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      const now = performance.now();
      client.opened ??= now;
      buffered += decoder.decode(chunk, { stream: true });
      let end = buffered.indexOf('\n\n');
      while (end !== -1) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf('\n\n');
        const data = event
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (!/^event: next$/m.test(event) || data === '') continue;
        const body = JSON.parse(data) as {
          data?: { callDetailRecordAdded?: { drSid: string } };
          errors?: { message: string; extensions?: { code?: string } }[];
        };
        const sid = body.data?.callDetailRecordAdded?.drSid;
        if (sid === undefined) client.error ??= JSON.stringify(body.errors ?? body).slice(0, 200);
        else if (client.arrivals.has(sid)) client.doubled += 1;
        else client.arrivals.set(sid, now);
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) client.error ??= String(error);
  } finally {
    client.ended = true;
  }
}

/** Some of a server's metrics from one scrape: each sample's value summed over its label sets (0 when absent). */
async function metrics<const N extends string>(
  server: Server,
  names: readonly N[],
): Promise<Record<N, number>> {
  const response = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
  const text = await response.text();
  const values = {} as Record<N, number>;
  // prom-client resets the event loop delay's histogram at each scrape: each one's maximum covers the time since
  // the one before, counted in the phase it ends in.
  const delayMs = Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]) * 1000;
  if (!Number.isNaN(delayMs)) {
    server.loopDelayMaxMs[phase] = Math.max(server.loopDelayMaxMs[phase] ?? 0, delayMs);
  }
  for (const name of names) {
    values[name] = 0;
    for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
      values[name] += Number(match[1]);
    }
  }
  return values;
}

/** A server's metric: a sample's value summed over its label sets (0 when absent). */
async function metric(server: Server, name: string): Promise<number> {
  return (await metrics(server, [name]))[name] ?? 0;
}

async function waitUntil(
  what: string,
  test: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    abort.signal.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** What a set of clients received of the records `added` (sid → when it was added), for one column. */
function measure(clients: readonly Client[], added: ReadonlyMap<string, number>) {
  const latencies: number[] = [];
  /** From the answer of the list call that found the record to the client. */
  const afterPoll: number[] = [];
  let missing = 0;
  for (const [sid, at] of added) {
    const answered = answeredAfter(at);
    for (const client of clients) {
      const arrived = client.arrivals.get(sid);
      if (arrived === undefined) {
        missing += 1;
        continue;
      }
      latencies.push(arrived - at);
      if (answered !== undefined) afterPoll.push(arrived - answered);
    }
  }
  latencies.sort((a, b) => a - b);
  afterPoll.sort((a, b) => a - b);
  const firstArrivals = new Map<string, number>();
  // The fan-out alone: per record, from its first client's arrival to its last's (the poll wait is common to all).
  const spreads: number[] = [];
  for (const sid of added.keys()) {
    const arrivals = clients.flatMap((client) => client.arrivals.get(sid) ?? []);
    if (arrivals.length === 0) continue;
    const first = Math.min(...arrivals);
    firstArrivals.set(sid, first);
    spreads.push(Math.max(...arrivals) - first);
  }
  spreads.sort((a, b) => a - b);
  return {
    expected: clients.length * added.size,
    latencies,
    afterPoll,
    missing,
    doubled: clients.reduce((total, client) => total + client.doubled, 0),
    unexpected: clients.reduce(
      (total, client) => total + [...client.arrivals.keys()].filter((sid) => !added.has(sid)).length,
      0,
    ),
    spreads,
    firstArrivals,
    errors: clients.filter((client) => client.error !== undefined),
  };
}

const PHASES = ['starting', 'connecting', 'settling', 'run'] as const;
type Phase = (typeof PHASES)[number];
let phase: Phase = 'starting';
const servers: Server[] = [];
const clients: Client[] = [];
try {
  // A secret of this run: every process must share it for their feeds (keyed by the credential's HMAC) to meet.
  const redisEnv: Record<string, string> = {};
  if (useRedis) {
    redis = await startRedisServer();
    Object.assign(redisEnv, { REDIS_URL: redis.url, CACHE_KEY_SECRET: randomBytes(32).toString('hex') });
  }
  for (let index = 0; index < processCount; index += 1) {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const name = processCount === 1 ? 'server' : `server ${index + 1}`;
    const child = group.start({
      name,
      args: serverArgs,
      cwd: '.',
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        ACCESS_LOG: 'false',
        PORT: String(port),
        HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        SHUTDOWN_DELAY_MS: '0',
        CARRIERX_BASE_URL: baseUrl,
        LIVE_POLL_INTERVAL_MS: String(intervalMs),
        // Raised so that one credential may hold every subscription of the run (its default is 20).
        LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL: String(perProcess),
        LIVE_MAX_SUBSCRIPTIONS: String(Math.max(perProcess, 10_000)),
        HTTP_MAX_CONNECTIONS: String(perProcess + 100),
        ...redisEnv,
      },
    });
    servers.push({
      name,
      process: child,
      port,
      metricsPort,
      clients: [],
      pollsBefore: 0,
      polls: 0,
      polling: 0,
      logged: [],
      loopDelayMaxMs: {},
    });
    child.onLine = (line) => servers[index]?.logged.push({ phase, line });
  }
  await Promise.all(
    servers.map((server) =>
      waitForHttp(`http://127.0.0.1:${server.port}/ready`, server.process, abort.signal),
    ),
  );
  await sleep(2000);
  for (const server of servers) {
    server.rssIdle = readRssBytes(server.process.pid);
    // The first scrape: the event loop's delays from the server's start to here count as its start's.
    await metric(server, 'live_feed_subscriptions');
  }

  phase = 'connecting';
  const connectStarted = performance.now();
  const streams: Promise<void>[] = [];
  for (let index = 0; index < subscribers; index += 1) {
    const client: Client = { arrivals: new Map(), doubled: 0, ended: false };
    const server = servers[index % servers.length] as Server;
    clients.push(client);
    server.clients.push(client);
    streams.push(subscribe(client, `http://127.0.0.1:${server.port}/graphql`));
    // Opened in batches of 50 so the servers' accept queues and this process's event loop keep up.
    if (index % 50 === 49) await sleep(20);
  }
  await waitUntil(
    `${subscribers} subscriptions`,
    async () => {
      const failed = clients.filter((client) => client.ended).length;
      if (failed > 0)
        throw new Error(`${failed} subscriptions ended early: ${clients.find((c) => c.error)?.error}`);
      const open = await Promise.all(servers.map((server) => metric(server, 'live_feed_subscriptions')));
      return servers.every((server, index) => (open[index] ?? 0) >= server.clients.length);
    },
    120_000,
  );
  const connectMs = performance.now() - connectStarted;
  phase = 'settling';
  // Two intervals so that the poller has its watermark and the heap settles after the connections' burst.
  await sleep(2 * intervalMs);
  for (const server of servers) server.rssConnected = readRssBytes(server.process.pid);

  simulator.resetLog();
  for (const server of servers) {
    server.pollsBefore = await metric(server, 'live_feed_polls_total');
    server.cpuBefore = readCpuSeconds(server.process.pid);
  }
  const redisCpuBefore = redis ? readCpuSeconds(redis.pid) : undefined;
  phase = 'run';
  const runStarted = performance.now();
  const added = new Map<string, number>();
  const insertedAt: string[] = [];
  for (let index = 0; index < recordCount; index += 1) {
    // Record i is added at (i + phase) intervals, the phases spread evenly over [0, 1) (golden-ratio steps):
    // added exactly one interval apart, every record would meet the poll at the same point of its cycle, and
    // the latency would measure that one point rather than the spread a record inserted at any time sees.
    const phase = (index * 0.618_033_988_7) % 1;
    const at = runStarted + (index + phase) * intervalMs;
    await sleep(Math.max(0, at - performance.now()));
    // The demo token's own partner: it cannot see the child partner's calls, which the simulator otherwise
    // draws for about one record in ten.
    const [record] = simulator.addRecords({
      count: 1,
      partnerSid: PARENT_PARTNER_SID,
      fields: { direction: 'inbound' },
    });
    added.set(String(record?.dr_sid), performance.now());
    insertedAt.push(String(record?.date_insert));
  }
  // Every record is found at the next poll: wait for all to arrive everywhere, at most 3 intervals + 10 s.
  await waitUntil(
    'every record at every client',
    () => clients.every((client) => client.ended || client.arrivals.size >= recordCount),
    3 * intervalMs + 10_000,
  ).catch((error: Error) => print(`(stopped waiting: ${error.message})`));
  // A record delivered twice would come after the first: give a double the time of one more round to show.
  await sleep(intervalMs);
  const runMs = performance.now() - runStarted;
  for (const server of servers) {
    const read = await metrics(server, ['live_feed_polls_total', 'live_feed_pollers_polling']);
    server.polls = read.live_feed_polls_total - server.pollsBefore;
    server.polling = read.live_feed_pollers_polling;
    server.rssAfter = readRssBytes(server.process.pid);
    server.peak = readPeakRssBytes(server.process.pid);
    const cpu = readCpuSeconds(server.process.pid);
    server.cpu = cpu === undefined || server.cpuBefore === undefined ? undefined : cpu - server.cpuBefore;
  }
  const redisCpu =
    redis && redisCpuBefore !== undefined
      ? (readCpuSeconds(redis.pid) ?? Number.NaN) - redisCpuBefore
      : undefined;
  const listCalls = simulator.requests.filter(
    (request) => request.method === 'GET' && request.path === CDR_LIST_PATH,
  );
  const [load1, load5] = loadavg();

  const fleet = measure(clients, added);
  const each = servers.map((server) => measure(server.clients, added));
  // Records no client got, by their place in the run: a feed that skips a record skips it for everyone.
  const lost = [...added.keys()].flatMap((sid, index) =>
    fleet.firstArrivals.has(sid) ? [] : [`#${index + 1} (${insertedAt[index]})`],
  );
  const pollRounds = servers.reduce((total, server) => total + server.polls, 0);

  const several = servers.length > 1;
  /** One row: the fleet's figure, then (with several processes) each process's. */
  const row = (label: string, whole: string, perServer?: (server: Server, index: number) => string) => {
    const cells = several
      ? [whole, ...servers.map((server, index) => perServer?.(server, index) ?? '—')]
      : [whole];
    print(`| ${label} | ${cells.join(' | ')} |`);
  };
  const deliveries = (m: ReturnType<typeof measure>) =>
    `${m.latencies.length} of ${m.expected}: missing ${m.missing}, doubled ${m.doubled}, unexpected ${m.unexpected}`;
  const perSubscriber = (connected: number | undefined, idle: number | undefined, count: number) =>
    connected === undefined || idle === undefined
      ? 'n/a'
      : `${((connected - idle) / count / 1024).toFixed(1)} KiB`;
  const cpuSeconds = (seconds: number | undefined) =>
    seconds === undefined ? 'n/a' : `${seconds.toFixed(2)} s`;

  print(
    `Live feed: ${subscribers} SSE subscribers on one filter, ` +
      (several
        ? `${servers.length} server processes sharing one redis-server (subscriber i on process i mod ${servers.length})`
        : `one server process${useRedis ? ' with REDIS_URL' : ''}`) +
      ` (${built ? 'dist/server.js' : 'src/server.ts via tsx'}), ` +
      `${recordCount} records added one every ${intervalMs} ms, LIVE_POLL_INTERVAL_MS=${intervalMs}`,
  );
  print();
  const heading = (server: Server) => `${server.name}${server.polling > 0 ? ' (polls)' : ''}`;
  print(several ? `| measure | whole fleet | ${servers.map(heading).join(' | ')} |` : '| measure | value |');
  print(several ? `| --- | --- | ${servers.map(() => '---').join(' | ')} |` : '| --- | --- |');
  row('subscriptions open (connect time)', `${subscribers} (${(connectMs / 1000).toFixed(1)} s)`, (server) =>
    String(server.clients.length),
  );
  row(
    'CarrierX list calls during the run (at the simulator)',
    `${listCalls.length} in ${(runMs / 1000).toFixed(1)} s`,
  );
  row(
    'CarrierX list calls per poll interval (target 1)',
    (listCalls.length / (runMs / intervalMs)).toFixed(2),
  );
  row(
    'poll rounds (live_feed_polls_total), feeds polled at the end (live_feed_pollers_polling)',
    `${pollRounds}, ${sum(servers.map((server) => server.polling))}`,
    (server) => `${server.polls}, ${server.polling}`,
  );
  row('CarrierX list calls per poll round (target 1)', (listCalls.length / pollRounds).toFixed(2));
  row(
    'CarrierX answers other than 200',
    String(listCalls.filter((request) => request.status !== 200).length),
  );
  row('deliveries', deliveries(fleet), (_, index) => deliveries(each[index] as typeof fleet));
  if (lost.length > 0) row('records no client received', lost.join(', '));
  for (const p of [50, 99] as const) {
    row(`delivery latency p${p}`, ms(percentile(fleet.latencies, p)), (_, index) =>
      ms(percentile((each[index] as typeof fleet).latencies, p)),
    );
  }
  row('delivery latency max', ms(fleet.latencies.at(-1)), (_, index) =>
    ms((each[index] as typeof fleet).latencies.at(-1)),
  );
  const pollWaits = [...added.values()]
    .map((at) => (answeredAfter(at) ?? Number.NaN) - at)
    .filter((wait) => !Number.isNaN(wait))
    .sort((a, b) => a - b);
  row(
    'of which the wait for the poll: insert to the answer of the list call that found it: median, max',
    `${ms(percentile(pollWaits, 50))}, ${ms(pollWaits.at(-1))}`,
  );
  row(
    'from that answer to the client: p50, p99, max',
    `${ms(percentile(fleet.afterPoll, 50))}, ${ms(percentile(fleet.afterPoll, 99))}, ${ms(fleet.afterPoll.at(-1))}`,
    (_, index) => {
      const afterPoll = (each[index] as typeof fleet).afterPoll;
      return `${ms(percentile(afterPoll, 50))}, ${ms(percentile(afterPoll, 99))}, ${ms(afterPoll.at(-1))}`;
    },
  );
  row(
    'fan-out per record, first to last client: median, max',
    `${ms(percentile(fleet.spreads, 50))}, ${ms(fleet.spreads.at(-1))}`,
    (_, index) => {
      const spreads = (each[index] as typeof fleet).spreads;
      return `${ms(percentile(spreads, 50))}, ${ms(spreads.at(-1))}`;
    },
  );
  if (several) {
    // How much later a process's first client got each record than the fleet's first client: the follower's
    // Redis hop (pub/sub message, then reading the log) against the poller's own read after its append.
    row("first arrival per record behind the fleet's first: median, max", '—', (_, index) => {
      const behind = [...(each[index] as typeof fleet).firstArrivals]
        .map(([sid, at]) => at - (fleet.firstArrivals.get(sid) ?? at))
        .sort((a, b) => a - b);
      return `${ms(percentile(behind, 50))}, ${ms(behind.at(-1))}`;
    });
  }
  row(
    `server event loop delay, max while ${PHASES.join(' / ')} (nodejs_eventloop_lag_max_seconds)`,
    PHASES.map((when) =>
      ms(Math.max(...servers.map((server) => server.loopDelayMaxMs[when] ?? Number.NaN))),
    ).join(' / '),
    (server) => PHASES.map((when) => ms(server.loopDelayMaxMs[when])).join(' / '),
  );
  const logged = servers.flatMap((server) => server.logged);
  // In full on stderr (not in --out): the table only counts them.
  for (const server of servers) {
    for (const { phase: when, line } of server.logged) console.error(`${server.name} (${when}): ${line}`);
  }
  row(
    'server log lines (warnings and errors)',
    `${logged.length}${logged[0] ? ` (first, ${logged[0].phase}: ${logged[0].line.slice(0, 200)})` : ''}`,
    (server) => [server.logged.length, ...new Set(server.logged.map((entry) => entry.phase))].join(', '),
  );
  row(
    'clients with an error',
    `${fleet.errors.length}${fleet.errors[0] ? ` (first: ${fleet.errors[0].error})` : ''}`,
    (_, index) => String((each[index] as typeof fleet).errors.length),
  );
  const rssCell = (idle?: number, connected?: number, after?: number, peak?: number) =>
    `${mib(idle)} / ${mib(connected)} / ${mib(after)} (${mib(peak)})`;
  row(
    'server RSS idle / connected / after the run (peak)',
    rssCell(
      sum(servers.map((s) => s.rssIdle)),
      sum(servers.map((s) => s.rssConnected)),
      sum(servers.map((s) => s.rssAfter)),
      sum(servers.map((s) => s.peak)),
    ),
    (server) => rssCell(server.rssIdle, server.rssConnected, server.rssAfter, server.peak),
  );
  row(
    'server RSS per subscriber',
    perSubscriber(sum(servers.map((s) => s.rssConnected)), sum(servers.map((s) => s.rssIdle)), subscribers),
    (server) => perSubscriber(server.rssConnected, server.rssIdle, server.clients.length),
  );
  row('server CPU during the run', cpuSeconds(sum(servers.map((s) => s.cpu))), (server) =>
    cpuSeconds(server.cpu),
  );
  if (redis) row('redis-server CPU during the run', cpuSeconds(redisCpu));
  row('load average (1 min, 5 min)', `${load1?.toFixed(2)}, ${load5?.toFixed(2)}`);
  print();
  print(
    `Latency runs from the record's insertion at the simulator to its arrival at a client, so it includes the wait ` +
      `for the next poll: up to one poll interval (${intervalMs} ms), about half of one on average. The clients ` +
      'and the simulator share this process, whose event loop also adds to it. List calls per poll interval count ' +
      "over the run's wall time, and a round is an interval plus the round's own time: per round is the exact figure. " +
      'RSS per subscriber is (connected − idle) / subscribers, so it also carries the code the first subscription ' +
      'compiled: small runs overstate it. The run ends one interval after the last arrival, for doubles to show.' +
      (useRedis
        ? ' With Redis, the process whose live_feed_pollers_polling is 1 holds the lease and polls; every process ' +
          "(it too) reads each record back from the feed's log in Redis before its subscribers get it."
        : ''),
  );
  if (values.out) writeFileSync(values.out, `${output.join('\n')}\n`);
  if (fleet.errors.length > 0 || fleet.missing > 0 || fleet.unexpected > 0 || fleet.doubled > 0) {
    process.exitCode = 1;
  }
} finally {
  abort.abort(new Error('done'));
  await group.stopAll();
  await redis?.stop();
  await dispatcher.close().catch(() => undefined);
  await simulator.close();
}
