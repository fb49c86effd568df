import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DESCENDANT_TOKEN, SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { drSidOfGlobalId, globalIdOf } from '../src/graphql/schema/global-id.ts';
import { MAX_NODE_IDS } from '../src/graphql/schema/node.ts';
import { graphql } from './gql/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const MISSING_SID = '00000000-0000-4000-8000-000000000000';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.simulator.resetLog());

const cdrCalls = () => h.simulator.requests.filter((r) => r.path.includes('/calls/call_drs/')).length;

const IdsEverywhere = graphql(`
  query IdsEverywhere($drSid: UUID!) {
    callDetailRecord(drSid: $drSid) {
      id
      drSid
    }
    callDetailRecords(first: 3) {
      nodes {
        id
        drSid
      }
    }
  }
`);

const NodeById = graphql(`
  query NodeById($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on CallDetailRecord {
        drSid
        price
      }
    }
  }
`);

const NodesAndRecord = graphql(`
  query NodesAndRecord($ids: [ID!]!, $drSid: UUID!) {
    nodes(ids: $ids) {
      id
      ... on CallDetailRecord {
        drSid
        price
      }
    }
    callDetailRecord(drSid: $drSid) {
      drSid
      price
    }
  }
`);

describe('global ids', () => {
  it('gives a record the same opaque id from callDetailRecord, the list and node, whatever case its SID is in', async () => {
    const listed = await h.execute(IdsEverywhere, { drSid: SAMPLE_DR_SID.toUpperCase() });
    expect(listed.body.errors).toBeUndefined();
    const one = listed.body.data?.callDetailRecord;
    expect(one?.drSid).toBe(SAMPLE_DR_SID);
    expect(one?.id).toBe(globalIdOf(SAMPLE_DR_SID));
    // Opaque: nothing in it reads as the SID, and it is safe in a URL as it is.
    expect(one?.id).not.toContain(SAMPLE_DR_SID.slice(0, 8));
    expect(one?.id).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const record of listed.body.data?.callDetailRecords?.nodes ?? []) {
      expect(record.id).toBe(globalIdOf(record.drSid));
    }

    const found = await h.execute(NodeById, { id: one?.id as string });
    expect(found.body.errors).toBeUndefined();
    expect(found.body.data?.node).toEqual({
      __typename: 'CallDetailRecord',
      id: one?.id,
      drSid: SAMPLE_DR_SID,
      price: '0.0025',
    });
  });

  it('fetches only the fields selected under node(id:), as callDetailRecord(drSid:) does', async () => {
    await h.execute(NodeById, { id: globalIdOf(SAMPLE_DR_SID) });
    await h.execute(graphql(`query NodeIdOnly($id: ID!) { node(id: $id) { id } }`), {
      id: globalIdOf(SAMPLE_DR_SID),
    });
    await h.execute(
      graphql(`
        query NodeThroughFragments($id: ID!) {
          node(id: $id) {
            ...NodeFields
          }
        }
      `),
      { id: globalIdOf(SAMPLE_DR_SID) },
    );
    graphql(`
      fragment NodeFields on Node {
        ... on CallDetailRecord {
          talkDuration
        }
      }
    `);
    expect(h.includeFieldsSeen()).toEqual([
      ['dr_sid', 'price'],
      ['dr_sid'],
      ['date_stop', 'date_talk', 'dr_sid'],
    ]);
  });

  it('answers nodes(ids:) in the order given, one CarrierX call per distinct record shared with callDetailRecord(drSid:)', async () => {
    const ids = [globalIdOf(UNANSWERED_DR_SID), globalIdOf(SAMPLE_DR_SID), globalIdOf(UNANSWERED_DR_SID)];
    const res = await h.execute(NodesAndRecord, { ids, drSid: SAMPLE_DR_SID });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.nodes?.map((n) => n && 'drSid' in n && n.drSid)).toEqual([
      UNANSWERED_DR_SID,
      SAMPLE_DR_SID,
      UNANSWERED_DR_SID,
    ]);
    expect(res.body.data?.callDetailRecord?.drSid).toBe(SAMPLE_DR_SID);
    expect(
      h.simulator.requests
        .filter((r) => r.path.includes('/calls/call_drs/'))
        .map((r) => r.drSid)
        .sort(),
    ).toEqual([SAMPLE_DR_SID, UNANSWERED_DR_SID].sort());
  });

  it('returns null with NOT_FOUND for the id of a record CarrierX does not have', async () => {
    const res = await h.execute(NodeById, { id: globalIdOf(MISSING_SID) });
    expect(res.body.data?.node).toBeNull();
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['node'], 'NOT_FOUND']]);
  });

  it.each<[string, string]>([
    ['a word', 'hello'],
    ['a dr_sid itself', SAMPLE_DR_SID],
    ['an id with base64 padding', `${globalIdOf(SAMPLE_DR_SID)}=`],
    ['an id in standard base64', Buffer.from(`v1:CallDetailRecord:${SAMPLE_DR_SID}`).toString('base64')],
    [
      'an upper-case SID',
      Buffer.from(`v1:CallDetailRecord:${SAMPLE_DR_SID.toUpperCase()}`).toString('base64url'),
    ],
    ['another type', Buffer.from(`v1:CallDetailRecorX:${SAMPLE_DR_SID}`).toString('base64url')],
    ['another version', Buffer.from(`v2:CallDetailRecord:${SAMPLE_DR_SID}`).toString('base64url')],
    [
      // As long as a UUID, so that only the UUID check keeps it from CarrierX's path.
      'a path in place of the SID',
      Buffer.from(`v1:CallDetailRecord:${'../../calls/call_drs/'.padEnd(36, 'x')}`).toString('base64url'),
    ],
    ['a 100 KB string', 'A'.repeat(100 * 1024)],
  ])('returns null with BAD_USER_INPUT for %s, without calling CarrierX', async (_name, id) => {
    const res = await h.execute(NodeById, { id });
    expect(res.status).toBe(200);
    expect(res.body.data?.node).toBeNull();
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['node'], 'BAD_USER_INPUT']]);
    expect(res.body.errors?.[0]?.message).toMatch(/not an id this service issued/);
    expect(res.text.length).toBeLessThan(1_000);
    expect(cdrCalls()).toBe(0);
  });

  it('accepts only the one spelling of an id, not others that decode to the same bytes', () => {
    const id = globalIdOf(SAMPLE_DR_SID);
    expect(drSidOfGlobalId(id)).toBe(SAMPLE_DR_SID);
    // The last character carries two bits past the end of the bytes: other letters decode the same in Node.
    const last = id.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twins = [...alphabet].filter(
      (c) => c !== last && Buffer.from(id.slice(0, -1) + c, 'base64url').equals(Buffer.from(id, 'base64url')),
    );
    expect(twins.length).toBeGreaterThan(0);
    for (const c of twins) expect(drSidOfGlobalId(id.slice(0, -1) + c)).toBeUndefined();
  });

  it('answers a bad and a missing id in nodes(ids:) with null and an error at their own index', async () => {
    const ids = [
      globalIdOf(SAMPLE_DR_SID),
      'nonsense',
      globalIdOf(MISSING_SID),
      globalIdOf(UNANSWERED_DR_SID),
    ];
    const res = await h.execute(NodesAndRecord, { ids, drSid: SAMPLE_DR_SID });
    const nodes = res.body.data?.nodes ?? [];
    expect(nodes.map((n) => (n && 'drSid' in n ? n.drSid : n))).toEqual([
      SAMPLE_DR_SID,
      null,
      null,
      UNANSWERED_DR_SID,
    ]);
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['nodes', 1], 'BAD_USER_INPUT'],
      [['nodes', 2], 'NOT_FOUND'],
    ]);
  });

  it(`refuses nodes(ids:) with more than ${MAX_NODE_IDS} ids before calling CarrierX, the other root fields still answering`, async () => {
    const ids = Array.from({ length: MAX_NODE_IDS + 1 }, () => globalIdOf(SAMPLE_DR_SID));
    const res = await h.execute(NodesAndRecord, { ids, drSid: SAMPLE_DR_SID });
    expect(res.body.data?.nodes).toBeNull();
    expect(res.body.data?.callDetailRecord?.drSid).toBe(SAMPLE_DR_SID);
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['nodes'], 'BAD_USER_INPUT'],
    ]);
    expect(res.body.errors?.[0]?.message).toContain(`at most ${MAX_NODE_IDS} ids`);
    expect(cdrCalls()).toBe(1);
  });
});

describe('global ids under MAX_RECORDS_PER_OPERATION', () => {
  let limited: Harness;
  beforeAll(async () => {
    limited = await createHarness({ MAX_RECORDS_PER_OPERATION: '2' });
  });
  afterAll(() => limited.close());

  it('counts the distinct records of nodes(ids:) against the limit, with TOO_MANY_RECORDS beyond it', async () => {
    const sids = [...limited.simulator.records.keys()].slice(0, 3);
    const ids = [sids[0], sids[1], sids[0], sids[2]].map((sid) => globalIdOf(sid as string));
    const res = await limited.execute(
      graphql(`query ManyNodes($ids: [ID!]!) { nodes(ids: $ids) { id } }`),
      { ids },
      { token: DESCENDANT_TOKEN },
    );
    expect(res.body.data?.nodes?.map((n) => n?.id ?? null)).toEqual([ids[0], ids[1], ids[2], null]);
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['nodes', 3], 'TOO_MANY_RECORDS'],
    ]);
    expect(limited.simulator.requests.filter((r) => r.path.includes('/calls/call_drs/'))).toHaveLength(2);
  });
});
