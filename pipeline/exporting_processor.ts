/**
 * The base of every processor that hands items to an {@linkcode Exporter}
 * through a queue: the batching and simple processors. It owns the queue,
 * the timer, the exports in flight and the counters; a subclass only decides
 * what to queue in its synchronous `onEmit` / `onEnd`.
 *
 * @module
 */

import { Batcher, type BatchScheduler } from "./_batcher.ts";
import type { DiagnosticSink } from "./diagnostics.ts";
import type { Exporter } from "./exporter.ts";

/**
 * Counters of an exporting processor, as of the moment they were read.
 * Every item offered (each `onEmit` / sampled `onEnd` call) ends up in
 * exactly one of `invalid`, `dropped` or `accepted`, and every accepted
 * item in exactly one of `exported`, `failed`, `queued` or an export in
 * flight; of those exported, the receiver refused `rejected`. So, whenever
 * `inFlight` is 0 (after `forceFlush()`):
 *
 * `offered = invalid + dropped + accepted` and
 * `accepted = exported + failed + queued`.
 *
 * @example
 * ```ts
 * import { BatchLogRecordProcessor, InMemoryExporter } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * await using processor = new BatchLogRecordProcessor(new InMemoryExporter());
 * const stats = processor.stats;
 * assert.equal(stats.accepted + stats.dropped, 0);
 * ```
 */
export interface BatchProcessorStats {
  /** Items accepted into the queue. */
  readonly accepted: number;
  /** Items dropped because the queue was full or the processor was shut down. */
  readonly dropped: number;
  /** Of `dropped`, those offered after shutdown. */
  readonly droppedAfterShutdown: number;
  /** Of `dropped`, those still queued when `shutdown()` ran out of time (`shutdownTimeoutMillis`). */
  readonly droppedOnShutdownTimeout: number;
  /** Items in exports that succeeded. */
  readonly exported: number;
  /** Items in exports that failed (after the exporter's own retries) or timed out. */
  readonly failed: number;
  /** Items the receiver refused within successful exports (OTLP partial success). */
  readonly rejected: number;
  /** Items refused on arrival: not an object (`onEmit(null)`), or reading it threw. */
  readonly invalid: number;
  /** Items waiting in the queue. */
  readonly queued: number;
  /** Exports in flight. */
  readonly inFlight: number;
  /** Calls to the exporter. */
  readonly exportCalls: number;
  /** Calls to the exporter that failed. */
  readonly exportFailures: number;
}

/**
 * The resolved settings of an {@linkcode ExportingProcessor}.
 *
 * @example
 * ```ts
 * import type { ExportingProcessorSettings } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const settings: ExportingProcessorSettings = {
 *   maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 1000, exportTimeoutMillis: 30000,
 *   maxConcurrentExports: 1, exportOnOffer: false,
 *   scheduler: { setTimeout: () => 0, clearTimeout: () => {} }, diagnostics: () => {},
 * };
 * assert.equal(settings.maxExportBatchSize, 512);
 * ```
 */
export interface ExportingProcessorSettings {
  /** The most items waiting; beyond it new items are dropped and counted. */
  readonly maxQueueSize: number;
  /** The most items in one export. */
  readonly maxExportBatchSize: number;
  /** How long a partial batch may wait, in ms. */
  readonly scheduledDelayMillis: number;
  /** How long one export may take before it is aborted and counted as failed, in ms. */
  readonly exportTimeoutMillis: number;
  /**
   * How long `forceFlush()` waits, in ms; what is not done by then stays
   * queued or in flight, with one diagnostic.
   * @default {30000}
   */
  readonly forceFlushTimeoutMillis?: number;
  /**
   * How long `shutdown()` may take, the exporter's shutdown included, in ms;
   * at the deadline the exports in flight are aborted (counted as failed)
   * and the queue is dropped (counted as dropped), with one diagnostic.
   * @default {30000}
   */
  readonly shutdownTimeoutMillis?: number;
  /** The most exports in flight at once. */
  readonly maxConcurrentExports: number;
  /** Start an export on the caller's stack as soon as a batch is full (the simple processors). */
  readonly exportOnOffer: boolean;
  /** The timer seam; timers must not keep the process alive. */
  readonly scheduler: BatchScheduler;
  /** Where export failures and drops are reported. */
  readonly diagnostics: DiagnosticSink;
}

/**
 * A processor that queues items for an exporter. Offering an item never
 * blocks, throws or allocates a Promise; when the queue is full the item is
 * dropped and counted. Subclasses call {@linkcode ExportingProcessor.accepting}
 * and then {@linkcode ExportingProcessor.enqueue} from their hot-path method.
 *
 * @typeParam T The item type the exporter receives.
 *
 * @example A processor that exports the bodies of log records
 * ```ts
 * import { ExportingProcessor, InMemoryExporter, type LogRecord, type LogRecordProcessor } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * class BodyProcessor extends ExportingProcessor<string> implements LogRecordProcessor {
 *   onEmit(record: LogRecord): void {
 *     if (this.accepting()) this.enqueue(String(record.body));
 *   }
 * }
 * const exporter = new InMemoryExporter<string>();
 * const processor = new BodyProcessor("BodyProcessor", exporter, {
 *   maxQueueSize: 10, maxExportBatchSize: 10, scheduledDelayMillis: 10, exportTimeoutMillis: 1000,
 *   maxConcurrentExports: 1, exportOnOffer: false,
 *   scheduler: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as number) },
 *   diagnostics: () => {},
 * });
 * processor.onEmit({ body: "hi" });
 * await processor.shutdown();
 * assert.deepEqual(exporter.items, ["hi"]);
 * ```
 */
export abstract class ExportingProcessor<T> implements AsyncDisposable {
  readonly #batcher: Batcher<T>;

  /**
   * Creates the processor.
   *
   * @param source The name diagnostics report it under.
   * @param exporter Where items go.
   * @param settings Resolved queue, batch and timing settings.
   */
  constructor(
    source: string,
    exporter: Exporter<T>,
    settings: ExportingProcessorSettings,
  ) {
    const forceFlushTimeoutMillis = settings.forceFlushTimeoutMillis ?? 30000;
    const shutdownTimeoutMillis = settings.shutdownTimeoutMillis ?? 30000;
    for (
      const [name, value] of [
        ["forceFlushTimeoutMillis", forceFlushTimeoutMillis],
        ["shutdownTimeoutMillis", shutdownTimeoutMillis],
      ] as const
    ) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(
          `Cannot create ${source} with ${name} ${value}: expected an integer >= 0`,
        );
      }
    }
    this.#batcher = new Batcher({
      source,
      exporter,
      ...settings,
      forceFlushTimeoutMillis,
      shutdownTimeoutMillis,
    });
  }

  /** The counters, as of now. */
  get stats(): BatchProcessorStats {
    const batcher = this.#batcher;
    return {
      ...batcher.counters,
      queued: batcher.queued,
      inFlight: batcher.inFlight,
    };
  }

  /**
   * Whether an item would be queued now. When not (the queue is full or the
   * processor is shut down), the item is counted as dropped here, so the
   * caller can skip building it.
   *
   * @returns `true` when the caller should build the item and enqueue it.
   */
  protected accepting(): boolean {
    const batcher = this.#batcher;
    if (!batcher.wouldDrop()) return true;
    batcher.countDrop();
    return false;
  }

  /**
   * Queues an item (or drops and counts it when the queue is full).
   *
   * @param item The item.
   */
  protected enqueue(item: T): void {
    this.#batcher.offer(item);
  }

  /** Counts one item refused on arrival (see `stats.invalid`). */
  protected countInvalid(): void {
    this.#batcher.counters.invalid++;
  }

  /**
   * `false` once shut down.
   *
   * @returns Whether items are accepted.
   */
  enabled(): boolean {
    return !this.#batcher.closed;
  }

  /**
   * Exports every item queued before the call and waits for those exports,
   * up to `forceFlushTimeoutMillis`; what is not done by then stays queued
   * or in flight (reported once) and is exported later.
   *
   * @returns Resolves when they are done (exported or counted as failed), or at the timeout; never rejects.
   */
  forceFlush(): Promise<void> {
    return this.#batcher.flush();
  }

  /**
   * Refuses new items, exports the queued ones, then shuts the exporter
   * down, within `shutdownTimeoutMillis`: at the deadline the exports in
   * flight are aborted (counted as failed) and what is still queued is
   * dropped (counted in `dropped` and `droppedOnShutdownTimeout`), with one
   * diagnostic. Idempotent.
   *
   * @returns Resolves when done, or at the timeout; never rejects.
   */
  shutdown(): Promise<void> {
    return this.#batcher.shutdown();
  }

  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
