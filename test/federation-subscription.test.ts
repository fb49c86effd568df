import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { composeSupergraph } from '../examples/federation/compose.ts';
import { attachWebSockets, createGateway } from '../examples/federation/gateway.ts';
import { createPartnersSubgraph, SAMPLE_PARTNER } from '../examples/federation/partners-subgraph.ts';
import { CHILD_PARTNER_SID, DEMO_TOKEN, PARENT_PARTNER_SID } from '../src/carrierx/simulator/index.ts';
import { liveFeedOf } from '../src/graphql/app.ts';
import type { LiveFeed } from '../src/live/feed.ts';
import { freePort } from './helpers/free-port.ts';
import type { Harness } from './helpers/harness.ts';
import { type HiveGatewayCli, startHiveGatewayCli } from './helpers/hive-gateway-cli.ts';
import { listen, stop } from './helpers/listen.ts';
import { startLiveServer } from './helpers/live-server.ts';

// The live call feed through the example Hive Gateway: this graph's real HTTP server (SSE and graphql-ws) on a
// loopback port, the example partners graph, the example gateway over both, and the embedded simulator as
// CarrierX, its records added through the control API as an out-of-process user would add them.

const SUBSCRIPTION = 'subscription { callDetailRecordAdded { drSid dateInsert partner { name } } }';

/** This graph's HTTP server, the partners graph and the example gateway (graphql-ws included) over them. */
async function startFederation(env: Record<string, string> = {}, options: { hmacSecret?: string } = {}) {
  // No grace for an idle poller: a test's poller stops once its client has left, so the next test polls afresh
  // and counts only its own polls.
  const cdr = await startLiveServer({ LIVE_POLLER_GRACE_MS: '0', ...env }, { control: true });
  const h = cdr.harness;
  const cdrUrl = `${cdr.origin}/graphql`;
  const partners = await listen(createPartnersSubgraph());
  const gateway = createGateway(composeSupergraph({ cdr: cdrUrl, partners: partners.url }), options);
  const gw = await listen(gateway);
  const webSockets = attachWebSockets(gw.server, gateway);
  return {
    h,
    cdrUrl,
    partnersUrl: partners.url,
    url: gw.url,
    async close() {
      await webSockets.close();
      await Promise.all([gw.server, partners.server].map(stop));
      await gateway.dispose();
      await cdr.close();
    },
  };
}

let federation: Awaited<ReturnType<typeof startFederation>>;
let h: Harness;
beforeAll(async () => {
  federation = await startFederation();
  h = federation.h;
});
afterAll(() => federation.close());

// Each test starts with no subscription at this graph (a client that left has left it) and counts its own polls.
beforeEach(async () => {
  const feed = liveFeedOf(h.app) as LiveFeed;
  while (feed.stats().subscriptions > 0 || feed.stats().pollers > 0) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  h.simulator.resetLog();
});

interface Added {
  drSid: string;
  dateInsert: string;
}

/** Adds one record of a call that just ended, of this partner, through the simulator's control API. */
async function addRecord(h: Harness, partnerSid: string = PARENT_PARTNER_SID): Promise<Added> {
  const response = await fetch(new URL('/_simulator/records', h.baseUrl), {
    method: 'POST',
    body: JSON.stringify({ partnerSid }),
  });
  expect(response.status).toBe(201);
  const [record] = ((await response.json()) as { items: { dr_sid: string; date_insert: string }[] }).items;
  return { drSid: record?.dr_sid as string, dateInsert: record?.date_insert as string };
}

/** The event a subscriber of SUBSCRIPTION gets for a record of the sample partner. */
function eventOf({ drSid, dateInsert }: Added) {
  return { data: { callDetailRecordAdded: { drSid, dateInsert, partner: { name: SAMPLE_PARTNER.name } } } };
}

function subscriptionsAtTheCdrGraph(h: Harness): number {
  return (liveFeedOf(h.app) as LiveFeed).stats().subscriptions;
}

/**
 * Resolves once this graph's feed holds a subscription: the gateway has subscribed to it. The feed sends a
 * subscriber the records found after it joined, so a record must be added only once its subscription exists.
 * Fails with the client's first event if that came first: the subscription ended before it reached this graph.
 */
async function subscribedAtTheCdrGraph(h: Harness, first: Promise<IteratorResult<unknown>>): Promise<void> {
  let early: IteratorResult<unknown> | undefined;
  first.then(
    (result) => {
      early = result;
    },
    (error: unknown) => {
      early = { done: true, value: error };
    },
  );
  while (subscriptionsAtTheCdrGraph(h) < 1) {
    if (early) {
      throw new Error(
        `the subscription ended before it reached the CDR graph: ${JSON.stringify(early.value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The Authorization of each CarrierX list call (the live feed's polls) since the last reset. */
function pollAuthorizations(h: Harness): string[] {
  return h.simulator.requests
    .filter((r) => r.path.endsWith('/calls/call_drs'))
    .map((r) => r.authorization ?? '(none)');
}

/** A graphql-sse client (distinct connections, the mode Yoga serves) of `url`, sending this token. */
function sseClient(url: string, token: string) {
  return createSseClient({ url, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
}

/** A graphql-ws client of `url` (http: is switched to ws:), its token in connection_init as docs/live.md says. */
function wsClient(url: string, token: string) {
  return createWsClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${token}` },
  });
}

type Client = ReturnType<typeof sseClient> | ReturnType<typeof wsClient>;

/**
 * Subscribes through `client`, then adds a record of a partner the demo token may not read and two of one it
 * may: the subscriber must get exactly the two, in order, each with the partner's name from the partners graph.
 */
async function expectTheAddedRecordsOnce(h: Harness, client: Client): Promise<void> {
  const events = client.iterate({ query: SUBSCRIPTION });
  // The first event is asked for now: an iterator may start its subscription only once it is asked.
  const first = events.next();
  await subscribedAtTheCdrGraph(h, first);
  await addRecord(h, CHILD_PARTNER_SID);
  const added = await addRecord(h);
  expect((await first).value).toEqual(eventOf(added));
  // A record arrives once: the next event is the next record, not this one again.
  const next = await addRecord(h);
  expect((await events.next()).value).toEqual(eventOf(next));
  await events.return?.();
  // The feed polled CarrierX with the client's own token, which the gateway passed on.
  expect(pollAuthorizations(h).length).toBeGreaterThan(0);
  expect(new Set(pollAuthorizations(h))).toEqual(new Set([`Bearer ${DEMO_TOKEN}`]));
}

describe('the live feed through the example Hive Gateway', () => {
  it('sends a record added at CarrierX once to an SSE subscriber of the gateway, with its partner name from the partners graph', async () => {
    await expectTheAddedRecordsOnce(h, sseClient(federation.url, DEMO_TOKEN));
  });

  it('sends a record added at CarrierX once to a graphql-ws subscriber of the gateway, whose token is in connection_init', async () => {
    const client = wsClient(federation.url, DEMO_TOKEN);
    try {
      await expectTheAddedRecordsOnce(h, client);
    } finally {
      await client.dispose();
    }
  });

  it('ends the subscription at the CDR graph when the client unsubscribes from the gateway', async () => {
    const events = sseClient(federation.url, DEMO_TOKEN).iterate({ query: SUBSCRIPTION });
    const first = events.next();
    await subscribedAtTheCdrGraph(h, first);
    await addRecord(h);
    await first;
    await events.return?.();
    // No poller is left running for a client that has gone.
    await vi.waitFor(() => expect(subscriptionsAtTheCdrGraph(h)).toBe(0), { timeout: 10_000 });
  });

  it.each([
    ['SSE', sseClient],
    ['graphql-ws', wsClient],
  ] as const)(
    'answers a %s subscriber whose token CarrierX rejects with UNAUTHENTICATED from the CDR graph, then ends',
    async (_transport, makeClient) => {
      const client = makeClient(federation.url, 'not-a-carrierx-token');
      try {
        const events = client.iterate({ query: SUBSCRIPTION });
        const { value } = await events.next();
        expect(value?.errors).toEqual([
          expect.objectContaining({
            message: expect.stringMatching(/^CarrierX rejected the token/),
            extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', serviceName: 'cdr' }),
          }),
        ]);
        expect((await events.next()).done).toBe(true);
        // The gateway passed the client's token on, and CarrierX was asked with it (and refused it).
        expect(pollAuthorizations(h)).toEqual(['Bearer not-a-carrierx-token']);
      } finally {
        await client.dispose();
      }
    },
  );
});

describe('the live feed through the gateway to a graph running only its persisted documents', () => {
  const SECRET = 'a-gateway-secret-of-at-least-32-characters';
  // An example manifest, without the subscription: the gateway's documents run only because it signs them.
  const env = {
    PERSISTED_DOCUMENTS: 'examples/operations/gql/persisted-documents.json',
    PERSISTED_DOCUMENTS_ONLY: 'true',
    GATEWAY_HMAC_SECRET: SECRET,
  };
  let signed: Awaited<ReturnType<typeof startFederation>>;
  let unsigned: Awaited<ReturnType<typeof startFederation>>;
  beforeAll(async () => {
    signed = await startFederation(env, { hmacSecret: SECRET });
    unsigned = await startFederation(env);
  });
  afterAll(async () => {
    await signed.close();
    await unsigned.close();
  });

  it('runs the subscription the gateway signs with GATEWAY_HMAC_SECRET, and refuses it unsigned', async () => {
    await expectTheAddedRecordsOnce(signed.h, sseClient(signed.url, DEMO_TOKEN));
    const refused = await sseClient(unsigned.url, DEMO_TOKEN).iterate({ query: SUBSCRIPTION }).next();
    expect(
      refused.value?.errors?.map((error: { extensions?: { code?: string } }) => error.extensions?.code),
    ).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
  });
});

// `npm run gateway`: the pinned Hive Gateway CLI, run in examples/federation so it reads gateway.config.ts there.
// It serves graphql-ws itself; the token a client puts in connection_init reaches the CDR graph only through
// that file's propagateHeaders. Slow to start on a busy machine.
describe('the live feed through the Hive Gateway CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-subscription-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("sends a record added at CarrierX to a graphql-ws subscriber of the CLI, with the example's gateway.config.ts", async () => {
    const supergraph = join(dir, 'supergraph.graphql');
    await writeFile(
      supergraph,
      composeSupergraph({ cdr: federation.cdrUrl, partners: federation.partnersUrl }),
    );
    const port = await freePort();
    let cli: HiveGatewayCli | undefined;
    const client = wsClient(`http://127.0.0.1:${port}/graphql`, DEMO_TOKEN);
    try {
      cli = await startHiveGatewayCli(supergraph, port);
      expect(cli.output).toMatch(/Found default config file .*examples\/federation\/gateway\.config\.ts/);
      await expectTheAddedRecordsOnce(h, client);
    } finally {
      await client.dispose();
      cli?.kill();
    }
  }, 120_000);
});
