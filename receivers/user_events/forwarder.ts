/**
 * The agent model: many processes write cheaply to `user_events`, one
 * process listens and ships. The forwarder runs a
 * {@linkcode UserEventsListener}, rebuilds log records and spans with a
 * {@linkcode UserEventsBridge}, and exports them over OTLP/HTTP through the
 * batch processors.
 *
 * @module
 */

import {
  BatchLogRecordProcessor,
  type BatchProcessorOptions,
  BatchSpanProcessor,
} from "../../pipeline/batch_processor.ts";
import type { BatchProcessorStats } from "../../pipeline/exporting_processor.ts";
import type { Exporter } from "../../pipeline/exporter.ts";
import type { LogRecordData } from "../../pipeline/logs/log_record.ts";
import type { ReadableSpan } from "../../pipeline/trace/span.ts";
import { OtlpHttpLogExporter } from "../../exporters/otlp/log_exporter.ts";
import type { OtlpHttpExporterOptions } from "../../exporters/otlp/options.ts";
import { OtlpHttpSpanExporter } from "../../exporters/otlp/span_exporter.ts";
import {
  openUserEventsListener,
  type UserEventsListener,
  type UserEventsListenerOptions,
  type UserEventsListenerStats,
} from "./listener.ts";
import {
  UserEventsBridge,
  type UserEventsBridgeStats,
} from "./to_telemetry.ts";

/**
 * Options of {@linkcode openUserEventsForwarder}.
 *
 * @example
 * ```ts
 * import type { UserEventsForwarderOptions } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const options: UserEventsForwarderOptions = {
 *   listener: { providers: ["myservice"] },
 *   endpoint: "http://collector:4318",
 * };
 * assert.equal(options.endpoint, "http://collector:4318");
 * ```
 */
export interface UserEventsForwarderOptions {
  /** What to listen to. */
  readonly listener: UserEventsListenerOptions;
  /**
   * The collector's base URL; `/v1/logs` and `/v1/traces` are appended.
   * Ignored for a signal whose exporter is given.
   * @default {"http://localhost:4318"}
   */
  readonly endpoint?: string;
  /**
   * Options of both OTLP/HTTP exporters (their `endpoint` is set from `endpoint`).
   * @default {{}}
   */
  readonly exporter?: Omit<OtlpHttpExporterOptions, "endpoint">;
  /**
   * Options of both batch processors.
   * @default {{}}
   */
  readonly batch?: BatchProcessorOptions;
  /**
   * The log exporter to use instead of OTLP/HTTP.
   * @default {an OtlpHttpLogExporter}
   */
  readonly logExporter?: Exporter<LogRecordData>;
  /**
   * The span exporter to use instead of OTLP/HTTP.
   * @default {an OtlpHttpSpanExporter}
   */
  readonly spanExporter?: Exporter<ReadableSpan>;
}

/**
 * Counters of a forwarder, from kernel to collector:
 * `listener.events = bridge.events`, `bridge.logs = logs.accepted + logs.dropped…`,
 * and `logs.exported` / `spans.exported` reached the collector.
 *
 * @example
 * ```ts
 * import type { UserEventsForwarderStats } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const shipped = (s: UserEventsForwarderStats) => s.logs.exported + s.spans.exported;
 * assert.equal(typeof shipped, "function");
 * ```
 */
export interface UserEventsForwarderStats {
  /** What the kernel handed over, lost, or held malformed. */
  readonly listener: UserEventsListenerStats;
  /** What became log records, spans, or neither. */
  readonly bridge: UserEventsBridgeStats;
  /** The log batch processor. */
  readonly logs: BatchProcessorStats;
  /** The span batch processor. */
  readonly spans: BatchProcessorStats;
}

/**
 * A running listener → bridge → batch processors → OTLP/HTTP pipeline.
 * Open it with {@linkcode openUserEventsForwarder}.
 *
 * @example
 * ```ts ignore
 * import { openUserEventsForwarder } from "@seed/telemetry/user-events/listener";
 *
 * await using forwarder = await openUserEventsForwarder({ listener: { providers: ["myservice"] } });
 * const controller = new AbortController();
 * process.on("SIGTERM", () => controller.abort());
 * await forwarder.run({ signal: controller.signal });
 * ```
 */
export class UserEventsForwarder implements AsyncDisposable {
  /** The listener. */
  readonly listener: UserEventsListener;
  /** The bridge. */
  readonly bridge: UserEventsBridge;
  /** The log batch processor. */
  readonly logProcessor: BatchLogRecordProcessor;
  /** The span batch processor. */
  readonly spanProcessor: BatchSpanProcessor;
  #closed = false;
  #running: Promise<void> | undefined;

  /**
   * Wires the parts; {@linkcode openUserEventsForwarder} builds them.
   *
   * @param listener An open listener.
   * @param logProcessor Receives the log records.
   * @param spanProcessor Receives the spans.
   */
  constructor(
    listener: UserEventsListener,
    logProcessor: BatchLogRecordProcessor,
    spanProcessor: BatchSpanProcessor,
  ) {
    this.listener = listener;
    this.logProcessor = logProcessor;
    this.spanProcessor = spanProcessor;
    this.bridge = new UserEventsBridge({
      logProcessors: [logProcessor],
      spanProcessors: [spanProcessor],
    });
  }

  /** The counters so far. */
  get stats(): UserEventsForwarderStats {
    return {
      listener: this.listener.stats,
      bridge: this.bridge.stats,
      logs: this.logProcessor.stats,
      spans: this.spanProcessor.stats,
    };
  }

  /**
   * Drains the rings into the pipeline once (for callers with their own loop).
   *
   * @returns Events handed over.
   */
  drain(): number {
    return this.listener.drain((e) => this.bridge.handle(e));
  }

  /**
   * Listens until `signal` aborts, then {@linkcode UserEventsForwarder.shutdown}s.
   *
   * @param options `signal` stops it.
   * @returns Resolves once everything was exported or dropped.
   */
  async run(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#running = this.listener.run((e) => this.bridge.handle(e), options);
    await this.#running;
    await this.shutdown();
  }

  /**
   * Stops listening (restoring the writers' enable state), hands the last
   * events on, and shuts the batch processors down (exporting what is
   * queued, within their shutdown timeout). Idempotent.
   *
   * @returns Resolves when done.
   */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.listener.close((e) => this.bridge.handle(e));
    await this.#running;
    await Promise.all([
      this.logProcessor.shutdown(),
      this.spanProcessor.shutdown(),
    ]);
  }

  /** Same as {@linkcode UserEventsForwarder.shutdown}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * Opens a listener and the export pipeline behind it.
 *
 * @param options What to listen to and where to send it.
 * @returns The forwarder, listening.
 * @throws {UserEventsListenerError} When the listener cannot start.
 *
 * @example
 * ```ts ignore
 * import { openUserEventsForwarder } from "@seed/telemetry/user-events/listener";
 *
 * const forwarder = await openUserEventsForwarder({
 *   listener: { providers: ["myservice"], levels: [1, 2, 3, 4] },
 *   endpoint: "http://localhost:4318",
 * });
 * setTimeout(() => forwarder.shutdown(), 10_000);
 * ```
 */
export async function openUserEventsForwarder(
  options: UserEventsForwarderOptions,
): Promise<UserEventsForwarder> {
  const base = (options?.endpoint ?? "http://localhost:4318").replace(
    /\/+$/,
    "",
  );
  const listener = await openUserEventsListener(options?.listener);
  try {
    const logExporter = options.logExporter ??
      new OtlpHttpLogExporter({
        ...options.exporter,
        endpoint: `${base}/v1/logs`,
      });
    const spanExporter = options.spanExporter ??
      new OtlpHttpSpanExporter({
        ...options.exporter,
        endpoint: `${base}/v1/traces`,
      });
    return new UserEventsForwarder(
      listener,
      new BatchLogRecordProcessor(logExporter, options.batch),
      new BatchSpanProcessor(spanExporter, options.batch),
    );
  } catch (error) {
    listener.close();
    throw error;
  }
}
