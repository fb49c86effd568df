/**
 * The live feed's benchmark (issue 24, "Benchmark"): N SSE subscribers (default 1,000) on one filter, one server
 * process. Prints CarrierX list calls per poll interval (target 1), the delivery latency from a record's
 * appearance at the simulator to each client (p50, p99) and the server's RSS per subscriber.
 *
 *   npm run bench:live [-- --subscribers 1000 --records 20 --interval-ms 2000 --out bench/results/live.md]
 *
 * The simulator runs in this process (liveRate 0: only the records this script adds), the server as a child
 * process (dist/server.js when built, else src/server.ts through tsx), so /proc's VmRSS is the server's alone.
 * The SSE clients also run in this process: their parsing shares a core with the simulator, and a busy bench
 * process shows up as latency. The two-process + Redis half of the issue's benchmark is not here (no Redis
 * fan-out yet).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Agent, fetch } from 'undici';
import { createSimulator, DEMO_TOKEN, PARENT_PARTNER_SID } from '../src/carrierx/simulator/index.ts';
import { readPeakRssBytes, readRssBytes } from './machine.ts';
import { createProcessGroup, freePort, waitForHttp } from './processes.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    records: { type: 'string', default: '20' },
    'interval-ms': { type: 'string', default: '2000' },
    out: { type: 'string' },
  },
});
const subscribers = Number(values.subscribers);
const recordCount = Number(values.records);
const intervalMs = Number(values['interval-ms']);
for (const [name, value] of [
  ['--subscribers', subscribers],
  ['--records', recordCount],
  ['--interval-ms', intervalMs],
] as const) {
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer`);
}

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
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);

// A request log large enough to hold every call of the run, so list calls are counted from it exactly.
const simulator = createSimulator({ liveRate: 0, maxRecorded: 100_000 });
const baseUrl = await simulator.listen(0, '127.0.0.1');
const group = createProcessGroup({
  onUnexpectedExit: (child) => {
    console.error(`${child.name} exited (${child.exit}) during the run:\n${child.tail.join('\n')}`);
    process.exitCode = 1;
    abort.abort(new Error(`${child.name} exited`));
  },
});
const abort = new AbortController();
// Each client is one connection: undici's default pool would also open one per stream, but say so.
const dispatcher = new Agent({ connections: null, pipelining: 0, bodyTimeout: 0, headersTimeout: 60_000 });
process.on('exit', () => group.killAllNow());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    abort.abort(new Error(signal));
  });
}

const built = existsSync('dist/server.js');
const [port, metricsPort] = [await freePort(), await freePort()];
const server = group.start({
  name: 'server',
  args: built ? ['--enable-source-maps', 'dist/server.js'] : ['--import', 'tsx', 'src/server.ts'],
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
    LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL: String(subscribers),
    LIVE_MAX_SUBSCRIPTIONS: String(Math.max(subscribers, 10_000)),
    HTTP_MAX_CONNECTIONS: String(subscribers + 100),
  },
});

interface Client {
  /** performance.now() when the stream's first bytes arrived. */
  opened?: number;
  arrivals: Map<string, number>;
  error?: string;
  ended: boolean;
}

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
        if (sid !== undefined) client.arrivals.set(sid, now);
        else client.error ??= JSON.stringify(body.errors ?? body).slice(0, 200);
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) client.error ??= String(error);
  } finally {
    client.ended = true;
  }
}

/** The server's metrics: a sample's value summed over its label sets (0 when absent). */
async function metric(name: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await response.text();
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    sum += Number(match[1]);
  }
  return sum;
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

const clients: Client[] = [];
try {
  await waitForHttp(`http://127.0.0.1:${port}/ready`, server, abort.signal);
  const url = `http://127.0.0.1:${port}/graphql`;
  await sleep(2000);
  const rssIdle = readRssBytes(server.pid);

  const connectStarted = performance.now();
  const streams: Promise<void>[] = [];
  for (let index = 0; index < subscribers; index += 1) {
    const client: Client = { arrivals: new Map(), ended: false };
    clients.push(client);
    streams.push(subscribe(client, url));
    // Opened in batches of 50 so the server's accept queue and this process's event loop keep up.
    if (index % 50 === 49) await sleep(20);
  }
  await waitUntil(
    `${subscribers} subscriptions`,
    async () => {
      const failed = clients.filter((client) => client.ended).length;
      if (failed > 0)
        throw new Error(`${failed} subscriptions ended early: ${clients.find((c) => c.error)?.error}`);
      return (await metric('live_feed_subscriptions')) >= subscribers;
    },
    120_000,
  );
  const connectMs = performance.now() - connectStarted;
  // Two intervals so that the poller has its watermark and the heap settles after the connections' burst.
  await sleep(2 * intervalMs);
  const rssConnected = readRssBytes(server.pid);

  simulator.resetLog();
  const pollsBefore = await metric('live_feed_polls_total');
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
  const runMs = performance.now() - runStarted;
  const pollRounds = (await metric('live_feed_polls_total')) - pollsBefore;
  const pollers = await metric('live_feed_pollers');
  const rssAfter = readRssBytes(server.pid);
  const peak = readPeakRssBytes(server.pid);
  const listCalls = simulator.requests.filter(
    (request) => request.method === 'GET' && request.path === CDR_LIST_PATH,
  );

  const latencies: number[] = [];
  let missing = 0;
  for (const client of clients) {
    for (const [sid, at] of added) {
      const arrived = client.arrivals.get(sid);
      if (arrived === undefined) missing += 1;
      else latencies.push(arrived - at);
    }
  }
  latencies.sort((a, b) => a - b);
  // The fan-out alone: per record, from its first client's arrival to its last's (the poll wait is common to all).
  const spreads = [...added.keys()]
    .map((sid) => clients.flatMap((client) => client.arrivals.get(sid) ?? []))
    .filter((arrivals) => arrivals.length > 0)
    .map((arrivals) => Math.max(...arrivals) - Math.min(...arrivals))
    .sort((a, b) => a - b);
  // Records no client got, by their place in the run: a feed that skips a record skips it for everyone.
  const lost = [...added.keys()].flatMap((sid, index) =>
    clients.some((client) => client.arrivals.has(sid)) ? [] : [`#${index + 1} (${insertedAt[index]})`],
  );
  const errors = clients.filter((client) => client.error !== undefined);
  const unexpected = clients.reduce(
    (sum, client) => sum + [...client.arrivals.keys()].filter((sid) => !added.has(sid)).length,
    0,
  );
  const [load1, load5] = loadavg();

  print(
    `Live feed: ${subscribers} SSE subscribers on one filter, one server process (${built ? 'dist/server.js' : 'src/server.ts via tsx'}), ` +
      `${recordCount} records added one every ${intervalMs} ms, LIVE_POLL_INTERVAL_MS=${intervalMs}`,
  );
  print();
  print('| measure | value |');
  print('| --- | --- |');
  print(`| subscriptions open (connect time) | ${subscribers} (${(connectMs / 1000).toFixed(1)} s) |`);
  print(`| CarrierX list calls during the run | ${listCalls.length} in ${(runMs / 1000).toFixed(1)} s |`);
  print(
    `| CarrierX list calls per poll interval (target 1) | ${(listCalls.length / (runMs / intervalMs)).toFixed(2)} |`,
  );
  print(`| poll rounds (server's live_feed_polls_total), pollers at the end | ${pollRounds}, ${pollers} |`);
  print(`| CarrierX list calls per poll round (target 1) | ${(listCalls.length / pollRounds).toFixed(2)} |`);
  print(
    `| CarrierX answers other than 200 | ${listCalls.filter((request) => request.status !== 200).length} |`,
  );
  print(
    `| deliveries (expected ${subscribers * recordCount}) | ${latencies.length}, missing ${missing}, unexpected ${unexpected} |`,
  );
  if (lost.length > 0) print(`| records no client received | ${lost.join(', ')} |`);
  print(`| delivery latency p50 | ${percentile(latencies, 50).toFixed(0)} ms |`);
  print(`| delivery latency p99 | ${percentile(latencies, 99).toFixed(0)} ms |`);
  print(`| delivery latency max | ${(latencies.at(-1) ?? Number.NaN).toFixed(0)} ms |`);
  print(
    `| fan-out per record, first to last client: median, max | ${percentile(spreads, 50).toFixed(0)} ms, ${(spreads.at(-1) ?? Number.NaN).toFixed(0)} ms |`,
  );
  print(`| clients with an error | ${errors.length}${errors[0] ? ` (first: ${errors[0].error})` : ''} |`);
  print(
    `| server RSS idle / ${subscribers} connected / after the run (peak) | ${mib(rssIdle)} / ${mib(rssConnected)} / ${mib(rssAfter)} (${mib(peak)}) |`,
  );
  if (rssIdle !== undefined && rssConnected !== undefined) {
    print(
      `| server RSS per subscriber | ${((rssConnected - rssIdle) / subscribers / 1024).toFixed(1)} KiB |`,
    );
  }
  print(`| load average (1 min, 5 min) | ${load1?.toFixed(2)}, ${load5?.toFixed(2)} |`);
  print();
  print(
    `Latency runs from the record's insertion at the simulator to its arrival at a client, so it includes the wait ` +
      `for the next poll: up to one poll interval (${intervalMs} ms), about half of one on average. The clients ` +
      'and the simulator share this process, whose event loop also adds to it. List calls per poll interval count ' +
      "over the run's wall time, and a round is an interval plus the round's own time: per round is the exact figure. " +
      'RSS per subscriber is (connected − idle) / subscribers, so it also carries the code the first subscription ' +
      'compiled: small runs overstate it. The two-process + Redis half of the benchmark waits for the Redis fan-out.',
  );
  if (values.out) writeFileSync(values.out, `${output.join('\n')}\n`);
  if (errors.length > 0 || missing > 0 || unexpected > 0) process.exitCode = 1;
} finally {
  abort.abort(new Error('done'));
  await group.stopAll();
  await dispatcher.close().catch(() => undefined);
  await simulator.close();
}
