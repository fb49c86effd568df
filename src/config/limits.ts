import { z } from 'zod';
import { integer, optional } from './shared.ts';

/** MAX_OPERATION_COST unset (and no MAX_RECORDS_PER_OPERATION to read it from). */
const DEFAULT_OPERATION_COST = 250;

/** What one request may ask for and take: time, records, fields, query size, body size, batching. */
export const limitsEnv = z.object({
  REQUEST_DEADLINE_MS: optional(integer(1, 600_000))
    .default(15_000)
    .describe('time budget of one GraphQL request: no upstream call or retry wait goes past it'),
  // One CarrierX call, or one record it returns, is 1: a record by SID costs 2, a page of n records 1 + n under
  // each of nodes and edges. 250 holds a page of 100 under both (201) and records by SID beside it.
  MAX_OPERATION_COST: optional(integer(1, 10_000_000)).meta({
    description: 'estimated CarrierX calls and records one operation may cost',
    unset: `${DEFAULT_OPERATION_COST} (or 2 × MAX_RECORDS_PER_OPERATION + 1 when only that is set)`,
  }),
  // Replaced by MAX_OPERATION_COST; still read so that an old configuration boots (with a warning).
  MAX_RECORDS_PER_OPERATION: optional(integer(1, 10_000)).describe(
    'deprecated: read as MAX_OPERATION_COST = 2 × its value + 1 when that is unset',
  ),
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
  // GraphQL Armor's cost, in a unit of its own: no longer read, and no translation to ours exists.
  MAX_QUERY_COST: optional(integer(1, 10_000_000)).describe('deprecated and ignored: see MAX_OPERATION_COST'),
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

/**
 * MAX_OPERATION_COST, or what an old MAX_RECORDS_PER_OPERATION of n allowed: n records cost at most 2n + 1 (n by
 * SID at 2 each, or a page of n under both edges and nodes), so every operation it let through still passes.
 */
function operationCost(e: z.output<typeof limitsEnv>): number {
  if (e.MAX_OPERATION_COST !== undefined || e.MAX_RECORDS_PER_OPERATION === undefined) {
    return e.MAX_OPERATION_COST ?? DEFAULT_OPERATION_COST;
  }
  return 2 * e.MAX_RECORDS_PER_OPERATION + 1;
}

/** The warnings an old limit setting gets at start: what replaced it, and what this start made of it. */
export function deprecatedLimits(env: Record<string, string | undefined>, cost: number) {
  const warnings: { variable: string; suggestion: string; message: string }[] = [];
  // Set as the schema reads it: an empty value is unset.
  const set = (name: 'MAX_RECORDS_PER_OPERATION' | 'MAX_QUERY_COST' | 'MAX_OPERATION_COST') =>
    limitsEnv.shape[name].safeParse(env[name]).data !== undefined;
  if (set('MAX_RECORDS_PER_OPERATION')) {
    warnings.push({
      variable: 'MAX_RECORDS_PER_OPERATION',
      suggestion: 'MAX_OPERATION_COST',
      message: !set('MAX_OPERATION_COST')
        ? `MAX_RECORDS_PER_OPERATION is deprecated: MAX_OPERATION_COST (CarrierX calls and records) replaces it, and is taken as ${cost} (2 × ${env.MAX_RECORDS_PER_OPERATION} + 1, what that many records can cost). Set MAX_OPERATION_COST and remove MAX_RECORDS_PER_OPERATION.`
        : 'MAX_RECORDS_PER_OPERATION is deprecated and ignored: MAX_OPERATION_COST is set. Remove MAX_RECORDS_PER_OPERATION.',
    });
  }
  if (set('MAX_QUERY_COST')) {
    warnings.push({
      variable: 'MAX_QUERY_COST',
      suggestion: 'MAX_OPERATION_COST',
      message: `MAX_QUERY_COST is deprecated and ignored: GraphQL Armor's cost limit is gone, and MAX_OPERATION_COST (CarrierX calls and records, ${cost} now) is the one cost limit. Remove MAX_QUERY_COST.`,
    });
  }
  return warnings;
}

export function limitsConfig(e: z.output<typeof limitsEnv>) {
  return {
    limits: {
      requestDeadlineMs: e.REQUEST_DEADLINE_MS,
      /** The one cost limit: estimated CarrierX calls and records per operation (src/graphql/execution/cost.ts). */
      operationCost: operationCost(e),
      maxStatsRecords: e.MAX_STATS_RECORDS,
      maxFieldsPerRequest: e.MAX_FIELDS_PER_REQUEST,
      queryLength: e.MAX_QUERY_LENGTH,
      queryDepth: e.MAX_QUERY_DEPTH,
      queryAliases: e.MAX_QUERY_ALIASES,
      queryTokens: e.MAX_QUERY_TOKENS,
      queryDirectives: e.MAX_QUERY_DIRECTIVES,
      requestBodyBytes: e.MAX_REQUEST_BODY_BYTES,
      requestBodyLimitStrategy: e.REQUEST_BODY_LIMIT_STRATEGY,
      /** Operations in one batched HTTP request; 0 turns batching off. */
      batch: e.GRAPHQL_BATCH_LIMIT,
    },
  };
}
