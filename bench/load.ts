import autocannon from 'autocannon';

/** One HTTP request to repeat under load. */
export interface RequestSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface LoadSpec extends RequestSpec {
  connections: number;
  seconds: number;
  /** Checked against every response body; a false answer counts as a mismatch. */
  verifyBody(body: string): boolean;
  /** This many operations instead of `seconds` (which then only bounds the run, with 30 s to spare). */
  amount?: number;
  /** The Authorization header of each request in turn, instead of the one in `headers`. */
  nextAuthorization?: () => string;
  /**
   * At most this many requests per second over all connections (autocannon's overallRate): a fixed offered
   * load, so that a server answering faster is not sent more (scenario 12's second credential).
   */
  overallRate?: number;
}

/** Latency figures in milliseconds, from every 2xx response's own hrtime measurement. */
export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  samples: number;
}

export interface LoadResult {
  seconds: number;
  /** Responses received (any status). */
  completed: number;
  /** Requests written, including those in flight when the run stopped. */
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  requestsPerSecond: number;
  latency: Latency;
  /** Bytes read from the socket per response: status line, headers and body. */
  wireBytesPerResponse: number;
  /** The first few bodies that failed verifyBody, shortened, to show what went wrong. */
  badBodies: string[];
}

const MAX_BAD_BODIES = 3;

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Summarises latencies; autocannon's own histogram has 1 ms resolution, too coarse for sub-ms figures. */
export function summariseLatency(values: Float64Array): Latency {
  const sorted = values.slice().sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    samples: sorted.length,
  };
}

/** A growable Float64Array: a long run's latencies without one boxed number each. */
function createSampleBuffer() {
  let values = new Float64Array(1 << 16);
  let length = 0;
  return {
    push(value: number) {
      if (length === values.length) {
        const bigger = new Float64Array(values.length * 2);
        bigger.set(values);
        values = bigger;
      }
      values[length++] = value;
    },
    values: () => values.subarray(0, length),
  };
}

/**
 * Runs autocannon for `spec.seconds`. `signal` stops it early (the result then covers the time it ran);
 * a run that overruns its time by 30 s is stopped too, so this always settles.
 */
export function runLoad(spec: LoadSpec, signal: AbortSignal): Promise<LoadResult> {
  signal.throwIfAborted();
  const latencies = createSampleBuffer();
  const badBodies: string[] = [];
  const verifyBody = (body: unknown) => {
    const text = String(body);
    if (spec.verifyBody(text)) return true;
    if (badBodies.length < MAX_BAD_BODIES) badBodies.push(text.slice(0, 400));
    return false;
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: spec.method,
        headers: spec.headers,
        ...(spec.body === undefined ? {} : { body: spec.body }),
        connections: spec.connections,
        pipelining: 1,
        ...(spec.overallRate === undefined ? {} : { overallRate: spec.overallRate }),
        ...(spec.amount === undefined ? { duration: spec.seconds } : { amount: spec.amount }),
        ...(spec.nextAuthorization
          ? {
              requests: [
                {
                  setupRequest: (request: autocannon.Request) => ({
                    ...request,
                    headers: {
                      ...request.headers,
                      authorization: (spec.nextAuthorization as () => string)(),
                    },
                  }),
                },
              ],
            }
          : {}),
        timeout: 10,
        verifyBody,
      },
      (error, result) => {
        clearTimeout(guard);
        signal.removeEventListener('abort', stop);
        if (error) return reject(error);
        const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
        const completed = result.requests.total;
        resolve({
          seconds,
          completed,
          sent: result.requests.sent,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          mismatches: result.mismatches,
          requestsPerSecond: result['2xx'] / seconds,
          latency: summariseLatency(latencies.values()),
          wireBytesPerResponse: completed ? result.throughput.total / completed : 0,
          badBodies,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
    const stop = () => instance.stop();
    signal.addEventListener('abort', stop, { once: true });
    const guard = setTimeout(stop, (spec.seconds + 30) * 1000);
  });
}
