/**
 * The OTLP/HTTP span exporter.
 *
 * @module
 */

import type { ExportResult, ReadableSpan } from "../../pipeline/mod.ts";
import {
  isTrustedSpan,
  ReadableSpanChecker,
  type ReadableSpanCheckStats,
} from "../../pipeline/trace/span_check.ts";
import { OtlpHttpExporter, withSkipped } from "./otlp_http_exporter.ts";
import type { OtlpHttpExporterOptions } from "./options.ts";
import type { OtlpExporterStats } from "./_transport.ts";

/**
 * The span exporter's counters: the transport's, plus what the check of
 * hand-made spans did.
 *
 * @example
 * ```ts
 * import type { OtlpSpanExporterStats } from "@seed/telemetry/otlp-http";
 * import assert from "node:assert/strict";
 *
 * const stats: Partial<OtlpSpanExporterStats> = { invalidSpans: 0 };
 * assert.equal(stats.invalidSpans, 0);
 * ```
 */
export interface OtlpSpanExporterStats extends OtlpExporterStats {
  /** Hand-made spans left out of requests (not objects, or no valid trace id and span id); each export result counts them as `rejected`. */
  readonly invalidSpans: number;
  /** Hand-made spans sent with at least one field replaced or left out (details in `spanChecks`). */
  readonly repairedSpans: number;
}

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

  readonly #checker = new ReadableSpanChecker();

  /** Request, retry and outcome counters, plus the hand-made span check's. */
  override get stats(): OtlpSpanExporterStats {
    const checks = this.#checker.stats;
    return {
      ...super.stats,
      invalidSpans: checks.invalidSpans,
      repairedSpans: checks.repairedSpans,
    };
  }

  /** What the check of hand-made spans (not made by this library's tracer) dropped or replaced, field by field. */
  get spanChecks(): ReadableSpanCheckStats {
    return this.#checker.stats;
  }

  /**
   * Encodes and sends one batch (see {@linkcode OtlpHttpExporter.export}).
   * Spans this library did not make are checked field by field first; one
   * that cannot be identified is left out and counted as `rejected`.
   *
   * @param batch The spans; encoded before this returns.
   * @param signal Aborts the export.
   * @returns The outcome; never rejects.
   */
  override export(
    batch: readonly ReadableSpan[],
    signal: AbortSignal,
  ): Promise<ExportResult> {
    let spans: ReadableSpan[] | undefined;
    let invalid = 0;
    try {
      const n = batch.length;
      for (let i = 0; i < n; i++) {
        const span = batch[i];
        if (isTrustedSpan(span)) {
          spans?.push(span);
          continue;
        }
        if (spans === undefined) {
          spans = [];
          for (let k = 0; k < i; k++) spans.push(batch[k]);
        }
        const checked = this.#checker.check(span);
        if (checked === undefined) invalid++;
        else spans.push(checked);
      }
    } catch {
      // Not a readable batch: the base class reports it as a failure.
      return super.export(batch, signal);
    }
    return withSkipped(super.export(spans ?? batch, signal), invalid);
  }
}
