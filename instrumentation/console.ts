/**
 * Console capture (opt-in): `console.trace/debug/log/info/warn/error` calls
 * become log records with the OpenTelemetry severities (trace 1, debug 5,
 * log and info 9, warn 13, error 17), still printed as before. The body is
 * the formatted line (`util.format`, as the console prints it); object
 * arguments are also kept structured in `console.arguments`. The library's
 * own diagnostics (lines starting `[@seed/telemetry]`) and anything printed
 * while a record is being emitted are printed only, never captured, so a
 * failing exporter cannot feed itself.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, LoggerProvider, type LogRecordData, SimpleLogRecordProcessor } from "@seed/telemetry";
 * import { captureConsole } from "@seed/telemetry/console";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * await using loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter)] });
 * {
 *   using _capture = captureConsole({ loggerProvider, print: false });
 *   console.warn("disk at %d%%", 91, { mount: "/" });
 * }
 * await loggerProvider.forceFlush();
 * assert.equal(exporter.items[0].severityNumber, 13);
 * assert.equal(exporter.items[0].body, "disk at 91% { mount: '/' }");
 * ```
 *
 * @module
 */

import { format } from "node:util";
import {
  type AnyValue,
  type Attributes,
  type LoggerProvider,
  SDK_VERSION,
} from "../mod.ts";

/**
 * The console methods that can be captured.
 *
 * @example
 * ```ts
 * import type { ConsoleMethod } from "@seed/telemetry/console";
 * import assert from "node:assert/strict";
 *
 * const methods: ConsoleMethod[] = ["warn", "error"];
 * assert.equal(methods.length, 2);
 * ```
 */
export type ConsoleMethod =
  | "trace"
  | "debug"
  | "log"
  | "info"
  | "warn"
  | "error";

const SEVERITY: Record<ConsoleMethod, [number, string]> = {
  trace: [1, "TRACE"],
  debug: [5, "DEBUG"],
  log: [9, "INFO"],
  info: [9, "INFO"],
  warn: [13, "WARN"],
  error: [17, "ERROR"],
};

const ALL_METHODS: readonly ConsoleMethod[] = [
  "trace",
  "debug",
  "log",
  "info",
  "warn",
  "error",
];

/** The prefix of the library's own diagnostic lines (see `consoleDiagnosticSink`). */
const OWN_PREFIX = "[@seed/telemetry]";

/**
 * Options of {@linkcode captureConsole}.
 *
 * @example
 * ```ts
 * import { LoggerProvider } from "@seed/telemetry";
 * import type { CaptureConsoleOptions } from "@seed/telemetry/console";
 * import assert from "node:assert/strict";
 *
 * const options: CaptureConsoleOptions = { loggerProvider: new LoggerProvider(), methods: ["warn", "error"] };
 * assert.deepEqual(options.methods, ["warn", "error"]);
 * ```
 */
export interface CaptureConsoleOptions {
  /** Where the records go. */
  readonly loggerProvider: LoggerProvider;
  /**
   * The methods captured.
   * @default {["trace", "debug", "log", "info", "warn", "error"]}
   */
  readonly methods?: readonly ConsoleMethod[];
  /**
   * Whether calls are still printed by the original console method.
   * @default {true}
   */
  readonly print?: boolean;
  /**
   * The instrumentation scope name of the records.
   * @default {"console"}
   */
  readonly scopeName?: string;
}

/**
 * Counters and the restore handle of a console capture.
 *
 * @example
 * ```ts
 * import { InMemoryExporter, LoggerProvider, type LogRecordData, SimpleLogRecordProcessor } from "@seed/telemetry";
 * import { captureConsole, type ConsoleCapture } from "@seed/telemetry/console";
 * import assert from "node:assert/strict";
 *
 * const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(new InMemoryExporter<LogRecordData>())] });
 * const capture: ConsoleCapture = captureConsole({ loggerProvider, print: false });
 * console.info("hello");
 * capture.restore();
 * assert.equal(capture.stats.captured, 1);
 * ```
 */
export interface ConsoleCapture extends Disposable {
  /** Puts the original console methods back (once). */
  restore(): void;
  /** Calls captured, and calls skipped (own diagnostics, re-entrant calls, formatting failures). */
  readonly stats: { readonly captured: number; readonly skipped: number };
}

const ACTIVE: unique symbol = Symbol.for("@seed/telemetry/console");

/**
 * Starts capturing console calls into `loggerProvider`. Restore with
 * `restore()` or `using`. Capturing twice is refused with a `TypeError` (restore
 * the first capture first).
 *
 * @param options The logger provider, methods, and whether to keep printing.
 * @returns The capture handle.
 * @throws {TypeError} When `loggerProvider` is missing, a method is unknown, or the console is already captured.
 *
 * @example Calls inside a span carry its trace context
 * ```ts
 * import { InMemoryExporter, LoggerProvider, type LogRecordData, SimpleLogRecordProcessor, TracerProvider } from "@seed/telemetry";
 * import { captureConsole } from "@seed/telemetry/console";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * await using loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter)] });
 * await using tracerProvider = new TracerProvider();
 * using _capture = captureConsole({ loggerProvider, print: false });
 * tracerProvider.getTracer("app").startActiveSpan("work", (span) => {
 *   console.error("failed");
 *   span.end();
 * });
 * await loggerProvider.forceFlush();
 * assert.equal(exporter.items[0].severityText, "ERROR");
 * assert.equal(exporter.items[0].traceId?.length, 32);
 * ```
 */
export function captureConsole(options: CaptureConsoleOptions): ConsoleCapture {
  if (typeof options?.loggerProvider?.getLogger !== "function") {
    throw new TypeError(
      "Cannot capture the console: options.loggerProvider is required (a LoggerProvider)",
    );
  }
  const methods = options.methods ?? ALL_METHODS;
  for (const m of methods) {
    if (!Object.hasOwn(SEVERITY, m)) {
      throw new TypeError(
        `Cannot capture console.${String(m)}: expected one of ${
          ALL_METHODS.join(", ")
        }`,
      );
    }
  }
  const target = console as unknown as Record<string | symbol, unknown>;
  if (target[ACTIVE] === true) {
    throw new TypeError(
      "Cannot capture the console twice: restore() the earlier capture first",
    );
  }
  const logger = options.loggerProvider.getLogger(
    options.scopeName ?? "console",
    SDK_VERSION,
  );
  const print = options.print !== false;
  const stats = { captured: 0, skipped: 0 };
  const originals = new Map<ConsoleMethod, (...args: unknown[]) => void>();
  let emitting = false;
  for (const method of methods) {
    const original = target[method] as (...args: unknown[]) => void;
    originals.set(method, original);
    const [severityNumber, severityText] = SEVERITY[method];
    const captured = function (this: unknown, ...args: unknown[]): void {
      if (print) original.apply(console, args);
      if (emitting) {
        stats.skipped++;
        return;
      }
      emitting = true;
      try {
        if (
          typeof args[0] === "string" && args[0].startsWith(OWN_PREFIX)
        ) {
          stats.skipped++;
          return;
        }
        if (!logger.enabled(severityNumber)) return;
        let body: string;
        try {
          body = format(...args);
        } catch {
          stats.skipped++;
          return;
        }
        let attributes: Attributes | undefined;
        for (let i = 0; i < args.length; i++) {
          const a = args[i];
          if (a !== null && typeof a === "object") {
            attributes = { "console.arguments": args as AnyValue[] };
            break;
          }
        }
        stats.captured++;
        logger.emit({
          severityNumber,
          severityText,
          body: method === "trace" ? `Trace: ${body}` : body,
          attributes,
        });
      } finally {
        emitting = false;
      }
    };
    target[method] = captured;
  }
  target[ACTIVE] = true;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    for (const [method, original] of originals) target[method] = original;
    delete target[ACTIVE];
  };
  return { restore, [Symbol.dispose]: restore, stats };
}
