// Composes the supergraph from the two subgraphs' SDL files with Apollo's composition library:
//   node --import tsx examples/federation/compose.ts [--out supergraph.graphql]
// CDR_URL and PARTNERS_URL are the routing URLs the gateway will call (defaults: localhost 4000 and 4001).
// Rover users get the same from `rover supergraph compose --config examples/federation/supergraph.yaml`.
import { readFileSync, writeFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

/** The subgraphs, as supergraph.yaml names them for Rover: name, SDL file (from the repository root), URL. */
export const SUBGRAPHS = [
  { name: 'cdr', file: 'schema/subgraph.graphql', defaultUrl: 'http://localhost:4000/graphql' },
  {
    name: 'partners',
    file: 'examples/federation/partners.graphql',
    defaultUrl: 'http://localhost:4001/graphql',
  },
] as const;

const root = new URL('../../', import.meta.url);

/** The supergraph SDL; throws with composition's messages when the subgraphs do not compose. */
export function composeSupergraph(urls: { cdr?: string; partners?: string } = {}): string {
  const { supergraphSdl, errors } = composeServices(
    SUBGRAPHS.map(({ name, file, defaultUrl }) => ({
      name,
      typeDefs: parse(readFileSync(new URL(file, root), 'utf8')),
      url: urls[name] ?? defaultUrl,
    })),
  );
  if (errors?.length || !supergraphSdl) {
    throw new Error(`composition failed:\n${(errors ?? []).map((error) => error.message).join('\n')}`);
  }
  return supergraphSdl;
}

if (import.meta.filename === process.argv[1]) {
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex > 0 ? (process.argv[outIndex + 1] as string) : 'supergraph.graphql';
  const sdl = composeSupergraph({ cdr: process.env.CDR_URL, partners: process.env.PARTNERS_URL });
  writeFileSync(out, sdl);
  console.log(`wrote ${out}`);
}
