import { z } from 'zod';
import { integer, optional } from './shared.ts';

/** The process as a whole: its mode and how many processes serve HTTP. */
export const runtimeEnv = z.object({
  NODE_ENV: optional(
    z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' }),
  )
    .default('development')
    .describe('development, production or test; production switches the development conveniences off'),
  WEB_CONCURRENCY: optional(integer(1, 256))
    .default(1)
    .describe('processes serving HTTP: 1 is this process alone; more forks that many workers (node:cluster)'),
});

export function runtimeConfig(e: z.output<typeof runtimeEnv>) {
  return {
    production: e.NODE_ENV === 'production',
    /** Processes serving HTTP; above 1 this process is a cluster primary that forks them. */
    workers: e.WEB_CONCURRENCY,
  };
}
