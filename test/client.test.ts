import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCarrierXClient } from '../src/carrierx/client.ts';
import { createLogger } from '../src/logger.ts';

const SID = 'c02a73b2-8401-459a-af7e-f4cc3eee7854';

describe('the CarrierX client', () => {
  it('frees its connection after refusing a response that declares too large a body', async () => {
    let calls = 0;
    // An upstream that first announces 2 MiB and sends a few bytes, then answers normally.
    const upstream = createServer((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) });
        res.write('{"dr_sid":"');
        return;
      }
      const body = JSON.stringify({ dr_sid: SID, price: '1' });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.end(body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    const client = createCarrierXClient({
      baseUrl: `http://127.0.0.1:${port}/core/v2`,
      timeoutMs: 5_000,
      includeFieldsParam: 'include_fields',
      // One connection: if the refused body kept it busy, the next call could never be sent.
      connections: 1,
      logger: createLogger({ level: 'silent' }),
    });
    await expect(client.getCallDetailRecord(SID, ['dr_sid', 'price'], 'Bearer t')).rejects.toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
    });
    const next = await client.getCallDetailRecord(SID, ['dr_sid', 'price'], 'Bearer t');
    expect(next.values).toEqual({ dr_sid: SID, price: '1' });
    await client.close();
    upstream.closeAllConnections();
    upstream.close();
  });
});
