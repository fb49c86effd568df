import { readFileSync } from 'node:fs';
import path from 'node:path';
import { executeCodegen, loadContext } from '@graphql-codegen/cli';
import { isScalarType, isSpecifiedScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import repoCodegen from '../codegen.ts';
import { schema } from '../src/graphql/schema/index.ts';

const FRONTEND_CONFIG = 'examples/frontend/graphql.config.yml';

/** Runs GraphQL Code Generator on the example's config as a frontend would, without writing the files. */
async function generateFrontend(): Promise<{ filename: string; content: string }[]> {
  const context = await loadContext(FRONTEND_CONFIG);
  const { result, error } = await executeCodegen(context);
  if (error) throw error;
  return result;
}

async function generateFrontendTypes(): Promise<string> {
  const types = (await generateFrontend()).find((file) => file.filename.endsWith('graphql.ts'));
  if (!types) throw new Error('codegen wrote no graphql.ts');
  return types.content;
}

describe('a frontend generating types from the committed schema', () => {
  it('types UUID, DateTime and Decimal as strings, not unknown, in queries and subscriptions, with the shipped graphql.config.yml', async () => {
    const types = await generateFrontendTypes();
    expect(types).toContain('export type CallDetailRecordQueryVariables = Exact<{\n  drSid: string;\n}>;');
    expect(types).toContain(
      "{ __typename: 'Query', callDetailRecord: { __typename: 'CallDetailRecord', id: string, drSid: string, dateStart: string | null, price: string | null, direction: CallDetailRecordDirection | null, userData: unknown } | null }",
    );
    expect(types).toContain(
      "{ callDetailRecordAdded: { __typename: 'CallDetailRecord', id: string, drSid: string, dateInsert: string | null, numberSrc: string | null, numberDst: string | null, price: string | null, direction: CallDetailRecordDirection | null } }",
    );
  }, 30_000);

  it('selects __typename everywhere and writes the persisted-documents manifest, with each id in its document', async () => {
    const files = await generateFrontend();
    const manifest = files.find((file) => file.filename.endsWith('persisted-documents.json'));
    const entries = Object.entries(JSON.parse(manifest?.content ?? '{}') as Record<string, string>);
    // The query and the live feed's subscription (examples/frontend/src/call-detail-record*.ts).
    expect(entries.map(([, document]) => document.split('(')[0]).sort()).toEqual([
      'query CallDetailRecord',
      'subscription CallDetailRecordAdded',
    ]);
    const query = entries.find(([, document]) => document.startsWith('query')) as [string, string];
    expect(query[1]).toContain('callDetailRecord(drSid: $drSid) { __typename ');
    // A subscription's root selects its one field alone (no __typename beside it); its record has one.
    const subscription = entries.find(([, document]) => document.startsWith('subscription')) as [
      string,
      string,
    ];
    expect(subscription[1]).toContain('callDetailRecordAdded(filter: $filter) { __typename ');
    const types = files.find((file) => file.filename.endsWith('graphql.ts'));
    for (const [id] of entries) expect(types?.content).toContain(`"__meta__":{"hash":"${id}"}`);
  }, 30_000);

  it('is committed as codegen writes it (examples/frontend/src/gql/), so the examples run and typecheck', async () => {
    const files = await generateFrontend();
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      // Output paths are relative to the config's folder, where `npx graphql-codegen` runs in a frontend.
      const committed = path.resolve(path.dirname(FRONTEND_CONFIG), file.filename);
      expect(readFileSync(committed, 'utf8'), file.filename).toBe(file.content);
    }
  }, 30_000);

  it('ships the same scalar mapping the repository types its own test documents with', async () => {
    const context = await loadContext(FRONTEND_CONFIG);
    const shipped = Object.values(context.getConfig().generates)[0] as { config: { scalars: unknown } };
    const own = repoCodegen.generates['test/gql/'] as { config: { scalars: unknown } };
    expect(shipped.config.scalars).toEqual(own.config.scalars);
  });

  it('says where each custom scalar of the schema is specified (@specifiedBy)', () => {
    const custom = Object.values(schema.getTypeMap()).filter(
      // _Any is federation's own, for representations; it is not part of the public API.
      (type) => isScalarType(type) && !isSpecifiedScalarType(type) && !type.name.startsWith('_'),
    );
    expect(custom.map((type) => type.name).sort()).toEqual(['DateTime', 'Decimal', 'JSON', 'UUID']);
    for (const type of custom) {
      expect(isScalarType(type) && type.specifiedByURL, type.name).toMatch(/^https?:\/\//);
    }
  });
});
