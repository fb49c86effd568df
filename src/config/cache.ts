import { z } from 'zod';
import { flag, integer, optional } from './shared.ts';

/** The CDR cache (src/records/, docs/cache.md): lifetimes, size, the answer cache, Redis, invalidation. */
export const cacheEnv = z.object({
  CACHE_TTL_MS: optional(integer(0, 86_400_000))
    .default(60_000)
    .describe('how long a fetched record field is served from the cache; 0 turns the cache off'),
  CACHE_NOT_FOUND_TTL_MS: optional(integer(0, 86_400_000))
    .default(5_000)
    .describe('how long a 404 is answered from the cache'),
  CACHE_STALE_IF_ERROR_MS: optional(integer(0, 86_400_000))
    .default(300_000)
    .describe('while CarrierX fails, how long past its TTL a record may still be served'),
  CACHE_MAX_BYTES: optional(integer(1024, 64 * 1024 * 1024 * 1024))
    .default(64 * 1024 * 1024)
    .describe('size bound of the in-process cache, records and answers together'),
  // Whole answers to repeated fast-path requests, in front of the record cache (src/http/answer-cache.ts).
  CACHE_ANSWERS: optional(flag)
    .default(true)
    .describe('a repeated fast-path request is answered from the answer cache'),
  // At least 32 characters: it keys the fingerprints of every caller's credentials.
  CACHE_KEY_SECRET: optional(z.string().min(32, { error: 'must be at least 32 characters' })).meta({
    description: 'HMAC key of the credential fingerprints in cache keys',
    unset: 'random per process',
  }),
  // Its password is never echoed (see loadConfig).
  REDIS_URL: optional(
    z
      .string()
      .refine((value) => URL.canParse(value) && ['redis:', 'rediss:'].includes(new URL(value).protocol), {
        error: 'must be a redis:// or rediss:// URL',
      }),
  ).describe('redis:// or rediss:// URL: the cache lives in Redis, shared by every replica and worker'),
  REDIS_TIMEOUT_MS: optional(integer(1, 60_000)).default(250).describe('the most one Redis command may take'),
  // No glob characters: invalidation finds a record's keys with SCAN MATCH.
  CACHE_KEY_PREFIX: optional(
    z.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/, { error: 'must be up to 64 of A-Z a-z 0-9 : _ . -' }),
  )
    .default('carrierx:')
    .describe('put before every Redis key'),
  CACHE_ADMIN_TOKEN: optional(
    z.string().regex(/^[A-Za-z0-9\-._~+/]{16,}=*$/, {
      error: 'must be a token of at least 16 characters (letters, digits, -._~+/)',
    }),
  ).describe('enables POST /cache/invalidate, with this bearer token'),
});

export function cacheConfig(e: z.output<typeof cacheEnv>) {
  return {
    cache: {
      /** 0: no cache. */
      ttlMs: e.CACHE_TTL_MS,
      notFoundTtlMs: e.CACHE_NOT_FOUND_TTL_MS,
      staleIfErrorMs: e.CACHE_STALE_IF_ERROR_MS,
      maxBytes: e.CACHE_MAX_BYTES,
      /** Repeated requests answered from the answer cache (CACHE_ANSWERS; only with the record cache on). */
      answers: e.CACHE_ANSWERS,
      /** Undefined: a random one per process. */
      keySecret: e.CACHE_KEY_SECRET,
      /** Undefined: no POST /cache/invalidate. */
      adminToken: e.CACHE_ADMIN_TOKEN,
      /** Undefined: in-process only. */
      redisUrl: e.REDIS_URL,
      redisTimeoutMs: e.REDIS_TIMEOUT_MS,
      keyPrefix: e.CACHE_KEY_PREFIX,
    },
  };
}
