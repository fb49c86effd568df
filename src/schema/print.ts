import { printSubgraphSchema } from '@apollo/subgraph';
import { printSchema } from 'graphql';
import { publicSchema, schema } from './index.ts';

/** The SDL files committed under schema/, as the code prints them now. */
export function printedSchemas(): { file: string; sdl: string }[] {
  return [
    { file: 'schema/schema.graphql', sdl: `${printSchema(publicSchema)}\n` },
    // What `_service { sdl }` answers: the input to federation composition.
    { file: 'schema/subgraph.graphql', sdl: `${printSubgraphSchema(schema)}\n` },
  ];
}
