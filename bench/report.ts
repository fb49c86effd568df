import type { CpuUse, ForeignProcess } from './cpu.ts';
import type { FairnessResult } from './fairness.ts';
import type { LoadResult } from './load.ts';
import type { MachineInfo } from './machine.ts';
import type { BenchOptions } from './options.ts';
import type { RollPhase, RollResult } from './roll.ts';
import type { ScenarioTarget } from './scenarios.ts';
import type { StartupResult } from './startup.ts';

/** Everything measured for one scenario. */
export interface ScenarioResult {
  key: string;
  title: string;
  target: ScenarioTarget;
  connections: number;
  load: LoadResult;
  /** Upstream traffic during the measured run, from the upstream simulator's /_simulator/stats. */
  upstream: { requests: number; bytes: number; callsPerOp: number; bytesPerOp: number };
  /** Upstream calls and bytes of single operations sent one at a time with the stats reset before each. */
  probe: { calls: number[]; bytes: number[] };
  /** Body bytes of one sampled response. */
  clientBodyBytes: number;
  /** RSS in bytes of the measured process (the server; the floor simulator for 1 and 7a) around the run. */
  rss: { before: number | undefined; after: number | undefined };
  /** CPU use during the run, as a percentage of one core. */
  cpu: CpuUse;
  /** Processes this benchmark did not start that used CPU during the run. */
  otherProcesses: ForeignProcess[];
  /** Lines the server logged at warn level or above during the run. */
  serverWarnings: number;
  /** Why this scenario's numbers cannot be trusted; empty when every check passed. */
  problems: string[];
  /** The measured process's peak RSS since it started (VmHWM), read after the run; scenarios 11 and 11b. */
  peakRss?: number | undefined;
  /** Scenarios 8a–8e: what the cached server's cache did during the measured run. */
  cache?: CacheMeasure;
}

/** The cache's side of a measured run of a cached server (8a–8e). */
export interface CacheMeasure {
  /** cdr_cache_lookups_total by result, diffed over the run (from the server's metrics listener). */
  lookups: Record<string, number>;
  /** Hits over all lookups of the run; undefined when there were none. */
  hitRatio: number | undefined;
  /** Redis commands during the run (INFO commandstats, diffed, INFO itself left out) per operation sent. */
  redisCommandsPerOp?: number;
  /** 8e: body bytes of one upstream GET of the missing fields (`include_fields=<missing>,dr_sid`). */
  missingFieldsBytes?: number;
}

export interface SoakResult {
  seconds: number;
  requestsPerSecond: number;
  rssAfterWarmup: number | undefined;
  rssAfter: number | undefined;
  rssMin: number | undefined;
  rssMax: number | undefined;
  problems: string[];
}

/** One kind of line the server logged at warn level or above, and how often. */
export interface ServerLogKind {
  level: number;
  message: string;
  count: number;
  example: string;
}

export interface TargetCheck {
  name: string;
  value: string;
  target: string;
  /** Undefined when it could not be judged (a scenario failed its checks, or the soak did not run). */
  pass: boolean | undefined;
  note?: string;
}

/** One measure of the reference layer beside the server's, from the same run. */
export interface ReferenceRow {
  name: string;
  reference: string;
  server: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  options: BenchOptions;
  machine: {
    atStart: MachineInfo;
    loadAverageAtEnd: [number, number, number];
    /** The busiest processes this benchmark did not start, over the whole run. */
    otherProcesses: ForeignProcess[];
  };
  code: { commit: string; dirtyFiles: number; exported: boolean };
  layout: string[];
  sids: string[];
  scenarios: ScenarioResult[];
  /** Scenario 12: the good credential alone and beside a rate-limited or slow one. */
  fairness?: FairnessResult;
  /** Scenario 13: the rolling restart of three replicas behind HAProxy, under load. */
  roll?: RollResult;
  soak: SoakResult | undefined;
  targets: TargetCheck[];
  /** The same measures for the reference layer (3r, 7r): what any layer could reach here. */
  reference: ReferenceRow[];
  /** Peak RSS in bytes (VmHWM) of the server and of the reference layer over the whole run (issue 13). */
  peakRss?: PeakRss;
  serverLog: ServerLogKind[];
  notes: string[];
  /** Why the run stopped early; only the scenarios measured before are in it. */
  aborted?: string;
  /** The compiled server's start to /ready and idle RSS (bench/startup.ts), measured before the scenarios. */
  startup?: StartupResult;
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits);
const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : (bytes / 1024 / 1024).toFixed(1));
const ratioOf = (p99: number, p50: number) => (p50 > 0 ? p99 / p50 : Number.NaN);
/** Below this CPU share of its core the measured process was not the bottleneck. */
const SATURATED = 90;
/** Requests per second per full core the measured process used. */
const perCoreThroughput = (r: ScenarioResult) =>
  r.cpu.measured ? r.load.requestsPerSecond / (r.cpu.measured / 100) : Number.NaN;
const byCore = (values: Record<string, number>) =>
  Object.entries(values)
    .map(([core, percent]) => `${core} ${fixed(percent, 0)}`)
    .join(', ') || 'n/a';

/** Peak RSS in bytes (VmHWM) over a run; undefined when it could not be read (no /proc). */
export interface PeakRss {
  server: number | undefined;
  reference: number | undefined;
}

/** Issue 13's memory budget for the server under the full benchmark. */
const PEAK_RSS_BUDGET_MB = 150;

/** Judges the issue's targets from the scenario results. */
export function evaluateTargets(
  results: readonly ScenarioResult[],
  soak: SoakResult | undefined,
  options: BenchOptions,
  peakRss?: PeakRss,
): TargetCheck[] {
  const byKey = new Map(results.map((result) => [result.key, result]));
  const need = (...keys: string[]) => {
    const found = keys.map((key) => byKey.get(key));
    const missing = keys.filter((_key, i) => !found[i]);
    const broken = keys.filter((_key, i) => (found[i]?.problems.length ?? 0) > 0);
    return { found: found as ScenarioResult[], missing, broken };
  };
  const judged = (
    name: string,
    target: string,
    keys: string[],
    judge: (found: ScenarioResult[]) => Omit<TargetCheck, 'name' | 'target'>,
  ): TargetCheck => {
    const { found, missing, broken } = need(...keys);
    if (missing.length) {
      return { name, target, value: 'n/a', pass: undefined, note: `scenario ${missing.join(', ')} not run` };
    }
    if (broken.length) {
      return {
        name,
        target,
        value: 'n/a',
        pass: undefined,
        note: `scenario ${broken.join(', ')} failed its checks`,
      };
    }
    return { name, target, ...judge(found) };
  };
  const exactCalls = (found: ScenarioResult, expected: number): Omit<TargetCheck, 'name' | 'target'> => {
    const { calls } = found.probe;
    const { completed, sent } = found.load;
    const underLoad = found.upstream.requests;
    // Under load, operations still in flight when autocannon stops may or may not have reached the upstream.
    const consistent = underLoad >= completed * expected && underLoad <= sent * expected;
    return {
      value: `${calls.join(', ')} (under load ${fixed(found.upstream.callsPerOp, 3)})`,
      pass: calls.length > 0 && calls.every((count) => count === expected) && consistent,
      note: consistent
        ? undefined
        : `under load ${underLoad} upstream calls for ${completed} answered / ${sent} sent operations`,
    };
  };
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / (values.length || 1);

  const checks: TargetCheck[] = [
    judged('(3)/(1) throughput', '≥ 0.25', ['1', '3'], ([one, three]) => {
      const floor = one as ScenarioResult;
      const layer = three as ScenarioResult;
      const ratio = layer.load.requestsPerSecond / floor.load.requestsPerSecond;
      const perCore = perCoreThroughput(layer) / perCoreThroughput(floor);
      const unsaturated = [floor, layer].filter((r) => (r.cpu.measured ?? 0) < SATURATED);
      return {
        value: `${fixed(ratio, 3)} (per core of the measured process: ${fixed(perCore, 3)})`,
        pass: ratio >= 0.25,
        ...(unsaturated.length
          ? {
              note: `${unsaturated.map((r) => `(${r.key}) used ${fixed(r.cpu.measured, 0)}%`).join(', ')} of its core (not saturated: the load generator or other load set the pace), so the per-core ratio is the fairer one`,
            }
          : {}),
      };
    }),
    judged('added latency (7b)−(7a), 1 connection', '≤ 0.25 ms (p50)', ['7a', '7b'], ([a, b]) => {
      const floor = (a as ScenarioResult).load.latency;
      const layer = (b as ScenarioResult).load.latency;
      const added = layer.p50 - floor.p50;
      return {
        value: `${fixed(added, 3)} ms p50 (mean ${fixed(layer.mean - floor.mean, 3)} ms)`,
        pass: added <= 0.25,
      };
    }),
    // Issue 10: a hit from the in-process cache calls CarrierX not at all; the reference layer calls it every time.
    judged('cache hit (8a)/(3r) throughput', '≥ 2', ['3r', '8a'], ([ref, hit]) => {
      const ratio =
        (hit as ScenarioResult).load.requestsPerSecond / (ref as ScenarioResult).load.requestsPerSecond;
      const calls = (hit as ScenarioResult).upstream.callsPerOp;
      return {
        value: `${fixed(ratio, 3)} (upstream calls/op under load ${fixed(calls, 4)})`,
        pass: ratio >= 2,
      };
    }),
    judged('(3)/(2) throughput', '≥ 0.6', ['2', '3'], ([two, three]) => {
      const ratio =
        (three as ScenarioResult).load.requestsPerSecond / (two as ScenarioResult).load.requestsPerSecond;
      return { value: fixed(ratio, 3), pass: ratio >= 0.6 };
    }),
    judged(
      `p99/p50 at ${options.connections} connections, (2)–(6)`,
      '≤ 3',
      ['2', '3', '4', '5', '6'],
      (found) => {
        const ratios = found.map((result) => ratioOf(result.load.latency.p99, result.load.latency.p50));
        const worst = Math.max(...ratios);
        const worstKey = found[ratios.indexOf(worst)]?.key;
        return {
          value: `worst ${fixed(worst, 2)} (${worstKey}); ${found.map((r, i) => `${r.key}: ${fixed(ratios[i], 2)}`).join(', ')}`,
          pass: ratios.every((ratio) => ratio <= 3),
        };
      },
    ),
    judged('upstream bytes (4) / (3)', '≤ 10%', ['3', '4'], ([three, four]) => {
      const share = mean((four as ScenarioResult).probe.bytes) / mean((three as ScenarioResult).probe.bytes);
      return {
        value: `${fixed(share * 100, 1)}% (${fixed(mean((four as ScenarioResult).probe.bytes), 0)} B vs ${fixed(mean((three as ScenarioResult).probe.bytes), 0)} B per op)`,
        pass: share <= 0.1,
      };
    }),
    judged('(5) upstream calls per op', 'exactly 10', ['5'], ([five]) =>
      exactCalls(five as ScenarioResult, 10),
    ),
    judged('(6) upstream calls per op', 'exactly 1', ['6'], ([six]) => exactCalls(six as ScenarioResult, 1)),
    // Issue 12: a page of 20 records is one CarrierX list call, not 20 GETs.
    judged('(10) upstream calls per op', 'exactly 1', ['10'], ([ten]) =>
      exactCalls(ten as ScenarioResult, 1),
    ),
    // Issue 10: a hit from Redis costs one Redis round trip instead of a CarrierX call.
    judged('cache hit from Redis (8c)/(3r) throughput', '≥ 1', ['3r', '8c'], ([ref, hit]) => {
      const found = hit as ScenarioResult;
      const ratio = found.load.requestsPerSecond / (ref as ScenarioResult).load.requestsPerSecond;
      return {
        value: `${fixed(ratio, 3)} (upstream calls/op under load ${fixed(found.upstream.callsPerOp, 4)}, Redis commands/op ${fixed(found.cache?.redisCommandsPerOp, 2)})`,
        pass: ratio >= 1,
      };
    }),
    // Issue 10: a partial hit asks CarrierX for the missing fields only.
    judged('partial hit (8e) upstream bytes/op', "≤ the missing fields' bytes", ['8e'], ([partial]) => {
      const found = partial as ScenarioResult;
      const limit = found.cache?.missingFieldsBytes;
      const probe = mean(found.probe.bytes);
      const underLoad = found.upstream.bytesPerOp;
      if (limit === undefined)
        return { value: 'n/a', pass: undefined, note: 'the missing fields were not measured' };
      return {
        value: `${fixed(probe, 0)} B per probe, ${fixed(underLoad, 1)} B/op under load; missing fields alone ${limit} B`,
        pass:
          found.probe.bytes.length > 0 &&
          found.probe.bytes.every((b) => b > 0 && b <= limit) &&
          underLoad <= limit,
      };
    }),
  ];

  // Issue 13, under realistic upstream latency: scenario 3 against a CarrierX 50 ms away (11, 256 connections;
  // 11b, 1,024 connections for memory), beside scenario 3 of the same run.
  const failures = (r: ScenarioResult) => r.load.non2xx + r.load.errors + r.load.timeouts + r.load.mismatches;
  checks.push(
    judged('(11)/(3) throughput, upstream 50 ms away, 256 connections', '≥ 0.75', ['3', '11'], (found) => {
      const [three, eleven] = found as [ScenarioResult, ScenarioResult];
      const ratio = eleven.load.requestsPerSecond / three.load.requestsPerSecond;
      return {
        value: `${fixed(ratio, 3)} (${fixed(eleven.load.requestsPerSecond, 0)} vs ${fixed(three.load.requestsPerSecond, 0)} req/s)`,
        pass: ratio >= 0.75,
      };
    }),
    judged('p99/p50 of (11)', '≤ 1.5', ['11'], ([eleven]) => {
      const { p50, p99 } = (eleven as ScenarioResult).load.latency;
      const ratio = ratioOf(p99, p50);
      return {
        value: `${fixed(ratio, 2)} (p50 ${fixed(p50, 1)} ms, p99 ${fixed(p99, 1)} ms)`,
        pass: ratio <= 1.5,
      };
    }),
    judged(
      'peak RSS of the server at 1,024 connections, upstream 50 ms away (11b)',
      '≤ 200 MB',
      ['11b'],
      ([b]) => {
        const peak = (b as ScenarioResult).peakRss;
        return { value: `${mb(peak)} MB`, pass: peak === undefined ? undefined : peak <= 200 * 1024 * 1024 };
      },
    ),
  );
  // Not through `judged`: errors are what this target counts, so a run with errors fails it rather than n/a.
  const latencyRuns = ['11', '11b'].flatMap((key) => byKey.get(key) ?? []);
  checks.push({
    name: 'errors in (11) and (11b)',
    target: '0',
    value: latencyRuns.length
      ? latencyRuns.map((r) => `${r.key}: ${failures(r)} of ${r.load.sent}`).join(', ')
      : 'n/a',
    pass: latencyRuns.length
      ? latencyRuns.every((r) => failures(r) === 0 && r.problems.length === 0)
      : undefined,
    ...(latencyRuns.length ? {} : { note: 'scenarios 11 and 11b not run' }),
  });
  // Issue 13: the targets restated against the reference layer, in the same run.
  const rpsRatio = (layer: ScenarioResult, ref: ScenarioResult) =>
    layer.load.requestsPerSecond / ref.load.requestsPerSecond;
  checks.push(
    judged('(3)/(3r) throughput, full record', '≥ 0.85', ['3', '3r'], ([three, ref]) => {
      const ratio = rpsRatio(three as ScenarioResult, ref as ScenarioResult);
      return {
        value: `${fixed(ratio, 3)} (${fixed((three as ScenarioResult).load.requestsPerSecond, 0)} vs ${fixed((ref as ScenarioResult).load.requestsPerSecond, 0)} req/s)`,
        pass: ratio >= 0.85,
      };
    }),
    judged('(4)/(3r) throughput, 3 fields', '≥ 1.1', ['4', '3r'], ([four, ref]) => {
      const ratio = rpsRatio(four as ScenarioResult, ref as ScenarioResult);
      return {
        value: `${fixed(ratio, 3)} (${fixed((four as ScenarioResult).load.requestsPerSecond, 0)} vs ${fixed((ref as ScenarioResult).load.requestsPerSecond, 0)} req/s)`,
        pass: ratio >= 1.1,
      };
    }),
    judged('added latency (7b)−(7r), 1 connection', '≤ 0.05 ms (p50)', ['7b', '7r'], ([b, r]) => {
      const layer = (b as ScenarioResult).load.latency;
      const ref = (r as ScenarioResult).load.latency;
      const added = layer.p50 - ref.p50;
      return {
        value: `${fixed(added, 3)} ms p50 (${fixed(layer.p50, 3)} vs ${fixed(ref.p50, 3)}; mean ${fixed(layer.mean - ref.mean, 3)} ms)`,
        pass: added <= 0.05,
      };
    }),
    judged(
      `p99 of (3) / p99 of (3r), ${options.connections} connections`,
      '≤ 1.5',
      ['3', '3r'],
      ([three, ref]) => {
        const layer = (three as ScenarioResult).load.latency.p99;
        const reference = (ref as ScenarioResult).load.latency.p99;
        const ratio = layer / reference;
        return {
          value: `${fixed(ratio, 2)} (${fixed(layer, 3)} vs ${fixed(reference, 3)} ms)`,
          pass: ratio <= 1.5,
        };
      },
    ),
  );
  const quickOrPartial = options.quick || options.only !== undefined;
  checks.push(
    peakRss?.server === undefined
      ? {
          name: 'server peak RSS under the benchmark',
          target: `≤ ${PEAK_RSS_BUDGET_MB} MB`,
          value: 'n/a',
          pass: undefined,
          note: 'VmHWM could not be read (no /proc)',
        }
      : {
          name: 'server peak RSS under the benchmark',
          target: `≤ ${PEAK_RSS_BUDGET_MB} MB`,
          value: `${mb(peakRss.server)} MB (reference layer ${mb(peakRss.reference)} MB)`,
          pass: peakRss.server <= PEAK_RSS_BUDGET_MB * 2 ** 20,
          ...(quickOrPartial ? { note: 'a quick or partial run: the budget is for the full benchmark' } : {}),
        },
  );

  if (!soak) {
    checks.push({
      name: 'RSS after soak vs after warm-up',
      target: 'within 10%',
      value: 'not run',
      pass: undefined,
      note:
        options.soakSeconds > 0
          ? 'the run stopped before the soak'
          : 'run with --soak-seconds 600 (issue 13: flat over a 10-minute soak)',
    });
  } else if (soak.problems.length || soak.rssAfter === undefined || soak.rssAfterWarmup === undefined) {
    checks.push({
      name: `RSS after ${soak.seconds} s soak vs after warm-up`,
      target: 'within 10%',
      value: 'n/a',
      pass: undefined,
      note: soak.problems.join('; ') || 'RSS could not be read',
    });
  } else {
    const change = (soak.rssAfter - soak.rssAfterWarmup) / soak.rssAfterWarmup;
    checks.push({
      name: `RSS after ${soak.seconds} s soak vs after warm-up`,
      target: 'within 10%',
      value: `${change >= 0 ? '+' : ''}${fixed(change * 100, 1)}% (${mb(soak.rssAfterWarmup)} → ${mb(soak.rssAfter)} MB, range ${mb(soak.rssMin)}–${mb(soak.rssMax)})`,
      pass: Math.abs(change) <= 0.1,
    });
  }
  // Issue 11: what tracing (9a: on, every span exported) and metrics (on in 3, off in 9b) cost, against 3 in the
  // same run. Reported, not judged: the issue asks for the figures.
  const cost = (base: ScenarioResult, other: ScenarioResult) => {
    const change = (a: number, b: number) => `${b >= a ? '+' : ''}${fixed(((b - a) / a) * 100, 1)}%`;
    return {
      value: `req/s ${change(base.load.requestsPerSecond, other.load.requestsPerSecond)} (${fixed(other.load.requestsPerSecond, 0)} vs ${fixed(base.load.requestsPerSecond, 0)}), per core ${change(perCoreThroughput(base), perCoreThroughput(other))}, p50 ${fixed(other.load.latency.p50 - base.load.latency.p50, 3)} ms, p99 ${fixed(other.load.latency.p99 - base.load.latency.p99, 3)} ms`,
      pass: undefined,
    };
  };
  checks.push(
    judged('tracing on: (9a) vs (3)', 'reported', ['3', '9a'], ([three, traced]) =>
      cost(three as ScenarioResult, traced as ScenarioResult),
    ),
    judged('metrics off: (9b) vs (3)', 'reported', ['3', '9b'], ([three, unmetered]) =>
      cost(three as ScenarioResult, unmetered as ScenarioResult),
    ),
  );
  return checks;
}

/**
 * The targets' measures taken for the reference layer too (bench/reference-proxy.ts: one upstream GET, rename,
 * answer; no GraphQL). Where the reference itself misses a target, no layer that makes the upstream call can
 * meet it on this machine, and the server's distance from the reference is the part a layer can still win.
 */
export function compareWithReference(results: readonly ScenarioResult[]): ReferenceRow[] {
  const ok = (key: string) => {
    const result = results.find((r) => r.key === key);
    return result && result.problems.length === 0 ? result : undefined;
  };
  const [one, three, ref, a, b, r] = ['1', '3', '3r', '7a', '7b', '7r'].map(ok);
  const rows: ReferenceRow[] = [];
  const rps = (x: ScenarioResult) => x.load.requestsPerSecond;
  const tail = (x: ScenarioResult) => ratioOf(x.load.latency.p99, x.load.latency.p50);
  if (one && three && ref) {
    rows.push({
      name: '(3)/(1) throughput (goal ≥ 0.25)',
      reference: `${fixed(rps(ref) / rps(one), 3)} (3r)/(1)`,
      server: `${fixed(rps(three) / rps(one), 3)}; the server reaches ${fixed((rps(three) / rps(ref)) * 100, 0)}% of the reference`,
    });
  }
  if (a && b && r) {
    rows.push({
      name: 'added latency over (7a), p50 (goal ≤ 0.25 ms)',
      reference: `${fixed(r.load.latency.p50 - a.load.latency.p50, 3)} ms (7r)−(7a)`,
      server: `${fixed(b.load.latency.p50 - a.load.latency.p50, 3)} ms (7b)−(7a)`,
    });
  }
  if (one && three && ref) {
    rows.push({
      name: 'p99/p50 at 10 connections (goal ≤ 3)',
      reference: `${fixed(tail(ref), 2)} (3r); the floor (1): ${fixed(tail(one), 2)}`,
      server: `${fixed(tail(three), 2)} (3)`,
    });
  }
  return rows;
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? '—' : pass ? 'PASS' : 'FAIL');

/** The report as markdown: the table first, then the targets, then how the numbers were made. */
export function renderMarkdown(report: BenchReport): string {
  const { options } = report;
  const lines: string[] = [];
  lines.push(`# Benchmark ${options.quick ? '(quick smoke run) ' : ''}— ${report.startedAt}`, '');
  if (report.aborted) {
    lines.push(
      `**Aborted before it finished** (${report.aborted.split('\n')[0]}): only the rows below were measured.`,
      '',
    );
  }
  lines.push(
    `${options.duration} s per scenario after ${options.warmup} s warm-up, ${options.connections} connections` +
      ` (1 for 7a/7b/7r), upstream latency ${options.upstreamLatencyMs} ms` +
      (options.soakSeconds ? `, soak ${options.soakSeconds} s.` : '.'),
    '',
  );
  lines.push(
    '| # | scenario | conns | req/s | p50 ms | p99 ms | p99/p50 | upstream calls/op | upstream B/op | client B/req (body / wire) | RSS MB before → after | measured CPU % | req/s per core | other load % | irq % | checks |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  );
  for (const r of report.scenarios) {
    const { latency } = r.load;
    lines.push(
      `| ${r.key} | ${r.title} | ${r.connections} | ${fixed(r.load.requestsPerSecond, 0)} | ${fixed(latency.p50, 3)} | ${fixed(latency.p99, 3)} | ${fixed(ratioOf(latency.p99, latency.p50), 2)} | ${fixed(r.upstream.callsPerOp, 3)} | ${fixed(r.upstream.bytesPerOp, 0)} | ${r.clientBodyBytes} / ${fixed(r.load.wireBytesPerResponse, 0)} | ${mb(r.rss.before)} → ${mb(r.rss.after)} | ${fixed(r.cpu.measured, 0)} | ${fixed(perCoreThroughput(r), 0)} | ${byCore(r.cpu.otherByCore)} | ${byCore(r.cpu.irqByCore)} | ${r.problems.length ? `**FAILED**: ${r.problems.join('; ')}` : `ok (${r.load.ok} × 200)`} |`,
    );
  }
  if (report.soak) {
    const s = report.soak;
    lines.push(
      '',
      `Soak (scenario 3 for ${s.seconds} s): ${fixed(s.requestsPerSecond, 0)} req/s, server RSS ${mb(s.rssAfterWarmup)} MB after warm-up → ${mb(s.rssAfter)} MB after (min ${mb(s.rssMin)}, max ${mb(s.rssMax)})${s.problems.length ? `; **FAILED**: ${s.problems.join('; ')}` : ''}.`,
    );
  }
  if (report.fairness) lines.push('', ...renderFairness(report.fairness));
  if (report.roll) lines.push('', ...renderRoll(report.roll));
  lines.push('', '## Targets', '', '| target | value | goal | verdict |', '|---|---|---|---|');
  for (const t of report.targets) {
    lines.push(
      `| ${t.name} | ${t.value} | ${t.target} | ${verdict(t.pass)}${t.note ? ` (${t.note})` : ''} |`,
    );
  }
  if (report.reference.length) {
    lines.push(
      '',
      '## Against the reference layer',
      '',
      "The reference layer (`bench/reference-proxy.ts`, on the server's core) answers scenario 3's request with the same upstream GET and the same JSON shape and does nothing else: no GraphQL, no policies, no logging. Where it misses a goal, no layer that makes that upstream call meets the goal on this machine.",
      '',
      '| measure | reference layer | server |',
      '|---|---|---|',
    );
    for (const row of report.reference) lines.push(`| ${row.name} | ${row.reference} | ${row.server} |`);
  }
  const cached = report.scenarios.filter((r) => r.cache);
  if (cached.length) {
    lines.push(
      '',
      '## Cache (8a–8e)',
      '',
      "Lookups from the cached server's `cdr_cache_lookups_total` (its metrics listener), diffed over the measured run; Redis commands from Redis's `INFO commandstats`, diffed over the run, per operation sent (each is one round trip: the cache sends no pipelines).",
      '',
      '| # | lookups (hit / partial / miss / stale / error) | hit ratio | Redis round trips/op | upstream B/op (probe) | missing fields alone, B |',
      '|---|---|--:|--:|--:|--:|',
    );
    for (const r of cached) {
      const c = r.cache as CacheMeasure;
      const count = (result: string) => c.lookups[result] ?? 0;
      lines.push(
        `| ${r.key} | ${['hit', 'partial', 'miss', 'stale', 'error'].map(count).join(' / ')} | ${fixed(c.hitRatio, 4)} | ${fixed(c.redisCommandsPerOp, 3)} | ${r.probe.bytes.join(', ')} | ${c.missingFieldsBytes ?? '—'} |`,
      );
    }
  }
  lines.push('', '## How these numbers were made', '');
  for (const line of report.layout) lines.push(`- ${line}`);
  const m = report.machine.atStart;
  lines.push(
    `- Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}.`,
    `- Load average at start ${m.loadAverage.map((v) => v.toFixed(2)).join(' / ')}, at end ${report.machine.loadAverageAtEnd.map((v) => v.toFixed(2)).join(' / ')} (1 / 5 / 15 min).`,
    report.code.exported
      ? `- Code under test: commit ${report.code.commit} (\`--ref ${report.options.ref}\`), exported clean to a temporary directory.`
      : `- Code under test: the working tree at commit ${report.code.commit}${report.code.dirtyFiles ? ` plus ${report.code.dirtyFiles} uncommitted paths (others may be editing it)` : ''}.`,
    '- "measured CPU %" is the measured process\'s CPU time over the run (100 = one full core); below 90 it was not the bottleneck. "req/s per core" divides req/s by that share. "other load %" is each core\'s task time minus the CPU time of the processes this benchmark started (other people\'s processes); "irq %" is interrupt and softirq time (loopback TCP), which no process is charged for. Both are percentages of that core.',
    "- Latency is measured per response (hrtime, sub-millisecond); upstream calls/op and B/op under load divide the upstream simulator's counters by the operations sent (those still in flight when a run stops are finished by the server after autocannon stops listening). The targets on upstream traffic use the one-at-a-time probes, which are exact.",
    '- Every response under load is checked (status 200, no `errors`, the expected record in it), and one sampled response before and after each run is parsed and checked field by field.',
  );
  for (const note of report.notes) lines.push(`- ${note}`);
  lines.push(
    '',
    '## Upstream probes (single operations, one at a time)',
    '',
    '| # | calls per op | bytes per op |',
    '|---|---|---|',
  );
  for (const r of report.scenarios) {
    lines.push(`| ${r.key} | ${r.probe.calls.join(', ')} | ${r.probe.bytes.join(', ')} |`);
  }
  lines.push('', '## Other processes on the machine', '');
  const busy = report.scenarios.filter((r) => r.otherProcesses.length);
  if (!busy.length && !report.machine.otherProcesses.length) {
    lines.push('No other process used 2% of a core or more during the run.');
  } else {
    const describe = (list: ForeignProcess[]) =>
      list.map((p) => `pid ${p.pid} \`${p.command}\` ${fixed(p.percent, 0)}%`).join('; ');
    if (report.machine.otherProcesses.length) {
      lines.push(`- Over the whole run (percent of one core): ${describe(report.machine.otherProcesses)}.`);
    }
    for (const r of busy) lines.push(`- During scenario ${r.key}: ${describe(r.otherProcesses)}.`);
  }
  if (report.serverLog.length) {
    lines.push(
      '',
      '## Server warnings and errors seen during the run',
      '',
      "Lines the server logged at warn (40) or error (50) level, grouped by message. autocannon closes its connections with requests in flight at the end of every warm-up and run, so a few client aborts per run are the benchmark's doing.",
      '',
      '| count | level | message | example |',
      '|--:|--:|---|---|',
    );
    for (const kind of report.serverLog) {
      const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
      lines.push(
        `| ${kind.count} | ${kind.level} | ${cell(kind.message)} | \`${cell(kind.example.slice(0, 300))}\` |`,
      );
    }
  } else {
    lines.push('', 'The server logged nothing at warn level or above during the run.');
  }
  return `${lines.join('\n')}\n`;
}

const codes = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ') || 'none';

/** Scenario 12's section: each phase of the good credential against phase A (alone), and the second one. */
function renderFairness(fairness: FairnessResult): string[] {
  const lines = [
    `## Two credentials, one rate-limited or slow (${fairness.key})`,
    '',
    `Scenario 3's request with the demo token (the good credential, ${fairness.connections} connections) to a server of its own with the CDR cache off, alone (A) and while a second credential (the descendant token, a fixed offered load) is answered 429 by CarrierX (B) or slowly (C). "correct/s" counts the good credential's answers with the record; its error answers are counted by code, and requests still unanswered when the run stopped are not in its latencies (with none answered, p50 and p99 are n/a: every request took longer than the run). The concurrency limit is \`carrierx_concurrency_limit\` from the server's metrics: before the phase, lowest–highest while measured, after.`,
    '',
  ];
  if (fairness.problems.length) lines.push(`**FAILED**: ${fairness.problems.join('; ')}`, '');
  lines.push(
    "| phase | good: correct/s | vs A | p50 ms | p99 ms | p99 vs A | good: errors; unanswered | second credential: conns, ≤ req/s → its answers while measured | upstream calls (the second credential's) | concurrency limit | queued ≤ | server CPU % | other load % |",
    '|---|--:|--:|--:|--:|--:|---|---|--:|--:|--:|--:|--:|',
  );
  const alone = fairness.phases.find((phase) => phase.key === 'A');
  for (const phase of fairness.phases) {
    const { latency } = phase.good;
    const vs = (value: number, base: number | undefined) =>
      base === undefined || base === 0 ? 'n/a' : fixed(value / base, 2);
    const limit = phase.limit;
    lines.push(
      `| ${phase.key}: ${phase.title} | ${fixed(phase.goodCorrectPerSecond, 0)} | ${vs(phase.goodCorrectPerSecond, alone?.goodCorrectPerSecond)} | ${fixed(latency.p50, 3)} | ${fixed(latency.p99, 3)} | ${vs(latency.p99, alone?.good.latency.p99)} | ${codes(phase.goodErrors)}${phase.good.timeouts ? `, ${phase.good.timeouts} timeouts` : ''}; ${phase.good.sent - phase.good.completed} of ${phase.good.sent} sent unanswered at the end | ${phase.bad ? `${phase.bad.connections}, ≤ ${phase.bad.rate} → ${codes(phase.bad.answers)}${phase.bad.load.non2xx ? ` (${phase.bad.load.non2xx} non-2xx)` : ''}` : '—'} | ${phase.upstream.requests}${phase.upstream.bad === undefined ? '' : ` (${phase.upstream.bad})`} | ${limit.before ?? '?'} → ${limit.min ?? '?'}–${limit.max ?? '?'} → ${limit.after ?? '?'} | ${phase.queuedMax ?? 'n/a'} | ${fixed(phase.cpu.measured, 0)} | ${byCore(phase.cpu.otherByCore)} |`,
    );
  }
  return lines;
}

const failedOf = (phase: RollPhase) => phase.socketErrors + phase.non200 + phase.wrongBodies;

/** Scenario 13's section: the steady window against the rolling restart. */
function renderRoll(roll: RollResult): string[] {
  const lines = [
    `## Rolling restart under load (${roll.key})`,
    '',
    `Scenario 3's request through HAProxy (TCP mode, retries off, checking /ready; test/helpers/haproxy.ts) to ${roll.replicas} production replicas sharing one redis-server (the cache on), at ${roll.connections} keep-alive connections: after a warm-up, a steady window (each at least 5 s, whatever --warmup and --duration say), then the same load while each replica in turn gets SIGTERM, exits, starts again on its port and is back in HAProxy's rotation. Every answer is checked as scenario 3's are; a request counts in the phase it was sent in. Nothing is pinned (three replicas, HAProxy and the load share every core).`,
    '',
  ];
  if (roll.problems.length) lines.push(`**FAILED**: ${roll.problems.join('; ')}`, '');
  lines.push(
    '| phase | seconds | sent | failed (socket / non-200 / wrong body) | req/s | p50 ms | p99 ms | p99 vs steady |',
    '|---|--:|--:|---|--:|--:|--:|--:|',
  );
  for (const [name, phase] of [
    ['steady', roll.steady],
    ['during the roll', roll.roll],
  ] as const) {
    const { latency } = phase;
    lines.push(
      `| ${name} | ${fixed(phase.seconds, 1)} | ${phase.sent} | ${failedOf(phase)} (${phase.socketErrors} / ${phase.non200} / ${phase.wrongBodies}) | ${fixed(phase.requestsPerSecond, 0)} | ${fixed(latency.p50, 3)} | ${fixed(latency.p99, 3)} | ${fixed(roll.steady.latency.p99 > 0 ? latency.p99 / roll.steady.latency.p99 : Number.NaN, 2)} |`,
    );
  }
  lines.push(
    '',
    `The roll took ${fixed(roll.rollSeconds, 1)} s: ${roll.steps
      .map(
        (step) =>
          `replica ${step.replica} exited ${fixed(step.stopMs / 1000, 2)} s after SIGTERM, listened again ${fixed(step.startMs / 1000, 2)} s later, and was back in rotation ${fixed(step.backMs / 1000, 2)} s after that`,
      )
      .join('; ')}.`,
  );
  if (roll.failures.length) lines.push('', `Failed requests, the first few: ${roll.failures.join('; ')}`);
  return lines;
}

/** Scenario 13's target: no request fails while the replicas restart one by one. */
export function rollTargets(roll: RollResult): TargetCheck[] {
  const failed = failedOf(roll.roll);
  return [
    {
      name: `(${roll.key}) requests failed during a rolling restart`,
      target: '= 0',
      value: `${failed} of ${roll.roll.sent}`,
      pass: roll.roll.sent > 0 ? failed === 0 : undefined,
    },
  ];
}

/** The short text printed at the end of a run. */
export function renderSummary(report: BenchReport): string {
  const lines = ['', 'Targets:'];
  const width = Math.max(...report.targets.map((t) => t.name.length));
  for (const t of report.targets) {
    lines.push(
      `  ${verdict(t.pass).padEnd(4)}  ${t.name.padEnd(width)}  ${t.value}  (goal ${t.target})${t.note ? `  [${t.note}]` : ''}`,
    );
  }
  if (report.reference.length) {
    lines.push('', 'Against the reference layer (one upstream GET, no GraphQL):');
    for (const row of report.reference)
      lines.push(`  ${row.name}: reference ${row.reference}; server ${row.server}`);
  }
  return lines.join('\n');
}

/** Issue 13's start-up targets: from process start to /ready ≤ 0.5 s, and idle RSS ≤ 80 MB (CARRIERX_BASE_URL set). */
export function startupTargets(startup: StartupResult | undefined): TargetCheck[] {
  const name = { start: 'Start: process start to /ready', rss: 'Idle RSS after start' };
  if (!startup || startup.runs === 0) {
    const note = startup?.problems.join('; ') || 'not measured';
    return [
      { name: name.start, target: '≤ 0.5 s', value: 'n/a', pass: undefined, note },
      { name: name.rss, target: '≤ 80 MB', value: 'n/a', pass: undefined, note },
    ];
  }
  const of = `median of ${startup.runs} starts of \`${startup.command}\``;
  return [
    {
      name: name.start,
      target: '≤ 0.5 s',
      value: `${fixed(startup.medianStartMs / 1000, 3)} s (${of})`,
      pass: startup.medianStartMs <= 500,
    },
    {
      name: name.rss,
      target: '≤ 80 MB',
      value: `${mb(startup.medianIdleRssBytes)} MB (${of})`,
      pass: startup.medianIdleRssBytes <= 80 * 1024 * 1024,
    },
  ];
}
