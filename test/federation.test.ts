import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import {
  buildSchema,
  type GraphQLInputObjectType,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  parse,
} from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  composeSubgraphs,
  composeSupergraph,
  exampleSubgraphs,
  SUBGRAPHS,
} from '../examples/federation/compose.ts';
import { createGateway } from '../examples/federation/gateway.ts';
import { createPartnersSubgraph, partnersTypeDefs } from '../examples/federation/partners-subgraph.ts';
import { DESCENDANT_TOKEN, SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { globalIdOf } from '../src/graphql/schema/global-id.ts';
import { graphql } from './gql/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { listen, stop } from './helpers/listen.ts';

const SAMPLE_PARTNER_SID = 'ed437757-002d-4ecc-aa5a-efdf5e50dba0';

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
  it('answers _service { sdl } with CallDetailRecord, Partner, Endpoint and TrunkGroup as entities and Trunk key-only', async () => {
    const sdl = await ourSubgraphSdl();
    expect(sdl).toContain(
      '@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@cost", "@listSize"])',
    );
    // Relay's PageInfo is defined by many graphs: shareable, it composes beside theirs.
    expect(sdl).toMatch(/type PageInfo\s+@shareable/);
    expect(sdl).toMatch(/type CallDetailRecord implements Node\s+@key\(fields: "drSid"\)/);
    // Resolvable by key: this graph adds their callDetailRecords.
    for (const [type, key] of [
      ['Partner', 'partnerSid'],
      ['Endpoint', 'endpointSid'],
      ['TrunkGroup', 'trunkGroupSid'],
    ]) {
      expect(sdl).toMatch(
        // Resolvable by key (this graph adds their callDetailRecords), then @cost(weight: 0): a key costs no call.
        new RegExp(`type ${type}\\s+@key\\(fields: "${key}"\\)[^{]*\\{[^}]*callDetailRecords\\(`),
      );
    }
    expect(sdl).toMatch(
      /type Trunk\s+@key\(fields: "trunkSid", resolvable: false\)[^{]*\{[^}]*trunkSid: ID!/,
    );
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

  it('keeps all 20 items when the last two representations fail, each error at its own index', async () => {
    // Gateways join _entities answers to their representations by index: a shorter list misplaces records.
    const representations = Array.from({ length: 20 }, (_, i) => ({
      __typename: 'CallDetailRecord',
      drSid: i >= 18 ? 'not-a-uuid' : SAMPLE_DR_SID,
    }));
    const res = await h.execute(EntitiesQuery, { representations });
    const entities = res.body.data?._entities ?? [];
    expect(entities).toHaveLength(20);
    expect(entities.slice(0, 18).every((e) => e !== null && 'drSid' in e && e.drSid === SAMPLE_DR_SID)).toBe(
      true,
    );
    expect(entities.slice(18)).toEqual([null, null]);
    expect((res.body.errors ?? []).map((e) => [e.path, e.extensions?.code])).toEqual([
      [['_entities', 18], 'BAD_USER_INPUT'],
      [['_entities', 19], 'BAD_USER_INPUT'],
    ]);
  });

  it.each<[string, unknown]>([
    ['a type this graph does not have', 'Nope'],
    ['a number', 5],
    ['a nested array naming the entity', [['CallDetailRecord']]],
    ['__proto__', '__proto__'],
    ['a 200 KB string', 'X'.repeat(200 * 1024)],
  ])(
    'answers a representation whose __typename is %s with BAD_USER_INPUT on that item alone, logging no error',
    async (_name, typename) => {
      const logged = h.logs.length;
      const res = await h.execute(EntitiesQuery, {
        representations: [
          { __typename: 'CallDetailRecord', drSid: SAMPLE_DR_SID },
          { __typename: typename, drSid: SAMPLE_DR_SID },
          JSON.parse(
            `{"__typename": "CallDetailRecord", "drSid": "${SAMPLE_DR_SID}", "__proto__": {"x": 1}}`,
          ),
        ],
      });
      expect(res.status).toBe(200);
      const entities = res.body.data?._entities ?? [];
      expect(entities).toHaveLength(3);
      expect(entities[1]).toBeNull();
      expect(entities[0]).toMatchObject({ drSid: SAMPLE_DR_SID });
      expect(entities[2]).toMatchObject({ drSid: SAMPLE_DR_SID });
      expect((res.body.errors ?? []).map((e) => [e.path, e.extensions?.code])).toEqual([
        [['_entities', 1], 'BAD_USER_INPUT'],
      ]);
      expect(res.text.length).toBeLessThan(2_000);
      const newLines = h.logs.slice(logged);
      expect(newLines.filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
      expect(newLines.join('').length).toBeLessThan(10_000);
    },
  );
});

// The gateway, the partners graph and the composition are the shipped examples (examples/federation/), so the
// documentation's code is the code these tests run.
describe('through a federation gateway', () => {
  const servers: Server[] = [];
  const gateways: ReturnType<typeof createGateway>[] = [];
  afterAll(async () => {
    await Promise.all(servers.map(stop));
    await Promise.all(gateways.map((gateway) => gateway.dispose()));
  });

  /** This graph and the partners graph behind the example gateway; the gateway's URL. */
  async function startGateway(): Promise<string> {
    const cdr = await listen(h.app);
    const partners = await listen(createPartnersSubgraph());
    const gateway = createGateway(composeSupergraph({ cdr: cdr.url, partners: partners.url }));
    gateways.push(gateway);
    const gw = await listen(gateway);
    servers.push(cdr.server, partners.server, gw.server);
    h.simulator.resetLog();
    return gw.url;
  }

  it('answers price and the partner name from two graphs with one field-filtered CDR call', async () => {
    const url = await startGateway();
    const response = await fetch(url, {
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

  it('answers node(id:) with the partner name joined from the partners graph', async () => {
    const url = await startGateway();
    const id = globalIdOf(SAMPLE_DR_SID);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer carrierx-demo-token' },
      body: JSON.stringify({
        query: `query($id: ID!) { node(id: $id) { id ... on CallDetailRecord { price partner { name } } } }`,
        variables: { id },
      }),
    });
    expect(await response.json()).toEqual({
      data: { node: { id, price: '0.0025', partner: { name: 'Acme Telecom' } } },
    });
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

const RELAY_PAGE_INFO =
  'hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String';

/**
 * Another team's orders graph, with the generic names a supergraph meets: its own StringFilter (sharing only `eq`
 * with ours, as the did) and Relay's PageInfo. A Federation 1 graph (no @link) writes no @shareable.
 */
function ordersSdl({
  federation,
  shareable = federation === 2,
  pageInfo = RELAY_PAGE_INFO,
}: {
  federation: 1 | 2;
  shareable?: boolean;
  pageInfo?: string;
}): string {
  const link =
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable"])';
  return `
    ${federation === 2 ? link : ''}
    input StringFilter { eq: String in: [String!] contains: String }
    type PageInfo ${shareable ? '@shareable' : ''} { ${pageInfo} }
    type Order @key(fields: "orderId") { orderId: ID! number: String }
    type OrderConnection { nodes: [Order!]! pageInfo: PageInfo! }
    type Query { orders(number: StringFilter): OrderConnection! }
  `;
}

/** The names of a type's fields in a composed supergraph. */
function fieldsOf(supergraphSdl: string, type: string): string[] {
  const named = buildSchema(supergraphSdl).getType(type) as
    | GraphQLObjectType
    | GraphQLInputObjectType
    | undefined;
  return Object.keys(named?.getFields() ?? {}).sort();
}

describe('composing beside a graph with its own StringFilter and PageInfo', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'compose-names-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function ordersFile(name: string, sdl: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, sdl);
    return file;
  }

  it.each([
    ['Federation 2 graph that marks its PageInfo @shareable', 2],
    ['Federation 1 graph with a plain PageInfo', 1],
  ] as const)('composes with a %s, losing no field of either graph', async (_name, federation) => {
    const file = await ordersFile(`orders-${federation}.graphql`, ordersSdl({ federation }));
    const { supergraphSdl, hints } = composeSubgraphs(
      exampleSubgraphs({}, [{ name: 'orders', file, url: 'http://orders.invalid/graphql' }]),
    );
    // Their StringFilter is theirs alone; ours has a name of its own, so neither is cut to the fields both have.
    expect(fieldsOf(supergraphSdl, 'StringFilter')).toEqual(['contains', 'eq', 'in']);
    expect(fieldsOf(supergraphSdl, 'CallDetailRecordStringFilter')).toEqual(['eq', 'in', 'like']);
    expect(fieldsOf(supergraphSdl, 'CallDetailRecordNumberFilter')).toEqual(['eq', 'in', 'like', 'phone']);
    expect(fieldsOf(supergraphSdl, 'CallDetailRecordIdFilter')).toEqual(['eq', 'in']);
    expect(fieldsOf(supergraphSdl, 'CallDetailRecordDateTimeFilter')).toEqual(['ge', 'gt', 'le', 'lt']);
    expect(fieldsOf(supergraphSdl, 'PageInfo')).toEqual([
      'endCursor',
      'hasNextPage',
      'hasPreviousPage',
      'startCursor',
    ]);
    expect(supergraphSdl).toMatch(/orders\(number: StringFilter\): OrderConnection!/);
    expect(supergraphSdl).toMatch(/filter: CallDetailRecordFilter/);
    expect(hints).toEqual([]);
  });

  it('fails composition, naming PageInfo, beside a Federation 2 graph whose PageInfo is not @shareable', async () => {
    // Federation 2 shares a type only when every graph defining it says so: loud, never a silent merge.
    const file = await ordersFile('orders-unshared.graphql', ordersSdl({ federation: 2, shareable: false }));
    expect(() =>
      composeSubgraphs(
        exampleSubgraphs({}, [{ name: 'orders', file, url: 'http://orders.invalid/graphql' }]),
      ),
    ).toThrow(/Non-shareable field "PageInfo.hasNextPage" is resolved from multiple subgraphs/);
  });

  it('composes beside a graph with its own Node interface, whose objects keep their ids and ours', async () => {
    const file = await ordersFile(
      'orders-node.graphql',
      ordersSdl({ federation: 2 })
        .replace('type Order @key', 'interface Node { id: ID! } type Order implements Node @key')
        .replace('orderId: ID!', 'orderId: ID! id: ID!'),
    );
    const { supergraphSdl, hints } = composeSubgraphs(
      exampleSubgraphs({}, [{ name: 'orders', file, url: 'http://orders.invalid/graphql' }]),
    );
    const composed = buildSchema(supergraphSdl);
    expect(
      composed
        .getPossibleTypes(composed.getType('Node') as GraphQLInterfaceType)
        .map((t) => t.name)
        .sort(),
    ).toEqual(['CallDetailRecord', 'Order']);
    // node(id:) stays this graph's alone: it resolves CallDetailRecord ids, never an Order's.
    expect(supergraphSdl).toMatch(/node\(\s+"""[^"]*"""\s+id: ID!\s+\): Node @join__field\(graph: CDR\)/);
    expect(hints).toEqual([]);
  });

  it('fails composition, naming Query.node, beside a graph that resolves node(id:) too', async () => {
    // Not @shareable on purpose: this graph can resolve only its own ids, so a planner free to send another
    // graph's ids here would answer them null. Two graphs with node(id:) need a gateway that owns it.
    const file = await ordersFile(
      'orders-node-field.graphql',
      ordersSdl({ federation: 2 })
        .replace('type Order @key', 'interface Node { id: ID! } type Order implements Node @key')
        .replace('orderId: ID!', 'orderId: ID! id: ID!')
        .replace('type Query {', 'type Query { node(id: ID!): Node'),
    );
    expect(() =>
      composeSubgraphs(
        exampleSubgraphs({}, [{ name: 'orders', file, url: 'http://orders.invalid/graphql' }]),
      ),
    ).toThrow(/Non-shareable field "Query.node" is resolved from multiple subgraphs/);
  });

  it('compose.ts run as a script prints composition hints, each with its code, beside the supergraph it writes', async () => {
    // Non-null cursors in their PageInfo compose with our nullable ones, and composition says so in a hint.
    const file = await ordersFile(
      'orders-hints.graphql',
      ordersSdl({
        federation: 2,
        pageInfo: 'hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String! endCursor: String!',
      }),
    );
    const out = join(dir, 'supergraph.graphql');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'examples/federation/compose.ts',
      '--out',
      out,
      '--subgraph',
      `orders=${file}=http://orders.example/graphql`,
    ]);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^hint INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE: Type of field "PageInfo.startCursor"/,
      ),
      expect.stringMatching(
        /^hint INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE: Type of field "PageInfo.endCursor"/,
      ),
    ]);
    expect(stdout).toBe(`wrote ${out} (2 composition hints above)\n`);
    expect(await readFile(out, 'utf8')).toContain(
      '@join__graph(name: "orders", url: "http://orders.example/graphql")',
    );
  }, 30_000);
});

describe('the gateway example run as a script', () => {
  /** How long a stopped gateway may take to exit: disposing of it is a few milliseconds' work. */
  const EXIT_WITHIN_MS = 10_000;

  // Composed once for both signals: each composition loads @apollo/composition through tsx, seconds of CPU.
  let dir: string;
  let supergraph: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-signal-'));
    supergraph = join(dir, 'supergraph.graphql');
    const compose = ['--import', 'tsx', 'examples/federation/compose.ts', '--out', supergraph];
    await promisify(execFile)(process.execPath, compose);
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'stops on %s, as Ctrl-C and a process manager stop it',
    async (signal) => {
      let child: ChildProcess | undefined;
      try {
        const gateway = spawn(
          process.execPath,
          ['--import', 'tsx', 'examples/federation/gateway.ts', supergraph],
          {
            env: { ...process.env, GATEWAY_PORT: '0' },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        child = gateway;
        let output = '';
        await new Promise<void>((resolve, reject) => {
          gateway.stdout?.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            if (/gateway on http:\/\/localhost:\d+\/graphql/.test(output)) resolve();
          });
          gateway.stderr?.on('data', (chunk: Buffer) => {
            output += chunk.toString();
          });
          gateway.once('exit', () => reject(new Error(`the gateway exited before listening: ${output}`)));
        });
        const exited = once(gateway, 'exit').then(([code]) => code as number | null);
        gateway.kill(signal);
        // The runtime's own signal handlers used to swallow the signal, and the process served on.
        const code = await Promise.race([exited, sleep(EXIT_WITHIN_MS).then(() => 'still running')]);
        expect(code).toBe(0);
      } finally {
        if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
    // Starting the gateway through tsx is most of it: seconds on a loaded machine.
    60_000,
  );
});

describe('through a federation gateway, with a graph that references call detail records', () => {
  /** A third graph that lists calls by reference only: the gateway fetches their fields from ours by index. */
  const callLogTypeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
    type CallDetailRecord @key(fields: "drSid", resolvable: false) {
      drSid: ID!
    }
    type Query {
      recentCalls: [CallDetailRecord]
    }
  `);
  // Three real records, then two SIDs this graph cannot hold: the last items of the _entities list fail.
  const RECENT = [SAMPLE_DR_SID, UNANSWERED_DR_SID, SAMPLE_DR_SID, 'not-a-uuid', 'also-not-a-uuid'];
  const callLogSchema = buildSubgraphSchema({
    typeDefs: callLogTypeDefs,
    resolvers: { Query: { recentCalls: () => RECENT.map((drSid) => ({ drSid })) } },
  });
  let servers: Server[] = [];
  let gateway: ReturnType<typeof createGatewayRuntime> | undefined;
  afterAll(async () => {
    await Promise.all(servers.map(stop));
    await gateway?.dispose();
  });

  it('keeps every record of an entity list whose last items fail, with errors for the failed items only', async () => {
    const cdr = await listen(h.app);
    const callLog = await listen(createYoga({ schema: callLogSchema, logging: false }));
    servers = [cdr.server, callLog.server];
    const composed = composeServices([
      { name: 'cdr', typeDefs: parse(await ourSubgraphSdl()), url: cdr.url },
      { name: 'calllog', typeDefs: callLogTypeDefs, url: callLog.url },
    ]);
    expect(composed.errors ?? []).toEqual([]);
    gateway = createGatewayRuntime({
      supergraph: composed.supergraphSdl as string,
      transports: { http: httpTransport },
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

    const response = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer carrierx-demo-token' },
      body: JSON.stringify({ query: '{ recentCalls { drSid price dateTalk } }' }),
    });
    const body = (await response.json()) as {
      data: { recentCalls: ({ drSid: string; price: string | null; dateTalk: string | null } | null)[] };
      errors?: { path?: (string | number)[]; extensions?: { code?: string } }[];
    };
    const calls = body.data.recentCalls;
    expect(calls).toHaveLength(5);
    expect(calls.slice(0, 3)).toEqual([
      { drSid: SAMPLE_DR_SID, price: '0.0025', dateTalk: expect.any(String) },
      { drSid: UNANSWERED_DR_SID, price: expect.any(String), dateTalk: null },
      { drSid: SAMPLE_DR_SID, price: '0.0025', dateTalk: expect.any(String) },
    ]);
    // The failed items carry nothing from our graph. This gateway reports entity errors at the list's path
    // without the item's index, so what it can show is one error per field of each of the two failed items.
    expect(calls.slice(3)).toEqual([
      { drSid: 'not-a-uuid', price: null, dateTalk: null },
      { drSid: 'also-not-a-uuid', price: null, dateTalk: null },
    ]);
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(Array(4).fill('BAD_USER_INPUT'));
  });
});
