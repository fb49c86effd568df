import { readAllProcessCpu, readCoreTimes, readCpuSeconds } from './machine.ts';

/** A process this benchmark started and the core it is pinned to (undefined when nothing is pinned). */
export interface Tracked {
  pid: number;
  core: number | undefined;
}

/** CPU use over one interval, in percent of one core. */
export interface CpuUse {
  /** The measured process (server or floor simulator). */
  measured: number | undefined;
  /** This process: autocannon and the orchestration. */
  runner: number;
  /** Per core: task time of processes this benchmark did not start (the key is `cpuN`, or `all` unpinned). */
  otherByCore: Record<string, number>;
  /** Per core: interrupt and softirq time (loopback TCP), which no process is charged for. */
  irqByCore: Record<string, number>;
}

/**
 * Tells the measured process's CPU time from the load generator's, from interrupt handling and from everyone
 * else's, over an interval: `const t = meter.start(); …; meter.stop(t, pid)`.
 */
export function createCpuMeter(ours: readonly Tracked[], runnerCore: number | undefined) {
  const snapshot = () => ({
    wall: performance.now() / 1000,
    cores: readCoreTimes(),
    processes: ours.map(({ pid }) => readCpuSeconds(pid) ?? 0),
    runner: process.cpuUsage(),
  });
  return {
    start: snapshot,
    stop(before: ReturnType<typeof snapshot>, measuredPid: number): CpuUse {
      const after = snapshot();
      const wall = after.wall - before.wall;
      const percent = (seconds: number) => Math.max(0, (seconds / wall) * 100);
      const used = ours.map((_, i) => (after.processes[i] ?? 0) - (before.processes[i] ?? 0));
      const runnerUsage = process.cpuUsage(before.runner);
      const runner = (runnerUsage.user + runnerUsage.system) / 1e6;
      const delta = (core: number) => {
        const start = before.cores.get(core);
        const end = after.cores.get(core);
        return { tasks: (end?.tasks ?? 0) - (start?.tasks ?? 0), irq: (end?.irq ?? 0) - (start?.irq ?? 0) };
      };
      const otherByCore: Record<string, number> = {};
      const irqByCore: Record<string, number> = {};
      const pinned = ours.every(({ core }) => core !== undefined) && runnerCore !== undefined;
      if (pinned) {
        const cores = [...new Set([runnerCore, ...ours.map(({ core }) => core as number)])].sort();
        for (const core of cores) {
          let mine = runnerCore === core ? runner : 0;
          ours.forEach((entry, i) => {
            if (entry.core === core) mine += used[i] ?? 0;
          });
          const { tasks, irq } = delta(core);
          otherByCore[`cpu${core}`] = percent(tasks - mine);
          irqByCore[`cpu${core}`] = percent(irq);
        }
      } else {
        let tasks = 0;
        let irq = 0;
        for (const core of after.cores.keys()) {
          tasks += delta(core).tasks;
          irq += delta(core).irq;
        }
        otherByCore.all = percent(tasks - runner - used.reduce((sum, value) => sum + value, 0));
        irqByCore.all = percent(irq);
      }
      const measuredIndex = ours.findIndex(({ pid }) => pid === measuredPid);
      return {
        measured: measuredIndex < 0 ? undefined : percent(used[measuredIndex] ?? 0),
        runner: percent(runner),
        otherByCore,
        irqByCore,
      };
    },
  };
}

/** A process this benchmark did not start, and how much CPU it used over an interval. */
export interface ForeignProcess {
  pid: number;
  command: string;
  /** Percent of one core over the interval. */
  percent: number;
}

/**
 * Finds which other processes (other people's tests, say) used CPU between calls to mark(), so a report can
 * say who else was loading the machine. Our processes and their children are left out.
 */
export function createForeignProcessTracker(ours: () => ReadonlySet<number>) {
  let last = readAllProcessCpu();
  let lastWall = performance.now() / 1000;
  const firstWall = lastWall;
  const totals = new Map<number, { seconds: number; command: string }>();
  return {
    /** Other processes that used at least `minPercent` of a core since the previous mark, busiest first. */
    mark(minPercent = 5): ForeignProcess[] {
      const now = readAllProcessCpu();
      const wall = performance.now() / 1000;
      const interval = Math.max(wall - lastWall, 1e-3);
      const mine = ours();
      const found: ForeignProcess[] = [];
      for (const [pid, { cpu, ppid, command }] of now) {
        if (mine.has(pid) || mine.has(ppid)) continue;
        const before = last.get(pid);
        // A pid that is new, or reused by another process, used all of its CPU time since the last mark.
        const seconds = before && before.cpu <= cpu ? cpu - before.cpu : cpu;
        if (seconds <= 0) continue;
        const total = totals.get(pid) ?? { seconds: 0, command };
        total.seconds += seconds;
        totals.set(pid, total);
        const percent = (seconds / interval) * 100;
        if (percent >= minPercent) found.push({ pid, command, percent });
      }
      last = now;
      lastWall = wall;
      return found.sort((a, b) => b.percent - a.percent).slice(0, 8);
    },
    /** The busiest other processes over everything marked so far (those that exited between marks are missed). */
    totals(minPercent = 2): ForeignProcess[] {
      const span = Math.max(lastWall - firstWall, 1e-3);
      return [...totals.entries()]
        .map(([pid, { seconds, command }]) => ({ pid, command, percent: (seconds / span) * 100 }))
        .filter((entry) => entry.percent >= minPercent)
        .sort((a, b) => b.percent - a.percent)
        .slice(0, 10);
    },
  };
}
