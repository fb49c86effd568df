import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Attributes,
  type Context,
  DiagLogLevel,
  defaultTextMapGetter,
  defaultTextMapSetter,
  diag,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import {
  type ExportResult,
  ExportResultCode,
  setGlobalErrorHandler,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '../config/index.ts';
import type { Logger } from './logger.ts';
import { recordDroppedSpans, type UpstreamOutcome } from './metrics.ts';
import type { OperationEnd, PollRound, Tracing, UpstreamAttempt } from './tracing-types.ts';

// Loaded only when tracing is on (src/telemetry/tracing.ts imports it dynamically).

const VERSION_SCOPE = 'carrierx-cdr-graphql';
/** Endpoints whose requests get no span: probes every few seconds would bury the traces that matter. */
const UNTRACED = new Set(['/health', '/ready']);

/** A Fetch API Headers (or the fast path's view of one) as a propagator reads it. */
const fetchHeadersGetter: TextMapGetter<{ get(name: string): string | null }> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: () => [],
};

function samplerOf(config: TracingConfig): Sampler {
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

async function exporterOf(config: TracingConfig): Promise<SpanExporter> {
  const options = { url: config.url, headers: config.headers, timeoutMillis: config.timeoutMs };
  // Only the one asked for is loaded.
  if (config.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('./otlp-http-exporter.ts');
    return new OTLPTraceExporter(options);
  }
  const { OTLPTraceExporter } = await import('./otlp-proto-exporter.ts');
  return new OTLPTraceExporter(options);
}

/** While the collector refuses spans, at most one line per this long (the processor retries every few seconds). */
const EXPORT_FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * An error as one readable line's fields: its message (`reason`) and code, never its stack (the cause is the
 * network or the collector, not this code), and not under `err`, which pino's serializer gives a stack field.
 */
function readable(error: unknown): { reason: string; code?: string } {
  if (!(error instanceof Error)) return { reason: String(error).slice(0, 500) };
  const { code } = error as NodeJS.ErrnoException;
  return typeof code === 'string' ? { reason: error.message, code } : { reason: error.message };
}

/**
 * Export failures as one readable line (OpenTelemetry's own handler writes the error, stack and all, as JSON
 * into the message): the first of a run of failures, then at most one a minute with how many spans were lost
 * since, and one line when spans go out again.
 */
function exportFailureReporter(logger: Logger, url: string) {
  let failing = false;
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let droppedSince = 0;
  return {
    failed(error: unknown, spans: number) {
      droppedSince += spans;
      const at = Date.now();
      if (failing && at - lastLoggedAt < EXPORT_FAILURE_LOG_INTERVAL_MS) return;
      failing = true;
      lastLoggedAt = at;
      logger.warn(
        { url, ...readable(error), droppedSpans: droppedSince },
        'OpenTelemetry: the trace collector did not take the spans; they are dropped, and the service runs on',
      );
      droppedSince = 0;
    },
    succeeded() {
      if (!failing) return;
      failing = false;
      logger.info(
        { url, droppedSpans: droppedSince },
        'OpenTelemetry: the trace collector takes spans again',
      );
      droppedSince = 0;
    },
  };
}

/** The exporter, with each batch it fails to export counted as dropped spans and reported. */
function reportingExporter(
  inner: SpanExporter,
  report: ReturnType<typeof exportFailureReporter>,
): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      inner.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) report.succeeded();
        else {
          recordDroppedSpans('export_failed', spans.length);
          report.failed(result.error, spans.length);
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** The processor's count of spans it dropped with its queue full, from its diagnostic line. */
const QUEUE_DROPPED = /^Dropped (\d+) spans because maxQueueSize reached/;

/** The SDK's own complaints (a full queue, a bad setting) as our log lines, at warn and above. */
function routeDiagnostics(logger: Logger): void {
  const warn = (message: string, ...args: unknown[]) => {
    const dropped = QUEUE_DROPPED.exec(message);
    if (dropped) recordDroppedSpans('queue_full', Number(dropped[1]));
    logger.warn({ detail: args.map(String).join(' ').slice(0, 500) }, `OpenTelemetry: ${message}`);
  };
  const ignore = () => {};
  diag.setLogger(
    { error: warn, warn, info: ignore, debug: ignore, verbose: ignore },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

/** The tracer: OpenTelemetry's SDK with a batching OTLP/HTTP exporter and W3C trace context. */
export async function createTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  routeDiagnostics(logger);
  const report = exportFailureReporter(logger, config.url);
  // The processor hands a failed export's error (or its own timeout) to this handler too: the same report, so
  // an error the exporter has just reported adds no line.
  setGlobalErrorHandler((error) => report.failed(error, 0));
  const exporter = reportingExporter(await exporterOf(config), report);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(config.resource),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // Not registered as the global provider: only the spans below are made, none by libraries that happen to
  // look for one (the Redis client does).
  const otel = provider.getTracer(VERSION_SCOPE);
  const propagator = new W3CTraceContextPropagator();
  const requestSpans = new WeakMap<IncomingMessage, Span>();
  const under = (span: Span): Context => trace.setSpan(ROOT_CONTEXT, span);

  logger.info(
    { url: config.url, protocol: config.protocol, sampler: config.sampler, serviceName: config.serviceName },
    'tracing on: exporting spans over OTLP',
  );

  return {
    startRequest(req: IncomingMessage, res: ServerResponse, requestId: string) {
      const path = (req.url ?? '/').split('?', 1)[0] as string;
      if (UNTRACED.has(path)) return;
      const method = req.method ?? 'GET';
      // Only the path: a GET's query string carries the operation's variables.
      const attributes: Attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: method,
        [ATTR_URL_PATH]: path,
        'http.request.header.x-request-id': [requestId],
      };
      if (path === '/graphql') attributes[ATTR_HTTP_ROUTE] = path;
      const agent = req.headers['user-agent'];
      if (agent) attributes[ATTR_USER_AGENT_ORIGINAL] = agent.slice(0, 256);
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const span = otel.startSpan(
        path === '/graphql' ? `${method} /graphql` : method,
        { kind: SpanKind.SERVER, attributes },
        parent,
      );
      requestSpans.set(req, span);
      res.once('close', () => {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
        if (!res.writableFinished) {
          span.setAttribute(ATTR_ERROR_TYPE, 'client_disconnected');
        } else if (res.statusCode >= 500) {
          span.setAttribute(ATTR_ERROR_TYPE, String(res.statusCode));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      });
    },

    requestTraceId(req) {
      return requestSpans.get(req)?.spanContext().traceId;
    },

    startOperation(req, headers, type, name, document) {
      const server = req ? requestSpans.get(req) : undefined;
      const parent = server ? under(server) : propagator.extract(ROOT_CONTEXT, headers, fetchHeadersGetter);
      const attributes: Attributes = { 'graphql.operation.type': type };
      if (name) attributes['graphql.operation.name'] = name;
      // The document's hash identifies it (as persisted-document ids do) without its literals.
      if (document !== undefined) {
        attributes['graphql.document.hash'] = `sha256:${createHash('sha256').update(document).digest('hex')}`;
      }
      return otel.startSpan(name ? `${type} ${name}` : type, { kind: SpanKind.INTERNAL, attributes }, parent);
    },

    endOperation(span, end: OperationEnd) {
      span.setAttribute('carrierx.upstream_calls', end.upstreamCalls);
      span.setAttribute('graphql.records_resolved', end.records);
      if (end.errorCodes.length > 0) {
        span.setAttribute('graphql.error.codes', [...end.errorCodes]);
        span.setStatus({ code: SpanStatusCode.ERROR, message: end.errorCodes.join(',') });
      }
      span.end();
    },

    startUpstream(parent, attempt: UpstreamAttempt, headers) {
      const url = new URL(attempt.url);
      // One record, or a page of the list endpoint (whose query string carries its filter and cursor).
      const template = attempt.drSid === undefined ? '/calls/call_drs' : '/calls/call_drs/{dr_sid}';
      const attributes: Attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: 'GET',
        [ATTR_URL_FULL]: attempt.url,
        'url.template': template,
        [ATTR_SERVER_ADDRESS]: url.hostname,
        [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        'carrierx.attempt': attempt.attempt,
      };
      if (attempt.drSid !== undefined) attributes['carrierx.dr_sid'] = attempt.drSid;
      if (attempt.cacheResult !== undefined) attributes['carrierx.cache_result'] = attempt.cacheResult;
      if (attempt.attempt > 1) attributes[ATTR_HTTP_REQUEST_RESEND_COUNT] = attempt.attempt - 1;
      if (attempt.includeFields) attributes['carrierx.include_fields'] = [...attempt.includeFields];
      const span = otel.startSpan(
        `GET ${template}`,
        { kind: SpanKind.CLIENT, attributes },
        parent ? under(parent) : ROOT_CONTEXT,
      );
      // CarrierX (or whatever sits in front of it) continues this trace.
      propagator.inject(under(span), headers, defaultTextMapSetter);
      return span;
    },

    endUpstream(span, status: number, outcome: UpstreamOutcome) {
      if (status > 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      span.setAttribute('carrierx.outcome', outcome);
      if (outcome !== 'ok') {
        span.setAttribute(ATTR_ERROR_TYPE, status >= 400 ? String(status) : outcome);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },

    startPollRound(round: PollRound) {
      return otel.startSpan(
        'live poll',
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            'live.filters': round.filters,
            'live.subscribers': round.subscribers,
            'carrierx.include_fields': [...round.includeFields],
          },
        },
        ROOT_CONTEXT,
      );
    },

    endPollRound(span, outcome, records, errorCode) {
      span.setAttribute('live.outcome', outcome);
      span.setAttribute('live.records', records);
      if (errorCode !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode });
      }
      span.end();
    },

    async shutdown() {
      try {
        await provider.shutdown();
      } catch (error) {
        logger.warn(
          { url: config.url, ...readable(error) },
          'OpenTelemetry: exporting the last spans failed',
        );
      }
    },
  };
}
