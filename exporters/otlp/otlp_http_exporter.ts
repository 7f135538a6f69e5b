/**
 * The shared half of the OTLP/HTTP exporters: configuration, the pooled
 * protobuf buffers, encoding, and the transport with its retries.
 *
 * @module
 */

import type {
  Exporter,
  ExportResult,
  LogRecordData,
  ReadableSpan,
} from "../../pipeline/mod.ts";
import {
  encodeLogsRequestJson,
  encodeTraceRequestJson,
  lastSkippedJsonItems,
} from "../_otlp_json.ts";
import {
  lastSkippedItems,
  type ProtoBuffer,
  ProtoBufferPool,
} from "../_proto_writer.ts";
import { writeLogsRequest } from "../_otlp_logs_proto.ts";
import { writeTraceRequest } from "../_otlp_trace_proto.ts";
import { resolveOtlpConfig } from "./_config.ts";
import { type OtlpExporterStats, OtlpHttpTransport } from "./_transport.ts";
import type { OtlpHttpExporterOptions } from "./options.ts";

/** What each signal sends, and how it is encoded. */
const SIGNALS = {
  logs: { json: encodeLogsRequestJson, protobuf: writeLogsRequest },
  traces: { json: encodeTraceRequestJson, protobuf: writeTraceRequest },
} as const;

/** The most idle output buffers an exporter keeps, whatever its maxConcurrentExports. */
const MAX_POOLED_BUFFERS = 8;

/**
 * An OTLP/HTTP exporter for one signal: {@linkcode OtlpHttpLogExporter} for
 * logs, {@linkcode OtlpHttpSpanExporter} for traces. It owns the HTTP
 * request, its timeout, compression and retries; the batching processor
 * that feeds it owns the queue. `export` never rejects.
 *
 * @typeParam T `LogRecordData` for logs, `ReadableSpan` for traces.
 *
 * @example Read the resolved configuration
 * ```ts
 * import { type OtlpHttpExporter, OtlpHttpLogExporter } from "@seed/telemetry/otlp-http";
 * import type { LogRecordData } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter: OtlpHttpExporter<LogRecordData> = new OtlpHttpLogExporter({ endpoint: "http://collector:4318/v1/logs", env: () => undefined });
 * assert.equal(exporter.protocol, "http/protobuf");
 * await exporter.shutdown();
 * ```
 */
export abstract class OtlpHttpExporter<T extends LogRecordData | ReadableSpan>
  implements Exporter<T>, AsyncDisposable {
  readonly #transport: OtlpHttpTransport;
  readonly #json: boolean;
  readonly #buffers: ProtoBufferPool;
  readonly #encodeJson: (batch: readonly T[]) => Uint8Array<ArrayBuffer>;
  readonly #writeProtobuf: (
    batch: readonly T[],
    out: ProtoBuffer,
    offset: number,
  ) => number;

  /**
   * Creates the exporter; options win over `OTEL_EXPORTER_OTLP_*` variables.
   *
   * @param source The name diagnostics and errors report it under.
   * @param signal `"logs"` or `"traces"`: the request type and default path.
   * @param options Endpoint, headers, timeout, compression, protocol, retry policy, `fetch`.
   * @throws {TypeError} When the endpoint, protocol, compression or a header is invalid.
   * @throws {RangeError} When a number option is out of range.
   */
  constructor(
    source: string,
    signal: "logs" | "traces",
    options: OtlpHttpExporterOptions = {},
  ) {
    this.#transport = new OtlpHttpTransport(
      source,
      resolveOtlpConfig(source, signal, options),
    );
    this.#json = this.#transport.config.protocol === "http/json";
    // One idle buffer per export that may be in flight: a batching processor
    // starts up to maxConcurrentExports at once (a flush of 2,000 queued
    // spans starts four), and with two kept the other two took a fresh
    // 64 KiB buffer and grew it to the batch's size each time (its
    // constructor and grow were 1.5% of a Bun server's samples in
    // bench/http_server.ts's rounds).
    this.#buffers = new ProtoBufferPool(
      Math.min(this.#transport.config.maxConcurrentExports, MAX_POOLED_BUFFERS),
    );
    const encoders = SIGNALS[signal];
    this.#encodeJson = encoders.json as (
      batch: readonly T[],
    ) => Uint8Array<ArrayBuffer>;
    this.#writeProtobuf = encoders.protobuf as (
      batch: readonly T[],
      out: ProtoBuffer,
      offset: number,
    ) => number;
  }

  /** The URL batches are sent to. */
  get endpoint(): string {
    return this.#transport.config.url;
  }

  /** The encoding in use. */
  get protocol(): "http/protobuf" | "http/json" {
    return this.#transport.config.protocol;
  }

  /**
   * The most exports in flight at once (OTLP/HTTP allows concurrent
   * requests); a batching processor with no `maxConcurrentExports` of its
   * own uses it.
   */
  get maxConcurrentExports(): number {
    return this.#transport.config.maxConcurrentExports;
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
   * @param batch The records or spans; encoded before this returns.
   * @param signal Aborts the export (the processor's timeout or shutdown).
   * @returns The outcome; never rejects.
   */
  export(batch: readonly T[], signal: AbortSignal): Promise<ExportResult> {
    try {
      // A signal that is not an AbortSignal is no signal (never aborts).
      const s = signal instanceof AbortSignal ? signal : NEVER_ABORTED;
      return this.#export(batch, s);
    } catch (error) {
      // Not a batch (null, a Proxy whose traps throw): a failure, never a throw.
      return Promise.resolve(encodingFailure(error));
    }
  }

  #export(batch: readonly T[], signal: AbortSignal): Promise<ExportResult> {
    if (batch.length === 0) return Promise.resolve({ code: "success" });
    if (this.#json) {
      let body: Uint8Array<ArrayBuffer>;
      try {
        body = this.#encodeJson(batch);
      } catch (error) {
        return Promise.resolve(encodingFailure(error));
      }
      return withSkipped(
        this.#transport.send(body, signal),
        lastSkippedJsonItems(),
      );
    }
    // Protobuf: written into a pooled buffer, taken back once the request
    // (retries included) is over; fetch copies a BufferSource body when it
    // builds the request, so nothing reads it after that.
    const pool = this.#buffers;
    const out = pool.take();
    let end: number;
    try {
      end = this.#writeProtobuf(batch, out, 0);
    } catch (error) {
      pool.give(out);
      return Promise.resolve(encodingFailure(error));
    }
    return withSkipped(
      this.#transport.send(out.bytes.subarray(0, end), signal).finally(
        () => pool.give(out),
      ),
      lastSkippedItems(),
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

/**
 * Items the encoder left out (reading them threw) are never reported as
 * exported: on success they count as `rejected`, like items the receiver
 * refused. No extra Promise when none were left out.
 */
export function withSkipped(
  result: Promise<ExportResult>,
  skipped: number,
): Promise<ExportResult> {
  if (skipped === 0) return result;
  return result.then((r) =>
    r.code === "success"
      ? {
        ...r,
        rejected: (r.rejected ?? 0) + skipped,
        message: r.message ??
          `${skipped} items could not be read and were left out of the request`,
      }
      : r
  );
}

const NEVER_ABORTED: AbortSignal = new AbortController().signal;

function encodingFailure(error: unknown): ExportResult {
  return {
    code: "failure",
    retryable: false,
    error: error instanceof Error ? error : new Error(String(error)),
  };
}
