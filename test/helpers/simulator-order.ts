import { CHILD_PARTNER_SID } from '../../src/carrierx/simulator/index.ts';
import type { Harness } from './harness.ts';

type Row = Readonly<Record<string, unknown>>;

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * The dr_sids of the demo token's records (the child partner's left out) matching `predicate`, in the order the
 * simulator lists them: by `field` (numbers as numbers, nulls last ascending), then by dr_sid in the same
 * direction.
 */
export function expectedOrder(
  h: Harness,
  predicate: (row: Row) => boolean,
  field = 'date_start',
  descending = true,
): string[] {
  const sign = descending ? -1 : 1;
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  const compare = (a: string, b: string) =>
    DECIMAL.test(a) && DECIMAL.test(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
  return [...h.simulator.records.values()]
    .filter((row) => row.partner_sid !== CHILD_PARTNER_SID && predicate(row))
    .sort((left, right) => {
      const a = text(left[field]);
      const b = text(right[field]);
      if (a !== b) {
        if (a === null) return sign;
        if (b === null) return -sign;
        const result = compare(a, b);
        if (result !== 0) return result * sign;
      }
      return compare(left.dr_sid as string, right.dr_sid as string) * sign;
    })
    .map((row) => row.dr_sid as string);
}
