// The OTLP/HTTP JSON exporter, behind `await import()` in tracing-sdk.ts. An ES module of ours that re-exports
// the CommonJS package: the bundle (esbuild with code splitting) turns a dynamic import of a CommonJS package
// into a chunk whose only export is `default`, where `{ OTLPTraceExporter }` would be undefined.
export { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
