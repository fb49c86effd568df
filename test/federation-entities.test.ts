import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultParamsSerializer } from '@graphql-hive/gateway-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { composeSupergraph, SUBGRAPHS } from '../examples/federation/compose.ts';
import { gatewayConfig } from '../examples/federation/gateway.config.ts';
import { createGateway } from '../examples/federation/gateway.ts';
import { createPartnersSubgraph, PARTNERS } from '../examples/federation/partners-subgraph.ts';
import { CHILD_PARTNER_SID, DESCENDANT_TOKEN, PARENT_PARTNER_SID } from '../src/carrierx/simulator/index.ts';
import { ERRORS, NOT_IN_LIST } from '../src/errors.ts';
import { GATEWAY_SIGNATURE_EXTENSION, signedPayload, signParams } from '../src/graphql/gateway-signature.ts';
import { documentHash } from '../src/graphql/persisted-documents.ts';
import { freePort } from './helpers/free-port.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { type HiveGatewayCli, startHiveGatewayCli } from './helpers/hive-gateway-cli.ts';
import { listen, stop } from './helpers/listen.ts';

const listCalls = (h: Harness) => h.simulator.requests.filter((r) => r.path.endsWith('/calls/call_drs'));

/** The records of the simulator whose `field` is `sid`, newest call first (the default order). */
function recordsWith(h: Harness, field: string, sid: string): Readonly<Record<string, unknown>>[] {
  return [...h.simulator.records.values()]
    .filter((r) => r[field] === sid)
    .sort((a, b) => String(b.date_start).localeCompare(String(a.date_start)));
}

/** A trunk group sid the simulator's records use on both legs. */
function trunkGroupOnBothLegs(h: Harness): string {
  const sources = new Set([...h.simulator.records.values()].map((r) => r.trunk_group_sid_src));
  const both = [...h.simulator.records.values()]
    .map((r) => r.trunk_group_sid_dst)
    .find((sid) => typeof sid === 'string' && sources.has(sid));
  if (typeof both !== 'string') throw new Error('the simulator has no trunk group on both legs');
  return both;
}

const ENTITY_CALLS = `
  query EntityCalls($representations: [_Any!]!, $filter: CallDetailRecordFilter, $after: String) {
    _entities(representations: $representations) {
      ... on Partner { callDetailRecords(first: 2, filter: $filter, after: $after) { ...Page } }
      ... on TrunkGroup {
        src: callDetailRecords(side: SRC, first: 2) { ...Page }
        dst: callDetailRecords(side: DST, first: 2) { ...Page }
      }
      ... on Endpoint { callDetailRecords(side: DST, first: 2) { ...Page } }
    }
  }
  fragment Page on CallDetailRecordConnection {
    nodes { drSid partner { partnerSid } trunkGroupSrc { trunkGroupSid } trunkGroupDst { trunkGroupSid } }
    pageInfo { endCursor }
  }
`;

type Page = {
  nodes: {
    drSid: string;
    partner: { partnerSid: string };
    trunkGroupSrc: { trunkGroupSid: string } | null;
    trunkGroupDst: { trunkGroupSid: string } | null;
  }[];
  pageInfo: { endCursor: string | null };
};
type EntityCallsData = {
  _entities: ({ callDetailRecords?: Page | null; src?: Page | null; dst?: Page | null } | null)[];
};

describe('callDetailRecords on the Partner, TrunkGroup and Endpoint entities', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.simulator.resetLog());

  it("lists a partner's calls with partner_sid eq its sid in CarrierX's filter, joined by and to the caller's", async () => {
    const res = await h.execute<EntityCallsData, unknown>(ENTITY_CALLS, {
      representations: [{ __typename: 'Partner', partnerSid: PARENT_PARTNER_SID }],
      filter: { direction: 'INBOUND' },
    });
    expect(res.body.errors).toBeUndefined();
    const expected = recordsWith(h, 'partner_sid', PARENT_PARTNER_SID).filter(
      (r) => r.direction === 'inbound',
    );
    expect(res.body.data?._entities[0]?.callDetailRecords?.nodes.map((n) => n.drSid)).toEqual(
      expected.slice(0, 2).map((r) => r.dr_sid),
    );
    expect(listCalls(h).map((r) => r.query.filter)).toEqual([
      `direction eq "inbound" and partner_sid eq "${PARENT_PARTNER_SID}"`,
    ]);
  });

  it('accepts a filter naming the same partner again, in any case, and refuses one naming another partner', async () => {
    const same = await h.execute<EntityCallsData, unknown>(ENTITY_CALLS, {
      representations: [{ __typename: 'Partner', partnerSid: PARENT_PARTNER_SID }],
      filter: { partnerSid: { eq: PARENT_PARTNER_SID.toUpperCase() } },
    });
    expect(same.body.errors).toBeUndefined();
    expect(same.body.data?._entities[0]?.callDetailRecords?.nodes).toHaveLength(2);

    h.simulator.resetLog();
    const other = await h.execute<EntityCallsData, unknown>(ENTITY_CALLS, {
      representations: [{ __typename: 'Partner', partnerSid: PARENT_PARTNER_SID }],
      filter: { partnerSid: { eq: CHILD_PARTNER_SID } },
    });
    expect(other.body.data?._entities).toEqual([{ callDetailRecords: null }]);
    expect(other.body.errors?.map((e) => [e.path, e.extensions?.code, e.message])).toEqual([
      [
        ['_entities', 0, 'callDetailRecords'],
        'BAD_USER_INPUT',
        "filter.partnerSid.eq contradicts the Partner's partnerSid, which this list already matches: drop it from the filter.",
      ],
    ]);
    expect(listCalls(h)).toEqual([]);
  });

  it("refuses one partner's cursor on another partner's list, and an unfiltered list's on either", async () => {
    const page = async (representation: Record<string, string>, after?: string | null) =>
      h.execute<EntityCallsData, unknown>(
        ENTITY_CALLS,
        { representations: [representation], after },
        { token: DESCENDANT_TOKEN },
      );
    const parent = { __typename: 'Partner', partnerSid: PARENT_PARTNER_SID };
    const child = { __typename: 'Partner', partnerSid: CHILD_PARTNER_SID };
    const parentCursor = (await page(parent)).body.data?._entities[0]?.callDetailRecords?.pageInfo.endCursor;
    const root = await h.execute<{ callDetailRecords: Page }, unknown>(
      '{ callDetailRecords(first: 1) { pageInfo { endCursor } } }',
    );
    h.simulator.resetLog();
    for (const cursor of [parentCursor, root.body.data?.callDetailRecords.pageInfo.endCursor]) {
      expect(cursor).toEqual(expect.any(String));
      const res = await page(child, cursor);
      expect(res.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        [
          'BAD_USER_INPUT',
          'after: $after is a cursor of a list with another filter or order; page it with that one.',
        ],
      ]);
    }
    expect(listCalls(h)).toEqual([]);
  });

  it('pages a partner list with its own cursors', async () => {
    const first = await h.execute<EntityCallsData, unknown>(ENTITY_CALLS, {
      representations: [{ __typename: 'Partner', partnerSid: PARENT_PARTNER_SID }],
    });
    const page1 = first.body.data?._entities[0]?.callDetailRecords;
    const second = await h.execute<EntityCallsData, unknown>(ENTITY_CALLS, {
      representations: [{ __typename: 'Partner', partnerSid: PARENT_PARTNER_SID }],
      after: page1?.pageInfo.endCursor,
    });
    expect(second.body.errors).toBeUndefined();
    const expected = recordsWith(h, 'partner_sid', PARENT_PARTNER_SID).map((r) => r.dr_sid);
    expect(
      [page1, second.body.data?._entities[0]?.callDetailRecords].flatMap((p) => p?.nodes.map((n) => n.drSid)),
    ).toEqual(expected.slice(0, 4));
  });

  it("lists a trunk group's calls on the leg `side` names, each with its own leg's filter", async () => {
    const sid = trunkGroupOnBothLegs(h);
    const res = await h.execute<EntityCallsData, unknown>(
      ENTITY_CALLS,
      { representations: [{ __typename: 'TrunkGroup', trunkGroupSid: sid }] },
      { token: DESCENDANT_TOKEN },
    );
    expect(res.body.errors).toBeUndefined();
    const [entity] = res.body.data?._entities ?? [];
    expect(entity?.src?.nodes.map((n) => n.drSid)).toEqual(
      recordsWith(h, 'trunk_group_sid_src', sid)
        .slice(0, 2)
        .map((r) => r.dr_sid),
    );
    expect(entity?.dst?.nodes.map((n) => n.drSid)).toEqual(
      recordsWith(h, 'trunk_group_sid_dst', sid)
        .slice(0, 2)
        .map((r) => r.dr_sid),
    );
    expect(entity?.src?.nodes.every((n) => n.trunkGroupSrc?.trunkGroupSid === sid)).toBe(true);
    expect(entity?.dst?.nodes.every((n) => n.trunkGroupDst?.trunkGroupSid === sid)).toBe(true);
    expect(listCalls(h).map((r) => r.query.filter)).toEqual([
      `trunk_group_sid_src eq "${sid}"`,
      `trunk_group_sid_dst eq "${sid}"`,
    ]);
  });

  it("lists an endpoint's calls on the destination leg with endpoint_sid_dst in CarrierX's filter", async () => {
    const sid = [...h.simulator.records.values()].find((r) => r.direction === 'inbound')
      ?.endpoint_sid_dst as string;
    const res = await h.execute<EntityCallsData, unknown>(
      ENTITY_CALLS,
      { representations: [{ __typename: 'Endpoint', endpointSid: sid }] },
      { token: DESCENDANT_TOKEN },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?._entities[0]?.callDetailRecords?.nodes.map((n) => n.drSid)).toEqual(
      recordsWith(h, 'endpoint_sid_dst', sid)
        .slice(0, 2)
        .map((r) => r.dr_sid),
    );
    expect(listCalls(h).map((r) => r.query.filter)).toEqual([`endpoint_sid_dst eq "${sid}"`]);
  });

  it("answers a partner's and a trunk group's statistics as the root statistic with their sid in the filter", async () => {
    const dates = [...h.simulator.records.values()].map((r) => String(r.date_start)).sort();
    const dateStart = { ge: dates[0], lt: new Date(Date.parse(dates.at(-1) as string) + 1).toISOString() };
    const trunkGroup = trunkGroupOnBothLegs(h);
    const stats = 'total { calls answered durationSeconds cost } groups { key { direction } calls cost }';
    const entities = await h.execute<{ _entities: Record<string, unknown>[] }, unknown>(
      `query EntityStats($representations: [_Any!]!, $filter: CallDetailRecordFilter!) {
        _entities(representations: $representations) {
          ... on Partner { callDetailRecordStats(filter: $filter, groupBy: [DIRECTION]) { ${stats} } }
          ... on TrunkGroup { callDetailRecordStats(side: DST, filter: $filter, groupBy: [DIRECTION]) { ${stats} } }
        }
      }`,
      {
        representations: [
          { __typename: 'Partner', partnerSid: PARENT_PARTNER_SID },
          { __typename: 'TrunkGroup', trunkGroupSid: trunkGroup },
        ],
        filter: { dateStart },
      },
    );
    expect(entities.body.errors).toBeUndefined();
    const root = await h.execute<Record<string, unknown>, unknown>(
      `query RootStats($partner: CallDetailRecordFilter!, $trunkGroup: CallDetailRecordFilter!) {
        partner: callDetailRecordStats(filter: $partner, groupBy: [DIRECTION]) { ${stats} }
        trunkGroup: callDetailRecordStats(filter: $trunkGroup, groupBy: [DIRECTION]) { ${stats} }
      }`,
      {
        partner: { dateStart, partnerSid: { eq: PARENT_PARTNER_SID } },
        trunkGroup: { dateStart, trunkGroupSidDst: { eq: trunkGroup } },
      },
    );
    expect(root.body.errors).toBeUndefined();
    const [partner, group] = entities.body.data?._entities ?? [];
    expect(partner?.callDetailRecordStats).toEqual(root.body.data?.partner);
    expect(group?.callDetailRecordStats).toEqual(root.body.data?.trunkGroup);
    // Not vacuous: each counts the records with that sid, and only those.
    const calls = (answer: unknown) => (answer as { total: { calls: number } }).total.calls;
    expect(calls(partner?.callDetailRecordStats)).toBe(
      recordsWith(h, 'partner_sid', PARENT_PARTNER_SID).length,
    );
    // The demo token sees its own partner's records only.
    expect(calls(group?.callDetailRecordStats)).toBe(
      recordsWith(h, 'trunk_group_sid_dst', trunkGroup).filter((r) => r.partner_sid === PARENT_PARTNER_SID)
        .length,
    );
    expect(calls(group?.callDetailRecordStats)).toBeLessThan(h.simulator.records.size);
  });

  it('refuses a trunk group list without side, as validation does for a missing required argument', async () => {
    const res = await h.execute(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on TrunkGroup { callDetailRecords { totalCount } } } }`,
      { r: [{ __typename: 'TrunkGroup', trunkGroupSid: PARENT_PARTNER_SID }] },
    );
    expect(res.body.errors?.[0]?.message).toMatch(
      /argument "side" of type "CallDetailRecordSide!" is required/,
    );
    expect(listCalls(h)).toEqual([]);
  });

  it('answers a Partner representation whose partnerSid is not a UUID with BAD_USER_INPUT on that item alone', async () => {
    const res = await h.execute<EntityCallsData, unknown>(ENTITY_CALLS, {
      representations: [
        { __typename: 'Partner', partnerSid: '" or partner_sid like "%' },
        { __typename: 'Partner', partnerSid: PARENT_PARTNER_SID },
      ],
    });
    expect(res.body.data?._entities[0]).toBeNull();
    expect(res.body.data?._entities[1]?.callDetailRecords?.nodes).toHaveLength(2);
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code, e.message])).toEqual([
      [['_entities', 0], 'BAD_USER_INPUT', 'A Partner representation needs a UUID partnerSid.'],
    ]);
    expect(listCalls(h).map((r) => r.query.filter)).toEqual([`partner_sid eq "${PARENT_PARTNER_SID}"`]);
  });
});

const FIVE_PARTNERS = `{
  partners {
    name
    callDetailRecords(first: 1) { nodes { drSid partner { partnerSid } } }
  }
}`;

/** Runs `query` through the gateway with the descendant token (it may read both simulator partners' calls). */
async function throughGateway(url: string, query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DESCENDANT_TOKEN}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: {
      partners: {
        name: string;
        callDetailRecords: { nodes: { drSid: string; partner: { partnerSid: string } }[] } | null;
      }[];
    };
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

/** This graph, the example partners graph and the example gateway over them, listening on loopback ports. */
async function startFederation(h: Harness, options: { hmacSecret?: string } = {}) {
  const cdr = await listen(h.app);
  const partners = await listen(createPartnersSubgraph());
  const gateway = createGateway(composeSupergraph({ cdr: cdr.url, partners: partners.url }), options);
  const gw = await listen(gateway);
  return {
    url: gw.url,
    cdrUrl: cdr.url,
    partnersUrl: partners.url,
    async close() {
      await Promise.all([cdr.server, partners.server, gw.server].map(stop));
      await gateway.dispose();
    },
  };
}

describe('through the example gateway, with the example partners graph', () => {
  let h: Harness;
  let federation: Awaited<ReturnType<typeof startFederation>>;
  beforeAll(async () => {
    h = await createHarness();
    federation = await startFederation(h);
  });
  afterAll(async () => {
    await federation.close();
    await h.close();
  });

  it("answers 5 partners' last calls with exactly 5 CarrierX list calls, one per partner's sid", async () => {
    h.simulator.resetLog();
    const body = await throughGateway(federation.url, FIVE_PARTNERS);
    expect(body.errors).toBeUndefined();
    expect(body.data?.partners.map((p) => p.name)).toEqual(PARTNERS.map((p) => p.name));
    const latest = (sid: string) => recordsWith(h, 'partner_sid', sid)[0]?.dr_sid;
    expect(body.data?.partners.map((p) => p.callDetailRecords?.nodes.map((n) => n.drSid))).toEqual(
      PARTNERS.map((p) => (latest(p.partnerSid) ? [latest(p.partnerSid)] : [])),
    );
    // Two of the example's partners have calls in the simulator; the other three have none, and cost a call each.
    expect(body.data?.partners.filter((p) => p.callDetailRecords?.nodes.length)).toHaveLength(2);
    expect(h.simulator.requests).toHaveLength(5);
    expect(
      listCalls(h)
        .map((r) => r.query.filter)
        .sort(),
    ).toEqual(PARTNERS.map((p) => `partner_sid eq "${p.partnerSid}"`).sort());
  });
});

describe('PERSISTED_DOCUMENTS_ONLY with GATEWAY_HMAC_SECRET', () => {
  const SECRET = 'a-gateway-secret-of-at-least-32-characters';
  const KNOWN = 'query Known { __typename }';
  let dir: string;
  let h: Harness;
  let signed: Awaited<ReturnType<typeof startFederation>>;
  let unsigned: Awaited<ReturnType<typeof startFederation>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-allowlist-'));
    const manifest = join(dir, 'persisted-documents.json');
    await writeFile(manifest, JSON.stringify({ [`sha256:${documentHash(KNOWN)}`]: KNOWN }));
    h = await createHarness({
      PERSISTED_DOCUMENTS: manifest,
      PERSISTED_DOCUMENTS_ONLY: 'true',
      GATEWAY_HMAC_SECRET: SECRET,
    });
    signed = await startFederation(h, { hmacSecret: SECRET });
    unsigned = await startFederation(h);
  });
  afterAll(async () => {
    await signed.close();
    await unsigned.close();
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => h.simulator.resetLog());

  /** POSTs straight to this graph, as a browser or a script would, with the descendant token. */
  async function direct(params: Record<string, unknown>) {
    const response = await fetch(signed.cdrUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DESCENDANT_TOKEN}` },
      body: JSON.stringify(params),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: { code?: string } }[];
      },
    };
  }

  it("runs the gateway's own planned queries when it signs them", async () => {
    const body = await throughGateway(signed.url, FIVE_PARTNERS);
    expect(body.errors).toBeUndefined();
    expect(body.data?.partners).toHaveLength(5);
    expect(listCalls(h)).toHaveLength(5);
  });

  it('refuses a direct, unsigned document that is not in the manifests with the advice for a frontend build', async () => {
    const res = await direct({ query: '{ callDetailRecords(first: 1) { totalCount } }' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { message: ERRORS.PERSISTED_QUERY_NOT_IN_LIST, extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } },
    ]);
    // The allowlist still runs its own documents for anyone.
    expect((await direct({ query: KNOWN })).body).toEqual({ data: { __typename: 'Query' } });
    expect(h.simulator.requests).toEqual([]);
  });

  it("refuses an unsigned gateway's queries with advice for the gateway's configuration", async () => {
    const body = await throughGateway(unsigned.url, FIVE_PARTNERS);
    // The partners graph answers; this graph refuses the gateway's _entities query, naming what to set.
    expect(body.data?.partners.map((p) => p.callDetailRecords)).toEqual(Array(5).fill(null));
    expect(body.errors?.map((e) => e.message)).toContain(NOT_IN_LIST.GATEWAY_UNSIGNED);
    expect(h.simulator.requests).toEqual([]);
  });

  it('refuses a forged signature with GATEWAY_SIGNATURE_INVALID, without running the document', async () => {
    const query = '{ callDetailRecords(first: 1) { totalCount } }';
    for (const signature of [
      signParams({ query }, 'another-secret-of-at-least-32-characters!'),
      // Signed for another query: the signature covers the query text and the variables.
      signParams({ query: KNOWN }, SECRET),
      'not base64 at all',
      42,
    ]) {
      const res = await direct({ query, extensions: { [GATEWAY_SIGNATURE_EXTENSION]: signature } });
      expect(res.status).toBe(403);
      expect(res.body.errors).toEqual([
        { message: ERRORS.GATEWAY_SIGNATURE_INVALID, extensions: { code: 'GATEWAY_SIGNATURE_INVALID' } },
      ]);
    }
    expect(h.simulator.requests).toEqual([]);
  });

  // The CLI route of the docs (`npm run gateway`): the pinned Hive Gateway CLI, run in examples/federation so it
  // reads gateway.config.ts there. Passing Authorization on and signing with GATEWAY_HMAC_SECRET are that file's
  // doing, so an answer from this allowlisted graph shows the CLI loaded it. Slow to start on a busy machine.
  it("serves the supergraph through the Hive Gateway CLI with the example's gateway.config.ts", async () => {
    const supergraph = join(dir, 'supergraph.graphql');
    await writeFile(supergraph, composeSupergraph({ cdr: signed.cdrUrl, partners: signed.partnersUrl }));
    const port = await freePort();
    let cli: HiveGatewayCli | undefined;
    try {
      cli = await startHiveGatewayCli(supergraph, port, { GATEWAY_HMAC_SECRET: SECRET });
      expect(cli.output).toMatch(/Found default config file .*examples\/federation\/gateway\.config\.ts/);
      const body = await throughGateway(`http://127.0.0.1:${port}/graphql`, FIVE_PARTNERS);
      expect(body.errors).toBeUndefined();
      expect(body.data?.partners.map((p) => p.name)).toEqual(PARTNERS.map((p) => p.name));
      expect(listCalls(h)).toHaveLength(5);
    } finally {
      cli?.kill();
    }
  }, 120_000);

  it('runs a direct request signed with the secret as the gateway signs, variables included', async () => {
    const query = 'query($n: Int) { callDetailRecords(first: $n) { nodes { drSid } } }';
    const variables = { n: 1 };
    const res = await direct({
      query,
      variables,
      extensions: { [GATEWAY_SIGNATURE_EXTENSION]: signParams({ query, variables }, SECRET) },
    });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const tampered = await direct({
      query,
      variables: { n: 2 },
      extensions: { [GATEWAY_SIGNATURE_EXTENSION]: signParams({ query, variables }, SECRET) },
    });
    expect(tampered.status).toBe(403);
  });
});

describe('the gateway signature', () => {
  it("signs exactly the payload Hive Gateway's own subgraph check reads, whatever the key order or text", () => {
    for (const params of [
      { query: '{ __typename }' },
      { query: '{ __typename }', variables: {} },
      { query: '{ __typename }', variables: null },
      {
        query: 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
        variables: {
          r: [{ partnerSid: 'b', __typename: 'Partner', nested: { z: 1, a: [true, null, 1.5, 'é\u2028"'] } }],
        },
      },
    ]) {
      expect(signedPayload(params)).toBe(defaultParamsSerializer(params as never));
    }
  });
});

describe("the example's Apollo Router configuration", () => {
  // The router binary is not run here (it cannot be downloaded offline): this checks the file's shape against
  // the router's documented header rules, and that it forwards what the Hive Gateway example forwards.
  it('router.yaml forwards the headers gateway.config.ts forwards, to every subgraph', async () => {
    const config = parseYaml(await readFile('examples/federation/router.yaml', 'utf8')) as {
      supergraph: { listen: string; path: string };
      headers: { all: { request: { propagate: { named: string } }[] } };
      include_subgraph_errors: { all: boolean };
    };
    expect(Object.keys(config).sort()).toEqual([
      'headers',
      'include_subgraph_errors',
      'rhai',
      'subscription',
      'supergraph',
    ]);
    expect(config.supergraph).toEqual({ listen: '127.0.0.1:4002', path: '/graphql' });
    expect(config.include_subgraph_errors).toEqual({ all: true });
    expect(Object.keys(config.headers)).toEqual(['all']);
    const rules = config.headers.all.request;
    expect(rules.every((rule) => Object.keys(rule).join() === 'propagate')).toBe(true);
    expect(rules.every((rule) => Object.keys(rule.propagate).join() === 'named')).toBe(true);

    const request = new Request('http://gateway.invalid/graphql', {
      headers: {
        authorization: 'Bearer t',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'x-request-id': 'r-1',
        cookie: 'not forwarded',
      },
    });
    const forwarded = gatewayConfig.propagateHeaders.fromClientToSubgraphs({ request } as never);
    expect(rules.map((rule) => rule.propagate.named).sort()).toEqual(Object.keys(forwarded).sort());
    expect(Object.keys(forwarded).sort()).toEqual(['authorization', 'traceparent', 'x-request-id']);
  });

  it("router.yaml subscribes to the CDR graph over graphql-ws at its endpoint, the caller's token in connection_init as Authorization", async () => {
    const config = parseYaml(await readFile('examples/federation/router.yaml', 'utf8')) as {
      subscription: unknown;
      rhai: { scripts: string; main: string };
    };
    const cdr = SUBGRAPHS.find(({ name }) => name === 'cdr');
    // Passthrough: a WebSocket to the subgraph per subscription, with graphql-ws's protocol, where it serves it.
    expect(config.subscription).toEqual({
      enabled: true,
      mode: {
        passthrough: { all: { path: new URL(cdr?.defaultUrl ?? '').pathname, protocol: 'graphql_ws' } },
      },
    });
    // The router would send the token as {"token": ...}; the script, run from the repository root, renames it.
    expect(config.rhai).toEqual({ scripts: 'examples/federation', main: 'subscription-auth.rhai' });
    const script = await readFile(join(config.rhai.scripts, config.rhai.main), 'utf8');
    expect(script).toMatch(/^fn subgraph_service\(service, subgraph\) \{$/m);
    expect(script).toContain('let params = Router.APOLLO_SUBSCRIPTION_WS_CUSTOM_CONNECTION_PARAMS;');
    expect(script).toContain('request.context[params] = #{ Authorization: headers["authorization"] };');
  });
});
