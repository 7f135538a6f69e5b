/**
 * A metric exporter that prints one line per data point, for development.
 *
 * @module
 */

import type { Attributes } from "../attributes.ts";
import type { ExportResult } from "../exporter.ts";
import type { MetricData, ResourceMetrics } from "./metric_data.ts";
import type {
  MetricExporter,
  TemporalityPreference,
} from "./metric_exporter.ts";

function formatAttributes(attributes: Attributes): string {
  let out = "";
  for (const key in attributes) {
    let value: string;
    try {
      value = JSON.stringify(attributes[key], (_k, v) =>
        typeof v === "bigint" ? v.toString() : v) ?? "null";
    } catch {
      value = "?";
    }
    out += (out === "" ? "" : ",") + key + "=" + value;
  }
  return out === "" ? "" : "{" + out + "}";
}

/**
 * Formats every data point of one metric as a line:
 * `name{k="v"} kind value [unit]`.
 *
 * @param metric One metric of a collection.
 * @returns One line per data point.
 *
 * @example
 * ```ts
 * import { formatMetricLines } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const lines = formatMetricLines({
 *   descriptor: { name: "jobs", description: "", unit: "{job}", type: "counter", valueType: "int" },
 *   dataPointType: "sum", aggregationTemporality: "cumulative", isMonotonic: true,
 *   dataPoints: [{ attributes: { queue: "a" }, startTimeUnixMs: 0, startTimeNanosInMs: 0, timeUnixMs: 1, timeNanosInMs: 0, value: 3, exemplars: [] }],
 * });
 * assert.deepEqual(lines, ['jobs{queue="a"} sum(cumulative) 3 {job}']);
 * ```
 */
export function formatMetricLines(metric: MetricData): string[] {
  const d = metric.descriptor;
  const unit = d.unit === "" ? "" : " " + d.unit;
  const lines: string[] = [];
  switch (metric.dataPointType) {
    case "sum":
      for (const p of metric.dataPoints) {
        lines.push(
          `${d.name}${
            formatAttributes(p.attributes)
          } sum(${metric.aggregationTemporality}) ${p.value}${unit}`,
        );
      }
      break;
    case "gauge":
      for (const p of metric.dataPoints) {
        lines.push(
          `${d.name}${formatAttributes(p.attributes)} gauge ${p.value}${unit}`,
        );
      }
      break;
    case "histogram":
      for (const p of metric.dataPoints) {
        lines.push(
          `${d.name}${
            formatAttributes(p.attributes)
          } histogram(${metric.aggregationTemporality}) count=${p.count} sum=${p.sum} min=${p.min} max=${p.max} buckets=${
            p.bucketCounts.join(",")
          }${unit}`,
        );
      }
      break;
    case "exponentialHistogram":
      for (const p of metric.dataPoints) {
        lines.push(
          `${d.name}${
            formatAttributes(p.attributes)
          } exponential_histogram(${metric.aggregationTemporality}) count=${p.count} sum=${p.sum} min=${p.min} max=${p.max} scale=${p.scale}${unit}`,
        );
      }
      break;
  }
  return lines;
}

/**
 * Writes one line per data point (see {@linkcode formatMetricLines}).
 *
 * @example
 * ```ts
 * import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const exporter = new ConsoleMetricExporter({ write: (line) => lines.push(line) });
 * const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader(exporter)] });
 * provider.getMeter("app").createGauge("load").record(0.5);
 * await provider.shutdown();
 * assert.deepEqual(lines, ["load gauge 0.5"]);
 * ```
 */
export class ConsoleMetricExporter implements MetricExporter {
  /** The temporality asked of the reader. */
  readonly temporalityPreference: TemporalityPreference;
  readonly #write: (line: string) => void;

  /**
   * Creates the exporter.
   *
   * @param options Where lines go (default `console.log`) and the temporality.
   */
  constructor(
    options: {
      readonly write?: (line: string) => void;
      readonly temporalityPreference?: TemporalityPreference;
    } = {},
  ) {
    this.#write = options.write ?? ((line) => console.log(line));
    this.temporalityPreference = options.temporalityPreference ?? "cumulative";
  }

  /**
   * Writes the lines.
   *
   * @param metrics The collection.
   * @param _signal Unused.
   * @returns Success.
   */
  export(
    metrics: ResourceMetrics,
    _signal: AbortSignal,
  ): Promise<ExportResult> {
    for (const scope of metrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const line of formatMetricLines(metric)) this.#write(line);
      }
    }
    return Promise.resolve({ code: "success" });
  }

  /**
   * Nothing to release.
   *
   * @returns Resolves at once.
   */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
