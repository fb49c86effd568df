// A partners subgraph to compose with the CDR graph: `node --import tsx examples/federation/partners-subgraph.ts`
// serves it on http://localhost:4001/graphql (PARTNERS_PORT). Its partners: the simulator's parent partner (the
// sample record's) and its descendant, and three with no calls.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';

export const partnersTypeDefs = parse(readFileSync(new URL('partners.graphql', import.meta.url), 'utf8'));

export const SAMPLE_PARTNER = { partnerSid: 'ed437757-002d-4ecc-aa5a-efdf5e50dba0', name: 'Acme Telecom' };

/** Every partner of the example, in name order. */
export const PARTNERS = [
  SAMPLE_PARTNER,
  { partnerSid: '3b9f2c71-6d4e-4a85-9c1b-7e0a5f2d8c94', name: 'Acme Wholesale' },
  { partnerSid: '5d0c8f3e-1a2b-4c3d-8e4f-5a6b7c8d9e0f', name: 'Bayside Voice' },
  { partnerSid: '7e1d9a4f-2b3c-4d5e-9f6a-7b8c9d0e1f2a', name: 'Cobalt Carriers' },
  { partnerSid: '9f2e0b5a-3c4d-4e6f-a07b-8c9d0e1f2a3b', name: 'Dunmore Telecom' },
] as const;

const NAMES = new Map<string, string>(PARTNERS.map(({ partnerSid, name }) => [partnerSid, name]));

/** The partners graph as a Yoga server (a request handler for node:http). */
export function createPartnersSubgraph() {
  const schema = buildSubgraphSchema({
    typeDefs: partnersTypeDefs,
    resolvers: {
      Query: { partners: () => PARTNERS },
      Partner: {
        __resolveReference: (ref: { partnerSid: string }) => ({
          partnerSid: ref.partnerSid,
          name: NAMES.get(ref.partnerSid) ?? null,
        }),
      },
    },
  });
  return createYoga({ schema, logging: false });
}

if (import.meta.filename === process.argv[1]) {
  const port = Number(process.env.PARTNERS_PORT ?? 4001);
  createServer(createPartnersSubgraph()).listen(port, () => {
    console.log(`partners subgraph on http://localhost:${port}/graphql`);
  });
}
