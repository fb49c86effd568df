import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DESCENDANT_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { graphql } from './gql/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const SAMPLE_PARTNER_SID = 'ed437757-002d-4ecc-aa5a-efdf5e50dba0';

/** A second graph, as another team would own it: Partner with a name, resolvable by its key. */
const partnersTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
  type Partner @key(fields: "partnerSid") {
    partnerSid: ID!
    name: String
  }
`);
const partnersSchema = buildSubgraphSchema({
  typeDefs: partnersTypeDefs,
  resolvers: {
    Partner: {
      __resolveReference: (ref: { partnerSid: string }) => ({
        partnerSid: ref.partnerSid,
        name: ref.partnerSid === SAMPLE_PARTNER_SID ? 'Acme Telecom' : null,
      }),
    },
  },
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.simulator.resetLog());

async function ourSubgraphSdl(): Promise<string> {
  const res = await h.execute(graphql(`query SubgraphSdl { _service { sdl } }`));
  return res.body.data?._service.sdl ?? '';
}

function compose(
  cdrSdl: string,
  cdrUrl = 'http://cdr.invalid/graphql',
  partnersUrl = 'http://partners.invalid/graphql',
) {
  return composeServices([
    { name: 'cdr', typeDefs: parse(cdrSdl), url: cdrUrl },
    { name: 'partners', typeDefs: partnersTypeDefs, url: partnersUrl },
  ]);
}

describe('subgraph SDL', () => {
  it('answers _service { sdl } with CallDetailRecord as an entity keyed by drSid and the key-only stubs', async () => {
    const sdl = await ourSubgraphSdl();
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])');
    expect(sdl).toMatch(/type CallDetailRecord\s+@key\(fields: "drSid"\)/);
    for (const [type, key] of [
      ['Partner', 'partnerSid'],
      ['Endpoint', 'endpointSid'],
      ['Trunk', 'trunkSid'],
      ['TrunkGroup', 'trunkGroupSid'],
    ]) {
      expect(sdl).toMatch(
        new RegExp(`type ${type}\\s+@key\\(fields: "${key}", resolvable: false\\)\\s*\\{[^}]*${key}: ID!`),
      );
    }
  });

  it('composes with a partners subgraph with no errors and no hints', async () => {
    const result = compose(await ourSubgraphSdl());
    expect(result.errors ?? []).toEqual([]);
    expect((result.hints ?? []).map((hint) => `${hint.definition.code}: ${hint.message}`)).toEqual([]);
    expect(result.supergraphSdl).toContain('@join__type(graph: CDR, key: "drSid")');
  });
});

describe('_entities', () => {
  const EntitiesQuery = graphql(`
    query Entities($representations: [_Any!]!) {
      _entities(representations: $representations) {
        ... on CallDetailRecord {
          drSid
          cost: price
          ...EntityPartner
        }
      }
    }
  `);
  graphql(`
    fragment EntityPartner on CallDetailRecord {
      partner {
        partnerSid
      }
    }
  `);

  it('pushes the fields selected under ... on CallDetailRecord down as include_fields', async () => {
    const res = await h.execute(EntitiesQuery, {
      representations: [{ __typename: 'CallDetailRecord', drSid: SAMPLE_DR_SID }],
    });
    expect(res.body.data?._entities).toEqual([
      { drSid: SAMPLE_DR_SID, cost: '0.0025', partner: { partnerSid: SAMPLE_PARTNER_SID } },
    ]);
    expect(h.includeFieldsSeen()).toEqual([['dr_sid', 'partner_sid', 'price']]);
  });

  it('resolves 20 representations with one upstream call per distinct SID and an error per malformed one', async () => {
    const distinct = [...h.simulator.records.keys()].slice(0, 8);
    const representations: unknown[] = [];
    for (let i = 0; i < 18; i++) {
      const drSid = distinct[i % 8] as string;
      representations.push({
        __typename: 'CallDetailRecord',
        drSid: i >= 8 && i % 2 ? drSid.toUpperCase() : drSid,
      });
    }
    representations.splice(5, 0, { __typename: 'CallDetailRecord', drSid: '../../calls/call_drs' });
    representations.splice(13, 0, { __typename: 'CallDetailRecord', drSid: 42 });
    expect(representations).toHaveLength(20);

    // This token may read every record, descendant partners' included.
    const res = await h.execute(EntitiesQuery, { representations }, { token: DESCENDANT_TOKEN });
    const entities = res.body.data?._entities ?? [];
    expect(entities).toHaveLength(20);
    expect(entities.filter((e) => e === null)).toHaveLength(2);
    expect(entities[5]).toBeNull();
    expect(entities[13]).toBeNull();
    expect(entities.filter((e) => e !== null && 'drSid' in e && distinct.includes(e.drSid))).toHaveLength(18);
    expect((res.body.errors ?? []).map((e) => [e.path, e.extensions?.code])).toEqual([
      [['_entities', 5], 'BAD_USER_INPUT'],
      [['_entities', 13], 'BAD_USER_INPUT'],
    ]);
    expect(h.simulator.requests.map((r) => r.drSid).sort()).toEqual([...distinct].sort());
  });
});

describe('through a federation gateway', () => {
  let servers: Server[] = [];
  let gateway: ReturnType<typeof createGatewayRuntime> | undefined;
  afterAll(async () => {
    await Promise.all(servers.map(stop));
    await gateway?.dispose();
  });

  it('answers price and the partner name from two graphs with one field-filtered CDR call', async () => {
    const cdr = await listen(h.app);
    const partners = await listen(createYoga({ schema: partnersSchema, logging: false }));
    servers = [cdr.server, partners.server];
    const composed = compose(await ourSubgraphSdl(), cdr.url, partners.url);
    expect(composed.errors ?? []).toEqual([]);
    gateway = createGatewayRuntime({
      supergraph: composed.supergraphSdl as string,
      transports: { http: httpTransport },
      // The CDR graph authenticates with the caller's own CarrierX token, so the gateway must pass it on.
      propagateHeaders: {
        fromClientToSubgraphs: ({ request }) => ({
          authorization: request.headers.get('authorization') ?? '',
        }),
      },
      logging: false,
      landingPage: false,
      graphiql: false,
    });
    const gw = await listen(gateway);
    servers.push(gw.server);
    h.simulator.resetLog();

    const response = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer carrierx-demo-token' },
      body: JSON.stringify({
        query: `query($drSid: UUID!) { callDetailRecord(drSid: $drSid) { price partner { name } } }`,
        variables: { drSid: SAMPLE_DR_SID },
      }),
    });
    expect(await response.json()).toEqual({
      data: { callDetailRecord: { price: '0.0025', partner: { name: 'Acme Telecom' } } },
    });
    expect(h.simulator.requests).toHaveLength(1);
    expect(h.includeFieldsSeen()).toEqual([['dr_sid', 'partner_sid', 'price']]);
  });
});
