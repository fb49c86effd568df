import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { composeSupergraph, SUBGRAPHS } from '../examples/federation/compose.ts';
import { createGateway } from '../examples/federation/gateway.ts';
import { createPartnersSubgraph, partnersTypeDefs } from '../examples/federation/partners-subgraph.ts';
import { DESCENDANT_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { graphql } from './gql/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const SAMPLE_PARTNER_SID = 'ed437757-002d-4ecc-aa5a-efdf5e50dba0';

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

// The gateway, the partners graph and the composition are the shipped examples (examples/federation/), so the
// documentation's code is the code these tests run.
describe('through a federation gateway', () => {
  let servers: Server[] = [];
  let gateway: ReturnType<typeof createGateway> | undefined;
  afterAll(async () => {
    await Promise.all(servers.map(stop));
    await gateway?.dispose();
  });

  it('answers price and the partner name from two graphs with one field-filtered CDR call', async () => {
    const cdr = await listen(h.app);
    const partners = await listen(createPartnersSubgraph());
    servers = [cdr.server, partners.server];
    gateway = createGateway(composeSupergraph({ cdr: cdr.url, partners: partners.url }));
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

describe('the federation examples', () => {
  it('compose.ts run as a script writes the supergraph with the routing URLs it is given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supergraph-'));
    try {
      const out = join(dir, 'supergraph.graphql');
      await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'examples/federation/compose.ts', '--out', out],
        { env: { ...process.env, CDR_URL: 'http://cdr.example:4000/graphql' } },
      );
      const sdl = await readFile(out, 'utf8');
      expect(sdl).toContain('@join__graph(name: "cdr", url: "http://cdr.example:4000/graphql")');
      expect(sdl).toContain('@join__graph(name: "partners", url: "http://localhost:4001/graphql")');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('supergraph.yaml gives Rover the subgraphs, files and URLs compose.ts composes', async () => {
    const yaml = await readFile('examples/federation/supergraph.yaml', 'utf8');
    // Each subgraph: its name at two spaces, routing_url at four, file at six (paths relative to the yaml).
    const entries = [
      ...yaml.matchAll(/^ {2}(\w+):\n {4}routing_url: (\S+)\n {4}schema:\n {6}file: (\S+)$/gm),
    ].map(([, name, url, file]) => ({ name, url, file: join('examples/federation', file as string) }));
    expect(entries).toEqual(
      SUBGRAPHS.map(({ name, file, defaultUrl }) => ({ name, url: defaultUrl, file: join(file) })),
    );
    const version = (await import('@apollo/composition/package.json', { with: { type: 'json' } })).default
      .version;
    expect(yaml).toContain(`federation_version: =${version}`);
  });
});
