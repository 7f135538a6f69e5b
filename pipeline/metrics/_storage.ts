// One metric stream as one reader sees it: the series of an instrument (or
// of a view over it), aggregated in place, and turned into a MetricData at
// collection time with the reader's temporality.

import type { Attributes } from "../attributes.ts";
import type { AttributeSanitizer } from "../attributes.ts";
import type { ExactTime } from "../time.ts";
import type { ResolvedAggregation } from "./aggregation.ts";
import { ExponentialHistogramState } from "./_exponential_buckets.ts";
import { ExemplarReservoir, type ExemplarSampler } from "./_exemplars.ts";
import type {
  AggregationTemporality,
  Exemplar,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  MetricData,
  MetricDescriptor,
  NumberDataPoint,
} from "./metric_data.ts";
import { type SeriesBase, SeriesMap } from "./_series_map.ts";

const SUM = 0;
const LAST_VALUE = 1;
const HISTOGRAM = 2;
const EXPONENTIAL = 3;

const NO_EXEMPLARS: readonly Exemplar[] = Object.freeze([]);

/** The state of one series: every aggregation's fields, so the shape is one. */
export class Series implements SeriesBase {
  readonly attributes: Attributes;
  readonly key: string;
  /** Measurements since the last collection. */
  updates = 0;
  /** When the series (or its current delta interval) began: whole ms. */
  startMs: number;
  /** And the nanoseconds within that millisecond. */
  startNanos: number;
  /** Sum, or last value. */
  value = 0;
  /** An asynchronous instrument's previous observation (delta sums). */
  previous = 0;
  hasPrevious = false;
  /** Observed in the current callback round. */
  observed = false;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  readonly buckets: Float64Array | undefined;
  readonly exponential: ExponentialHistogramState | undefined;
  readonly exemplars: ExemplarReservoir | undefined;

  constructor(
    attributes: Attributes,
    key: string,
    start: ExactTime,
    aggregation: ResolvedAggregation,
    exemplarSlots: number,
  ) {
    this.attributes = attributes;
    this.key = key;
    this.startMs = start.unixMs;
    this.startNanos = start.nanosInMs;
    this.buckets = aggregation.type === "explicitBucketHistogram"
      ? new Float64Array(aggregation.boundaries.length + 1)
      : undefined;
    this.exponential = aggregation.type === "exponentialHistogram"
      ? new ExponentialHistogramState(aggregation.maxSize, aggregation.maxScale)
      : undefined;
    this.exemplars = exemplarSlots > 0
      ? new ExemplarReservoir(exemplarSlots)
      : undefined;
  }
}

/** Settings of one storage. */
export interface StorageConfig {
  readonly descriptor: MetricDescriptor;
  readonly aggregation: ResolvedAggregation;
  readonly temporality: AggregationTemporality;
  readonly asynchronous: boolean;
  readonly cardinalityLimit: number;
  readonly sanitizer: AttributeSanitizer;
  /** Attribute keys to keep (a view's allow-list), or all. */
  readonly attributeKeys: ReadonlySet<string> | undefined;
  /** Exemplar sampling, or `undefined` for none. */
  readonly exemplars: ExemplarSampler | undefined;
  /** The clock: writes the current exact time into its argument. */
  readonly now: (out: ExactTime) => void;
}

export class MetricStorage {
  readonly descriptor: MetricDescriptor;
  readonly aggregation: ResolvedAggregation;
  readonly temporality: AggregationTemporality;
  readonly asynchronous: boolean;
  readonly series: SeriesMap<Series>;
  readonly #kind: number;
  readonly #bounds: readonly number[];
  readonly #recordMinMax: boolean;
  readonly #monotonic: boolean;
  readonly #now: (out: ExactTime) => void;
  readonly #exemplars: ExemplarSampler | undefined;
  readonly #attributeKeys: ReadonlySet<string> | undefined;
  /** The previous collection's time (the start of a delta interval). */
  readonly #lastCollect: ExactTime = { unixMs: 0, nanosInMs: 0 };

  constructor(config: StorageConfig) {
    this.descriptor = config.descriptor;
    const aggregation = config.aggregation;
    this.aggregation = aggregation;
    this.temporality = config.temporality;
    this.asynchronous = config.asynchronous;
    this.#now = config.now;
    config.now(this.#lastCollect);
    this.#exemplars = config.exemplars;
    this.#attributeKeys = config.attributeKeys;
    this.#kind = aggregation.type === "sum"
      ? SUM
      : aggregation.type === "lastValue"
      ? LAST_VALUE
      : aggregation.type === "explicitBucketHistogram"
      ? HISTOGRAM
      : EXPONENTIAL;
    this.#bounds = aggregation.type === "explicitBucketHistogram"
      ? aggregation.boundaries
      : [];
    this.#recordMinMax = aggregation.type === "explicitBucketHistogram" ||
        aggregation.type === "exponentialHistogram"
      ? aggregation.recordMinMax
      : false;
    this.#monotonic = aggregation.type === "sum" && aggregation.monotonic;
    const slots = config.exemplars === undefined
      ? 0
      : aggregation.type === "explicitBucketHistogram"
      ? aggregation.boundaries.length + 1
      : 1;
    const now = config.now;
    const created: ExactTime = { unixMs: 0, nanosInMs: 0 };
    this.series = new SeriesMap<Series>(
      config.cardinalityLimit,
      config.sanitizer,
      (attributes, key) => {
        now(created); // copied by the series
        return new Series(attributes, key, created, aggregation, slots);
      },
      config.attributeKeys,
    );
  }

  /** Records one measurement of a synchronous instrument (value checked). */
  record(value: number, attributes: Attributes | undefined): void {
    const series = this.series.find(attributes);
    if (series === undefined) return;
    series.updates++;
    let slot = 0; // the exemplar slot: a histogram's bucket
    switch (this.#kind) {
      case SUM:
        series.value += value;
        break;
      case LAST_VALUE:
        series.value = value;
        break;
      case HISTOGRAM: {
        series.count++;
        series.sum += value;
        if (value < series.min) series.min = value;
        if (value > series.max) series.max = value;
        const bounds = this.#bounds;
        const n = bounds.length;
        let i = 0;
        if (n <= 16) {
          while (i < n && value > bounds[i]) i++;
        } else {
          let hi = n;
          while (i < hi) {
            const mid = (i + hi) >>> 1;
            if (value > bounds[mid]) i = mid + 1;
            else hi = mid;
          }
        }
        series.buckets![i]++;
        slot = i;
        break;
      }
      default:
        series.count++;
        series.sum += value;
        if (value < series.min) series.min = value;
        if (value > series.max) series.max = value;
        series.exponential!.record(value);
    }
    const exemplars = this.#exemplars;
    if (exemplars !== undefined) {
      exemplars.offer(series, slot, value, attributes, this.#attributeKeys);
    }
  }

  /** Records one observation of an asynchronous instrument (value checked). */
  observe(value: number, attributes: Attributes | undefined): void {
    const series = this.series.find(attributes);
    if (series === undefined) return;
    series.updates++;
    series.observed = true;
    series.value = value;
  }

  /** Turns the series into a MetricData; `undefined` when no point is due. */
  collect(): MetricData | undefined {
    const last = this.#lastCollect;
    const intervalMs = last.unixMs; // the start of a delta interval
    const intervalNanos = last.nanosInMs;
    this.#now(last);
    const nowMs = last.unixMs;
    const nowNanos = last.nanosInMs;
    const delta = this.temporality === "delta";
    const points: (
      | NumberDataPoint
      | HistogramDataPoint
      | ExponentialHistogramDataPoint
    )[] = [];
    const kind = this.#kind;
    for (const series of this.series.byKey.values()) {
      if (this.asynchronous) {
        if (!series.observed) continue;
        series.observed = false;
      } else if (delta && series.updates === 0) continue;
      // Delta: the later of the series' start and the interval's start.
      let startMs = series.startMs;
      let startNanos = series.startNanos;
      if (
        delta &&
        (startMs < intervalMs ||
          (startMs === intervalMs && startNanos < intervalNanos))
      ) {
        startMs = intervalMs;
        startNanos = intervalNanos;
      }
      const exemplars = series.exemplars?.take(delta) ?? NO_EXEMPLARS;
      if (kind === SUM || kind === LAST_VALUE) {
        let value = series.value;
        if (this.asynchronous && delta && kind === SUM) {
          value = series.hasPrevious ? series.value - series.previous : value;
          series.previous = series.value;
          series.hasPrevious = true;
        }
        points.push({
          attributes: series.attributes,
          startTimeUnixMs: kind === LAST_VALUE ? 0 : startMs,
          startTimeNanosInMs: kind === LAST_VALUE ? 0 : startNanos,
          timeUnixMs: nowMs,
          timeNanosInMs: nowNanos,
          value,
          exemplars,
        });
        if (delta && kind === SUM && !this.asynchronous) series.value = 0;
      } else if (kind === HISTOGRAM) {
        const has = series.count > 0 && this.#recordMinMax;
        points.push({
          attributes: series.attributes,
          startTimeUnixMs: startMs,
          startTimeNanosInMs: startNanos,
          timeUnixMs: nowMs,
          timeNanosInMs: nowNanos,
          count: series.count,
          sum: series.sum,
          min: has ? series.min : undefined,
          max: has ? series.max : undefined,
          explicitBounds: this.#bounds,
          bucketCounts: Array.from(series.buckets!),
          exemplars,
        });
        if (delta) resetHistogram(series);
      } else {
        const state = series.exponential!;
        const has = series.count > 0 && this.#recordMinMax;
        points.push({
          attributes: series.attributes,
          startTimeUnixMs: startMs,
          startTimeNanosInMs: startNanos,
          timeUnixMs: nowMs,
          timeNanosInMs: nowNanos,
          count: series.count,
          sum: series.sum,
          min: has ? series.min : undefined,
          max: has ? series.max : undefined,
          scale: state.scale,
          zeroCount: state.zeroCount,
          zeroThreshold: 0,
          positive: state.positive.snapshot(),
          negative: state.negative.snapshot(),
          exemplars,
        });
        if (delta) {
          resetHistogram(series);
          state.reset();
        }
      }
      series.updates = 0;
      if (delta) {
        series.startMs = nowMs;
        series.startNanos = nowNanos;
      }
    }
    if (delta && !this.asynchronous) {
      // Series without a measurement in this interval free their slot.
      this.series.evict((s) =>
        s.updates !== 0 || (s.startMs === nowMs && s.startNanos === nowNanos)
      );
    }
    if (points.length === 0) return undefined;
    const descriptor = this.descriptor;
    if (kind === SUM) {
      return {
        descriptor,
        dataPointType: "sum",
        aggregationTemporality: this.temporality,
        isMonotonic: this.#monotonic,
        dataPoints: points as NumberDataPoint[],
      };
    }
    if (kind === LAST_VALUE) {
      return {
        descriptor,
        dataPointType: "gauge",
        dataPoints: points as NumberDataPoint[],
      };
    }
    if (kind === HISTOGRAM) {
      return {
        descriptor,
        dataPointType: "histogram",
        aggregationTemporality: this.temporality,
        dataPoints: points as HistogramDataPoint[],
      };
    }
    return {
      descriptor,
      dataPointType: "exponentialHistogram",
      aggregationTemporality: this.temporality,
      dataPoints: points as ExponentialHistogramDataPoint[],
    };
  }
}

function resetHistogram(series: Series): void {
  series.count = 0;
  series.sum = 0;
  series.min = Infinity;
  series.max = -Infinity;
  series.buckets?.fill(0);
}
