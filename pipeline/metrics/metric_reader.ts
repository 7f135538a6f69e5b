/**
 * Metric readers: what triggers a collection. A reader is registered with
 * one `MeterProvider`; each reader sees its own streams (with its own
 * temporality), so two readers never disturb each other's deltas.
 *
 * @module
 */

import type { Resource } from "../resource.ts";
import type { TemporalityPreference } from "./metric_exporter.ts";
import type { ResourceMetrics } from "./metric_data.ts";

/**
 * What one collection returned: the metrics, and the errors met on the way
 * (callbacks that threw or timed out), which never stop the collection.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, type CollectionResult } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * new MeterProvider({ readers: [reader] });
 * const result: CollectionResult = await reader.collect();
 * assert.deepEqual(result.errors, []);
 * ```
 */
export interface CollectionResult {
  /** The metrics collected. */
  readonly resourceMetrics: ResourceMetrics;
  /** What went wrong while collecting. */
  readonly errors: readonly Error[];
}

/**
 * Options of every reader.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, type MetricReaderOptions } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: MetricReaderOptions = { temporalityPreference: "delta", callbackTimeoutMillis: 1000 };
 * assert.equal(new ManualMetricReader(options).temporalityPreference, "delta");
 * ```
 */
export interface MetricReaderOptions {
  /**
   * Which temporality each instrument kind gets.
   * @default {"cumulative" (a periodic reader: its exporter's preference)}
   */
  readonly temporalityPreference?: TemporalityPreference;
  /**
   * How long a collection waits for observable callbacks that return a
   * Promise; later observations are dropped and counted.
   * @default {10000}
   */
  readonly callbackTimeoutMillis?: number;
}

/**
 * What a provider gives the readers it registers: the resource and the
 * collection entry. Readers outside this package can be built on it.
 *
 * @example A hand-made producer
 * ```ts
 * import { Resource } from "@seed/telemetry";
 * import { ManualMetricReader, type MetricProducer } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const resource = new Resource({ "service.name": "x" });
 * const producer: MetricProducer = {
 *   resource,
 *   collect: () => Promise.resolve({ resourceMetrics: { resource, scopeMetrics: [] }, errors: [] }),
 * };
 * const reader = new ManualMetricReader();
 * reader.register(producer, 0);
 * assert.deepEqual((await reader.collect()).errors, []);
 * ```
 */
export interface MetricProducer {
  /** The resource of every collection. */
  readonly resource: Resource;
  /**
   * Collects the streams of one reader.
   *
   * @param reader The reader's index.
   * @param callbackTimeoutMillis How long to wait for asynchronous callbacks.
   * @returns The collection.
   */
  collect(reader: number, callbackTimeoutMillis: number): Promise<
    CollectionResult
  >;
}

/**
 * The base of every reader: registration, collection, flush and shutdown.
 *
 * @example
 * ```ts
 * import { type MetricReader, ManualMetricReader } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader: MetricReader = new ManualMetricReader();
 * assert.equal(reader.temporalityPreference, "cumulative");
 * ```
 */
export abstract class MetricReader {
  /** Which temporality each instrument kind gets. */
  readonly temporalityPreference: TemporalityPreference;
  /** How long a collection waits for asynchronous callbacks, in ms. */
  readonly callbackTimeoutMillis: number;
  #producer: MetricProducer | undefined;
  #index = -1;
  #shutdown = false;

  /**
   * Creates a reader.
   *
   * @param options Temporality and callback timeout.
   * @throws {RangeError} When `callbackTimeoutMillis` is negative.
   */
  constructor(options: MetricReaderOptions = {}) {
    this.temporalityPreference = options.temporalityPreference ?? "cumulative";
    const timeout = options.callbackTimeoutMillis ?? 10000;
    if (!(timeout >= 0)) {
      throw new RangeError(
        `Cannot use callbackTimeoutMillis ${timeout}: expected a number of milliseconds >= 0`,
      );
    }
    this.callbackTimeoutMillis = timeout;
  }

  /** Whether `shutdown` was called. */
  get isShutdown(): boolean {
    return this.#shutdown;
  }

  /**
   * Binds the reader to a provider; called by `MeterProvider`.
   *
   * @param producer The provider's collection entry.
   * @param index The reader's index in the provider.
   * @throws {TypeError} When the reader is already registered.
   */
  register(producer: MetricProducer, index: number): void {
    if (this.#producer !== undefined) {
      throw new TypeError(
        "Cannot register a metric reader twice: give each MeterProvider its own reader",
      );
    }
    this.#producer = producer;
    this.#index = index;
    this.onRegister();
  }

  /** Called once registered (a periodic reader starts its timer). */
  protected onRegister(): void {}

  /**
   * Collects every stream of this reader now. Never rejects: a reader that
   * is not registered or is shut down returns an empty collection and an
   * error.
   *
   * @returns The metrics and the errors met.
   */
  collect(): Promise<CollectionResult> {
    const producer = this.#producer;
    if (producer === undefined || this.#shutdown) {
      return Promise.resolve({
        resourceMetrics: {
          resource: producer?.resource ?? EMPTY_RESOURCE,
          scopeMetrics: [],
        },
        errors: [
          new Error(
            producer === undefined
              ? "Cannot collect: the reader is not registered with a MeterProvider"
              : "Cannot collect: the reader is shut down",
          ),
        ],
      });
    }
    return producer.collect(this.#index, this.callbackTimeoutMillis);
  }

  /**
   * Exports what is pending (a periodic reader collects and exports once).
   *
   * @returns Resolves when done.
   */
  forceFlush(): Promise<void> {
    return this.onForceFlush();
  }

  /**
   * Stops the reader (a periodic reader collects and exports a last time).
   * Idempotent.
   *
   * @returns Resolves when done.
   */
  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    await this.onShutdown();
    this.#shutdown = true;
  }

  /** What `forceFlush` does. */
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** What `shutdown` does before the reader stops collecting. */
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const EMPTY_RESOURCE = { attributes: {} } as unknown as Resource;

/**
 * A reader that collects only when asked (pull): for tests, and for servers
 * that expose metrics to a scraper.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader({ temporalityPreference: "delta" });
 * const provider = new MeterProvider({ readers: [reader] });
 * const jobs = provider.getMeter("worker").createCounter("jobs");
 * jobs.add(5);
 * assert.equal(numberPoints((await reader.collect()).resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 5);
 * jobs.add(1);
 * assert.equal(numberPoints((await reader.collect()).resourceMetrics.scopeMetrics[0].metrics[0])[0].value, 1);
 * ```
 */
export class ManualMetricReader extends MetricReader {
  /**
   * Creates a reader.
   *
   * @param options Temporality and callback timeout.
   * @throws {RangeError} When `callbackTimeoutMillis` is negative.
   */
  constructor(options: MetricReaderOptions = {}) {
    super(options);
  }
}
