import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { readRssBytes } from './machine.ts';
import { freePort } from './processes.ts';

/** How long a started server is left alone before its idle RSS is read: past start-up's garbage. */
const SETTLE_MS = 2000;
/** How often /ready is asked while the server starts: the start-up time's resolution. */
const POLL_MS = 5;

/** Start-up time and idle memory of the server, each the median of several starts. */
export interface StartupResult {
  command: string;
  runs: number;
  /** Process spawn to the first 200 from GET /ready, per start. */
  startMs: number[];
  /** RSS (the process tree's) after SETTLE_MS with no request, per start. */
  idleRssBytes: number[];
  medianStartMs: number;
  medianIdleRssBytes: number;
  problems: string[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/**
 * Starts the server `runs` times with CARRIERX_BASE_URL set (nothing answers there: start-up makes no upstream
 * call) and measures each start to /ready and its RSS once idle. One at a time, on `cpu` when given.
 */
export async function measureStartup(options: {
  args: string[];
  cwd: string;
  env: Record<string, string>;
  runs: number;
  cpu?: number;
  signal?: AbortSignal;
}): Promise<StartupResult> {
  const startMs: number[] = [];
  const idleRssBytes: number[] = [];
  const problems: string[] = [];
  for (let run = 0; run < options.runs && problems.length === 0; run++) {
    options.signal?.throwIfAborted();
    const port = await freePort();
    const command = options.cpu === undefined ? [] : ['taskset', '-c', String(options.cpu)];
    command.push(process.execPath, ...options.args);
    const [file = process.execPath, ...args] = command;
    const started = performance.now();
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: {
        ...options.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_PORT: '0',
        CARRIERX_BASE_URL: options.env.CARRIERX_BASE_URL ?? 'http://127.0.0.1:9/core/v2',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, 'exit');
    try {
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`the server exited:\n${stderr}`);
        if (performance.now() - started > 60_000) throw new Error('the server was not ready after 60 s');
        const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
          (response) => response.status === 200,
          () => false,
        );
        if (ok) break;
        await sleep(POLL_MS);
      }
      startMs.push(performance.now() - started);
      await sleep(SETTLE_MS);
      const rss = child.pid === undefined ? undefined : readRssBytes(child.pid);
      if (rss === undefined) problems.push('RSS could not be read');
      else idleRssBytes.push(rss);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }
  return {
    command: `node ${options.args.join(' ')}`,
    runs: startMs.length,
    startMs,
    idleRssBytes,
    medianStartMs: median(startMs),
    medianIdleRssBytes: median(idleRssBytes),
    problems,
  };
}

// Standalone, to compare ways of starting it: node --import tsx bench/startup.ts [runs] [node args...]
// (default: the compiled server, which `npm run build` makes).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [runs = '5', ...args] = process.argv.slice(2);
  const result = await measureStartup({
    args: args.length ? args : ['--enable-source-maps', 'dist/server.js'],
    cwd: process.cwd(),
    env: { ...(process.env as Record<string, string>) },
    runs: Number(runs),
  });
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  process.stdout.write(
    `${result.command}: start to /ready ${result.startMs.map((ms) => ms.toFixed(0)).join(', ')} ms (median ${result.medianStartMs.toFixed(0)}); idle RSS ${result.idleRssBytes.map(mb).join(', ')} MB (median ${mb(result.medianIdleRssBytes)})${result.problems.length ? `; ${result.problems.join('; ')}` : ''}\n`,
  );
}
