import { printSchema } from 'graphql';
import { schema } from './index.ts';

/** The SDL files committed under schema/, as the code prints them now. */
export function printedSchemas(): { file: string; sdl: string }[] {
  return [{ file: 'schema/schema.graphql', sdl: `${printSchema(schema)}\n` }];
}
