/**
 * The Exporter contract: asynchronous, for the network.
 *
 * An exporter receives a batch and resolves to an {@linkcode ExportResult};
 * it is driven by a batching or simple processor, never by the caller of
 * `emit`. One Promise per batch, and an `AbortSignal` that says when to stop.
 *
 * @module
 */

/**
 * The outcome of one export.
 *
 * - `success`: the batch was accepted; `rejected` counts items the receiver
 *   refused in a partial success (OTLP `partial_success`).
 * - `failure`: the batch was not delivered; `retryable` says whether the
 *   same batch could succeed later (the exporter already retried as its
 *   policy allows).
 *
 * @example
 * ```ts
 * import type { ExportResult } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const ok: ExportResult = { code: "success" };
 * const failed: ExportResult = { code: "failure", retryable: false, error: new Error("HTTP 400") };
 * assert.notEqual(ok.code, failed.code);
 * ```
 */
export type ExportResult =
  | {
    readonly code: "success";
    readonly rejected?: number;
    readonly message?: string;
  }
  | {
    readonly code: "failure";
    readonly retryable: boolean;
    readonly error?: Error;
  };

/**
 * Sends batches somewhere, asynchronously.
 *
 * @typeParam T The item type: `LogRecordData` or `ReadableSpan`.
 *
 * @example An exporter that keeps batches in memory
 * ```ts
 * import type { Exporter, ExportResult } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const batches: string[][] = [];
 * const exporter: Exporter<string> = {
 *   export(batch: readonly string[], _signal: AbortSignal): Promise<ExportResult> {
 *     batches.push([...batch]);
 *     return Promise.resolve({ code: "success" });
 *   },
 *   shutdown: () => Promise.resolve(),
 * };
 * assert.equal((await exporter.export(["a"], new AbortController().signal)).code, "success");
 * ```
 */
export interface Exporter<T> {
  /**
   * Exports one batch. Should not reject (a rejection is treated as a
   * non-retryable failure); should stop promptly when `signal` aborts.
   *
   * @param batch The items; only valid until the returned Promise settles.
   * @param signal Aborted when the processor's export timeout passes or it shuts down.
   * @returns The outcome.
   */
  export(batch: readonly T[], signal: AbortSignal): Promise<ExportResult>;
  /** Waits for exports in flight, then releases resources. */
  shutdown(): Promise<void>;
  /** Optional: completes exports in flight. */
  forceFlush?(): Promise<void>;
  /**
   * Optional: how many exports this exporter runs concurrently (its calls
   * return at once; the tasks overlap, as the specification allows). A
   * batching processor without its own `maxConcurrentExports` uses it.
   * @default {1}
   */
  readonly maxConcurrentExports?: number;
}

/**
 * An export that failed, with what callers branch on.
 *
 * @example
 * ```ts
 * import { ExportError } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const error = new ExportError("Export to http://collector:4318/v1/logs failed: HTTP 503", { status: 503, retryable: true });
 * assert.equal(error.retryable, true);
 * assert.equal(error.name, "ExportError");
 * ```
 */
export class ExportError extends Error {
  /** The HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** Whether the same batch could succeed later. */
  readonly retryable: boolean;

  /**
   * Creates an export error.
   *
   * @param message What failed, the state, the fix.
   * @param options Status, retryability and cause.
   */
  constructor(
    message: string,
    options: { status?: number; retryable: boolean; cause?: unknown },
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ExportError";
    this.status = options.status;
    this.retryable = options.retryable;
  }
}
