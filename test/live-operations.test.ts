import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_TOKEN } from '../src/carrierx/simulator/index.ts';
import { liveFeedOf } from '../src/graphql/app.ts';
import type { LiveFeed } from '../src/live/feed.ts';
import { metricsRegistry } from '../src/telemetry/metrics.ts';
import {
  type LiveServer,
  records,
  sse,
  startLiveServer,
  stopLiveServers,
  subscribed,
  unsubscribed,
  wsClient,
} from './helpers/live-server.ts';

// A subscription goes through the same per-operation steps as a query (src/graphql/execution/steps.ts): counted,
// logged, estimated and masked. Over both real transports: the app's Node HTTP server on a free loopback port
// (SSE and graphql-ws), the embedded simulator as CarrierX, records added to it while a subscriber listens.

const SUBSCRIPTION = 'subscription Calls { callDetailRecordAdded { drSid numberSrc } }';

/** Each event would list a page of up to 1,000 of its endpoint's calls: far past MAX_OPERATION_COST. */
const COSTLY = `subscription Costly {
  callDetailRecordAdded { drSid endpointSrc { callDetailRecords(side: SRC, first: 1000) { nodes { drSid } } } }
}`;

afterEach(() => stopLiveServers());

const start = (env: Record<string, string> = {}) => startLiveServer({ ACCESS_LOG: 'true', ...env });

type Result = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };

/** One subscriber, over SSE or graphql-ws: its results as they arrive, and a way to stop listening. */
interface Subscriber {
  /** The next result; undefined once the stream has ended. */
  next(): Promise<Result | undefined>;
  close(): Promise<void>;
}

/** A subscription over SSE (Yoga's distinct-connections protocol). */
async function overSse(
  server: LiveServer,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Subscriber> {
  const stream = await sse(server.origin, { query, ...(variables ? { variables } : {}) });
  return {
    async next() {
      for (;;) {
        const event = await stream.next().catch(() => undefined);
        if (!event || event.event === 'complete') return undefined;
        // Frames without data are not results.
        if (event.event === 'next' && event.data) return JSON.parse(event.data) as Result;
      }
    },
    async close() {
      stream.close();
    },
  };
}

/** A subscription over graphql-ws; a refusal before it subscribes comes back as a result with its errors. */
async function overWebSocket(
  server: LiveServer,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Subscriber> {
  const { client } = wsClient(server);
  const events = client.iterate({ query, ...(variables ? { variables } : {}) });
  return {
    async next() {
      try {
        const step = await events.next();
        return step.done ? undefined : (step.value as Result);
      } catch (errors) {
        // graphql-ws's `error` message: the operation was refused before it subscribed.
        if (Array.isArray(errors)) return { errors } as Result;
        throw errors;
      }
    },
    async close() {
      await events.return?.();
      await client.dispose();
    },
  };
}

const TRANSPORTS = [
  ['SSE', overSse],
  ['graphql-ws', overWebSocket],
] as const;

/** The value of one sample of the registry, as the exposition writes its key: `name{label="value",...}`. */
async function sample(key: string): Promise<number> {
  for (const line of (await metricsRegistry.metrics()).split('\n')) {
    if (line.startsWith(`${key} `)) return Number(line.slice(key.length + 1));
  }
  return 0;
}

const accessLines = (server: LiveServer) =>
  server.harness.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === 'operation');

/** The access-log lines of the operation `name`, once there is one (a subscription's comes when it ends). */
async function accessLinesOf(server: LiveServer, name: string): Promise<Record<string, unknown>[]> {
  for (;;) {
    const lines = accessLines(server).filter((line) => line.operation === name);
    if (lines.length > 0) return lines;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(TRANSPORTS)('a subscription over %s', (_transport, subscribe) => {
  it('is counted once in graphql_operations_total when it subscribes, not again for each event', async () => {
    const server = await start();
    const key = 'graphql_operations_total{type="subscription",name="Calls",outcome="ok"}';
    const before = await sample(key);
    const subscriber = await subscribe(server, SUBSCRIPTION);
    await subscribed(server, 1);
    const drSids = [server.insert(1), server.insert(2)];
    const results = [await subscriber.next(), await subscriber.next()];
    expect(results.map((r) => r?.data)).toEqual(
      drSids.map((drSid) => ({ callDetailRecordAdded: { drSid, numberSrc: expect.any(String) } })),
    );
    expect((await sample(key)) - before).toBe(1);
    await subscriber.close();
  });

  it('writes one access-log line when it ends, naming it and counting the events it delivered', async () => {
    const server = await start();
    const subscriber = await subscribe(server, SUBSCRIPTION);
    await subscribed(server, 1);
    server.insert(1);
    server.insert(2);
    await subscriber.next();
    await subscriber.next();
    // Open, it has no line yet: the line says how it ended.
    expect(accessLines(server)).toEqual([]);
    await subscriber.close();
    await unsubscribed(server);
    const lines = await accessLinesOf(server, 'Calls');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: 'subscription', events: 2, errors: [] });
    expect(lines[0]?.ms).toBeGreaterThan(0);
  });

  it('writes on its access-log line the code of the error that ended it', async () => {
    const server = await start();
    // Its setup calls no one; its feed's first poll is refused, which ends it.
    server.harness.simulator.faults.add({
      match: { token: DEMO_TOKEN },
      fault: { kind: 'status', status: 401 },
    });
    const subscriber = await subscribe(server, SUBSCRIPTION);
    const lines = await accessLinesOf(server, 'Calls');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: 'subscription', events: 0, errors: ['UNAUTHENTICATED'] });
    await subscriber.close();
  });

  it('is refused with COST_ESTIMATED_TOO_EXPENSIVE before it subscribes when each event would cost more than MAX_OPERATION_COST', async () => {
    const server = await start();
    server.harness.simulator.resetLog();
    const key =
      'graphql_operations_total{type="subscription",name="Costly",outcome="COST_ESTIMATED_TOO_EXPENSIVE"}';
    const before = await sample(key);
    const subscriber = await subscribe(server, COSTLY);
    const refusal = await subscriber.next();
    expect(refusal?.errors?.[0]?.extensions?.code).toBe('COST_ESTIMATED_TOO_EXPENSIVE');
    expect(refusal?.errors?.[0]?.message).toMatch(/callDetailRecordAdded/);
    expect((liveFeedOf(server.harness.app) as LiveFeed).stats().subscriptions).toBe(0);
    expect((await sample(key)) - before).toBe(1);
    expect((await accessLinesOf(server, 'Costly'))[0]).toMatchObject({
      type: 'subscription',
      events: 0,
      errors: ['COST_ESTIMATED_TOO_EXPENSIVE'],
    });
    // Nothing was asked of CarrierX: no poller started.
    expect(server.harness.simulator.requests).toEqual([]);
    await subscriber.close();
  });

  it('is refused with BAD_USER_INPUT, as a query is, when a variable does not fit its declared type', async () => {
    const server = await start();
    const subscriber = await subscribe(
      server,
      'subscription Calls($filter: CallDetailRecordFilter) { callDetailRecordAdded(filter: $filter) { drSid } }',
      { filter: { direction: 'SIDEWAYS' } },
    );
    const refusal = await subscriber.next();
    expect(refusal?.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/\$filter.*direction/),
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
      }),
    ]);
    expect((liveFeedOf(server.harness.app) as LiveFeed).stats().subscriptions).toBe(0);
    await subscriber.close();
  });
});

describe.each(TRANSPORTS)('the events of a subscription over %s', (_transport, subscribe) => {
  it('carry a field CarrierX sent wrong as the error a query for that record answers, located in the document', async () => {
    const server = await start();
    // Each document has `direction` on line 4, column 5.
    const selection = '{\n    drSid\n    direction\n  }\n}';
    const subscriber = await subscribe(server, `subscription Calls {\n  callDetailRecordAdded ${selection}`);
    await subscribed(server, 1);
    const drSid = server.insert(1, { direction: 'sideways' });
    const event = await subscriber.next();
    await subscriber.close();
    const query = await server.harness.execute(
      `query Call {\n  callDetailRecord(drSid: "${drSid}") ${selection}`,
    );
    const [queried] = query.body.errors ?? [];
    expect(queried).toMatchObject({
      path: ['callDetailRecord', 'direction'],
      locations: [{ line: 4, column: 5 }],
      extensions: { code: 'UPSTREAM_BAD_RESPONSE' },
    });
    expect(event?.data).toEqual({ callDetailRecordAdded: { drSid, direction: null } });
    expect(event?.errors).toEqual([{ ...queried, path: ['callDetailRecordAdded', 'direction'] }]);
  });

  it('look up what their selection needs afresh each time, however long the subscription has been open', async () => {
    // Past the deadline of one request between the two events: each event is held to a deadline of its own.
    const deadlineMs = 1_000;
    const server = await start({ REQUEST_DEADLINE_MS: String(deadlineMs) });
    const subscriber = await subscribe(
      server,
      `subscription Calls {
        callDetailRecordAdded { drSid endpointSrc { callDetailRecords(side: SRC, first: 1) { totalCount } } }
      }`,
    );
    await subscribed(server, 1);
    const endpoint = randomUUID();
    server.insert(1, { endpoint_sid_src: endpoint });
    const first = await subscriber.next();
    expect(first?.errors).toBeUndefined();
    expect(first?.data).toMatchObject({
      callDetailRecordAdded: { endpointSrc: { callDetailRecords: { totalCount: 1 } } },
    });
    await new Promise((resolve) => setTimeout(resolve, deadlineMs + 100));
    server.insert(2, { endpoint_sid_src: endpoint });
    const second = await subscriber.next();
    await subscriber.close();
    // The same lookup as the first event's, answered from CarrierX again: the record added since is counted.
    expect(second?.errors).toBeUndefined();
    expect(second?.data).toMatchObject({
      callDetailRecordAdded: { endpointSrc: { callDetailRecords: { totalCount: 2 } } },
    });
  });
});

describe('a subscription resumed over SSE', () => {
  it("counts every event's CarrierX calls on the subscription's access-log line, not only the last event's", async () => {
    const server = await start();
    const stream = await sse(server.origin, { query: 'subscription { callDetailRecordAdded { drSid } }' });
    server.insert(1);
    const [first] = await records(stream, 1);
    stream.close();
    const { simulator } = server.harness;
    const lists = () => simulator.requests.filter((r) => r.path.endsWith('/call_drs')).length;
    const before = lists();
    const missed = [server.insert(2), server.insert(3)];
    // Two polls begun after them: both were delivered with the narrow selection before the client returns.
    while (lists() < before + 2) await new Promise((resolve) => setTimeout(resolve, 5));
    simulator.resetLog();
    const resumed = await sse(server.origin, {
      query: 'subscription Wider { callDetailRecordAdded { drSid numberSrc } }',
      headers: { 'last-event-id': first?.id as string },
    });
    // Each missed record is read again for the field its poll did not ask for, one event after the other.
    expect((await records(resumed, 2)).map((r) => r.drSid)).toEqual(missed);
    const reads = simulator.requests.filter((r) => missed.some((drSid) => r.path.endsWith(drSid))).length;
    expect(reads).toBe(2);
    resumed.close();
    expect(await accessLinesOf(server, 'Wider')).toEqual([
      expect.objectContaining({ type: 'subscription', events: 2, upstreamCalls: reads }),
    ]);
  });
});
