// A partners subgraph to compose with the CDR graph: `node --import tsx examples/federation/partners-subgraph.ts`
// serves it on http://localhost:4001/graphql (PARTNERS_PORT). Its one partner is CarrierX's sample record's.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';

export const partnersTypeDefs = parse(readFileSync(new URL('partners.graphql', import.meta.url), 'utf8'));

export const SAMPLE_PARTNER = { partnerSid: 'ed437757-002d-4ecc-aa5a-efdf5e50dba0', name: 'Acme Telecom' };

/** The partners graph as a Yoga server (a request handler for node:http). */
export function createPartnersSubgraph() {
  const schema = buildSubgraphSchema({
    typeDefs: partnersTypeDefs,
    resolvers: {
      Partner: {
        __resolveReference: (ref: { partnerSid: string }) => ({
          partnerSid: ref.partnerSid,
          name: ref.partnerSid === SAMPLE_PARTNER.partnerSid ? SAMPLE_PARTNER.name : null,
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
