/**
 * Linux `user_events` receiver: a listener that reads the EventHeader
 * events every process writes (this library's processors, the OpenTelemetry
 * Rust exporters, C/C++ `libeventheader`) through `perf_event_open` and
 * per-CPU ring buffers, without perf installed; and the conversion of the
 * Common Schema `Log` and `Span` events back into log records and spans.
 *
 * Needs Linux >= 6.4 with `CONFIG_USER_EVENTS`, root (or CAP_PERFMON plus
 * read access to tracefs), and the FFI permission under Deno (`--allow-ffi`).
 *
 * @example Select the tracepoints of a provider
 * ```ts
 * import { selectTracepoints } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(selectTracepoints({ providers: ["myservice"], levels: [4] }), ["myservice_L4K1"]);
 * ```
 *
 * @module
 */

export type { MappedMemory, PerfBinding } from "../../ffi/perf.ts";
export {
  type ListenedEvent,
  openUserEventsListener,
  parseCpuList,
  selectTracepoints,
  UserEventsListener,
  UserEventsListenerError,
  type UserEventsListenerOptions,
  type UserEventsListenerStats,
} from "./listener.ts";
export {
  type LogFromEvent,
  logFromEvent,
  parseRfc3339Nanos,
  spanFromEvent,
  UserEventsBridge,
  type UserEventsBridgeOptions,
  type UserEventsBridgeStats,
} from "./to_telemetry.ts";
export {
  openUserEventsForwarder,
  UserEventsForwarder,
  type UserEventsForwarderOptions,
  type UserEventsForwarderStats,
} from "./forwarder.ts";
