/**
 * `@seed/telemetry/metrics`: the metrics signal on the shared pipeline. A
 * `MeterProvider` hands out meters; meters create instruments (`Counter`,
 * `UpDownCounter`, `Histogram`, `Gauge` and the observable ones); readers
 * collect them, each with its own temporality, and exporters send the
 * result (OTLP/HTTP in `@seed/telemetry/otlp-http`, `user_events` in
 * `@seed/telemetry/user-events`, ETW in `@seed/telemetry/etw`).
 *
 * Recording costs one lookup of the attribute set and no allocation once a
 * set has been seen; it never throws (bad values are dropped and counted in
 * `MeterProvider.stats`).
 *
 * @example Count, measure, and read back
 * ```ts
 * import { ManualMetricReader, MeterProvider } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * await using provider = new MeterProvider({ readers: [reader] });
 * const meter = provider.getMeter("checkout");
 * const orders = meter.createCounter("orders", { unit: "{order}" });
 * const latency = meter.createHistogram("order.duration", { unit: "s" });
 * orders.add(1, { region: "eu" });
 * latency.record(0.25, { region: "eu" });
 * const { resourceMetrics } = await reader.collect();
 * assert.deepEqual(resourceMetrics.scopeMetrics[0].metrics.map((m) => m.descriptor.name), ["orders", "order.duration"]);
 * ```
 *
 * @module
 */

export {
  type Aggregation,
  DEFAULT_HISTOGRAM_BOUNDARIES,
} from "./aggregation.ts";
export {
  ConsoleMetricExporter,
  formatMetricLines,
} from "./console_metric_exporter.ts";
export type { ExemplarFilter } from "./_exemplars.ts";
export { InMemoryMetricExporter } from "./in_memory_metric_exporter.ts";
export {
  type InstrumentAdvice,
  type InstrumentDescriptor,
  type InstrumentOptions,
  type InstrumentType,
  isValidInstrumentName,
  isValidInstrumentUnit,
  type ValueType,
} from "./instrument.ts";
export {
  type BatchObservableCallback,
  type BatchObservableResult,
  Counter,
  Gauge,
  Histogram,
  Instrument,
  Observable,
  type ObservableCallback,
  ObservableCounter,
  ObservableGauge,
  type ObservableResult,
  ObservableUpDownCounter,
  UpDownCounter,
} from "./instruments.ts";
export { Meter, type MeterOptions } from "./meter.ts";
export {
  DEFAULT_CARDINALITY_LIMIT,
  MeterProvider,
  type MeterProviderOptions,
  type MeterProviderStats,
} from "./meter_provider.ts";
export {
  type AggregationTemporality,
  countDataPoints,
  type Exemplar,
  type ExponentialBuckets,
  type ExponentialHistogramDataPoint,
  findMetric,
  type HistogramDataPoint,
  type MetricData,
  type MetricDescriptor,
  type NumberDataPoint,
  numberPoints,
  type ResourceMetrics,
  type ScopeMetrics,
} from "./metric_data.ts";
export {
  type MetricExporter,
  temporalityFor,
  type TemporalityPreference,
} from "./metric_exporter.ts";
export {
  type CollectionResult,
  ManualMetricReader,
  type MetricProducer,
  MetricReader,
  type MetricReaderOptions,
} from "./metric_reader.ts";
export {
  PeriodicExportingMetricReader,
  type PeriodicExportingMetricReaderOptions,
  type PeriodicReaderStats,
} from "./periodic_reader.ts";
export {
  observeBatchProcessor,
  type ObservedProcessor,
} from "./processor_metrics.ts";
export type { View } from "./view.ts";
