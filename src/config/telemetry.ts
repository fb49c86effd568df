import { z } from 'zod';
import { flag, httpUrlOf, integer, optional } from './shared.ts';

const otlpUrl = httpUrlOf('set OTEL_EXPORTER_OTLP_HEADERS', 'http://otel-collector:4318');

/**
 * The W3C Baggage-style lists of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS: `key=value` pairs
 * separated by commas, values percent-encoded. A malformed list is refused rather than half read.
 */
const keyValueList = (what: string) =>
  z.string().transform((value, ctx) => {
    const out: Record<string, string> = {};
    for (const item of value.split(',')) {
      if (item.trim() === '') continue;
      const at = item.indexOf('=');
      const key = at < 0 ? '' : item.slice(0, at).trim();
      let decoded: string | undefined;
      try {
        decoded = at < 0 ? undefined : decodeURIComponent(item.slice(at + 1).trim());
      } catch {
        decoded = undefined;
      }
      if (!/^[A-Za-z0-9._/-]+$/.test(key) || decoded === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${what}=value pairs` });
        return z.NEVER;
      }
      out[key] = decoded;
    }
    return out;
  });

const OTLP_PROTOCOL = z.enum(['http/protobuf', 'http/json'], {
  error:
    "must be http/protobuf or http/json (OTLP over gRPC is not supported: use the collector's port 4318)",
});
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** The service.name spans carry when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one. */
export const DEFAULT_SERVICE_NAME = 'carrierx-cdr-graphql';

/**
 * What the service tells about itself: logs, metrics, and OpenTelemetry traces (src/telemetry/tracing.ts,
 * docs/operating.md) by the standard OTEL_* variables, off (and the SDK never loaded) unless an OTLP endpoint
 * is set.
 */
export const telemetryEnv = z.object({
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .default('info')
    .describe('the least severe level logged (JSON lines on stdout)'),
  ACCESS_LOG: optional(flag).default(true).describe('one info line per GraphQL operation'),
  // On their own listener, so the API's port does not expose them.
  METRICS_PORT: optional(integer(0, 65535))
    .default(9464)
    .describe('Prometheus metrics at GET /metrics on this port; 0 turns the listener off'),
  // Its own interface too: the API may listen on every interface while the metrics stay on a private one.
  METRICS_HOST: optional(z.string()).meta({
    description: 'interface the metrics listener listens on',
    unset: 'HOST',
  }),
  OTEL_SDK_DISABLED: optional(flag).default(false).describe('true turns tracing off whatever else is set'),
  OTEL_TRACES_EXPORTER: optional(
    z.enum(['otlp', 'none'], { error: 'must be otlp or none (the only exporters this service has)' }),
  ).meta({ description: 'otlp, or none to turn tracing off', unset: 'otlp' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(otlpUrl).describe(
    'the OTLP/HTTP collector; spans go to its /v1/traces',
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(otlpUrl).meta({
    description: 'the whole URL spans are POSTed to, in place of OTEL_EXPORTER_OTLP_ENDPOINT',
    unset: 'OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces',
  }),
  OTEL_EXPORTER_OTLP_PROTOCOL: optional(OTLP_PROTOCOL).meta({
    description: 'http/protobuf or http/json',
    unset: 'http/protobuf',
  }),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optional(OTLP_PROTOCOL).meta({
    description: 'the protocol for traces, in place of OTEL_EXPORTER_OTLP_PROTOCOL',
    unset: 'OTEL_EXPORTER_OTLP_PROTOCOL',
  }),
  OTEL_EXPORTER_OTLP_HEADERS: optional(keyValueList('header')).describe(
    'headers sent with each export (key=value pairs, comma-separated, values percent-encoded); never logged',
  ),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: optional(keyValueList('header')).describe(
    'more headers for trace exports, over OTEL_EXPORTER_OTLP_HEADERS',
  ),
  OTEL_EXPORTER_OTLP_TIMEOUT: optional(integer(1, 600_000)).meta({
    description: 'the most one export may take, in milliseconds',
    unset: '10000',
  }),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: optional(integer(1, 600_000)).meta({
    description: 'the timeout for trace exports, in place of OTEL_EXPORTER_OTLP_TIMEOUT',
    unset: 'OTEL_EXPORTER_OTLP_TIMEOUT',
  }),
  OTEL_SERVICE_NAME: optional(z.string().max(256, { error: 'must be at most 256 characters' })).meta({
    description: 'the service.name spans carry',
    unset: `service.name of OTEL_RESOURCE_ATTRIBUTES, else ${DEFAULT_SERVICE_NAME}`,
  }),
  OTEL_RESOURCE_ATTRIBUTES: optional(keyValueList('key')).describe(
    'resource attributes of every span (key=value pairs, comma-separated, values percent-encoded)',
  ),
  OTEL_TRACES_SAMPLER: optional(z.enum(SAMPLERS, { error: `must be one of ${SAMPLERS.join(', ')}` })).meta({
    description: 'the sampler: which new traces are kept',
    unset: 'parentbased_always_on',
  }),
  OTEL_TRACES_SAMPLER_ARG: optional(
    z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { error: 'must be a ratio from 0 to 1, e.g. 0.1' })
      .transform(Number),
  ).meta({ description: 'for the ratio samplers: the fraction of new traces kept', unset: '1' }),
});

/** Tracing as the OTEL_* variables ask, by the OpenTelemetry spec's precedence (signal-specific first). */
function tracingConfig(e: z.output<typeof telemetryEnv>) {
  const url =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? undefined : `${e.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`);
  if (url === undefined || e.OTEL_SDK_DISABLED || e.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const resource = { ...e.OTEL_RESOURCE_ATTRIBUTES };
  const serviceName = e.OTEL_SERVICE_NAME ?? resource['service.name'] ?? DEFAULT_SERVICE_NAME;
  return {
    /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
    url,
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    /** Sent with each export (e.g. an API key): never logged. */
    headers: { ...e.OTEL_EXPORTER_OTLP_HEADERS, ...e.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    timeoutMs: e.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? e.OTEL_EXPORTER_OTLP_TIMEOUT ?? 10_000,
    serviceName,
    /** OTEL_RESOURCE_ATTRIBUTES, service.name set from serviceName. */
    resource: { ...resource, 'service.name': serviceName },
    sampler: e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
    /** For the ratio samplers: the fraction of new traces kept. */
    ratio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
  };
}

export type TracingConfig = NonNullable<ReturnType<typeof tracingConfig>>;

export function telemetryConfig(e: z.output<typeof telemetryEnv>) {
  return {
    logLevel: e.LOG_LEVEL,
    accessLog: e.ACCESS_LOG,
    /** 0: no metrics listener. */
    metricsPort: e.METRICS_PORT,
    /** OpenTelemetry traces; undefined: off (no OTLP endpoint, OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none). */
    tracing: tracingConfig(e),
  };
}
