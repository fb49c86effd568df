import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

// The tests' helper: one way to pick a port a child will listen on, for both.
export { freePort } from '../test/helpers/free-port.ts';

const TAIL_LINES = 40;
const MAX_LINE = 4000;

/** A child process the benchmark started: its pid, its pinned CPU and what it printed lately. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly cpu: number | undefined;
  /** The last lines it wrote (stdout and stderr), for error messages. */
  readonly tail: readonly string[];
  /** Set when it has exited, e.g. "exit code 1" or "signal SIGKILL". */
  readonly exit: string | undefined;
  /** Called with every line it writes. */
  onLine: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined;
}

export interface StartSpec {
  name: string;
  /** Arguments to node, e.g. ['--import', 'tsx', 'src/server.ts']. */
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Pins the process (and every thread it starts) to this CPU with taskset. */
  cpu?: number;
}

/** Every process the benchmark started, so that none outlives it. */
export interface ProcessGroup {
  start(spec: StartSpec): ManagedProcess;
  /** SIGTERM to each child still running; SIGKILL to any that has not exited 5 s later. */
  stopAll(): Promise<void>;
  /** SIGKILL to each child still running, synchronously (for process 'exit'). */
  killAllNow(): void;
}

export function createProcessGroup(options: {
  /** A child exited while the benchmark still needed it. */
  onUnexpectedExit(process: ManagedProcess): void;
}): ProcessGroup {
  const children: { child: ChildProcess; managed: ManagedProcess & { exit: string | undefined } }[] = [];
  let stopping = false;

  const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

  return {
    start(spec) {
      const command = spec.cpu === undefined ? [] : ['taskset', '-c', String(spec.cpu)];
      command.push(process.execPath, ...spec.args);
      const [file = process.execPath, ...args] = command;
      const child = spawn(file, args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const tail: string[] = [];
      const managed: ManagedProcess & { exit: string | undefined } = {
        name: spec.name,
        // taskset execs node in place, so this is node's pid (0 if the spawn failed).
        pid: child.pid ?? 0,
        cpu: spec.cpu,
        tail,
        exit: undefined,
        onLine: undefined,
      };
      for (const [name, stream] of [
        ['stdout', child.stdout],
        ['stderr', child.stderr],
      ] as const) {
        let partial = '';
        stream?.setEncoding('utf8');
        stream?.on('data', (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = (lines.pop() ?? '').slice(0, MAX_LINE);
          for (const raw of lines) {
            const line = raw.slice(0, MAX_LINE);
            tail.push(line);
            if (tail.length > TAIL_LINES) tail.shift();
            managed.onLine?.(line, name);
          }
        });
      }
      const exited = (description: string) => {
        if (managed.exit !== undefined) return;
        managed.exit = description;
        if (!stopping) options.onUnexpectedExit(managed);
      };
      child.on('error', (error) => exited(`failed to start: ${error.message}`));
      child.on('exit', (code, signal) => exited(signal ? `signal ${signal}` : `exit code ${code}`));
      children.push({ child, managed });
      return managed;
    },

    async stopAll() {
      stopping = true;
      await Promise.all(
        children.map(async ({ child }) => {
          if (!running(child)) return;
          const exit = once(child, 'exit');
          child.kill('SIGTERM');
          // Unref'd timers: a child that exits promptly does not keep the benchmark waiting for them.
          const done = await Promise.race([exit.then(() => true), sleep(5000, false, { ref: false })]);
          if (!done && running(child)) {
            child.kill('SIGKILL');
            await Promise.race([exit, sleep(2000, undefined, { ref: false })]);
          }
        }),
      );
    },

    killAllNow() {
      stopping = true;
      for (const { child } of children) if (running(child)) child.kill('SIGKILL');
    },
  };
}

/** Polls `url` until it answers 2xx; fails when `process` exits, on `signal`, or after `timeoutMs`. */
export async function waitForHttp(
  url: string,
  target: ManagedProcess,
  signal: AbortSignal,
  // Generous: five processes starting under tsx at once on a shared 2-core machine took over 30 s.
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    if (target.exit !== undefined) {
      throw new Error(
        `${target.name} exited (${target.exit}) before it was ready:\n${target.tail.join('\n')}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(1000)]) });
      await response.arrayBuffer();
      if (response.ok) return;
      lastProblem = `status ${response.status}`;
    } catch (error) {
      signal.throwIfAborted();
      lastProblem = (error as Error).message;
    }
    await sleep(100, undefined, { signal });
  }
  throw new Error(
    `${target.name} was not ready at ${url} after ${timeoutMs} ms (${lastProblem}):\n${target.tail.join('\n')}`,
  );
}
