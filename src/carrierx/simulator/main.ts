import { DATA_WINDOW_DAYS } from './data.ts';
import { OPTIONAL_FILTER_OPERATORS } from './filter.ts';
import { createSimulator, DEMO_TOKEN, DESCENDANT_TOKEN, NO_SCOPE_TOKEN } from './index.ts';
import { MAX_LIVE_RATE } from './live.ts';

// This runner is its own entry point (`npm run simulator`), so it reads its few variables itself.
const portText = process.env.SIMULATOR_PORT ?? '4010';
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65535) {
  console.error(`SIMULATOR_PORT must be a port number from 0 to 65535, got "${portText}"`);
  process.exit(1);
}
const host = process.env.SIMULATOR_HOST || '127.0.0.1';
const control = process.env.SIMULATOR_CONTROL === '1';
// The unconfirmed filter operators to accept (e.g. "in,le"), to try a service configured to send them.
const filterOperators = (process.env.SIMULATOR_FILTER_OPERATORS ?? '')
  .split(',')
  .map((operator) => operator.trim().toLowerCase())
  .filter(Boolean);
const unknown = filterOperators.filter((o) => !(OPTIONAL_FILTER_OPERATORS as readonly string[]).includes(o));
if (unknown.length > 0) {
  console.error(
    `SIMULATOR_FILTER_OPERATORS names operators among ${OPTIONAL_FILTER_OPERATORS.join(', ')}, got "${unknown.join(', ')}"`,
  );
  process.exit(1);
}

// New calls a minute, as SIMULATOR_LIVE_RATE under `npm start`.
const rateText = process.env.SIMULATOR_LIVE_RATE || '6';
const liveRate = Number(rateText);
if (!/^\d+$/.test(rateText) || liveRate > MAX_LIVE_RATE) {
  console.error(`SIMULATOR_LIVE_RATE must be a whole number from 0 to ${MAX_LIVE_RATE}, got "${rateText}"`);
  process.exit(1);
}

const simulator = createSimulator({ control, filterOperators, liveRate });
const baseUrl = await simulator.listen(port, host);
console.log(`CarrierX simulator listening at ${baseUrl}`);
console.log(
  `  calls of the ${DATA_WINDOW_DAYS} days before ${simulator.anchor.toISOString()} (see docs/simulator.md)`,
);
console.log(
  liveRate > 0
    ? `  ${liveRate} new calls a minute, inserted now (SIMULATOR_LIVE_RATE; 0 stops them)`
    : '  no new calls (SIMULATOR_LIVE_RATE is 0)',
);
console.log(`  ${DEMO_TOKEN}        calls.read`);
console.log(`  ${DESCENDANT_TOKEN}  calls.read, calls.read_descendant`);
console.log(`  ${NO_SCOPE_TOKEN}    no calls scope (403)`);
if (control) console.log(`  control API at ${new URL('/_simulator/', baseUrl).href}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
