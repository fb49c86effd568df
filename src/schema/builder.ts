import SchemaBuilder from '@pothos/core';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import { GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, JSONResolver, UUIDResolver } from 'graphql-scalars';
import { DECIMAL_TEXT } from '../carrierx/fields.ts';
import type { Context } from '../context.ts';

function decimalText(value: unknown): string {
  if (typeof value === 'string' && DECIMAL_TEXT.test(value)) return value;
  throw new TypeError('Decimal must be decimal text such as "0.0025"');
}

/** Money and durations as exact decimal text: "0.0025" stays "0.0025", never a binary float. */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description:
    'An exact decimal number serialised as a string, e.g. "0.0025". Kept as CarrierX sent it: never rounded through a float.',
  serialize: decimalText,
  parseValue: decimalText,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new TypeError('Decimal must be given as a string, e.g. "0.0025"');
    return decimalText(ast.value);
  },
});

export interface SchemaTypes {
  Context: Context;
  DefaultFieldNullability: true;
  Scalars: {
    UUID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
    Decimal: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
  };
}

/** The schema builder: plugins, scalars and context type; types live in one file each beside it. */
// Fields are nullable by default (Pothos v4): CarrierX sends null for most of them.
// The federation plugin needs the directives plugin registered too, or @key and @link silently vanish.
export const builder = new SchemaBuilder<SchemaTypes>({ plugins: [DirectivePlugin, FederationPlugin] });

builder.addScalarType('UUID', UUIDResolver);
builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('Decimal', DecimalScalar);
builder.addScalarType('JSON', JSONResolver);
builder.queryType({});
