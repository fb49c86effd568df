import type { CdrRecord } from './data.ts';

/** A problem with the list query (filter, order, paging); the simulator answers it with 400. */
export class QueryError extends Error {
  override name = 'QueryError';
}

/** The operators CarrierX's own sources use; the others its docs hint at are unconfirmed, so they are 400s. */
export const FILTER_OPERATORS = ['eq', 'like', 'gt', 'ge', 'lt'] as const;

/**
 * Unconfirmed operators the simulator accepts only when told to (SimulatorOptions.filterOperators), so that the
 * service is tested both sending them and doing their work itself. `in` takes a parenthesised, comma-separated
 * list of values: `number_src in ("+15162065451","15162065451")`.
 */
export const OPTIONAL_FILTER_OPERATORS = ['in', 'le'] as const;
type Operator = (typeof FILTER_OPERATORS)[number] | (typeof OPTIONAL_FILTER_OPERATORS)[number];

interface Condition {
  field: string;
  operator: Operator;
  value: string | null;
  /** The values of an `in`. */
  values?: string[];
  pattern?: RegExp;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const WHITESPACE = /\s+/y;

/** The text a record value is compared as; objects compare as their JSON, null stays null. */
export function comparable(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Numeric when both sides are decimal numbers ("60" vs "6.5"), otherwise by string. */
export function compareText(left: string, right: string): number {
  if (DECIMAL.test(left) && DECIMAL.test(right)) {
    const difference = Number(left) - Number(right);
    return difference < 0 ? -1 : difference > 0 ? 1 : 0;
  }
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Parses `<field> <op> <value> [and <field> <op> <value> ...]` into a record predicate. Values may be single- or
 * double-quoted (quotes required around spaces; a backslash escapes the next character); a bare `null` is the
 * null literal. Throws QueryError naming the unknown field, the unknown operator or where the syntax broke.
 */
export function parseFilter(
  text: string,
  fields: ReadonlySet<string>,
  extraOperators: readonly string[] = [],
): (record: CdrRecord) => boolean {
  const supported = [...FILTER_OPERATORS, ...extraOperators];
  const conditions: Condition[] = [];
  let position = 0;
  const skipWhitespace = () => {
    WHITESPACE.lastIndex = position;
    if (WHITESPACE.test(text)) position = WHITESPACE.lastIndex;
  };
  const word = () => {
    WORD.lastIndex = position;
    const match = WORD.exec(text);
    if (!match) return undefined;
    position = WORD.lastIndex;
    return match[0];
  };
  const syntax = (expected: string) =>
    new QueryError(
      `Invalid filter: expected ${expected} at position ${position} of "${text}"${
        position < text.length ? ` (found "${text.slice(position).split(/\s/)[0]}")` : ''
      }`,
    );

  skipWhitespace();
  while (true) {
    const field = word();
    if (field === undefined) throw syntax('a field name');
    if (!fields.has(field)) throw new QueryError(`Invalid filter: unknown field "${field}"`);
    skipWhitespace();
    const operatorStart = position;
    const operator = word()?.toLowerCase();
    if (operator === undefined) throw syntax(`an operator after "${field}"`);
    if (!supported.includes(operator)) {
      position = operatorStart;
      throw new QueryError(
        `Invalid filter: unsupported operator "${operator}" (supported: ${supported.join(', ')})`,
      );
    }
    skipWhitespace();
    if (operator === 'in') {
      conditions.push({ field, operator, value: '', values: readValueList() });
      skipWhitespace();
      if (position >= text.length) break;
      readJoiner();
      continue;
    }
    const value = readValue();
    if (value === null && operator !== 'eq') {
      throw new QueryError(`Invalid filter: operator "${operator}" cannot compare with null`);
    }
    const condition: Condition = { field, operator: operator as Operator, value };
    if (operator === 'like' && value !== null) condition.pattern = likePattern(value);
    conditions.push(condition);

    skipWhitespace();
    if (position >= text.length) break;
    readJoiner();
  }
  return (record) => conditions.every((condition) => matches(condition, comparable(record[condition.field])));

  function readJoiner(): void {
    const joiner = word();
    if (joiner?.toLowerCase() !== 'and' || !/\s/.test(text[position] ?? '')) {
      if (joiner !== undefined) position -= joiner.length;
      throw syntax('"and" between conditions (only "and" joins conditions)');
    }
    skipWhitespace();
  }

  function readValueList(): string[] {
    if (text[position] !== '(') throw syntax('"(" opening the values of "in"');
    position += 1;
    const values: string[] = [];
    while (true) {
      skipWhitespace();
      const value = readValue(',)');
      if (value === null) throw new QueryError('Invalid filter: operator "in" cannot compare with null');
      values.push(value);
      skipWhitespace();
      const next = text[position];
      position += 1;
      if (next === ')') return values;
      if (next !== ',') {
        position -= 1;
        throw syntax('"," or ")" in the values of "in"');
      }
    }
  }

  /** A value; `ends` are the characters that may follow one besides whitespace (inside an `in` list). */
  function readValue(ends = ''): string | null {
    const quote = text[position];
    if (quote === '"' || quote === "'") {
      let value = '';
      for (let index = position + 1; index < text.length; index++) {
        const char = text[index];
        if (char === '\\' && index + 1 < text.length) {
          value += text[++index];
        } else if (char === quote) {
          position = index + 1;
          if (
            position < text.length &&
            !/\s/.test(text[position] as string) &&
            !ends.includes(text[position] as string)
          ) {
            throw syntax('whitespace after the closing quote');
          }
          return value;
        } else {
          value += char;
        }
      }
      throw new QueryError(
        `Invalid filter: unterminated ${quote} quote at position ${position} of "${text}"`,
      );
    }
    const start = position;
    while (
      position < text.length &&
      !/\s/.test(text[position] as string) &&
      !ends.includes(text[position] as string)
    )
      position++;
    if (position === start) throw syntax('a value');
    const bare = text.slice(start, position);
    return bare === 'null' ? null : bare;
  }
}

function matches(condition: Condition, actual: string | null): boolean {
  if (condition.values) return actual !== null && condition.values.some((v) => compareText(actual, v) === 0);
  const expected = condition.value;
  if (expected === null) return actual === null;
  if (actual === null) return false;
  switch (condition.operator) {
    case 'eq':
      return compareText(actual, expected) === 0;
    case 'like':
      return (condition.pattern as RegExp).test(actual);
    case 'gt':
      return compareText(actual, expected) > 0;
    case 'ge':
      return compareText(actual, expected) >= 0;
    case 'lt':
      return compareText(actual, expected) < 0;
    case 'le':
      return compareText(actual, expected) <= 0;
    case 'in':
      return false;
  }
}

function likePattern(value: string): RegExp {
  const body = value
    .split('%')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** The list order when the request names none: newest call first, dr_sid to break ties. */
export const DEFAULT_ORDER = 'date_start desc';

/**
 * Parses `field [asc|desc]` (comma-separated for several keys) into a comparator. Nulls sort after every value
 * ascending, as in PostgreSQL, and dr_sid always breaks ties so that paging is stable.
 */
export function parseOrder(
  text: string,
  fields: ReadonlySet<string>,
): (left: CdrRecord, right: CdrRecord) => number {
  const keys = text.split(',').map((part) => {
    const [field = '', direction = 'asc', ...rest] = part.trim().split(/\s+/);
    if (!fields.has(field)) throw new QueryError(`Invalid order: unknown field "${field}"`);
    const lower = direction.toLowerCase();
    if ((lower !== 'asc' && lower !== 'desc') || rest.length > 0) {
      throw new QueryError(`Invalid order: expected "${field} asc" or "${field} desc", got "${part.trim()}"`);
    }
    return { field, sign: lower === 'asc' ? 1 : -1 };
  });
  const last = keys[keys.length - 1];
  if (last && last.field !== 'dr_sid') keys.push({ field: 'dr_sid', sign: last.sign });
  return (left, right) => {
    for (const { field, sign } of keys) {
      const a = comparable(left[field]);
      const b = comparable(right[field]);
      if (a === b) continue;
      if (a === null) return sign;
      if (b === null) return -sign;
      const result = compareText(a, b);
      if (result !== 0) return result * sign;
    }
    return 0;
  };
}
