/**
 * The statistics scenario (issue 23): one callDetailRecordStats dashboard over a simulator of 10,000 records,
 * asked twice with the record cache on: the first answer reads every record from CarrierX, the second comes
 * from the cache. Prints CarrierX calls, bytes CarrierX sent and time for each.
 *
 *   npm run bench:stats [-- --records 10000]
 *
 * In one process (the simulator, the app and this client share a core): the numbers are what a scan costs
 * CarrierX and how long it takes end to end, not a throughput measure like the load scenarios of bench/run.ts.
 */
import { parseArgs } from 'node:util';
import { carrierXClientFor } from '../src/carrierx/client.ts';
import { createSimulator, DESCENDANT_TOKEN } from '../src/carrierx/simulator/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { createApp } from '../src/graphql/app.ts';
import { createLogger } from '../src/telemetry/logger.ts';

export const STATS_QUERY = /* GraphQL */ `
  query Dashboard($from: DateTime!, $until: DateTime!) {
    callDetailRecordStats(
      filter: { dateStart: { ge: $from, lt: $until } }
      groupBy: [DIRECTION, SIPCAUSE]
      bucket: DAY
      timeZone: "America/New_York"
      limit: 1000
    ) {
      total { calls answered durationSeconds billedSeconds cost }
      groups { key { bucket direction sipcause } calls answered durationSeconds billedSeconds cost }
      otherGroups { calls }
      scanned
      complete
    }
  }
`;

const { values } = parseArgs({ options: { records: { type: 'string', default: '10000' } } });
const recordCount = Number(values.records);

const simulator = createSimulator({ recordCount });
const baseUrl = await simulator.listen(0, '127.0.0.1');
const logger = createLogger({ level: 'warn' });
const config = loadConfig({ CARRIERX_BASE_URL: baseUrl, CACHE_TTL_MS: '60000', ACCESS_LOG: 'false' });
const client = carrierXClientFor(config.carrierx, baseUrl, logger);
const app = createApp({ config, client, logger });

const starts = [...simulator.records.values()].map((record) => Date.parse(record.date_start as string));
const variables = {
  from: new Date(Math.min(...starts)).toISOString(),
  until: new Date(Math.max(...starts) + 1).toISOString(),
};

async function ask(label: string): Promise<string> {
  simulator.resetLog();
  const started = performance.now();
  const response = await app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DESCENDANT_TOKEN}` },
    body: JSON.stringify({ query: STATS_QUERY, variables }),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  const body = JSON.parse(text) as {
    errors?: unknown;
    data?: { callDetailRecordStats: { scanned: number; complete: boolean; groups: unknown[] } | null };
  };
  const stats = body.data?.callDetailRecordStats;
  if (body.errors || !stats) throw new Error(`${label}: ${text.slice(0, 500)}`);
  const { requests, bytesSent } = simulator.stats;
  console.log(
    `| ${label} | ${stats.scanned} | ${stats.complete} | ${stats.groups.length} | ${requests} | ${(bytesSent / 1024).toFixed(0)} KiB | ${ms.toFixed(0)} ms | ${(text.length / 1024).toFixed(1)} KiB |`,
  );
  return text;
}

try {
  console.log(
    `callDetailRecordStats over ${simulator.records.size} records (DAY × DIRECTION × SIPCAUSE, America/New_York)\n`,
  );
  console.log(
    '| answer | records scanned | complete | groups | CarrierX calls | CarrierX bytes | time | answer size |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const first = await ask('first (scan)');
  const cached = await ask('repeated (cache)');
  // Once more: the first repeat also pays for compiling the cached path's code.
  const again = await ask('repeated again (cache)');
  if (cached !== first || again !== first) throw new Error('a cached answer differs from the first');
} finally {
  await client.close();
  await simulator.close();
}
