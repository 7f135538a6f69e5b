/**
 * The periodic reader: collects every interval and hands the result to a
 * `MetricExporter`. Its timer never keeps the process alive, and a
 * collection never overlaps the previous one.
 *
 * @module
 */

import { type BatchScheduler, realScheduler } from "../_batcher.ts";
import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  reportDiagnostic,
} from "../diagnostics.ts";
import { type EnvReadOptions, readMetricsEnv } from "../env.ts";
import type { ExportResult } from "../exporter.ts";
import type { MetricExporter } from "./metric_exporter.ts";
import { MetricReader, type MetricReaderOptions } from "./metric_reader.ts";

/**
 * Options of {@linkcode PeriodicExportingMetricReader}; each wins over its
 * variable.
 *
 * @example
 * ```ts
 * import type { PeriodicExportingMetricReaderOptions } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: PeriodicExportingMetricReaderOptions = { exportIntervalMillis: 10000, exportTimeoutMillis: 5000 };
 * assert.equal(options.exportIntervalMillis, 10000);
 * ```
 */
export interface PeriodicExportingMetricReaderOptions
  extends MetricReaderOptions, EnvReadOptions {
  /**
   * Time between the end of one export and the next collection, in ms.
   * @default {OTEL_METRIC_EXPORT_INTERVAL, else 60000}
   */
  readonly exportIntervalMillis?: number;
  /**
   * How long one export may take before it is aborted, in ms.
   * @default {OTEL_METRIC_EXPORT_TIMEOUT, else 30000}
   */
  readonly exportTimeoutMillis?: number;
  /**
   * The timer seam (tests pass a fake).
   * @default {unref'd node:timers}
   */
  readonly scheduler?: BatchScheduler;
}

/**
 * Counters of a periodic reader.
 *
 * @example
 * ```ts
 * import type { PeriodicReaderStats } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const stats: PeriodicReaderStats = { collections: 1, exports: 1, exportFailures: 0, exportTimeouts: 0, collectionErrors: 0 };
 * assert.equal(stats.exports, 1);
 * ```
 */
export interface PeriodicReaderStats {
  /** Collections run. */
  readonly collections: number;
  /** Calls to the exporter. */
  readonly exports: number;
  /** Exports that failed (timeouts included). */
  readonly exportFailures: number;
  /** Of those, exports that did not settle within the export timeout. */
  readonly exportTimeouts: number;
  /** Errors met while collecting (callbacks that threw or timed out). */
  readonly collectionErrors: number;
}

/**
 * Collects every `exportIntervalMillis` and exports with `exporter`;
 * `forceFlush()` and `shutdown()` collect and export once more.
 *
 * @example Export to memory
 * ```ts
 * import { InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryMetricExporter();
 * const reader = new PeriodicExportingMetricReader(exporter, { exportIntervalMillis: 60000 });
 * await using provider = new MeterProvider({ readers: [reader] });
 * provider.getMeter("app").createCounter("ticks").add(1);
 * await provider.forceFlush();
 * assert.equal(exporter.collections.length, 1);
 * assert.equal(reader.stats.exports, 1);
 * ```
 */
export class PeriodicExportingMetricReader extends MetricReader {
  /** Time between exports, in ms. */
  readonly exportIntervalMillis: number;
  /** The export timeout, in ms. */
  readonly exportTimeoutMillis: number;
  readonly #exporter: MetricExporter;
  readonly #scheduler: BatchScheduler;
  readonly #diagnostics: DiagnosticSink;
  #timer: unknown = undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #collections = 0;
  #exports = 0;
  #exportFailures = 0;
  #exportTimeouts = 0;
  #collectionErrors = 0;

  /**
   * Creates the reader; it starts when a `MeterProvider` registers it.
   *
   * @param exporter Where collections go.
   * @param options Interval, timeout, temporality, environment.
   * @throws {TypeError} When `exporter` has no `export` method.
   * @throws {RangeError} When the interval is below 1 or the timeout negative.
   */
  constructor(
    exporter: MetricExporter,
    options: PeriodicExportingMetricReaderOptions = {},
  ) {
    super({
      ...options,
      temporalityPreference: options.temporalityPreference ??
        exporter?.temporalityPreference ?? "cumulative",
    });
    if (exporter === null || typeof exporter?.export !== "function") {
      throw new TypeError(
        "Cannot create PeriodicExportingMetricReader: expected a MetricExporter with an export method",
      );
    }
    this.#exporter = exporter;
    this.#diagnostics = options.diagnostics ?? consoleDiagnosticSink;
    const env = readMetricsEnv(options);
    const interval = options.exportIntervalMillis ?? env.exportIntervalMillis ??
      60000;
    const timeout = options.exportTimeoutMillis ?? env.exportTimeoutMillis ??
      30000;
    if (!(interval >= 1) || !Number.isFinite(interval)) {
      throw new RangeError(
        `Cannot use exportIntervalMillis ${interval}: expected a finite number of milliseconds >= 1`,
      );
    }
    if (!(timeout >= 0) || !Number.isFinite(timeout)) {
      throw new RangeError(
        `Cannot use exportTimeoutMillis ${timeout}: expected a finite number of milliseconds >= 0`,
      );
    }
    this.exportIntervalMillis = interval;
    this.exportTimeoutMillis = timeout;
    this.#scheduler = options.scheduler ?? realScheduler;
  }

  /** The reader's counters, as of now. */
  get stats(): PeriodicReaderStats {
    return {
      collections: this.#collections,
      exports: this.#exports,
      exportFailures: this.#exportFailures,
      exportTimeouts: this.#exportTimeouts,
      collectionErrors: this.#collectionErrors,
    };
  }

  /** Starts the timer. */
  protected override onRegister(): void {
    this.#arm();
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = undefined;
      this.#run().finally(() => this.#arm());
    }, this.exportIntervalMillis);
  }

  /** One collection and export; a second caller waits for the first. */
  #run(): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    const running = this.#collectAndExport().finally(() => {
      this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  async #collectAndExport(): Promise<void> {
    this.#collections++;
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) {
      this.#collectionErrors += errors.length;
    }
    if (resourceMetrics.scopeMetrics.length === 0) return;
    this.#exports++;
    const controller = new AbortController();
    let timedOut = false;
    let timer: unknown;
    const timeout = new Promise<ExportResult>((resolve) => {
      timer = this.#scheduler.setTimeout(() => {
        timedOut = true;
        controller.abort(new Error("metric export timed out"));
        resolve({
          code: "failure",
          retryable: true,
          error: new Error(
            `Metric export did not finish within exportTimeoutMillis (${this.exportTimeoutMillis} ms)`,
          ),
        });
      }, this.exportTimeoutMillis);
    });
    let result: ExportResult;
    try {
      result = await Promise.race([
        Promise.resolve().then(() =>
          this.#exporter.export(resourceMetrics, controller.signal)
        ),
        timeout,
      ]);
    } catch (error) {
      result = {
        code: "failure",
        retryable: false,
        error: error instanceof Error ? error : new Error(String(error)),
      };
    } finally {
      this.#scheduler.clearTimeout(timer);
    }
    if (result.code === "failure") {
      this.#exportFailures++;
      if (timedOut) this.#exportTimeouts++;
      reportDiagnostic(
        this.#diagnostics,
        "PeriodicExportingMetricReader",
        "warn",
        `Metric export failed: ${result.error?.message ?? "unknown error"}`,
        result.error,
      );
    }
  }

  /** Collects and exports once more, then flushes the exporter. */
  protected override async onForceFlush(): Promise<void> {
    if (this.isShutdown) return;
    if (this.#running !== undefined) await this.#running;
    await this.#run();
    await this.#exporter.forceFlush?.();
  }

  /** Stops the timer, collects and exports a last time, shuts the exporter down. */
  protected override async onShutdown(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) {
      this.#scheduler.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#running !== undefined) await this.#running;
    await this.#run();
    await this.#exporter.shutdown();
  }
}
