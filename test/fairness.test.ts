import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, DESCENDANT_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ONE_RECORD = `query One($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
// CarrierX takes this long for each of the flooder's calls: the longest any slot is held.
const FLOOD_LATENCY_MS = 200;
const LIMIT = 4;
const QUEUE = 20;
// More callers than the limit and the queue hold: the queue stays full while they flood.
const FLOODERS = LIMIT + QUEUE + 4;

describe('two credentials sharing the limit on calls to CarrierX, one of them flooding', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({
      CARRIERX_ADAPTIVE_CONCURRENCY: 'false',
      CARRIERX_MAX_CONCURRENT_CALLS: String(LIMIT),
      CARRIERX_MAX_QUEUED_CALLS: String(QUEUE),
      CARRIERX_MAX_SHARE_PER_CREDENTIAL: '0.5',
      REQUEST_DEADLINE_MS: '5000',
    });
    // Connecting and warming up happen before anything is measured.
    await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, { token: DESCENDANT_TOKEN });
    h.simulator.faults.add({ match: { token: DEMO_TOKEN }, latencyMs: FLOOD_LATENCY_MS });
  });
  afterAll(() => h.close());

  it("answers the other credential's every query, each within the flooder's one slow call", async () => {
    let flooding = true;
    let flooded = 0;
    const flood = Array.from({ length: FLOODERS }, async () => {
      while (flooding) {
        const res = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID }, { token: DEMO_TOKEN });
        flooded += 1;
        // Refused at once (the queue is full): a pause, or the refusals would spin and starve the test.
        if (res.body.errors) await sleep(20);
      }
    });
    // Until the flooder holds every slot and fills the queue.
    while (h.client.state().queued < QUEUE) await sleep(10);

    const answers: { ok: boolean; ms: number }[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const res = await h.execute<{ callDetailRecord: { drSid: string } | null }, { drSid: string }>(
        ONE_RECORD,
        { drSid: SAMPLE_DR_SID },
        { token: DESCENDANT_TOKEN },
      );
      answers.push({
        ok: res.body.errors === undefined && res.body.data?.callDetailRecord?.drSid === SAMPLE_DR_SID,
        ms: performance.now() - started,
      });
    }
    flooding = false;
    await Promise.all(flood);

    expect(flooded).toBeGreaterThan(0);
    expect(answers.filter((a) => a.ok)).toHaveLength(10);
    // Its calls wait at most for one slot to free, and no slot is held longer than a flooder's call: five times
    // that is room for a busy machine. First come, first served, each would wait behind the full queue (20 calls
    // at 200 ms through 4 slots: a second), or be refused when it found the queue full.
    for (const a of answers) expect(a.ms).toBeLessThan(5 * FLOOD_LATENCY_MS);
  });
});
