import { printSubgraphSchema } from '@apollo/subgraph';
import { printSchema } from 'graphql';
import { schema } from './index.ts';

/** The SDL files committed under schema/, as the code prints them now. */
export function printedSchemas(): { file: string; sdl: string }[] {
  return [
    // What introspection of /graphql shows: the input to codegen and to frontend tooling.
    { file: 'schema/schema.graphql', sdl: `${printSchema(schema)}\n` },
    // What `_service { sdl }` answers: the input to federation composition.
    { file: 'schema/subgraph.graphql', sdl: `${printSubgraphSchema(schema)}\n` },
  ];
}
