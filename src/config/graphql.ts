import { z } from 'zod';
import { type PersistedDocuments, readPersistedDocuments } from '../graphql/persisted-documents.ts';
import { commaList, flag, optional, whenValid } from './shared.ts';

/** The GraphQL features: developer conveniences, the execution engine, persisted documents. */
export const graphqlEnv = z
  .object({
    GRAPHIQL_ENABLED: optional(flag).meta({
      description: 'serve GraphiQL at /graphql',
      unset: 'on in development, off in production',
    }),
    INTROSPECTION_ENABLED: optional(flag).meta({
      description: 'allow introspection (and "did you mean" hints)',
      unset: 'on in development, off in production',
    }),
    CSRF_PREVENTION_ENABLED: optional(flag).meta({
      description: 'refuse simple (form-like) requests without a preflight header',
      unset: 'off in development, on in production',
    }),
    GRAPHQL_JIT: optional(flag)
      .default(true)
      .describe('execute through graphql-jit (compiled documents); false: graphql-js for every document'),
    PREPARED_OPERATIONS: optional(flag)
      .default(true)
      .describe("a query document that ran cleanly once skips Yoga's pipeline after (needs GRAPHQL_JIT)"),
    // Read and checked at startup (docs/frontend.md); the paths are kept for reloads (SIGHUP, a file change).
    PERSISTED_DOCUMENTS: optional(
      commaList().transform((paths, ctx) => {
        try {
          return { paths, documents: readPersistedDocuments(paths) };
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    ).describe('comma-separated paths of persisted-documents manifests'),
    PERSISTED_DOCUMENTS_ONLY: optional(flag)
      .default(false)
      .describe('the production allowlist: only documents from PERSISTED_DOCUMENTS run'),
  })
  // An allowlist with nothing on it would refuse every operation: surely a missing variable, not a wish.
  .refine((e) => !e.PERSISTED_DOCUMENTS_ONLY || (e.PERSISTED_DOCUMENTS?.documents.size ?? 0) > 0, {
    path: ['PERSISTED_DOCUMENTS_ONLY'],
    ...whenValid,
    error: 'needs PERSISTED_DOCUMENTS to list at least one manifest with a document in it',
  });

export function graphqlConfig(e: z.output<typeof graphqlEnv>, production: boolean) {
  return {
    // Developer conveniences are on while developing and off in production unless asked for.
    graphiql: e.GRAPHIQL_ENABLED ?? !production,
    introspection: e.INTROSPECTION_ENABLED ?? !production,
    csrfPrevention: e.CSRF_PREVENTION_ENABLED ?? production,
    /** Execute compiled documents through graphql-jit; false runs graphql-js for all. */
    jit: e.GRAPHQL_JIT,
    /**
     * Run a query document seen before without Yoga's pipeline (src/graphql/execution/prepared.ts), on either HTTP
     * path, with graphql-jit on; false: every request takes the whole pipeline.
     */
    preparedOperations: e.PREPARED_OPERATIONS,
    persistedDocuments: {
      /** The manifests' documents by hex sha256; empty: requests by hash run only what automatic persisted queries registered. */
      documents: e.PERSISTED_DOCUMENTS?.documents ?? (new Map() as PersistedDocuments),
      /** The manifests' paths, read again on SIGHUP or when they change; empty without PERSISTED_DOCUMENTS. */
      paths: e.PERSISTED_DOCUMENTS?.paths ?? ([] as readonly string[]),
      /** Refuse every document that is not in `documents` (PERSISTED_DOCUMENTS_ONLY). */
      only: e.PERSISTED_DOCUMENTS_ONLY,
    },
  };
}
