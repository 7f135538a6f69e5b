/**
 * The OTLP/HTTP span exporter.
 *
 * @module
 */

import type { ReadableSpan } from "../../pipeline/mod.ts";
import { OtlpHttpExporter } from "./otlp_http_exporter.ts";
import type { OtlpHttpExporterOptions } from "./options.ts";

/**
 * Sends ended spans to an OTLP/HTTP receiver (an OpenTelemetry Collector or
 * any compatible back-end) as an `ExportTraceServiceRequest`, in protobuf or
 * JSON, with `fetch`. Feed it through a `BatchSpanProcessor`: the
 * processor owns the queue, the exporter owns the HTTP request, its timeout,
 * compression and retries (see {@linkcode OtlpRetryOptions}).
 *
 * `export` never rejects: it resolves to success (with the receiver's
 * `partial_success` rejected count, if any) or to a failure that says
 * whether it was retryable.
 *
 * @example Export through a batch processor to a local collector
 * ```ts
 * import { BatchSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import { OtlpHttpSpanExporter } from "@seed/telemetry/otlp-http";
 * import assert from "node:assert/strict";
 *
 * const bodies: Uint8Array[] = [];
 * const exporter = new OtlpHttpSpanExporter({
 *   endpoint: "http://localhost:4318/v1/traces",
 *   // A stand-in for the network: a real app leaves `fetch` out.
 *   fetch: async (_url, init) => {
 *     bodies.push(init?.body as Uint8Array);
 *     return new Response(null, { status: 200 });
 *   },
 * });
 * const processor = new BatchSpanProcessor(exporter);
 * await using provider = new TracerProvider({ processors: [processor] });
 * provider.getTracer("checkout").startSpan("place order").end();
 * await processor.forceFlush();
 * assert.equal(bodies.length, 1);
 * assert.equal(processor.stats.exported, 1);
 * ```
 */
export class OtlpHttpSpanExporter extends OtlpHttpExporter<ReadableSpan> {
  /**
   * Creates the exporter; options win over `OTEL_EXPORTER_OTLP_*` variables.
   *
   * @param options Endpoint, headers, timeout, compression, protocol, retry policy, `fetch`.
   * @throws {TypeError} When the endpoint, protocol, compression or a header is invalid.
   * @throws {RangeError} When a number option is out of range.
   */
  constructor(options: OtlpHttpExporterOptions = {}) {
    super("OtlpHttpSpanExporter", "traces", options);
  }
}
