import { ServiceError } from '../errors.ts';
import { CDR_FIELDS, type CdrField, DECIMAL_TEXT, DIRECTIONS, type WireKind } from './fields.ts';

/**
 * A CDR as resolvers see it: values decoded at the boundary, by API name. A field CarrierX sent with an
 * unexpected value is listed in `invalid` instead, so that field alone fails and the rest of the record stands.
 */
export interface CdrRecord {
  readonly drSid: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly invalid: Readonly<Record<string, string>> | undefined;
  /** The record as GraphQL reads it (`viewOf`), made by the decoder or on first read. */
  view?: CdrView;
}

const INVALID = Symbol('invalid');
type Decoder = (raw: unknown) => unknown;

/**
 * Bounds on one field's value, checked at the boundary. A deeper or bigger value is that field's error, not the
 * record's: unbounded, one `user_data` nested 5,000 deep overflowed the stack of the response's JSON.stringify
 * and lost every record of the operation, and one huge string would be repeated by every alias that selects it.
 */
export const MAX_JSON_DEPTH = 32;
/** Characters of one field's text (a string, decimal text, or a JSON value's encoding, escapes aside). */
export const MAX_FIELD_CHARS = 64 * 1024;

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// What DateTime can print as four-digit ISO text.
const MIN_TIME = Date.parse('0000-01-01T00:00:00Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');
const directions: ReadonlySet<unknown> = new Set(DIRECTIONS);

/** The number written by `count` ASCII digits of `text` from `at` (ISO_DATETIME has checked they are digits). */
function digitsAt(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) n = n * 10 + text.charCodeAt(i) - 0x30;
  return n;
}

/**
 * An ISO-8601 datetime as the instant it names, or INVALID unless the instant has the very components the text
 * has: Date rolls 2026-02-30 over to March 2 and T24:00 to the next day. Components sit at fixed places once
 * ISO_DATETIME matches, so they are range-checked in place and V8's own parser reads the instant (measured:
 * faster than building it with Date.UTC from regex captures). It refuses offsets such as +24:00 itself.
 */
function decodeDatetime(raw: unknown): unknown {
  if (typeof raw !== 'string' || !ISO_DATETIME.test(raw)) return INVALID;
  const year = digitsAt(raw, 0, 4);
  const month = digitsAt(raw, 5, 2);
  const day = digitsAt(raw, 8, 2);
  if (month < 1 || month > 12 || day < 1) return INVALID;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (DAYS_IN_MONTH[month - 1] as number) + (leap ? 1 : 0)) return INVALID;
  // Second 60 (a leap second) has no instant in a Date: refused rather than moved to the next minute.
  if (digitsAt(raw, 11, 2) > 23 || digitsAt(raw, 14, 2) > 59 || digitsAt(raw, 17, 2) > 59) return INVALID;
  const time = Date.parse(raw);
  return time >= MIN_TIME && time <= MAX_TIME ? new Date(time) : INVALID;
}

/**
 * Whether a JSON value (from JSON.parse: no cycles) is at most MAX_JSON_DEPTH deep and about MAX_FIELD_CHARS
 * long encoded. Walked with an explicit stack: recursion is what such a value would overflow.
 */
function jsonWithinBounds(value: unknown): boolean {
  if (typeof value === 'string') return value.length + 2 <= MAX_FIELD_CHARS;
  if (typeof value !== 'object' || value === null) return true;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  let chars = 0;
  while (stack.length > 0) {
    const node = stack.pop();
    const depth = depths.pop() as number;
    // Each value's text and the separator after it (escapes aside: this is a bound, not an encoder).
    if (typeof node === 'string') chars += node.length + 3;
    else if (typeof node === 'number') chars += String(node).length + 1;
    else if (typeof node !== 'object' || node === null) chars += 6;
    else {
      if (depth > MAX_JSON_DEPTH) return false;
      if (Array.isArray(node)) {
        // Counted before the items are stacked: a wide array is refused without walking it.
        chars += 2 + node.length;
        if (chars > MAX_FIELD_CHARS) return false;
        for (const item of node) {
          stack.push(item);
          depths.push(depth + 1);
        }
      } else {
        chars += 2;
        for (const key in node) {
          chars += key.length + 3;
          if (chars > MAX_FIELD_CHARS) return false;
          stack.push((node as Record<string, unknown>)[key]);
          depths.push(depth + 1);
        }
      }
    }
    if (chars > MAX_FIELD_CHARS) return false;
  }
  return true;
}

// Each decoder returns the value resolvers get, or INVALID. null is a legal value for every field but dr_sid.
const DECODERS: Record<WireKind, Decoder> = {
  id: (raw) => (typeof raw === 'string' && raw !== '' ? raw : INVALID),
  string: (raw) => (typeof raw === 'string' && raw.length <= MAX_FIELD_CHARS ? raw : INVALID),
  // Documented as a number, sent as a string. A JSON number is decoded from its literal's text, not here: the
  // parsed float has already lost digits ("12.50" → 12.5). See decodeCdr.
  decimal: (raw) =>
    typeof raw === 'string' && raw.length <= MAX_FIELD_CHARS && DECIMAL_TEXT.test(raw) ? raw : INVALID,
  datetime: decodeDatetime,
  boolean: (raw) => (typeof raw === 'boolean' ? raw : INVALID),
  'string-boolean': (raw) => {
    if (raw === 'true' || raw === true) return true;
    if (raw === 'false' || raw === false) return false;
    return INVALID;
  },
  // GraphQL's Int is 32-bit: a larger value would fail serialisation without our error code.
  int: (raw) =>
    typeof raw === 'number' && Number.isInteger(raw) && raw >= -(2 ** 31) && raw < 2 ** 31 ? raw : INVALID,
  json: (raw) => (jsonWithinBounds(raw) ? raw : INVALID),
  direction: (raw) => (directions.has(raw) ? raw : INVALID),
};

/** Each field and its decoder, by API name. */
const FIELD_OF: ReadonlyMap<string, readonly [CdrField, Decoder]> = new Map(
  CDR_FIELDS.map((f) => [f.api, [f, DECODERS[f.kind]] as const]),
);

// Every key of the field map, unset. Each record's values start as a copy, so all records share one shape and
// are built in one allocation, instead of growing (and reallocating) property by property.
const NO_VALUES: Readonly<Record<string, unknown>> = Object.fromEntries(
  CDR_FIELDS.map((f) => [f.api, undefined]),
);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The text of each top-level number literal in a JSON object's text, by key (the last of a repeated key, as
 * JSON.parse keeps the last). `text` must be JSON that JSON.parse accepted as an object: this scanner skips values
 * without checking them.
 */
function topLevelNumberLiterals(text: string): Map<string, string> {
  const literals = new Map<string, string>();
  let i = text.indexOf('{') + 1;
  for (;;) {
    i = skipSpace(text, i);
    const c = text.charCodeAt(i);
    if (c === 0x7d /* } */ || Number.isNaN(c)) return literals;
    if (c === 0x2c /* , */) {
      i++;
      continue;
    }
    const keyStart = i;
    const keyEnd = stringEnd(text, i);
    i = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the colon
    const start = i;
    i = valueEnd(text, i);
    const first = text.charCodeAt(start);
    // Only numbers are kept. A repeated key whose last value is not a number parses as no number either, so
    // its literal is never asked for.
    if (first === 0x2d /* - */ || (first >= 0x30 && first <= 0x39)) {
      const quoted = text.slice(keyStart, keyEnd);
      const key: string = quoted.includes('\\') ? JSON.parse(quoted) : quoted.slice(1, -1);
      literals.set(key, text.slice(start, i));
    }
  }
}

function skipSpace(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  return i;
}

/** The index just past the string literal opening at `i`. */
function stringEnd(text: string, i: number): number {
  for (let from = i + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    // The quote closes the string unless an odd run of backslashes escapes it.
    let before = quote - 1;
    while (text.charCodeAt(before) === 0x5c /* \ */) before--;
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The index just past the JSON value starting at `i`. */
function valueEnd(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === 0x22) return stringEnd(text, i);
  if (first !== 0x7b /* { */ && first !== 0x5b /* [ */) {
    // A number, true, false or null: its characters are letters, digits, '.', '+' and '-', all above 0x2a;
    // what may follow it (',', ']', '}', JSON's spaces) is not. (',' is 0x2c, so it is checked apart.)
    let j = i + 1;
    for (let c = text.charCodeAt(j); c > 0x2a && c !== 0x2c && c !== 0x5d && c !== 0x7d; )
      c = text.charCodeAt(++j);
    return j;
  }
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) j = stringEnd(text, j) - 1;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return text.length;
}

const NUMBER_LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A JSON number literal as plain decimal text with exactly its digits: "12.50" stays "12.50", "1.5e-7" is
 * "0.00000015". INVALID when the text would be longer than MAX_FIELD_CHARS (a literal such as 1e999999).
 */
function decimalFromLiteral(literal: string | undefined): unknown {
  if (literal === undefined) return INVALID;
  const m = NUMBER_LITERAL.exec(literal);
  if (m === null) return INVALID;
  const [, sign, whole = '', fraction = '', exponent] = m;
  if (exponent === undefined) return literal.length <= MAX_FIELD_CHARS ? literal : INVALID;
  const shift = Number(exponent);
  const digits = whole + fraction;
  // Where the decimal point falls in `digits` once the exponent is applied.
  const point = whole.length + shift;
  if (Math.abs(shift) > MAX_FIELD_CHARS) return INVALID;
  let text: string;
  if (point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) text = digits + '0'.repeat(point - digits.length);
  else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  // The literal's own zeros (0.0e5, 00 from 100e-2) are kept after the point, dropped before it.
  text = text.replace(/^0+(?=\d)/, '');
  text = sign + text;
  return text.length <= MAX_FIELD_CHARS && DECIMAL_TEXT.test(text) ? text : INVALID;
}

/**
 * Parses and validates a CarrierX response body at the boundary. Throws UPSTREAM_BAD_RESPONSE when the body is
 * not JSON or not a CDR object for `expectedSid`; unknown keys are ignored (CarrierX adds fields over time).
 * `onInvalid` hears about each field that failed to decode, for the logs (its value is never passed on).
 */
export function decodeCdr(
  text: string,
  expectedSid: string,
  onInvalid?: (api: string, kind: WireKind, got: string) => void,
): CdrRecord {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ServiceError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a response that is not JSON.');
  }
  if (!isPlainObject(body)) {
    throw new ServiceError(
      'UPSTREAM_BAD_RESPONSE',
      'CarrierX sent something that is not a call detail record.',
    );
  }
  const drSid = body.dr_sid;
  if (typeof drSid !== 'string' || drSid.toLowerCase() !== expectedSid.toLowerCase()) {
    throw new ServiceError(
      'UPSTREAM_BAD_RESPONSE',
      'CarrierX sent a call detail record without the requested dr_sid.',
    );
  }
  return decodeFields(body, drSid, () => topLevelNumberLiterals(text), onInvalid);
}

/** One page of CarrierX's list endpoint, validated: the records in list order, and its envelope. */
export interface CdrPage {
  readonly records: readonly CdrRecord[];
  readonly hasMore: boolean;
  /** CarrierX's `total`: null when it sends none (as when paging with after/before). */
  readonly total: number | null;
}

/** CarrierX's dr_sid: a UUID, any case. The one pattern for every SID that reaches or leaves CarrierX. */
export const DR_SID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Parses and validates a list response (`{ items, has_more, total, ... }`) at the boundary, each item as
 * `decodeCdr` does one record. Every item needs a UUID dr_sid: it becomes our cursor and the loader's key.
 * A decimal sent as a JSON number inside an item cannot be recovered as exact text here (its literal is not
 * top-level), so it is that field's error, as any unreadable value is.
 */
export function decodeCdrPage(
  text: string,
  onInvalid?: (api: string, kind: WireKind, got: string) => void,
): CdrPage {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ServiceError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a response that is not JSON.');
  }
  const bad = () =>
    new ServiceError('UPSTREAM_BAD_RESPONSE', 'CarrierX sent a list this service cannot read.');
  if (!isPlainObject(body) || !Array.isArray(body.items)) throw bad();
  const { total } = body;
  if (total !== undefined && total !== null && !(Number.isSafeInteger(total) && (total as number) >= 0)) {
    throw bad();
  }
  const noLiterals = () => new Map<string, string>();
  const records = body.items.map((item: unknown) => {
    if (!isPlainObject(item) || typeof item.dr_sid !== 'string' || !DR_SID.test(item.dr_sid)) throw bad();
    return decodeFields(item, item.dr_sid, noLiterals, onInvalid);
  });
  return {
    records,
    // Absent or not a boolean: CarrierX says nothing of more, so no next page is offered.
    hasMore: body.has_more === true,
    total: typeof total === 'number' ? total : null,
  };
}

function decodeFields(
  body: Record<string, unknown>,
  drSid: string,
  literalsOf: () => Map<string, string>,
  onInvalid: ((api: string, kind: WireKind, got: string) => void) | undefined,
): CdrRecord {
  const values: Record<string, unknown> = { ...NO_VALUES };
  // The view GraphQL reads is filled in the same pass: a second pass over the 52 fields and a WeakMap entry
  // per record cost more than the decoding (profile of scenario 4).
  const view: Record<string, unknown> = { ...NO_FIELDS };
  let invalid: Record<string, string> | undefined;
  let literals: Map<string, string> | undefined;
  // Over the keys CarrierX sent, not over every field: with include_fields a body holds a few of the 52.
  for (const key in body) {
    const field = FIELD_OF.get(key);
    if (field === undefined) continue; // unknown (CarrierX adds fields over time), or an inherited name
    const [f, decode] = field;
    const raw = body[key];
    if (raw === null && f.kind !== 'id') {
      values[key] = null;
      continue;
    }
    let value = decode(raw);
    // A decimal sent as a JSON number: its exact text is in the body, not in the float JSON.parse made of it.
    // Only such a body pays for the second look.
    if (value === INVALID && f.kind === 'decimal' && typeof raw === 'number') {
      literals ??= literalsOf();
      value = decimalFromLiteral(literals.get(key));
    }
    if (value === INVALID) {
      invalid ??= {};
      const message = `CarrierX sent an unexpected value for ${key} (expected ${f.kind}).`;
      invalid[key] = message;
      view[f.name] = new ServiceError('UPSTREAM_BAD_RESPONSE', message);
      onInvalid?.(key, f.kind, Array.isArray(raw) ? 'array' : typeof raw);
    } else {
      values[key] = value;
      view[f.name] = value;
    }
  }
  return { drSid, values, invalid, view };
}

/**
 * A CDR as GraphQL reads it: each field's value under its GraphQL name, null when CarrierX sent none, and the
 * field's own error as an `Error` value when CarrierX sent something unexpected. The type's plain fields have no
 * resolvers: graphql-js and graphql-jit both read such a field as a property, and both report an `Error` they
 * find there as that field's error at its path, null in its place. 52 resolver calls (each with its own `info`)
 * cost about a third of a full-record operation under graphql-jit (docs/performance.md).
 */
export type CdrView = Readonly<Record<string, unknown>>;

// Every GraphQL name, null: each view starts as a copy, so all views share one shape and one allocation.
const NO_FIELDS: Readonly<Record<string, unknown>> = Object.fromEntries(
  CDR_FIELDS.map((f) => [f.name, null]),
);
const NAMES: ReadonlyArray<readonly [api: string, name: string]> = CDR_FIELDS.map((f) => [f.api, f.name]);
const NAME_OF: ReadonlyMap<string, string> = new Map(NAMES);
/** The record as GraphQL reads it; made once per record (a cached record is read by many requests). */
export function viewOf(record: CdrRecord): CdrView {
  if (record.view) return record.view;
  const fields: Record<string, unknown> = { ...NO_FIELDS };
  const { values, invalid } = record;
  for (const [api, name] of NAMES) {
    const value = values[api];
    if (value !== undefined) fields[name] = value;
  }
  if (invalid) {
    for (const api in invalid) {
      const name = NAME_OF.get(api);
      if (name) fields[name] = new ServiceError('UPSTREAM_BAD_RESPONSE', invalid[api] as string);
    }
  }
  record.view = fields;
  return fields;
}
