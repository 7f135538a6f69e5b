/**
 * Options and statistics of the ETW processors.
 *
 * @module
 */

import type { DiagnosticSink } from "../../pipeline/diagnostics.ts";
import type { LogRecordData } from "../../pipeline/logs/log_record.ts";

/**
 * Options shared by {@linkcode EtwProcessor} and {@linkcode EtwSpanProcessor}.
 *
 * @example
 * ```ts
 * import type { EtwProcessorOptions } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const options: EtwProcessorOptions = { providerName: "MyCompany.MyComponent", onUnsupported: "noop" };
 * assert.equal(options.providerName, "MyCompany.MyComponent");
 * ```
 */
export interface EtwProcessorOptions {
  /**
   * The ETW provider name; the provider GUID is derived from it (the
   * EventSource hash), so `tracelog -guid *Name` and the OpenTelemetry Rust
   * ETW consumers find it. 1-233 printable ASCII characters.
   */
  readonly providerName: string;
  /**
   * A provider group GUID (registry form) to put into the provider traits.
   * @default {undefined}
   */
  readonly providerGroup?: string;
  /**
   * The ETW event name.
   * @default {"Log" for logs, "Span" for spans}
   */
  readonly eventName?: string;
  /**
   * Log processor only: names each event from its record, like the Rust
   * exporters' event-name callback (for example
   * `(r) => r.eventName ?? "Log"`). When it throws or returns anything but a
   * non-empty string of at most 255 characters, the event gets `eventName`
   * and `stats.eventNameFallbacks` counts it.
   * @default {undefined (every event is named eventName)}
   */
  readonly eventNameCallback?: (record: LogRecordData) => string;
  /**
   * Resource attribute keys copied into every event's `PartC` (the
   * OpenTelemetry ETW exporters' `with_resource_attributes`).
   * `service.name` and `service.instance.id` always go to
   * `PartA.ext_cloud`, and only there (listing them here does not copy them
   * into `PartC`).
   * @default {[]}
   */
  readonly resourceAttributes?: readonly string[];
  /**
   * What the factory does off Windows (or without FFI): `"throw"` rejects
   * with `FfiUnavailableError`; `"noop"` resolves with a processor that drops
   * and counts every record (`stats.unsupported`) after one diagnostic.
   * @default {"throw"}
   */
  readonly onUnsupported?: "throw" | "noop";
  /**
   * Write even when `EventProviderEnabled` says no session listens. For
   * tests (Wine's ETW always answers "not enabled"); it costs a full encode
   * and write per record.
   * @default {false}
   */
  readonly forceEnabled?: boolean;
  /**
   * The most bytes of provider traits + event metadata + payload per event.
   * Rules, in order: every string, JSON text and byte array is cut (UTF-8 at
   * a character boundary) to at most 65,535 bytes; `PartC` keeps at most 127
   * attributes (`stats.droppedAttributes`); an event still over this size
   * has its longest values cut, all to one common length, so that it fits
   * exactly (shorter values and the fixed fields stay whole;
   * `stats.truncatedValues`); an event that does not fit even so (e.g. very
   * many or very long attribute names, whose metadata is limited to 32 KiB)
   * is dropped (`stats.oversize`). ETW itself drops events over 64 KiB
   * (headers included) or over the session's buffer size. 2048 to 65535.
   * @default {65000}
   */
  readonly maxEventSize?: number;
  /**
   * Where the processor reports its (rare) diagnostics.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * Counters of an ETW processor. `written + notEnabled + every drop counter`
 * is the number of records handed to it.
 *
 * @example
 * ```ts
 * import type { EtwProcessorStats } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const stats: Partial<EtwProcessorStats> = { written: 1 };
 * assert.equal(stats.written, 1);
 * ```
 */
export interface EtwProcessorStats {
  /** Events `EventWriteTransfer` accepted (0 returned). */
  readonly written: number;
  /** Records skipped because no ETW session wants their level and keyword. */
  readonly notEnabled: number;
  /** Events `EventWriteTransfer` refused (non-zero Win32 code); dropped. */
  readonly writeErrors: number;
  /** The last non-zero code of `EventWriteTransfer`, or 0. */
  readonly lastWriteError: number;
  /** Events dropped because they did not fit `maxEventSize`. */
  readonly oversize: number;
  /** Strings and byte arrays cut to fit the format or the event size. */
  readonly truncatedValues: number;
  /** Attributes left out because `PartC` holds at most 127 fields. */
  readonly droppedAttributes: number;
  /** Records dropped because encoding threw (a bug; one diagnostic). */
  readonly encodeErrors: number;
  /** Records dropped because the processor was shut down. */
  readonly afterShutdown: number;
  /** Records dropped by a no-op processor (ETW unavailable). */
  readonly unsupported: number;
  /** Logs only: events named `eventName` because `eventNameCallback` threw or returned no usable name. */
  readonly eventNameFallbacks: number;
  /** Records dropped because they were not objects or reading them threw; for spans, also hand-made spans without a valid trace id and span id (see `ReadableSpanChecker`; details in the span processor's `spanChecks`). */
  readonly invalidRecords: number;
  /** Spans only: hand-made spans kept (handed to the encoder) with at least one field replaced or left out by `ReadableSpanChecker` (details in `spanChecks`). */
  readonly repairedSpans: number;
  /** `PartC` attributes left out because their field name, as written (lone surrogates as U+FFFD, NUL as `?`), equals an earlier one's: the first is kept. */
  readonly duplicateFields: number;
}

/**
 * The ETW level of an OpenTelemetry severity number, as the OpenTelemetry
 * ETW exporters map it: TRACE/DEBUG (1-8) → 5 verbose, INFO → 4,
 * WARN → 3, ERROR → 2, FATAL → 1; missing or invalid → 5 (as DEBUG).
 *
 * @param severityNumber The severity number.
 * @returns The level, 1-5.
 *
 * @example
 * ```ts
 * import { etwLevelOf } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * assert.equal(etwLevelOf(9), 4);
 * assert.equal(etwLevelOf(17), 2);
 * assert.equal(etwLevelOf(undefined), 5);
 * ```
 */
export function etwLevelOf(severityNumber: number | undefined): number {
  if (
    typeof severityNumber !== "number" || !Number.isInteger(severityNumber) ||
    !(severityNumber >= 9 && severityNumber <= 24)
  ) return 5;
  if (severityNumber <= 12) return 4;
  if (severityNumber <= 16) return 3;
  if (severityNumber <= 20) return 2;
  return 1;
}
