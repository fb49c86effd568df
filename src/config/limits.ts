import { z } from 'zod';
import { integer, optional } from './shared.ts';

/** What one request may ask for and take: time, records, fields, query size, body size, batching. */
export const limitsEnv = z.object({
  REQUEST_DEADLINE_MS: optional(integer(1, 600_000))
    .default(15_000)
    .describe('time budget of one GraphQL request: no upstream call or retry wait goes past it'),
  MAX_RECORDS_PER_OPERATION: optional(integer(1, 10_000))
    .default(100)
    .describe('distinct records one operation may resolve'),
  // A statistic reads every record of its range (100 pages of 1000 at this default) to answer a few sums.
  MAX_STATS_RECORDS: optional(integer(1, 10_000_000))
    .default(100_000)
    .describe('records one callDetailRecordStats scan reads before it stops, answering complete: false'),
  // Records x selected fields one HTTP request may be answered with: 100 records of all 52 fields is 5,200;
  // 30 aliases of that (a 10 KB request that passes every query limit) would be 156,000, about 4.8 MB.
  MAX_FIELDS_PER_REQUEST: optional(integer(1, 10_000_000))
    .default(20_000)
    .describe('records × selected fields one HTTP request may be answered with'),
  MAX_QUERY_LENGTH: optional(integer(1, 10_000_000)).default(32_768).describe('characters of query text'),
  MAX_QUERY_DEPTH: optional(integer(1, 1_000)).default(8).describe('GraphQL Armor: query depth'),
  MAX_QUERY_ALIASES: optional(integer(0, 10_000)).default(30).describe('GraphQL Armor: aliases'),
  MAX_QUERY_TOKENS: optional(integer(1, 1_000_000)).default(2_000).describe('GraphQL Armor: tokens'),
  MAX_QUERY_DIRECTIVES: optional(integer(0, 10_000)).default(50).describe('GraphQL Armor: directives'),
  MAX_QUERY_COST: optional(integer(1, 10_000_000)).default(5_000).describe('GraphQL Armor: cost'),
  MAX_REQUEST_BODY_BYTES: optional(integer(1, 100 * 1024 * 1024))
    .default(256 * 1024)
    .describe('request body limit (413 beyond)'),
  // How the body limit is enforced: our Content-Length check (cheap), Yoga's streaming check, or not at all.
  REQUEST_BODY_LIMIT_STRATEGY: optional(z.enum(['content-length', 'stream', 'off']))
    .default('content-length')
    .describe("how the body limit is enforced: Content-Length check, Yoga's streaming check, or off"),
  GRAPHQL_BATCH_LIMIT: optional(integer(0, 100))
    .default(0)
    .describe('operations per batched HTTP request; 0 turns batching off'),
});

export function limitsConfig(e: z.output<typeof limitsEnv>) {
  return {
    limits: {
      requestDeadlineMs: e.REQUEST_DEADLINE_MS,
      maxRecordsPerOperation: e.MAX_RECORDS_PER_OPERATION,
      maxStatsRecords: e.MAX_STATS_RECORDS,
      maxFieldsPerRequest: e.MAX_FIELDS_PER_REQUEST,
      queryLength: e.MAX_QUERY_LENGTH,
      queryDepth: e.MAX_QUERY_DEPTH,
      queryAliases: e.MAX_QUERY_ALIASES,
      queryTokens: e.MAX_QUERY_TOKENS,
      queryDirectives: e.MAX_QUERY_DIRECTIVES,
      queryCost: e.MAX_QUERY_COST,
      requestBodyBytes: e.MAX_REQUEST_BODY_BYTES,
      requestBodyLimitStrategy: e.REQUEST_BODY_LIMIT_STRATEGY,
      /** Operations in one batched HTTP request; 0 turns batching off. */
      batch: e.GRAPHQL_BATCH_LIMIT,
    },
  };
}
