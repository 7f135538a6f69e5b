/**
 * A LogTape sink (LogTape stays an optional peer; its record is typed
 * structurally here): each LogTape record becomes a log record of this
 * pipeline, synchronously, batched like every other record by the
 * provider's processors. The category becomes the instrumentation scope
 * (`"app.db"`), the level the severity (trace 1, debug 5, info 9,
 * warning 13, error 17, fatal 21), the rendered message the body with the
 * template kept in `message.template`, the properties the attributes, and
 * the trace context comes from the active span.
 *
 * Nothing is dropped during start-up: the sink is ready when it is created
 * (no lazy, asynchronous exporter start), so the first record logged after
 * `configure()` is queued like the thousandth.
 *
 * @example
 * ```ts
 * import { configure, getLogger, reset } from "@logtape/logtape";
 * import { InMemoryExporter, LoggerProvider, type LogRecordData, SimpleLogRecordProcessor } from "@seed/telemetry";
 * import { logTapeSink } from "@seed/telemetry/logtape";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * await using loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter)] });
 * await configure({
 *   sinks: { otel: logTapeSink({ loggerProvider }) },
 *   loggers: [{ category: ["app"], sinks: ["otel"], lowestLevel: "debug" }, { category: ["logtape", "meta"], sinks: [] }],
 * });
 * getLogger(["app", "db"]).info("Connected to {host}", { host: "db1" });
 * await reset();
 * assert.equal(exporter.items[0].body, 'Connected to db1');
 * assert.equal(exporter.items[0].scope.name, "app.db");
 * assert.equal(exporter.items[0].attributes["message.template"], "Connected to {host}");
 * assert.equal(exporter.items[0].attributes.host, "db1");
 * ```
 *
 * @module
 */

import type { AnyValue, Logger, LoggerProvider } from "../mod.ts";

/**
 * The part of LogTape's `LogRecord` the sink reads.
 *
 * @example
 * ```ts
 * import type { LogTapeRecord } from "@seed/telemetry/logtape";
 * import assert from "node:assert/strict";
 *
 * const record: LogTapeRecord = {
 *   category: ["app"], level: "info", message: ["hello ", "world", ""], rawMessage: "hello {who}",
 *   timestamp: Date.now(), properties: { who: "world" },
 * };
 * assert.equal(record.level, "info");
 * ```
 */
export interface LogTapeRecord {
  /** The logger's category. */
  readonly category: readonly string[];
  /** `"trace"`, `"debug"`, `"info"`, `"warning"`, `"error"` or `"fatal"`. */
  readonly level: string;
  /** The message: literal parts at even indices, values at odd ones. */
  readonly message: readonly unknown[];
  /** The template as written (a string or the template literal's strings). */
  readonly rawMessage: string | TemplateStringsArray;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** The structured properties. */
  readonly properties: Record<string, unknown>;
}

/**
 * Options of {@linkcode logTapeSink}.
 *
 * @example
 * ```ts
 * import { LoggerProvider } from "@seed/telemetry";
 * import type { LogTapeSinkOptions } from "@seed/telemetry/logtape";
 * import assert from "node:assert/strict";
 *
 * const options: LogTapeSinkOptions = { loggerProvider: new LoggerProvider(), category: "attribute" };
 * assert.equal(options.category, "attribute");
 * ```
 */
export interface LogTapeSinkOptions {
  /** Where the records go. */
  readonly loggerProvider: LoggerProvider;
  /**
   * Where the category goes: the instrumentation scope name (joined with
   * `.`), or the `logtape.category` attribute under one `"logtape"` scope.
   * @default {"scope"}
   */
  readonly category?: "scope" | "attribute";
}

/**
 * A LogTape sink function that also flushes the provider when LogTape
 * disposes its sinks (`reset()` / `dispose()`).
 *
 * @example
 * ```ts
 * import { LoggerProvider } from "@seed/telemetry";
 * import { type LogTapeSink, logTapeSink } from "@seed/telemetry/logtape";
 * import assert from "node:assert/strict";
 *
 * const sink: LogTapeSink = logTapeSink({ loggerProvider: new LoggerProvider() });
 * assert.equal(typeof sink[Symbol.asyncDispose], "function");
 * ```
 */
export type LogTapeSink = ((record: LogTapeRecord) => void) & AsyncDisposable;

const LEVELS: Record<string, [number, string]> = {
  trace: [1, "TRACE"],
  debug: [5, "DEBUG"],
  info: [9, "INFO"],
  warning: [13, "WARN"],
  error: [17, "ERROR"],
  fatal: [21, "FATAL"],
};

function render(message: readonly unknown[]): string {
  let out = "";
  for (let i = 0; i < message.length; i++) {
    const part = message[i];
    if (typeof part === "string") out += part;
    else if (part === undefined) out += i % 2 === 0 ? "" : "undefined";
    else {
      try {
        out += typeof part === "object" && part !== null
          ? JSON.stringify(part) ?? String(part)
          : String(part);
      } catch {
        out += Object.prototype.toString.call(part);
      }
    }
  }
  return out;
}

function template(raw: string | TemplateStringsArray): string {
  return typeof raw === "string" ? raw : raw.join("{}");
}

/**
 * Creates the sink. Register it in LogTape's `configure({ sinks })`.
 * It never throws into LogTape: a record it cannot read is skipped and
 * counted in `stats.skipped`.
 *
 * @param options The logger provider and where the category goes.
 * @returns The sink.
 * @throws {TypeError} When `loggerProvider` is missing.
 *
 * @example Records inside a span carry its trace context
 * ```ts
 * import { InMemoryExporter, LoggerProvider, type LogRecordData, SimpleLogRecordProcessor, TracerProvider } from "@seed/telemetry";
 * import { logTapeSink } from "@seed/telemetry/logtape";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * await using loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter)] });
 * await using tracerProvider = new TracerProvider();
 * const sink = logTapeSink({ loggerProvider, category: "attribute" });
 * tracerProvider.getTracer("app").startActiveSpan("job", (span) => {
 *   sink({ category: ["jobs"], level: "warning", message: ["slow"], rawMessage: "slow", timestamp: Date.now(), properties: {} });
 *   span.end();
 * });
 * await loggerProvider.forceFlush();
 * assert.equal(exporter.items[0].severityNumber, 13);
 * assert.equal(exporter.items[0].attributes["logtape.category"], "jobs");
 * assert.equal(exporter.items[0].spanId?.length, 16);
 * ```
 */
export function logTapeSink(
  options: LogTapeSinkOptions,
): LogTapeSink & { readonly stats: { emitted: number; skipped: number } } {
  const provider = options?.loggerProvider;
  if (typeof provider?.getLogger !== "function") {
    throw new TypeError(
      "Cannot create the LogTape sink: options.loggerProvider is required (a LoggerProvider)",
    );
  }
  const asAttribute = options.category === "attribute";
  const loggers = new Map<string, Logger>();
  const single = asAttribute ? provider.getLogger("logtape") : undefined;
  const stats = { emitted: 0, skipped: 0 };
  const sink = (record: LogTapeRecord): void => {
    try {
      const name = Array.isArray(record.category)
        ? record.category.join(".")
        : String(record.category);
      let logger = single;
      if (logger === undefined) {
        logger = loggers.get(name);
        if (logger === undefined) {
          // Bounded: categories are code-defined, but a pathological caller
          // making one per request must not grow the map without end.
          if (loggers.size >= 1024) loggers.clear();
          logger = provider.getLogger(name === "" ? "logtape" : name);
          loggers.set(name, logger);
        }
      }
      const [severityNumber, severityText] = LEVELS[record.level] ??
        [0, String(record.level)];
      if (!logger.enabled(severityNumber)) return;
      const attributes: Record<string, AnyValue> = {};
      const props = record.properties;
      if (props !== null && typeof props === "object") {
        for (const key of Object.keys(props)) {
          attributes[key] = props[key] as AnyValue;
        }
      }
      attributes["message.template"] = template(record.rawMessage);
      if (asAttribute) attributes["logtape.category"] = name;
      stats.emitted++;
      logger.emit({
        timestamp: Number.isFinite(record.timestamp)
          ? BigInt(Math.round(record.timestamp * 1e6))
          : undefined,
        severityNumber,
        severityText,
        body: render(record.message),
        attributes,
      });
    } catch {
      stats.skipped++;
    }
  };
  return Object.assign(sink, {
    stats,
    [Symbol.asyncDispose]: () => provider.forceFlush(),
  });
}
