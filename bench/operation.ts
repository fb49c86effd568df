/**
 * One GraphQL operation in-process, no sockets: `node --import tsx bench/operation.ts [ops] [rounds]`. Runs
 * scenario 3's and 4's documents through Yoga's operation pipeline (`getResultForParams`, as the fast path calls
 * it: parse and validation caches, plugins, graphql-jit, the loader) with a stub client that decodes the sample
 * record's body at once, and prints CPU µs per operation (best and median of the rounds). What it leaves out
 * (HTTP, undici) is the same for every variant of the GraphQL layer, so it shows a lever's effect with less of
 * the socket noise; run two variants alternately on a shared machine.
 */
import { readFileSync } from 'node:fs';
import type { CarrierXClient } from '../src/carrierx/client.ts';
import { decodeCdr } from '../src/carrierx/record.ts';
import { loadConfig } from '../src/config/index.ts';
import { createApp } from '../src/graphql/app.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { AUTHORIZATION, createScenarios, SAMPLE_DR_SID } from './scenarios.ts';

const ops = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);
const body = readFileSync(new URL('../src/carrierx/simulator/sample-cdr.json', import.meta.url), 'utf8');
const text = JSON.stringify(JSON.parse(body));

const client = {
  getCallDetailRecord: async (drSid: string) => decodeCdr(text, drSid),
} as unknown as CarrierXClient;
const config = loadConfig({
  NODE_ENV: 'production',
  CACHE_TTL_MS: '0',
  CARRIERX_BASE_URL: 'http://127.0.0.1:9/core/v2',
});
const logger = createLogger({ level: 'warn', destination: { write: () => {} } });
const app = createApp({ config, client, logger });

const headers = new Headers({ authorization: AUTHORIZATION, 'content-type': 'application/json' });

async function once(params: Record<string, unknown>): Promise<string> {
  // A request per operation, as on the server: per-request state (limits, loaders) hangs off it.
  const request = { method: 'POST', url: 'http://localhost/graphql', headers } as unknown as Request;
  const result = (await app.getResultForParams({ params, request } as never, {} as never)) as {
    stringify?: (r: unknown) => string;
    errors?: unknown;
  };
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return (result.stringify ?? JSON.stringify)(result);
}

for (const scenario of createScenarios(10, []).filter((s) => s.key === '3' || s.key === '4')) {
  const params = JSON.parse(scenario.body ?? '{}') as Record<string, unknown>;
  if (!(await once(params)).includes(SAMPLE_DR_SID)) throw new Error('wrong answer');
  for (let i = 0; i < ops; i++) await once(params);
  const perOp: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.cpuUsage();
    for (let i = 0; i < ops; i++) await once(params);
    const used = process.cpuUsage(started);
    perOp.push((used.user + used.system) / ops);
  }
  perOp.sort((a, b) => a - b);
  console.log(
    `scenario ${scenario.key}: CPU µs/op best ${perOp[0]?.toFixed(1)} median ${perOp[Math.floor(rounds / 2)]?.toFixed(1)}`,
  );
}
