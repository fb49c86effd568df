import { gql } from '@apollo/client';
import { type ConcreteRequest, fetchQuery } from 'relay-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApolloCache } from '../examples/frontend/src/apollo-cache.ts';
import { createRelayEnvironment } from '../examples/frontend/src/relay-environment.ts';
import { SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { globalIdOf } from '../src/graphql/schema/global-id.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.simulator.resetLog());

const cdrCalls = () => h.simulator.requests.filter((r) => r.path.includes('/calls/call_drs/')).length;

// What relay-compiler generates for two queries (its artifacts, written out here: the compiler is a frontend's
// build step, not a dependency of this repository).
const scalar = (name: string) =>
  ({ alias: null, args: null, kind: 'ScalarField', name, storageKey: null }) as const;

function relayQuery(
  name: string,
  field: string,
  argument: string,
  selections: readonly ReturnType<typeof scalar>[],
  text: string,
): ConcreteRequest {
  const argumentDefinitions = [{ defaultValue: null, kind: 'LocalArgument', name: argument }] as const;
  const args = [{ kind: 'Variable', name: argument, variableName: argument }] as const;
  const root = (inner: readonly ReturnType<typeof scalar>[]) =>
    [
      {
        alias: null,
        args,
        concreteType: null,
        kind: 'LinkedField',
        name: field,
        plural: false,
        selections: [
          ...inner,
          scalar('id'),
          { kind: 'InlineFragment', selections, type: 'CallDetailRecord', abstractKey: null },
        ],
        storageKey: null,
      },
    ] as const;
  return {
    kind: 'Request',
    fragment: {
      argumentDefinitions,
      kind: 'Fragment',
      metadata: null,
      name,
      selections: root([]),
      type: 'Query',
      abstractKey: null,
    },
    operation: { argumentDefinitions, kind: 'Operation', name, selections: root([scalar('__typename')]) },
    params: { cacheID: name, id: null, metadata: {}, name, operationKind: 'query', text },
  } as unknown as ConcreteRequest;
}

const RelayRecordQuery = relayQuery(
  'RelayRecordQuery',
  'callDetailRecord',
  'drSid',
  [scalar('numberSrc')],
  'query RelayRecordQuery($drSid: UUID!) { callDetailRecord(drSid: $drSid) { __typename id ... on CallDetailRecord { numberSrc } } }',
);
const RelayNodeQuery = relayQuery(
  'RelayNodeQuery',
  'node',
  'id',
  [scalar('price')],
  'query RelayNodeQuery($id: ID!) { node(id: $id) { __typename id ... on CallDetailRecord { price } } }',
);

describe('Relay with the shipped environment', () => {
  it('keeps a record fetched by callDetailRecord and by node(id:) as one record under its global id', async () => {
    const environment = createRelayEnvironment({
      url: 'http://localhost/graphql',
      token: () => 'carrierx-demo-token',
      fetch: (url, init) => Promise.resolve(h.app.fetch(String(url), init ?? {})),
    });
    const id = globalIdOf(SAMPLE_DR_SID);
    const first = await fetchQuery(environment, RelayRecordQuery, { drSid: SAMPLE_DR_SID }).toPromise();
    expect(first).toEqual({ callDetailRecord: { id, numberSrc: '+15012678830' } });
    const second = await fetchQuery(environment, RelayNodeQuery, { id }).toPromise();
    expect(second).toEqual({ node: { id, price: '0.0025' } });

    const record = environment.getStore().getSource().get(id);
    expect(record).toMatchObject({
      __id: id,
      __typename: 'CallDetailRecord',
      numberSrc: '+15012678830',
      price: '0.0025',
    });
    expect(cdrCalls()).toBe(2);
  });
});

describe("Apollo Client's cache from the shipped example", () => {
  const RecordQuery = gql`
    query ApolloRecord($drSid: UUID!) {
      callDetailRecord(drSid: $drSid) {
        __typename
        id
        drSid
        price
      }
    }
  `;
  const NodeQuery = gql`
    query ApolloNode($id: ID!) {
      node(id: $id) {
        __typename
        id
        ... on CallDetailRecord {
          price
        }
      }
    }
  `;

  it('answers node(id:) from the record callDetailRecord fetched, without asking the service again', async () => {
    const cache = createApolloCache();
    const fetched = await h.execute(RecordQuery.loc?.source.body as string, { drSid: SAMPLE_DR_SID });
    expect(fetched.body.errors).toBeUndefined();
    cache.writeQuery({ query: RecordQuery, variables: { drSid: SAMPLE_DR_SID }, data: fetched.body.data });

    const id = globalIdOf(SAMPLE_DR_SID);
    expect(cache.readQuery({ query: NodeQuery, variables: { id } })).toEqual({
      node: { __typename: 'CallDetailRecord', id, price: '0.0025' },
    });
    // One entry for the record, under its global id.
    expect(Object.keys(cache.extract()).filter((key) => key.startsWith('CallDetailRecord:'))).toEqual([
      `CallDetailRecord:{"id":"${id}"}`,
    ]);
    // A record the cache does not hold is not made up: the query goes to the service.
    expect(
      cache.readQuery({ query: NodeQuery, variables: { id: globalIdOf(UNANSWERED_DR_SID) } }),
    ).toBeNull();
  });
});
