/**
 * The ETW span hot path for a span whose shape repeats the last span
 * event's (the TraceLogging counterpart of `../_span_replay.ts`, and the
 * span counterpart of `_etw_replay.ts`).
 *
 * After a span event, the provider's arena holds its metadata at its final
 * place. The next span of the same shape (the same resource, PartA fields,
 * attribute keys in the same order with the same value kinds, every string
 * whose OutType depends on its value ASCII, a parent id or not, links or
 * not, a status message or not) has exactly that metadata, so it is written
 * by overwriting only the payload: no tokens, no metadata cache lookup, and
 * no string built for the links. Strings identical to the last event's at
 * the same payload offset are already in place and are skipped, as are the
 * date and time of day of the same second. Anything the replay does not
 * cover (another shape, a string that is not ASCII, an event over the
 * budget, a time that is not exact, null, bytes, arrays, maps, bigints
 * outside int64, resource attributes in PartC) goes back to the full
 * encoder, which writes the same bytes (tests/etw/span_replay_test.ts
 * compares both paths byte for byte).
 *
 * @module
 */

import type { Resource } from "../../pipeline/resource.ts";
import type { ReadableSpan } from "../../pipeline/trace/span.ts";
import { replayLinks, replayTime, SpanShape } from "../_span_replay_text.ts";
import type { TraceLoggingWriter } from "../_tracelogging.ts";
import { copyString } from "../_replay_string.ts";
import {
  isValidSpanId,
  SPAN_PART_B_ATTRIBUTES,
  SPAN_PART_B_NAMES,
} from "../_span_part_b.ts";

const KIND_STRING = 1;
const KIND_BOOL = 2;
const KIND_INT = 3;
const KIND_FLOAT = 4;
const KIND_BIGINT = 5;
/** Set on the kind of an attribute that goes to PartB under its Common Schema name. */
const RENAMED = 0x10;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MAX_STRUCT_MEMBERS = 127;
/** The longest counted string. */
const MAX_COUNTED = 65535;

/** Memo slots: trace id, span id, role, instance, type name, name, parent id, status message, then one per attribute key. */
const SLOT_TRACE = 0;
const SLOT_SPAN = 1;
const SLOT_ROLE = 2;
const SLOT_INSTANCE = 3;
const SLOT_TYPE = 4;
const SLOT_NAME = 5;
const SLOT_PARENT = 6;
const SLOT_MESSAGE = 7;
const SLOT_KEYS = 8;

/** The value kind `writeValue` gives `value`; 0 for kinds the replay leaves to the full encoder. */
function kindOf(value: unknown): number {
  switch (typeof value) {
    case "string":
      return KIND_STRING;
    case "boolean":
      return KIND_BOOL;
    case "number":
      return Number.isSafeInteger(value) ? KIND_INT : KIND_FLOAT;
    case "bigint":
      // Beyond int64 it is UINT64 or a string: another shape.
      return value >= INT64_MIN && value <= INT64_MAX ? KIND_BIGINT : 0;
    default:
      return 0;
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Whether the status message is written (as `EtwSpanProcessor`): an error with a non-empty string message. */
function messageOf(span: ReadableSpan): string | undefined {
  const status = span.status;
  const message = status.message;
  return status.code === 2 && typeof message === "string" && message !== ""
    ? message
    : undefined;
}

/** The shape of the ETW span event whose metadata the arena holds now. */
export class ResidentEtwSpanShape extends SpanShape {
  /** The metadata length (the first u16 of the metadata). */
  readonly metadataLength: number;

  constructor(
    resource: Resource,
    role: boolean,
    instance: boolean,
    parent: boolean,
    links: boolean,
    message: boolean,
    keys: readonly string[],
    kinds: Uint8Array,
    partB: Int32Array,
    metadataLength: number,
  ) {
    super(
      resource,
      role,
      instance,
      parent,
      links,
      message,
      keys,
      kinds,
      partB,
      SLOT_KEYS,
    );
    this.metadataLength = metadataLength;
  }
}

/**
 * After the full encoder wrote `span` (and the event was written, with no
 * attribute dropped or left out as a duplicate): its shape when a replay can
 * repeat it, else `undefined`.
 *
 * @param w The writer (its metadata is the event's).
 * @param span The span as encoded.
 * @param resourceKeys The resource attributes copied into PartC (a replay covers none).
 * @returns The shape, or `undefined`.
 */
export function captureEtwSpanShape(
  w: TraceLoggingWriter,
  span: ReadableSpan,
  resourceKeys: readonly string[],
): ResidentEtwSpanShape | undefined {
  if (resourceKeys.length !== 0) return undefined;
  if (typeof span.traceId !== "string" || typeof span.spanId !== "string") {
    return undefined;
  }
  const attributes = span.attributes;
  const keys: string[] = [];
  const kinds: number[] = [];
  let partC = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    const kind = kindOf(value);
    if (kind === 0) return undefined;
    // A string's OutType follows its characters (ANSI or UTF-8).
    if (kind === KIND_STRING && !isAscii(value as string)) return undefined;
    const renamed = SPAN_PART_B_NAMES[key] !== undefined;
    if (!renamed) partC++;
    keys.push(key);
    kinds.push(renamed ? kind | RENAMED : kind);
  }
  if (partC > MAX_STRUCT_MEMBERS) return undefined;
  const partB: number[] = [];
  for (let i = 0; i < SPAN_PART_B_ATTRIBUTES.length; i++) {
    const at = keys.indexOf(SPAN_PART_B_ATTRIBUTES[i][0]);
    if (at >= 0) partB.push(at);
  }
  const resourceAttributes = span.resource.attributes;
  const role = resourceAttributes["service.name"];
  const instance = resourceAttributes["service.instance.id"];
  // ext_cloud strings: ASCII strings only (others have another OutType or
  // are converted with String()).
  if (
    (role !== undefined && role !== null &&
      (typeof role !== "string" || !isAscii(role))) ||
    (instance !== undefined && instance !== null &&
      (typeof instance !== "string" || !isAscii(instance)))
  ) return undefined;
  return new ResidentEtwSpanShape(
    span.resource,
    role !== undefined && role !== null,
    instance !== undefined && instance !== null,
    isValidSpanId(span.parentSpanId),
    span.links.length > 0,
    messageOf(span) !== undefined,
    keys,
    new Uint8Array(kinds),
    new Int32Array(partB),
    w.metadataLength,
  );
}

/** A string field's payload; -1 when not a string, too long, not ASCII, or past `end`. */
function replayString(
  bytes: Uint8Array,
  shape: ResidentEtwSpanShape,
  slot: number,
  p: number,
  s: unknown,
  end: number,
): number {
  if (typeof s !== "string" || s.length > MAX_COUNTED) return -1;
  return shape.memoAt[slot] === p && shape.memo[slot] === s
    ? shape.memoEnd[slot]
    : copyString(bytes, shape, slot, p, s, end);
}

/** An attribute value of `kind` as `writeValue` writes it, at `p`; -1 when it has another kind or past `end`. */
function replayValue(
  bytes: Uint8Array,
  view: DataView,
  shape: ResidentEtwSpanShape,
  slot: number,
  p: number,
  kind: number,
  value: unknown,
  end: number,
): number {
  if (typeof value === "string") {
    if (kind !== KIND_STRING) return -1;
    return replayString(bytes, shape, slot, p, value, end);
  }
  if (typeof value === "number") {
    if (p + 8 > end) return -1;
    if (Number.isSafeInteger(value)) {
      if (kind !== KIND_INT) return -1;
      view.setUint32(p, value >>> 0, true); // the low word, two's complement
      view.setInt32(p + 4, Math.floor(value / 0x100000000) | 0, true);
    } else {
      if (kind !== KIND_FLOAT) return -1;
      view.setFloat64(p, value, true);
    }
    return p + 8;
  }
  if (typeof value === "boolean") {
    if (kind !== KIND_BOOL || p + 4 > end) return -1;
    view.setInt32(p, value ? 1 : 0, true); // BOOL32
    return p + 4;
  }
  if (typeof value === "bigint") {
    if (kind !== KIND_BIGINT || kindOf(value) !== KIND_BIGINT) return -1;
    if (p + 8 > end) return -1;
    view.setBigUint64(p, BigInt.asUintN(64, value), true);
    return p + 8;
  }
  return -1;
}

/**
 * Writes the payload of `span` by replaying `shape` over the writer's
 * arena; returns the payload's end offset (then the metadata and payload
 * are the event to write), or -1 when the span does not have that shape or
 * needs the full encoder (nothing counted then; the payload region may hold
 * a partial event, which the full encoder overwrites).
 *
 * @param w The writer; its metadata must be `shape`'s.
 * @param view A DataView over `w.bytes`.
 * @param shape The resident shape.
 * @param span The (checked) span.
 * @returns The payload's end, or -1.
 */
export function replayEtwSpan(
  w: TraceLoggingWriter,
  view: DataView,
  shape: ResidentEtwSpanShape,
  span: ReadableSpan,
): number {
  if (span.resource !== shape.resource) return -1;
  const bytes = w.bytes;
  const start = w.payloadOffset;
  // Metadata + payload within the budget, payload within its region.
  const end = start +
    Math.min(w.payloadCapacity, w.budget - shape.metadataLength);
  // PartA: time (end), ext_dt (trace id, span id), [ext_cloud].
  let p = replayTime(
    bytes,
    shape,
    0,
    start + 2, // __csver__ stays from the last event
    span.endTimeUnixMs,
    span.endTimeNanosInMs,
    end,
  );
  if (p < 0) return -1;
  p = replayString(bytes, shape, SLOT_TRACE, p, span.traceId, end);
  if (p < 0) return -1;
  p = replayString(bytes, shape, SLOT_SPAN, p, span.spanId, end);
  if (p < 0) return -1;
  const resourceAttributes = shape.resource.attributes;
  if (shape.role) {
    const role = resourceAttributes["service.name"];
    p = replayString(bytes, shape, SLOT_ROLE, p, role, end);
    if (p < 0) return -1;
  }
  if (shape.instance) {
    const instance = resourceAttributes["service.instance.id"];
    p = replayString(bytes, shape, SLOT_INSTANCE, p, instance, end);
    if (p < 0) return -1;
  }
  // PartC: the same keys, in order, with the same kinds (the PartB ones in
  // their places, written below).
  const attributes = span.attributes;
  const keys = shape.keys;
  const kinds = shape.kinds;
  const memo = shape.memo;
  const memoAt = shape.memoAt;
  const memoEnd = shape.memoEnd;
  let i = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    if (i === keys.length || key !== keys[i]) return -1;
    const kind = kinds[i];
    if (kind >= RENAMED) {
      i++;
      continue;
    }
    // The common kinds inline (a call per field costs more than the write).
    if (typeof value === "string") {
      if (kind !== KIND_STRING || value.length > MAX_COUNTED) return -1;
      const slot = SLOT_KEYS + i;
      p = memoAt[slot] === p && memo[slot] === value
        ? memoEnd[slot]
        : copyString(bytes, shape, slot, p, value, end);
    } else if (typeof value === "number" && Number.isSafeInteger(value)) {
      if (kind !== KIND_INT || p + 8 > end) return -1;
      view.setUint32(p, value >>> 0, true);
      view.setInt32(p + 4, Math.floor(value / 0x100000000) | 0, true);
      p += 8;
    } else {
      p = replayValue(bytes, view, shape, SLOT_KEYS + i, p, kind, value, end);
    }
    if (p < 0) return -1;
    i++;
  }
  if (i !== keys.length) return -1;
  // PartB: _typeName, name, kind, startTime, [parentId], [links],
  // [statusMessage], [renamed attributes], success.
  p = replayString(bytes, shape, SLOT_TYPE, p, "Span", end);
  if (p < 0) return -1;
  p = replayString(bytes, shape, SLOT_NAME, p, span.name, end);
  if (p < 0 || p + 1 > end) return -1;
  bytes[p++] = span.kind & 0xff;
  p = replayTime(
    bytes,
    shape,
    1,
    p,
    span.startTimeUnixMs,
    span.startTimeNanosInMs,
    end,
  );
  if (p < 0) return -1;
  const parent = span.parentSpanId;
  if (isValidSpanId(parent) !== shape.parent) return -1;
  if (shape.parent) {
    p = replayString(bytes, shape, SLOT_PARENT, p, parent, end);
    if (p < 0) return -1;
  }
  const links = span.links;
  if ((links.length > 0) !== shape.links) return -1;
  if (shape.links) {
    p = replayLinks(bytes, p, links, end);
    if (p < 0) return -1;
  }
  const message = messageOf(span);
  if ((message !== undefined) !== shape.message) return -1;
  if (message !== undefined) {
    p = replayString(bytes, shape, SLOT_MESSAGE, p, message, end);
    if (p < 0) return -1;
  }
  const partB = shape.partB;
  for (let j = 0; j < partB.length; j++) {
    const k = partB[j];
    p = replayValue(
      bytes,
      view,
      shape,
      SLOT_KEYS + k,
      p,
      kinds[k] & ~RENAMED,
      attributes[keys[k]],
      end,
    );
    if (p < 0) return -1;
  }
  if (p + 1 > end) return -1;
  bytes[p++] = span.status.code === 2 ? 0 : 1;
  return p;
}
