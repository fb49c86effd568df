import { readFileSync } from 'node:fs';
import type { GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CDR_FIELDS } from '../src/carrierx/fields.ts';
import { schema } from '../src/graphql/schema/index.ts';
import { printedSchemas } from '../src/graphql/schema/print.ts';

describe('committed schema', () => {
  it.each(printedSchemas().map((s) => [s.file, s.sdl]))(
    '%s matches the code (run `npm run schema:print` after changing the schema)',
    (file, sdl) => {
      const committed = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
      expect(committed).toBe(sdl);
    },
  );
});

describe('CallDetailRecord execution', () => {
  // 52 resolver calls, each with its own `info`, were a third of a full-record operation under graphql-jit
  // (docs/performance.md). A field CarrierX sent wrong still fails alone: the record holds its Error
  // (test/hostile-upstream.test.ts, test/record.test.ts).
  it('reads every CarrierX field as a plain property, with no resolver to call per field', () => {
    const type = schema.getType('CallDetailRecord') as GraphQLObjectType;
    const withResolvers = CDR_FIELDS.filter((f) => type.getFields()[f.name]?.resolve !== undefined);
    expect(CDR_FIELDS.every((f) => type.getFields()[f.name] !== undefined)).toBe(true);
    expect(withResolvers.map((f) => f.name)).toEqual([]);
  });
});
