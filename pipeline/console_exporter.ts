/**
 * Console exporters: one human-readable line per log record or span.
 *
 * @module
 */

import type { AnyValue, Attributes } from "./attributes.ts";
import type { Exporter, ExportResult } from "./exporter.ts";
import type { LogRecordData } from "./logs/log_record.ts";
import { severityName } from "./logs/severity.ts";
import type { ReadableSpan } from "./trace/span.ts";
import { formatRfc3339 } from "./time.ts";

/**
 * Options of the console exporters.
 *
 * @example
 * ```ts
 * import type { ConsoleExporterOptions } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const options: ConsoleExporterOptions = { write: (line) => lines.push(line) };
 * options.write?.("x");
 * assert.deepEqual(lines, ["x"]);
 * ```
 */
export interface ConsoleExporterOptions {
  /**
   * Where each line goes.
   * @default {console.log}
   */
  readonly write?: (line: string) => void;
}

function formatValue(value: AnyValue): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) {
    return `0x${
      Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")
    }`;
  }
  if (value === undefined) return "";
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "bigint" ? v.toString() : v),
  ) ?? "";
}

function formatAttributes(attributes: Attributes): string {
  let out = "";
  for (const key in attributes) {
    const value = attributes[key];
    out += ` ${key}=${
      typeof value === "string" ? JSON.stringify(value) : formatValue(value)
    }`;
  }
  return out;
}

/**
 * Formats a log record as one line: time, severity, scope, body,
 * attributes and trace context.
 *
 * @param record The record.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { formatLogLine, LogEmitContext, Resource, toLogRecordData } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const context = new LogEmitContext(new Resource({}), { name: "shop" });
 * const line = formatLogLine(toLogRecordData({ timestamp: new Date("2026-01-01T00:00:01.002Z"), severityNumber: 9, body: "hi", attributes: { n: 1 } }, context));
 * assert.equal(line, "2026-01-01T00:00:01.002Z INFO  [shop] hi n=1");
 * ```
 */
export function formatLogLine(record: LogRecordData): string {
  const hasTime = record.timeUnixMs !== 0 || record.timeNanosInMs !== 0;
  const time = hasTime
    ? formatRfc3339(record.timeUnixMs, record.timeNanosInMs)
    : formatRfc3339(record.observedTimeUnixMs, record.observedTimeNanosInMs);
  const severity =
    (record.severityText ?? severityName(record.severityNumber) ?? "-").padEnd(
      5,
    );
  let line = `${time} ${severity} [${record.scope.name}]`;
  if (record.eventName !== undefined) line += ` ${record.eventName}:`;
  if (record.body !== undefined) line += ` ${formatValue(record.body)}`;
  line += formatAttributes(record.attributes);
  if (record.traceId !== undefined) {
    line += ` trace_id=${record.traceId} span_id=${record.spanId}`;
  }
  return line;
}

/**
 * Formats an ended span as one line: start time, duration, name, ids,
 * status and attributes.
 *
 * @param span The span.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { formatSpanLine, InMemoryExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<ReadableSpan>();
 * await using provider = new TracerProvider({ processors: [new SimpleSpanProcessor(exporter)] });
 * const start = new Date("2026-01-01T00:00:00Z");
 * provider.getTracer("t").startSpan("GET /", { startTime: start }).end([start.getTime() / 1000, 2_500_000]);
 * await provider.forceFlush();
 * assert.match(formatSpanLine(exporter.items[0]), /^2026-01-01T00:00:00Z 2\.500ms GET \/ /);
 * ```
 */
export function formatSpanLine(span: ReadableSpan): string {
  // Exact: the millisecond difference and the nanosecond difference apart.
  const ms = (span.endTimeUnixMs - span.startTimeUnixMs) +
    (span.endTimeNanosInMs - span.startTimeNanosInMs) / 1e6;
  const status = span.status.code === 2
    ? `ERROR${span.status.message ? `(${span.status.message})` : ""}`
    : span.status.code === 1
    ? "OK"
    : "UNSET";
  return `${formatRfc3339(span.startTimeUnixMs, span.startTimeNanosInMs)} ${
    ms.toFixed(3)
  }ms ${span.name} trace_id=${span.traceId} span_id=${span.spanId}${
    span.parentSpanId ? ` parent_id=${span.parentSpanId}` : ""
  } status=${status}${formatAttributes(span.attributes)}`;
}

/**
 * Writes one line per log record.
 *
 * @example
 * ```ts
 * import { ConsoleLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const exporter = new ConsoleLogRecordExporter({ write: (line) => lines.push(line) });
 * await using provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter)] });
 * provider.getLogger("app").emit({ severityNumber: 13, body: "careful" });
 * await provider.forceFlush();
 * assert.match(lines[0], /WARN  \[app\] careful$/);
 * ```
 */
export class ConsoleLogRecordExporter implements Exporter<LogRecordData> {
  #write: (line: string) => void;

  /**
   * Creates the exporter.
   *
   * @param options Where lines go.
   */
  constructor(options: ConsoleExporterOptions = {}) {
    this.#write = options.write ?? ((line) => console.log(line));
  }

  /**
   * Writes one line per record.
   *
   * @param batch The records.
   * @param _signal Unused.
   * @returns Success.
   */
  export(
    batch: readonly LogRecordData[],
    _signal: AbortSignal,
  ): Promise<ExportResult> {
    for (const record of batch) this.#write(formatLogLine(record));
    return Promise.resolve({ code: "success" });
  }

  /**
   * Nothing to release.
   *
   * @returns Resolves at once.
   */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Writes one line per span.
 *
 * @example
 * ```ts
 * import { ConsoleSpanExporter, SimpleSpanProcessor, TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * await using provider = new TracerProvider({
 *   processors: [new SimpleSpanProcessor(new ConsoleSpanExporter({ write: (line) => lines.push(line) }))],
 * });
 * provider.getTracer("t").startSpan("job").end();
 * await provider.forceFlush();
 * assert.match(lines[0], / job trace_id=/);
 * ```
 */
export class ConsoleSpanExporter implements Exporter<ReadableSpan> {
  #write: (line: string) => void;

  /**
   * Creates the exporter.
   *
   * @param options Where lines go.
   */
  constructor(options: ConsoleExporterOptions = {}) {
    this.#write = options.write ?? ((line) => console.log(line));
  }

  /**
   * Writes one line per span.
   *
   * @param batch The spans.
   * @param _signal Unused.
   * @returns Success.
   */
  export(
    batch: readonly ReadableSpan[],
    _signal: AbortSignal,
  ): Promise<ExportResult> {
    for (const span of batch) this.#write(formatSpanLine(span));
    return Promise.resolve({ code: "success" });
  }

  /**
   * Nothing to release.
   *
   * @returns Resolves at once.
   */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
