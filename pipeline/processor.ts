/**
 * The Processor contracts: synchronous on the hot path.
 *
 * A processor's `onEmit` / `onEnd` runs on the caller's stack, returns
 * `void` (never a Promise) and never throws: a failure becomes a counter or a
 * diagnostic. Local OS back-ends (user_events, ETW) are processors that write
 * straight to the OS; network back-ends are {@linkcode Exporter}s fed by a
 * batching processor. Only `forceFlush` and `shutdown` are async.
 *
 * @module
 */

import type { LogEmitContext, LogRecord } from "./logs/log_record.ts";
import type { ReadableSpan } from "./trace/span.ts";
import type { SpanContext } from "./trace_context.ts";

/**
 * Receives every log record a logger emits.
 *
 * @example A processor that counts records
 * ```ts
 * import type { LogEmitContext, LogRecord, LogRecordProcessor } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * class CountingProcessor implements LogRecordProcessor {
 *   count = 0;
 *   onEmit(_record: LogRecord, _context: LogEmitContext): void { this.count++; }
 *   forceFlush(): Promise<void> { return Promise.resolve(); }
 *   shutdown(): Promise<void> { return Promise.resolve(); }
 * }
 * const processor = new CountingProcessor();
 * processor.onEmit({ body: "x" }, undefined as never);
 * assert.equal(processor.count, 1);
 * ```
 */
export interface LogRecordProcessor {
  /**
   * Handles one record, synchronously. Must not throw, must not keep a
   * reference to `record` without resolving it first (see
   * `toLogRecordData`), and must not return a Promise.
   *
   * @param record The record as the caller emitted it.
   * @param context The emitting logger's resource, scope and sanitizer.
   */
  onEmit(record: LogRecord, context: LogEmitContext): void;
  /**
   * Answers the OpenTelemetry `Enabled` question: would a record of this
   * severity and event name be processed? Omit it to mean "always".
   *
   * @param severityNumber The severity (1-24), if known.
   * @param eventName The event name, if any.
   * @param context The asking logger's context.
   * @returns `false` when a record would be dropped anyway.
   */
  enabled?(
    severityNumber: number | undefined,
    eventName: string | undefined,
    context: LogEmitContext,
  ): boolean;
  /** Exports or writes everything accepted so far. */
  forceFlush(): Promise<void>;
  /** Flushes, then releases resources; later records are dropped and counted. */
  shutdown(): Promise<void>;
}

/**
 * Receives every span a tracer starts (optionally) and ends.
 *
 * @example A processor that collects span names
 * ```ts
 * import type { ReadableSpan, SpanProcessor } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const names: string[] = [];
 * const processor: SpanProcessor = {
 *   onEnd(span: ReadableSpan): void { names.push(span.name); },
 *   forceFlush: () => Promise.resolve(),
 *   shutdown: () => Promise.resolve(),
 * };
 * processor.onEnd({ name: "GET /" } as ReadableSpan);
 * assert.deepEqual(names, ["GET /"]);
 * ```
 */
export interface SpanProcessor {
  /**
   * Called synchronously when a span starts. Must not throw.
   *
   * @param span The started span (still recording).
   * @param parent The parent's context, if any.
   */
  onStart?(span: ReadableSpan, parent: SpanContext | undefined): void;
  /**
   * Called synchronously when a span ends; the span is immutable from now
   * on, so it may be kept as it is. Must not throw.
   *
   * @param span The ended span.
   */
  onEnd(span: ReadableSpan): void;
  /** Exports or writes everything accepted so far. */
  forceFlush(): Promise<void>;
  /** Flushes, then releases resources; later spans are dropped and counted. */
  shutdown(): Promise<void>;
}
