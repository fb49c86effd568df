import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CDR_FIELDS, type WireKind } from '../src/carrierx/fields.ts';
import { type CdrRecord, decodeCdr, MAX_FIELD_CHARS, MAX_JSON_DEPTH } from '../src/carrierx/record.ts';

const SAMPLE: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../src/carrierx/simulator/sample-cdr.json', import.meta.url), 'utf8'),
);
const SID = SAMPLE.dr_sid as string;

/** The sample record's JSON text with some keys' values replaced by raw JSON text, spliced in verbatim. */
function bodyWith(raw: Record<string, string>): string {
  const keys = [...new Set([...Object.keys(SAMPLE), ...Object.keys(raw)])];
  return `{${keys.map((k) => `${JSON.stringify(k)}:${raw[k] ?? JSON.stringify(SAMPLE[k])}`).join(',')}}`;
}

function decode(text: string) {
  const heard: { api: string; kind: WireKind; got: string }[] = [];
  const record = decodeCdr(text, SID, (api, kind, got) => heard.push({ api, kind, got }));
  return { record, heard };
}

const pristine = decode(bodyWith({})).record;

/** `api` alone failed (null with its error, logged once), and every other field is what the sample decodes to. */
function expectFailsAlone(record: CdrRecord, heard: { api: string; got: string }[], api: string) {
  expect(Object.keys(record.invalid ?? {})).toEqual([api]);
  expect(heard.map((h) => h.api)).toEqual([api]);
  for (const f of CDR_FIELDS) if (f.api !== api) expect(record.values[f.api]).toEqual(pristine.values[f.api]);
}

const nested = (depth: number) => `${'['.repeat(depth - 1)}{"a":1}${']'.repeat(depth - 1)}`;

describe('decimals sent as JSON numbers', () => {
  it.each([
    ['12345678901234567.891', '12345678901234567.891'],
    ['12.50', '12.50'],
    ['0.0000001', '0.0000001'],
    ['60', '60'],
    ['-0.0025', '-0.0025'],
    ['1.5e-7', '0.00000015'],
    ['-2E+3', '-2000'],
    ['100e-2', '1.00'],
    ['0.5e1', '5'],
  ])('keeps the exact text of the literal %s as %j', (literal, text) => {
    const { record, heard } = decode(bodyWith({ price: literal, rate_lcr_src: literal }));
    expect(record.values.price).toBe(text);
    expect(record.values.rate_lcr_src).toBe(text);
    expect(heard).toEqual([]);
  });

  it('reads the literal of the top-level key, whatever nested values and strings say', () => {
    const text = `{ "user_data" : {"price": 1.0, "x": ["price", {"price": 2}]},
      "note": "\\"price\\": 3.0", "path": "C:\\\\", "n2": "\\\\\\"price\\": 5", "price\\u0020": 4, "dr_sid": "${SID}",
      "price" : 7.10 , "duration": 1, "duration": 2.000 }`;
    const { record, heard } = decode(text);
    expect(record.values.price).toBe('7.10');
    // A repeated key: the last one counts, as in JSON.parse.
    expect(record.values.duration).toBe('2.000');
    expect(heard).toEqual([]);
  });

  it('leaves strings exactly as sent and decodes a body with no numeric decimal without a second look', () => {
    expect(pristine.values.price).toBe('0.0025');
    expect(pristine.values.duration).toBe('4.25015');
    expect(pristine.invalid).toBeUndefined();
  });
});

describe('datetimes', () => {
  it.each([
    ['2024-02-29T10:00:00Z', '2024-02-29T10:00:00.000Z'],
    ['2000-02-29T00:00:00.5Z', '2000-02-29T00:00:00.500Z'],
    ['2026-03-01T01:30:00+02:00', '2026-02-28T23:30:00.000Z'],
    ['2026-12-31T23:59:59.123456789-05:30', '2027-01-01T05:29:59.123Z'],
    ['0099-06-15T12:00:00Z', '0099-06-15T12:00:00.000Z'],
  ])('reads %s as the instant %s', (text, iso) => {
    const { record, heard } = decode(bodyWith({ date_start: JSON.stringify(text) }));
    expect((record.values.date_start as Date).toISOString()).toBe(iso);
    expect(heard).toEqual([]);
  });

  it.each([
    ['a day past the end of February', '2026-02-30T10:00:00Z'],
    ['February 29 of a year that is not a leap year', '2026-02-29T10:00:00Z'],
    ['February 29 of a century that is not a leap year', '1900-02-29T10:00:00Z'],
    ['April 31', '2026-04-31T10:00:00Z'],
    ['day 0', '2026-03-00T10:00:00Z'],
    ['month 13', '2026-13-01T10:00:00Z'],
    ['month 0', '2026-00-10T10:00:00Z'],
    ['hour 24', '2026-03-01T24:00:00Z'],
    ['minute 60', '2026-03-01T10:60:00Z'],
    ['second 60 (a leap second)', '2016-12-31T23:59:60Z'],
    ['an offset of 24 hours', '2026-03-01T10:00:00+24:00'],
    ['an offset of 60 minutes', '2026-03-01T10:00:00+01:60'],
    ['no zone', '2026-03-01T10:00:00'],
    ['a date alone', '2026-03-01'],
    ['a year past 9999 once the offset applies', '9999-12-31T23:30:00-01:00'],
    ['words', 'yesterday'],
  ])('refuses %s (%s) as that field alone', (_label, text) => {
    const { record, heard } = decode(bodyWith({ date_talk: JSON.stringify(text) }));
    expectFailsAlone(record, heard, 'date_talk');
  });
});

describe('JSON fields', () => {
  it(`keeps user_data nested ${MAX_JSON_DEPTH} deep and refuses it one level deeper`, () => {
    expect(decode(bodyWith({ user_data: nested(MAX_JSON_DEPTH) })).record.invalid).toBeUndefined();
    const { record, heard } = decode(bodyWith({ user_data: nested(MAX_JSON_DEPTH + 1) }));
    expectFailsAlone(record, heard, 'user_data');
  });

  it('refuses a user_data nested 5,000 deep without failing the record, and what is left serialises', () => {
    const { record, heard } = decode(bodyWith({ user_data: nested(5000) }));
    expectFailsAlone(record, heard, 'user_data');
    expect(() => JSON.stringify(record.values)).not.toThrow();
  });

  it.each([
    ['one long string', JSON.stringify('x'.repeat(MAX_FIELD_CHARS))],
    ['an object with one long string', JSON.stringify({ identity: 'x'.repeat(MAX_FIELD_CHARS) })],
    ['a wide array', JSON.stringify(Array.from({ length: MAX_FIELD_CHARS / 2 }, () => 1))],
    ['many keys', JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 0])))],
  ])('refuses a user_data over 64 KiB encoded: %s', (_label, raw) => {
    const { record, heard } = decode(bodyWith({ user_data: raw }));
    expectFailsAlone(record, heard, 'user_data');
  });

  it('keeps a user_data well under 64 KiB encoded, such as 3,000 small numbers or a 60,000-character string', () => {
    for (const raw of [
      JSON.stringify(Array.from({ length: 3000 }, (_, i) => i)),
      JSON.stringify('x'.repeat(60_000)),
    ]) {
      const { record, heard } = decode(bodyWith({ user_data: raw }));
      expect(heard).toEqual([]);
      expect(JSON.stringify(record.values.user_data)).toBe(raw);
    }
  });

  it('keeps a __proto__ key as data: it neither fails the field nor changes what the value is', () => {
    const { record, heard } = decode(bodyWith({ user_data: '{"__proto__":{"polluted":true},"a":1}' }));
    expect(heard).toEqual([]);
    const value = record.values.user_data as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(JSON.stringify(value)).toBe('{"__proto__":{"polluted":true},"a":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('a hostile body', () => {
  it('reads no field through a top-level __proto__ key', () => {
    const text = `{"__proto__":{"price":"1","user_data":{"a":1}},"dr_sid":"${SID}"}`;
    const { record, heard } = decode(text);
    expect(heard).toEqual([]);
    expect(record.values.price).toBeUndefined();
    expect(record.values.user_data).toBeUndefined();
  });
});

describe('a hostile upstream, every field kind', () => {
  // Values CarrierX should never send, for any field: each must fail its field alone or decode to something
  // that serialises, and never throw or touch the other fields.
  const HOSTILE: Record<string, string> = {
    'a 5,000-deep array': nested(5000),
    'a 5,000-deep object': `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
    'a 70,000-character string': JSON.stringify('9'.repeat(70_000)),
    'a 70,000-digit number': '9'.repeat(70_000),
    'a number past the float range': '1e999999',
    'an integer past 2^53': '12345678901234567890',
    'negative zero': '-0',
    'an empty string': '""',
    'an empty object': '{}',
    'an empty array': '[]',
    true: 'true',
    'a lone surrogate': '"\\ud800"',
    'a NUL character': '"\\u0000"',
    'an impossible date': '"2026-02-30T10:00:00Z"',
    'a number as text in exponent form': '"1e-7"',
    'an upper-case enum value': '"INBOUND"',
    'a __proto__ object': '{"__proto__":{"x":1}}',
  };
  const cases = CDR_FIELDS.filter((f) => f.api !== 'dr_sid').flatMap((f) =>
    Object.entries(HOSTILE).map(([label, raw]) => [f.api, label, raw] as const),
  );

  it.each(cases)('%s given %s fails alone or decodes, and the record serialises', (api, _label, raw) => {
    const { record, heard } = decode(bodyWith({ [api]: raw }));
    if (record.invalid) expectFailsAlone(record, heard, api);
    else {
      expect(heard).toEqual([]);
      for (const f of CDR_FIELDS)
        if (f.api !== api) expect(record.values[f.api]).toEqual(pristine.values[f.api]);
    }
    expect(() => JSON.stringify(record.values)).not.toThrow();
    expect(JSON.stringify(record.values).length).toBeLessThan(2 * MAX_FIELD_CHARS);
    // The log hears the field and the type it got, never the value.
    for (const h of heard) expect(h.got.length).toBeLessThan(10);
  });

  it.each([
    ['direction', 'an undocumented value', '"sideways"'],
    ['direction', 'a number', '5'],
    ['version', 'an integer past 32 bits', '2147483648'],
    ['version', 'a fraction', '2.5'],
    ['transcoded', 'a boolean as a string', '"true"'],
    ['stir_identity', 'neither "true" nor "false"', '"maybe"'],
    ['number_src', 'a number', '15012678830'],
    ['number_src', 'a string over 64 KiB', JSON.stringify('1'.repeat(MAX_FIELD_CHARS + 1))],
    ['price', 'decimal text over 64 KiB', JSON.stringify('9'.repeat(MAX_FIELD_CHARS + 1))],
    ['price', 'a decimal comma', '"12,50"'],
    ['price', 'an object', '{"amount":1}'],
    ['price', 'a number past the float range', '1e999999'],
  ])('refuses %s given %s as that field alone', (api, _label, raw) => {
    const { record, heard } = decode(bodyWith({ [api]: raw }));
    expectFailsAlone(record, heard, api);
  });
});
