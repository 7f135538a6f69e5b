// A third-party decoder for what the OTLP exporters send: protobufjs loaded
// with the official OTLP .proto files in tests/testdata/otlp (v0.19), plus
// the fields the protocol gained since, declared with their current numbers.
// Also: helpers that turn decoded messages back into plain values.

import { readFileSync } from "node:fs";
import { dirname, fromFileUrl, join } from "./_path.ts";
import protobuf from "protobufjs";

const here = dirname(fromFileUrl(import.meta.url));
const protoRoot = join(here, "..", "testdata", "otlp");

const files = [
  "opentelemetry/proto/common/v1/common.proto",
  "opentelemetry/proto/resource/v1/resource.proto",
  "opentelemetry/proto/logs/v1/logs.proto",
  "opentelemetry/proto/trace/v1/trace.proto",
  "opentelemetry/proto/collector/logs/v1/logs_service.proto",
  "opentelemetry/proto/collector/trace/v1/trace_service.proto",
  "opentelemetry/proto/metrics/v1/metrics.proto",
  "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
];

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const file of files) {
    protobuf.parse(readFileSync(join(protoRoot, file), "utf8"), root, {
      keepCase: false,
    });
  }
  const add = (typeName: string, field: protobuf.Field) =>
    root.lookupType(typeName).add(field);
  // Added after v0.19 (opentelemetry-proto v0.20 - v1.5):
  add(
    "opentelemetry.proto.common.v1.InstrumentationScope",
    new protobuf.Field("attributes", 3, "KeyValue", "repeated"),
  );
  add(
    "opentelemetry.proto.common.v1.InstrumentationScope",
    new protobuf.Field("droppedAttributesCount", 4, "uint32"),
  );
  add(
    "opentelemetry.proto.logs.v1.LogRecord",
    new protobuf.Field("eventName", 12, "string"),
  );
  add(
    "opentelemetry.proto.trace.v1.Span",
    new protobuf.Field("flags", 16, "fixed32"),
  );
  add(
    "opentelemetry.proto.trace.v1.Span.Link",
    new protobuf.Field("flags", 6, "fixed32"),
  );
  const logsNs = root.lookup(
    "opentelemetry.proto.collector.logs.v1",
  ) as protobuf.Namespace;
  logsNs.add(
    new protobuf.Type("ExportLogsPartialSuccess")
      .add(new protobuf.Field("rejectedLogRecords", 1, "int64"))
      .add(new protobuf.Field("errorMessage", 2, "string")),
  );
  add(
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse",
    new protobuf.Field("partialSuccess", 1, "ExportLogsPartialSuccess"),
  );
  const traceNs = root.lookup(
    "opentelemetry.proto.collector.trace.v1",
  ) as protobuf.Namespace;
  traceNs.add(
    new protobuf.Type("ExportTracePartialSuccess")
      .add(new protobuf.Field("rejectedSpans", 1, "int64"))
      .add(new protobuf.Field("errorMessage", 2, "string")),
  );
  add(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
    new protobuf.Field("partialSuccess", 1, "ExportTracePartialSuccess"),
  );
  add(
    "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
    new protobuf.Field("zeroThreshold", 14, "double"),
  );
  const metricsNs = root.lookup(
    "opentelemetry.proto.collector.metrics.v1",
  ) as protobuf.Namespace;
  metricsNs.add(
    new protobuf.Type("ExportMetricsPartialSuccess")
      .add(new protobuf.Field("rejectedDataPoints", 1, "int64"))
      .add(new protobuf.Field("errorMessage", 2, "string")),
  );
  add(
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse",
    new protobuf.Field("partialSuccess", 1, "ExportMetricsPartialSuccess"),
  );
  root.resolveAll();
  return root;
}

export const root: protobuf.Root = buildRoot();
export const LogsRequest: protobuf.Type = root.lookupType(
  "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
);
export const TraceRequest: protobuf.Type = root.lookupType(
  "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
);
export const MetricsRequest: protobuf.Type = root.lookupType(
  "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
);
export const MetricsResponse: protobuf.Type = root.lookupType(
  "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse",
);
export const LogsResponse: protobuf.Type = root.lookupType(
  "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse",
);
export const TraceResponse: protobuf.Type = root.lookupType(
  "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
);

// deno-lint-ignore no-explicit-any
export type Decoded = any;

const toObjectOptions: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: Array,
  defaults: false,
};

/** Decodes an ExportLogsServiceRequest into a plain object (int64 as strings, bytes as number arrays). */
export function decodeLogs(bytes: Uint8Array): Decoded {
  return LogsRequest.toObject(LogsRequest.decode(bytes), toObjectOptions);
}

/** Decodes an ExportMetricsServiceRequest into a plain object. */
export function decodeMetrics(bytes: Uint8Array): Decoded {
  return MetricsRequest.toObject(MetricsRequest.decode(bytes), toObjectOptions);
}

/** Decodes an ExportTraceServiceRequest into a plain object. */
export function decodeTrace(bytes: Uint8Array): Decoded {
  return TraceRequest.toObject(TraceRequest.decode(bytes), toObjectOptions);
}

/** Encodes a response message with protobufjs (for the fake collector). */
export function encodeResponse(
  type: protobuf.Type,
  value: Record<string, unknown>,
): Uint8Array {
  return type.encode(type.fromObject(value)).finish();
}

/** Lowercase hex of a decoded bytes field. */
export function hex(bytes: number[] | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Turns a decoded AnyValue back into the library's value: int → number when
 * safe else bigint, bytes → Uint8Array, kvlist → object, empty → null.
 */
export function plainValue(v: Decoded): unknown {
  if (v === undefined) return undefined;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) {
    const big = BigInt(v.intValue);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) &&
        big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }
  if ("doubleValue" in v) return v.doubleValue;
  if ("bytesValue" in v) return new Uint8Array(v.bytesValue);
  if ("arrayValue" in v) return (v.arrayValue.values ?? []).map(plainValue);
  if ("kvlistValue" in v) return plainAttributes(v.kvlistValue.values);
  return null;
}

/** Turns decoded KeyValues into an attributes object. */
export function plainAttributes(
  kvs: Decoded[] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) {
    // An own property even for "__proto__" (proto3: "" is absent).
    Object.defineProperty(out, kv.key ?? "", {
      value: plainValue(kv.value),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return out;
}
