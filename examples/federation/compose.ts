// Composes the supergraph from the subgraphs' SDL files with Apollo's composition library, and prints its hints:
//   node --import tsx examples/federation/compose.ts [--out supergraph.graphql] [--subgraph name=file[=url]]...
// CDR_URL and PARTNERS_URL are the routing URLs the gateway will call (defaults: localhost 4000 and 4001);
// --subgraph adds another graph's SDL file (repeatable; its URL defaults to http://localhost:4003/graphql).
// Rover users get the same from `rover supergraph compose --config examples/federation/supergraph.yaml`.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/** A subgraph to compose: its name, its SDL file (absolute, or from the repository root) and its routing URL. */
export interface SubgraphFile {
  readonly name: string;
  readonly file: string;
  readonly url: string;
}

const root = new URL('../../', import.meta.url);

// The package's index does not export its hint class.
type CompositionHint = NonNullable<ReturnType<typeof composeServices>['hints']>[number];

/** One line per hint: composition's code, then its message (what it merged, dropped or widened). */
export function formatHint(hint: CompositionHint): string {
  return `hint ${hint.definition.code}: ${hint.message}`;
}

/**
 * The supergraph SDL and composition's hints, as lines; throws with composition's messages when the subgraphs do
 * not compose. Hints are where composition says it merged something silently (an input type kept only the fields
 * every graph defines, say), so they are returned, never dropped.
 */
export function composeSubgraphs(subgraphs: readonly SubgraphFile[]): {
  supergraphSdl: string;
  hints: string[];
} {
  const { supergraphSdl, errors, hints } = composeServices(
    subgraphs.map(({ name, file, url }) => ({
      name,
      typeDefs: parse(readFileSync(new URL(file, root), 'utf8')),
      url,
    })),
  );
  if (errors?.length || !supergraphSdl) {
    throw new Error(`composition failed:\n${(errors ?? []).map((error) => error.message).join('\n')}`);
  }
  return { supergraphSdl, hints: (hints ?? []).map(formatHint) };
}

/** This graph and the partners graph at the given URLs (the defaults otherwise), then any others. */
export function exampleSubgraphs(
  urls: { cdr?: string; partners?: string } = {},
  others: readonly SubgraphFile[] = [],
): SubgraphFile[] {
  return [
    ...SUBGRAPHS.map(({ name, file, defaultUrl }) => ({ name, file, url: urls[name] ?? defaultUrl })),
    ...others,
  ];
}

/** The supergraph SDL of the example subgraphs; throws with composition's messages when they do not compose. */
export function composeSupergraph(urls: { cdr?: string; partners?: string } = {}): string {
  return composeSubgraphs(exampleSubgraphs(urls)).supergraphSdl;
}

/** `name=file[=url]`, the file from the current directory. */
function parseSubgraphArgument(value: string | undefined): SubgraphFile {
  const [name, file, ...url] = (value ?? '').split('=');
  if (!name || !file) throw new Error(`--subgraph takes name=file[=url], got "${value ?? ''}"`);
  return { name, file: resolve(file), url: url.length ? url.join('=') : 'http://localhost:4003/graphql' };
}

if (import.meta.filename === process.argv[1]) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const out = outIndex >= 0 ? (args[outIndex + 1] as string) : 'supergraph.graphql';
  const others = args.flatMap((arg, i) => (arg === '--subgraph' ? [parseSubgraphArgument(args[i + 1])] : []));
  const { supergraphSdl, hints } = composeSubgraphs(
    exampleSubgraphs({ cdr: process.env.CDR_URL, partners: process.env.PARTNERS_URL }, others),
  );
  for (const hint of hints) console.error(hint);
  writeFileSync(out, supergraphSdl);
  console.log(`wrote ${out}${hints.length ? ` (${hints.length} composition hints above)` : ''}`);
}
