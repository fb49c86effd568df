import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import {
  EXAMPLE_DR_SID,
  EXAMPLE_PAGE_QUERY,
  EXAMPLE_SUBSCRIPTION,
  exampleQuery,
} from '../src/graphql/app.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

// GraphiQL opens with these three tabs: a newcomer presses Run on them first, against the embedded simulator.
describe('GraphiQL example tabs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('the first tab, one record by SID, runs on the simulator without errors', async () => {
    const response = await h.execute<{ callDetailRecord: { drSid: string } }, never>(
      exampleQuery(EXAMPLE_DR_SID),
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.callDetailRecord.drSid).toBe(EXAMPLE_DR_SID);
  });

  it('the second tab, a filtered page of calls, runs on the simulator without errors and pages on', async () => {
    type Page = {
      callDetailRecords: {
        totalCount: number | null;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        nodes: { drSid: string; direction?: string }[];
      };
    };
    const first = await h.execute<Page, { after?: string }>(EXAMPLE_PAGE_QUERY);
    expect(first.body.errors).toBeUndefined();
    const page = first.body.data?.callDetailRecords;
    expect(page?.nodes).toHaveLength(20);
    expect(page?.pageInfo.hasNextPage).toBe(true);
    const next = await h.execute<Page, { after?: string }>(EXAMPLE_PAGE_QUERY, {
      after: page?.pageInfo.endCursor ?? '',
    });
    expect(next.body.errors).toBeUndefined();
    const seen = new Set(page?.nodes.map((node) => node.drSid));
    expect(next.body.data?.callDetailRecords.nodes.some((node) => seen.has(node.drSid))).toBe(false);
  });

  it('the third tab, the live feed, streams a call added at the simulator over SSE, as GraphiQL runs it', async () => {
    const response = await h.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${DEMO_TOKEN}`,
      },
      body: JSON.stringify({ query: EXAMPLE_SUBSCRIPTION }),
    });
    // Subscribed once the response has begun: a record added now is after the feed's first watermark.
    const template = h.simulator.records.get(SAMPLE_DR_SID) as Record<string, unknown>;
    const drSid = randomUUID();
    h.simulator.addRecord({
      ...template,
      dr_sid: drSid,
      direction: 'inbound',
      date_insert: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/\ndata: \{/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const data = JSON.parse((/\ndata: (\{.*\})\n/.exec(text) as RegExpExecArray)[1] as string);
    expect(data.errors).toBeUndefined();
    expect(data.data.callDetailRecordAdded.drSid).toBe(drSid);
  });
});
