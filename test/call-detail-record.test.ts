import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CDR_FIELDS } from '../src/carrierx/fields.ts';
import { SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

// CarrierX's own sample, read from the copy the simulator serves.
const sample = JSON.parse(
  readFileSync(new URL('../src/carrierx/simulator/sample-cdr.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/** What GraphQL must answer for a wire value, by the field's documented mapping. */
function expectedGraphQLValue(kind: string, wire: unknown): unknown {
  if (wire === null) return null;
  if (kind === 'direction') return String(wire).toUpperCase();
  if (kind === 'string-boolean') return wire === 'true';
  return wire;
}

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());
beforeEach(() => h.simulator.resetLog());

describe('CallDetailRecord', () => {
  it('round-trips every field of CarrierX sample record with its exact value', async () => {
    const query = `query All($drSid: UUID!) { callDetailRecord(drSid: $drSid) { ${CDR_FIELDS.map((f) => f.name).join(' ')} } }`;
    const res = await h.execute(query, { drSid: SAMPLE_DR_SID });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const expected = Object.fromEntries(
      CDR_FIELDS.map((f) => [f.name, expectedGraphQLValue(f.kind, sample[f.api])]),
    );
    expect(res.body.data).toEqual({ callDetailRecord: expected });
    expect(Object.keys(expected)).toHaveLength(52);
    expect(h.includeFieldsSeen()).toEqual([CDR_FIELDS.map((f) => f.api).sort()]);
  });

  it('keeps decimal text exactly as CarrierX sent it', async () => {
    const res = await h.execute(
      `query($drSid: UUID!) { callDetailRecord(drSid: $drSid) { duration durationBilling price rateLcrDst priceLcrSrc } }`,
      { drSid: SAMPLE_DR_SID },
    );
    // The raw JSON text, not a parsed number: "0.0025" must not become 0.0025 or 0.002500000001.
    expect(res.text).toContain('"duration":"4.25015"');
    expect(res.text).toContain('"durationBilling":"60"');
    expect(res.text).toContain('"price":"0.0025"');
    expect(res.text).toContain('"rateLcrDst":"0.005"');
    expect(res.text).toContain('"priceLcrSrc":null');
  });

  it('names every field by mechanical camelCase of its API name', () => {
    const names = Object.fromEntries(CDR_FIELDS.map((f) => [f.api, f.name]));
    expect(names.dr_sid).toBe('drSid');
    expect(names.sipcallid_dst).toBe('sipcallidDst');
    expect(names.stir_orig_id).toBe('stirOrigId');
    expect(names.trunk_group_sid_src).toBe('trunkGroupSidSrc');
    expect(Object.keys(names).sort()).toEqual(Object.keys(sample).sort());
  });

  it('describes every field in the schema', async () => {
    const res = await h.execute(
      `{ __type(name: "CallDetailRecord") { fields { name description type { kind name ofType { name } } } } }`,
    );
    const fields = (res.body.data as { __type: { fields: { name: string; description: string | null }[] } })
      .__type.fields;
    // The 52 of CarrierX, two durations, seven references and the global id.
    expect(fields.length).toBe(52 + 2 + 7 + 1);
    for (const f of fields) expect(f.description, f.name).toMatch(/\S{3,}/);
  });
});
