/**
 * Windows ETW processors: each log record and each ended span becomes one
 * TraceLogging event, written synchronously with `EventWriteTransfer`
 * through the FFI of Deno, Bun or Node >= 26 on advapi32.dll, in the layout of the
 * OpenTelemetry Rust ETW exporters, so ETW tools (WPR, PerfView, TraceView,
 * tracelog/tracefmt) decode them without a manifest. Importing this module
 * loads nothing; the factories open advapi32 on Windows and reject
 * elsewhere (or, with `onUnsupported: "noop"`, return a counted no-op).
 *
 * @example Off Windows, a counted no-op
 * ```ts
 * import { openEtwProcessor } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const etw = await openEtwProcessor({ providerName: "MyCompany.MyComponent", onUnsupported: "noop", diagnostics: () => {} });
 * assert.equal(typeof etw.stats.written, "number");
 * await etw.shutdown();
 * ```
 *
 * @module
 */

export type { Advapi32Binding } from "../../ffi/advapi32.ts";
export { FfiUnavailableError } from "../../ffi/errors.ts";
export {
  decodeTraceLogging,
  type TraceLoggingEvent,
  type TraceLoggingField,
  traceLoggingFieldsToObject,
  type TraceLoggingObject,
  type TraceLoggingValue,
} from "./decode_tracelogging.ts";
export {
  ETW_METRICS_PROVIDER,
  EtwMetricExporter,
  type EtwMetricExporterOptions,
  type EtwMetricStats,
  openEtwMetricExporter,
} from "./etw_metric_exporter.ts";
export { EtwProcessor, openEtwProcessor } from "./etw_processor.ts";
export {
  EtwSpanProcessor,
  openEtwSpanProcessor,
} from "./etw_span_processor.ts";
export {
  etwLevelOf,
  type EtwProcessorOptions,
  type EtwProcessorStats,
} from "./options.ts";
