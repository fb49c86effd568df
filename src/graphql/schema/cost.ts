/**
 * What fields cost, in the unit of MAX_OPERATION_COST: one CarrierX call, or one record a call returns. The
 * weights are IBM's cost directives (`@cost`, `@listSize`), declared beside each field with the helpers below,
 * printed in the subgraph SDL for a router's demand control, and read back by this service's own estimate
 * (src/graphql/execution/cost.ts). Left undeclared, a field weighs what the spec says: 1 for an object, 0 for
 * a scalar or enum; a list without `@listSize` is counted as CarrierX's largest page.
 */
export const COST = {
  /** One request to CarrierX. */
  call: 1,
  /** One record CarrierX returns. */
  record: 1,
} as const;

/** `@cost(weight:)` for a field, type or argument: `directives: costs(COST.call + COST.record)`. */
export function costs(weight: number) {
  return { cost: { weight } };
}

/** For a type or field that neither calls CarrierX nor holds a record (a page's edge, its PageInfo, a key stub). */
export const free = costs(0);

/**
 * A connection field: one call, plus the records its page holds: `first` or `last` of them (the larger, if
 * both), else `assumedSize`, counted under each of `edges` and `nodes` selected.
 */
export function page(assumedSize: number) {
  return {
    ...costs(COST.call),
    listSize: {
      assumedSize,
      slicingArguments: ['first', 'last'],
      sizedFields: ['edges', 'nodes'],
      // Neither is needed: a page without first or last holds assumedSize records.
      requireOneSlicingArgument: false,
    },
  };
}
