/**
 * Options and statistics of the Linux `user_events` processors.
 *
 * @module
 */

import type { DiagnosticSink } from "../../pipeline/diagnostics.ts";
import type { LogRecordData } from "../../pipeline/logs/log_record.ts";

/**
 * The largest event perf can receive from a user_events tracepoint, in
 * bytes after the 4-byte `write_index` (EventHeader header, extension,
 * metadata and data): 8,184. The kernel's perf path
 * (`user_event_perf` in `kernel/trace/trace_events_user.c`) copies the
 * 8-byte `trace_entry` common header and the event into a per-CPU buffer
 * from `perf_trace_buf_alloc(ALIGN(8 + n, 8))`, which refuses more than
 * `PERF_MAX_TRACE_SIZE` = 8,192 bytes; so `n <= 8192 - 8`. A larger event is
 * dropped for perf with no error to the writer. The default `maxEventSize`.
 *
 * @example
 * ```ts
 * import { PERF_MAX_EVENT_SIZE } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * assert.equal(PERF_MAX_EVENT_SIZE, 8192 - 8);
 * ```
 */
export const PERF_MAX_EVENT_SIZE: number = 8184;

/**
 * The largest event the user_events processors write, in bytes after the
 * `write_index`: 8 (EventHeader) + 4 (metadata extension header) + 65,467
 * (metadata plus data, the limit of Microsoft's `eventheader_dynamic`,
 * 65,535 - 68). For consumers that take more than perf.
 *
 * @example
 * ```ts
 * import { KERNEL_MAX_EVENT_SIZE } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * assert.equal(KERNEL_MAX_EVENT_SIZE, 12 + 65535 - 68);
 * ```
 */
export const KERNEL_MAX_EVENT_SIZE: number = 65479;

/** The smallest accepted `maxEventSize`. */
const MIN_EVENT_SIZE = 512;

/**
 * Checks `maxEventSize` and `eventNameCallback` of user_events options.
 *
 * @param options The options.
 * @returns The event size limit.
 * @throws {TypeError} When `eventNameCallback` is not a function or `maxEventSize` not a number.
 * @throws {RangeError} When `maxEventSize` is out of range.
 */
export function checkEventOptions(
  options: UserEventsProcessorOptions,
): number {
  const size = options.maxEventSize ?? PERF_MAX_EVENT_SIZE;
  if (typeof size !== "number") {
    throw new TypeError(
      `Cannot use maxEventSize ${
        String(size)
      }: expected an integer from ${MIN_EVENT_SIZE} to ${KERNEL_MAX_EVENT_SIZE}`,
    );
  }
  if (
    !Number.isInteger(size) || size < MIN_EVENT_SIZE ||
    size > KERNEL_MAX_EVENT_SIZE
  ) {
    throw new RangeError(
      `Cannot use maxEventSize ${size}: expected an integer from ${MIN_EVENT_SIZE} to ${KERNEL_MAX_EVENT_SIZE} ` +
        `(${PERF_MAX_EVENT_SIZE}, the default, is what perf keeps)`,
    );
  }
  const callback = options.eventNameCallback;
  if (callback !== undefined && typeof callback !== "function") {
    throw new TypeError(
      `Cannot use eventNameCallback ${
        callback === null ? "null" : typeof callback
      }: expected a function (record) => string, or leave it out for "Log"`,
    );
  }
  return size;
}

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
   * `ext_cloud_role` / `ext_cloud_roleInstance`, and only there (listing
   * them here does not copy them into `PartC`).
   * @default {[]}
   */
  readonly resourceAttributes?: readonly string[];
  /**
   * The most bytes of one event, counted as the kernel counts them: what
   * follows the 4-byte `write_index` (EventHeader, metadata, data). What
   * each consumer keeps of an event of `n` bytes:
   *
   * - **perf** (`perf record`, `perf-collect`, any `perf_event_open` reader,
   *   the Rust contrib's tests): `n <= 8184`
   *   ({@linkcode PERF_MAX_EVENT_SIZE}: the 8-byte `trace_entry` plus the
   *   event, rounded up to 8, must fit perf's 8,192-byte per-CPU buffer).
   *   A larger event is dropped for perf by the kernel; `write` still
   *   succeeds and the processor cannot see it (dmesg says once per boot
   *   `perf buffer not large enough, wanted …, have 8192`).
   * - **ftrace** (`trace`, `trace_pipe`, `trace_pipe_raw`): one ring-buffer
   *   sub-buffer, by default a 4 KiB page (about 4,060 bytes of event);
   *   Linux 6.8+ can raise it with `buffer_subbuf_size_kb`. Larger events are
   *   dropped for ftrace, silently.
   * - the kernel itself accepts writes up to
   *   {@linkcode KERNEL_MAX_EVENT_SIZE} (65,479 bytes: `eventheader_dynamic`'s
   *   65,467 bytes of metadata and data, plus the 12 bytes of headers) for
   *   probes that take more (ftrace with large sub-buffers, in-kernel probes).
   *
   * An event over the limit is written with its longest string values cut,
   * all to one common length, at a UTF-8 character boundary (counted in
   * `stats.truncatedValues`); only when its other fields alone exceed the
   * limit is it dropped (`stats.droppedTooLarge`). An integer from 512 to
   * 65,479.
   * @default {8184}
   */
  readonly maxEventSize?: number;
  /**
   * Log processor only: names each event from its record, like the Rust
   * exporter's event-name callback (for example
   * `(r) => r.eventName ?? "Log"`). When it throws or returns anything but a
   * non-empty string of at most 255 characters, the event is named `Log`
   * and `stats.eventNameFallbacks` counts it. `;` and NUL in the name
   * become `_`.
   * @default {undefined (every event is named "Log")}
   */
  readonly eventNameCallback?: (record: LogRecordData) => string;
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
  /** Logs only: dropped because `severityNumber` was missing or not an integer 1-24 (a string such as `"17"` included), or the record could not be read (`null`, a throwing getter). */
  readonly droppedNoSeverity: number;
  /** Dropped because the listener went away between the check and the write (`EBADF`). */
  readonly droppedNoListener: number;
  /**
   * Dropped because the event exceeded `maxEventSize` even with every string
   * cut to nothing, or the kernel refused its size (`ERANGE`).
   */
  readonly droppedTooLarge: number;
  /** String values cut so that their event fits `maxEventSize` (or to 65,535 bytes). */
  readonly truncatedValues: number;
  /** Logs only: events named `Log` because `eventNameCallback` threw or returned no usable name. */
  readonly eventNameFallbacks: number;
  /** Dropped because `write` failed otherwise. */
  readonly droppedWriteError: number;
  /** Dropped because encoding threw (a value that could not be read). */
  readonly droppedEncodeError: number;
  /** Spans only: hand-made spans dropped because they were not objects or had no valid trace id and span id (see `ReadableSpanChecker`; details in the span processor's `spanChecks`). */
  readonly droppedInvalidSpan: number;
  /** Spans only: hand-made spans kept (handed to the encoder) with at least one field replaced or left out by `ReadableSpanChecker` (details in `spanChecks`). */
  readonly repairedSpans: number;
  /** Attributes left out because a struct already had 127 members. */
  readonly cappedFields: number;
  /** `PartC` attributes left out because their field name, as written (lone surrogates as U+FFFD, `;` and NUL as `_`), equals an earlier one's: the first is kept. */
  readonly duplicateFields: number;
  /** Tracepoints registered (0 when unavailable or shut down). */
  readonly registered: number;
}
