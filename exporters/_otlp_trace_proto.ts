// The OTLP protobuf encoder of the trace signal: ExportTraceServiceRequest
// written straight from `ReadableSpan` with the shared writer of
// `_proto_writer.ts`.
//
// Messages and field numbers: opentelemetry-proto
// `opentelemetry/proto/trace/v1/trace.proto` and
// `collector/trace/v1/trace_service.proto`:
// ExportTraceServiceRequest: 1 resource_spans. ResourceSpans: 1 resource,
//   2 scope_spans, 3 schema_url. ScopeSpans: 1 scope, 2 spans, 3 schema_url.
// Span: 1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5 name, 6 kind,
//   7 start_time_unix_nano, 8 end_time_unix_nano, 9 attributes,
//   10 dropped_attributes_count, 11 events, 12 dropped_events_count, 13 links,
//   14 dropped_links_count, 15 status, 16 flags.
// Span.Event: 1 time_unix_nano, 2 name, 3 attributes, 4 dropped_attributes_count.
// Span.Link: 1 trace_id, 2 span_id, 3 trace_state, 4 attributes,
//   5 dropped_attributes_count, 6 flags. Status: 2 message, 3 code.

import type { ReadableSpan } from "../pipeline/trace/span.ts";
import { idPairSlot, putIdPairSpanFields } from "../pipeline/_id_pairs.ts";
import {
  bind,
  buf,
  cap,
  detach,
  grow,
  patchLength,
  type ProtoBuffer,
  putHexId,
  putKeyValues,
  putRequest,
  putTagString,
  putTime,
  putVarint32,
  shared,
  view,
} from "./_proto_writer.ts";

/** `flags` bit of a span or link: bit 9 (is remote) below is meaningful. */
export const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK = 0x100;
/** `flags` bit of a span or link: the parent (or linked) context is remote. */
export const SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK = 0x200;

function putEvent(pos: number, e: ReadableSpan["events"][number]): number {
  if (pos + 16 > cap) grow(pos, 16);
  buf[pos] = 0x5a; // Span.events (11)
  const len = pos + 1;
  let p = len + 1;
  p = putTime(p, 0x09, e.timeUnixMs, e.timeNanosInMs);
  if (e.name) p = putTagString(p, 0x12, e.name);
  p = putKeyValues(p, e.attributes, 0x1a, 0);
  if (e.droppedAttributesCount > 0) {
    if (p + 6 > cap) grow(p, 6);
    buf[p] = 0x20;
    p = putVarint32(p + 1, e.droppedAttributesCount);
  }
  return patchLength(len, 1, p);
}

function putLink(pos: number, l: ReadableSpan["links"][number]): number {
  if (pos + 40 > cap) grow(pos, 40);
  buf[pos] = 0x6a; // Span.links (13)
  const len = pos + 1;
  let p = len + 1;
  buf[p] = 0x0a;
  buf[p + 1] = 16;
  p = putHexId(p + 2, l.traceId);
  buf[p] = 0x12;
  buf[p + 1] = 8;
  p = putHexId(p + 2, l.spanId);
  if (l.traceState) p = putTagString(p, 0x1a, l.traceState);
  p = putKeyValues(p, l.attributes, 0x22, 0);
  if (p + 12 > cap) grow(p, 12);
  if (l.droppedAttributesCount > 0) {
    buf[p] = 0x28;
    p = putVarint32(p + 1, l.droppedAttributesCount);
  }
  const flags = l.traceFlags & 0xff;
  if (flags !== 0) {
    buf[p] = 0x35;
    view.setUint32(p + 1, flags, true);
    p += 5;
  }
  return patchLength(len, 1, p);
}

/** Writes one ScopeSpans.spans field (tag, length, Span). */
function putSpan(pos: number, s: ReadableSpan): number {
  if (pos + 64 > cap) grow(pos, 64);
  buf[pos] = 0x12;
  const len = pos + 1;
  let p = len + 2;
  const traceId = s.traceId;
  const spanId = s.spanId;
  // The pair's bytes from the log records' id pair slots when a record
  // of this span put them there (see putIdPairSpanFields).
  const slot = idPairSlot(traceId, spanId);
  if (slot !== -1) p = putIdPairSpanFields(slot, view, p);
  else {
    buf[p] = 0x0a;
    buf[p + 1] = 16;
    p = putHexId(p + 2, traceId);
    buf[p] = 0x12;
    buf[p + 1] = 8;
    p = putHexId(p + 2, spanId);
  }
  if (s.traceState) p = putTagString(p, 0x1a, s.traceState);
  const parent = s.parentSpanId;
  if (parent !== undefined) {
    if (p + 10 > cap) grow(p, 10);
    buf[p] = 0x22;
    buf[p + 1] = 8;
    p = putHexId(p + 2, parent);
  }
  p = putTagString(p, 0x2a, s.name);
  if (p + 24 > cap) grow(p, 24);
  buf[p] = 0x30;
  buf[p + 1] = (s.kind + 1) & 0x7f; // API 0-4 → OTLP 1-5
  p += 2;
  p = putTime(p, 0x39, s.startTimeUnixMs, s.startTimeNanosInMs);
  p = putTime(p, 0x41, s.endTimeUnixMs, s.endTimeNanosInMs);
  p = putKeyValues(p, s.attributes, 0x4a, 0);
  if (s.droppedAttributesCount > 0) {
    if (p + 6 > cap) grow(p, 6);
    buf[p] = 0x50;
    p = putVarint32(p + 1, s.droppedAttributesCount);
  }
  const events = s.events;
  for (let i = 0; i < events.length; i++) p = putEvent(p, events[i]);
  if (p + 24 > cap) grow(p, 24);
  if (s.droppedEventsCount > 0) {
    buf[p] = 0x60;
    p = putVarint32(p + 1, s.droppedEventsCount);
  }
  const links = s.links;
  for (let i = 0; i < links.length; i++) p = putLink(p, links[i]);
  if (p + 24 > cap) grow(p, 24);
  if (s.droppedLinksCount > 0) {
    buf[p] = 0x70;
    p = putVarint32(p + 1, s.droppedLinksCount);
  }
  const status = s.status;
  if (status.code !== 0 || status.message) {
    buf[p] = 0x7a;
    const statusLen = p + 1;
    p = statusLen + 1;
    if (status.message) p = putTagString(p, 0x12, status.message);
    if (p + 2 > cap) grow(p, 2);
    if (status.code !== 0) {
      buf[p] = 0x18;
      buf[p + 1] = status.code;
      p += 2;
    }
    p = patchLength(statusLen, 1, p);
  }
  if (p + 8 > cap) grow(p, 8);
  buf[p] = 0x85; // field 16, fixed32: two-byte tag
  buf[p + 1] = 0x01;
  view.setUint32(
    p + 2,
    (s.traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK |
      (s.parentIsRemote ? SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK : 0),
    true,
  );
  p += 6;
  return patchLength(len, 2, p);
}

// ---------------------------------------------------------------------------
// Entry points

/**
 * Writes an `ExportTraceServiceRequest` for `spans` into `out` from `offset`
 * and returns the offset after it. Spans are grouped by resource, then by
 * scope, in order of first appearance.
 */
export function writeTraceRequest(
  spans: readonly ReadableSpan[],
  out: ProtoBuffer,
  offset: number,
): number {
  bind(out);
  return putRequest(offset, spans, putSpan);
}

/** Encodes an `ExportTraceServiceRequest` into bytes of its own (see encodeLogsRequest). */
export function encodeTraceRequest(
  spans: readonly ReadableSpan[],
): Uint8Array<ArrayBuffer> {
  return detach(writeTraceRequest(spans, shared, 0));
}
