import type { CodegenConfig } from '@graphql-codegen/cli';

const scalars = { UUID: 'string', DateTime: 'string', Decimal: 'string', JSON: 'unknown' };

// The schema is the committed SDL, itself checked for drift.
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    // Types the operations the tests send.
    'test/gql/': {
      documents: ['test/**/*.ts', '!test/gql/**'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { documentMode: 'string', enumsAsTypes: true, useTypeImports: true, scalars },
    },
    // The example operations a frontend ships: typed documents, and the manifest of their sha256 hashes that
    // the server loads from PERSISTED_DOCUMENTS (docs/frontend.md). Every .graphql file in the folder counts.
    'examples/operations/gql/': {
      documents: ['examples/operations/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: { enumsAsTypes: true, useTypeImports: true, scalars },
    },
  },
};

export default config;
