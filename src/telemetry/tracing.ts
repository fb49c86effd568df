import type { IncomingMessage } from 'node:http';
import type { TracingConfig } from '../config/index.ts';
import type { Logger } from './logger.ts';
import type { Span, Tracing } from './tracing-types.ts';

export type { OperationEnd, PollRound, Span, Tracing, UpstreamAttempt } from './tracing-types.ts';

/** The running tracer, or undefined while tracing is off (the default). Set once, at start-up. */
export let tracer: Tracing | undefined;

/**
 * Starts tracing when the configuration has an OTLP endpoint; the SDK is imported only then, so a server without
 * tracing neither loads nor pays for it.
 */
export async function startTracing(
  config: TracingConfig | undefined,
  logger: Logger,
): Promise<Tracing | undefined> {
  if (!config) return undefined;
  const { createTracing } = await import('./tracing-sdk.ts');
  tracer = await createTracing(config, logger);
  return tracer;
}

/**
 * The trace id of the HTTP request `req` for log lines about it that no operation span covers (an answer from
 * the answer cache, an admin request), when tracing is on.
 */
export function requestTraceIdOf(req: IncomingMessage | undefined): string | undefined {
  return req && tracer ? tracer.requestTraceId(req) : undefined;
}

/** The trace id of `span` for log lines, when tracing is on. */
export function traceIdOf(span: Span | undefined): string | undefined {
  return span?.spanContext().traceId;
}
