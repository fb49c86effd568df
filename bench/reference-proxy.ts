import { createServer } from 'node:http';
import { Pool } from 'undici';
import { CDR_FIELDS } from '../src/carrierx/fields.ts';

/**
 * The reference layer of the benchmark: the least any layer can do to answer scenario 3 — read the POST, take the
 * SID from its variables, make the same upstream GET as the server (same path, same include_fields, same
 * Authorization) through an undici pool, rename the keys and answer the same JSON shape. No GraphQL, no
 * validation beyond the SID, no policies, no logging. What it reaches on the server's core is the ceiling of a
 * layer that makes one upstream call per request on this machine; it is not product code and serves nothing else.
 */
const port = Number(process.env.PORT);
const upstream = new URL(process.env.UPSTREAM_BASE_URL ?? '');
const pool = new Pool(upstream.origin, { connections: Number(process.env.CONNECTIONS ?? 64) });
const basePath = upstream.pathname.replace(/\/+$/, '');
const includeFields = `?include_fields=${CDR_FIELDS.map((field) => field.api).join(',')}`;
const renames = CDR_FIELDS.map((field) => [field.api, field.name] as const);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function answer(res: import('node:http').ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function proxy(body: string, authorization: string | undefined): Promise<[number, string]> {
  const drSid = (JSON.parse(body) as { variables?: { drSid?: unknown } }).variables?.drSid;
  if (typeof drSid !== 'string' || !UUID.test(drSid)) return [400, '{"errors":[{"message":"bad drSid"}]}'];
  const response = await pool.request({
    method: 'GET',
    path: `${basePath}/calls/call_drs/${drSid}${includeFields}`,
    headers: { authorization: authorization ?? '', accept: 'application/json' },
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) return [502, '{"errors":[{"message":"upstream error"}]}'];
  const record = JSON.parse(text) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [api, name] of renames) out[name] = record[api] ?? null;
  return [200, JSON.stringify({ data: { callDetailRecord: out } })];
}

createServer((req, res) => {
  if (req.method === 'GET') return answer(res, req.url === '/health' ? 200 : 404, '{}');
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    proxy(Buffer.concat(chunks).toString('utf8'), req.headers.authorization).then(
      ([status, body]) => answer(res, status, body),
      () => answer(res, 500, '{"errors":[{"message":"reference proxy failed"}]}'),
    );
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`reference proxy listening on ${port}\n`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
