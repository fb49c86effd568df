import { parseArgs } from 'node:util';

/** What one `npm run bench` run does; every duration is in seconds. */
export interface BenchOptions {
  quick: boolean;
  duration: number;
  warmup: number;
  connections: number;
  upstreamLatencyMs: number;
  soakSeconds: number;
  /** Single operations whose upstream calls are counted one by one, per scenario. */
  probes: number;
  /** Benchmark the server and simulator of this commit instead of the working tree. */
  ref: string | undefined;
  /** Scenario keys to run (all when undefined). */
  only: string[] | undefined;
  /** Extra server environment, e.g. HTTP_FAST_PATH=false, to compare settings. */
  serverEnv: Record<string, string>;
}

export const USAGE = `Usage: npm run bench -- [options]

  --duration <s>             seconds measured per scenario (default 10; 2 with --quick)
  --warmup <s>               seconds of discarded load before each scenario (default 3; 1 with --quick)
  --connections <n>          connections for the throughput scenarios (default 10)
  --upstream-latency-ms <n>  delay every simulator response by n ms (its global latency fault rule)
  --soak-seconds <s>         also run scenario 3 for s seconds and compare server RSS (e.g. 60; default off)
  --ref <git ref>            run the server and simulator of that commit (exported to a temporary
                             directory) instead of the working tree, e.g. --ref HEAD
  --only <keys>              run only these scenarios, e.g. --only 3,5 (targets that need others show n/a)
  --server-env <KEY=VALUE>   extra server setting (repeatable), e.g. HTTP_FAST_PATH=false or
                             REQUEST_BODY_LIMIT_STRATEGY=stream, to measure what a lever is worth
  --quick                    a fast smoke run, written to bench/results/quick.{md,json}
  --help                     this text
`;

/** Thrown for a bad command line; run.ts prints it with the usage text. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function number(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Parses argv (without node and the script); returns undefined when --help was asked for. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return undefined;
  const quick = values.quick ?? false;
  const connections = number(values.connections, 'connections', 10, 1, 1000);
  if (!Number.isInteger(connections)) throw new UsageError('--connections must be a whole number');
  return {
    quick,
    duration: number(values.duration, 'duration', quick ? 2 : 10, 1, 3600),
    warmup: number(values.warmup, 'warmup', quick ? 1 : 3, 0, 600),
    connections,
    upstreamLatencyMs: number(values['upstream-latency-ms'], 'upstream-latency-ms', 0, 0, 10_000),
    soakSeconds: number(values['soak-seconds'], 'soak-seconds', 0, 0, 24 * 3600),
    probes: quick ? 3 : 5,
    ref: values.ref,
    only: values.only?.split(',').map((key) => key.trim()),
    serverEnv: Object.fromEntries(
      (values['server-env'] ?? []).map((pair) => {
        const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
        if (!match) throw new UsageError(`--server-env takes KEY=VALUE, got "${pair}"`);
        return [match[1] as string, match[2] as string];
      }),
    ),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'server-env': { type: 'string', multiple: true },
      connections: { type: 'string' },
      'upstream-latency-ms': { type: 'string' },
      'soak-seconds': { type: 'string' },
      ref: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
