// @apollo/subgraph's printer behind `await import()` (see subgraph.ts). An ES module of ours that re-exports the
// CommonJS package: in the bundle, a dynamic import of a CommonJS package yields only `default`.
export { printSubgraphSchema } from '@apollo/subgraph';
