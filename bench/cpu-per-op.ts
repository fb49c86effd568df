/**
 * CPU time per operation of the server (or the reference layer), for A/B-ing one lever at a time on a shared
 * machine: `node --import tsx bench/cpu-per-op.ts [--ops 20000] [--rounds 3] [--target server|reference]
 * [--node-flag --max-semi-space-size=16] [--server-env NAME=VALUE] [--only 3,4] [--tsx]`.
 *
 * Wall-clock figures on a machine six people share are noise; the CPU time the server's process is charged for
 * a fixed number of operations is not (other load only stretches it by cache and frequency effects, a few %).
 * The server runs as `npm run bench` runs it (compiled dist/, built first; production settings, cache off)
 * against a simulator in another
 * process, loaded by autocannon in this one with 10 connections; its CPU seconds come from /proc before and
 * after each round. Also printed: the server's GC time per op, from its --trace-gc lines (one short line per
 * collection: next to nothing beside a collection), and its RSS and peak RSS (VmHWM) at the end.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { readCpuSeconds, readPeakRssBytes, readRssBytes } from './machine.ts';
import { createProcessGroup, freePort, waitForHttp } from './processes.ts';
import { AUTHORIZATION, createScenarios, SAMPLE_DR_SID } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    target: { type: 'string', default: 'server' },
    only: { type: 'string', default: '3,4' },
    connections: { type: 'string', default: '10' },
    'node-flag': { type: 'string', multiple: true, default: [] },
    'server-env': { type: 'string', multiple: true, default: [] },
    // src/ through tsx, as before the compiled build (to compare with commits that have none). tsx's transform
    // adds a `__name` call to every named function and class it defines: several µs per operation.
    tsx: { type: 'boolean', default: false },
  },
});
if (!values.tsx)
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit', timeout: 120_000 });
const ops = Number(values.ops);
const rounds = Number(values.rounds);
const connections = Number(values.connections);

const baseEnv: Record<string, string> = {};
for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
  const value = process.env[name];
  if (value !== undefined) baseEnv[name] = value;
}
const extraEnv = Object.fromEntries(
  values['server-env'].map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

const group = createProcessGroup({
  onUnexpectedExit: (child) => {
    process.stderr.write(`${child.name} exited (${child.exit}):\n${child.tail.join('\n')}\n`);
    process.exit(1);
  },
});
process.on('exit', () => group.killAllNow());

const [upstreamPort, serverPort] = [await freePort(), await freePort()];
const upstream = group.start({
  name: 'upstream simulator',
  args: ['--import', 'tsx', 'src/carrierx/simulator/./main.ts'],
  env: {
    ...baseEnv,
    SIMULATOR_PORT: String(upstreamPort),
    SIMULATOR_HOST: '127.0.0.1',
    SIMULATOR_CONTROL: '1',
  },
  cwd: process.cwd(),
});
const baseUrl = `http://127.0.0.1:${upstreamPort}/core/v2`;
const gcLines: string[] = [];
const server =
  values.target === 'reference'
    ? group.start({
        name: 'reference layer',
        args: [...values['node-flag'], '--import', 'tsx', 'bench/reference-proxy.ts'],
        env: { ...baseEnv, PORT: String(serverPort), UPSTREAM_BASE_URL: baseUrl, CONNECTIONS: '64' },
        cwd: process.cwd(),
      })
    : group.start({
        name: 'server',
        args: [
          ...values['node-flag'],
          '--trace-gc',
          ...(values.tsx
            ? ['--import', 'tsx', 'src/./server.ts']
            : ['--enable-source-maps', 'dist/./server.js']),
        ],
        env: {
          ...baseEnv,
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          CACHE_TTL_MS: '0',
          ...extraEnv,
          PORT: String(serverPort),
          HOST: '127.0.0.1',
          CARRIERX_BASE_URL: baseUrl,
        },
        cwd: process.cwd(),
      });
server.onLine = (line) => {
  if (line.includes('Scavenge') || line.includes('Mark-Compact') || line.includes('Mark-sweep'))
    gcLines.push(line);
};
const signal = new AbortController().signal;
await waitForHttp(`http://127.0.0.1:${upstreamPort}/_simulator/stats`, upstream, signal);
await waitForHttp(`http://127.0.0.1:${serverPort}/health`, server, signal);

/** Sends exactly `amount` requests and checks every answer like the benchmark does. */
async function send(body: string, verify: (text: string) => boolean, amount: number): Promise<void> {
  let bad = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${serverPort}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTHORIZATION },
    body,
    connections,
    amount,
    verifyBody: (text: unknown) => {
      const ok = verify(String(text));
      if (!ok) bad++;
      return ok;
    },
  });
  if (bad || result.non2xx || result.errors) {
    throw new Error(`${bad} wrong bodies, ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
}

/** Milliseconds of GC in --trace-gc lines, e.g. `[123:0x…]  456 ms: Scavenge 12.3 (…) -> 4.5 (…), 0.8 / 0.0 ms`. */
function gcMs(lines: readonly string[]): { ms: number; scavenges: number; majors: number } {
  let ms = 0;
  let scavenges = 0;
  let majors = 0;
  for (const line of lines) {
    const m = /, ([\d.]+) \/ [\d.]+ ms/.exec(line);
    if (m) ms += Number(m[1]);
    if (line.includes('Scavenge')) scavenges++;
    else majors++;
  }
  return { ms, scavenges, majors };
}

const scenarios = createScenarios(connections, []).filter((s) => values.only.split(',').includes(s.key));
for (const scenario of scenarios) {
  const body = scenario.body ?? '';
  const verify = (text: string) => scenario.verifyBody(text) || text.includes(`"${SAMPLE_DR_SID}"`);
  await send(body, verify, Math.max(5000, ops / 4)); // warm-up: JIT tiers, pools, caches
  const results: { usPerOp: number; gcUsPerOp: number; scavengesPer1k: number; majors: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    const cpuBefore = readCpuSeconds(server.pid) ?? 0;
    gcLines.length = 0;
    await send(body, verify, ops);
    const cpu = (readCpuSeconds(server.pid) ?? 0) - cpuBefore;
    const gc = gcMs(gcLines);
    results.push({
      usPerOp: (cpu / ops) * 1e6,
      gcUsPerOp: (gc.ms / ops) * 1e3,
      scavengesPer1k: (gc.scavenges / ops) * 1000,
      majors: gc.majors,
    });
  }
  const sorted = [...results].sort((a, b) => a.usPerOp - b.usPerOp);
  const median = sorted[Math.floor(sorted.length / 2)];
  const best = sorted[0];
  console.log(
    `${values.target} scenario ${scenario.key}: CPU µs/op best ${best?.usPerOp.toFixed(1)} median ${median?.usPerOp.toFixed(1)} ` +
      `(rounds ${results.map((r) => r.usPerOp.toFixed(1)).join(', ')}); GC wall µs/op ${median?.gcUsPerOp.toFixed(1)} (wall time: inflated by other load), ` +
      `scavenges per 1k ops ${median?.scavengesPer1k.toFixed(2)}, major GCs ${results.map((r) => r.majors).join('/')}`,
  );
}
console.log(
  `RSS now ${((readRssBytes(server.pid) ?? 0) / 2 ** 20).toFixed(1)} MB, peak ${((readPeakRssBytes(server.pid) ?? 0) / 2 ** 20).toFixed(1)} MB`,
);
await group.stopAll();
