/**
 * The logs entry point: a {@linkcode LoggerProvider} owns the resource and the
 * processors, and hands out {@linkcode Logger}s, one per instrumentation
 * scope. `Logger.emit` calls every processor synchronously and allocates
 * nothing itself.
 *
 * @module
 */

import { type AttributeLimits, AttributeSanitizer } from "../attributes.ts";
import {
  ProviderCore,
  readScopeArgs,
  scopeKey,
  scopeOf,
} from "../_dispatch.ts";
import type { EnvReadOptions } from "../env.ts";
import type { DiagnosticSink } from "../diagnostics.ts";
import { readLimitsEnv } from "../env.ts";
import { LogEmitContext, type LogRecord } from "./log_record.ts";
import type { LogRecordProcessor } from "../processor.ts";
import type { Resource } from "../resource.ts";
import type { Attributes } from "../attributes.ts";

/**
 * Options of {@linkcode LoggerProvider}.
 *
 * @example
 * ```ts
 * import { type LoggerProviderOptions, Resource } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: LoggerProviderOptions = { resource: new Resource({ "service.name": "api" }), limits: { attributeCountLimit: 32 } };
 * assert.equal(options.limits?.attributeCountLimit, 32);
 * ```
 */
export interface LoggerProviderOptions extends EnvReadOptions {
  /**
   * The resource shared by every record.
   * @default {defaultResource(): SDK, runtime, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME}
   */
  readonly resource?: Resource;
  /**
   * The processors, called in order for every record.
   * @default {[]}
   */
  readonly processors?: readonly LogRecordProcessor[];
  /**
   * Attribute limits; unset fields come from `OTEL_LOGRECORD_ATTRIBUTE_*` / `OTEL_ATTRIBUTE_*`.
   * @default {{ attributeCountLimit: 128, attributeValueLengthLimit: Infinity }}
   */
  readonly limits?: AttributeLimits;
  /**
   * Turns the SDK off: loggers emit nothing and `enabled()` is `false`.
   * @default {OTEL_SDK_DISABLED, else false}
   */
  readonly disabled?: boolean;
  /**
   * Where processor errors and bad environment values are reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * Options of {@linkcode LoggerProvider.getLogger}.
 *
 * @example
 * ```ts
 * import type { LoggerOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: LoggerOptions = { schemaUrl: "https://opentelemetry.io/schemas/1.30.0" };
 * assert.ok(options.schemaUrl);
 * ```
 */
export interface LoggerOptions {
  /** The scope's schema URL. */
  readonly schemaUrl?: string;
  /** The scope's attributes. */
  readonly attributes?: Attributes;
}

/**
 * Counters of a logger provider.
 *
 * @example
 * ```ts
 * import { LoggerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * await using provider = new LoggerProvider();
 * assert.equal(provider.stats.processorErrors, 0);
 * ```
 */
export interface LoggerProviderStats {
  /** Errors thrown by processors on the hot path (contained, never rethrown). */
  readonly processorErrors: number;
  /** Records emitted after `shutdown()`: dropped before any processor. */
  readonly recordsAfterShutdown: number;
  /** `emit` calls whose record was not an object: dropped before any processor. */
  readonly invalidRecords: number;
  /** `getLogger` calls whose arguments could not be read or were not strings. */
  readonly apiErrors: number;
  /** Values (bodies, attribute sets) cut at `MAX_VALUE_NODES` / `MAX_VALUE_SIZE`. */
  readonly cutValues: number;
  /** Record trace contexts dropped as invalid, or whose flags were replaced by 0. */
  readonly invalidTraceContexts: number;
  /** Record fields of the wrong type or range (severity number, severity text, event name, times that throw), left out. */
  readonly invalidFields: number;
  /** Attributes dropped by the count limit. */
  readonly attributesOverLimit: number;
  /** Values dropped because they cannot be represented. */
  readonly invalidValues: number;
  /** Values converted to a representable kind. */
  readonly convertedValues: number;
  /** Strings and bytes cut to the value length limit. */
  readonly truncatedValues: number;
  /**
   * Times (`timestamp`, `observedTimestamp`) out of range or malformed,
   * treated as not given: a timestamp stays unset, an observed time becomes
   * now (see `toExactTime`).
   */
  readonly invalidTimes: number;
}

/**
 * Emits log records to the provider's processors.
 *
 * @example Ask first, then emit
 * ```ts
 * import { InMemoryExporter, LoggerProvider, type LogRecordData, SeverityNumber, SimpleLogRecordProcessor } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * await using provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter)] });
 * const logger = provider.getLogger("checkout", "1.0.0");
 * if (logger.enabled(SeverityNumber.INFO)) {
 *   logger.emit({ severityNumber: SeverityNumber.INFO, body: "order placed", attributes: { "order.id": 42 } });
 * }
 * await provider.forceFlush();
 * assert.equal(exporter.items[0].attributes["order.id"], 42);
 * ```
 */
export class Logger {
  /** The resource, scope and sanitizer handed to processors with each record. */
  readonly context: LogEmitContext;
  #core: ProviderCore<LogRecordProcessor>;
  #processors: readonly LogRecordProcessor[];
  #single: LogRecordProcessor | undefined;

  /**
   * Creates a logger. Use {@linkcode LoggerProvider.getLogger} instead.
   *
   * @param core The provider's shared state.
   * @param context The logger's emit context.
   */
  constructor(core: ProviderCore<LogRecordProcessor>, context: LogEmitContext) {
    this.#core = core;
    this.context = context;
    this.#processors = core.disabled ? [] : core.processors;
    this.#single = this.#processors.length === 1
      ? this.#processors[0]
      : undefined;
  }

  /**
   * Hands the record to every processor, synchronously. Never throws; a
   * processor that throws is counted and reported. A record emitted after
   * `shutdown()` is counted in `recordsAfterShutdown`, one that is not an
   * object in `invalidRecords`; neither reaches a processor.
   *
   * @param record The record.
   */
  emit(record: LogRecord): void {
    if (this.#core.shutDown) {
      this.#core.afterShutdown++;
      return;
    }
    if (record === null || typeof record !== "object") {
      this.#core.invalidRecords++;
      return;
    }
    const single = this.#single;
    if (single !== undefined) {
      // The common case: no fan-out bookkeeping, so a processor that returns
      // at once (a user_events tracepoint nobody listens to) costs one call.
      try {
        single.onEmit(record, this.context);
      } catch (error) {
        this.#core.processorThrew(single, error);
      }
      return;
    }
    const processors = this.#processors;
    const context = this.context;
    context.beginFanOut();
    for (let i = 0; i < processors.length; i++) {
      try {
        processors[i].onEmit(record, context);
      } catch (error) {
        this.#core.processorThrew(processors[i], error);
      }
    }
    context.endFanOut();
  }

  /**
   * The OpenTelemetry `Enabled` API: would a record of this severity and
   * event name be processed by at least one processor? Ask it before
   * building an expensive record.
   *
   * @param severityNumber The severity (1-24), if known.
   * @param eventName The event name, if any.
   * @returns `false` when every processor would drop it, the SDK is disabled or shut down.
   */
  enabled(severityNumber?: number, eventName?: string): boolean {
    if (this.#core.shutDown) return false;
    const single = this.#single;
    if (single !== undefined) {
      if (single.enabled === undefined) return true;
      try {
        return !!single.enabled(severityNumber, eventName, this.context);
      } catch (error) {
        this.#core.processorThrew(single, error);
        return false;
      }
    }
    const processors = this.#processors;
    for (let i = 0; i < processors.length; i++) {
      const p = processors[i];
      try {
        if (
          p.enabled === undefined ||
          p.enabled(severityNumber, eventName, this.context)
        ) return true;
      } catch (error) {
        this.#core.processorThrew(p, error);
      }
    }
    return false;
  }
}

/**
 * Owns the resource and processors of logs, and hands out loggers.
 * `await using` (or `shutdown()`) flushes and shuts every processor down.
 *
 * @example
 * ```ts
 * import { BatchLogRecordProcessor, ConsoleLogRecordExporter, LoggerProvider } from "@seed/telemetry";
 *
 * await using provider = new LoggerProvider({
 *   processors: [new BatchLogRecordProcessor(new ConsoleLogRecordExporter())],
 * });
 * provider.getLogger("app").emit({ severityNumber: 9, body: "started" });
 * ```
 */
export class LoggerProvider {
  /** The resource shared by every record. */
  readonly resource: Resource;
  #core: ProviderCore<LogRecordProcessor>;
  #sanitizer: AttributeSanitizer;
  #loggers = new Map<string, Logger>();

  /**
   * Creates a provider.
   *
   * @param options Resource, processors, limits, environment.
   * @throws {TypeError} When a processor is not an object.
   * @throws {RangeError} When a limit is negative or not an integer.
   */
  constructor(options: LoggerProviderOptions = {}) {
    this.#core = new ProviderCore(
      "LoggerProvider",
      options,
      options.processors,
    );
    this.resource = this.#core.resource;
    const env = readLimitsEnv("logs", options);
    this.#sanitizer = new AttributeSanitizer({
      attributeCountLimit: options.limits?.attributeCountLimit ??
        env.attributeCountLimit,
      attributeValueLengthLimit: options.limits?.attributeValueLengthLimit ??
        env.attributeValueLengthLimit,
    });
  }

  /** Whether the SDK is disabled (option or `OTEL_SDK_DISABLED`). */
  get disabled(): boolean {
    return this.#core.disabled;
  }

  /** The counters, as of now. */
  get stats(): LoggerProviderStats {
    const s = this.#sanitizer;
    return {
      processorErrors: this.#core.processorErrors,
      recordsAfterShutdown: this.#core.afterShutdown,
      invalidRecords: this.#core.invalidRecords,
      apiErrors: this.#core.apiErrors,
      cutValues: s.cut,
      invalidTraceContexts: s.invalidTraceContexts,
      invalidFields: s.invalidFields,
      attributesOverLimit: s.overLimit,
      invalidValues: s.invalid,
      convertedValues: s.converted,
      truncatedValues: s.truncated,
      invalidTimes: s.invalidTimes,
    };
  }

  /**
   * Returns the logger of one instrumentation scope (the same object for the
   * same name, version and schema URL).
   *
   * @param name The scope's name.
   * @param version The scope's version.
   * @param options The scope's schema URL and attributes.
   * @returns The logger.
   */
  getLogger(
    name: string,
    version?: string,
    options?: LoggerOptions,
  ): Logger {
    const args = readScopeArgs(name, version, options);
    if (args.invalid) this.#core.apiErrors++;
    const key = scopeKey(args.name, args.version, args.schemaUrl);
    let logger = this.#loggers.get(key);
    if (logger === undefined) {
      const scope = scopeOf(args, options);
      logger = new Logger(
        this.#core,
        new LogEmitContext(this.resource, scope, {
          sanitizer: this.#sanitizer,
          diagnostics: this.#core.diagnostics,
        }),
      );
      this.#loggers.set(key, logger);
    }
    return logger;
  }

  /**
   * Flushes every processor.
   *
   * @returns Resolves when all are flushed.
   * @throws {Error} What a processor's `forceFlush` rejected with.
   */
  forceFlush(): Promise<void> {
    return this.#core.forceFlush();
  }

  /**
   * Stops emitting, then flushes and shuts down every processor. Idempotent.
   *
   * @returns Resolves when all are shut down.
   * @throws {Error} What a processor's `shutdown` rejected with.
   */
  shutdown(): Promise<void> {
    return this.#core.shutdown();
  }

  /** Shuts down; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
