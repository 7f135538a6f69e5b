/**
 * A metric exporter that keeps every collection in memory, for tests and
 * demos.
 *
 * @module
 */

import type { ExportResult } from "../exporter.ts";
import type { ResourceMetrics } from "./metric_data.ts";
import type {
  MetricExporter,
  TemporalityPreference,
} from "./metric_exporter.ts";

/**
 * Keeps every exported collection.
 *
 * @example
 * ```ts
 * import { InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, numberPoints } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryMetricExporter({ temporalityPreference: "delta" });
 * const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader(exporter)] });
 * provider.getMeter("app").createCounter("c").add(2);
 * await provider.shutdown();
 * assert.equal(exporter.collections.length, 1);
 * assert.equal(numberPoints(exporter.collections[0].scopeMetrics[0].metrics[0])[0].value, 2);
 * ```
 */
export class InMemoryMetricExporter implements MetricExporter {
  /** Every collection exported, in order. */
  readonly collections: ResourceMetrics[] = [];
  /** The temporality asked of the reader. */
  readonly temporalityPreference: TemporalityPreference;
  #stopped = false;

  /**
   * Creates the exporter.
   *
   * @param options The temporality preference.
   */
  constructor(
    options: { readonly temporalityPreference?: TemporalityPreference } = {},
  ) {
    this.temporalityPreference = options.temporalityPreference ?? "cumulative";
  }

  /**
   * Stores the collection; fails (not retryable) after shutdown.
   *
   * @param metrics The collection.
   * @param _signal Unused.
   * @returns The outcome.
   */
  export(
    metrics: ResourceMetrics,
    _signal: AbortSignal,
  ): Promise<ExportResult> {
    if (this.#stopped) {
      return Promise.resolve({
        code: "failure",
        retryable: false,
        error: new Error("InMemoryMetricExporter is shut down"),
      });
    }
    this.collections.push(metrics);
    return Promise.resolve({ code: "success" });
  }

  /** Forgets every collection. */
  reset(): void {
    this.collections.length = 0;
  }

  /**
   * Nothing to flush.
   *
   * @returns Resolves at once.
   */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Stops accepting collections.
   *
   * @returns Resolves at once.
   */
  shutdown(): Promise<void> {
    this.#stopped = true;
    return Promise.resolve();
  }
}
