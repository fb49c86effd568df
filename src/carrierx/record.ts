import { CarrierXError } from '../errors.ts';
import { CDR_FIELDS, type CdrField, DECIMAL_TEXT, DIRECTIONS, type WireKind } from './fields.ts';

/**
 * A CDR as resolvers see it: values decoded at the boundary, by API name. A field CarrierX sent with an
 * unexpected value is listed in `invalid` instead, so that field alone fails and the rest of the record stands.
 */
export interface CdrRecord {
  readonly drSid: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly invalid: Readonly<Record<string, string>> | undefined;
}

const INVALID = Symbol('invalid');
type Decoder = (raw: unknown) => unknown;

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const directions: ReadonlySet<unknown> = new Set(DIRECTIONS);

// Each decoder returns the value resolvers get, or INVALID. null is a legal value for every field but dr_sid.
const DECODERS: Record<WireKind, Decoder> = {
  id: (raw) => (typeof raw === 'string' && raw !== '' ? raw : INVALID),
  string: (raw) => (typeof raw === 'string' ? raw : INVALID),
  decimal: (raw) => {
    // Documented as a number, sent as a string: accept both, hand on the exact text.
    const text = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
    return typeof text === 'string' && DECIMAL_TEXT.test(text) ? text : INVALID;
  },
  datetime: (raw) => {
    if (typeof raw !== 'string' || !ISO_DATETIME.test(raw)) return INVALID;
    const date = new Date(raw);
    return Number.isNaN(date.getTime()) ? INVALID : date;
  },
  boolean: (raw) => (typeof raw === 'boolean' ? raw : INVALID),
  'string-boolean': (raw) => {
    if (raw === 'true' || raw === true) return true;
    if (raw === 'false' || raw === false) return false;
    return INVALID;
  },
  // GraphQL's Int is 32-bit: a larger value would fail serialisation without our error code.
  int: (raw) =>
    typeof raw === 'number' && Number.isInteger(raw) && raw >= -(2 ** 31) && raw < 2 ** 31 ? raw : INVALID,
  json: (raw) => raw,
  direction: (raw) => (directions.has(raw) ? raw : INVALID),
};

const FIELDS: ReadonlyArray<readonly [CdrField, Decoder]> = CDR_FIELDS.map((f) => [f, DECODERS[f.kind]]);

// Every key of the field map, unset. Each record's values start as a copy, so all records share one shape and
// are built in one allocation, instead of growing (and reallocating) property by property.
const NO_VALUES: Readonly<Record<string, unknown>> = Object.fromEntries(
  CDR_FIELDS.map((f) => [f.api, undefined]),
);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a parsed CarrierX response body at the boundary. Throws UPSTREAM_BAD_RESPONSE when the body is
 * not a CDR object for `expectedSid`; unknown keys are ignored (CarrierX adds fields over time).
 * `onInvalid` hears about each field that failed to decode, for the logs.
 */
export function decodeCdr(
  body: unknown,
  expectedSid: string,
  onInvalid?: (api: string, kind: WireKind, got: string) => void,
): CdrRecord {
  if (!isPlainObject(body)) {
    throw new CarrierXError(
      'UPSTREAM_BAD_RESPONSE',
      'CarrierX sent something that is not a call detail record.',
    );
  }
  const drSid = body.dr_sid;
  if (typeof drSid !== 'string' || drSid.toLowerCase() !== expectedSid.toLowerCase()) {
    throw new CarrierXError(
      'UPSTREAM_BAD_RESPONSE',
      'CarrierX sent a call detail record without the requested dr_sid.',
    );
  }
  const values: Record<string, unknown> = { ...NO_VALUES };
  let invalid: Record<string, string> | undefined;
  for (const [f, decode] of FIELDS) {
    const raw = body[f.api];
    if (raw === undefined) continue;
    if (raw === null && f.kind !== 'id') {
      values[f.api] = null;
      continue;
    }
    const value = decode(raw);
    if (value === INVALID) {
      invalid ??= {};
      invalid[f.api] = `CarrierX sent an unexpected value for ${f.api} (expected ${f.kind}).`;
      onInvalid?.(f.api, f.kind, Array.isArray(raw) ? 'array' : typeof raw);
    } else {
      values[f.api] = value;
    }
  }
  return { drSid, values, invalid };
}

/** The decoded value of one field, or the field's own error when CarrierX sent something unexpected. */
export function readField(record: CdrRecord, api: string): unknown {
  const problem = record.invalid?.[api];
  if (problem !== undefined) throw new CarrierXError('UPSTREAM_BAD_RESPONSE', problem);
  return record.values[api] ?? null;
}
