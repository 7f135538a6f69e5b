/**
 * OTLP/HTTP exporters: send log records and spans from the batching
 * processors to any OpenTelemetry Collector-compatible endpoint with
 * `fetch`, on Deno and Bun. Protobuf (the default) or JSON, optional gzip,
 * the OTLP retry policy (429/502/503/504 and network errors, exponential
 * backoff with jitter, `Retry-After`), a per-request timeout, and
 * configuration from options or the standard `OTEL_EXPORTER_OTLP_*`
 * variables.
 *
 * @example Logs and traces to a collector on localhost
 * ```ts
 * import { BatchLogRecordProcessor, BatchSpanProcessor, LoggerProvider, TracerProvider } from "@seed/telemetry";
 * import { OtlpHttpLogExporter, OtlpHttpSpanExporter } from "@seed/telemetry/otlp-http";
 * import assert from "node:assert/strict";
 *
 * const urls: string[] = [];
 * // A stand-in for the network: a real app leaves `fetch` out.
 * const fetch = async (url: string | URL | Request) => {
 *   urls.push(String(url));
 *   return new Response(null, { status: 200 });
 * };
 * const logs = new BatchLogRecordProcessor(new OtlpHttpLogExporter({ fetch }));
 * const spans = new BatchSpanProcessor(new OtlpHttpSpanExporter({ fetch }));
 * await using loggerProvider = new LoggerProvider({ processors: [logs] });
 * await using tracerProvider = new TracerProvider({ processors: [spans] });
 * loggerProvider.getLogger("app").emit({ severityNumber: 9, body: "started" });
 * tracerProvider.getTracer("app").startSpan("startup").end();
 * await logs.forceFlush();
 * await spans.forceFlush();
 * assert.deepEqual(urls.sort(), ["http://localhost:4318/v1/logs", "http://localhost:4318/v1/traces"]);
 * ```
 *
 * @module
 */

export { OtlpHttpLogExporter } from "./log_exporter.ts";
export {
  OtlpHttpMetricExporter,
  type OtlpHttpMetricExporterOptions,
} from "./metric_exporter.ts";
export { OtlpHttpExporter } from "./otlp_http_exporter.ts";
export type { OtlpHttpExporterOptions, OtlpRetryOptions } from "./options.ts";
export {
  OtlpHttpSpanExporter,
  type OtlpSpanExporterStats,
} from "./span_exporter.ts";
export type { OtlpExporterStats } from "./_transport.ts";
