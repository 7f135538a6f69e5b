/**
 * What a collection produces: the metrics data model, as the OTLP metrics
 * protocol shapes it (resource > scope > metric > data points).
 *
 * Times are exact, as in log records and spans: whole milliseconds since the
 * Unix epoch plus the nanoseconds within that millisecond (`timeUnixMs` +
 * `timeNanosInMs`); a start time of 0 + 0 is unset.
 *
 * @module
 */

import type { Attributes } from "../attributes.ts";
import type { Resource } from "../resource.ts";
import type { InstrumentationScope } from "../scope.ts";
import type { InstrumentType, ValueType } from "./instrument.ts";

/**
 * How the values of a sum or histogram relate over time: `"cumulative"`
 * points count from a fixed start, `"delta"` points count since the previous
 * collection.
 *
 * @example
 * ```ts
 * import type { AggregationTemporality } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const t: AggregationTemporality = "delta";
 * assert.equal(t, "delta");
 * ```
 */
export type AggregationTemporality = "cumulative" | "delta";

/**
 * A sampled measurement kept with a data point, linked to the span that was
 * active when it was recorded.
 *
 * @example
 * ```ts
 * import type { Exemplar } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const e: Exemplar = { value: 1.5, timeUnixMs: 1_700_000_013_123, timeNanosInMs: 456_789, filteredAttributes: {}, traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
 * assert.equal(e.value, 1.5);
 * ```
 */
export interface Exemplar {
  /** The measured value. */
  readonly value: number;
  /** When it was measured: whole milliseconds since the epoch. */
  readonly timeUnixMs: number;
  /** Nanoseconds within that millisecond, 0 to 999999. */
  readonly timeNanosInMs: number;
  /** The measurement's attributes that a view removed from the series. */
  readonly filteredAttributes: Attributes;
  /** The trace of the span active at the measurement, if any. */
  readonly traceId?: string;
  /** The span active at the measurement, if any. */
  readonly spanId?: string;
}

/**
 * One point of a sum or gauge.
 *
 * @example
 * ```ts
 * import type { NumberDataPoint } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const p: NumberDataPoint = { attributes: { route: "/" }, startTimeUnixMs: 0, startTimeNanosInMs: 0, timeUnixMs: 1, timeNanosInMs: 0, value: 3, exemplars: [] };
 * assert.equal(p.value, 3);
 * ```
 */
export interface NumberDataPoint {
  /** The series' attributes. */
  readonly attributes: Attributes;
  /** Start of the interval, whole ms since the epoch (0 for gauges: unset). */
  readonly startTimeUnixMs: number;
  /** Nanoseconds within `startTimeUnixMs`, 0 to 999999. */
  readonly startTimeNanosInMs: number;
  /** End of the interval (the collection time), whole ms since the epoch. */
  readonly timeUnixMs: number;
  /** Nanoseconds within `timeUnixMs`, 0 to 999999. */
  readonly timeNanosInMs: number;
  /** The value. */
  readonly value: number;
  /** Sampled measurements. */
  readonly exemplars: readonly Exemplar[];
}

/**
 * One point of an explicit-bucket histogram.
 *
 * `bucketCounts[i]` counts values in `(explicitBounds[i-1], explicitBounds[i]]`;
 * the last bucket is `(explicitBounds[n-1], +Infinity)`.
 *
 * @example
 * ```ts
 * import type { HistogramDataPoint } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const p: HistogramDataPoint = {
 *   attributes: {}, startTimeUnixMs: 0, startTimeNanosInMs: 0, timeUnixMs: 1, timeNanosInMs: 0, count: 2, sum: 7, min: 2, max: 5,
 *   explicitBounds: [1, 10], bucketCounts: [0, 2, 0], exemplars: [],
 * };
 * assert.equal(p.bucketCounts.length, p.explicitBounds.length + 1);
 * ```
 */
export interface HistogramDataPoint {
  /** The series' attributes. */
  readonly attributes: Attributes;
  /** Start of the interval, whole ms since the epoch. */
  readonly startTimeUnixMs: number;
  /** Nanoseconds within `startTimeUnixMs`, 0 to 999999. */
  readonly startTimeNanosInMs: number;
  /** End of the interval (the collection time), whole ms since the epoch. */
  readonly timeUnixMs: number;
  /** Nanoseconds within `timeUnixMs`, 0 to 999999. */
  readonly timeNanosInMs: number;
  /** How many values were recorded. */
  readonly count: number;
  /** Their sum. */
  readonly sum: number;
  /** The smallest value (`undefined` when `count` is 0 or min/max are off). */
  readonly min: number | undefined;
  /** The largest value (`undefined` when `count` is 0 or min/max are off). */
  readonly max: number | undefined;
  /** The bucket boundaries. */
  readonly explicitBounds: readonly number[];
  /** Counts per bucket; one more than there are boundaries. */
  readonly bucketCounts: readonly number[];
  /** Sampled measurements. */
  readonly exemplars: readonly Exemplar[];
}

/**
 * The buckets of one sign of an exponential histogram: `bucketCounts[i]`
 * counts values `v` with `base^(offset+i) < |v| <= base^(offset+i+1)`,
 * `base = 2^(2^-scale)`.
 *
 * @example
 * ```ts
 * import type { ExponentialBuckets } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const b: ExponentialBuckets = { offset: -1, bucketCounts: [1, 0, 2] };
 * assert.equal(b.bucketCounts.length, 3);
 * ```
 */
export interface ExponentialBuckets {
  /** The index of the first bucket. */
  readonly offset: number;
  /** Counts per bucket, from `offset`. */
  readonly bucketCounts: readonly number[];
}

/**
 * One point of a base-2 exponential histogram.
 *
 * @example
 * ```ts
 * import type { ExponentialHistogramDataPoint } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const p: ExponentialHistogramDataPoint = {
 *   attributes: {}, startTimeUnixMs: 0, startTimeNanosInMs: 0, timeUnixMs: 1, timeNanosInMs: 0, count: 1, sum: 4, min: 4, max: 4,
 *   scale: 20, zeroCount: 0, zeroThreshold: 0, positive: { offset: 2097151, bucketCounts: [1] },
 *   negative: { offset: 0, bucketCounts: [] }, exemplars: [],
 * };
 * assert.equal(p.scale, 20);
 * ```
 */
export interface ExponentialHistogramDataPoint {
  /** The series' attributes. */
  readonly attributes: Attributes;
  /** Start of the interval, whole ms since the epoch. */
  readonly startTimeUnixMs: number;
  /** Nanoseconds within `startTimeUnixMs`, 0 to 999999. */
  readonly startTimeNanosInMs: number;
  /** End of the interval (the collection time), whole ms since the epoch. */
  readonly timeUnixMs: number;
  /** Nanoseconds within `timeUnixMs`, 0 to 999999. */
  readonly timeNanosInMs: number;
  /** How many values were recorded. */
  readonly count: number;
  /** Their sum. */
  readonly sum: number;
  /** The smallest value (`undefined` when `count` is 0 or min/max are off). */
  readonly min: number | undefined;
  /** The largest value (`undefined` when `count` is 0 or min/max are off). */
  readonly max: number | undefined;
  /** The resolution: bucket boundaries are powers of `2^(2^-scale)`. */
  readonly scale: number;
  /** Values equal to zero. */
  readonly zeroCount: number;
  /** The width of the zero bucket (always 0 here). */
  readonly zeroThreshold: number;
  /** Buckets of positive values. */
  readonly positive: ExponentialBuckets;
  /** Buckets of negative values (by absolute value). */
  readonly negative: ExponentialBuckets;
  /** Sampled measurements. */
  readonly exemplars: readonly Exemplar[];
}

/**
 * What every metric carries: the stream's identity.
 *
 * @example
 * ```ts
 * import type { MetricDescriptor } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const d: MetricDescriptor = { name: "requests", description: "", unit: "{request}", type: "counter", valueType: "int" };
 * assert.equal(d.unit, "{request}");
 * ```
 */
export interface MetricDescriptor {
  /** The stream's name (the instrument's, unless a view renamed it). */
  readonly name: string;
  /** The description. */
  readonly description: string;
  /** The unit. */
  readonly unit: string;
  /** The kind of the instrument behind it. */
  readonly type: InstrumentType;
  /** How values are encoded. */
  readonly valueType: ValueType;
}

/**
 * One metric stream as collected: a sum, a gauge, a histogram or an
 * exponential histogram, with its points.
 *
 * @example Branch on the data point type
 * ```ts
 * import type { MetricData } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const m: MetricData = {
 *   descriptor: { name: "queue.depth", description: "", unit: "", type: "gauge", valueType: "int" },
 *   dataPointType: "gauge", dataPoints: [],
 * };
 * assert.equal(m.dataPointType === "gauge" ? m.dataPoints.length : -1, 0);
 * ```
 */
export type MetricData =
  | {
    readonly descriptor: MetricDescriptor;
    readonly dataPointType: "sum";
    readonly aggregationTemporality: AggregationTemporality;
    readonly isMonotonic: boolean;
    readonly dataPoints: readonly NumberDataPoint[];
  }
  | {
    readonly descriptor: MetricDescriptor;
    readonly dataPointType: "gauge";
    readonly dataPoints: readonly NumberDataPoint[];
  }
  | {
    readonly descriptor: MetricDescriptor;
    readonly dataPointType: "histogram";
    readonly aggregationTemporality: AggregationTemporality;
    readonly dataPoints: readonly HistogramDataPoint[];
  }
  | {
    readonly descriptor: MetricDescriptor;
    readonly dataPointType: "exponentialHistogram";
    readonly aggregationTemporality: AggregationTemporality;
    readonly dataPoints: readonly ExponentialHistogramDataPoint[];
  };

/**
 * The metrics of one instrumentation scope.
 *
 * @example
 * ```ts
 * import type { ScopeMetrics } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const s: ScopeMetrics = { scope: { name: "app" }, metrics: [] };
 * assert.equal(s.scope.name, "app");
 * ```
 */
export interface ScopeMetrics {
  /** The meter's scope. */
  readonly scope: InstrumentationScope;
  /** Its streams that have points. */
  readonly metrics: readonly MetricData[];
}

/**
 * Everything one collection produced for one resource.
 *
 * @example
 * ```ts
 * import { Resource } from "@seed/telemetry";
 * import type { ResourceMetrics } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const r: ResourceMetrics = { resource: new Resource({ "service.name": "api" }), scopeMetrics: [] };
 * assert.equal(r.scopeMetrics.length, 0);
 * ```
 */
export interface ResourceMetrics {
  /** The provider's resource. */
  readonly resource: Resource;
  /** One entry per meter that has points. */
  readonly scopeMetrics: readonly ScopeMetrics[];
}

/**
 * Counts the data points of a collection.
 *
 * @param metrics The collection.
 * @returns The number of data points over every metric.
 *
 * @example
 * ```ts
 * import { Resource } from "@seed/telemetry";
 * import { countDataPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(countDataPoints({ resource: new Resource({}), scopeMetrics: [] }), 0);
 * ```
 */
export function countDataPoints(metrics: ResourceMetrics): number {
  let n = 0;
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) n += metric.dataPoints.length;
  }
  return n;
}

/**
 * The points of a sum or gauge; an empty list for histograms.
 *
 * @param metric One metric of a collection.
 * @returns Its number data points.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * new MeterProvider({ readers: [reader] }).getMeter("app").createCounter("c").add(4);
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 4);
 * ```
 */
export function numberPoints(
  metric: MetricData | undefined,
): readonly NumberDataPoint[] {
  return metric !== undefined &&
      (metric.dataPointType === "sum" || metric.dataPointType === "gauge")
    ? metric.dataPoints
    : [];
}

/**
 * Finds a metric of a collection by stream name (in any scope).
 *
 * @param metrics The collection.
 * @param name The stream's name.
 * @returns The first metric of that name, or `undefined`.
 *
 * @example
 * ```ts
 * import { findMetric, ManualMetricReader, MeterProvider } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * new MeterProvider({ readers: [reader] }).getMeter("app").createGauge("g").record(1);
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(findMetric(resourceMetrics, "g")?.dataPointType, "gauge");
 * ```
 */
export function findMetric(
  metrics: ResourceMetrics,
  name: string,
): MetricData | undefined {
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name === name) return metric;
    }
  }
  return undefined;
}
