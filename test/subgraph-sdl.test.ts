import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { graphql } from './gql/index.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

// Printing the federation SDL builds and validates a whole federation-internals schema: a tenth of a start.
const printed = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../src/graphql/schema/print-subgraph.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/graphql/schema/print-subgraph.ts')>();
  return {
    printSubgraphSchema: (...args: Parameters<typeof original.printSubgraphSchema>) => {
      printed.calls += 1;
      return original.printSubgraphSchema(...args);
    },
  };
});

describe('the subgraph SDL a gateway reads', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('is printed when a gateway first asks for it, not when the server starts, and only once', async () => {
    expect(printed.calls).toBe(0);
    const query = graphql(`query SubgraphSdl { _service { sdl } }`);
    const first = await h.execute(query);
    const second = await h.execute(query);
    expect(printed.calls).toBe(1);
    // The committed schema/subgraph.graphql, which composition is tested against.
    const committed = readFileSync(
      path.resolve(import.meta.dirname, '..', 'schema', 'subgraph.graphql'),
      'utf8',
    );
    expect(`${first.body.data?._service.sdl}\n`).toBe(committed);
    expect(second.body.data?._service.sdl).toBe(first.body.data?._service.sdl);
  });
});
