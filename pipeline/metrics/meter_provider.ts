/**
 * The MeterProvider: owns the readers, views, resource and limits of the
 * metrics signal, and hands out meters.
 *
 * @module
 */

import { type AttributeLimits, AttributeSanitizer } from "../attributes.ts";
import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  reportDiagnostic,
} from "../diagnostics.ts";
import { type EnvReadOptions, readMetricsEnv } from "../env.ts";
import { defaultResource, type Resource } from "../resource.ts";
import type { InstrumentationScope } from "../scope.ts";
import { nowExactTime } from "../time.ts";
import { resolveAggregation } from "./aggregation.ts";
import { type ExemplarFilter, ExemplarSampler } from "./_exemplars.ts";
import type { InstrumentDescriptor } from "./instrument.ts";
import {
  InstrumentCore,
  type MeterCounters,
  newCounters,
} from "./_instrument_core.ts";
import { canonicalKey } from "./_series_map.ts";
import { MetricStorage } from "./_storage.ts";
import { type CallbackEntry, Meter, type MeterOptions } from "./meter.ts";
import type { Observable } from "./instruments.ts";
import type { MetricData, ScopeMetrics } from "./metric_data.ts";
import { temporalityFor } from "./metric_exporter.ts";
import type {
  CollectionResult,
  MetricProducer,
  MetricReader,
} from "./metric_reader.ts";
import {
  type CompiledView,
  compileView,
  type View,
  viewMatches,
} from "./view.ts";

/**
 * The default per-stream cardinality limit of the specification.
 *
 * @example
 * ```ts
 * import { DEFAULT_CARDINALITY_LIMIT } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_CARDINALITY_LIMIT, 2000);
 * ```
 */
export const DEFAULT_CARDINALITY_LIMIT = 2000;

/**
 * Options of {@linkcode MeterProvider}.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, type MeterProviderOptions } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: MeterProviderOptions = { readers: [new ManualMetricReader()], cardinalityLimit: 100, exemplarFilter: "always_off" };
 * assert.equal(options.cardinalityLimit, 100);
 * ```
 */
export interface MeterProviderOptions extends EnvReadOptions {
  /**
   * The resource of every metric.
   * @default {defaultResource()}
   */
  readonly resource?: Resource;
  /**
   * The readers; each collects its own streams.
   * @default {[]: instruments are disabled}
   */
  readonly readers?: readonly MetricReader[];
  /**
   * Views, in order.
   * @default {[]}
   */
  readonly views?: readonly View[];
  /**
   * The most series one stream keeps, the overflow series
   * (`otel.metric.overflow=true`) included.
   * @default {2000}
   */
  readonly cardinalityLimit?: number;
  /**
   * Which measurements may become exemplars.
   * @default {OTEL_METRICS_EXEMPLAR_FILTER, else "trace_based"}
   */
  readonly exemplarFilter?: ExemplarFilter;
  /**
   * Limits on measurement attributes.
   * @default {{ attributeCountLimit: 128 }}
   */
  readonly attributeLimits?: AttributeLimits;
}

/**
 * Counters of a meter provider: what was dropped, and why.
 *
 * @example
 * ```ts
 * import { MeterProvider } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const provider = new MeterProvider({ env: () => undefined });
 * assert.equal(provider.stats.negativeValues, 0);
 * ```
 */
export interface MeterProviderStats {
  /** Instruments not created because of an invalid name. */
  readonly invalidInstruments: number;
  /** Negative increments of counters (and negative observable counter totals) dropped. */
  readonly negativeValues: number;
  /** `NaN` and `±Infinity` values dropped. */
  readonly nonFiniteValues: number;
  /** Values that were not numbers, dropped. */
  readonly invalidValues: number;
  /** Measurements whose attributes could not be read (throwing getters, Proxies), dropped. */
  readonly unreadableAttributes: number;
  /** Measurements that went to an overflow series. */
  readonly overflowed: number;
  /** Observable callbacks that threw or rejected. */
  readonly callbackErrors: number;
  /** Observable callbacks that did not settle within the reader's timeout. */
  readonly callbackTimeouts: number;
  /** Observations made after their collection ended, dropped. */
  readonly lateObservations: number;
  /** Series held now, over every stream and reader. */
  readonly series: number;
}

/**
 * Hands out meters and owns the metrics pipeline.
 *
 * @example Count requests and read them back
 * ```ts
 * import { ManualMetricReader, MeterProvider } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const reader = new ManualMetricReader();
 * await using provider = new MeterProvider({ readers: [reader] });
 * const requests = provider.getMeter("server").createCounter("http.server.requests");
 * requests.add(1, { "http.request.method": "GET" });
 * requests.add(1, { "http.request.method": "GET" });
 * requests.add(1, { "http.request.method": "POST" });
 * const { resourceMetrics } = await reader.collect();
 * const points = resourceMetrics.scopeMetrics[0].metrics[0].dataPoints;
 * assert.deepEqual(points.map((p) => [p.attributes["http.request.method"], "value" in p ? p.value : 0]), [["GET", 2], ["POST", 1]]);
 * ```
 */
export class MeterProvider implements AsyncDisposable {
  /** The resource of every metric. */
  readonly resource: Resource;
  /** The cardinality limit of streams without their own. */
  readonly cardinalityLimit: number;
  /** The exemplar filter in force. */
  readonly exemplarFilter: ExemplarFilter;
  readonly #readers: readonly MetricReader[];
  readonly #views: readonly CompiledView[];
  readonly #meters = new Map<string, Meter>();
  readonly #counters: MeterCounters = newCounters();
  readonly #diagnostics: DiagnosticSink;
  readonly #sanitizer: AttributeSanitizer;
  readonly #sampler: ExemplarSampler | undefined;
  readonly #reported = new WeakSet<object>();
  #shutdown: Promise<void> | undefined;

  /**
   * Creates a provider and registers its readers.
   *
   * @param options Readers, views, resource, limits.
   * @throws {TypeError} When a view is invalid or a reader is registered twice.
   * @throws {RangeError} When `cardinalityLimit` is below 2.
   */
  constructor(options: MeterProviderOptions = {}) {
    this.#diagnostics = options.diagnostics ?? consoleDiagnosticSink;
    this.resource = options.resource ?? defaultResource(options);
    const limit = options.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT;
    if (!Number.isInteger(limit) || limit < 2) {
      throw new RangeError(
        `Cannot use cardinalityLimit ${limit}: expected an integer of at least 2 (one series plus the overflow series)`,
      );
    }
    this.cardinalityLimit = limit;
    this.#views = (options.views ?? []).map(compileView);
    this.exemplarFilter = options.exemplarFilter ??
      readMetricsEnv(options).exemplarFilter ?? "trace_based";
    this.#sampler = this.exemplarFilter === "always_off"
      ? undefined
      : new ExemplarSampler(this.exemplarFilter, nowExactTime);
    this.#sanitizer = new AttributeSanitizer(options.attributeLimits);
    const readers = options.readers ?? [];
    this.#readers = readers.slice();
    const producer: MetricProducer = {
      resource: this.resource,
      collect: (reader, timeout) => this.#collect(reader, timeout),
    };
    readers.forEach((reader, index) => reader.register(producer, index));
  }

  /** What was dropped, and why, as of now. */
  get stats(): MeterProviderStats {
    let overflowed = 0;
    let unreadable = 0;
    let series = 0;
    for (const meter of this.#meters.values()) {
      for (const core of meter.cores) {
        for (const storages of core.byReader) {
          for (const storage of storages) {
            overflowed += storage.series.overflowed;
            unreadable += storage.series.unreadable;
            series += storage.series.size;
          }
        }
      }
    }
    const c = this.#counters;
    return {
      invalidInstruments: c.invalidInstruments,
      negativeValues: c.negativeValues,
      nonFiniteValues: c.nonFiniteValues,
      invalidValues: c.invalidValues,
      unreadableAttributes: unreadable,
      overflowed,
      callbackErrors: c.callbackErrors,
      callbackTimeouts: c.callbackTimeouts,
      lateObservations: c.lateObservations,
      series,
    };
  }

  /**
   * Returns the meter of an instrumentation scope (the same object for the
   * same name, version, schema URL and attributes).
   *
   * @param name The library or component's name.
   * @param version Its version.
   * @param options Schema URL and scope attributes.
   * @returns The meter.
   */
  getMeter(name: string, version?: string, options?: MeterOptions): Meter {
    const scopeName = typeof name === "string" ? name : String(name ?? "");
    const schemaUrl = typeof options?.schemaUrl === "string"
      ? options.schemaUrl
      : undefined;
    const attributes = options?.attributes === undefined
      ? undefined
      : this.#sanitizer.attributes(options.attributes);
    const key = JSON.stringify([scopeName, version ?? "", schemaUrl ?? ""]) +
      (attributes === undefined ? "" : canonicalKey(attributes));
    let meter = this.#meters.get(key);
    if (meter === undefined) {
      const scope: {
        name: string;
        version?: string;
        schemaUrl?: string;
        attributes?: typeof attributes;
      } = { name: scopeName };
      if (typeof version === "string") scope.version = version;
      if (schemaUrl !== undefined) scope.schemaUrl = schemaUrl;
      if (attributes !== undefined) scope.attributes = attributes;
      meter = new Meter(Object.freeze(scope), {
        counters: this.#counters,
        diagnostics: this.#diagnostics,
        createCore: (descriptor, scope) => this.#createCore(descriptor, scope),
      });
      this.#meters.set(key, meter);
    }
    return meter;
  }

  #createCore(
    descriptor: InstrumentDescriptor,
    scope: InstrumentationScope,
  ): InstrumentCore {
    const byReader: MetricStorage[][] = [];
    const asynchronous = descriptor.type.startsWith("observable");
    const advice = descriptor.advice?.explicitBucketBoundaries;
    for (const reader of this.#readers) {
      const storages: MetricStorage[] = [];
      byReader.push(storages);
      if (this.#shutdown !== undefined || reader.isShutdown) continue;
      const temporality = temporalityFor(
        reader.temporalityPreference,
        descriptor.type,
      );
      let matched = false;
      for (const compiled of this.#views) {
        if (
          !viewMatches(
            compiled,
            descriptor.name,
            descriptor.type,
            descriptor.unit,
            scope,
          )
        ) continue;
        matched = true;
        const view = compiled.view;
        const aggregation = resolveAggregation(
          view.aggregation ?? { type: "default" },
          descriptor.type,
          advice,
        );
        if (aggregation.type === "drop") continue;
        storages.push(
          new MetricStorage({
            descriptor: {
              name: view.name ?? descriptor.name,
              description: view.description ?? descriptor.description,
              unit: descriptor.unit,
              type: descriptor.type,
              valueType: descriptor.valueType,
            },
            aggregation,
            temporality,
            asynchronous,
            cardinalityLimit: view.cardinalityLimit ?? this.cardinalityLimit,
            sanitizer: this.#sanitizer,
            attributeKeys: compiled.attributeKeys,
            exemplars: asynchronous ? undefined : this.#sampler,
            now: nowExactTime,
          }),
        );
      }
      if (matched) continue;
      storages.push(
        new MetricStorage({
          descriptor: {
            name: descriptor.name,
            description: descriptor.description,
            unit: descriptor.unit,
            type: descriptor.type,
            valueType: descriptor.valueType,
          },
          aggregation: resolveAggregation(
            { type: "default" },
            descriptor.type,
            advice,
          ),
          temporality,
          asynchronous,
          cardinalityLimit: this.cardinalityLimit,
          sanitizer: this.#sanitizer,
          attributeKeys: undefined,
          exemplars: asynchronous ? undefined : this.#sampler,
          now: nowExactTime,
        }),
      );
    }
    return new InstrumentCore(descriptor, this.#counters, byReader);
  }

  async #collect(
    reader: number,
    callbackTimeoutMillis: number,
  ): Promise<CollectionResult> {
    const errors: Error[] = [];
    await this.#runCallbacks(reader, callbackTimeoutMillis, errors);
    const scopeMetrics: ScopeMetrics[] = [];
    for (const meter of this.#meters.values()) {
      const metrics: MetricData[] = [];
      for (const core of meter.cores) {
        const storages = core.byReader[reader];
        if (storages === undefined) continue;
        for (const storage of storages) {
          const data = storage.collect();
          if (data !== undefined) metrics.push(data);
        }
      }
      if (metrics.length > 0) {
        scopeMetrics.push({ scope: meter.scope, metrics });
      }
    }
    return {
      resourceMetrics: { resource: this.resource, scopeMetrics },
      errors,
    };
  }

  async #runCallbacks(
    reader: number,
    timeoutMillis: number,
    errors: Error[],
  ): Promise<void> {
    const counters = this.#counters;
    let open = true;
    const pending: { settled: boolean; promise: Promise<void> }[] = [];
    const observeInto = (
      instrument: Observable,
      value: unknown,
      attributes: unknown,
    ) => {
      if (!open) {
        counters.lateObservations++;
        return;
      }
      const core = instrument.core;
      const storages = core.byReader[reader];
      if (storages === undefined || storages.length === 0) return;
      if (!core.accept(value, core.monotonic)) return;
      for (const storage of storages) {
        storage.observe(value, attributes as never);
      }
    };
    const fail = (entry: CallbackEntry, error: unknown) => {
      counters.callbackErrors++;
      const err = error instanceof Error ? error : new Error(String(error));
      errors.push(err);
      if (!this.#reported.has(entry.callback)) {
        this.#reported.add(entry.callback);
        reportDiagnostic(
          this.#diagnostics,
          "MeterProvider",
          "warn",
          `An observable callback failed: ${err.message}; its observations of this collection are kept, later failures are only counted (stats.callbackErrors)`,
          err,
        );
      }
    };
    for (const meter of this.#meters.values()) {
      for (const entry of meter.callbacks.slice()) {
        const single = entry.instrument;
        const result = single !== undefined
          ? {
            observe: (value: number, attributes?: unknown) =>
              observeInto(single, value, attributes),
          }
          : {
            observe: (
              instrument: Observable,
              value: number,
              attributes?: unknown,
            ) => {
              if (entry.instruments!.has(instrument)) {
                observeInto(instrument, value, attributes);
              }
            },
          };
        try {
          const returned = (entry.callback as (r: unknown) => unknown)(result);
          if (
            returned !== null && typeof returned === "object" &&
            typeof (returned as Promise<void>).then === "function"
          ) {
            const item = { settled: false, promise: Promise.resolve() };
            item.promise = Promise.resolve(returned as Promise<void>).then(
              () => {
                item.settled = true;
              },
              (error) => {
                item.settled = true;
                if (open) fail(entry, error);
              },
            );
            pending.push(item);
          }
        } catch (error) {
          fail(entry, error);
        }
      }
    }
    if (pending.length > 0) {
      let timer: unknown;
      const timeout = new Promise<void>((resolve) => {
        // A ref'd timer: a collection in progress may hold the process for
        // at most the callback timeout.
        timer = setTimeout(resolve, timeoutMillis);
      });
      await Promise.race([
        Promise.all(pending.map((p) => p.promise)),
        timeout,
      ]);
      clearTimeout(timer as number);
      for (const item of pending) {
        if (item.settled) continue;
        counters.callbackTimeouts++;
        errors.push(
          new Error(
            `An observable callback did not settle within callbackTimeoutMillis (${timeoutMillis} ms); its later observations are dropped`,
          ),
        );
      }
    }
    open = false;
  }

  /**
   * Makes every reader export what it has (a periodic reader collects and
   * exports once).
   *
   * @returns Resolves when every reader is done.
   */
  async forceFlush(): Promise<void> {
    await Promise.all(this.#readers.map((reader) => reader.forceFlush()));
  }

  /**
   * Shuts every reader down (a periodic reader exports a last time), then
   * disables every instrument. Idempotent.
   *
   * @returns Resolves when done.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      await Promise.all(this.#readers.map((reader) => reader.shutdown()));
      for (const meter of this.#meters.values()) {
        for (const core of meter.cores) core.storages = [];
      }
    })();
    return this.#shutdown;
  }

  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
