/**
 * The metric exporter contract, and the temporality preferences an exporter
 * (or a reader) states.
 *
 * @module
 */

import type { ExportResult } from "../exporter.ts";
import type { InstrumentType } from "./instrument.ts";
import type { AggregationTemporality, ResourceMetrics } from "./metric_data.ts";

/**
 * Which temporality each instrument kind gets, as
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` names them:
 *
 * | preference | delta for | cumulative for |
 * | --- | --- | --- |
 * | `cumulative` | nothing | everything |
 * | `delta` | Counter, ObservableCounter, Histogram | UpDownCounter, ObservableUpDownCounter |
 * | `lowmemory` | Counter, Histogram | ObservableCounter, UpDownCounter, ObservableUpDownCounter |
 *
 * Gauges report the last value either way.
 *
 * @example
 * ```ts
 * import type { TemporalityPreference } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const preference: TemporalityPreference = "lowmemory";
 * assert.equal(preference, "lowmemory");
 * ```
 */
export type TemporalityPreference = "cumulative" | "delta" | "lowmemory";

/**
 * The temporality of an instrument kind under a preference (see
 * {@linkcode TemporalityPreference}).
 *
 * @param preference The preference.
 * @param type The instrument kind.
 * @returns `"delta"` or `"cumulative"`.
 *
 * @example
 * ```ts
 * import { temporalityFor } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(temporalityFor("delta", "counter"), "delta");
 * assert.equal(temporalityFor("delta", "upDownCounter"), "cumulative");
 * assert.equal(temporalityFor("lowmemory", "observableCounter"), "cumulative");
 * ```
 */
export function temporalityFor(
  preference: TemporalityPreference,
  type: InstrumentType,
): AggregationTemporality {
  if (preference === "cumulative") return "cumulative";
  if (type === "counter" || type === "histogram") return "delta";
  if (type === "observableCounter" && preference === "delta") return "delta";
  return "cumulative";
}

/**
 * Sends collections somewhere. A periodic reader calls `export` once per
 * interval and never overlaps two calls. Exporters that write to the OS
 * (user_events, ETW) do all their work before `export` returns.
 *
 * @example An exporter that counts data points
 * ```ts
 * import { countDataPoints, type MetricExporter } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * let points = 0;
 * const exporter: MetricExporter = {
 *   temporalityPreference: "delta",
 *   export: (metrics) => {
 *     points += countDataPoints(metrics);
 *     return Promise.resolve({ code: "success" });
 *   },
 *   shutdown: () => Promise.resolve(),
 * };
 * assert.equal(exporter.temporalityPreference, "delta");
 * ```
 */
export interface MetricExporter {
  /**
   * Exports one collection. Should not reject (a rejection counts as a
   * failure); should stop when `signal` aborts.
   *
   * @param metrics The collection; valid until the Promise settles.
   * @param signal Aborted when the reader's export timeout passes.
   * @returns The outcome (`rejected` counts data points).
   */
  export(metrics: ResourceMetrics, signal: AbortSignal): Promise<ExportResult>;
  /** Waits for exports in flight, then releases resources. */
  shutdown(): Promise<void>;
  /** Optional: completes exports in flight. */
  forceFlush?(): Promise<void>;
  /**
   * The temporality this exporter wants; a reader's own option wins.
   * @default {"cumulative"}
   */
  readonly temporalityPreference?: TemporalityPreference;
}
