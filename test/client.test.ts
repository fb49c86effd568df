import { spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCarrierXClient } from '../src/carrierx/client.ts';
import { createLogger } from '../src/telemetry/logger.ts';

const SID = 'c02a73b2-8401-459a-af7e-f4cc3eee7854';

/** An upstream on a free port and a client with one connection to it, so a connection left busy shows. */
async function withUpstream(handler: RequestListener, maxBodyBytes?: number, timeoutMs = 5_000) {
  const upstream = createServer(handler);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  const client = createCarrierXClient({
    baseUrl: `http://127.0.0.1:${port}/core/v2`,
    timeoutMs,
    includeFieldsParam: 'include_fields',
    connections: 1,
    logger: createLogger({ level: 'silent' }),
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
  });
  return {
    client,
    async close() {
      await client.close();
      upstream.closeAllConnections();
      upstream.close();
    },
  };
}

function answer(res: Parameters<RequestListener>[1], body: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
  res.end(body);
}

describe('the CarrierX client', () => {
  it('refuses a body without Content-Length once it passes the cap, and its connection serves the next call', async () => {
    let calls = 0;
    const { client, close } = await withUpstream((_req, res) => {
      calls++;
      if (calls === 1) {
        // Chunked: the size shows only as it arrives.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"dr_sid":"${SID}","cic":"${'x'.repeat(4096)}`);
        res.write('x'.repeat(4096));
        return;
      }
      answer(res, JSON.stringify({ dr_sid: SID, price: '2' }));
    }, 1024);
    await expect(client.getCallDetailRecord(SID, ['dr_sid', 'price'], 'Bearer t')).rejects.toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      message: 'CarrierX sent a response that is too large.',
    });
    const next = await client.getCallDetailRecord(SID, ['dr_sid', 'price'], 'Bearer t');
    expect(next.values).toEqual({ dr_sid: SID, price: '2' });
    await close();
  });

  it('answers an error status without reading a huge error body, and its connection serves the next call', async () => {
    let calls = 0;
    const size = 64 * 1024 * 1024;
    let accepted = 0;
    const { client, close } = await withUpstream((_req, res) => {
      calls++;
      if (calls === 1) {
        // Written chunk by chunk, as the socket accepts them: all of it goes only if the client reads it all.
        res.writeHead(404, { 'content-type': 'text/plain', 'content-length': String(size) });
        const chunk = Buffer.alloc(64 * 1024, 'n');
        let gone = false;
        res.on('close', () => {
          gone = true;
        });
        const pump = () => {
          while (!gone && accepted < size) {
            accepted += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!gone) res.end();
        };
        pump();
        return;
      }
      answer(res, JSON.stringify({ dr_sid: SID, price: '3' }));
    });
    await expect(client.getCallDetailRecord(SID, ['dr_sid', 'price'], 'Bearer t')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const next = await client.getCallDetailRecord(SID, ['dr_sid', 'price'], 'Bearer t');
    expect(next.values).toEqual({ dr_sid: SID, price: '3' });
    expect(accepted).toBeLessThan(size);
    await close();
  });

  it("stops a call in flight when the caller's signal aborts and reports it cancelled", async () => {
    let closed = false;
    const { client, close } = await withUpstream((req) => {
      // Never answers; the client must give up on its own.
      req.socket.on('close', () => {
        closed = true;
      });
    });
    const controller = new AbortController();
    const call = client.getCallDetailRecord(SID, ['dr_sid'], 'Bearer t', { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('caller left'));
    await expect(call).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      reason: 'disconnected',
      message: 'The request was cancelled: the client disconnected.',
    });
    await expect.poll(() => closed).toBe(true);
    await close();
  });

  it('frees its connection after refusing a response that declares too large a body', async () => {
    let calls = 0;
    // An upstream that first announces 2 MiB and sends a few bytes, then answers normally. One connection:
    // if the refused body kept it busy, the next call could never be sent.
    const { client, close } = await withUpstream((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) });
        res.write('{"dr_sid":"');
        return;
      }
      answer(res, JSON.stringify({ dr_sid: SID, price: '1' }));
    });
    await expect(client.getCallDetailRecord(SID, ['dr_sid', 'price'], 'Bearer t')).rejects.toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
    });
    const next = await client.getCallDetailRecord(SID, ['dr_sid', 'price'], 'Bearer t');
    expect(next.values).toEqual({ dr_sid: SID, price: '1' });
    await close();
  });

  it('answers an error status with that error even when its body is still arriving as the call times out', async () => {
    const { client, close } = await withUpstream(
      (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.write('{"message":'); // and never the rest
      },
      undefined,
      200,
    );
    await expect(client.getCallDetailRecord(SID, ['dr_sid'], 'Bearer t')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await close();
  });

  it('ends calls whose connection cannot be made without leaving requests queued in the pool', async () => {
    // An upstream that accepts no connection: a stopped process whose tiny accept queue is already full, so
    // new connections hang in the handshake, as with a blackholed CarrierX.
    const stopped = spawn(process.execPath, [
      '-e',
      "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port) })",
    ]);
    const [line] = (await once(stopped.stdout, 'data')) as [Buffer];
    const port = Number(String(line).trim());
    stopped.kill('SIGSTOP');
    const fillers = [1, 2, 3, 4].map(() => connect(port, '127.0.0.1').on('error', () => {}));
    await new Promise((resolve) => setTimeout(resolve, 200));

    let created = 0;
    let ended = 0;
    const onCreate = () => created++;
    const onEnd = () => ended++;
    diagnostics.subscribe('undici:request:create', onCreate);
    diagnostics.subscribe('undici:request:error', onEnd);
    diagnostics.subscribe('undici:request:trailers', onEnd);
    const client = createCarrierXClient({
      baseUrl: `http://127.0.0.1:${port}/core/v2`,
      timeoutMs: 200,
      includeFieldsParam: 'include_fields',
      connections: 2,
      logger: createLogger({ level: 'silent' }),
      policies: { maxConcurrentCalls: 2, retries: 0, breakerThreshold: 1_000 },
    });
    try {
      const started = Date.now();
      let calls = 0;
      const worker = async () => {
        while (Date.now() - started < 1_500) {
          await expect(client.getCallDetailRecord(SID, ['dr_sid'], 'Bearer t')).rejects.toMatchObject({
            code: 'UPSTREAM_UNAVAILABLE',
          });
          calls++;
        }
      };
      await Promise.all([worker(), worker()]);
      expect(calls).toBeGreaterThan(0);
      // Every request undici was given has ended: none waits, orphaned, for a connection.
      expect(created).toBe(ended);
    } finally {
      diagnostics.unsubscribe('undici:request:create', onCreate);
      diagnostics.unsubscribe('undici:request:error', onEnd);
      diagnostics.unsubscribe('undici:request:trailers', onEnd);
      await client.close().catch(() => {});
      for (const socket of fillers) socket.destroy();
      stopped.kill('SIGKILL');
    }
  }, 15_000);
});
