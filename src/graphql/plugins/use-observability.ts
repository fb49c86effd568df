import { type DocumentNode, Kind, type OperationDefinitionNode } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { ERRORS } from '../../errors.ts';
import type { Tally } from '../../tally.ts';
import type { Logger } from '../../telemetry/logger.ts';
import {
  MAX_OPERATION_NAME_LENGTH,
  type RefusalReason,
  recordOperation,
  recordRefusal,
} from '../../telemetry/metrics.ts';
import { REQUEST_ID_HEADER, requestIdOf, withRequestId } from '../../telemetry/request-id.ts';
import { type Span, type Tracing, tracer } from '../../telemetry/tracing.ts';
import type { Context } from '../context.ts';
import type { ExecutionStep, OperationContext } from '../execution/steps.ts';

export interface ObservabilityOptions {
  logger: Logger;
  /** One `info` line per operation (ACCESS_LOG). */
  accessLog: boolean;
}

// Error codes are the outcome label: ours (the error table) and the few graphql-js and Yoga raise at execution.
// Anything else is `error`, so a label value never comes from outside.
const KNOWN_CODES = new Set<string>([
  ...Object.keys(ERRORS),
  'BAD_USER_INPUT',
  'INTERNAL_SERVER_ERROR',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
]);

/** `name`, cut to MAX_OPERATION_NAME_LENGTH characters with an ellipsis when longer. */
function boundedName(name: string | undefined): string | undefined {
  return name !== undefined && name.length > MAX_OPERATION_NAME_LENGTH
    ? `${name.slice(0, MAX_OPERATION_NAME_LENGTH)}…`
    : name;
}

function operationOf(
  document: DocumentNode,
  name: string | null | undefined,
): OperationDefinitionNode | undefined {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (!name || definition.name?.value === name) return definition;
  }
  return undefined;
}

/** The operation's span, on the context's Observation so its log lines and CarrierX calls find it. */
function startOperationSpan(
  tracing: Tracing,
  context: OperationContext,
  document: DocumentNode,
  operationName: string | null | undefined,
): Span {
  const operation = operationOf(document, operationName);
  const query = context.params?.query;
  const span = tracing.startOperation(
    context.req,
    context.request.headers,
    operation?.operation ?? 'unknown',
    boundedName(operation?.name?.value),
    typeof query === 'string' ? query : undefined,
  );
  context.observed.span = span;
  return span;
}

type MaybeCoded = { message?: unknown; extensions?: { code?: unknown; http?: { status?: unknown } } };

/**
 * The code an error is logged and counted under. Some of Yoga's own refusals carry none: those are named by
 * their HTTP status (a closed set), so that no refusal reads as a bare `error`.
 */
function codeOf(error: MaybeCoded): string {
  const code = error.extensions?.code;
  if (typeof code === 'string' && KNOWN_CODES.has(code)) return code;
  const status = error.extensions?.http?.status;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
    ? `HTTP_${status}`
    : 'error';
}

function errorCodes(result: { readonly errors?: readonly unknown[] | undefined }): string[] {
  if (!result.errors?.length) return [];
  const codes = new Set<string>();
  for (const error of result.errors as MaybeCoded[]) codes.add(codeOf(error));
  return [...codes];
}

/** One finished operation: what it did and how it ended. */
export interface FinishedOperation {
  requestId: string;
  type: string;
  name: string | undefined;
  codes: string[];
  ms: number;
  tally: Pick<Tally, 'upstreamCalls' | 'records'> & Partial<Pick<Tally, 'cacheHits' | 'stale'>>;
  span?: Span | undefined;
  traceId?: string | undefined;
  /** Answered from the answer cache, without executing (src/http/answer-cache.ts). */
  fromAnswerCache?: boolean;
  /** A subscription's: the events it delivered. */
  events?: number;
}

/** The metrics and operation span end of one operation, when its result (a subscription: its setup) is known. */
function countOperation(operation: FinishedOperation): void {
  const { type, name, codes, ms, tally, span } = operation;
  recordOperation(type, name, codes[0] ?? 'ok', ms / 1000, tally.records);
  if (span) {
    tracer?.endOperation(span, {
      errorCodes: codes,
      upstreamCalls: tally.upstreamCalls,
      records: tally.records,
    });
  }
}

/** The access-log line of one operation, once it has ended (ACCESS_LOG): no variables and no token. */
function logOperation(options: ObservabilityOptions, operation: FinishedOperation): void {
  if (!options.accessLog) return;
  const { type, name, codes, ms, tally } = operation;
  options.logger.info(
    {
      requestId: operation.requestId,
      operation: name ?? null,
      type,
      ms: Math.round(ms * 10) / 10,
      upstreamCalls: tally.upstreamCalls,
      records: tally.records,
      errors: codes,
      ...(operation.events !== undefined ? { events: operation.events } : {}),
      // Where the answer came from, when not all from CarrierX just now: an operator reading a surprising
      // answer needs to know it was kept, or stale.
      ...(operation.fromAnswerCache ? { answerCache: 'hit' } : {}),
      ...(tally.cacheHits ? { recordCacheHits: tally.cacheHits } : {}),
      ...(tally.stale ? { staleRecords: tally.stale } : {}),
      ...(operation.traceId ? { traceId: operation.traceId } : {}),
    },
    'operation',
  );
}

/**
 * The metrics, operation span end and access-log line of one operation: executed (below), or answered from the
 * answer cache, which reports what it answered as this same operation.
 */
export function reportOperation(options: ObservabilityOptions, operation: FinishedOperation): void {
  countOperation(operation);
  logOperation(options, operation);
}

/**
 * Requests one of whose operations executed (or was answered by a step before executing): what Yoga answers with
 * errors and is not marked here was refused as an HTTP request. A mark on the Request, not a WeakSet of them
 * (weak tables cost every young-generation GC; see context.ts).
 */
const EXECUTED = Symbol('executed');
type Marked = { [EXECUTED]?: true };

/** A subscription that subscribed, until it ends: what its events have carried so far. */
interface OpenSubscription {
  events: number;
  readonly codes: Set<string>;
}

/**
 * The execution step that observes each operation: its span starts before anything runs (so the loader built
 * during it puts the CarrierX calls' spans under it), and once it has its result, its metrics, span end and
 * access-log line. First in the list: it sees the result as executed, before any other step rewrites it.
 *
 * A subscription lives for hours, so its report is split. Its setup is the operation the metrics count and the
 * span covers: counted once, when it subscribes (or is refused), with the time its setup took; no span covers
 * its life, whose CarrierX polls have spans of their own (src/live/). Its access-log line is written when it
 * ends, with its whole duration, the events it delivered and every error code it carried.
 */
export function observeStep(options: ObservabilityOptions): ExecutionStep {
  const open = new WeakMap<OperationContext, OpenSubscription>();
  /** The operation's type and name, as labels: the name cut to MAX_OPERATION_NAME_LENGTH. */
  const labelsOf = (document: DocumentNode, operationName: string | null | undefined) => {
    const operation = operationOf(document, operationName);
    return { type: operation?.operation ?? 'unknown', name: boundedName(operation?.name?.value) };
  };
  return {
    start({ context, document, operationName }) {
      (context.request as Marked)[EXECUTED] = true;
      if (tracer) startOperationSpan(tracer, context, document, operationName);
      return undefined;
    },
    finish({ context, document, operationName }, result) {
      const { observed } = context;
      const { type, name } = labelsOf(document, operationName);
      // A served copy of this answer reports itself as this operation (src/http/answer-cache.ts).
      observed.operation = { type, name };
      reportOperation(options, {
        requestId: observed.requestId,
        type,
        name,
        codes: errorCodes(result),
        ms: performance.now() - observed.startedAt,
        tally: observed.tally,
        span: observed.span,
        traceId: observed.span ? observed.traceId : undefined,
        // A subscription answered with one result (refused, or its subscribe resolver failed) delivered none.
        ...(type === 'subscription' ? { events: 0 } : {}),
      });
      return result;
    },
    subscribed({ context, document, operationName }) {
      const { observed } = context;
      const { type, name } = labelsOf(document, operationName);
      observed.operation = { type, name };
      open.set(context, { events: 0, codes: new Set() });
      countOperation({
        requestId: observed.requestId,
        type,
        name,
        codes: [],
        ms: performance.now() - observed.startedAt,
        tally: observed.tally,
        span: observed.span,
      });
    },
    event({ context }, result) {
      const subscription = open.get(context);
      if (subscription) {
        subscription.events++;
        for (const code of errorCodes(result)) subscription.codes.add(code);
      }
      return result;
    },
    ended({ context }, error) {
      const subscription = open.get(context);
      const { observed } = context;
      if (!subscription || !observed.operation) return;
      open.delete(context);
      // The error that ended it, as its source threw it (before Yoga's masking, later in the plugin list).
      if (error !== undefined) subscription.codes.add(codeOf(Object(error) as MaybeCoded));
      const { type, name } = observed.operation;
      logOperation(options, {
        requestId: observed.requestId,
        type,
        name,
        codes: [...subscription.codes],
        ms: performance.now() - observed.startedAt,
        tally: observed.tally,
        events: subscription.events,
        traceId: observed.span ? observed.traceId : undefined,
      });
    },
  };
}

/**
 * Per request, around the operations `observeStep` observes: what parse, validation or Yoga's request checks
 * refused is counted and logged. On Yoga's own path it also echoes the request id and puts it on each error;
 * the fast path does both itself (src/http/create-request-handler.ts), as it skips Yoga's result hooks.
 */
export function useObservability(options: ObservabilityOptions): Plugin<Context> {
  const { logger, accessLog } = options;
  // Requests already accounted for: one of their operations executed (observeStep), or parse or validation
  // refused them. What Yoga answers with errors and is in neither was refused as an HTTP request (Yoga's path
  // only: the fast path hands such requests to Yoga).
  const accounted = {
    add: (request: object) => {
      (request as Marked)[EXECUTED] = true;
    },
    has: (request: object) => (request as Marked)[EXECUTED] === true,
  };

  /** A request refused before execution: counted, and one access-log line (no variables, no token). */
  function refuse(request: Request, reason: RefusalReason, codes: string[]): void {
    accounted.add(request);
    recordRefusal(reason);
    if (accessLog)
      logger.info({ requestId: requestIdOf(request), refused: reason, errors: codes }, 'refused');
  }

  return {
    onParse({ context }) {
      return ({ result }) => {
        if (result instanceof Error) {
          refuse((context as OperationContext).request, 'parse', ['GRAPHQL_PARSE_FAILED']);
        }
      };
    },
    onValidate({ context }) {
      return ({ valid, result }) => {
        // Yoga sets GRAPHQL_VALIDATION_FAILED on these errors only later; a query limit's own code is kept.
        if (!valid) {
          const codes = errorCodes({ errors: result }).map((code) =>
            code === 'error' ? 'GRAPHQL_VALIDATION_FAILED' : code,
          );
          refuse((context as OperationContext).request, 'validation', [...new Set(codes)]);
        }
      };
    },
    onResultProcess({ request, result, setResult }) {
      if (!accounted.has(request) && !isAsyncIterable(result)) {
        const codes = Array.isArray(result) ? [] : errorCodes(result);
        if (codes.length > 0) refuse(request, 'request', codes);
      }
      const requestId = requestIdOf(request);
      if (Array.isArray(result)) setResult(result.map((one) => withRequestId(one, requestId)));
      else if (!isAsyncIterable(result)) setResult(withRequestId(result, requestId));
    },
    onResponse({ request, response }) {
      response.headers.set(REQUEST_ID_HEADER, requestIdOf(request));
    },
  };
}
