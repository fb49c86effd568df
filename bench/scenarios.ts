import { CDR_FIELDS } from '../src/carrierx/fields.ts';
import { globalIdOf } from '../src/graphql/schema/global-id.ts';

/** CarrierX's documented sample record, which the simulator serves byte for byte. */
export const SAMPLE_DR_SID = 'c02a73b2-8401-459a-af7e-f4cc3eee7854';
/** The simulator's demo token (calls.read on the parent partner). */
export const AUTHORIZATION = 'Bearer carrierx-demo-token';

/** The three fields of scenario 4, also selected by each alias of scenarios 5 and 6. */
const THREE_FIELDS = ['drSid', 'numberSrc', 'numberDst'] as const;

export type ScenarioTarget =
  | 'floor'
  | 'server'
  | 'reference'
  | 'cached'
  | 'redis'
  | 'traced'
  | 'unmetered'
  | 'latency'
  | 'fair'
  | 'roll';

/** Scenario 11's upstream round trip: CarrierX is remote, and its answers take tens of milliseconds. */
export const SCENARIO_11_LATENCY_MS = 50;

/**
 * Scenario 12's second credential: the simulator's other token that reads records (scenario 3's record
 * included), so that only the fault rules matching it set it apart from the demo token.
 */
export const SCENARIO_12_BAD_TOKEN = 'carrierx-descendant-token';

/** The fields scenario 8e asks for beyond the three its entries hold: each operation fetches only these. */
export const PARTIAL_MISSING_FIELDS = ['direction', 'duration', 'price'] as const;

/** One measured workload: what to send, to which process, and how to tell a right answer from a wrong one. */
export interface Scenario {
  key: string;
  title: string;
  /**
   * `floor` is the second simulator on the server's core; `server` is the GraphQL server; `reference` is the
   * minimal non-GraphQL layer (bench/reference-proxy.ts), also on the server's core.
   */
  target: ScenarioTarget;
  connections: number;
  method: 'GET' | 'POST';
  /** Path on the target, e.g. /graphql. */
  path: string;
  body?: string;
  /** A cheap check run on every response body under load. */
  verifyBody(text: string): boolean;
  /** A full check of one parsed response body; returns what is wrong, or undefined. */
  validate(body: unknown): string | undefined;
  /**
   * Each operation (probes, warm-up, load, samples) sends a credential of its own, first primed with this
   * request (scenario 8e: entries that hold some of the fields asked for, one per operation).
   */
  primeEach?: { body: string; missingApiFields: readonly string[] };
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The data of a GraphQL response, or what is wrong with it. */
function graphqlData(body: unknown): Json | string {
  if (!isObject(body)) return 'the response is not a JSON object';
  if (body.errors !== undefined) return `errors: ${JSON.stringify(body.errors).slice(0, 300)}`;
  if (!isObject(body.data)) return 'the response has no data';
  return body.data;
}

/** Checks a CallDetailRecord object: exactly `fields`, the expected drSid, no null drSid. */
function checkRecord(record: unknown, fields: readonly string[], drSid: string, where: string) {
  if (!isObject(record)) return `${where} is ${JSON.stringify(record)}, not a record`;
  const keys = Object.keys(record);
  const missing = fields.filter((name) => !(name in record));
  if (missing.length) return `${where} lacks ${missing.join(', ')}`;
  if (keys.length !== fields.length) return `${where} has ${keys.length} fields, expected ${fields.length}`;
  if (record.drSid !== drSid) return `${where}.drSid is ${JSON.stringify(record.drSid)}, expected ${drSid}`;
  return undefined;
}

const noErrors = (text: string) => text.startsWith('{"data":{') && !text.includes('"errors"');

function graphqlScenario(
  key: string,
  title: string,
  connections: number,
  query: string,
  variables: Json | undefined,
  marker: string,
  validateData: (data: Json) => string | undefined,
): Scenario {
  return {
    key,
    title,
    target: 'server',
    connections,
    method: 'POST',
    path: '/graphql',
    body: JSON.stringify(variables ? { query, variables } : { query }),
    verifyBody: (text) => noErrors(text) && text.includes(marker),
    validate(body) {
      const data = graphqlData(body);
      return typeof data === 'string' ? data : validateData(data);
    },
  };
}

function aliasesQuery(sids: readonly string[]): string {
  const aliases = sids.map(
    (sid, i) => `  r${i}: callDetailRecord(drSid: "${sid}") { ${THREE_FIELDS.join(' ')} }`,
  );
  return `query TenAliases {\n${aliases.join('\n')}\n}`;
}

function checkAliases(data: Json, sids: readonly string[]): string | undefined {
  if (Object.keys(data).length !== sids.length) return `expected ${sids.length} aliases`;
  for (const [i, sid] of sids.entries()) {
    const problem = checkRecord(data[`r${i}`], THREE_FIELDS, sid, `r${i}`);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The scenarios of issue 5, in report order. `sids` are ten distinct records from the simulator's list
 * endpoint; `connections` applies to every throughput scenario (7a and 7b always use one connection).
 */
export function createScenarios(connections: number, sids: readonly string[]): Scenario[] {
  const allFields = CDR_FIELDS.map((field) => field.name);
  const apiNames = CDR_FIELDS.map((field) => field.api);
  const fullQuery = `query FullRecord($drSid: UUID!) {\n  callDetailRecord(drSid: $drSid) {\n    ${allFields.join('\n    ')}\n  }\n}`;
  const partialFields = [...THREE_FIELDS, ...PARTIAL_MISSING_FIELDS];
  const partialQuery = `query PartialHit($drSid: UUID!) {\n  callDetailRecord(drSid: $drSid) { ${partialFields.join(' ')} }\n}`;
  const threeQuery = `query ThreeFields($drSid: UUID!) {\n  callDetailRecord(drSid: $drSid) { ${THREE_FIELDS.join(' ')} }\n}`;

  const nodeQuery = `query NodeLookup($id: ID!) {\n  node(id: $id) { ... on CallDetailRecord { ${THREE_FIELDS.join(' ')} } }\n}`;

  const rest = (key: string, title: string, conns: number): Scenario => ({
    key,
    title,
    target: 'floor',
    connections: conns,
    method: 'GET',
    path: `/core/v2/calls/call_drs/${SAMPLE_DR_SID}`,
    verifyBody: (text) => text.includes(SAMPLE_DR_SID) && !text.includes('"errors"'),
    validate(body) {
      if (!isObject(body)) return 'the response is not a JSON object';
      const missing = apiNames.filter((name) => !(name in body));
      if (missing.length) return `the record lacks ${missing.join(', ')}`;
      return body.dr_sid === SAMPLE_DR_SID ? undefined : `dr_sid is ${JSON.stringify(body.dr_sid)}`;
    },
  });
  const full = (key: string, title: string, conns: number) =>
    graphqlScenario(key, title, conns, fullQuery, { drSid: SAMPLE_DR_SID }, SAMPLE_DR_SID, (data) =>
      checkRecord(data.callDetailRecord, allFields, SAMPLE_DR_SID, 'callDetailRecord'),
    );
  // Scenario 3's request to the reference layer, which answers the same shape without GraphQL.
  const reference = (key: string, title: string, conns: number): Scenario => ({
    ...full(key, title, conns),
    target: 'reference',
  });

  return [
    rest('1', 'direct REST GET (simulator on the server core)', connections),
    graphqlScenario(
      '2',
      'bare Yoga `{ __typename }`',
      connections,
      '{ __typename }',
      undefined,
      'Query',
      (data) =>
        data.__typename === 'Query' ? undefined : `__typename is ${JSON.stringify(data.__typename)}`,
    ),
    full('3', `callDetailRecord, all ${allFields.length} fields`, connections),
    reference('3r', 'reference layer: 3 without GraphQL (one upstream GET, rename, answer)', connections),
    graphqlScenario(
      '4',
      'callDetailRecord, 3 fields',
      connections,
      threeQuery,
      { drSid: SAMPLE_DR_SID },
      SAMPLE_DR_SID,
      (data) => checkRecord(data.callDetailRecord, THREE_FIELDS, SAMPLE_DR_SID, 'callDetailRecord'),
    ),
    // Scenario 4 through Relay's node(id:): what the global id and the Node interface add to the same lookup.
    graphqlScenario(
      '4n',
      '`node(id:)`, 3 fields',
      connections,
      nodeQuery,
      { id: globalIdOf(SAMPLE_DR_SID) },
      SAMPLE_DR_SID,
      (data) => checkRecord(data.node, THREE_FIELDS, SAMPLE_DR_SID, 'node'),
    ),
    graphqlScenario(
      '5',
      '10 aliases, 10 distinct SIDs (3 fields each)',
      connections,
      aliasesQuery(sids),
      undefined,
      sids[sids.length - 1] ?? '',
      (data) => checkAliases(data, sids),
    ),
    graphqlScenario(
      '6',
      '10 aliases, one SID (3 fields each)',
      connections,
      aliasesQuery(sids.map(() => SAMPLE_DR_SID)),
      undefined,
      SAMPLE_DR_SID,
      (data) =>
        checkAliases(
          data,
          sids.map(() => SAMPLE_DR_SID),
        ),
    ),
    rest('7a', 'direct REST GET, 1 connection', 1),
    full('7b', `callDetailRecord, all ${allFields.length} fields, 1 connection`, 1),
    reference('7r', 'reference layer, 1 connection', 1),
    // The same requests as 3 and 4, to the server with the CDR cache on: after the first, each is a hit.
    {
      ...full(
        '8a',
        `callDetailRecord, all ${allFields.length} fields, from the in-process cache`,
        connections,
      ),
      target: 'cached',
    },
    {
      ...graphqlScenario(
        '8b',
        'callDetailRecord, 3 fields, from the in-process cache',
        connections,
        threeQuery,
        { drSid: SAMPLE_DR_SID },
        SAMPLE_DR_SID,
        (data) => checkRecord(data.callDetailRecord, THREE_FIELDS, SAMPLE_DR_SID, 'callDetailRecord'),
      ),
      target: 'cached',
    },
    // 8a and 8b to a third server that keeps its entries in Redis only (no in-process layer).
    {
      ...full('8c', `callDetailRecord, all ${allFields.length} fields, from Redis`, connections),
      target: 'redis',
    },
    {
      ...graphqlScenario(
        '8d',
        'callDetailRecord, 3 fields, from Redis',
        connections,
        threeQuery,
        { drSid: SAMPLE_DR_SID },
        SAMPLE_DR_SID,
        (data) => checkRecord(data.callDetailRecord, THREE_FIELDS, SAMPLE_DR_SID, 'callDetailRecord'),
      ),
      target: 'redis',
    },
    {
      ...graphqlScenario(
        '8e',
        `partial hit: 3 fields held + ${PARTIAL_MISSING_FIELDS.length} fetched, a primed credential per operation (in-process cache)`,
        connections,
        partialQuery,
        { drSid: SAMPLE_DR_SID },
        SAMPLE_DR_SID,
        (data) => checkRecord(data.callDetailRecord, partialFields, SAMPLE_DR_SID, 'callDetailRecord'),
      ),
      target: 'cached',
      primeEach: {
        body: JSON.stringify({ query: threeQuery, variables: { drSid: SAMPLE_DR_SID } }),
        missingApiFields: PARTIAL_MISSING_FIELDS.map((name) => apiNameOf(name)),
      },
    },
    // Issue 12: one page of the Relay connection, one CarrierX list call asking for the 5 fields.
    graphqlScenario(
      '10',
      `callDetailRecords, a page of ${PAGE_SIZE} records with ${PAGE_FIELDS.length} fields`,
      connections,
      `query Page { callDetailRecords(first: ${PAGE_SIZE}) { nodes { ${PAGE_FIELDS.join(' ')} } } }`,
      undefined,
      '"callDetailRecords"',
      checkPage,
    ),
    // Scenario 3's request to the server with tracing on (every span exported), and with metrics off: the cost
    // of each, against 3 in the same run.
    {
      ...full(
        '9a',
        `callDetailRecord, all ${allFields.length} fields, tracing on (always_on, exported)`,
        connections,
      ),
      target: 'traced',
    },
    {
      ...full(
        '9b',
        `callDetailRecord, all ${allFields.length} fields, metrics off (METRICS_PORT=0)`,
        connections,
      ),
      target: 'unmetered',
    },
    // Scenario 3's request to a second server whose upstream answers after SCENARIO_11_LATENCY_MS: how many
    // calls this server keeps in flight to a remote CarrierX, not how fast it is, sets its throughput there.
    {
      ...full(
        '11',
        `callDetailRecord, all ${allFields.length} fields, upstream ${SCENARIO_11_LATENCY_MS} ms away`,
        256,
      ),
      target: 'latency',
    },
    {
      ...full(
        '11b',
        `callDetailRecord, all ${allFields.length} fields, upstream ${SCENARIO_11_LATENCY_MS} ms away (peak RSS)`,
        1024,
      ),
      target: 'latency',
    },
    // Scenario 3's request with the demo token, alone and beside a second credential that CarrierX rate-limits
    // (or answers slowly): bench/fairness.ts runs its phases on a server of its own.
    {
      ...full(
        '12',
        'two credentials, one rate-limited (or slow): the good one alone and beside it',
        connections,
      ),
      target: 'fair',
    },
    // Scenario 3's request through HAProxy to three production replicas sharing Redis (the cache on, as users
    // run it), steady and then while each replica in turn is restarted: bench/roll.ts runs it.
    {
      ...full(
        '13',
        `rolling restart under load: 3 replicas behind HAProxy, all ${allFields.length} fields, cache in Redis`,
        connections,
      ),
      target: 'roll',
    },
  ];
}

/** Scenario 10's page: its size and the fields selected on each record. */
const PAGE_SIZE = 20;
const PAGE_FIELDS = ['drSid', 'dateStart', 'numberSrc', 'numberDst', 'price'] as const;

function checkPage(data: Json): string | undefined {
  const connection = data.callDetailRecords;
  if (!isObject(connection) || !Array.isArray(connection.nodes)) return 'callDetailRecords has no nodes';
  if (connection.nodes.length !== PAGE_SIZE) {
    return `callDetailRecords has ${connection.nodes.length} nodes, expected ${PAGE_SIZE}`;
  }
  for (const [i, node] of connection.nodes.entries()) {
    const drSid = isObject(node) && typeof node.drSid === 'string' ? node.drSid : '';
    const problem = checkRecord(node, PAGE_FIELDS, drSid, `nodes[${i}]`);
    if (problem) return problem;
    if (!drSid) return `nodes[${i}] has no drSid`;
  }
  return undefined;
}

function apiNameOf(name: string): string {
  const field = CDR_FIELDS.find((f) => f.name === name);
  if (!field) throw new Error(`no CDR field ${name}`);
  return field.api;
}

/** The soak: scenario 3 for a long time, to compare the server's RSS after it with RSS after warm-up. */
export function soakScenario(scenarios: readonly Scenario[], seconds: number): Scenario {
  const three = scenarios.find((scenario) => scenario.key === '3');
  if (!three) throw new Error('scenario 3 is missing');
  return { ...three, key: 'soak', title: `soak: scenario 3 for ${seconds} s` };
}
