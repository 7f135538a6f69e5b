/**
 * The OTLP/HTTP log record exporter.
 *
 * @module
 */

import type {
  Exporter,
  ExportResult,
  LogRecordData,
} from "../../pipeline/mod.ts";
import { encodeLogsRequestJson } from "../_otlp_json.ts";
import { ProtoBufferPool, writeLogsRequest } from "../_otlp_proto.ts";
import { resolveOtlpConfig } from "./_config.ts";
import { type OtlpExporterStats, OtlpHttpTransport } from "./_transport.ts";
import type { OtlpHttpExporterOptions } from "./options.ts";

/**
 * Sends log records to an OTLP/HTTP receiver (an OpenTelemetry Collector or
 * any compatible back-end) as an `ExportLogsServiceRequest`, in protobuf or
 * JSON, with `fetch`. Feed it through a `BatchLogRecordProcessor`: the
 * processor owns the queue, the exporter owns the HTTP request, its timeout,
 * compression and retries (see {@linkcode OtlpRetryOptions}).
 *
 * `export` never rejects: it resolves to success (with the receiver's
 * `partial_success` rejected count, if any) or to a failure that says
 * whether it was retryable.
 *
 * @example Export through a batch processor to a local collector
 * ```ts
 * import { BatchLogRecordProcessor, LoggerProvider } from "@seed/telemetry";
 * import { OtlpHttpLogExporter } from "@seed/telemetry/otlp-http";
 * import assert from "node:assert/strict";
 *
 * const bodies: Uint8Array[] = [];
 * const exporter = new OtlpHttpLogExporter({
 *   endpoint: "http://localhost:4318/v1/logs",
 *   // A stand-in for the network: a real app leaves `fetch` out.
 *   fetch: async (_url, init) => {
 *     bodies.push(init?.body as Uint8Array);
 *     return new Response(null, { status: 200 });
 *   },
 * });
 * const processor = new BatchLogRecordProcessor(exporter);
 * await using provider = new LoggerProvider({ processors: [processor] });
 * provider.getLogger("checkout").emit({ severityNumber: 9, body: "order placed" });
 * await processor.forceFlush();
 * assert.equal(bodies.length, 1);
 * assert.equal(processor.stats.exported, 1);
 * ```
 */
export class OtlpHttpLogExporter implements Exporter<LogRecordData> {
  readonly #transport: OtlpHttpTransport;
  readonly #json: boolean;
  readonly #buffers: ProtoBufferPool = new ProtoBufferPool();

  /**
   * Creates the exporter; options win over `OTEL_EXPORTER_OTLP_*` variables.
   *
   * @param options Endpoint, headers, timeout, compression, protocol, retry policy, `fetch`.
   * @throws {TypeError} When the endpoint, protocol, compression or a header is invalid.
   * @throws {RangeError} When a number option is out of range.
   */
  constructor(options: OtlpHttpExporterOptions = {}) {
    const source = "OtlpHttpLogExporter";
    this.#transport = new OtlpHttpTransport(
      source,
      resolveOtlpConfig(source, "logs", options),
    );
    this.#json = this.#transport.config.protocol === "http/json";
  }

  /** The URL batches are sent to. */
  get endpoint(): string {
    return this.#transport.config.url;
  }

  /** The encoding in use. */
  get protocol(): "http/protobuf" | "http/json" {
    return this.#transport.config.protocol;
  }

  /** The compression in use. */
  get compression(): "gzip" | "none" {
    return this.#transport.config.compression;
  }

  /** The per-request timeout in ms. */
  get timeoutMillis(): number {
    return this.#transport.config.timeoutMillis;
  }

  /** Request, retry and outcome counters, as of now. */
  get stats(): OtlpExporterStats {
    return this.#transport.stats;
  }

  /**
   * Encodes and sends one batch, retrying as the policy allows.
   *
   * @param batch The records; encoded before this returns.
   * @param signal Aborts the export (the processor's timeout or shutdown).
   * @returns The outcome; never rejects.
   */
  export(
    batch: readonly LogRecordData[],
    signal: AbortSignal,
  ): Promise<ExportResult> {
    if (batch.length === 0) return Promise.resolve({ code: "success" });
    if (this.#json) {
      let body: Uint8Array<ArrayBuffer>;
      try {
        body = encodeLogsRequestJson(batch);
      } catch (error) {
        return Promise.resolve(encodingFailure(error));
      }
      return this.#transport.send(body, signal);
    }
    // Protobuf: written into a pooled buffer, taken back once the request
    // (retries included) is over; fetch copies a BufferSource body when it
    // builds the request, so nothing reads it after that.
    const pool = this.#buffers;
    const out = pool.take();
    let end: number;
    try {
      end = writeLogsRequest(batch, out, 0);
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
   * Refuses new exports, waits up to `shutdownTimeoutMillis` for those in
   * flight, then aborts them. Idempotent.
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
