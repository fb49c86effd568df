/** One request as the simulator saw and answered it; `status` 0 means no response (reset or hang). */
export interface RecordedRequest {
  method: string;
  path: string;
  drSid?: string;
  query: Record<string, string>;
  authorization?: string;
  /** The W3C trace context the caller sent, if any: shows a trace reaching CarrierX. */
  traceparent?: string;
  status: number;
  bytes: number;
}

/** A ring buffer of the last `capacity` requests plus counters, so long benchmarks use bounded memory. */
export interface RequestLog {
  push(entry: RecordedRequest): void;
  entries(): RecordedRequest[];
  readonly requests: number;
  readonly bytesSent: number;
  reset(): void;
}

export function createRequestLog(capacity: number): RequestLog {
  let buffer: RecordedRequest[] = [];
  // Once the buffer is full, `next` is both the slot to overwrite and the oldest entry.
  let next = 0;
  let requests = 0;
  let bytesSent = 0;
  return {
    push(entry) {
      requests += 1;
      bytesSent += entry.bytes;
      if (capacity <= 0) return;
      if (buffer.length < capacity) {
        buffer.push(entry);
      } else {
        buffer[next] = entry;
        next = (next + 1) % capacity;
      }
    },
    entries() {
      return next === 0 ? buffer.slice() : [...buffer.slice(next), ...buffer.slice(0, next)];
    },
    get requests() {
      return requests;
    },
    get bytesSent() {
      return bytesSent;
    },
    reset() {
      buffer = [];
      next = 0;
      requests = 0;
      bytesSent = 0;
    },
  };
}
