import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './free-port.ts';

/** A real redis-server on loopback, persistence off; stop() and start() again keep its port. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** The running server's pid (0 while stopped). */
  readonly pid: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGKILL, synchronously (for a process 'exit' handler). */
  killNow(): void;
}

/**
 * Starts /usr/bin/redis-server (Debian's package; .ci/run installs it). Rejects, never skips, if it cannot.
 * `cpu` pins it there with taskset (the benchmark's layout); the tests leave it unpinned.
 */
export async function startRedisServer(options: { cpu?: number } = {}): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  /** Starts it unless it is running. */
  async function start(): Promise<void> {
    if (running()) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    // taskset execs redis-server in place: the child's pid is the server's.
    const process =
      options.cpu === undefined
        ? spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('taskset', ['-c', String(options.cpu), 'redis-server', ...args], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    child = process;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      process.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      process.once('error', (error) => reject(new Error(`redis-server could not start: ${error.message}`)));
      process.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
    });
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return running() ? (child?.pid ?? 0) : 0;
    },
    start,
    killNow() {
      if (running()) child?.kill('SIGKILL');
    },
    async stop() {
      if (!running() || !child) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
