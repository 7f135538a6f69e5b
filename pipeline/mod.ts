/**
 * The shared pipeline: the OpenTelemetry data model, the logger and tracer
 * providers, the synchronous Processor and asynchronous Exporter contracts,
 * and the processors that bridge them.
 *
 * @example
 * ```ts
 * import { BatchLogRecordProcessor, InMemoryExporter, LoggerProvider, type LogRecordData } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const exporter = new InMemoryExporter<LogRecordData>();
 * await using provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor(exporter)] });
 * provider.getLogger("app").emit({ severityNumber: 9, body: "hello" });
 * await provider.forceFlush();
 * assert.equal(exporter.items.length, 1);
 * ```
 *
 * @module
 */

export {
  type AnyValue,
  type AnyValueMap,
  type AttributeLimits,
  type Attributes,
  AttributeSanitizer,
  DEFAULT_ATTRIBUTE_COUNT_LIMIT,
  isIntValue,
  MAX_VALUE_DEPTH,
  MAX_VALUE_NODES,
  MAX_VALUE_SIZE,
} from "./attributes.ts";
export {
  BatchLogRecordProcessor,
  type BatchProcessorOptions,
  type BatchProcessorStats,
  type BatchScheduler,
  BatchSpanProcessor,
} from "./batch_processor.ts";
export {
  type ConsoleExporterOptions,
  ConsoleLogRecordExporter,
  ConsoleSpanExporter,
  formatLogLine,
  formatSpanLine,
} from "./console_exporter.ts";
export {
  consoleDiagnosticSink,
  type Diagnostic,
  type DiagnosticLevel,
  type DiagnosticSink,
  reportDiagnostic,
} from "./diagnostics.ts";
export {
  type BatchFromEnv,
  type EnvReadOptions,
  type EnvSource,
  type LimitsFromEnv,
  type MetricsFromEnv,
  type OtlpFromEnv,
  processEnvSource,
  type PropagatorName,
  readBatchEnv,
  readBooleanEnv,
  readChoiceEnv,
  readIntegerEnv,
  readKeyValueListEnv,
  readLimitsEnv,
  readMetricsEnv,
  readNameListEnv,
  readOtlpEnv,
  readPropagatorsEnv,
  readSamplerEnv,
  readStringEnv,
  type SamplerName,
} from "./env.ts";
export { type Exporter, ExportError, type ExportResult } from "./exporter.ts";
export {
  ExportingProcessor,
  type ExportingProcessorSettings,
} from "./exporting_processor.ts";
export {
  bytesToHex,
  isValidSpanId,
  isValidTraceId,
  normalizeHexId,
  randomSpanId,
  randomTraceId,
  writeHexId,
} from "./ids.ts";
export { InMemoryExporter } from "./in_memory_exporter.ts";
export {
  EMPTY_ATTRIBUTES,
  LogEmitContext,
  type LogEmitContextOptions,
  type LogRecord,
  type LogRecordData,
  toLogRecordData,
  type ToLogRecordDataOptions,
} from "./logs/log_record.ts";
export {
  Logger,
  type LoggerOptions,
  LoggerProvider,
  type LoggerProviderOptions,
  type LoggerProviderStats,
} from "./logs/logger_provider.ts";
export type { LogRecordProcessor, SpanProcessor } from "./processor.ts";
export {
  defaultResource,
  type DefaultResourceOptions,
  Resource,
  SDK_NAME,
  SDK_VERSION,
} from "./resource.ts";
export { detectRuntime, type RuntimeInfo } from "./runtime.ts";
export type { InstrumentationScope } from "./scope.ts";
export {
  isValidSeverityNumber,
  severityName,
  SeverityNumber,
} from "./logs/severity.ts";
export {
  SimpleLogRecordProcessor,
  type SimpleProcessorOptions,
  SimpleSpanProcessor,
} from "./simple_processor.ts";
export {
  createSpanCounters,
  createSpanSharedState,
  type ReadableSpan,
  Span,
  type SpanCounters,
  type SpanEvent,
  type SpanInit,
  SpanKind,
  type SpanLimits,
  type SpanLink,
  type SpanLinkInput,
  type SpanSharedState,
  type SpanStatus,
  SpanStatusCode,
} from "./trace/span.ts";
export {
  isTrustedSpan,
  ReadableSpanChecker,
  type ReadableSpanCheckStats,
} from "./trace/span_check.ts";
export {
  type ExactTime,
  formatRfc3339,
  formatUnixNano,
  type HrTime,
  isExactTime,
  MAX_UNIX_MS,
  nowExactTime,
  nowUnixNano,
  type TimeInput,
  TimeStatus,
  toExactTime,
  toUnixNano,
  unixNanoToBigInt,
  writeFileTime,
  writeUnixNanoFixed64,
} from "./time.ts";
export {
  activeSpan,
  activeSpanContext,
  formatTraceparent,
  isValidTraceFlags,
  isValidTraceState,
  parseTraceparent,
  sanitizeSpanContext,
  type SpanContext,
  type SpanContextCarrier,
  TRACE_FLAG_SAMPLED,
  type TraceContextCounters,
  withActiveSpan,
} from "./trace_context.ts";
export {
  type StartSpanOptions,
  Tracer,
  type TracerOptions,
  TracerProvider,
  type TracerProviderOptions,
  type TracerProviderStats,
} from "./trace/tracer_provider.ts";
