/**
 * An exporter that keeps everything in memory, for tests and demos.
 *
 * @module
 */

import type { Exporter, ExportResult } from "./exporter.ts";

/**
 * Keeps every exported item (and every batch) in memory.
 *
 * @typeParam T `LogRecordData` or `ReadableSpan`.
 *
 * @example
 * ```ts
 * import { InMemoryExporter } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<string>();
 * await exporter.export(["a", "b"], new AbortController().signal);
 * assert.deepEqual(exporter.items, ["a", "b"]);
 * assert.equal(exporter.batches.length, 1);
 * ```
 */
export class InMemoryExporter<T> implements Exporter<T> {
  /** Every item exported, in order. */
  readonly items: T[] = [];
  /** Every batch exported, in order. */
  readonly batches: (readonly T[])[] = [];
  #stopped = false;

  /**
   * Stores the batch; fails (not retryable) after shutdown.
   *
   * @param batch The items.
   * @param _signal Unused: storing cannot be aborted.
   * @returns Success, or failure after shutdown.
   */
  export(batch: readonly T[], _signal: AbortSignal): Promise<ExportResult> {
    if (this.#stopped) {
      return Promise.resolve({
        code: "failure",
        retryable: false,
        error: new Error("InMemoryExporter is shut down"),
      });
    }
    const copy = batch.slice();
    this.batches.push(copy);
    for (const item of copy) this.items.push(item);
    return Promise.resolve({ code: "success" });
  }

  /** Forgets everything exported so far. */
  reset(): void {
    this.items.length = 0;
    this.batches.length = 0;
  }

  /**
   * Stops accepting batches.
   *
   * @returns Resolves at once.
   */
  shutdown(): Promise<void> {
    this.#stopped = true;
    return Promise.resolve();
  }
}
