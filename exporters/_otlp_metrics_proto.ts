// The OTLP protobuf encoder of the metrics signal: ExportMetricsServiceRequest
// written straight from a collection into the shared writer of
// `_proto_writer.ts` (its buffer, length back-patching, strings, key-values,
// resource and scope), so the three signals share one protobuf writer.
//
// Messages and field numbers: opentelemetry-proto
// `opentelemetry/proto/metrics/v1/metrics.proto` and
// `collector/metrics/v1/metrics_service.proto`:
// ExportMetricsServiceRequest: 1 resource_metrics.
// ResourceMetrics: 1 resource, 2 scope_metrics, 3 schema_url.
// ScopeMetrics: 1 scope, 2 metrics, 3 schema_url.
// Metric: 1 name, 2 description, 3 unit, 5 gauge, 7 sum, 9 histogram,
//   10 exponential_histogram.
// Gauge: 1 data_points. Sum: 1 data_points, 2 aggregation_temporality,
//   3 is_monotonic. Histogram / ExponentialHistogram: 1 data_points,
//   2 aggregation_temporality (1 DELTA, 2 CUMULATIVE).
// NumberDataPoint: 2 start_time_unix_nano, 3 time_unix_nano (fixed64),
//   4 as_double, 5 exemplars, 6 as_int (sfixed64), 7 attributes, 8 flags.
// HistogramDataPoint: 2 start, 3 time, 4 count (fixed64), 5 sum (double),
//   6 bucket_counts (packed fixed64), 7 explicit_bounds (packed double),
//   8 exemplars, 9 attributes, 10 flags, 11 min, 12 max.
// ExponentialHistogramDataPoint: 1 attributes, 2 start, 3 time, 4 count,
//   5 sum, 6 scale (sint32), 7 zero_count (fixed64), 8 positive, 9 negative,
//   10 flags, 11 exemplars, 12 min, 13 max, 14 zero_threshold.
// Buckets: 1 offset (sint32), 2 bucket_counts (packed uint64).
// Exemplar: 2 time_unix_nano, 3 as_double, 4 span_id, 5 trace_id,
//   6 as_int, 7 filtered_attributes.

import { isValidSpanId, isValidTraceId } from "../pipeline/ids.ts";
import type {
  Exemplar,
  ExponentialBuckets,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  MetricData,
  NumberDataPoint,
  ResourceMetrics,
} from "../pipeline/metrics/metric_data.ts";
import type { Attributes } from "../pipeline/attributes.ts";
import type { Resource } from "../pipeline/resource.ts";
import {
  ATTRIBUTES_MEMO,
  AttributesMemo,
  type MemoizedAttributes,
} from "../pipeline/metrics/_attributes_memo.ts";
import { writeUnixNanoFixed64 } from "../pipeline/time.ts";
import type { InstrumentationScope } from "../pipeline/scope.ts";
import {
  bind,
  buf,
  cap,
  grow,
  patchLength,
  type ProtoBuffer,
  putFixed64,
  putHexId,
  putInt64,
  putKeyValues,
  putResource,
  putScope,
  putTagString,
  putTime,
  putVarint32,
  view,
} from "./_proto_writer.ts";

function ensure(pos: number, n: number): void {
  if (pos + n > cap) grow(pos, n);
}

/** Attribute sets longer than this on the wire are encoded each time. */
const MAX_MEMO_BYTES = 512;

/**
 * The memo of the point being written (see `putPointAttributes`), or
 * `undefined`: `putTimes` keeps the series' start time there.
 */
let pointMemo: AttributesMemo | undefined;

/**
 * Writes a point's attributes as KeyValue fields with tag byte `tag`. A
 * series' own attributes (frozen, with a memo; see `_attributes_memo.ts`)
 * are encoded once and copied from the memo afterwards: they cannot change,
 * and every collection exports them again. Sets with a non-primitive value
 * (an array's items could change) are never memoized.
 */
function putPointAttributes(
  pos: number,
  attributes: Attributes,
  tag: number,
): number {
  const memo = (attributes as MemoizedAttributes)[ATTRIBUTES_MEMO];
  if (!(memo instanceof AttributesMemo) || memo.owner !== attributes) {
    pointMemo = undefined;
    return putKeyValues(pos, attributes, tag, 0);
  }
  pointMemo = memo;
  if (memo.tag === tag) {
    // Four bytes per store, the last one possibly past the set's end (room
    // is made for it; the times written next overwrite it): 12-15 ns for
    // 41 bytes, against 17-32 ns for one Uint8Array.set and 75 ns for
    // reading the bytes back from a string (V8).
    const words = memo.words;
    const n = words.length;
    ensure(pos, n * 4);
    const v = view;
    for (let i = 0; i < n; i++) v.setInt32(pos + i * 4, words[i], true);
    return pos + memo.size;
  }
  const end = putKeyValues(pos, attributes, tag, 0);
  const size = end - pos;
  if (size <= MAX_MEMO_BYTES && primitivesOnly(attributes)) {
    const words = new Int32Array((size + 3) >> 2);
    ensure(end, 4);
    const v = view;
    for (let i = 0; i < words.length; i++) {
      words[i] = v.getInt32(pos + i * 4, true); // the tail: don't-care bytes
    }
    memo.words = words;
    memo.size = size;
    memo.tag = tag;
  }
  return end;
}

function primitivesOnly(attributes: Attributes): boolean {
  for (const key in attributes) {
    const value = attributes[key];
    const type = typeof value;
    if (type !== "string" && type !== "number" && type !== "boolean") {
      if (type !== "undefined") return false;
    }
  }
  return true;
}

/** Writes an sfixed64 from a safe integer. */
function putSfixed64(pos: number, v: number): number {
  if (v >= 0) return putFixed64(pos, v);
  const hi = Math.floor(v / 4294967296);
  view.setUint32(pos, v - hi * 4294967296, true);
  view.setUint32(pos + 4, hi >>> 0, true);
  return pos + 8;
}

function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function putValue(
  pos: number,
  value: number,
  asInt: boolean,
  intTag: number,
  doubleTag: number,
): number {
  ensure(pos, 10);
  if (asInt && Number.isSafeInteger(value)) {
    buf[pos] = intTag;
    return putSfixed64(pos + 1, value);
  }
  buf[pos] = doubleTag;
  view.setFloat64(pos + 1, value, true);
  return pos + 9;
}

function putExemplar(
  pos: number,
  tag: number,
  e: Exemplar,
  asInt: boolean,
): number {
  ensure(pos, 64);
  buf[pos] = tag;
  const len = pos + 1;
  let p = len + 1;
  p = putKeyValues(p, e.filteredAttributes, 0x3a, 0);
  ensure(p, 48);
  buf[p] = 0x11;
  p = writeUnixNanoFixed64(view, p + 1, e.timeUnixMs, e.timeNanosInMs);
  p = putValue(p, e.value, asInt, 0x31, 0x19);
  ensure(p, 32);
  if (e.spanId !== undefined && isValidSpanId(e.spanId)) {
    buf[p] = 0x22;
    buf[p + 1] = 8;
    p = putHexId(p + 2, e.spanId);
  }
  if (e.traceId !== undefined && isValidTraceId(e.traceId)) {
    buf[p] = 0x2a;
    buf[p + 1] = 16;
    p = putHexId(p + 2, e.traceId);
  }
  return patchLength(len, 1, p);
}

// The last start and end time written, and their fixed64 halves: the points
// of one collection share their end time, and consecutive points often
// share their start, so most points copy 16 bytes instead of converting two
// times. Typed arrays, not module variables: storing a double (a time's ms,
// a uint32 half) into a module variable allocates a number box each time on
// V8. Only numbers are kept; anything else a hand-made point holds is
// converted (and refused) each time, as NaN, which never matches.
const timesSeen = new Float64Array([NaN, NaN, NaN, NaN]); // start ms, ns, end ms, ns
const halves = new Uint32Array(4); // start lo, hi, end lo, hi
let startSet = false; // whether the last start was written (set and exact)

/**
 * Writes start_time_unix_nano (2) when set and exact, and time_unix_nano (3)
 * always (an inexact pair as 0), both exact fixed64.
 */
function putTimes(
  pos: number,
  startMs: number,
  startNanos: number,
  ms: number,
  nanos: number,
): number {
  ensure(pos, 18);
  const v = view;
  const seen = timesSeen;
  const h = halves;
  if (startMs !== seen[0] || startNanos !== seen[1]) {
    // Not the last point's start: the series' own (from its memo), or
    // converted (and kept in the memo).
    const numbers = typeof startMs === "number" &&
      typeof startNanos === "number";
    seen[0] = numbers ? startMs : NaN;
    seen[1] = numbers ? startNanos : NaN;
    const memo = pointMemo;
    if (
      memo !== undefined && startMs === memo.startMs &&
      startNanos === memo.startNanos
    ) {
      startSet = memo.startSet;
      h[0] = memo.startLo;
      h[1] = memo.startHi;
    } else {
      startSet = putTime(pos, 0x11, startMs, startNanos) !== pos;
      if (startSet) {
        h[0] = v.getUint32(pos + 1, true);
        h[1] = v.getUint32(pos + 5, true);
      }
      if (memo !== undefined && numbers) {
        memo.startMs = startMs;
        memo.startNanos = startNanos;
        memo.startSet = startSet;
        memo.startLo = h[0];
        memo.startHi = h[1];
      }
    }
  }
  if (startSet) {
    buf[pos] = 0x11;
    v.setUint32(pos + 1, h[0], true);
    v.setUint32(pos + 5, h[1], true);
    pos += 9;
  }
  buf[pos] = 0x19;
  if (ms !== seen[2] || nanos !== seen[3]) {
    writeUnixNanoFixed64(v, pos + 1, ms, nanos);
    const numbers = typeof ms === "number" && typeof nanos === "number";
    seen[2] = numbers ? ms : NaN;
    seen[3] = numbers ? nanos : NaN;
    h[2] = v.getUint32(pos + 1, true);
    h[3] = v.getUint32(pos + 5, true);
  } else {
    v.setUint32(pos + 1, h[2], true);
    v.setUint32(pos + 5, h[3], true);
  }
  return pos + 9;
}

function putNumberPoint(
  pos: number,
  p: NumberDataPoint,
  asInt: boolean,
): number {
  ensure(pos, 8);
  buf[pos] = 0x0a; // Gauge/Sum.data_points
  const len = pos + 1;
  // One length byte reserved: most points are under 128 bytes, so the
  // patch below rarely has to move the point.
  let q = putPointAttributes(len + 1, p.attributes, 0x3a);
  q = putTimes(
    q,
    p.startTimeUnixMs,
    p.startTimeNanosInMs,
    p.timeUnixMs,
    p.timeNanosInMs,
  );
  q = putValue(q, p.value, asInt, 0x31, 0x21);
  const exemplars = p.exemplars;
  for (let i = 0; i < exemplars.length; i++) {
    q = putExemplar(q, 0x2a, exemplars[i], asInt);
  }
  return patchLength(len, 1, q);
}

function putDouble(pos: number, tag: number, v: number): number {
  ensure(pos, 9);
  buf[pos] = tag;
  view.setFloat64(pos + 1, v, true);
  return pos + 9;
}

function putHistogramPoint(
  pos: number,
  p: HistogramDataPoint,
  asInt: boolean,
): number {
  ensure(pos, 8);
  buf[pos] = 0x0a;
  const len = pos + 1;
  let q = putPointAttributes(len + 2, p.attributes, 0x4a);
  q = putTimes(
    q,
    p.startTimeUnixMs,
    p.startTimeNanosInMs,
    p.timeUnixMs,
    p.timeNanosInMs,
  );
  ensure(q, 9);
  buf[q] = 0x21;
  q = putFixed64(q + 1, p.count);
  q = putDouble(q, 0x29, p.sum);
  const counts = p.bucketCounts;
  ensure(q, 12 + counts.length * 8);
  buf[q] = 0x32;
  q = putVarint32(q + 1, counts.length * 8);
  for (let i = 0; i < counts.length; i++) q = putFixed64(q, counts[i]);
  const bounds = p.explicitBounds;
  if (bounds.length > 0) {
    ensure(q, 12 + bounds.length * 8);
    buf[q] = 0x3a;
    q = putVarint32(q + 1, bounds.length * 8);
    for (let i = 0; i < bounds.length; i++) {
      view.setFloat64(q, bounds[i], true);
      q += 8;
    }
  }
  if (p.min !== undefined) q = putDouble(q, 0x59, p.min);
  if (p.max !== undefined) q = putDouble(q, 0x61, p.max);
  for (const e of p.exemplars) q = putExemplar(q, 0x42, e, asInt);
  return patchLength(len, 2, q);
}

function putBuckets(pos: number, tag: number, b: ExponentialBuckets): number {
  const counts = b.bucketCounts;
  ensure(pos, 24 + counts.length * 10);
  buf[pos] = tag;
  const len = pos + 1;
  let q = len + 2;
  if (b.offset !== 0) {
    buf[q] = 0x08;
    q = putVarint32(q + 1, zigzag32(b.offset));
  }
  if (counts.length > 0) {
    buf[q] = 0x12;
    const countsLen = q + 1;
    q = countsLen + 2;
    for (let i = 0; i < counts.length; i++) q = putInt64(q, counts[i]);
    q = patchLength(countsLen, 2, q);
  }
  return patchLength(len, 2, q);
}

function putExponentialPoint(
  pos: number,
  p: ExponentialHistogramDataPoint,
  asInt: boolean,
): number {
  ensure(pos, 8);
  buf[pos] = 0x0a;
  const len = pos + 1;
  let q = putPointAttributes(len + 2, p.attributes, 0x0a);
  q = putTimes(
    q,
    p.startTimeUnixMs,
    p.startTimeNanosInMs,
    p.timeUnixMs,
    p.timeNanosInMs,
  );
  ensure(q, 32);
  buf[q] = 0x21;
  q = putFixed64(q + 1, p.count);
  q = putDouble(q, 0x29, p.sum);
  if (p.scale !== 0) {
    buf[q] = 0x30;
    q = putVarint32(q + 1, zigzag32(p.scale));
  }
  ensure(q, 9);
  buf[q] = 0x39;
  q = putFixed64(q + 1, p.zeroCount);
  q = putBuckets(q, 0x42, p.positive);
  q = putBuckets(q, 0x4a, p.negative);
  if (p.min !== undefined) q = putDouble(q, 0x61, p.min);
  if (p.max !== undefined) q = putDouble(q, 0x69, p.max);
  if (p.zeroThreshold !== 0) q = putDouble(q, 0x71, p.zeroThreshold);
  for (const e of p.exemplars) q = putExemplar(q, 0x5a, e, asInt);
  return patchLength(len, 2, q);
}

const TEMPORALITY_DELTA = 1;
const TEMPORALITY_CUMULATIVE = 2;

/**
 * Writes one ScopeMetrics.metrics field with the points `from`..`to` of
 * `metric`.
 */
function putMetric(
  pos: number,
  metric: MetricData,
  from: number,
  to: number,
): number {
  const d = metric.descriptor;
  ensure(pos, 8);
  buf[pos] = 0x12;
  const len = pos + 1;
  let q = len + 3;
  if (d.name !== "") q = putTagString(q, 0x0a, d.name);
  if (d.description !== "") q = putTagString(q, 0x12, d.description);
  if (d.unit !== "") q = putTagString(q, 0x1a, d.unit);
  const asInt = d.valueType === "int";
  ensure(q, 8);
  const dataLen = q + 1;
  let r = dataLen + 3;
  switch (metric.dataPointType) {
    case "gauge":
      buf[q] = 0x2a;
      for (let i = from; i < to; i++) {
        r = putNumberPoint(r, metric.dataPoints[i], asInt);
      }
      break;
    case "sum":
      buf[q] = 0x3a;
      for (let i = from; i < to; i++) {
        r = putNumberPoint(r, metric.dataPoints[i], asInt);
      }
      ensure(r, 4);
      buf[r++] = 0x10;
      buf[r++] = metric.aggregationTemporality === "delta"
        ? TEMPORALITY_DELTA
        : TEMPORALITY_CUMULATIVE;
      if (metric.isMonotonic) {
        buf[r++] = 0x18;
        buf[r++] = 1;
      }
      break;
    case "histogram":
      buf[q] = 0x4a;
      for (let i = from; i < to; i++) {
        r = putHistogramPoint(r, metric.dataPoints[i], asInt);
      }
      ensure(r, 2);
      buf[r++] = 0x10;
      buf[r++] = metric.aggregationTemporality === "delta"
        ? TEMPORALITY_DELTA
        : TEMPORALITY_CUMULATIVE;
      break;
    case "exponentialHistogram":
      buf[q] = 0x52;
      for (let i = from; i < to; i++) {
        r = putExponentialPoint(r, metric.dataPoints[i], asInt);
      }
      ensure(r, 2);
      buf[r++] = 0x10;
      buf[r++] = metric.aggregationTemporality === "delta"
        ? TEMPORALITY_DELTA
        : TEMPORALITY_CUMULATIVE;
      break;
  }
  q = patchLength(dataLen, 3, r);
  return patchLength(len, 3, q);
}

function putScopeMetrics(
  pos: number,
  scope: InstrumentationScope,
  metrics: readonly MetricData[],
  point: number,
): number {
  ensure(pos, 8);
  buf[pos] = 0x12; // ResourceMetrics.scope_metrics
  const len = pos + 1;
  let q = putScope(len + 3, scope);
  if (point < 0) {
    for (const metric of metrics) {
      q = putMetric(q, metric, 0, metric.dataPoints.length);
    }
  } else q = putMetric(q, metrics[0], point, point + 1);
  if (scope.schemaUrl) q = putTagString(q, 0x1a, scope.schemaUrl);
  return patchLength(len, 3, q);
}

function putResourceMetricsOpen(pos: number, resource: Resource): number {
  ensure(pos, 8);
  buf[pos] = 0x0a; // ExportMetricsServiceRequest.resource_metrics
  return putResource(pos + 4, resource);
}

function putResourceMetricsClose(
  pos: number,
  start: number,
  resource: Resource,
): number {
  if (resource.schemaUrl) pos = putTagString(pos, 0x1a, resource.schemaUrl);
  return patchLength(start + 1, 3, pos);
}

/**
 * Writes an `ExportMetricsServiceRequest` for a collection into `out` from
 * `offset`; returns the offset after it.
 */
export function writeMetricsRequest(
  metrics: ResourceMetrics,
  out: ProtoBuffer,
  offset: number,
): number {
  bind(out);
  if (metrics.scopeMetrics.length === 0) return offset;
  let q = putResourceMetricsOpen(offset, metrics.resource);
  for (const scope of metrics.scopeMetrics) {
    q = putScopeMetrics(q, scope.scope, scope.metrics, -1);
  }
  return putResourceMetricsClose(q, offset, metrics.resource);
}

/**
 * Writes an `ExportMetricsServiceRequest` that holds one data point (point
 * `point` of `metric`), with its resource, scope and metric descriptor: the
 * unit of the user_events and ETW metric events.
 */
export function writeMetricPointRequest(
  resource: Resource,
  scope: InstrumentationScope,
  metric: MetricData,
  point: number,
  out: ProtoBuffer,
  offset: number,
): number {
  bind(out);
  let q = putResourceMetricsOpen(offset, resource);
  q = putScopeMetrics(q, scope, [metric], point);
  return putResourceMetricsClose(q, offset, resource);
}
