import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS and ESM builds. Node (and so Yoga) loads the CJS one; without this alias Vite would
    // give our sources the ESM one, two GraphQLError classes would exist, and Yoga would mask our errors.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build-dist.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
