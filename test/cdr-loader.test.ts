import { describe, expect, it } from 'vitest';
import type { CarrierXClient } from '../src/carrierx/client.ts';
import type { CdrRecord } from '../src/carrierx/record.ts';
import { ServiceError } from '../src/errors.ts';
import { createCdrLoader } from '../src/records/cdr-loader.ts';

const sid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A client whose calls finish only when the test says so, recording what was asked and how many ran at once. */
function controlledClient() {
  const calls: { drSid: string; fields: readonly string[]; finish(fail?: boolean): void }[] = [];
  let running = 0;
  let peak = 0;
  const client: CarrierXClient = {
    getCallDetailRecord(drSid, fields) {
      running += 1;
      peak = Math.max(peak, running);
      return new Promise<CdrRecord>((resolve, reject) => {
        calls.push({
          drSid,
          fields,
          finish(fail) {
            running -= 1;
            if (fail) reject(new ServiceError('NOT_FOUND', 'no such record'));
            else resolve({ drSid, values: { dr_sid: drSid }, invalid: undefined });
          },
        });
      });
    },
    listCallDetailRecords: () => {
      throw new Error('not used');
    },
    state: () => {
      throw new Error('not used');
    },
    close: async () => {},
  };
  return { client, calls, peak: () => peak };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A loader over a controlled client, with room for ten records. */
function loaderWith(maxParallel: number) {
  const controlled = controlledClient();
  const loader = createCdrLoader({
    client: controlled.client,
    credentials: { authorization: 'Bearer t' },
    maxParallel,
    maxRecords: 10,
  });
  return { ...controlled, loader };
}

describe('the per-request CDR loader', () => {
  it('fetches at most maxParallel records at once and starts the rest in order as calls finish', async () => {
    const { loader, calls, peak } = loaderWith(2);
    const settled = Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) => loader.load({ drSid: sid(n), fields: ['dr_sid'] })),
    );
    await tick();
    expect(calls.map((c) => c.drSid)).toEqual([sid(1), sid(2)]);

    calls[0]?.finish(true); // a failed call frees its slot too
    await tick();
    expect(calls.map((c) => c.drSid)).toEqual([sid(1), sid(2), sid(3)]);

    for (let i = 1; i < 5; i++) {
      calls[i]?.finish();
      await tick();
    }
    expect(calls.map((c) => c.drSid)).toEqual([1, 2, 3, 4, 5].map(sid));
    expect(peak()).toBe(2);
    expect((await settled).map((s) => s.status)).toEqual([
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
  });

  it('asks once for the sorted union of the fields two selections of one record need', async () => {
    const { loader, calls } = loaderWith(4);
    const a = loader.load({ drSid: sid(1), fields: ['dr_sid', 'price'] });
    const b = loader.load({ drSid: sid(1), fields: ['direction', 'dr_sid'] });
    await tick();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.fields).toEqual(['direction', 'dr_sid', 'price']);
    calls[0]?.finish();
    await expect(Promise.all([a, b])).resolves.toHaveLength(2);
  });

  it('loads the same record and fields once per request, and leaves anything wider to the record source', async () => {
    const { loader, calls } = loaderWith(4);
    const first = loader.load({ drSid: sid(1), fields: ['direction', 'dr_sid', 'price'] });
    await tick();
    calls[0]?.finish();
    await first;
    // DataLoader's own per-request cache: the same key is not asked again.
    await loader.load({ drSid: sid(1), fields: ['direction', 'dr_sid', 'price'] });
    expect(calls).toHaveLength(1);
    // Fewer fields or other fields are another key: the record cache below decides what they cost.
    const narrower = loader.load({ drSid: sid(1), fields: ['dr_sid', 'price'] });
    await tick();
    expect(calls.map((c) => c.fields)).toEqual([
      ['direction', 'dr_sid', 'price'],
      ['dr_sid', 'price'],
    ]);
    calls[1]?.finish();
    await narrower;
  });
});
