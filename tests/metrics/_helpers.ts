// Small helpers for the metrics tests: a provider with a manual reader, and
// lookups of points by metric name and attributes.

import {
  type AggregationTemporality,
  type CollectionResult,
  findMetric,
  ManualMetricReader,
  MeterProvider,
  type MeterProviderOptions,
  type MetricData,
} from "../../pipeline/metrics/mod.ts";
import type { Diagnostic } from "../../pipeline/mod.ts";

export interface Rig {
  provider: MeterProvider;
  reader: ManualMetricReader;
  diagnostics: Diagnostic[];
  collect(): Promise<CollectionResult>;
  metric(name: string): Promise<MetricData | undefined>;
}

export function rig(
  options: MeterProviderOptions & {
    temporality?: AggregationTemporality | "lowmemory";
    callbackTimeoutMillis?: number;
  } = {},
): Rig {
  const diagnostics: Diagnostic[] = [];
  const reader = new ManualMetricReader({
    temporalityPreference: options.temporality ?? "cumulative",
    callbackTimeoutMillis: options.callbackTimeoutMillis,
  });
  const provider = new MeterProvider({
    env: () => undefined,
    diagnostics: (d) => diagnostics.push(d),
    ...options,
    readers: [reader],
  });
  return {
    provider,
    reader,
    diagnostics,
    collect: () => reader.collect(),
    async metric(name) {
      return findMetric((await reader.collect()).resourceMetrics, name);
    },
  };
}

// deno-lint-ignore no-explicit-any
export type AnyPoint = any;

/** Points of a metric as [attributes, value-ish] pairs, sorted by attributes. */
export function points(metric: MetricData | undefined): AnyPoint[] {
  if (metric === undefined) return [];
  return [...metric.dataPoints].sort((a, b) =>
    JSON.stringify(a.attributes) < JSON.stringify(b.attributes) ? -1 : 1
  );
}
