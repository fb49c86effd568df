import SchemaBuilder from '@pothos/core';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import { GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, JSONResolver, UUIDResolver } from 'graphql-scalars';
import { DECIMAL_TEXT } from '../../carrierx/fields.ts';
import type { Context } from '../context.ts';

function decimalText(value: unknown): string {
  if (typeof value === 'string' && DECIMAL_TEXT.test(value)) return value;
  throw new TypeError('Decimal must be decimal text such as "0.0025"');
}

/** Money and durations as exact decimal text: "0.0025" stays "0.0025", never a binary float. */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description:
    'An exact decimal number serialised as a string, e.g. "0.0025". Kept as CarrierX sent it: never rounded through a float. ' +
    'The lexical form of XML Schema\'s decimal without a plus sign or a bare point: an optional "-", digits, and optionally "." and digits.',
  // xsd:decimal is the published format whose lexical space holds ours; the description states the subset.
  specifiedByURL: 'https://www.w3.org/TR/xmlschema11-2/#decimal',
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
    DateTime: { Input: Date; Output: Date | string };
    Decimal: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
  };
  // IBM's cost directives, as Apollo's cost spec declares them (src/graphql/schema/cost.ts applies them).
  Directives: {
    cost: {
      locations: 'FIELD_DEFINITION' | 'OBJECT' | 'ARGUMENT_DEFINITION' | 'SCALAR' | 'ENUM';
      args: { weight: number };
    };
    listSize: {
      locations: 'FIELD_DEFINITION';
      args: {
        assumedSize?: number;
        slicingArguments?: string[];
        sizedFields?: string[];
        requireOneSlicingArgument?: boolean;
      };
    };
  };
}

/** The schema builder: plugins, scalars and context type; types live in one file each beside it. */
// Fields are nullable by default (Pothos v4): CarrierX sends null for most of them.
// The federation plugin needs the directives plugin registered too, or @key and @link silently vanish.
export const builder = new SchemaBuilder<SchemaTypes>({ plugins: [DirectivePlugin, FederationPlugin] });

/**
 * A graphql-scalars scalar with the `@specifiedBy` URL it lacks: codegen and other frontend tooling read the
 * URL from the committed SDL (introspection is off in production) to know what the string holds.
 */
function specifiedBy<T extends GraphQLScalarType>(scalar: T, specifiedByURL: string): GraphQLScalarType {
  return new GraphQLScalarType({ ...scalar.toConfig(), specifiedByURL });
}

builder.addScalarType('UUID', specifiedBy(UUIDResolver, 'https://www.rfc-editor.org/rfc/rfc9562'));
// An instant with its zone's offset, as a statistics bucket's start is written ("2026-03-08T00:00:00.000-05:00").
const OFFSET_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/;

/**
 * DateTime as RFC 3339 `date-time`: record times are written in UTC (`Z`), as CarrierX sends them; a value the
 * schema computes in a caller's time zone (a statistics bucket) is written with that zone's offset, still the
 * same instant to any RFC 3339 reader. graphql-scalars' serialize turns a string back into a Date (printed in
 * UTC), so text that already carries an offset passes as it is.
 */
const DateTimeScalar = specifiedBy(DateTimeResolver, 'https://www.rfc-editor.org/rfc/rfc3339#section-5.6');
const serializeDateTime = DateTimeScalar.serialize.bind(DateTimeScalar);
DateTimeScalar.serialize = (value: unknown) =>
  typeof value === 'string' && OFFSET_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))
    ? value
    : serializeDateTime(value);
DateTimeScalar.description =
  'An instant as an RFC 3339 date-time string with milliseconds. Record times are in UTC, e.g. 2007-12-03T10:15:30.000Z; ' +
  "a statistics bucket's start carries the offset of the time zone it was asked in, e.g. 2026-03-08T00:00:00.000-05:00.";
builder.addScalarType('DateTime', DateTimeScalar);
builder.addScalarType('Decimal', DecimalScalar);
builder.addScalarType('JSON', JSONResolver);
builder.queryType({});
