import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_DR_SID, EXAMPLE_PAGE_QUERY, exampleQuery } from '../src/graphql/app.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

// GraphiQL opens with these two tabs: a newcomer presses Run on them first, against the embedded simulator.
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
});
