import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Kernel clock ticks per second, the unit of /proc CPU times. */
export const CLOCK_TICKS = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** A process's resident set size in bytes (VmRSS), or undefined once it is gone. */
export function readRssBytes(pid: number): number | undefined {
  return sumOverTree(pid, (one) => {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${one}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  });
}

/**
 * A process's peak resident set size in bytes since it started (VmHWM, the kernel's high-water mark: exact,
 * however briefly the peak lasted, where sampling VmRSS misses spikes between samples). Summed over a cluster's
 * workers, whose peaks need not coincide, so for a cluster it is an upper bound.
 */
export function readPeakRssBytes(pid: number): number | undefined {
  return sumOverTree(pid, (one) => {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${one}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  });
}

/** The live children of a process (a cluster's workers), from /proc; empty when there are none or no /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** `read` of a process plus its children, so a cluster counts as one server; undefined if the process is gone. */
function sumOverTree(pid: number, read: (pid: number) => number | undefined): number | undefined {
  let own: number | undefined;
  try {
    own = read(pid);
  } catch {
    return undefined;
  }
  if (own === undefined) return undefined;
  let total = own;
  for (const child of childrenOf(pid)) {
    try {
      total += read(child) ?? 0;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

interface ProcessStat {
  ppid: number;
  /** user + system CPU seconds, all threads. */
  cpu: number;
}

function parseStat(stat: string): ProcessStat {
  // The command name may hold spaces and parentheses: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 4, 14 and 15 of the whole line (ppid, utime, stime) are 1, 11 and 12 after the name.
  return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
}

/** CPU seconds (user + system, all threads) a process has used, or undefined once it is gone. */
export function readCpuSeconds(pid: number): number | undefined {
  return sumOverTree(pid, (one) => parseStat(readFileSync(`/proc/${one}/stat`, 'utf8')).cpu);
}

/** CPU seconds per core since boot, from /proc/stat: time in tasks and time in interrupt handlers. */
export interface CoreTimes {
  /** user + nice + system: what processes (including their kernel work) used. */
  tasks: number;
  /** irq + softirq, e.g. loopback TCP processing, accounted to no process. */
  irq: number;
}

export function readCoreTimes(): Map<number, CoreTimes> {
  const cores = new Map<number, CoreTimes>();
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const match = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!match) continue;
      const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = (match[2] ?? '')
        .split(/\s+/)
        .map(Number);
      cores.set(Number(match[1]), {
        tasks: (user + nice + system) / CLOCK_TICKS,
        irq: (irq + softirq) / CLOCK_TICKS,
      });
    }
  } catch {
    // Not Linux: per-core figures are left out.
  }
  return cores;
}

/** CPU seconds used so far by every process on the machine, with its parent and command line. */
export function readAllProcessCpu(): Map<number, { cpu: number; ppid: number; command: string }> {
  const processes = new Map<number, { cpu: number; ppid: number; command: string }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return processes;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let raw: string;
    let command: string;
    try {
      raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue; // Gone meanwhile.
    }
    const stat = parseStat(raw);
    // Kernel threads (ksoftirqd, kworker) have no command line: they go by their name in brackets.
    const name = command || `[${raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'))}]`;
    processes.set(pid, { cpu: stat.cpu, ppid: stat.ppid, command: name.slice(0, 160) });
  }
  return processes;
}

/** The CPUs this process may run on (its affinity list), via taskset; undefined when taskset is missing. */
export function readAllowedCpus(): number[] | undefined {
  let output: string;
  try {
    output = execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8', timeout: 2000 });
  } catch {
    return undefined;
  }
  const list = output.slice(output.lastIndexOf(':') + 1).trim();
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) continue;
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** Pins every thread of a running process to one CPU. */
export function pinProcess(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore', timeout: 2000 });
}

/** What the report says about the machine the numbers came from. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverage: [number, number, number];
}

export function describeMachine(): MachineInfo {
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverage: [one, five, fifteen],
  };
}
