// The queue-and-export engine behind the batch and simple processors: a
// preallocated ring, a timer armed only while items wait, a bounded number of
// exports in flight, and counters for everything accepted, dropped, exported
// and failed. Offering an item never blocks, throws or allocates a Promise.

import {
  clearTimeout as clearNodeTimeout,
  setTimeout as setNodeTimeout,
} from "node:timers";
import { type DiagnosticSink, reportDiagnostic } from "./diagnostics.ts";
import type { Exporter, ExportResult } from "./exporter.ts";

/**
 * The timer seam of the batching processors; tests pass a fake that fires on demand.
 *
 * @example
 * ```ts
 * import { BatchLogRecordProcessor, type BatchScheduler, InMemoryExporter } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const armed: number[] = [];
 * const scheduler: BatchScheduler = { setTimeout: (_fn, ms) => armed.push(ms), clearTimeout: () => {} };
 * const processor = new BatchLogRecordProcessor(new InMemoryExporter(), { scheduler, scheduledDelayMillis: 250 });
 * assert.equal(processor.stats.queued, 0);
 * assert.deepEqual(armed, []);
 * ```
 */
export interface BatchScheduler {
  /** Calls `fn` once after `ms` milliseconds; the timer must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** Real timers from `node:timers` (both runtimes have them), unref'd. */
export const realScheduler: BatchScheduler = {
  setTimeout(fn: () => void, ms: number): unknown {
    const handle = setNodeTimeout(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    clearNodeTimeout(handle as ReturnType<typeof setNodeTimeout>);
  },
};

/** Counters of a batching or simple processor; see `BatchProcessorStats`. */
export interface BatcherCounters {
  accepted: number;
  dropped: number;
  droppedAfterShutdown: number;
  exported: number;
  failed: number;
  rejected: number;
  exportCalls: number;
  exportFailures: number;
}

export interface BatcherConfig<T> {
  readonly source: string;
  readonly exporter: Exporter<T>;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
  readonly maxConcurrentExports: number;
  /** Start an export from `offer` itself once a batch is full (the simple processor). */
  readonly exportOnOffer: boolean;
  readonly scheduler: BatchScheduler;
  readonly diagnostics: DiagnosticSink;
}

interface InFlight {
  readonly promise: Promise<void>;
  readonly controller: AbortController;
}

export class Batcher<T> {
  readonly counters: BatcherCounters = {
    accepted: 0,
    dropped: 0,
    droppedAfterShutdown: 0,
    exported: 0,
    failed: 0,
    rejected: 0,
    exportCalls: 0,
    exportFailures: 0,
  };
  readonly config: BatcherConfig<T>;
  #ring: (T | undefined)[];
  #head = 0;
  #size = 0;
  #taken = 0; // items taken out of the ring for export, in total
  #flushTarget = 0; // export regardless of batch size until #taken reaches this
  #timer: unknown = undefined;
  #timerDue = false;
  #inFlight = new Set<InFlight>();
  #closed = false;
  #dropping = false;
  #shutdownPromise: Promise<void> | undefined;
  #onTimer: () => void;

  constructor(config: BatcherConfig<T>) {
    this.config = config;
    // Built by push so the engine keeps a packed array: `new Array(n)` of a
    // large n gives a slow dictionary-backed one in V8.
    const ring: (T | undefined)[] = [];
    for (let i = 0; i < config.maxQueueSize; i++) ring.push(undefined);
    this.#ring = ring;
    this.#onTimer = () => {
      this.#timer = undefined;
      this.#timerDue = true;
      this.#pump();
    };
  }

  get queued(): number {
    return this.#size;
  }
  get inFlight(): number {
    return this.#inFlight.size;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** True when `offer` would drop (queue full or shut down): lets callers skip building the item. */
  wouldDrop(): boolean {
    return this.#closed || this.#size === this.#ring.length;
  }

  /** Counts one item that the caller decided not to build because `wouldDrop()` said so. */
  countDrop(): void {
    if (this.#closed) {
      this.counters.droppedAfterShutdown++;
      this.counters.dropped++;
      return;
    }
    this.counters.dropped++;
    if (!this.#dropping) {
      this.#dropping = true;
      reportDiagnostic(
        this.config.diagnostics,
        this.config.source,
        "warn",
        `Queue full (${this.#ring.length} items): dropping new items until exports catch up; raise maxQueueSize or check the exporter`,
      );
    }
  }

  offer(item: T): void {
    if (this.#closed || this.#size === this.#ring.length) {
      this.countDrop();
      return;
    }
    const ring = this.#ring;
    let tail = this.#head + this.#size;
    if (tail >= ring.length) tail -= ring.length;
    ring[tail] = item;
    this.#size++;
    this.counters.accepted++;
    if (this.#size >= this.config.maxExportBatchSize) {
      if (this.config.exportOnOffer) this.#pump();
      else if (this.#inFlight.size < this.config.maxConcurrentExports) {
        this.#arm(0);
      }
    } else if (this.#timer === undefined) {
      this.#arm(this.config.scheduledDelayMillis);
    }
  }

  #arm(ms: number): void {
    const scheduler = this.config.scheduler;
    if (this.#timer !== undefined) {
      if (ms !== 0) return;
      scheduler.clearTimeout(this.#timer);
    }
    this.#timer = scheduler.setTimeout(this.#onTimer, ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) {
      this.config.scheduler.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Starts as many exports as the rules allow. */
  #pump(): void {
    const batchSize = this.config.maxExportBatchSize;
    while (
      this.#size > 0 && this.#inFlight.size < this.config.maxConcurrentExports
    ) {
      const full = this.#size >= batchSize;
      if (!full && !this.#timerDue && this.#taken >= this.#flushTarget) break;
      this.#timerDue = false;
      this.#startExport(this.#takeBatch(batchSize));
    }
    this.#timerDue = false;
    if (this.#size === 0) {
      this.#disarm();
      this.#dropping = false;
    } else if (
      this.#timer === undefined &&
      this.#inFlight.size < this.config.maxConcurrentExports
    ) {
      this.#arm(this.#size >= batchSize ? 0 : this.config.scheduledDelayMillis);
    }
  }

  #takeBatch(max: number): T[] {
    const n = Math.min(max, this.#size);
    const batch = new Array<T>(n);
    const ring = this.#ring;
    for (let i = 0; i < n; i++) {
      batch[i] = ring[this.#head] as T;
      ring[this.#head] = undefined;
      this.#head = this.#head + 1 === ring.length ? 0 : this.#head + 1;
    }
    this.#size -= n;
    this.#taken += n;
    if (this.#size < ring.length) this.#dropping = false;
    return batch;
  }

  #startExport(batch: T[]): void {
    const controller = new AbortController();
    const entry: { promise: Promise<void>; controller: AbortController } = {
      promise: undefined as unknown as Promise<void>,
      controller,
    };
    entry.promise = this.#runExport(batch, controller).finally(() => {
      this.#inFlight.delete(entry);
      this.#pump();
    });
    this.#inFlight.add(entry);
  }

  async #runExport(batch: T[], controller: AbortController): Promise<void> {
    const { exporter, exportTimeoutMillis, scheduler, diagnostics, source } =
      this.config;
    this.counters.exportCalls++;
    let timer: unknown;
    let result: ExportResult;
    try {
      const timeout = new Promise<ExportResult>((resolve) => {
        const onAbort = () => {
          const reason = controller.signal.reason;
          resolve({
            code: "failure",
            retryable: true,
            error: reason instanceof Error ? reason : new Error(String(reason)),
          });
        };
        controller.signal.addEventListener("abort", onAbort, { once: true });
        timer = scheduler.setTimeout(() => {
          controller.abort(
            new DOMException(
              `Export timed out after ${exportTimeoutMillis} ms`,
              "TimeoutError",
            ),
          );
        }, exportTimeoutMillis);
      });
      const exported = exporter.export(batch, controller.signal);
      result = await Promise.race([exported, timeout]);
      if (result === null || typeof result !== "object") {
        result = {
          code: "failure",
          retryable: false,
          error: new TypeError("Exporter resolved to no ExportResult"),
        };
      }
    } catch (error) {
      result = {
        code: "failure",
        retryable: false,
        error: error instanceof Error ? error : new Error(String(error)),
      };
    } finally {
      if (timer !== undefined) scheduler.clearTimeout(timer);
    }
    if (result.code === "success") {
      this.counters.exported += batch.length;
      const rejected = result.rejected ?? 0;
      if (rejected > 0) {
        this.counters.rejected += rejected;
        reportDiagnostic(
          diagnostics,
          source,
          "warn",
          `Receiver rejected ${rejected} of ${batch.length} items${
            result.message ? `: ${result.message}` : ""
          }`,
        );
      }
    } else {
      this.counters.failed += batch.length;
      this.counters.exportFailures++;
      reportDiagnostic(
        diagnostics,
        source,
        "error",
        `Export of ${batch.length} items failed (${
          result.retryable ? "retryable" : "not retryable"
        }): ${result.error?.message ?? "no reason given"}`,
        result.error,
      );
    }
  }

  /** Exports everything queued at the time of the call and waits for it. */
  async flush(): Promise<void> {
    const target = this.#taken + this.#size;
    if (target > this.#flushTarget) this.#flushTarget = target;
    this.#pump();
    while (this.#taken < target) {
      if (this.#inFlight.size === 0) break; // nothing can move the queue: should not happen
      await Promise.race(Array.from(this.#inFlight, (f) => f.promise));
      this.#pump();
    }
    await Promise.all(Array.from(this.#inFlight, (f) => f.promise));
  }

  /** Refuses new items, exports everything queued, then shuts the exporter down. */
  shutdown(): Promise<void> {
    return this.#shutdownPromise ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    try {
      await this.flush();
    } finally {
      this.#disarm();
      try {
        await this.config.exporter.shutdown();
      } catch (error) {
        reportDiagnostic(
          this.config.diagnostics,
          this.config.source,
          "error",
          "Exporter shutdown failed",
          error,
        );
      }
    }
  }
}
