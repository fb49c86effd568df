import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { SERVER_ARGS } from './helpers/server-process.ts';

/** The cluster's workers: children of the primary running the same compiled entry point. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'dist/server\\.js'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

const ADMIN_TOKEN = 'cluster-test-admin-token';

describe('WEB_CONCURRENCY=2 (npm start as a cluster)', () => {
  let primary: ChildProcess;
  let output = '';
  let url = '';
  let simulator = '';

  /**
   * One query on a connection of its own. A pooled keep-alive connection (fetch's default) may belong to a
   * worker the test has just killed, and reusing it fails with "other side closed" whatever the cluster does;
   * a new connection is always handed to a live worker by the primary.
   */
  const query = async () => {
    const body = JSON.stringify({ query: `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid price } }` });
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        authorization: 'Bearer carrierx-demo-token',
      },
    });
    req.end(body);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let text = '';
    for await (const chunk of res) text += chunk;
    return { status: res.statusCode, body: JSON.parse(text) as unknown };
  };

  beforeAll(async () => {
    primary = spawn(process.execPath, SERVER_ARGS, {
      env: {
        ...process.env,
        WEB_CONCURRENCY: '2',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        SIMULATOR_PORT: '0',
        METRICS_PORT: '0',
        // The cache at its default (on, in each worker's memory), with the invalidation endpoint and the
        // embedded simulator's counters, to see which worker calls CarrierX.
        CACHE_TTL_MS: '60000',
        CACHE_ADMIN_TOKEN: ADMIN_TOKEN,
        SIMULATOR_CONTROL: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    primary.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    primary.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // Waits for the banner, which the primary prints once every worker listens. Event-driven, with a bound
    // far above a normal start: on a loaded 2-core machine, three processes compiling through tsx (as the
    // server started before dist/) have been seen to take 18 s.
    url = await new Promise<string>((resolve, reject) => {
      const onData = () => {
        const match = /listening on (http:\/\/\S+\/graphql)/.exec(output);
        if (match) resolve(match[1] as string);
      };
      primary.stdout?.on('data', onData);
      onData();
      primary.once('exit', (code) =>
        reject(new Error(`the cluster exited (${code}) before listening:\n${output}`)),
      );
    });
    simulator = /control API at (http:\/\/\S+\/_simulator\/)/.exec(output)?.[1] ?? '';
  }, 90_000);

  afterAll(() => {
    if (primary.exitCode === null) primary.kill('SIGKILL');
  });

  it('prints one banner for all workers and serves from two worker processes', async () => {
    expect(output.match(/listening on/g)).toHaveLength(1);
    expect(output).toContain('Workers:   2 processes (WEB_CONCURRENCY)');
    expect(output).toContain('the embedded CarrierX simulator');
    expect(childrenOf(primary.pid as number)).toHaveLength(2);
    for (let i = 0; i < 4; i++) {
      expect(await query()).toEqual({
        status: 200,
        body: { data: { callDetailRecord: { drSid: SAMPLE_DR_SID, price: '0.0025' } } },
      });
    }
  });

  it('drops an invalidated record in every worker before it answers', async () => {
    expect(simulator).not.toBe('');
    const upstreamCalls = async () => {
      const stats = (await (await fetch(`${simulator}stats`)).json()) as { requests: number };
      return stats.requests;
    };
    // Both workers hold the record: new connections go to the workers in turn, and none calls CarrierX.
    for (let i = 0; i < 4; i++) await query();
    await fetch(`${simulator}stats`, { method: 'DELETE' });
    for (let i = 0; i < 4; i++) expect((await query()).status).toBe(200);
    expect(await upstreamCalls()).toBe(0);

    const body = JSON.stringify({ drSids: [SAMPLE_DR_SID] });
    const answer = await fetch(url.replace(/\/graphql$/, '/cache/invalidate'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body,
    });
    expect({ status: answer.status, body: await answer.json() }).toEqual({
      status: 200,
      body: { invalidated: 1 },
    });
    // Each worker fetches the record again, once: the one that received the invalidation and the other.
    for (let i = 0; i < 20 && (await upstreamCalls()) < 2; i++) await query();
    expect(await upstreamCalls()).toBe(2);
    for (let i = 0; i < 4; i++) await query();
    expect(await upstreamCalls()).toBe(2);
  }, 60_000);

  it('replaces a worker that dies and keeps serving', async () => {
    const before = childrenOf(primary.pid as number);
    process.kill(before[0] as number, 'SIGKILL');
    await expect
      .poll(
        () => {
          const now = childrenOf(primary.pid as number);
          return now.length === 2 && !now.includes(before[0] as number);
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    // The new worker serves too: enough requests that both workers get some.
    for (let i = 0; i < 6; i++) expect((await query()).status).toBe(200);
  }, 90_000);

  it('stops every worker and exits 0 on SIGTERM', async () => {
    const workers = childrenOf(primary.pid as number);
    primary.kill('SIGTERM');
    const [code] = (await once(primary, 'exit')) as [number | null];
    expect(code).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 90_000);
});
