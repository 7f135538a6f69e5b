/**
 * Aggregations: how the measurements of one series become a data point.
 * Every instrument has a default (sums for counters, last value for gauges,
 * an explicit-bucket histogram for histograms); a view can choose another.
 *
 * @module
 */

import type { InstrumentType } from "./instrument.ts";

/**
 * The specification's default explicit bucket boundaries.
 *
 * @example
 * ```ts
 * import { DEFAULT_HISTOGRAM_BOUNDARIES } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_HISTOGRAM_BOUNDARIES.length, 15);
 * assert.equal(DEFAULT_HISTOGRAM_BOUNDARIES[14], 10000);
 * ```
 */
export const DEFAULT_HISTOGRAM_BOUNDARIES: readonly number[] = Object.freeze([
  0,
  5,
  10,
  25,
  50,
  75,
  100,
  250,
  500,
  750,
  1000,
  2500,
  5000,
  7500,
  10000,
]);

/**
 * An aggregation, as a view or a reader chooses it.
 *
 * - `default`: the instrument kind's default;
 * - `drop`: the stream is not collected (and recording costs one check);
 * - `sum`, `lastValue`;
 * - `explicitBucketHistogram`: `boundaries` (default
 *   {@linkcode DEFAULT_HISTOGRAM_BOUNDARIES}), `recordMinMax` (default true);
 * - `exponentialHistogram`: `maxSize` buckets per sign (default 160, at
 *   least 2), `maxScale` (default 20, from -10 to 20), `recordMinMax`
 *   (default true).
 *
 * @example
 * ```ts
 * import type { Aggregation } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const a: Aggregation = { type: "exponentialHistogram", maxSize: 80 };
 * assert.equal(a.type, "exponentialHistogram");
 * ```
 */
export type Aggregation =
  | { readonly type: "default" }
  | { readonly type: "drop" }
  | { readonly type: "sum" }
  | { readonly type: "lastValue" }
  | {
    readonly type: "explicitBucketHistogram";
    readonly boundaries?: readonly number[];
    readonly recordMinMax?: boolean;
  }
  | {
    readonly type: "exponentialHistogram";
    readonly maxSize?: number;
    readonly maxScale?: number;
    readonly recordMinMax?: boolean;
  };

/** An aggregation with every parameter resolved (internal). */
export type ResolvedAggregation =
  | { readonly type: "drop" }
  | { readonly type: "sum"; readonly monotonic: boolean }
  | { readonly type: "lastValue" }
  | {
    readonly type: "explicitBucketHistogram";
    readonly boundaries: readonly number[];
    readonly recordMinMax: boolean;
  }
  | {
    readonly type: "exponentialHistogram";
    readonly maxSize: number;
    readonly maxScale: number;
    readonly recordMinMax: boolean;
  };

/**
 * Checks explicit bucket boundaries: finite numbers, strictly increasing.
 *
 * @param boundaries The candidate.
 * @returns `true` when valid.
 */
export function validBoundaries(boundaries: unknown): boolean {
  if (!Array.isArray(boundaries)) return false;
  for (let i = 0; i < boundaries.length; i++) {
    const b = boundaries[i];
    if (typeof b !== "number" || !Number.isFinite(b)) return false;
    if (i > 0 && !(b > boundaries[i - 1])) return false;
  }
  return true;
}

/**
 * Resolves `aggregation` for an instrument kind (throws on bad parameters:
 * views are validated when the provider is built).
 */
export function resolveAggregation(
  aggregation: Aggregation,
  type: InstrumentType,
  adviceBoundaries: readonly number[] | undefined,
): ResolvedAggregation {
  const monotonic = type === "counter" || type === "observableCounter" ||
    type === "histogram";
  switch (aggregation.type) {
    case "drop":
      return { type: "drop" };
    case "sum":
      return {
        type: "sum",
        monotonic: monotonic,
      };
    case "lastValue":
      return { type: "lastValue" };
    case "explicitBucketHistogram": {
      const boundaries = aggregation.boundaries ?? adviceBoundaries ??
        DEFAULT_HISTOGRAM_BOUNDARIES;
      if (!validBoundaries(boundaries)) {
        throw new RangeError(
          `Cannot use explicit bucket boundaries ${
            String(boundaries)
          }: expected finite, strictly increasing numbers`,
        );
      }
      return {
        type: "explicitBucketHistogram",
        boundaries: Object.freeze(boundaries.slice()),
        recordMinMax: aggregation.recordMinMax ?? true,
      };
    }
    case "exponentialHistogram": {
      const maxSize = aggregation.maxSize ?? 160;
      const maxScale = aggregation.maxScale ?? 20;
      if (!Number.isInteger(maxSize) || maxSize < 2 || maxSize > 16384) {
        throw new RangeError(
          `Cannot use exponential histogram maxSize ${maxSize}: expected an integer from 2 to 16384`,
        );
      }
      if (!Number.isInteger(maxScale) || maxScale < -10 || maxScale > 20) {
        throw new RangeError(
          `Cannot use exponential histogram maxScale ${maxScale}: expected an integer from -10 to 20`,
        );
      }
      return {
        type: "exponentialHistogram",
        maxSize,
        maxScale,
        recordMinMax: aggregation.recordMinMax ?? true,
      };
    }
    default:
      switch (type) {
        case "counter":
        case "upDownCounter":
        case "observableCounter":
        case "observableUpDownCounter":
          return { type: "sum", monotonic };
        case "gauge":
        case "observableGauge":
          return { type: "lastValue" };
        case "histogram":
          return resolveAggregation(
            { type: "explicitBucketHistogram" },
            type,
            adviceBoundaries,
          );
      }
  }
  return { type: "drop" };
}
