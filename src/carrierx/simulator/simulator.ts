import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CdrRecord, createDataset, SAMPLE_DR_SID, startOfUtcDay } from './data.ts';
import { createFaultRegistry, type Fault, type FaultRule, parseFaultRule } from './faults.ts';
import { QueryError } from './filter.ts';
import { createLister } from './list.ts';
import {
  createRecordStore,
  parseFieldList,
  projectedResponse,
  projectRecord,
  type StoredRecord,
} from './record-store.ts';
import { createRequestLog, type RecordedRequest } from './request-log.ts';
import { principalFor, tokenFromHeader } from './tokens.ts';

/** A running (or ready to run) CarrierX-compatible upstream. */
export interface Simulator {
  /** Starts listening (port 0 picks a free port) and resolves the base URL, e.g. `http://127.0.0.1:43123/core/v2`. */
  listen(port?: number, host?: string): Promise<string>;
  readonly baseUrl: string;
  /** Stops listening, ends hung and delayed requests and closes keep-alive sockets. */
  close(): Promise<void>;
  /** The last `maxRecorded` requests to the CarrierX paths, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Requests and response-body bytes since the last resetLog(). */
  readonly stats: { requests: number; bytesSent: number };
  resetLog(): void;
  faults: { add(rule: FaultRule): () => void; clear(): void };
  readonly records: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** Adds a record as CarrierX would insert a new call: the list and by-SID paths serve it from then on. */
  addRecord(record: Readonly<Record<string, unknown>>): void;
  /** The instant the generated records are dated back from, fixed when the simulator was created. */
  readonly anchor: Date;
}

export interface SimulatorOptions {
  /** How many records to generate besides the sample (default 1200, at least 2). */
  recordCount?: number;
  seed?: number;
  /**
   * Every generated call happened in the 90 days before this instant (default: 00:00 UTC of the day the
   * simulator is created). Tests pin it to get the same dates on any day.
   */
  anchor?: Date;
  /** Serve the `/_simulator/...` control API for out-of-process users. */
  control?: boolean;
  maxRecorded?: number;
  /**
   * Unconfirmed filter operators to accept (of `in`, `le`), as a CarrierX known to accept them would; by
   * default only the confirmed ones, and the others are 400s.
   */
  filterOperators?: readonly string[];
}

const CDR_PATH = '/core/v2/calls/call_drs';
const CDR_ITEM_PREFIX = `${CDR_PATH}/`;
const CONTROL_PREFIX = '/_simulator/';

/** What `GET /_simulator/` answers: the control API described by itself, so its printed URL leads somewhere. */
const CONTROL_INDEX = {
  description: 'Control API of the embedded CarrierX simulator (SIMULATOR_CONTROL=1). See docs/simulator.md.',
  routes: [
    { method: 'GET', path: '/_simulator/', description: 'this index' },
    { method: 'GET', path: '/_simulator/faults', description: 'the active fault rules, in match order' },
    {
      method: 'POST',
      path: '/_simulator/faults',
      description: 'add a fault rule (JSON body); answers 201 {"id"}',
    },
    { method: 'DELETE', path: '/_simulator/faults', description: 'remove every fault rule' },
    { method: 'DELETE', path: '/_simulator/faults/{id}', description: 'remove one fault rule' },
    { method: 'GET', path: '/_simulator/stats', description: 'requests served and body bytes sent' },
    { method: 'DELETE', path: '/_simulator/stats', description: 'reset the counters and the request log' },
    {
      method: 'GET',
      path: '/_simulator/requests',
      description: 'the recorded CarrierX requests, oldest first',
    },
  ],
  faultRule: {
    match: '{ drSid?: string, token?: string } (optional; without it the rule is global)',
    times: 'positive integer (optional; the rule expires after that many matching requests)',
    latencyMs: 'milliseconds (optional)',
    jitterMs: 'up to this many extra milliseconds (optional)',
    fault:
      '{ kind: "status", status: 400..599 } | { kind: "rate-limit", retryAfter?: string | number } | ' +
      '{ kind: "reset" | "hang" | "malformed-json" | "truncated-body" | "wrong-types" | "unknown-enum" | "not-a-cdr" } (optional)',
  },
  example: { match: { token: 'carrierx-demo-token' }, times: 3, fault: { kind: 'status', status: 503 } },
};
const MAX_CONTROL_BODY = 64 * 1024;
const EMPTY_QUERY: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** CarrierX's error shape: a top-level message plus the `errors` list its SDK reads. */
export function errorBody(message: string): string {
  return JSON.stringify({ message, errors: [{ field: null, message }] });
}

/** Parses a query string without URL objects; the last value of a repeated key wins. */
function parseQuery(raw: string): Record<string, string> {
  if (raw === '') return EMPTY_QUERY;
  const query: Record<string, string> = {};
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const key = decodeComponent(equals < 0 ? part : part.slice(0, equals));
    if (key === '__proto__') continue;
    query[key] = equals < 0 ? '' : decodeComponent(part.slice(equals + 1));
  }
  return query;
}

function decodeComponent(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  return decodeURIComponent(text.replaceAll('+', ' '));
}

/** The same record with the types a broken upstream might send; field filtering still applies to it. */
function withWrongTypes(record: CdrRecord): CdrRecord {
  return {
    ...record,
    date_start: 'yesterday',
    price: {},
    stir_identity: 'maybe',
    transcoded: 'yes',
    version: 'two',
  };
}

/**
 * The stored record with some keys' JSON text replaced verbatim (new keys go last): values JSON.stringify
 * cannot write, such as 12.50 or a number with more digits than a float holds.
 */
function withRawValues(stored: StoredRecord, raw: Readonly<Record<string, string>>): StoredRecord {
  const keys = [...stored.keys, ...Object.keys(raw).filter((key) => !stored.keys.includes(key))];
  const fragments = keys.map((key, index) =>
    Object.hasOwn(raw, key) ? `${JSON.stringify(key)}:${raw[key]}` : (stored.fragments[index] as string),
  );
  return { ...stored, keys, fragments, json: `{${fragments.join(',')}}` };
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  // Computed once: the dates stay the same for the simulator's whole life, even across midnight.
  const anchor = new Date(options.anchor?.getTime() ?? startOfUtcDay(Date.now()));
  const store = createRecordStore(
    createDataset({ recordCount: options.recordCount, seed: options.seed, anchorMs: anchor.getTime() }),
  );
  const list = createLister(store, { filterOperators: options.filterOperators });
  const log = createRequestLog(options.maxRecorded ?? 10_000);
  const registry = createFaultRegistry();
  const delayed = new Set<NodeJS.Timeout>();
  const control = options.control ?? false;
  let server: Server | undefined;
  let baseUrl: string | undefined;
  let address = '127.0.0.1';

  function logResponse(entry: RecordedRequest, status: number, bytes: number) {
    entry.status = status;
    entry.bytes = bytes;
    log.push(entry);
  }

  function send(
    res: ServerResponse,
    entry: RecordedRequest,
    status: number,
    body: string,
    extraHeaders?: OutgoingHttpHeaders,
  ) {
    const bytes = Buffer.byteLength(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': bytes,
      ...extraHeaders,
    });
    res.end(body);
    logResponse(entry, status, bytes);
  }

  function sendError(
    res: ServerResponse,
    entry: RecordedRequest,
    status: number,
    message: string,
    extraHeaders?: OutgoingHttpHeaders,
  ) {
    send(res, entry, status, errorBody(message), extraHeaders);
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    if (control && (path.startsWith(CONTROL_PREFIX) || path === '/_simulator')) {
      void handleControl(req, res, path.slice(CONTROL_PREFIX.length));
      return;
    }
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      query: EMPTY_QUERY,
      authorization: req.headers.authorization,
      ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}),
      status: 0,
      bytes: 0,
    };
    try {
      entry.query = parseQuery(queryStart < 0 ? '' : url.slice(queryStart + 1));
    } catch {
      return sendError(res, entry, 400, 'Malformed query string');
    }

    let drSid: string | undefined;
    if (path.startsWith(CDR_ITEM_PREFIX) && path.length > CDR_ITEM_PREFIX.length) {
      const segment = path.slice(CDR_ITEM_PREFIX.length);
      if (segment.includes('/')) return sendError(res, entry, 404, 'Not Found');
      try {
        drSid = segment.includes('%') ? decodeURIComponent(segment) : segment;
      } catch {
        drSid = segment;
      }
      entry.drSid = drSid;
    } else if (path !== CDR_PATH && path !== CDR_ITEM_PREFIX) {
      return sendError(res, entry, 404, 'Not Found');
    }
    if (entry.method !== 'GET') {
      return sendError(res, entry, 405, `Method ${entry.method} is not allowed`, { allow: 'GET' });
    }

    if (registry.size > 0) {
      const rule = registry.take(drSid, tokenFromHeader(entry.authorization));
      if (rule) return applyRule(req, res, entry, drSid, rule);
    }
    serveCdr(req, res, entry, drSid);
  }

  function serveCdr(req: IncomingMessage, res: ServerResponse, entry: RecordedRequest, drSid?: string) {
    const principal = principalFor(tokenFromHeader(entry.authorization));
    if (!principal) return sendError(res, entry, 401, 'Bad credentials');
    if (!principal.canReadCalls) {
      return sendError(res, entry, 403, 'Forbidden: the token needs the calls.read or calls.manage scope');
    }
    const { query } = entry;
    if (drSid !== undefined) {
      const stored = store.get(drSid);
      if (!stored) return sendError(res, entry, 404, 'Cannot find item by SID');
      if (stored.descendant && !principal.canReadDescendants) {
        return sendError(
          res,
          entry,
          403,
          'Forbidden: records of descendant partners need the calls.read_descendant scope',
        );
      }
      // The hot path: a precomputed Buffer and header object, nothing serialised per request.
      const { body, headers } =
        query.include_fields === undefined && query.exclude_fields === undefined
          ? stored
          : projectedResponse(stored, query.include_fields, query.exclude_fields);
      res.writeHead(200, headers);
      res.end(body);
      return logResponse(entry, 200, body.length);
    }
    let body: string;
    try {
      body = list({
        query,
        includeDescendants: principal.canReadDescendants,
        pageUrl: (params) =>
          `http://${req.headers.host ?? address}${entry.path}?${new URLSearchParams(params).toString()}`,
      });
    } catch (error) {
      if (error instanceof QueryError) return sendError(res, entry, 400, error.message);
      throw error;
    }
    send(res, entry, 200, body);
  }

  function applyRule(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RecordedRequest,
    drSid: string | undefined,
    rule: FaultRule,
  ) {
    const act = () =>
      rule.fault ? applyFault(req, res, entry, drSid, rule.fault) : serveCdr(req, res, entry, drSid);
    const delay = (rule.latencyMs ?? 0) + (rule.jitterMs ? Math.random() * rule.jitterMs : 0);
    if (delay <= 0) return act();
    const timer = setTimeout(() => {
      delayed.delete(timer);
      act();
    }, delay);
    delayed.add(timer);
  }

  function applyFault(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RecordedRequest,
    drSid: string | undefined,
    fault: Fault,
  ) {
    switch (fault.kind) {
      case 'status':
        return sendError(
          res,
          entry,
          fault.status,
          `Simulated upstream failure: ${fault.status} ${STATUS_CODES[fault.status] ?? ''}`.trimEnd(),
        );
      case 'rate-limit':
        return sendError(
          res,
          entry,
          429,
          'Too Many Requests',
          fault.retryAfter === undefined ? undefined : { 'retry-after': fault.retryAfter },
        );
      case 'reset':
        logResponse(entry, 0, 0);
        req.socket.resetAndDestroy();
        return;
      case 'hang':
        // Never answered; close() destroys the socket.
        logResponse(entry, 0, 0);
        return;
      case 'not-a-cdr':
        return send(res, entry, 200, drSid === undefined ? '[]' : '{"message":"ok"}');
      case 'wrong-types':
        return send(res, entry, 200, faultyBody(entry, drSid, withWrongTypes));
      case 'unknown-enum':
        return send(
          res,
          entry,
          200,
          faultyBody(entry, drSid, (r) => ({ ...r, direction: 'sideways' })),
        );
      case 'raw-values':
        return send(res, entry, 200, faultyBody(entry, drSid, undefined, fault.values));
      case 'malformed-json': {
        const body = faultyBody(entry, drSid);
        return send(res, entry, 200, body.slice(0, Math.floor(body.length / 2)));
      }
      case 'truncated-body': {
        const full = Buffer.from(faultyBody(entry, drSid));
        const half = full.subarray(0, Math.floor(full.length / 2));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': full.length });
        logResponse(entry, 200, half.length);
        res.write(half, () => res.destroy());
        return;
      }
    }
  }

  /**
   * The body a fault distorts: the requested record (the sample when the sid is unknown) with field filtering,
   * or for the list endpoint a one-item page holding it.
   */
  function faultyBody(
    entry: RecordedRequest,
    drSid: string | undefined,
    distort: (record: CdrRecord) => CdrRecord = (record) => record,
    rawValues?: Readonly<Record<string, string>>,
  ): string {
    const stored =
      (drSid === undefined ? undefined : store.get(drSid)) ?? (store.get(SAMPLE_DR_SID) as StoredRecord);
    let distorted = createRecordStore([distort(stored.record)]).get(stored.sid) as StoredRecord;
    if (rawValues) distorted = withRawValues(distorted, rawValues);
    const item = projectRecord(
      distorted,
      parseFieldList(entry.query.include_fields),
      parseFieldList(entry.query.exclude_fields),
    );
    if (drSid !== undefined) return item;
    return `{"count":1,"has_more":false,"items":[${item}],"limit":10,"offset":0,"pagination":{},"total":1}`;
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, route: string) {
    const reply = (status: number, body?: unknown) => {
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const method = req.method ?? 'GET';
    const notAllowed = (allow: string) => {
      res.setHeader('allow', allow);
      reply(405, { message: `Method ${method} is not allowed`, errors: [] });
    };
    try {
      if (route === '') {
        if (method !== 'GET') return notAllowed('GET');
        return reply(200, CONTROL_INDEX);
      }
      if (route === 'faults') {
        if (method === 'DELETE') {
          registry.clear();
          return reply(204);
        }
        if (method === 'GET') return reply(200, registry.list());
        if (method !== 'POST') return notAllowed('GET, POST, DELETE');
        let rule: FaultRule;
        try {
          rule = parseFaultRule(JSON.parse(await readBody(req)));
        } catch (error) {
          return reply(400, JSON.parse(errorBody((error as Error).message)));
        }
        return reply(201, { id: registry.add(rule).id });
      }
      if (route.startsWith('faults/')) {
        if (method !== 'DELETE') return notAllowed('DELETE');
        return registry.remove(decodeURIComponent(route.slice('faults/'.length)))
          ? reply(204)
          : reply(404, JSON.parse(errorBody('No such fault rule')));
      }
      if (route === 'stats') {
        if (method === 'DELETE') {
          log.reset();
          return reply(204);
        }
        if (method !== 'GET') return notAllowed('GET, DELETE');
        return reply(200, { requests: log.requests, bytesSent: log.bytesSent });
      }
      if (route === 'requests') {
        if (method !== 'GET') return notAllowed('GET');
        return reply(200, log.entries());
      }
      return reply(404, JSON.parse(errorBody('Not Found')));
    } catch (error) {
      if (!res.headersSent) reply(500, JSON.parse(errorBody((error as Error).message)));
    }
  }

  return {
    listen(port = 0, host = '127.0.0.1') {
      if (server) return Promise.reject(new Error('The simulator is already listening'));
      const created = createServer((req, res) => {
        try {
          handle(req, res);
        } catch (error) {
          if (!res.headersSent) {
            const body = errorBody(`Simulator error: ${(error as Error).message}`);
            res.writeHead(500, { 'content-type': 'application/json' }).end(body);
          }
        }
      });
      server = created;
      return new Promise<string>((resolve, reject) => {
        created.once('error', (error) => {
          server = undefined;
          reject(error);
        });
        created.listen(port, host, () => {
          const bound = created.address() as AddressInfo;
          // A wildcard bind is reachable on loopback; clients cannot connect to 0.0.0.0 or :: everywhere.
          const reachable =
            bound.address === '0.0.0.0' ? '127.0.0.1' : bound.address === '::' ? '::1' : bound.address;
          address = `${bound.family === 'IPv6' ? `[${reachable}]` : reachable}:${bound.port}`;
          baseUrl = `http://${address}/core/v2`;
          resolve(baseUrl);
        });
      });
    },
    get baseUrl() {
      if (baseUrl === undefined) throw new Error('The simulator is not listening; await listen() first');
      return baseUrl;
    },
    async close() {
      for (const timer of delayed) clearTimeout(timer);
      delayed.clear();
      const running = server;
      server = undefined;
      baseUrl = undefined;
      if (!running) return;
      await new Promise<void>((resolve) => {
        running.close(() => resolve());
        // Ends keep-alive sockets and hung requests alike, so close() never waits on a client.
        running.closeAllConnections();
      });
    },
    get requests() {
      return log.entries();
    },
    get stats() {
      return { requests: log.requests, bytesSent: log.bytesSent };
    },
    resetLog() {
      log.reset();
    },
    faults: {
      add: (rule) => registry.add(rule).remove,
      clear: () => registry.clear(),
    },
    records: store.records,
    addRecord: (record) => store.add(record),
    get anchor() {
      // A copy: a caller's setTime() must not move what this simulator reports.
      return new Date(anchor.getTime());
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_CONTROL_BODY) throw new Error(`Request body larger than ${MAX_CONTROL_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
