import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSimulator, DEMO_TOKEN, type Simulator } from '../src/carrierx/simulator/index.ts';
import { freePort } from './helpers/free-port.ts';
import { HAPROXY_CHECK, type Haproxy, REPLICA_SHUTDOWN_DELAY_MS, startHaproxy } from './helpers/haproxy.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';
import { alive, type ServerProcess, startServerProcess } from './helpers/server-process.ts';

// Issue 22: users run this service as replicas behind an L4 balancer (a Kubernetes Service) sharing one Redis.
// Here: three production replicas (dist/server.js, as `npm start` runs it) behind Debian's HAProxy in TCP mode
// with retries off (as kube-proxy behaves: a connection goes to one replica, and nothing is resent), checking
// /ready; one real redis-server; one CarrierX simulator all replicas call; 24 keep-alive clients asking all
// along, every answer checked. The fleet goes through a rolling restart, a frozen Redis, a Redis killed and
// restarted, and one replica killed with SIGKILL. Only the requests the killed replica held may fail.

const CLIENTS = 24;
const REPLICAS = 3;
// HAProxy's health check (test/helpers/haproxy.ts): GET /ready every CHECK_INTER_MS, back after CHECK_RISE
// successes (out after HAPROXY_CHECK.fall failures).
const { interMs: CHECK_INTER_MS, rise: CHECK_RISE } = HAPROXY_CHECK;
// Sized to that check there: a replica told to stop still accepts what HAProxy sends it until a check has
// taken it out.
const SHUTDOWN_DELAY_MS = REPLICA_SHUTDOWN_DELAY_MS;
const REDIS_TIMEOUT_MS = 250;
const FREEZE_MS = 2_000;
// A client whose request failed waits this long before its next one, as a client backs off; it is more than
// HAProxy takes to see a dead replica (HAPROXY_CHECK.fall × CHECK_INTER_MS) with a wide margin.
const BACKOFF_MS = 2_000;
// Between one answer and a client's next request; the connection stays open (keep-alive) meanwhile.
const PAUSE_MS = 20;
const SECRET = 'a-cache-key-secret-of-at-least-32-characters';
const RECORD = `query Record($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price direction } }`;
const PRICE = `query Price($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
const LIST = `query Page($first: Int!) { callDetailRecords(first: $first) { nodes { drSid price direction } } }`;

type Row = { drSid: string; price: string; direction: string };
type Phase = 'steady' | 'rolling restart' | 'Redis frozen' | 'Redis restarted' | 'replica killed' | 'after';

/**
 * The TCP connections established to `port` on loopback, from the kernel's table (each one's server side has
 * `port` as its local port; state 01 is ESTABLISHED).
 */
function connectionsTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(`:${hex}`) && fields[3] === '01';
    }).length;
}

describe('three production replicas behind HAProxy sharing one Redis, under steady load', () => {
  let redis: RedisServer;
  let simulator: Simulator;
  let baseUrl: string;
  let haproxy: Haproxy;
  let frontPort: number;
  const replicaPorts: number[] = [];
  const metricsPorts: number[] = [];
  const replicas: ServerProcess[] = [];
  let frozenPid = 0;

  function startReplica(i: number): Promise<ServerProcess> {
    return startServerProcess({
      NODE_ENV: 'production',
      PORT: String(replicaPorts[i]),
      CARRIERX_BASE_URL: baseUrl,
      REDIS_URL: redis.url,
      REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
      CACHE_KEY_SECRET: SECRET,
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      METRICS_PORT: String(metricsPorts[i]),
      // `shutting down` and `stopped` are info lines: they show a replica stopped as asked.
      LOG_LEVEL: 'info',
      ACCESS_LOG: 'false',
    });
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    simulator = createSimulator();
    baseUrl = await simulator.listen(0, '127.0.0.1');
    for (let i = 0; i < REPLICAS; i++) {
      replicaPorts.push(await freePort());
      metricsPorts.push(await freePort());
    }
    for (let i = 0; i < REPLICAS; i++) replicas.push(await startReplica(i));
    frontPort = await freePort();
    // Fails, not skips, without HAProxy: .ci/run installs Debian's haproxy.
    haproxy = await startHaproxy(frontPort, replicaPorts);
  }, 60_000);

  afterAll(async () => {
    try {
      if (frozenPid && alive(frozenPid)) process.kill(frozenPid, 'SIGCONT');
    } finally {
      await haproxy?.stop();
      // Each stops at once: a second signal ends its shutdown delay.
      await Promise.all(
        replicas.map(async (replica) => {
          const stopped = replica.stop();
          await sleep(50);
          if (alive(replica.pid)) process.kill(replica.pid, 'SIGTERM');
          await stopped;
        }),
      );
      await simulator?.close();
      await redis?.stop();
    }
  }, 30_000);

  async function graphql(port: number, query: string, variables: Record<string, unknown>) {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, answer: (await response.json()) as Record<string, unknown> };
  }

  async function metric(i: number, series: string): Promise<number> {
    const text = await fetch(`http://127.0.0.1:${metricsPorts[i]}/metrics`)
      .then((response) => response.text())
      .catch(() => '');
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
  }

  /** Resolves once HAProxy sends connections to the replica on `port` again (its /ready has passed CHECK_RISE checks). */
  async function backInRotation(i: number): Promise<void> {
    await vi.waitFor(
      async () => expect((await fetch(`http://127.0.0.1:${replicaPorts[i]}/ready`)).status).toBe(200),
      { timeout: 5_000, interval: 50 },
    );
    // Its checks run every CHECK_INTER_MS; CHECK_RISE of them in a row put it back, and one more is margin.
    await sleep((CHECK_RISE + 2) * CHECK_INTER_MS);
  }

  it('answers every request through a rolling restart, a frozen and a restarted Redis, and fails only what a killed replica held', async () => {
    // The records the load asks for, as CarrierX has them; the list is taken from the simulator's own answer.
    const listed = await graphql(frontPort, LIST, { first: 60 });
    const rows = (listed.answer as { data: { callDetailRecords: { nodes: Row[] } } }).data.callDetailRecords
      .nodes;
    expect(rows).toHaveLength(60);

    let phase: Phase = 'steady';
    let running = true;
    const ok = new Map<Phase, number>();
    const failures: { phase: Phase; error: string }[] = [];
    const wrong: { phase: Phase; expected: unknown; got: unknown }[] = [];

    async function client(n: number): Promise<void> {
      // One keep-alive connection per client, one request at a time on it (undici's default pipelining of 1).
      const connection = new Client(`http://127.0.0.1:${frontPort}`);
      try {
        for (let k = n; running; k++) {
          const row = rows[(k * 7) % rows.length] as Row;
          const whole = k % 2 === 0;
          const expected = whole ? row : { drSid: row.drSid, price: row.price };
          try {
            const response = await connection.request({
              path: '/graphql',
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
              body: JSON.stringify({ query: whole ? RECORD : PRICE, variables: { drSid: row.drSid } }),
            });
            const text = await response.body.text();
            const got = { status: response.statusCode, body: text };
            if (
              response.statusCode === 200 &&
              JSON.stringify(JSON.parse(text)) === JSON.stringify({ data: { callDetailRecord: expected } })
            ) {
              ok.set(phase, (ok.get(phase) ?? 0) + 1);
            } else wrong.push({ phase, expected, got });
          } catch (error) {
            // Counted in the phase it failed in (a request in flight at a kill fails after it).
            failures.push({ phase, error: `${(error as Error).name}: ${(error as Error).message}` });
            await sleep(BACKOFF_MS);
          }
          // A steady load rather than all the machine's CPU: replicas restarted under it must still start.
          await sleep(PAUSE_MS);
        }
      } finally {
        await connection.close().catch(() => {});
      }
    }

    const load = Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
    try {
      // Steady once every client has had a few answers.
      await vi.waitFor(() => expect(ok.get('steady') ?? 0).toBeGreaterThanOrEqual(3 * CLIENTS), {
        timeout: 20_000,
        interval: 50,
      });

      // Each replica in turn gets SIGTERM, stops, and is started again on its port; the next one only once
      // HAProxy sends to it again.
      phase = 'rolling restart';
      for (let i = 0; i < REPLICAS; i++) {
        const old = replicas[i] as ServerProcess;
        await old.stop();
        expect(old.output, `replica ${i} did not stop cleanly:\n${old.output}`).toContain('"msg":"stopped"');
        replicas[i] = await startReplica(i);
        await backInRotation(i);
      }

      // Redis stops answering without closing its connections: each Redis step gives up after REDIS_TIMEOUT_MS
      // and the replicas answer from CarrierX.
      phase = 'Redis frozen';
      frozenPid = redis.pid;
      process.kill(frozenPid, 'SIGSTOP');
      await sleep(FREEZE_MS);
      process.kill(frozenPid, 'SIGCONT');
      frozenPid = 0;
      await sleep(1_000);

      // Redis dies and comes back empty on the same port.
      phase = 'Redis restarted';
      redis.killNow();
      await vi.waitFor(() => expect(redis.pid).toBe(0), { timeout: 5_000, interval: 20 });
      await sleep(500);
      await redis.start();
      await vi.waitFor(
        async () => {
          for (let i = 0; i < REPLICAS; i++) expect(await metric(i, 'cdr_cache_redis_up')).toBe(1);
        },
        { timeout: 10_000, interval: 100 },
      );

      // One replica dies at once. Only the requests it held may fail: undici sends one request at a time on a
      // connection, so it held at most one per connection HAProxy had open to it, counted just before. Its
      // clients back off (BACKOFF_MS) longer than HAProxy takes to take it out, so their next request goes to
      // another replica; and HAProxy sends no other client's new connection to it once one is refused.
      phase = 'replica killed';
      const victim = 1;
      const held = connectionsTo(replicaPorts[victim] as number);
      process.kill((replicas[victim] as ServerProcess).pid, 'SIGKILL');
      await sleep(BACKOFF_MS + 1_000);
      replicas[victim] = await startReplica(victim);
      await backInRotation(victim);

      phase = 'after';
      await sleep(1_000);
      running = false;
      await load;

      const failed = (p: Phase) => failures.filter((f) => f.phase === p);
      const report = JSON.stringify(
        { ok: Object.fromEntries(ok), failures, wrong: wrong.slice(0, 5) },
        null,
        1,
      );
      expect(wrong, report).toEqual([]);
      for (const p of ['steady', 'rolling restart', 'Redis frozen', 'Redis restarted', 'after'] as const) {
        expect(failed(p), `${p}: ${report}`).toEqual([]);
        expect(ok.get(p) ?? 0, `${p}: ${report}`).toBeGreaterThan(0);
      }
      expect(failed('replica killed').length, report).toBeLessThanOrEqual(held);
      expect(ok.get('replica killed') ?? 0, report).toBeGreaterThan(0);
    } finally {
      running = false;
      await load;
    }

    // No replica exited unasked, and HAProxy runs on.
    for (const replica of replicas) expect(alive(replica.pid), `exited:\n${replica.output}`).toBe(true);
    expect(haproxy.exitCode, haproxy.output).toBeNull();

    // The replicas share the cache again: a record none has read (taken from the simulator itself), fetched
    // through one replica, is served to the two others from Redis, with no second call to CarrierX.
    const listing = await fetch(`${baseUrl}/calls/call_drs?limit=1&offset=500`, {
      headers: { authorization: `Bearer ${DEMO_TOKEN}` },
    });
    const drSid = ((await listing.json()) as { items: { dr_sid: string }[] }).items[0]?.dr_sid as string;
    expect(rows.map((row) => row.drSid)).not.toContain(drSid);
    simulator.resetLog();
    const first = await graphql(replicaPorts[0] as number, RECORD, { drSid });
    const record = (first.answer as { data: { callDetailRecord: Row } }).data.callDetailRecord;
    expect(record.drSid).toBe(drSid);
    for (const i of [2, 1]) {
      expect(await graphql(replicaPorts[i] as number, RECORD, { drSid })).toEqual({
        status: 200,
        answer: { data: { callDetailRecord: record } },
      });
    }
    expect(simulator.requests.filter((r) => r.path.endsWith(`/calls/call_drs/${drSid}`))).toHaveLength(1);
    // About a minute on two busy cores, most of it replicas starting again under the load; twice that before
    // it counts as hung.
  }, 150_000);
});
