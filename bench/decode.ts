/**
 * The boundary decoder alone, in µs per record: `node --import tsx bench/decode.ts`. A quick check for changes
 * to src/carrierx/record.ts that needs no servers: the 52-field sample as CarrierX sends it (decimals as
 * strings), the same with its decimals as JSON numbers (the exact-literal path), and with a 5,000-deep user_data.
 */
import { readFileSync } from 'node:fs';
import { decodeCdr } from '../src/carrierx/record.ts';

const sample = JSON.parse(
  readFileSync(new URL('../src/carrierx/simulator/sample-cdr.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const sid = sample.dr_sid as string;
const asSent = JSON.stringify(sample);
// Every decimal field that holds a value, written as a JSON number literal instead of a string.
const numeric = asSent.replace(
  /"(duration|duration_billing|price|price_lcr_dst|price_lcr_src|rate|rate_lcr_dst|rate_lcr_src)":"([^"]*)"/g,
  '"$1":$2',
);
const deep = asSent.replace(/"user_data":\{[^}]*\}/, `"user_data":${'['.repeat(5000)}${']'.repeat(5000)}`);

/** CPU time, not wall time, and the best of five rounds: the machine this runs on is usually shared. */
function measure(label: string, text: string, runs = 20_000): void {
  for (let i = 0; i < runs; i++) decodeCdr(text, sid);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const started = process.cpuUsage();
    for (let i = 0; i < runs; i++) decodeCdr(text, sid);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / runs);
  }
  console.log(`${label.padEnd(32)} ${best.toFixed(2).padStart(8)} µs/record  (${text.length} B)`);
}

measure('decimals as strings (as sent)', asSent);
measure('decimals as JSON numbers', numeric);
measure('user_data 5,000 deep', deep, 500);
