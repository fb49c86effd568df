import { z } from 'zod';

/** Empty strings count as unset, so `FOO= npm start` behaves like leaving FOO out. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` });

const httpUrl = z
  .string()
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash;
      } catch {
        return false;
      }
    },
    { error: 'must be an http(s) URL without query or fragment, e.g. https://api.carrierx.com/core/v2' },
  )
  .transform((value) => value.replace(/\/+$/, ''));

const envSchema = z.object({
  PORT: optional(integer(0, 65535)).default(4000),
  HOST: optional(z.string()).default('0.0.0.0'),
  CARRIERX_BASE_URL: optional(httpUrl),
  CARRIERX_TOKEN: optional(
    z.string().regex(/^[\x21-\x7e]+$/, { error: 'must be a single token of printable ASCII characters' }),
  ),
  CARRIERX_TIMEOUT_MS: optional(integer(1, 600_000)).default(10_000),
  // CarrierX's field-filtering parameter name is unconfirmed (see README): keep it switchable.
  CARRIERX_INCLUDE_FIELDS_PARAM: optional(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a query parameter name' }),
  ).default('include_fields'),
  CARRIERX_CONNECTIONS: optional(integer(1, 1024)).default(64),
  CARRIERX_MAX_PARALLEL_PER_REQUEST: optional(integer(1, 100)).default(10),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),
  NODE_ENV: optional(z.string()).default('development'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  production: boolean;
  logLevel: Env['LOG_LEVEL'];
  carrierx: {
    /** Undefined means: run the embedded simulator and use it. */
    baseUrl: string | undefined;
    token: string | undefined;
    timeoutMs: number;
    includeFieldsParam: string;
    connections: number;
    maxParallelPerRequest: number;
  };
}

/** Thrown when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment once; the only reader of process.env. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      const raw = env[name];
      // Never echo a secret back, not even into a startup error.
      const shown = raw === undefined || name.includes('TOKEN') ? '' : ` (got ${JSON.stringify(raw)})`;
      return `  ${name}: ${issue.message}${shown}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    production: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    carrierx: {
      baseUrl: e.CARRIERX_BASE_URL,
      token: e.CARRIERX_TOKEN,
      timeoutMs: e.CARRIERX_TIMEOUT_MS,
      includeFieldsParam: e.CARRIERX_INCLUDE_FIELDS_PARAM,
      connections: e.CARRIERX_CONNECTIONS,
      maxParallelPerRequest: e.CARRIERX_MAX_PARALLEL_PER_REQUEST,
    },
  };
}
