import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * Node's arguments for the server as `npm start` runs it: the compiled dist/server.js (built by the tests'
 * globalSetup, test/setup/build-dist.ts), with source maps so that a stack names src/ lines.
 */
export const SERVER_ARGS = ['--enable-source-maps', 'dist/server.js'];

/** `npm start` as a child process, as a newcomer runs it: the banner it printed and its GraphQL URL. */
export interface ServerProcess {
  /** e.g. http://127.0.0.1:41234/graphql, read off the banner. */
  url: string;
  /** The process id (to signal it). */
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr). */
  readonly output: string;
  stop(): Promise<void>;
}

/** Starts the compiled server on a free port with `env` added, and resolves once its banner (or JSON line) names its URL. */
export async function startServerProcess(
  env: Record<string, string> = {},
  /** Another command than the compiled server of this checkout (an installed copy's, an image's CMD). */
  command: { file: string; args: string[]; cwd: string } = {
    file: process.execPath,
    args: SERVER_ARGS,
    cwd: '.',
  },
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(command.file, command.args, {
    cwd: command.cwd,
    // SIMULATOR_PORT=0: test files run in parallel, and the embedded simulator's default port (4010) is one
    // port for all of them; test/embedded-simulator.test.ts asks for the default itself (SIMULATOR_PORT='').
    // No metrics listener unless asked for: its default port would be shared by every server a test starts.
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SIMULATOR_PORT: '0',
      // No new calls arriving mid-test: a list's newest records and its total stay what the test expects.
      SIMULATOR_LIVE_RATE: '0',
      METRICS_PORT: '0',
      // A production server waits 5 s after SIGTERM for balancers to see it leave; a test's stop() need not,
      // unless it is about that wait (test/http-server.test.ts sets it).
      SHUTDOWN_DELAY_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // The banner is written in one piece, so its last line arriving means all of it has. In production
      // there is no banner: one JSON `listening` line carries the URL.
      const match =
        /listening on (http:\/\/\S+\/graphql)[\s\S]*\n\n/.exec(output) ??
        /^\{.*"msg":"listening".*"url":"(http:\/\/[^"]+\/graphql)".*\}$/m.exec(output) ??
        /^\{.*"url":"(http:\/\/[^"]+\/graphql)".*"msg":"listening".*\}$/m.exec(output);
      if (match) resolve(match[1] as string);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`the server exited (${code}) before listening:\n${output}`)),
    );
  });
  return {
    url,
    pid: child.pid as number,
    get output() {
      return output;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Whether the process `pid` still runs (signal 0 only checks; an exited child has been reaped by Node). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
