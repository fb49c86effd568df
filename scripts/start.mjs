// `npm start` and `npm run simulator`: build dist/ first when it is missing or older than src/ (so
// `npm ci && npm start` stays the one command), then run the compiled entry point in this same process.
// A container runs `node dist/server.js` directly: it has no src/ and nothing to build.
import { ensureBuilt } from './build.mjs';

/** Which entry point: the server, or `simulator` for the standalone CarrierX simulator. */
const ENTRIES = { server: '../dist/server.js', simulator: '../dist/carrierx/simulator/main.js' };

const entry = ENTRIES[process.argv[2] ?? 'server'];
if (!entry) {
  process.stderr.write(`usage: node scripts/start.mjs [${Object.keys(ENTRIES).join('|')}]\n`);
  process.exit(1);
}
await ensureBuilt();
await import(entry);
