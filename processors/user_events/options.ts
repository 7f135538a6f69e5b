/**
 * Options and statistics of the Linux `user_events` processors.
 *
 * @module
 */

import type { DiagnosticSink } from "../../pipeline/diagnostics.ts";

/**
 * Options of {@linkcode UserEventsProcessor} and
 * {@linkcode UserEventsSpanProcessor} (and their `open*` factories).
 *
 * @example
 * ```ts
 * import type { UserEventsProcessorOptions } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const options: UserEventsProcessorOptions = { providerName: "myservice" };
 * assert.equal(options.providerName, "myservice");
 * ```
 */
export interface UserEventsProcessorOptions {
  /**
   * The EventHeader provider name: 1-233 ASCII letters, digits or `_`.
   * Tracepoints are named `<providerName>_L<level>K1`.
   */
  readonly providerName: string;
  /**
   * Resource attribute keys copied into every event's `PartC` (after the
   * record's attributes), like the Rust exporter's `with_resource_attributes`.
   * `service.name` and `service.instance.id` always go to `PartA` as
   * `ext_cloud_role` / `ext_cloud_roleInstance`.
   * @default {[]}
   */
  readonly resourceAttributes?: readonly string[];
  /**
   * Where the one diagnostic goes when the processor cannot work (no
   * `user_events` in the kernel, no tracefs, permission denied, no FFI).
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
  /**
   * The path of `user_events_data`. By default
   * `/sys/kernel/tracing/user_events_data`, else the first tracefs (or
   * debugfs `tracing/`) mount in `/proc/mounts`.
   * @default {undefined}
   */
  readonly userEventsDataPath?: string;
}

/**
 * Counters of a user_events processor. They only grow.
 *
 * @example
 * ```ts
 * import type { UserEventsStats } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const total = (s: UserEventsStats) => s.written + s.droppedNoListener + s.droppedTooLarge;
 * assert.equal(typeof total, "function");
 * ```
 */
export interface UserEventsStats {
  /** Records (or spans) handed to the processor. */
  readonly emitted: number;
  /** Skipped because nobody listened (enable word 0), the processor is unavailable, or shut down. */
  readonly notEnabled: number;
  /** Written to the kernel. */
  readonly written: number;
  /** Logs only: dropped because `severityNumber` was missing or not 1-24. */
  readonly droppedNoSeverity: number;
  /** Dropped because the listener went away between the check and the write (`EBADF`). */
  readonly droppedNoListener: number;
  /** Dropped because metadata plus data exceeded 65,467 bytes. */
  readonly droppedTooLarge: number;
  /** Dropped because `write` failed otherwise. */
  readonly droppedWriteError: number;
  /** Dropped because encoding threw (a value that could not be read). */
  readonly droppedEncodeError: number;
  /** Attributes left out because a struct already had 127 members. */
  readonly cappedFields: number;
  /** Tracepoints registered (0 when unavailable or shut down). */
  readonly registered: number;
}
