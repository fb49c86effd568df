import { composeServices } from '@apollo/composition';
import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { partnersTypeDefs } from '../examples/federation/partners-subgraph.ts';
import { DESCENDANT_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { createCostEstimator } from '../src/graphql/execution/cost.ts';
import { schema } from '../src/graphql/schema/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

type Body = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
};

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.simulator.resetLog());

/** Runs an operation as a client that asks for `extensions.cost`. */
async function withCost(harness: Harness, query: string, variables?: Record<string, unknown>): Promise<Body> {
  const response = await harness.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${DESCENDANT_TOKEN}`,
    },
    body: JSON.stringify({ query, variables, extensions: { cost: true } }),
  });
  return (await response.json()) as Body;
}

async function run(query: string, variables?: Record<string, unknown>): Promise<Body> {
  return (await h.execute(query, variables, { token: DESCENDANT_TOKEN })).body as Body;
}

// A schema written as IBM's spec and Apollo's docs show the directives, to check the analysis itself.
const library = buildSchema(`
  directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
  directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
  type Query {
    authors(first: Int, last: Int): [Author!]! @listSize(slicingArguments: ["first", "last"], requireOneSlicingArgument: false, assumedSize: 5)
    shelf(first: Int = 10): Shelf @listSize(slicingArguments: ["first"], sizedFields: ["books"])
    search(text: String @cost(weight: 7)): Book
    book(id: ID!): Book
  }
  type Shelf @cost(weight: 0) { books: [Book!]! }
  type Author { name: String books(first: Int!): [Book!]! @listSize(slicingArguments: ["first"]) }
  type Book @cost(weight: 3) { title: String }
`);

describe('the cost estimate (IBM cost directive spec)', () => {
  const estimator = createCostEstimator(library);
  const cost = (query: string, variables?: Record<string, unknown>) =>
    estimator.estimate(parse(query), undefined, variables)?.cost;

  it('multiplies nested lists: each author costs 1 plus its books, times the authors', () => {
    // 4 authors x (1 + 2 books x 3) = 28
    expect(cost('{ authors(first: 4) { name books(first: 2) { title } } }')).toBe(28);
    // Without a slicing argument the assumed size holds: 5 x (1 + 2 x 3) = 35
    expect(cost('{ authors { books(first: 2) { title } } }')).toBe(35);
    // Of two slicing arguments, the larger: 9 authors.
    expect(cost('{ authors(first: 3, last: 9) { name } }')).toBe(9);
  });

  it('sizes the fields a @listSize names by its slicing argument, with a variable default applied', () => {
    // shelf: 1 (an object without @cost... Shelf weighs 0) + 10 books x 3
    expect(cost('{ shelf { books { title } } }')).toBe(30);
    expect(cost('query ($n: Int = 4) { shelf(first: $n) { books { title } } }')).toBe(12);
    expect(cost('query ($n: Int = 4) { shelf(first: $n) { books { title } } }', { n: 6 })).toBe(18);
  });

  it('counts fragments each time they are spread, and leaves out what @skip and @include leave out', () => {
    const fragments = `
      query ($withBooks: Boolean!) {
        a: authors(first: 2) { ...Named }
        b: authors(first: 2) { ... on Author { books(first: 1) @include(if: $withBooks) { title } } }
      }
      fragment Named on Author { name books(first: 1) { ...Titled } }
      fragment Titled on Book { title }`;
    // a: 2 x (1 + 3) = 8; b: 2 x (1 + 3) = 8, or 2 x 1 = 2 without books.
    expect(cost(fragments, { withBooks: true })).toBe(16);
    expect(cost(fragments, { withBooks: false })).toBe(10);
    // Kept per values of the variables it read: the first answer is not served for the second.
    expect(cost(fragments, { withBooks: true })).toBe(16);
  });

  it('analyses a document once when its cost depends on none of its variables, and again for a page size', () => {
    const byId = parse('query ($id: ID!, $n: Int) { book(id: $id) { title } a: authors(first: 1) { name } }');
    const first = estimator.estimate(byId, undefined, { id: 'a' });
    expect(estimator.estimate(byId, undefined, { id: 'b' })).toBe(first);
    const paged = parse('query ($id: ID!, $n: Int) { book(id: $id) { title } authors(first: $n) { name } }');
    expect(estimator.estimate(paged, undefined, { id: 'a', n: 2 })?.cost).toBe(5);
    expect(estimator.estimate(paged, undefined, { id: 'a', n: 7 })?.cost).toBe(10);
    expect(estimator.estimate(paged, undefined, { id: 'b', n: 2 })?.cost).toBe(5);
  });

  it('adds the weight of an argument given, and nothing for one left out', () => {
    expect(cost('{ search(text: "x") { title } }')).toBe(10);
    expect(cost('{ search { title } }')).toBe(3);
  });
});

describe('MAX_OPERATION_COST', () => {
  it('refuses first: 1000 written as a literal and as a variable alike, before calling CarrierX', async () => {
    const literal = await run('{ callDetailRecords(first: 1000) { nodes { drSid } } }');
    const variable = await run('query Page($n: Int) { callDetailRecords(first: $n) { nodes { drSid } } }', {
      n: 1000,
    });
    for (const body of [literal, variable]) {
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]?.extensions).toEqual({
        code: 'COST_ESTIMATED_TOO_EXPENSIVE',
        estimated: 1001,
        limit: 250,
      });
    }
    expect(h.simulator.requests).toHaveLength(0);
  });

  it('lets the same page through as a literal and as a variable when it fits', async () => {
    const literal = await run('{ callDetailRecords(first: 100) { nodes { drSid } } }');
    const variable = await run('query Page($n: Int) { callDetailRecords(first: $n) { nodes { drSid } } }', {
      n: 100,
    });
    expect(literal.errors).toBeUndefined();
    expect(variable.errors).toBeUndefined();
  });

  it("estimates a statistic at a full scan's calls, 100, whatever groups it returns: two fit, a third is refused", async () => {
    const range = { dateStart: { ge: '2000-01-01T00:00:00Z', lt: '2100-01-01T00:00:00Z' } };
    const stat = (alias: string) =>
      `${alias}: callDetailRecordStats(filter: $f, groupBy: [SIPCAUSE], limit: 1000) { total { calls } groups { key { sipcause } calls } }`;
    const two = await withCost(h, `query Two($f: CallDetailRecordFilter!) { ${stat('a')} ${stat('b')} }`, {
      f: range,
    });
    expect(two.errors).toBeUndefined();
    expect(two.extensions?.cost).toMatchObject({ estimated: 200 });
    h.simulator.resetLog();
    const three = await run(
      `query Three($f: CallDetailRecordFilter!) { ${stat('a')} ${stat('b')} ${stat('c')} }`,
      {
        f: range,
      },
    );
    expect(three.errors?.[0]?.extensions).toMatchObject({
      code: 'COST_ESTIMATED_TOO_EXPENSIVE',
      estimated: 300,
    });
    expect(h.simulator.requests).toHaveLength(0);
  });

  it('says which field costs what and what to change', async () => {
    const body = await run(
      `query Dashboard($n: Int = 200) {
        recent: callDetailRecords(first: $n) { edges { node { drSid } } nodes { drSid } }
        one: callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid }
      }`,
    );
    const error = body.errors?.[0];
    expect(error?.extensions).toMatchObject({ code: 'COST_ESTIMATED_TOO_EXPENSIVE', estimated: 403 });
    expect(error?.message).toContain('estimated to cost 403 CarrierX calls and records');
    expect(error?.message).toContain('at most 250 (MAX_OPERATION_COST)');
    expect(error?.message).toContain('recent: callDetailRecords(first: $n = 200) costs 401');
    expect(error?.message).toContain('one: callDetailRecord costs 2');
    expect(error?.message).toMatch(/smaller pages.*nodes or edges rather than both.*fewer aliases/);
  });

  it('holds a prepared operation to the estimate for each request’s variables', async () => {
    const query = 'query Prepared($n: Int) { callDetailRecords(first: $n) { nodes { drSid } } }';
    // Twice cleanly: the second run is served prepared, the third must still be estimated for its own n.
    expect((await run(query, { n: 5 })).errors).toBeUndefined();
    expect((await run(query, { n: 5 })).errors).toBeUndefined();
    h.simulator.resetLog();
    const refused = await run(query, { n: 900 });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'COST_ESTIMATED_TOO_EXPENSIVE',
      estimated: 901,
    });
    expect(h.simulator.requests).toHaveLength(0);
  });
});

describe('a subscription', () => {
  const estimator = createCostEstimator(schema);
  const cost = (query: string) => estimator.estimate(parse(query), undefined, undefined)?.cost;

  it('costs what one event costs: callDetailRecordAdded one record, plus what its selection would call for', () => {
    expect(cost('subscription { callDetailRecordAdded { drSid numberSrc } }')).toBe(1);
    // Every event would list a page of its endpoint's calls: a call and up to 5 records, each time.
    expect(
      cost(
        'subscription { callDetailRecordAdded { endpointSrc { callDetailRecords(side: SRC, first: 5) { nodes { drSid } } } } }',
      ),
    ).toBe(1 + 1 + 5);
  });
});

describe('extensions.cost', () => {
  it('reports the estimate and the CarrierX calls and records the operation made, when asked', async () => {
    const body = await withCost(
      h,
      `query Costs($n: Int) {
        callDetailRecords(first: $n) { nodes { drSid } }
        callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid }
      }`,
      { n: 30 },
    );
    expect(body.errors).toBeUndefined();
    const calls = h.simulator.requests.filter((r) => r.path.includes('/calls/call_drs'));
    // One page call and one record call; the page full (the simulator holds far more than 30 records).
    expect(calls).toHaveLength(2);
    expect((body.data?.callDetailRecords as { nodes: unknown[] } | undefined)?.nodes).toHaveLength(30);
    expect(body.extensions?.cost).toEqual({
      estimated: 1 + 30 + 2,
      actual: calls.length + 30 + 1,
      limit: 250,
    });
  });

  it('is left out unless the request asks for it', async () => {
    const body = await run(`{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid } }`);
    expect(body.extensions?.cost).toBeUndefined();
  });
});

describe('the subgraph SDL', () => {
  it('carries @cost and @listSize imported through Federation 2.9, and composes with them', async () => {
    const sdl =
      ((await run('{ _service { sdl } }')).data?._service as { sdl: string } | undefined)?.sdl ?? '';
    expect(sdl).toContain(
      '@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@cost", "@listSize"])',
    );
    expect(sdl).toMatch(
      /type CallDetailRecord implements Node\s+@key\(fields: "drSid"\)\s+@cost\(weight: 2\)/,
    );
    expect(sdl).toContain(
      '@cost(weight: 1) @listSize(assumedSize: 20, slicingArguments: ["first", "last"], sizedFields: ["edges", "nodes"], requireOneSlicingArgument: false)',
    );
    const { errors, supergraphSdl } = composeServices([
      { name: 'cdr', typeDefs: parse(sdl), url: 'http://cdr.invalid/graphql' },
      { name: 'partners', typeDefs: partnersTypeDefs, url: 'http://partners.invalid/graphql' },
    ]);
    expect(errors).toBeUndefined();
    // What a router's demand control reads: the cost spec, linked in the supergraph, with our weights.
    expect(supergraphSdl).toContain('https://specs.apollo.dev/cost/v0.1');
    expect(supergraphSdl).toMatch(/nodes: \[CallDetailRecord!\]! @cost\(weight: 1\)/);
  });
});

describe('an old configuration', () => {
  it('boots with MAX_RECORDS_PER_OPERATION read as the cost that many records can have, and a warning', () => {
    const config = loadConfig({ MAX_RECORDS_PER_OPERATION: '100' });
    expect(config.limits.operationCost).toBe(201);
    expect(config.warnings).toContainEqual(
      expect.objectContaining({
        variable: 'MAX_RECORDS_PER_OPERATION',
        message: expect.stringMatching(/deprecated: MAX_OPERATION_COST .* taken as 201/),
      }),
    );
  });

  it('boots in production with MAX_QUERY_COST set, which it ignores with a warning', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      CARRIERX_BASE_URL: 'https://api.carrierx.com/core/v2',
      MAX_QUERY_COST: '5000',
    });
    expect(config.limits.operationCost).toBe(250);
    expect(config.warnings).toContainEqual(
      expect.objectContaining({ variable: 'MAX_QUERY_COST', message: expect.stringMatching(/ignored/) }),
    );
  });

  it('takes MAX_OPERATION_COST over MAX_RECORDS_PER_OPERATION when both are set', () => {
    const config = loadConfig({ MAX_RECORDS_PER_OPERATION: '100', MAX_OPERATION_COST: '40' });
    expect(config.limits.operationCost).toBe(40);
  });
});
