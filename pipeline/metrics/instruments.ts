/**
 * The instruments: synchronous `Counter`, `UpDownCounter`, `Histogram` and
 * `Gauge`, and the observable (asynchronous) `ObservableCounter`,
 * `ObservableUpDownCounter` and `ObservableGauge` whose callbacks run at
 * collection time. Create them with a `Meter`.
 *
 * No method throws: a value that is not a finite number, a negative counter
 * increment, or attributes that cannot be read are dropped and counted in
 * `MeterProvider.stats`.
 *
 * @module
 */

import type { Attributes } from "../attributes.ts";
import type { InstrumentDescriptor } from "./instrument.ts";
import type { InstrumentCore } from "./_instrument_core.ts";

/**
 * What observable callbacks report values to.
 *
 * @example
 * ```ts
 * import type { ObservableResult } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const seen: number[] = [];
 * const result: ObservableResult = { observe: (value) => { seen.push(value); } };
 * result.observe(3, { queue: "jobs" });
 * assert.deepEqual(seen, [3]);
 * ```
 */
export interface ObservableResult {
  /**
   * Reports the current value of one series.
   *
   * @param value The value (a counter's is its total so far).
   * @param attributes The series' attributes.
   */
  observe(value: number, attributes?: Attributes): void;
}

/**
 * What batch callbacks report values to: one result for several instruments.
 *
 * @example
 * ```ts
 * import type { BatchObservableResult, Observable } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const seen: number[] = [];
 * const result: BatchObservableResult = { observe: (_instrument: Observable, value: number) => { seen.push(value); } };
 * result.observe({} as Observable, 1);
 * assert.deepEqual(seen, [1]);
 * ```
 */
export interface BatchObservableResult {
  /**
   * Reports the current value of one series of `instrument`.
   *
   * @param instrument One of the instruments the callback was registered for.
   * @param value The value.
   * @param attributes The series' attributes.
   */
  observe(
    instrument: Observable,
    value: number,
    attributes?: Attributes,
  ): void;
}

/**
 * A callback of one observable instrument. It may return a Promise; the
 * collection waits for it up to the reader's callback timeout.
 *
 * @example
 * ```ts
 * import type { ObservableCallback } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const callback: ObservableCallback = (result) => result.observe(42);
 * assert.equal(typeof callback, "function");
 * ```
 */
export type ObservableCallback = (
  result: ObservableResult,
) => void | Promise<void>;

/**
 * A callback that observes several instruments at once (for values that are
 * cheapest to read together).
 *
 * @example
 * ```ts
 * import type { BatchObservableCallback } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const callback: BatchObservableCallback = () => {};
 * assert.equal(typeof callback, "function");
 * ```
 */
export type BatchObservableCallback = (
  result: BatchObservableResult,
) => void | Promise<void>;

/**
 * The part every instrument shares.
 *
 * @example
 * ```ts
 * import { MeterProvider, ManualMetricReader } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const provider = new MeterProvider({ readers: [new ManualMetricReader()] });
 * const counter = provider.getMeter("app").createCounter("jobs");
 * assert.equal(counter.descriptor.name, "jobs");
 * assert.equal(counter.enabled(), true);
 * ```
 */
export abstract class Instrument {
  /** @internal */
  readonly core: InstrumentCore;

  /**
   * Wraps a core (made by a `Meter`).
   *
   * @param core The shared state.
   */
  constructor(core: InstrumentCore) {
    this.core = core;
  }

  /** The instrument's name, kind, unit, description and value type. */
  get descriptor(): InstrumentDescriptor {
    return this.core.descriptor;
  }

  /**
   * Whether measurements are used: `false` when no reader collects this
   * instrument (every view drops it, or the provider is shut down), so
   * callers can skip the work of computing a value.
   *
   * @returns `true` when a measurement would be aggregated.
   */
  enabled(): boolean {
    return this.core.storages.length !== 0;
  }
}

/**
 * A monotonic sum: request counts, bytes sent. Negative increments are
 * dropped and counted.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader] });
 * const requests = provider.getMeter("app").createCounter("http.requests", { unit: "{request}" });
 * requests.add(1, { route: "/" });
 * requests.add(2, { route: "/" });
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 3);
 * ```
 */
export class Counter extends Instrument {
  /**
   * Adds a non-negative amount.
   *
   * @param value The increment: finite, at least 0.
   * @param attributes The series' attributes.
   */
  add(value: number, attributes?: Attributes): void {
    const core = this.core;
    if (core.storages.length === 0) return;
    if (!core.accept(value, true)) return;
    core.record(value, attributes);
  }
}

/**
 * A sum that goes up and down: items in a queue, open connections.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader] });
 * const active = provider.getMeter("app").createUpDownCounter("connections.active");
 * active.add(1);
 * active.add(-1);
 * active.add(1);
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 1);
 * ```
 */
export class UpDownCounter extends Instrument {
  /**
   * Adds a positive or negative amount.
   *
   * @param value The change: finite.
   * @param attributes The series' attributes.
   */
  add(value: number, attributes?: Attributes): void {
    const core = this.core;
    if (core.storages.length === 0) return;
    if (!core.accept(value, false)) return;
    core.record(value, attributes);
  }
}

/**
 * A distribution of values: request durations, payload sizes. Aggregated as
 * an explicit-bucket histogram by default (or as a view says).
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader] });
 * const duration = provider.getMeter("app").createHistogram("job.duration", {
 *   unit: "s",
 *   advice: { explicitBucketBoundaries: [0.1, 1] },
 * });
 * duration.record(0.05);
 * duration.record(0.5);
 * const { resourceMetrics } = await reader.collect();
 * const point = resourceMetrics.scopeMetrics[0].metrics[0].dataPoints[0];
 * assert.ok("bucketCounts" in point);
 * assert.deepEqual(point.bucketCounts, [1, 1, 0]);
 * ```
 */
export class Histogram extends Instrument {
  /**
   * Records one value.
   *
   * @param value The value: finite (negative values are kept; they make
   * the sum non-monotonic).
   * @param attributes The series' attributes.
   */
  record(value: number, attributes?: Attributes): void {
    const core = this.core;
    if (core.storages.length === 0) return;
    if (!core.accept(value, false)) return;
    core.record(value, attributes);
  }
}

/**
 * A value sampled when it changes: a temperature, a configuration value.
 * The last recorded value of each series is collected.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader] });
 * const temperature = provider.getMeter("app").createGauge("cpu.temperature", { unit: "Cel" });
 * temperature.record(40);
 * temperature.record(42);
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 42);
 * ```
 */
export class Gauge extends Instrument {
  /**
   * Records the current value.
   *
   * @param value The value: finite.
   * @param attributes The series' attributes.
   */
  record(value: number, attributes?: Attributes): void {
    const core = this.core;
    if (core.storages.length === 0) return;
    if (!core.accept(value, false)) return;
    core.record(value, attributes);
  }
}

/** Registered callbacks of one observable instrument (internal). */
export interface CallbackRegistry {
  add(instrument: Observable, callback: ObservableCallback): void;
  remove(instrument: Observable, callback: ObservableCallback): void;
}

/**
 * An asynchronous instrument: its callbacks report values at collection
 * time. `ObservableCounter` (monotonic totals), `ObservableUpDownCounter`
 * and `ObservableGauge` share this API.
 *
 * @example Observe a queue's depth
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const queue = [1, 2, 3];
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader] });
 * const depth = provider.getMeter("app").createObservableGauge("queue.depth");
 * depth.addCallback((result) => result.observe(queue.length, { queue: "jobs" }));
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 3);
 * ```
 */
export abstract class Observable extends Instrument {
  readonly #registry: CallbackRegistry;

  /**
   * Wraps a core (made by a `Meter`).
   *
   * @param core The shared state.
   * @param registry Where callbacks are kept.
   */
  constructor(core: InstrumentCore, registry: CallbackRegistry) {
    super(core);
    this.#registry = registry;
  }

  /**
   * Registers a callback (once; registering it again does nothing).
   *
   * @param callback Called at each collection.
   */
  addCallback(callback: ObservableCallback): void {
    if (typeof callback !== "function") return;
    this.#registry.add(this, callback);
  }

  /**
   * Unregisters a callback.
   *
   * @param callback A callback given to `addCallback`.
   */
  removeCallback(callback: ObservableCallback): void {
    this.#registry.remove(this, callback);
  }
}

/**
 * A monotonic total read by a callback: CPU time, bytes received since
 * start. Observe the total, not the increment.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader] });
 * provider.getMeter("app").createObservableCounter("process.cpu.time", { unit: "s" })
 *   .addCallback((result) => result.observe(1.25));
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 1.25);
 * ```
 */
export class ObservableCounter extends Observable {}

/**
 * A total that goes up and down, read by a callback: heap in use.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader] });
 * provider.getMeter("app").createObservableUpDownCounter("memory.used", { unit: "By" })
 *   .addCallback((result) => result.observe(-5));
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value, -5);
 * ```
 */
export class ObservableUpDownCounter extends Observable {}

/**
 * A current value read by a callback: queue depth, temperature.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * const provider = new MeterProvider({ readers: [reader] });
 * provider.getMeter("app").createObservableGauge("load").addCallback((r) => r.observe(0.5));
 * const { resourceMetrics } = await reader.collect();
 * assert.equal(numberPoints(resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 0.5);
 * ```
 */
export class ObservableGauge extends Observable {}
