// An unknown variable that looks like one of ours is most likely a typo (CARRIERX_BASEURL), and a typo is a
// setting silently left at its default: the entry point warns of it, and production refuses to start.

/**
 * The prefixes of the variables this service declares that no other program is likely to use: a name with one
 * of them is ours or a typo of ours. Not NODE_ (Node's own), LOG_, WEB_ or ACCESS_ (too generic).
 */
const OUR_PREFIXES = [
  'CARRIERX_',
  'CACHE_',
  'REDIS_',
  'HTTP_',
  'GRAPHQL_',
  'GRAPHIQL_',
  'METRICS_',
  'SIMULATOR_',
  'EMBEDDED_',
  'PERSISTED_',
  'REQUEST_',
  'MAX_',
  'QUERY_',
  'CORS_',
  'OTEL_',
] as const;

/**
 * Variables with our prefixes that other software reads, which may well be set where this service runs:
 * Node and npm's HTTP_PROXY, and the OpenTelemetry variables this service does not read (the spec's SDK
 * variables; an operator may set them for every service alike, and they are not typos of ours).
 */
const OTHERS = new Set([
  'HTTP_PROXY',
  'OTEL_LOG_LEVEL',
  'OTEL_PROPAGATORS',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_METRICS_EXEMPLAR_FILTER',
  'OTEL_EXPORTER_OTLP_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_KEY',
  'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_INSECURE',
  'OTEL_CONFIG_FILE',
  'OTEL_ENTITIES',
  'OTEL_SEMCONV_STABILITY_OPT_IN',
  'OTEL_NODE_RESOURCE_DETECTORS',
  'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
  'OTEL_NODE_DISABLED_INSTRUMENTATIONS',
]);

/** Families of standard OpenTelemetry variables, and Kubernetes' service links (below). */
const OTHER_PATTERNS = [
  // Per-signal exporter settings for metrics and logs, which this service does not export.
  /^OTEL_EXPORTER_OTLP_(METRICS|LOGS)_[A-Z_]+$/,
  /^OTEL_EXPORTER_OTLP_TRACES_(CERTIFICATE|CLIENT_KEY|CLIENT_CERTIFICATE|COMPRESSION|INSECURE)$/,
  /^OTEL_EXPORTER_(JAEGER|ZIPKIN|PROMETHEUS)_[A-Z_]+$/,
  // Batch processors, limits on attributes, events and links, and whatever the SDKs try out.
  /^OTEL_(BSP|BLRP)_[A-Z_]+$/,
  /^OTEL_(ATTRIBUTE|SPAN|EVENT|LINK|LOGRECORD)_[A-Z_]+_LIMIT$/,
  /^OTEL_(EXPERIMENTAL|INSTRUMENTATION|DOTNET|JAVA|PYTHON|GO|RUBY|PHP)_[A-Z0-9_]+$/,
  // Kubernetes gives every pod these for every service in its namespace: a service named redis makes
  // REDIS_SERVICE_HOST, REDIS_PORT=tcp://…, REDIS_PORT_6379_TCP_ADDR and so on.
  /_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$/,
  /_PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/,
];

/** A variable that looks like ours but is not one: what it is, and the declared one it probably meant. */
export interface UnknownVariable {
  variable: string;
  suggestion: string;
  /** e.g. `CARRIERX_BASEURL is not a variable this service reads: did you mean CARRIERX_BASE_URL?` */
  message: string;
}

/** The variables of `env` that have one of our prefixes but are not in `known` (nor another program's). */
export function unknownVariables(
  env: Record<string, string | undefined>,
  known: readonly string[],
): UnknownVariable[] {
  const declared = new Set(known);
  return Object.keys(env)
    .filter(
      (name) =>
        !declared.has(name) &&
        OUR_PREFIXES.some((prefix) => name.startsWith(prefix)) &&
        !OTHERS.has(name) &&
        !OTHER_PATTERNS.some((pattern) => pattern.test(name)) &&
        // Kubernetes' <SERVICE>_PORT=tcp://10.0.0.7:6379 (a service link, not a setting).
        !(name.endsWith('_PORT') && /^(tcp|udp|sctp):\/\//.test(env[name] ?? '')),
    )
    .sort()
    .map((variable) => {
      const suggestion = closest(variable, known);
      return {
        variable,
        suggestion,
        message: `${variable} is not a variable this service reads: did you mean ${suggestion}?`,
      };
    });
}

/** The name in `names` fewest single-character edits away from `name` (the first of equals). */
function closest(name: string, names: readonly string[]): string {
  let best = names[0] ?? '';
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of names) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions, each counted one. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
