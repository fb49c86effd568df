import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Gauge,
  type MetricObjectWithValues,
  type MetricValue,
  type MetricValueWithName,
  type RegistryContentType,
  register,
} from 'prom-client';
import type { Logger } from './logger.ts';

// The process's Prometheus metrics, on prom-client's global registry: the one its cluster aggregation reads in
// each worker. Updating them is a few additions on pre-bound children, cheap enough to stay on whether or not
// anything scrapes (METRICS_PORT=0 only turns the listener off). Every label value is from a closed set, except
// operation names, which clients choose: those are capped.

/** Labels of one child, in the metric's label-name order. */
type LabelValues = readonly string[];

function labelObject(names: readonly string[], values: LabelValues): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, i) => {
    labels[name] = values[i] as string;
  });
  return labels;
}

/**
 * The counters and histograms updated on every operation, registered in prom-client's registry as metrics of
 * our own: prom-client's `observe` and `inc` convert, validate and hash the labels on every call, even on a
 * child from `labels()` (about 3 µs each, eight per operation: 4% of an operation's CPU in a profile of the
 * benchmark's scenario 4). Here a child is found once and updating it is an addition. `get()` answers what
 * prom-client's own Counter and Histogram answer, so /metrics, the cluster aggregation and promtool see the same.
 */
abstract class HotMetric<Child> {
  readonly aggregator = 'sum';
  private readonly children = new Map<string, { labels: LabelValues; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    register.registerMetric(this as never);
  }

  /** A metric without labels is exposed at zero from the start, as prom-client's own are. */
  protected init(): void {
    if (this.labelNames.length === 0) this.labels();
  }

  protected abstract create(): Child;
  protected abstract export(labels: Record<string, string>, child: Child): MetricValueWithName<string>[];

  /** The child for these label values (in labelNames' order), made on first use. */
  labels(...values: string[]): Child {
    const key = values.join('\u0000');
    let found = this.children.get(key);
    if (!found) {
      found = { labels: values, child: this.create() };
      this.children.set(key, found);
    }
    return found.child;
  }

  async get(): Promise<Omit<MetricObjectWithValues<MetricValue<string>>, 'collect'>> {
    const values: MetricValueWithName<string>[] = [];
    for (const { labels, child } of this.children.values()) {
      values.push(...this.export(labelObject(this.labelNames, labels), child));
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type as never,
      values,
      aggregator: this.aggregator,
    };
  }

  abstract readonly type: 'counter' | 'histogram';

  reset(): void {
    this.children.clear();
    this.init();
  }
}

class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

class HotCounter extends HotMetric<CounterChild> {
  readonly type = 'counter';
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames);
    this.init();
  }

  protected create(): CounterChild {
    return new CounterChild();
  }

  protected export(labels: Record<string, string>, child: CounterChild): MetricValueWithName<string>[] {
    return [{ labels, value: child.value, metricName: this.name }];
  }

  inc(by = 1): void {
    this.labels().inc(by);
  }
}

class HistogramChild {
  /** Per bucket (the last one: above every bound), not cumulative; made cumulative when exported. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

class HotHistogram extends HotMetric<HistogramChild> {
  readonly type = 'histogram';
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    this.init();
  }

  protected create(): HistogramChild {
    return new HistogramChild(this.buckets);
  }

  protected export(labels: Record<string, string>, child: HistogramChild): MetricValueWithName<string>[] {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    const values: MetricValueWithName<string>[] = this.buckets.map((le, i) => {
      cumulative += child.counts[i] as number;
      return { labels: { le, ...labels }, value: cumulative, metricName: bucket };
    });
    values.push(
      { labels: { le: '+Inf', ...labels }, value: child.count, metricName: bucket },
      { labels, value: child.sum, metricName: `${this.name}_sum` },
      { labels, value: child.count, metricName: `${this.name}_count` },
    );
    return values;
  }

  observe(value: number): void {
    this.labels().observe(value);
  }
}

/** How one CarrierX attempt ended, or why a call never made one. */
export type UpstreamOutcome =
  | 'ok'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'connection_error'
  | 'bad_response'
  | 'circuit_open'
  | 'bulkhead_full'
  | 'cancelled';

export type StatusClass = '2xx' | '4xx' | '5xx' | 'none';

/** What a cache lookup found: all fields fresh, some, none, only stale ones, or the cache failed. */
export type CacheLookupResult = 'hit' | 'partial' | 'miss' | 'stale' | 'error';

const upstreamRequests = new HotCounter(
  'carrierx_requests_total',
  'CarrierX attempts (retries included) by outcome and HTTP status class; calls the breaker, the bulkhead or the cool-down of a rate-limited credential refused count with status_class "none".',
  ['outcome', 'status_class'],
);
const upstreamDuration = new HotHistogram(
  'carrierx_request_duration_seconds',
  'Time of each CarrierX attempt, from sending the request to the last byte of the answer (or the failure).',
  [],
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
);
const upstreamBytes = new HotCounter(
  'carrierx_response_bytes_total',
  'Response body bytes received from CarrierX.',
  [],
);
const upstreamRetries = new HotCounter(
  'carrierx_retries_total',
  'CarrierX attempts that were retries of a failed one.',
  [],
);
const retriesOverBudget = new HotCounter(
  'carrierx_retries_budget_exhausted_total',
  'CarrierX retries not made because the retry budget was spent (CARRIERX_RETRY_BUDGET_RATIO): each such call failed at once.',
  [],
);
const fieldsRequested = new HotHistogram(
  'carrierx_fields_requested',
  'Fields asked of CarrierX per call (the size of include_fields; 52 is a whole record).',
  [],
  [1, 2, 5, 10, 20, 30, 40, 52],
);
const cacheLookups = new HotCounter(
  'cdr_cache_lookups_total',
  'Record cache lookups by result: hit, partial (some fields), miss, stale, error.',
  ['result'],
);
const redisCommands = new HotHistogram(
  'cdr_cache_redis_seconds',
  'Time of each Redis command of the record cache (REDIS_URL), by outcome: ok, error (an error answer, or no connection), timeout (no answer within REDIS_TIMEOUT_MS).',
  ['outcome'],
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
);
const answerLookups = new HotCounter(
  'graphql_answer_cache_lookups_total',
  'Fast-path requests looked up in the answer cache: hit (answered without running GraphQL), miss.',
  ['result'],
);
const preparedOperations = new HotCounter(
  'graphql_prepared_operations_total',
  'GraphQL operations run as prepared operations: a document that ran cleanly before, run again without parsing, validation and envelop (src/graphql/execution/prepared.ts).',
  [],
);
const operations = new HotCounter(
  'graphql_operations_total',
  'GraphQL operations executed, by type, name (those of the persisted-documents manifests, and the first 100 other distinct names; then "other") and outcome ("ok" or the first error code).',
  ['type', 'name', 'outcome'],
);
const operationDuration = new HotHistogram(
  'graphql_operation_duration_seconds',
  'Time of each GraphQL operation, from its context being built to its result, by type and name (as in graphql_operations_total).',
  ['type', 'name'],
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
);
const recordsResolved = new HotHistogram(
  'graphql_records_resolved',
  'Call detail records CarrierX returned for each GraphQL operation (a batch: its HTTP request).',
  [],
  [0, 1, 2, 5, 10, 20, 50, 100],
);

const refusals = new HotCounter(
  'graphql_requests_refused_total',
  'GraphQL requests refused before any operation executed, by reason: parse (not GraphQL), validation (invalid against the schema, or over a query limit), request (the HTTP request itself: body too large, malformed JSON or parameters, media type).',
  ['reason'],
);

const liveRecords = new HotCounter(
  'live_feed_records_delivered_total',
  'Records the live call feed handed to its subscribers (one per subscriber a record reached).',
  [],
);
const livePolls = new HotCounter(
  'live_feed_polls_total',
  'Poll rounds of the live call feed by outcome: ok, rate_limited (waited out), error (tried again after a backoff), gave_up (its subscriptions ended with the error).',
  ['outcome'],
);

/** What the live feed gauges read of a feed (src/live/). */
export interface LiveFeedGauges {
  pollers: number;
  subscriptions: number;
  /** Seconds from the newest date_insert a poller has seen (or its start) to now, the largest over its pollers. */
  lagSeconds: number;
  /** Pollers this process polls CarrierX for: all of them alone, those whose Redis lease it holds in a fleet. */
  holding: number;
}

// The feeds of this process (one in the server; tests make several), summed by the gauges.
const liveFeeds = new Set<() => LiveFeedGauges>();
function liveGauge(name: string, help: string, read: (feeds: LiveFeedGauges[]) => number): void {
  new Gauge({
    name,
    help,
    // Across cluster workers: pollers and subscribers add up, the lag is the worst worker's.
    aggregator: name.endsWith('lag_seconds') ? 'max' : 'sum',
    collect() {
      this.set(read([...liveFeeds].map((feed) => feed())));
    },
  });
}
liveGauge(
  'live_feed_pollers',
  'Pollers of the live call feed running (one per credential and filter).',
  (feeds) => feeds.reduce((sum, feed) => sum + feed.pollers, 0),
);
liveGauge(
  'live_feed_pollers_polling',
  'Pollers this process polls CarrierX for: every poller alone; with REDIS_URL, those whose lease it holds (the others read what the holder delivers).',
  (feeds) => feeds.reduce((sum, feed) => sum + feed.holding, 0),
);
liveGauge('live_feed_subscriptions', 'Live call feed subscriptions open.', (feeds) =>
  feeds.reduce((sum, feed) => sum + feed.subscriptions, 0),
);
liveGauge(
  'live_feed_poll_lag_seconds',
  'Now minus the newest date_insert a live feed poller has seen (since its start when none yet), the largest over pollers.',
  (feeds) => feeds.reduce((max, feed) => Math.max(max, feed.lagSeconds), 0),
);

/** Makes the live feed gauges count this feed until the returned function is called (on close). */
export function observeLiveFeed(read: () => LiveFeedGauges): () => void {
  liveFeeds.add(read);
  return () => liveFeeds.delete(read);
}

/** Counts one live poll round's outcome. */
export function recordLivePoll(outcome: 'ok' | 'rate_limited' | 'error' | 'gave_up'): void {
  livePolls.labels(outcome).inc();
}

/** Counts records handed to subscribers (one per subscriber a record reached). */
export function recordLiveDelivered(count: number): void {
  if (count > 0) liveRecords.inc(count);
}

/**
 * What the circuit and limiter gauges read of the CarrierX client (its policies' state). Declared here rather
 * than imported: the policies record into this module, which must not depend on them in turn.
 */
export interface UpstreamGauges {
  breaker: 'closed' | 'open' | 'half-open' | 'isolated';
  limit: number;
  inFlight: number;
  queued: number;
}

// The upstream whose state the gauges report: the client of this process (the last one created, in tests).
let upstreamState: (() => UpstreamGauges) | undefined;
const CIRCUIT_STATES: Record<UpstreamGauges['breaker'], number> = {
  closed: 0,
  'half-open': 1,
  open: 2,
  isolated: 2,
};
new Gauge({
  name: 'carrierx_circuit_state',
  // Across cluster workers, the worst one: a sum of states would read as no state at all.
  aggregator: 'max',
  help: 'The CarrierX circuit breaker: 0 closed, 1 half-open, 2 open (calls fail at once).',
  collect() {
    if (upstreamState) this.set(CIRCUIT_STATES[upstreamState().breaker]);
  },
});
/**
 * With WEB_CONCURRENCY above 1: this worker's id, the `worker` label of the gauges that describe one process's
 * limiter. Each worker has its own adaptive limit and bulkhead, so their sum is no limit anyone set (two workers
 * of 64 read 128, above CARRIERX_MAX_CONCURRENT_CALLS); labelled, the primary's aggregation keeps one series per
 * worker, and a sum is still one PromQL `sum()` away. Unset in a single process: no label.
 */
let workerLabel: string | undefined;

/** A gauge of this process's limiter, labelled by worker in a cluster (see workerLabel). */
function limiterGauge(name: string, help: string, read: (state: UpstreamGauges) => number): void {
  new Gauge({
    name,
    help,
    labelNames: ['worker'],
    collect() {
      if (!upstreamState) return;
      const value = read(upstreamState());
      if (workerLabel === undefined) this.set(value);
      else this.set({ worker: workerLabel }, value);
    },
  });
}
limiterGauge(
  'carrierx_concurrency_limit',
  'CarrierX calls allowed in flight right now: the adaptive limit (between CARRIERX_MIN_CONCURRENT_CALLS and CARRIERX_MAX_CONCURRENT_CALLS), or the fixed one; per worker with WEB_CONCURRENCY above 1.',
  (state) => state.limit,
);
limiterGauge(
  'carrierx_bulkhead_in_flight',
  'CarrierX calls holding a bulkhead slot (at most carrierx_concurrency_limit) right now; per worker with WEB_CONCURRENCY above 1.',
  (state) => state.inFlight,
);
limiterGauge(
  'carrierx_bulkhead_queued',
  'CarrierX calls waiting for a bulkhead slot (at most CARRIERX_MAX_QUEUED_CALLS) right now; per worker with WEB_CONCURRENCY above 1.',
  (state) => state.queued,
);

/** Pre-bound children, so that counting an attempt allocates nothing. */
const attemptChildren = new Map<string, CounterChild>();
function attemptChild(outcome: UpstreamOutcome, statusClass: StatusClass): CounterChild {
  const key = outcome + statusClass;
  let child = attemptChildren.get(key);
  if (!child) {
    child = upstreamRequests.labels(outcome, statusClass);
    attemptChildren.set(key, child);
  }
  return child;
}

/** The status class label of an HTTP status, `none` when no answer came. */
export function statusClass(status: number): StatusClass {
  if (status >= 200 && status < 300) return '2xx';
  if (status >= 400 && status < 500) return '4xx';
  if (status >= 500) return '5xx';
  return 'none';
}

/** One CarrierX attempt ended; `seconds` from its start, `bytes` of body received. */
export function recordUpstreamAttempt(
  outcome: UpstreamOutcome,
  status: number,
  seconds: number,
  bytes: number,
  retry: boolean,
): void {
  attemptChild(outcome, statusClass(status)).inc();
  upstreamDuration.observe(seconds);
  if (bytes > 0) upstreamBytes.inc(bytes);
  if (retry) upstreamRetries.inc();
}

/** A retry the retry budget refused: the call failed without it. */
export function recordRetryBudgetExhausted(): void {
  retriesOverBudget.inc();
}

/**
 * A call refused before any attempt reached CarrierX: by the circuit breaker, the bulkhead, or its credential's
 * cool-down after a 429 (`rate_limited`).
 */
export function recordUpstreamRefusal(outcome: 'circuit_open' | 'bulkhead_full' | 'rate_limited'): void {
  attemptChild(outcome, 'none').inc();
}

const droppedSpans = new HotCounter(
  'tracing_spans_dropped_total',
  'Trace spans never exported, by reason: export_failed (the collector refused them or could not be reached), queue_full (more spans than the exporter keeps while it waits).',
  ['reason'],
);

/** Why spans were not exported. */
export type SpanDropReason = 'export_failed' | 'queue_full';

/** `count` spans were dropped instead of exported (with tracing on). */
export function recordDroppedSpans(reason: SpanDropReason, count: number): void {
  droppedSpans.labels(reason).inc(count);
}

/** Why a GraphQL request was refused before any of its operations executed. */
export type RefusalReason = 'parse' | 'validation' | 'request';

const refusalChildren = {
  parse: refusals.labels('parse'),
  validation: refusals.labels('validation'),
  request: refusals.labels('request'),
} satisfies Record<RefusalReason, CounterChild>;

/** A GraphQL request refused before execution. */
export function recordRefusal(reason: RefusalReason): void {
  refusalChildren[reason].inc();
}

/** A call to CarrierX asking for `count` fields (whole records when field filtering is off: not recorded). */
export function recordFieldsRequested(count: number): void {
  fieldsRequested.observe(count);
}

const cacheChildren = {
  hit: cacheLookups.labels('hit'),
  partial: cacheLookups.labels('partial'),
  miss: cacheLookups.labels('miss'),
  stale: cacheLookups.labels('stale'),
  error: cacheLookups.labels('error'),
} satisfies Record<CacheLookupResult, CounterChild>;

const answerChildren = { hit: answerLookups.labels('hit'), miss: answerLookups.labels('miss') };

/** One answer cache lookup (src/http/answer-cache.ts). */
export function recordAnswerLookup(result: 'hit' | 'miss'): void {
  answerChildren[result].inc();
}

const preparedChild = preparedOperations.labels();

/** One operation run as a prepared operation. */
export function recordPreparedOperation(): void {
  preparedChild.inc();
}

/** One record cache lookup: the cache calls this once per record it looks up. */
export function recordCacheLookup(result: CacheLookupResult): void {
  cacheChildren[result].inc();
}

/** How one Redis command of the record cache ended. */
export type RedisOutcome = 'ok' | 'error' | 'timeout';

// Made on first use: a server without Redis exposes no series of it.
const redisChildren: Partial<Record<RedisOutcome, HistogramChild>> = {};

/** One Redis command of the record cache ended, `seconds` after it was sent. */
export function recordRedisCommand(outcome: RedisOutcome, seconds: number): void {
  let child = redisChildren[outcome];
  if (!child) {
    child = redisCommands.labels(outcome);
    redisChildren[outcome] = child;
  }
  child.observe(seconds);
}

let redisUp: (() => boolean) | undefined;
let redisGauge = false;

/** Makes `cdr_cache_redis_up` report this store's state (registered then: without Redis there is none). */
export function observeRedis(up: () => boolean): void {
  redisUp = up;
  if (redisGauge) return;
  redisGauge = true;
  new Gauge({
    name: 'cdr_cache_redis_up',
    // Across cluster workers, the worst one: a worker that cannot reach Redis is what the alert is for.
    aggregator: 'min',
    help: 'Whether the Redis of the record cache answers: 1 connected and answering, 0 disconnected or its last command timed out (lookups go to CarrierX).',
    collect() {
      if (redisUp) this.set(redisUp() ? 1 : 0);
    },
  });
}

/** Operation names seen, up to the cap; any name after that is reported as `other`. */
export const MAX_OPERATION_NAMES = 100;
const operationNames = new Set<string>();
/**
 * The operation names of the persisted-documents manifests: the deployment's own operations, each labelled
 * whatever other names came first, and not counted against the cap (the manifests bound them). Counted by the
 * reservations holding each (an app's, and after a reload its new one until the old is released).
 */
const knownOperationNames = new Map<string, number>();
const operationChildren = new Map<string, Map<string, CounterChild>>();
const durationChildren = new Map<string, HistogramChild>();

/**
 * Operation names as telemetry carries them: at most this many characters. A client chooses the name, and 200
 * requests with 30,000-character names took /metrics from 12.7 KB to 6 MB and put each name whole in every
 * access-log line and span name. Spans and log lines cut a longer name (src/graphql/plugins/use-observability.ts);
 * as a label it is `other`.
 */
export const MAX_OPERATION_NAME_LENGTH = 100;

/**
 * The label for a client's operation name: itself among the first 100 distinct of at most 100 characters, else
 * `other` (a flood of long names can neither blow up the exposition nor take the slots of real operations).
 */
export function operationNameLabel(name: string | undefined): string {
  if (name === undefined || name === '') return 'anonymous';
  if (name.length > MAX_OPERATION_NAME_LENGTH) return 'other';
  if (knownOperationNames.has(name)) return name;
  if (operationNames.has(name)) return name;
  if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
  operationNames.add(name);
  return name;
}

/**
 * Names that always get a label of their own (the persisted-documents manifests' operations), at most 100
 * characters each, like any label, until the function returned is called (a reload reserves the new manifests'
 * names, then releases the old ones: a name that left them is labelled like any client's from then on).
 */
export function reserveOperationNames(names: Iterable<string>): () => void {
  const reserved = new Set<string>();
  for (const name of names) {
    if (name === '' || name.length > MAX_OPERATION_NAME_LENGTH || reserved.has(name)) continue;
    reserved.add(name);
    knownOperationNames.set(name, (knownOperationNames.get(name) ?? 0) + 1);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const name of reserved) {
      const count = (knownOperationNames.get(name) ?? 1) - 1;
      if (count > 0) knownOperationNames.set(name, count);
      else knownOperationNames.delete(name);
    }
  };
}

/** One GraphQL operation finished. */
export function recordOperation(
  type: string,
  name: string | undefined,
  outcome: string,
  seconds: number,
  records: number,
): void {
  const nameLabel = operationNameLabel(name);
  const key = `${type} ${nameLabel}`;
  let byOutcome = operationChildren.get(key);
  if (!byOutcome) {
    byOutcome = new Map();
    operationChildren.set(key, byOutcome);
  }
  let child = byOutcome.get(outcome);
  if (!child) {
    child = operations.labels(type, nameLabel, outcome);
    byOutcome.set(outcome, child);
  }
  child.inc();
  let duration: HistogramChild | undefined = durationChildren.get(key);
  if (!duration) {
    duration = operationDuration.labels(type, nameLabel);
    durationChildren.set(key, duration);
  }
  duration.observe(seconds);
  recordsResolved.observe(records);
}

/** Makes the circuit and bulkhead gauges report this upstream's state. */
export function observeUpstream(state: () => UpstreamGauges): void {
  upstreamState = state;
}

let defaultMetrics = false;
/** Adds Node's process metrics (heap, RSS, GC, event-loop delay): only where something will scrape them. */
export function collectProcessMetrics(): void {
  if (defaultMetrics) return;
  defaultMetrics = true;
  collectDefaultMetrics({ register });
  // Gauges named like counters, which promtool's lint refuses; `nodejs_active_handles` and
  // `nodejs_active_requests` (by type) carry the same counts.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    register.removeSingleMetric(name);
  }
}

export { register as metricsRegistry };

/**
 * The `/metrics` listener (METRICS_PORT on HOST), apart from the API's so that it need not be public.
 * `cluster: 'primary'` answers the sum over the workers, `'worker'` only answers its primary's requests.
 */
export function startMetricsServer(options: {
  port: number;
  host: string;
  cluster: 'single' | 'primary' | 'worker';
  logger: Logger;
}): Server | undefined {
  collectProcessMetrics();
  if (options.cluster === 'worker') workerLabel = String(cluster.worker?.id ?? process.pid);
  // A worker serves nothing itself; this registers its answer to the primary's requests.
  if (options.cluster !== 'single') aggregator ??= new AggregatorRegistry();
  if (options.cluster === 'worker') return undefined;
  const source = options.cluster === 'primary' ? aggregator : undefined;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found: metrics are at GET /metrics\n');
      return;
    }
    (source ? source.clusterMetrics() : register.metrics()).then(
      (text) => {
        res.writeHead(200, { 'content-type': register.contentType });
        res.end(text);
      },
      (error: unknown) => {
        options.logger.error({ err: error }, 'collecting metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('collecting metrics failed\n');
      },
    );
  });
  // Metrics are not worth refusing to serve for: a taken port is logged, and the API runs on without them. One
  // line that says what to do, without a stack: the cause is the environment, not this code.
  server.on('error', (error: NodeJS.ErrnoException) => {
    const where = `port ${options.port} on ${options.host}`;
    const what =
      error.code === 'EADDRINUSE'
        ? `${where} is already in use (EADDRINUSE)`
        : `the metrics listener failed on ${where} (${error.code ?? error.message})`;
    options.logger.error(
      { metricsPort: options.port, metricsHost: options.host, code: error.code },
      `${what}: serving without /metrics; set METRICS_PORT to a free port (0 turns the listener off)`,
    );
  });
  server.listen(options.port, options.host, () =>
    options.logger.info({ metricsPort: (server.address() as AddressInfo).port }, 'metrics listening'),
  );
  return server;
}

let aggregator: AggregatorRegistry<RegistryContentType> | undefined;
