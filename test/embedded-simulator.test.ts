import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESCENDANT_TOKEN } from '../src/carrierx/simulator/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { startUpstream } from '../src/upstream.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';

/** Holds a port the way another program would, so the server finds it taken. */
async function holdPort(port: number): Promise<Server | undefined> {
  const holder = createServer();
  holder.listen(port, '127.0.0.1');
  const [event] = (await Promise.race([once(holder, 'listening'), once(holder, 'error')])) as [unknown];
  // Already taken by someone else (another checkout's `npm start`): taken all the same.
  return event instanceof Error ? undefined : holder;
}

describe('the embedded simulator of npm start', () => {
  let holder: Server | undefined;
  let server: ServerProcess;

  beforeAll(async () => {
    holder = await holdPort(4010);
    server = await startServerProcess({ SIMULATOR_CONTROL: 'true', SIMULATOR_PORT: '' });
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    holder?.close();
  });

  it('starts on a free port when 4010 is taken, and the banner says so', () => {
    expect(server.output).toContain('port 4010 was taken');
    expect(server.output).not.toMatch(/127\.0\.0\.1:4010\//);
  });

  it('prints the control API URL in the banner, and that URL answers with an index of the routes', async () => {
    const match = /control API at (http:\/\/\S+\/_simulator\/)/.exec(server.output);
    expect(match, server.output).not.toBeNull();
    const response = await fetch(match?.[1] as string);
    expect(response.status).toBe(200);
    const index = (await response.json()) as { routes: { path: string }[] };
    expect(index.routes.map((route) => route.path)).toContain('/_simulator/faults');
  });

  it('says in the banner that pages on loopback origins may call cross-origin, naming CORS_ORIGINS', () => {
    expect(server.output).toMatch(/CORS: +pages on localhost, 127\.0\.0\.1 and \[::1\].*CORS_ORIGINS/);
  });

  it('uses the SIMULATOR_PORT asked for', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const own = await startServerProcess({ SIMULATOR_PORT: String(port) });
    try {
      expect(own.output).toContain(`simulator at http://127.0.0.1:${port}/core/v2`);
      expect(own.output).toContain('control API off (SIMULATOR_CONTROL=true turns it on');
    } finally {
      await own.stop();
    }
  }, 30_000);

  it('stops with a message naming SIMULATOR_PORT when the port asked for is taken, rather than use another', async () => {
    // A port this test holds for the whole test, not 4010, which other test files' servers may let go of.
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(startServerProcess({ SIMULATOR_PORT: String(port) })).rejects.toThrow(
        new RegExp(
          `exited \\(1\\)[\\s\\S]*SIMULATOR_PORT ${port} is in use; choose another, or 0 for any free port`,
        ),
      );
    } finally {
      taken.close();
    }
  }, 30_000);

  it('refuses a SIMULATOR_PORT that is not a port, naming the variable', () => {
    expect(() => loadConfig({ SIMULATOR_PORT: '70000' })).toThrow(/SIMULATOR_PORT: must be a whole number/);
    expect(loadConfig({}).simulator).toEqual({ port: undefined, control: false, liveRate: 6 });
  });

  it('adds SIMULATOR_LIVE_RATE new calls a minute to the simulator it starts, and none at 0', async () => {
    expect(() => loadConfig({ SIMULATOR_LIVE_RATE: '1.5' })).toThrow(
      /SIMULATOR_LIVE_RATE: must be a whole number/,
    );
    const totalOf = async (baseUrl: string) => {
      const response = await fetch(`${baseUrl}/calls/call_drs?limit=1`, {
        headers: { authorization: `Bearer ${DESCENDANT_TOKEN}` },
      });
      return ((await response.json()) as { total: number }).total;
    };
    // 6000 a minute is one every 10 ms: 5 s is five hundred intervals of margin on a busy machine.
    const busy = await startUpstream(loadConfig({ SIMULATOR_PORT: '0', SIMULATOR_LIVE_RATE: '6000' }));
    const quiet = await startUpstream(loadConfig({ SIMULATOR_PORT: '0', SIMULATOR_LIVE_RATE: '0' }));
    try {
      const [busyFirst, quietFirst] = [await totalOf(busy.baseUrl), await totalOf(quiet.baseUrl)];
      const deadline = Date.now() + 5000;
      while ((await totalOf(busy.baseUrl)) === busyFirst && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await totalOf(busy.baseUrl)).toBeGreaterThan(busyFirst);
      expect(await totalOf(quiet.baseUrl)).toBe(quietFirst);
    } finally {
      await Promise.all([busy.close(), quiet.close()]);
    }
  });
});
