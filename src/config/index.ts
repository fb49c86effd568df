import type { z } from 'zod';
import { cacheConfig, cacheEnv } from './cache.ts';
import { carrierxConfig, carrierxEnv } from './carrierx.ts';
import { graphqlConfig, graphqlEnv } from './graphql.ts';
import { httpConfig, httpEnv } from './http.ts';
import { deprecatedLimits, limitsConfig, limitsEnv } from './limits.ts';
import { liveConfig, liveEnv } from './live.ts';
import { runtimeConfig, runtimeEnv } from './runtime.ts';
import { whenValid } from './shared.ts';
import { simulatorConfig, simulatorEnv } from './simulator.ts';
import { telemetryConfig, telemetryEnv } from './telemetry.ts';
import { type UnknownVariable, unknownVariables } from './unknown-variables.ts';

export { H2_STREAMS_PER_CONNECTION } from './carrierx.ts';
export { LOOPBACK_HOSTS } from './http.ts';
export { DEFAULT_SERVICE_NAME, type TracingConfig } from './telemetry.ts';
export type { UnknownVariable } from './unknown-variables.ts';

// The configuration is the environment read by one schema per concern (each in its own file, with what its
// variables mean), checked across concerns here, and mapped to the Config the rest of the code reads.

const concerns = [
  runtimeEnv,
  httpEnv,
  carrierxEnv,
  limitsEnv,
  graphqlEnv,
  cacheEnv,
  simulatorEnv,
  telemetryEnv,
  liveEnv,
] as const;

/** Every variable the service reads, by name: its schema, default and description (docs/configuration.md). */
export const variables: Record<string, z.ZodType> = Object.assign(
  {},
  ...concerns.map((concern) => concern.shape),
);

// Each concern parses the same environment (its variables only) and reports its own problems; the
// intersection collects them all.
const envSchema = runtimeEnv
  .and(httpEnv)
  .and(carrierxEnv)
  .and(limitsEnv)
  .and(graphqlEnv)
  .and(cacheEnv)
  .and(simulatorEnv)
  .and(telemetryEnv)
  .and(liveEnv)
  // The simulator's demo data must never be served as if it were CarrierX's.
  .refine((e) => e.NODE_ENV !== 'production' || e.CARRIERX_BASE_URL !== undefined, {
    path: ['CARRIERX_BASE_URL'],
    ...whenValid,
    error: 'is required when NODE_ENV=production (the embedded simulator is for development and tests)',
  })
  // Replicas sharing Redis must fingerprint credentials alike, or none would find another's entries.
  .refine(
    (e) => e.NODE_ENV !== 'production' || e.REDIS_URL === undefined || e.CACHE_KEY_SECRET !== undefined,
    {
      path: ['CACHE_KEY_SECRET'],
      ...whenValid,
      error: 'is required when NODE_ENV=production and REDIS_URL is set (every replica must share it)',
    },
  )
  // A lookup that goes to CarrierX makes up to three Redis round trips besides (read, generation, write): each
  // may take REDIS_TIMEOUT_MS, and together they must leave the request most of its deadline.
  .refine((e) => e.REDIS_URL === undefined || 4 * e.REDIS_TIMEOUT_MS <= e.REQUEST_DEADLINE_MS, {
    path: ['REDIS_TIMEOUT_MS'],
    ...whenValid,
    error:
      'must be at most a quarter of REQUEST_DEADLINE_MS when REDIS_URL is set (a Redis that stops answering must never cost a request its deadline)',
  });

/** The environment as validated, before it is mapped to Config. */
export type Env = z.output<typeof envSchema>;

const configSchema = envSchema.transform((e) => {
  const { production } = runtimeConfig(e);
  return {
    ...runtimeConfig(e),
    ...telemetryConfig(e),
    /** Where the metrics listener binds: METRICS_HOST, else HOST. */
    metricsHost: e.METRICS_HOST ?? e.HOST,
    ...httpConfig(e, {
      production,
      fallbackToken: e.CARRIERX_TOKEN !== undefined,
      onSimulator: e.CARRIERX_BASE_URL === undefined || e.EMBEDDED_SIMULATOR_WORKER,
    }),
    ...carrierxConfig(e),
    ...limitsConfig(e),
    ...cacheConfig(e),
    ...graphqlConfig(e, production),
    ...simulatorConfig(e),
    ...liveConfig(e),
  };
});

/** The validated configuration, as every part of the service reads it. */
export type Config = z.output<typeof configSchema> & {
  /**
   * Variables that look like ours but are not (typos, most likely), and deprecated ones still read, for the
   * entry point to log at warn: loadConfig itself logs nothing. In production a typo is a ConfigError instead.
   */
  warnings: UnknownVariable[];
};

/** Thrown when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(
    /** One entry per bad variable: its name and what is wrong (with its value, unless that is a secret). */
    readonly problems: { variable: string; problem: string }[],
    /** NODE_ENV=production was asked for: the entry point reports this as one JSON line. */
    readonly production: boolean,
  ) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`);
  }
}

/** Reads and validates the environment once; the only reader of process.env. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  const unknown = unknownVariables(env, Object.keys(variables));
  const production = env.NODE_ENV === 'production';
  // In production a typo must not leave a setting at its default unnoticed: the server refuses to start.
  const typos = production
    ? unknown.map((u) => ({
        variable: u.variable,
        problem: `is not a variable this service reads: did you mean ${u.suggestion}?`,
      }))
    : [];
  if (parsed.success && typos.length === 0) {
    const deprecated = deprecatedLimits(env, parsed.data.limits.operationCost);
    return { ...parsed.data, warnings: [...deprecated, ...unknown] };
  }
  const problems = (parsed.success ? [] : parsed.error.issues).map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const raw = env[name];
    // Never echo a secret back, not even into a startup error: a token, or a URL's user:password@.
    const secret =
      name.includes('TOKEN') ||
      name.includes('SECRET') ||
      name.includes('HEADERS') ||
      ((name.endsWith('_URL') || name.endsWith('_ENDPOINT')) && raw?.includes('@'));
    const shown = raw === undefined || secret ? '' : ` (got ${JSON.stringify(raw)})`;
    return { variable: name, problem: `${issue.message}${shown}` };
  });
  throw new ConfigError([...problems, ...typos], production);
}
