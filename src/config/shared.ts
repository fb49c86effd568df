import { z } from 'zod';

// The building blocks every concern's variables are declared with.

/** Empty strings count as unset, so `FOO= npm start` behaves like leaving FOO out. */
export const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

// Decimal digits only: Number() would also take 0x100C, 1e3, 0b1 or " 80" and quietly mean something else.
export const integer = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, { error })
    .transform(Number)
    .pipe(z.number().int({ error }).min(min, { error }).max(max, { error }));
};

/** `true`/`false` (also 1/0, yes/no, on/off). */
export const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(
    z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
      error: 'must be true or false',
    }),
  )
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

/** An http(s) URL with no credentials (`instead` says where they go), query or fragment; no trailing slash. */
export const httpUrlOf = (instead: string, example: string) =>
  z
    .string()
    // Credentials in the URL would be printed in the banner and in errors, and undici would not send them.
    .refine((value) => !URL.canParse(value) || !/^[^/]*\/\/[^/?#]*@/.test(value), {
      error: `must not contain credentials (user:password@); ${instead}`,
      abort: true,
    })
    .refine(
      (value) => {
        try {
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash;
        } catch {
          return false;
        }
      },
      { error: `must be an http(s) URL without query or fragment, e.g. ${example}` },
    )
    .transform((value) => value.replace(/\/+$/, ''));

/** A comma-separated list: items trimmed (and `normalize`d), empty ones dropped. */
export const commaList = (normalize: (item: string) => string = (item) => item) =>
  z.string().transform((value) =>
    value
      .split(',')
      .map((item) => normalize(item.trim()))
      .filter(Boolean),
  );

/** A host as the request handler compares it: spelled as URL.hostname spells it ([::1], 127.0.0.1). */
export const urlHostname = (host: string) => new URL(`http://${host}/`).hostname;

/**
 * What docs/configuration.md says a variable defaults to, where no one value in its schema does (it depends on
 * other variables, or on the environment); checked by test/configuration-docs.test.ts.
 */
export interface VariableMeta {
  description: string;
  unset?: string;
}

/**
 * For a refinement across variables: it runs once every variable is valid (never on a raw string, and silent
 * where a variable's own problem already says what is wrong), whatever the other refinements found.
 */
export const whenValid = {
  params: { acrossVariables: true },
  when: (payload: z.core.ParsePayload) =>
    payload.issues.every((issue) => issue.code === 'custom' && issue.params?.acrossVariables === true),
};
