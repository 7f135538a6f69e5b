// The OTLP protobuf encoder of the logs signal: ExportLogsServiceRequest
// written straight from `LogRecordData` with the shared writer of
// `_proto_writer.ts`.
//
// Messages and field numbers: opentelemetry-proto
// `opentelemetry/proto/logs/v1/logs.proto` and
// `collector/logs/v1/logs_service.proto`:
// ExportLogsServiceRequest: 1 resource_logs. ResourceLogs: 1 resource,
//   2 scope_logs, 3 schema_url. ScopeLogs: 1 scope, 2 log_records, 3 schema_url.
// LogRecord: 1 time_unix_nano, 2 severity_number, 3 severity_text, 5 body,
//   6 attributes, 7 dropped_attributes_count, 8 flags, 9 trace_id, 10 span_id,
//   11 observed_time_unix_nano, 12 event_name.

import type { LogRecordData } from "../pipeline/logs/log_record.ts";
import { idPairSlot, putIdPairFields } from "../pipeline/_id_pairs.ts";
import {
  bind,
  buf,
  cap,
  detach,
  grow,
  patchLength,
  type ProtoBuffer,
  putAnyValue,
  putHexId,
  putKeyValues,
  putRequest,
  putString,
  putTagString,
  putTime,
  putVarint32,
  shared,
  view,
} from "./_proto_writer.ts";

/** Writes one ScopeLogs.log_records field (tag, length, LogRecord). */
function putLogRecord(pos: number, r: LogRecordData): number {
  if (pos + 40 > cap) grow(pos, 40);
  buf[pos] = 0x12;
  const len = pos + 1;
  // The length prefix: 1 byte when the record will likely be shorter than
  // 128 bytes, else 2. Guessing from the fields' sizes (ASCII assumed) and
  // the last record's attribute bytes saves moving most short records by
  // one byte afterwards; a wrong guess costs that move, never wrong bytes.
  const reserved = guessLogRecordSize(r) < 0x80 ? 1 : 2;
  let p = len + reserved;
  p = putTime(p, 0x09, r.timeUnixMs, r.timeNanosInMs);
  const severity = r.severityNumber;
  if (severity > 0) {
    buf[p] = 0x10;
    buf[p + 1] = severity; // 1-24
    p += 2;
  }
  const severityText = r.severityText;
  if (severityText) p = putTagString(p, 0x1a, severityText);
  const body = r.body;
  if (body !== undefined) {
    if (p + 3 > cap) grow(p, 3);
    buf[p] = 0x2a;
    const bodyLen = p + 1;
    if (typeof body === "string") {
      buf[bodyLen + 1] = 0x0a;
      p = putString(bodyLen + 2, body);
    } else {
      p = putAnyValue(bodyLen + 1, body, 0);
    }
    const n = p - bodyLen - 1;
    if (n < 0x80) buf[bodyLen] = n;
    else p = patchLength(bodyLen, 1, p);
  }
  const attributesStart = p;
  p = putKeyValues(p, r.attributes, 0x32, 0);
  lastAttributeBytes = p - attributesStart;
  if (p + 64 > cap) grow(p, 64);
  const dropped = r.droppedAttributesCount;
  if (dropped > 0) {
    buf[p] = 0x38;
    p = putVarint32(p + 1, dropped);
  }
  const flags = r.traceFlags;
  if (flags !== 0) {
    buf[p] = 0x45;
    view.setUint32(p + 1, flags, true);
    p += 5;
  }
  const traceId = r.traceId;
  const spanId = r.spanId;
  // A snapshot's pair is usually still in the snapshot's cache of valid
  // pairs, with its bytes: 28 bytes copied instead of 48 hex digits read.
  const slot = traceId !== undefined && spanId !== undefined
    ? idPairSlot(traceId, spanId)
    : -1;
  if (slot !== -1) p = putIdPairFields(slot, view, p);
  else {
    if (traceId !== undefined) {
      buf[p] = 0x4a;
      buf[p + 1] = 16;
      p = putHexId(p + 2, traceId);
    }
    if (spanId !== undefined) {
      buf[p] = 0x52;
      buf[p + 1] = 8;
      p = putHexId(p + 2, spanId);
    }
  }
  p = putTime(p, 0x59, r.observedTimeUnixMs, r.observedTimeNanosInMs);
  const eventName = r.eventName;
  if (eventName) p = putTagString(p, 0x62, eventName);
  const n = p - len - reserved;
  if (reserved === 1) {
    if (n < 0x80) {
      buf[len] = n;
      return p;
    }
  } else if (n >= 0x80 && n < 0x4000) {
    buf[len] = (n & 0x7f) | 0x80;
    buf[len + 1] = n >>> 7;
    return p;
  }
  return patchLength(len, reserved, p);
}

/** Attribute bytes of the last log record written: the guess for the next. */
let lastAttributeBytes = 0;

/** About how many bytes `r` takes (see putLogRecord); exactness not needed. */
function guessLogRecordSize(r: LogRecordData): number {
  let size = lastAttributeBytes;
  size += 18; // the two times (almost always set)
  if (r.severityNumber > 0) size += 2;
  if (r.severityText) size += 2 + r.severityText.length;
  const body = r.body;
  if (typeof body === "string") size += 4 + body.length;
  else if (body !== undefined) size += 0x80; // structured: assume long
  if (r.droppedAttributesCount > 0) size += 6;
  if (r.traceFlags !== 0) size += 5;
  if (r.traceId !== undefined) size += 18;
  if (r.spanId !== undefined) size += 10;
  if (r.eventName) size += 2 + r.eventName.length;
  return size;
}

// ---------------------------------------------------------------------------
// Entry points

/**
 * Writes an `ExportLogsServiceRequest` for `records` into `out` from `offset`
 * and returns the offset after it. Records are grouped by resource, then by
 * scope, in order of first appearance.
 */
export function writeLogsRequest(
  records: readonly LogRecordData[],
  out: ProtoBuffer,
  offset: number,
): number {
  bind(out);
  return putRequest(offset, records, putLogRecord);
}

/**
 * Encodes an `ExportLogsServiceRequest` into bytes of its own (written in the
 * module's reused buffer, then copied out).
 */
export function encodeLogsRequest(
  records: readonly LogRecordData[],
): Uint8Array<ArrayBuffer> {
  return detach(writeLogsRequest(records, shared, 0));
}
