/**
 * Linux `user_events` back-end: synchronous processors that write each log
 * record or ended span as one EventHeader event to a kernel tracepoint,
 * through libc over the FFI of Deno, Bun or Node >= 26, in the layout of the
 * OpenTelemetry Rust `user_events` exporters, so existing decoders
 * (`perf-decode`, `tracepoint_decode`, `DecodePerfToJson`) read them. When
 * nobody listens an emit costs one memory read. Plus a decoder to read the
 * events back.
 *
 * Needs Linux >= 6.4 with `CONFIG_USER_EVENTS`, write access to
 * `user_events_data`, and the FFI permission under Deno (`--allow-ffi`);
 * Node needs version 26 or later (`--experimental-ffi`).
 * Elsewhere the factories resolve to counted no-op processors and report one diagnostic.
 *
 * @example Decode an event
 * ```ts
 * import { decodeEventHeader } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([7, 0, 0, 0, 0, 0, 0, 4, 4, 0, 1, 0, 0x4c, 0x6f, 0x67, 0]);
 * const event = decodeEventHeader("demo_L4K1", bytes);
 * assert.equal(event.name, "Log");
 * assert.equal(event.level, 4);
 * ```
 *
 * @module
 */

export { FfiUnavailableError } from "../../ffi/errors.ts";
export type { LibcBinding, NativeMemory } from "../../ffi/libc.ts";
export {
  type DecodedEvent,
  type DecodedField,
  decodedFieldsToObject,
  type DecodedValue,
  decodeEventHeader,
  EventHeaderDecoder,
} from "./decode_event_header.ts";
export type { UserEventsProcessorOptions, UserEventsStats } from "./options.ts";
export {
  openUserEventsProcessor,
  severityToLevel,
  UserEventsProcessor,
} from "./user_events_processor.ts";
export {
  DEFAULT_MAX_METRIC_EVENT_BYTES,
  openUserEventsMetricExporter,
  OTLP_METRICS_TRACEPOINT,
  UserEventsMetricExporter,
  type UserEventsMetricExporterOptions,
  type UserEventsMetricStats,
} from "./user_events_metric_exporter.ts";
export {
  openUserEventsSpanProcessor,
  UserEventsSpanProcessor,
} from "./user_events_span_processor.ts";
export { KERNEL_MAX_EVENT_SIZE, PERF_MAX_EVENT_SIZE } from "./options.ts";
