import { z } from 'zod';

/** A failure the simulator can inject into a CDR response. */
export type Fault =
  | { kind: 'status'; status: number }
  | { kind: 'rate-limit'; retryAfter?: string }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'malformed-json' }
  | { kind: 'truncated-body' }
  | { kind: 'wrong-types' }
  | { kind: 'unknown-enum' }
  | { kind: 'not-a-cdr' }
  /** The record with these keys' values replaced by raw JSON text, written verbatim (odd or hostile values). */
  | { kind: 'raw-values'; values: Record<string, string> };

/**
 * When and how to misbehave. `match` narrows the rule to one dr_sid (single-record path) or one bearer token;
 * without it the rule is global. `times` expires the rule after that many matching requests. Latency
 * (`latencyMs` plus up to `jitterMs`) delays the response with or without a fault.
 */
export interface FaultRule {
  match?: { drSid?: string; token?: string };
  times?: number;
  latencyMs?: number;
  jitterMs?: number;
  fault?: Fault;
}

const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('status'), status: z.number().int().min(400).max(599) }),
  z.strictObject({
    kind: z.literal('rate-limit'),
    // Out-of-process users naturally send seconds as a number; the header is written verbatim either way.
    retryAfter: z
      .union([z.string().min(1), z.number().int().nonnegative()])
      .transform(String)
      .optional(),
  }),
  z.strictObject({ kind: z.literal('reset') }),
  z.strictObject({ kind: z.literal('hang') }),
  z.strictObject({ kind: z.literal('malformed-json') }),
  z.strictObject({ kind: z.literal('truncated-body') }),
  z.strictObject({ kind: z.literal('wrong-types') }),
  z.strictObject({ kind: z.literal('unknown-enum') }),
  z.strictObject({ kind: z.literal('not-a-cdr') }),
  z.strictObject({ kind: z.literal('raw-values'), values: z.record(z.string(), z.string()) }),
]);

const ruleSchema = z.strictObject({
  match: z.strictObject({ drSid: z.string().optional(), token: z.string().optional() }).optional(),
  times: z.number().int().positive().optional(),
  latencyMs: z.number().nonnegative().max(600_000).optional(),
  jitterMs: z.number().nonnegative().max(600_000).optional(),
  fault: faultSchema.optional(),
});

/** Validates a rule from an untrusted source; throws a TypeError naming what is wrong. */
export function parseFaultRule(input: unknown): FaultRule {
  const result = ruleSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    );
    throw new TypeError(`Invalid fault rule: ${problems.join('; ')}`);
  }
  return result.data;
}

interface ActiveRule {
  id: string;
  rule: FaultRule;
  remaining: number;
}

/** The ordered, expiring list of fault rules; the first rule that matches a request wins. */
export interface FaultRegistry {
  readonly size: number;
  add(rule: FaultRule): { id: string; remove: () => void };
  remove(id: string): boolean;
  clear(): void;
  /** The active rules in match order, with their ids and how many matches each has left (none: unlimited). */
  list(): { id: string; rule: FaultRule; remaining?: number }[];
  /** Finds the first matching rule and counts this request against its `times`. */
  take(drSid: string | undefined, token: string | undefined): FaultRule | undefined;
}

export function createFaultRegistry(): FaultRegistry {
  const rules: ActiveRule[] = [];
  let nextId = 1;
  const remove = (id: string) => {
    const index = rules.findIndex((active) => active.id === id);
    if (index < 0) return false;
    rules.splice(index, 1);
    return true;
  };
  return {
    get size() {
      return rules.length;
    },
    add(rule) {
      const parsed = parseFaultRule(rule);
      const id = `fault-${nextId++}`;
      rules.push({ id, rule: parsed, remaining: parsed.times ?? Number.POSITIVE_INFINITY });
      return { id, remove: () => void remove(id) };
    },
    remove,
    clear() {
      rules.length = 0;
    },
    list() {
      return rules.map(({ id, rule, remaining }) =>
        Number.isFinite(remaining) ? { id, rule, remaining } : { id, rule },
      );
    },
    take(drSid, token) {
      for (let index = 0; index < rules.length; index++) {
        const active = rules[index] as ActiveRule;
        const match = active.rule.match;
        if (match?.drSid !== undefined && match.drSid !== drSid) continue;
        if (match?.token !== undefined && match.token !== token) continue;
        active.remaining -= 1;
        if (active.remaining <= 0) rules.splice(index, 1);
        return active.rule;
      }
      return undefined;
    },
  };
}
