// The OTLP/HTTP protobuf exporter, behind `await import()` in tracing-sdk.ts: see otlp-http-exporter.ts for why
// this module exists.
export { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
