// The OTLP/JSON mapping of ExportMetricsServiceRequest (protobuf JSON with
// the OTLP rules: lowerCamelCase names, 64-bit integers as decimal strings,
// enums as numbers, trace and span ids as hex).

import type {
  Exemplar,
  ExponentialBuckets,
  MetricData,
  NumberDataPoint,
  ResourceMetrics,
} from "../pipeline/metrics/metric_data.ts";
import {
  int64,
  type Json,
  type JsonObject,
  keyValues,
  resourceJson,
  scopeJson,
} from "./_otlp_json.ts";
import { formatUnixNano, isExactTime } from "../pipeline/time.ts";

function value(out: JsonObject, v: number, asInt: boolean): void {
  if (asInt && Number.isSafeInteger(v)) out.asInt = String(v);
  else out.asDouble = v;
}

function exemplarJson(e: Exemplar, asInt: boolean): JsonObject {
  const out: JsonObject = {
    filteredAttributes: keyValues(e.filteredAttributes),
    timeUnixNano: formatUnixNano(e.timeUnixMs, e.timeNanosInMs),
  };
  value(out, e.value, asInt);
  if (e.spanId !== undefined) out.spanId = e.spanId;
  if (e.traceId !== undefined) out.traceId = e.traceId;
  return out;
}

/** Exact decimal times; an unset (0 + 0) or inexact start is left out. */
function times(
  out: JsonObject,
  p: {
    readonly startTimeUnixMs: number;
    readonly startTimeNanosInMs: number;
    readonly timeUnixMs: number;
    readonly timeNanosInMs: number;
  },
): void {
  const startMs = p.startTimeUnixMs;
  const startNanos = p.startTimeNanosInMs;
  if (
    (startMs !== 0 || startNanos !== 0) && isExactTime(startMs, startNanos)
  ) out.startTimeUnixNano = formatUnixNano(startMs, startNanos);
  out.timeUnixNano = formatUnixNano(p.timeUnixMs, p.timeNanosInMs);
}

function numberPointJson(p: NumberDataPoint, asInt: boolean): JsonObject {
  const out: JsonObject = { attributes: keyValues(p.attributes) };
  times(out, p);
  value(out, p.value, asInt);
  if (p.exemplars.length > 0) {
    out.exemplars = p.exemplars.map((e) => exemplarJson(e, asInt));
  }
  return out;
}

function bucketsJson(b: ExponentialBuckets): JsonObject {
  return { offset: b.offset, bucketCounts: b.bucketCounts.map(int64) };
}

function temporality(t: "delta" | "cumulative"): number {
  return t === "delta" ? 1 : 2;
}

function metricJson(m: MetricData): JsonObject {
  const d = m.descriptor;
  const out: JsonObject = { name: d.name };
  if (d.description !== "") out.description = d.description;
  if (d.unit !== "") out.unit = d.unit;
  const asInt = d.valueType === "int";
  switch (m.dataPointType) {
    case "gauge":
      out.gauge = {
        dataPoints: m.dataPoints.map((p) => numberPointJson(p, asInt)),
      };
      break;
    case "sum":
      out.sum = {
        dataPoints: m.dataPoints.map((p) => numberPointJson(p, asInt)),
        aggregationTemporality: temporality(m.aggregationTemporality),
        isMonotonic: m.isMonotonic,
      };
      break;
    case "histogram":
      out.histogram = {
        dataPoints: m.dataPoints.map((p) => {
          const point: JsonObject = { attributes: keyValues(p.attributes) };
          times(point, p);
          point.count = int64(p.count);
          point.sum = p.sum;
          point.bucketCounts = p.bucketCounts.map(int64);
          point.explicitBounds = p.explicitBounds as Json[];
          if (p.min !== undefined) point.min = p.min;
          if (p.max !== undefined) point.max = p.max;
          if (p.exemplars.length > 0) {
            point.exemplars = p.exemplars.map((e) => exemplarJson(e, asInt));
          }
          return point;
        }),
        aggregationTemporality: temporality(m.aggregationTemporality),
      };
      break;
    case "exponentialHistogram":
      out.exponentialHistogram = {
        dataPoints: m.dataPoints.map((p) => {
          const point: JsonObject = { attributes: keyValues(p.attributes) };
          times(point, p);
          point.count = int64(p.count);
          point.sum = p.sum;
          point.scale = p.scale;
          point.zeroCount = int64(p.zeroCount);
          point.positive = bucketsJson(p.positive);
          point.negative = bucketsJson(p.negative);
          if (p.min !== undefined) point.min = p.min;
          if (p.max !== undefined) point.max = p.max;
          if (p.zeroThreshold !== 0) point.zeroThreshold = p.zeroThreshold;
          if (p.exemplars.length > 0) {
            point.exemplars = p.exemplars.map((e) => exemplarJson(e, asInt));
          }
          return point;
        }),
        aggregationTemporality: temporality(m.aggregationTemporality),
      };
      break;
  }
  return out;
}

/** The `ExportMetricsServiceRequest` of a collection as an OTLP/JSON value. */
export function metricsRequestJson(metrics: ResourceMetrics): JsonObject {
  if (metrics.scopeMetrics.length === 0) return { resourceMetrics: [] };
  const scopes: Json[] = metrics.scopeMetrics.map((s) => {
    const out: JsonObject = {
      scope: scopeJson(s.scope),
      metrics: s.metrics.map(metricJson),
    };
    if (s.scope.schemaUrl) out.schemaUrl = s.scope.schemaUrl;
    return out;
  });
  const resource: JsonObject = {
    resource: resourceJson(metrics.resource),
    scopeMetrics: scopes,
  };
  if (metrics.resource.schemaUrl) {
    resource.schemaUrl = metrics.resource.schemaUrl;
  }
  return { resourceMetrics: [resource] };
}

const encoder = new TextEncoder();

/** Encodes an `ExportMetricsServiceRequest` as UTF-8 OTLP/JSON. */
export function encodeMetricsRequestJson(
  metrics: ResourceMetrics,
): Uint8Array<ArrayBuffer> {
  return encoder.encode(
    JSON.stringify(metricsRequestJson(metrics)),
  ) as Uint8Array<
    ArrayBuffer
  >;
}
