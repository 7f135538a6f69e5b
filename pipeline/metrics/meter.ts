/**
 * The Meter: creates instruments for one instrumentation scope.
 *
 * @module
 */

import type { Attributes } from "../attributes.ts";
import { type DiagnosticSink, reportDiagnostic } from "../diagnostics.ts";
import type { InstrumentationScope } from "../scope.ts";
import { validBoundaries } from "./aggregation.ts";
import {
  type InstrumentDescriptor,
  type InstrumentOptions,
  type InstrumentType,
  isValidInstrumentName,
  isValidInstrumentUnit,
} from "./instrument.ts";
import { InstrumentCore, type MeterCounters } from "./_instrument_core.ts";
import {
  type BatchObservableCallback,
  type CallbackRegistry,
  Counter,
  Gauge,
  Histogram,
  Observable,
  type ObservableCallback,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from "./instruments.ts";

/** What a meter needs from its provider (internal). */
export interface MeterContext {
  readonly counters: MeterCounters;
  readonly diagnostics: DiagnosticSink;
  createCore(
    descriptor: InstrumentDescriptor,
    scope: InstrumentationScope,
  ): InstrumentCore;
}

/** One registered callback (internal). */
export interface CallbackEntry {
  readonly callback: ObservableCallback | BatchObservableCallback;
  /** The instrument of a single-instrument callback. */
  readonly instrument: Observable | undefined;
  /** The instruments of a batch callback. */
  readonly instruments: ReadonlySet<Observable> | undefined;
}

/**
 * Options of `MeterProvider.getMeter`.
 *
 * @example
 * ```ts
 * import type { MeterOptions } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: MeterOptions = { schemaUrl: "https://opentelemetry.io/schemas/1.26.0", attributes: { team: "core" } };
 * assert.ok(options.schemaUrl);
 * ```
 */
export interface MeterOptions {
  /** The schema URL of the meter's telemetry. */
  readonly schemaUrl?: string;
  /** Attributes of the instrumentation scope. */
  readonly attributes?: Attributes;
}

/**
 * Creates instruments. Get one from `MeterProvider.getMeter`; the same name,
 * version, schema URL and attributes return the same meter.
 *
 * Creating an instrument never throws: an invalid name is reported and
 * returns an instrument that records nothing (counted in
 * `stats.invalidInstruments`); an instrument created twice with the same
 * name and identity returns the same stream.
 *
 * @example
 * ```ts
 * import { ManualMetricReader, MeterProvider } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const provider = new MeterProvider({ readers: [new ManualMetricReader()] });
 * const meter = provider.getMeter("checkout", "1.0.0");
 * assert.equal(meter.scope.name, "checkout");
 * assert.equal(provider.getMeter("checkout", "1.0.0"), meter);
 * ```
 */
export class Meter {
  /** The instrumentation scope of the meter's metrics. */
  readonly scope: InstrumentationScope;
  /** @internal Every instrument's state, in creation order. */
  readonly cores: InstrumentCore[] = [];
  /** @internal Registered callbacks. */
  readonly callbacks: CallbackEntry[] = [];
  readonly #context: MeterContext;
  readonly #byName = new Map<string, InstrumentCore[]>();
  readonly #registry: CallbackRegistry;

  /**
   * Creates a meter (use `MeterProvider.getMeter`).
   *
   * @param scope The instrumentation scope.
   * @param context The provider's side.
   */
  constructor(scope: InstrumentationScope, context: MeterContext) {
    this.scope = scope;
    this.#context = context;
    const callbacks = this.callbacks;
    this.#registry = {
      add(instrument: Observable, callback: ObservableCallback): void {
        for (const entry of callbacks) {
          if (entry.instrument === instrument && entry.callback === callback) {
            return;
          }
        }
        callbacks.push({ callback, instrument, instruments: undefined });
      },
      remove(instrument: Observable, callback: ObservableCallback): void {
        const at = callbacks.findIndex((entry) =>
          entry.instrument === instrument && entry.callback === callback
        );
        if (at >= 0) callbacks.splice(at, 1);
      },
    };
  }

  #core(
    name: string,
    type: InstrumentType,
    options: InstrumentOptions | undefined,
  ): InstrumentCore {
    const context = this.#context;
    let unit = "";
    let description = "";
    let valueType: "int" | "double" = "double";
    let boundaries: readonly number[] | undefined;
    try {
      unit = options?.unit ?? "";
      description = options?.description ?? "";
      valueType = options?.valueType === "int" ? "int" : "double";
      boundaries = options?.advice?.explicitBucketBoundaries;
    } catch {
      // Options that cannot be read count as none.
    }
    if (!isValidInstrumentName(name)) {
      context.counters.invalidInstruments++;
      reportDiagnostic(
        context.diagnostics,
        "Meter",
        "warn",
        `Ignoring instrument ${
          safeString(name)
        } of meter ${this.scope.name}: a name must start with an ASCII letter and have at most 255 letters, digits, "_", ".", "-" or "/"; it records nothing`,
      );
      return new InstrumentCore(
        { name: String(safeString(name)), type, unit, description, valueType },
        context.counters,
        [],
      );
    }
    if (!isValidInstrumentUnit(unit)) {
      reportDiagnostic(
        context.diagnostics,
        "Meter",
        "warn",
        `Ignoring the unit of instrument ${name}: expected at most 63 ASCII characters; using ""`,
      );
      unit = "";
    }
    if (typeof description !== "string") description = "";
    if (boundaries !== undefined && !validBoundaries(boundaries)) {
      reportDiagnostic(
        context.diagnostics,
        "Meter",
        "warn",
        `Ignoring the advised bucket boundaries of instrument ${name}: expected finite, strictly increasing numbers; using the default boundaries`,
      );
      boundaries = undefined;
    }
    const descriptor: InstrumentDescriptor = boundaries === undefined
      ? { name, type, unit, description, valueType }
      : {
        name,
        type,
        unit,
        description,
        valueType,
        advice: { explicitBucketBoundaries: Object.freeze(boundaries.slice()) },
      };
    const key = name.toLowerCase();
    const existing = this.#byName.get(key);
    if (existing !== undefined) {
      for (const core of existing) {
        const d = core.descriptor;
        if (
          d.type === type && d.unit === unit && d.description === description &&
          d.valueType === valueType
        ) return core;
      }
      reportDiagnostic(
        context.diagnostics,
        "Meter",
        "warn",
        `Instrument ${name} of meter ${this.scope.name} was created before with another kind, unit, description or value type; both streams are exported under the same name; give one of them another name or a renaming view`,
      );
    }
    const core = context.createCore(descriptor, this.scope);
    this.cores.push(core);
    if (existing === undefined) this.#byName.set(key, [core]);
    else existing.push(core);
    return core;
  }

  /**
   * Creates a {@linkcode Counter}.
   *
   * @param name The instrument's name.
   * @param options Unit, description, value type.
   * @returns The counter.
   */
  createCounter(name: string, options?: InstrumentOptions): Counter {
    return new Counter(this.#core(name, "counter", options));
  }

  /**
   * Creates an {@linkcode UpDownCounter}.
   *
   * @param name The instrument's name.
   * @param options Unit, description, value type.
   * @returns The counter.
   */
  createUpDownCounter(
    name: string,
    options?: InstrumentOptions,
  ): UpDownCounter {
    return new UpDownCounter(this.#core(name, "upDownCounter", options));
  }

  /**
   * Creates a {@linkcode Histogram}.
   *
   * @param name The instrument's name.
   * @param options Unit, description, value type, advised bucket boundaries.
   * @returns The histogram.
   */
  createHistogram(name: string, options?: InstrumentOptions): Histogram {
    return new Histogram(this.#core(name, "histogram", options));
  }

  /**
   * Creates a {@linkcode Gauge}.
   *
   * @param name The instrument's name.
   * @param options Unit, description, value type.
   * @returns The gauge.
   */
  createGauge(name: string, options?: InstrumentOptions): Gauge {
    return new Gauge(this.#core(name, "gauge", options));
  }

  /**
   * Creates an {@linkcode ObservableCounter}.
   *
   * @param name The instrument's name.
   * @param options Unit, description, value type.
   * @returns The instrument; add callbacks to it.
   */
  createObservableCounter(
    name: string,
    options?: InstrumentOptions,
  ): ObservableCounter {
    return new ObservableCounter(
      this.#core(name, "observableCounter", options),
      this.#registry,
    );
  }

  /**
   * Creates an {@linkcode ObservableUpDownCounter}.
   *
   * @param name The instrument's name.
   * @param options Unit, description, value type.
   * @returns The instrument; add callbacks to it.
   */
  createObservableUpDownCounter(
    name: string,
    options?: InstrumentOptions,
  ): ObservableUpDownCounter {
    return new ObservableUpDownCounter(
      this.#core(name, "observableUpDownCounter", options),
      this.#registry,
    );
  }

  /**
   * Creates an {@linkcode ObservableGauge}.
   *
   * @param name The instrument's name.
   * @param options Unit, description, value type.
   * @returns The instrument; add callbacks to it.
   */
  createObservableGauge(
    name: string,
    options?: InstrumentOptions,
  ): ObservableGauge {
    return new ObservableGauge(
      this.#core(name, "observableGauge", options),
      this.#registry,
    );
  }

  /**
   * Registers one callback that observes several instruments of this meter.
   *
   * @param callback Called at each collection.
   * @param instruments The instruments it observes; observations of others
   * are ignored.
   *
   * @example
   * ```ts
   * import { ManualMetricReader, MeterProvider } from "@seed/telemetry/metrics";
   * import assert from "node:assert/strict";
   *
   * const reader = new ManualMetricReader();
   * const meter = new MeterProvider({ readers: [reader] }).getMeter("app");
   * const used = meter.createObservableGauge("heap.used");
   * const total = meter.createObservableGauge("heap.total");
   * meter.addBatchObservableCallback((result) => {
   *   result.observe(used, 10);
   *   result.observe(total, 20);
   * }, [used, total]);
   * const { resourceMetrics } = await reader.collect();
   * assert.equal(resourceMetrics.scopeMetrics[0].metrics.length, 2);
   * ```
   */
  addBatchObservableCallback(
    callback: BatchObservableCallback,
    instruments: readonly Observable[],
  ): void {
    if (typeof callback !== "function") return;
    let set: Set<Observable>;
    try {
      set = new Set(
        Array.from(instruments).filter((i) => i instanceof Observable),
      );
    } catch {
      return;
    }
    this.callbacks.push({ callback, instrument: undefined, instruments: set });
  }

  /**
   * Unregisters a batch callback.
   *
   * @param callback The callback given to `addBatchObservableCallback`.
   * @param _instruments The instruments it was registered with.
   */
  removeBatchObservableCallback(
    callback: BatchObservableCallback,
    _instruments?: readonly Observable[],
  ): void {
    const at = this.callbacks.findIndex((entry) =>
      entry.instrument === undefined && entry.callback === callback
    );
    if (at >= 0) this.callbacks.splice(at, 1);
  }
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(String(value)).slice(0, 80);
  } catch {
    return "(unprintable)";
  }
}
