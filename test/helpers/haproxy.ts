import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Replicas behind Debian's HAProxy in TCP mode with retries off, as kube-proxy behaves in front of a Kubernetes
// Service: a connection goes to one replica, and nothing is resent. Used by test/fleet.test.ts and by the
// benchmark's rolling restart (scenario 13), so that both measure the same balancer.

export const HAPROXY = '/usr/sbin/haproxy';

/** HAProxy's health check: GET /ready every `interMs`, out after `fall` failures, back after `rise` successes. */
export const HAPROXY_CHECK = { interMs: 300, fall: 2, rise: 2 } as const;

/**
 * A replica's SHUTDOWN_DELAY_MS behind this HAProxy: it covers the check (fall × inter, plus the check in
 * progress) several times over, since a replica told to stop must still accept the connections HAProxy sends it
 * until a check has taken it out.
 */
export const REPLICA_SHUTDOWN_DELAY_MS = 2_000;

export function haproxyConfig(frontPort: number, replicaPorts: readonly number[]): string {
  const { interMs, fall, rise } = HAPROXY_CHECK;
  return `global
  maxconn 2000

defaults
  mode tcp
  # As a Kubernetes Service: a connection that fails is not tried again on another replica.
  retries 0
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout check 1s

frontend fleet
  bind 127.0.0.1:${frontPort}
  default_backend replicas

backend replicas
  balance roundrobin
  option httpchk GET /ready
  # observe layer4: a connection to a replica that is refused takes it out at once (error-limit 1), instead of
  # at its next failed checks; new connections then go to the others (a killed replica refuses them).
  default-server check inter ${interMs} fall ${fall} rise ${rise} observe layer4 error-limit 1 on-error mark-down
${replicaPorts.map((port, i) => `  server r${i} 127.0.0.1:${port}`).join('\n')}
`;
}

export interface Haproxy {
  readonly pid: number;
  /** Everything it printed so far. */
  readonly output: string;
  /** Null while it runs. */
  readonly exitCode: number | null;
  /** SIGTERM, then waits for it to exit; removes its configuration. */
  stop(): Promise<void>;
  /** SIGKILL, synchronously (for a process 'exit' handler). */
  killNow(): void;
}

/**
 * Starts HAProxy on 127.0.0.1:`frontPort` in front of the replicas on `replicaPorts`, and resolves once `/ready`
 * answers 200 through it (so at least one replica is in its rotation). Rejects, never skips, without HAProxy.
 */
export async function startHaproxy(
  frontPort: number,
  replicaPorts: readonly number[],
  options: { timeoutMs?: number } = {},
): Promise<Haproxy> {
  if (!existsSync(HAPROXY)) {
    throw new Error(`${HAPROXY} is not installed (Debian's haproxy package: apt-get install haproxy)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(frontPort, replicaPorts));
  const child: ChildProcess = spawn(HAPROXY, ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const haproxy: Haproxy = {
    pid: child.pid ?? 0,
    get output() {
      return output;
    },
    get exitCode() {
      return child.exitCode;
    },
    async stop() {
      // A haproxy that could not be spawned has no pid and never exits.
      if (running()) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
    killNow() {
      if (running()) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  let failure: Error | undefined;
  child.once('error', (error) => {
    failure = new Error(`${HAPROXY} could not start: ${error.message}`);
  });
  child.once('exit', (code) => {
    failure ??= new Error(`haproxy exited (${code}):\n${output}`);
  });
  // Up once it answers through the frontend.
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last = 'no answer yet';
  for (;;) {
    if (failure) {
      haproxy.killNow();
      throw failure;
    }
    try {
      const response = await fetch(`http://127.0.0.1:${frontPort}/ready`, {
        signal: AbortSignal.timeout(1_000),
      });
      await response.arrayBuffer();
      if (response.status === 200) return haproxy;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      haproxy.killNow();
      throw new Error(`HAProxy on port ${frontPort} did not answer /ready with 200 (${last}):\n${output}`);
    }
    await sleep(100);
  }
}
