import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The pinned Hive Gateway CLI serving a supergraph (`npm run gateway`'s route), and what it printed. */
export interface HiveGatewayCli {
  /** Everything it printed so far (stdout and stderr). */
  readonly output: string;
  /** SIGKILL, if it still runs. */
  kill(): void;
}

/**
 * Starts node_modules/.bin/hive-gateway on `supergraph` at 127.0.0.1:`port`, run in examples/federation so it
 * reads the example's gateway.config.ts there, with `env` added; resolves once it listens.
 */
export async function startHiveGatewayCli(
  supergraph: string,
  port: number,
  env: Record<string, string> = {},
): Promise<HiveGatewayCli> {
  const child: ChildProcess = spawn(
    join(process.cwd(), 'node_modules/.bin/hive-gateway'),
    ['supergraph', supergraph, '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: 'examples/federation',
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`Listening on http://127.0.0.1:${port}`)) resolve();
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('exit', () => reject(new Error(`hive-gateway exited before listening: ${output}`)));
    });
  } catch (error) {
    kill();
    throw error;
  }
  return {
    get output() {
      return output;
    },
    kill,
  };
}
