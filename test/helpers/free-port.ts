import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The lowest port of the kernel's ephemeral range (Linux's default when it cannot be read). */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

const LOWEST = 10_000;

/**
 * A loopback port free now, for a process started next to listen on. Chosen below the kernel's ephemeral range
 * (ip_local_port_range): the kernel's own pick (`listen(0)`) lies inside it, where every outgoing connection
 * also takes its local port, and a benchmark run lost its floor simulator to EADDRINUSE when autocannon's or the
 * server's connections took the port between the pick and the bind. Below the range only another listener can.
 */
export async function freePort(): Promise<number> {
  const top = Math.min(ephemeralLow(), 65_536);
  if (top - LOWEST >= 1_000) {
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = LOWEST + Math.floor(Math.random() * (top - LOWEST));
      if (await canListen(port)) return port;
    }
  }
  // No room below the range (or all taken): the kernel's pick.
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('Could not find a free loopback port'))));
    });
  });
}
