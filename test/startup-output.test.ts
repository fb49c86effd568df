import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/carrierx/simulator/index.ts';
import { freePort } from './helpers/free-port.ts';
import { SERVER_ARGS, startServerProcess } from './helpers/server-process.ts';

/** Runs src/server.ts until it exits (it must: these starts fail), keeping stdout and stderr apart. */
async function runToExit(env: Record<string, string>) {
  const child = spawn(process.execPath, SERVER_ARGS, {
    env: { ...process.env, HOST: '127.0.0.1', SIMULATOR_PORT: '0', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A frame of a stack trace, as text or inside a JSON string. */
const STACK = /(\n|\\n)\s+at /;

describe('starting the server', () => {
  let simulator: Simulator;
  let baseUrl: string;
  beforeAll(async () => {
    simulator = createSimulator();
    baseUrl = await simulator.listen(0, '127.0.0.1');
  });
  afterAll(() => simulator.close());

  it('stops on a busy port with a line that names the port and PORT, and no stack', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const port = (holder.address() as AddressInfo).port;
    try {
      const run = await runToExit({ PORT: String(port), CARRIERX_BASE_URL: baseUrl, LOG_LEVEL: 'info' });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(run.stderr).toContain('set PORT to another port');
      expect(`${run.stdout}${run.stderr}`).not.toMatch(STACK);
    } finally {
      holder.close();
    }
  }, 30_000);

  it('in production, prints one JSON listening line with the upstream, version, limits, cache, drain delay and metrics instead of the banner', async () => {
    const metricsPort = await freePort();
    const server = await startServerProcess({
      NODE_ENV: 'production',
      CARRIERX_BASE_URL: baseUrl,
      LOG_LEVEL: 'info',
      METRICS_PORT: String(metricsPort),
      SHUTDOWN_DELAY_MS: '1500',
    });
    try {
      const lines = server.output.split('\n').filter(Boolean);
      // Every line a log collector reads is JSON: no banner prose among them.
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
      const listening = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'listening');
      expect(listening).toHaveLength(1);
      expect(listening[0]).toMatchObject({
        url: server.url,
        upstream: baseUrl,
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        limits: { operationCost: expect.any(Number), requestDeadlineMs: expect.any(Number) },
        cache: 'memory',
        persistedDocumentsOnly: false,
        shutdownDelayMs: 1500,
        metrics: { host: '127.0.0.1', port: metricsPort },
      });
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('in production, reports a bad configuration as one JSON line on stderr naming every bad variable, without the token', async () => {
    const run = await runToExit({
      NODE_ENV: 'production',
      CARRIERX_BASE_URL: baseUrl,
      CARRIERX_TOKEN: 'secret token with spaces',
      PORT: 'eighty',
      MAX_QUERY_DEPTH: '-1',
    });
    expect(run.code).toBe(1);
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string) as { msg: string; problems: { variable: string }[] };
    expect(entry.problems.map((p) => p.variable).sort()).toEqual([
      'CARRIERX_TOKEN',
      'MAX_QUERY_DEPTH',
      'PORT',
    ]);
    expect(entry.msg).toContain('PORT');
    expect(run.stderr).not.toContain('secret token');
  }, 30_000);

  it('warns once at startup of a variable that looks like one of ours, naming the one it probably meant', async () => {
    // Two workers read the same environment: the warning is still said once.
    const server = await startServerProcess({ CARRIERX_BASEURL: baseUrl, WEB_CONCURRENCY: '2' });
    try {
      const warnings = server.output
        .split('\n')
        .filter((line) => line.includes('did you mean CARRIERX_BASE_URL?'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: 40, variable: 'CARRIERX_BASEURL' });
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('in production, refuses to start on a variable that looks like one of ours', async () => {
    const run = await runToExit({ NODE_ENV: 'production', CARRIERX_BASE_URL: baseUrl, METRICS_PROT: '9000' });
    expect(run.code).toBe(1);
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string) as {
      msg: string;
      problems: { variable: string; problem: string }[];
    };
    expect(entry.problems).toEqual([
      {
        variable: 'METRICS_PROT',
        problem: 'is not a variable this service reads: did you mean METRICS_PORT?',
      },
    ]);
    expect(run.stdout).not.toContain('listening');
  }, 30_000);

  it('stops before listening when a PERSISTED_DOCUMENTS manifest is missing, naming the variable and the file', async () => {
    const run = await runToExit({
      CARRIERX_BASE_URL: baseUrl,
      PERSISTED_DOCUMENTS: 'ops/missing-manifest.json',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('listening');
    expect(run.stderr).toContain('PERSISTED_DOCUMENTS: ops/missing-manifest.json: no such file');
    expect(run.stderr).not.toMatch(STACK);
  }, 30_000);
});
