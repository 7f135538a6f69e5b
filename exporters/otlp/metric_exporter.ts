/**
 * The OTLP/HTTP metric exporter.
 *
 * @module
 */

import { readMetricsEnv } from "../../pipeline/env.ts";
import type { ExportResult } from "../../pipeline/exporter.ts";
import type {
  MetricExporter,
  ResourceMetrics,
  TemporalityPreference,
} from "../../pipeline/metrics/mod.ts";
import { encodeMetricsRequestJson } from "../_otlp_metrics_json.ts";
import { writeMetricsRequest } from "../_otlp_metrics_proto.ts";
import { ProtoBufferPool } from "../_proto_writer.ts";
import { resolveOtlpConfig } from "./_config.ts";
import { type OtlpExporterStats, OtlpHttpTransport } from "./_transport.ts";
import type { OtlpHttpExporterOptions } from "./options.ts";

/**
 * Options of {@linkcode OtlpHttpMetricExporter}: the OTLP/HTTP options, and
 * the temporality the exporter asks of its reader.
 *
 * @example
 * ```ts
 * import type { OtlpHttpMetricExporterOptions } from "@seed/telemetry/otlp-http";
 * import assert from "node:assert/strict";
 *
 * const options: OtlpHttpMetricExporterOptions = { endpoint: "http://collector:4318/v1/metrics", temporalityPreference: "delta" };
 * assert.equal(options.temporalityPreference, "delta");
 * ```
 */
export interface OtlpHttpMetricExporterOptions extends OtlpHttpExporterOptions {
  /**
   * Which temporality each instrument kind gets.
   * @default {OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, else "cumulative"}
   */
  readonly temporalityPreference?: TemporalityPreference;
}

/**
 * Sends collections to an OTLP/HTTP receiver as an
 * `ExportMetricsServiceRequest` (protobuf or JSON) over the same transport
 * as the log and span exporters: gzip, retries, timeouts, `partial_success`
 * (`rejected_data_points`), `OTEL_EXPORTER_OTLP_METRICS_*` variables. Put it
 * behind a `PeriodicExportingMetricReader`. `export` never rejects.
 *
 * @example Periodic export to a collector
 * ```ts
 * import { MeterProvider, PeriodicExportingMetricReader } from "@seed/telemetry/metrics";
 * import { OtlpHttpMetricExporter } from "@seed/telemetry/otlp-http";
 * import assert from "node:assert/strict";
 *
 * const urls: string[] = [];
 * const exporter = new OtlpHttpMetricExporter({
 *   env: () => undefined,
 *   // A stand-in for the network: a real app leaves `fetch` out.
 *   fetch: async (url) => {
 *     urls.push(String(url));
 *     return new Response(null, { status: 200 });
 *   },
 * });
 * const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader(exporter)] });
 * provider.getMeter("app").createCounter("requests").add(1);
 * await provider.shutdown();
 * assert.deepEqual(urls, ["http://localhost:4318/v1/metrics"]);
 * assert.equal(exporter.stats.succeeded, 1);
 * ```
 */
export class OtlpHttpMetricExporter implements MetricExporter, AsyncDisposable {
  /** The temporality asked of the reader. */
  readonly temporalityPreference: TemporalityPreference;
  readonly #transport: OtlpHttpTransport;
  readonly #json: boolean;
  readonly #buffers: ProtoBufferPool = new ProtoBufferPool();

  /**
   * Creates the exporter; options win over `OTEL_EXPORTER_OTLP_*` variables.
   *
   * @param options Endpoint, headers, timeout, compression, protocol, retry policy, temporality, `fetch`.
   * @throws {TypeError} When the endpoint, protocol, compression or a header is invalid.
   * @throws {RangeError} When a number option is out of range.
   */
  constructor(options: OtlpHttpMetricExporterOptions = {}) {
    const source = "OtlpHttpMetricExporter";
    this.#transport = new OtlpHttpTransport(
      source,
      resolveOtlpConfig(source, "metrics", options),
    );
    this.#json = this.#transport.config.protocol === "http/json";
    this.temporalityPreference = options.temporalityPreference ??
      readMetricsEnv(options).temporalityPreference ?? "cumulative";
  }

  /** The URL collections are sent to. */
  get endpoint(): string {
    return this.#transport.config.url;
  }

  /** The encoding in use. */
  get protocol(): "http/protobuf" | "http/json" {
    return this.#transport.config.protocol;
  }

  /** Request, retry and outcome counters (`rejected` counts data points). */
  get stats(): OtlpExporterStats {
    return this.#transport.stats;
  }

  /**
   * Encodes and sends one collection, retrying as the policy allows.
   *
   * @param metrics The collection; encoded before this returns.
   * @param signal Aborts the export.
   * @returns The outcome; never rejects.
   */
  export(metrics: ResourceMetrics, signal: AbortSignal): Promise<ExportResult> {
    if (metrics.scopeMetrics.length === 0) {
      return Promise.resolve({ code: "success" });
    }
    if (this.#json) {
      let body: Uint8Array<ArrayBuffer>;
      try {
        body = encodeMetricsRequestJson(metrics);
      } catch (error) {
        return Promise.resolve(encodingFailure(error));
      }
      return this.#transport.send(body, signal);
    }
    const pool = this.#buffers;
    const out = pool.take();
    let end: number;
    try {
      end = writeMetricsRequest(metrics, out, 0);
    } catch (error) {
      pool.give(out);
      return Promise.resolve(encodingFailure(error));
    }
    return this.#transport.send(out.bytes.subarray(0, end), signal).finally(
      () => pool.give(out),
    );
  }

  /**
   * Waits for the exports in flight.
   *
   * @returns Resolves when they have settled.
   */
  forceFlush(): Promise<void> {
    return this.#transport.forceFlush();
  }

  /**
   * Refuses new exports, waits for those in flight, then aborts them.
   *
   * @returns Resolves when no export is in flight.
   */
  shutdown(): Promise<void> {
    return this.#transport.shutdown();
  }

  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

function encodingFailure(error: unknown): ExportResult {
  return {
    code: "failure",
    retryable: false,
    error: error instanceof Error ? error : new Error(String(error)),
  };
}
