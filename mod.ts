/**
 * `@seed/telemetry`: a Deno- and Bun-first OpenTelemetry pipeline.
 *
 * Local OS back-ends are synchronous **Processors** that write from the
 * caller's stack (`@seed/telemetry/user-events` on Linux,
 * `@seed/telemetry/etw` on Windows); network back-ends are asynchronous
 * **Exporters** (`@seed/telemetry/otlp-http`) fed by a batching processor
 * that never blocks or throws into the caller. This entry point holds the
 * shared pipeline: data model, providers, contracts and batching.
 *
 * @example Logs through a batching processor
 * ```ts
 * import { BatchLogRecordProcessor, InMemoryExporter, LoggerProvider, type LogRecordData, SeverityNumber } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * await using provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor(exporter)] });
 * const logger = provider.getLogger("my-app");
 * logger.emit({ severityNumber: SeverityNumber.INFO, body: "ready", attributes: { port: 8080 } });
 * await provider.forceFlush();
 * assert.equal(exporter.items[0].body, "ready");
 * ```
 *
 * @module
 */

export * from "./pipeline/mod.ts";
export {
  type NativeClockStatus,
  nativeClockStatus,
  useNativeClock,
} from "./ffi/clock.ts";

import { useNativeClock } from "./ffi/clock.ts";

// The runtime adapter at the edge: the pipeline's exact clock reads
// clock_gettime(CLOCK_MONOTONIC) through Deno's or Bun's FFI where that is
// allowed (it never throws and never prompts), else performance.now().
useNativeClock(true);
