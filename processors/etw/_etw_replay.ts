/**
 * The ETW log hot path for a record whose shape repeats the last event's
 * (the TraceLogging counterpart of the user_events replay in
 * `_eventheader.ts`).
 *
 * After a log event, the provider's arena holds its metadata at its final
 * place. The next record of the same shape (event name, resource, the same
 * PartA fields, the same attribute keys in the same order with the same
 * value kinds, the same PartB fields, every string ASCII) has exactly that
 * metadata, so it is written by overwriting only the payload: no tokens, no
 * metadata cache lookup, no snapshot. Strings identical to the last event's
 * at the same payload offset are already in place and are skipped, as are
 * the date and time of day of the same second. Anything the replay does not
 * cover (another shape, a string that is not ASCII, an event over the
 * budget, `event_id`, event names, resource attributes in PartC, null,
 * bytes, arrays and maps, bigints outside int64) goes back to the full
 * encoder, which writes the same bytes (tests/etw/replay_test.ts compares
 * both paths byte for byte).
 *
 * @module
 */

import type { AnyValue } from "../../pipeline/attributes.ts";
import type { LogRecordData } from "../../pipeline/logs/log_record.ts";
import type { Resource } from "../../pipeline/resource.ts";
import { writeRfc3339Fraction, writeRfc3339Millis } from "../_rfc3339.ts";
import type { TraceLoggingWriter } from "../_tracelogging.ts";
import { copyString } from "../_replay_string.ts";
import {
  type LogTimeMemo,
  type SecondText,
  writeSecondText,
} from "../_replay_time.ts";
import type { RawLogFields } from "../_raw_fields.ts";

const KIND_STRING = 1;
const KIND_BOOL = 2;
const KIND_INT = 3;
const KIND_FLOAT = 4;
const KIND_BIGINT = 5;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MAX_STRUCT_MEMBERS = 127;

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

/** Memo slots before the attributes: trace id, span id, role, instance, type name, body. */
const SLOT_ATTRIBUTES = 6;

/** The shape of the ETW log event whose metadata the arena holds now. */
export class ResidentEtwLogShape implements LogTimeMemo, SecondText {
  readonly eventName: string;
  readonly resource: Resource;
  readonly traced: boolean;
  readonly role: boolean;
  readonly instance: boolean;
  /** The resource's `service.name` when `role`, else `undefined`. */
  readonly roleText: string | undefined;
  /** The resource's `service.instance.id` when `instance`, else `undefined`. */
  readonly instanceText: string | undefined;
  readonly keys: readonly string[];
  readonly kinds: Uint8Array;
  /** Body kind, or -1 for none. */
  readonly body: number;
  readonly severityText: boolean;
  /**
   * Where this shape's payload must end: within the event budget with its
   * metadata, and within the payload region (the writer's fixed limits,
   * computed once here rather than per replay).
   */
  readonly payloadLimit: number;
  /**
   * Strings of the last event by slot (see {@linkcode SLOT_ATTRIBUTES}; the
   * attributes, then the severity text), where each was written and where
   * it ended.
   */
  readonly memo: (string | undefined)[];
  readonly memoAt: Int32Array;
  readonly memoEnd: Int32Array;
  // LogTimeMemo (see _replay_time.ts).
  timeAt: number = -1;
  timeSecondMs: number = NaN;
  timeMs: number = NaN;
  timeEnd: number = -1;
  /** The attribute value length limit the attribute slots' strings were checked against. */
  valueLengthLimit: number = NaN;
  /** The last second whose `YYYY-MM-DDTHH:MM:SS` is in `secondText` (NaN: none). */
  second: number = NaN;
  /** ASCII bytes of that text. */
  readonly secondText: Uint8Array = new Uint8Array(19);

  constructor(
    eventName: string,
    resource: Resource,
    traced: boolean,
    role: boolean,
    instance: boolean,
    keys: readonly string[],
    kinds: Uint8Array,
    body: number,
    severityText: boolean,
    payloadLimit: number,
  ) {
    this.eventName = eventName;
    this.resource = resource;
    this.traced = traced;
    this.role = role;
    this.instance = instance;
    const attributes = resource.attributes;
    this.roleText = role ? attributes["service.name"] as string : undefined;
    this.instanceText = instance
      ? attributes["service.instance.id"] as string
      : undefined;
    this.keys = keys;
    this.kinds = kinds;
    this.body = body;
    this.severityText = severityText;
    this.payloadLimit = payloadLimit;
    const slots = keys.length + SLOT_ATTRIBUTES + 1;
    this.memo = new Array<string | undefined>(slots).fill(undefined);
    this.memoAt = new Int32Array(slots).fill(-1);
    this.memoEnd = new Int32Array(slots);
  }
}

/**
 * After the full encoder wrote `data` (and the event was written): its shape
 * when a replay can repeat it, else `undefined`.
 *
 * @param w The writer (its metadata is the event's).
 * @param data The record as encoded.
 * @param eventName The event name it was written under.
 * @param resourceKeys The resource attributes copied into PartC (a replay covers none).
 * @returns The shape, or `undefined`.
 */
export function captureEtwLogShape(
  w: TraceLoggingWriter,
  data: LogRecordData,
  eventName: string,
  resourceKeys: readonly string[],
): ResidentEtwLogShape | undefined {
  if (resourceKeys.length !== 0 || data.eventName !== undefined) {
    return undefined;
  }
  const attributes = data.attributes;
  const keys: string[] = [];
  const kinds: number[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    const kind = kindOf(value);
    if (kind === 0 || key === "event_id") return undefined;
    if (kind === KIND_STRING && !isAscii(value as string)) return undefined;
    keys.push(key);
    kinds.push(kind);
  }
  if (keys.length > MAX_STRUCT_MEMBERS) return undefined;
  const body = data.body;
  const bodyKind = body === undefined || body === null ? -1 : kindOf(body);
  if (bodyKind === 0) return undefined;
  if (bodyKind === KIND_STRING && !isAscii(body as string)) return undefined;
  const text = data.severityText;
  if (text !== undefined && !isAscii(text)) return undefined;
  const resourceAttributes = data.resource.attributes;
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
  return new ResidentEtwLogShape(
    eventName,
    data.resource,
    data.traceId !== undefined && data.spanId !== undefined,
    role !== undefined && role !== null,
    instance !== undefined && instance !== null,
    keys,
    new Uint8Array(kinds),
    bodyKind,
    text !== undefined,
    w.payloadOffset +
      Math.min(w.payloadCapacity, w.budget - w.metadataLength),
  );
}

/** Writes a bool, int, double or bigint as `writeValue` does; -1 past `end`. */
function replayNumber(
  view: DataView,
  p: number,
  kind: number,
  value: AnyValue,
  end: number,
): number {
  if (kind === KIND_BOOL) {
    if (p + 4 > end) return -1;
    view.setInt32(p, value ? 1 : 0, true); // BOOL32
    return p + 4;
  }
  if (p + 8 > end) return -1;
  if (kind === KIND_INT) {
    const v = value as number;
    view.setUint32(p, v >>> 0, true); // the low word, two's complement
    view.setInt32(p + 4, Math.floor(v / 0x100000000) | 0, true);
  } else if (kind === KIND_FLOAT) {
    view.setFloat64(p, value as number, true);
  } else {
    view.setBigUint64(p, BigInt.asUintN(64, value as bigint), true);
  }
  return p + 8;
}

/**
 * Writes the payload of a log record by replaying `shape` over the
 * writer's arena; returns the payload's end offset (then the metadata and
 * payload are the event to write), or -1 when the record does not have that
 * shape or needs the full encoder (nothing counted then; the payload region
 * may hold a partial event, which the full encoder overwrites).
 *
 * `attributes` are as the caller gave them: a string over `fields.limits`'
 * value length limit, more attributes than its count limit, or a value the
 * sanitizer would change return -1, so that the sanitizer (and its
 * counters) sees them.
 *
 * @param w The writer; its metadata must be `shape`'s.
 * @param view A DataView over `w.bytes`.
 * @param shape The resident shape.
 * @param eventName The event name.
 * @param fields The record's resource, PartA time, trace and span id (valid,
 * if any), attributes, body and severity text (if any), and the sanitizer's
 * limits; read once, on entry.
 * @param severityNumber 1-24.
 * @returns The payload's end, or -1.
 */
export function replayEtwLogRecord(
  w: TraceLoggingWriter,
  view: DataView,
  shape: ResidentEtwLogShape,
  eventName: string,
  fields: RawLogFields,
  severityNumber: number,
): number {
  const resource = fields.resource;
  const time = fields.time;
  const traceId = fields.traceId;
  const spanId = fields.spanId;
  const attributes = fields.attributes;
  const body = fields.body;
  const severityText = fields.severityText;
  const limits = fields.limits;
  const countLimit = limits.attributeCountLimit;
  const valueLengthLimit = limits.attributeValueLengthLimit;
  if (eventName !== shape.eventName || resource !== shape.resource) return -1;
  const traced = traceId !== undefined && spanId !== undefined;
  if (traced !== shape.traced) return -1;
  const bytes = w.bytes;
  // The string checks inline (see _replay_string.ts): the JIT does not
  // inline calls into a function this large, and a call per field costs
  // more than the check.
  const memo = shape.memo;
  const memoAt = shape.memoAt;
  // Metadata + payload within the budget, payload within its region.
  const end = shape.payloadLimit;
  let p = w.payloadOffset + 2; // __csver__ stays from the last event
  // PartA: [ext_dt traceId spanId] [ext_cloud role instance] time.
  if (traced) {
    p = memoAt[0] === p && memo[0] === traceId!
      ? p + 34 // 32 hex digits
      : copyString(bytes, shape, 0, p, traceId!, end);
    if (p < 0) return -1;
    p = memoAt[1] === p && memo[1] === spanId!
      ? p + 18 // 16 hex digits
      : copyString(bytes, shape, 1, p, spanId!, end);
    if (p < 0) return -1;
  }
  // The resource is the shape's, whose attributes are frozen (Resource):
  // its role and instance are the strings read when the shape was taken.
  // Slots 2-4 only ever hold the shape's role, instance and "Log" (a failed
  // copy resets its memoAt), so a slot written at p holds that string: no
  // string compare for them.
  const role = shape.roleText;
  if (role !== undefined) {
    p = memoAt[2] === p
      ? p + 2 + role.length
      : copyString(bytes, shape, 2, p, role, end);
    if (p < 0) return -1;
  }
  const instance = shape.instanceText;
  if (instance !== undefined) {
    p = memoAt[3] === p
      ? p + 2 + instance.length
      : copyString(bytes, shape, 3, p, instance, end);
    if (p < 0) return -1;
  }
  const unixMs = time.unixMs;
  const nanosInMs = time.nanosInMs;
  // Exact and in range: readRawLogRecord took it from toExactTime (VALID)
  // or the clock, so no isExactTime here (about 4 ns of the replayed emit).
  if (p + 32 > end) return -1;
  // Inline but for a new second's text (see _replay_time.ts).
  // Also in ../_eventheader.ts: one shared call cost Bun 3-9% (67ccfe8).
  if (nanosInMs === 0 && shape.timeMs === unixMs && shape.timeAt === p) {
    p = shape.timeEnd;
  } else {
    let q = p + 2;
    let msInSecond = unixMs - shape.timeSecondMs;
    if (!(msInSecond >= 0 && msInSecond < 1000) || shape.timeAt !== p) {
      msInSecond = writeSecondText(bytes, shape, shape, p, unixMs);
    }
    q += 19;
    if (nanosInMs === 0) {
      if (msInSecond !== 0) q = writeRfc3339Millis(bytes, q, msInSecond);
    } else q = writeRfc3339Fraction(bytes, q, msInSecond * 1e6 + nanosInMs);
    bytes[q++] = 0x5a; // "Z"
    bytes[p] = q - p - 2;
    bytes[p + 1] = 0;
    shape.timeMs = nanosInMs === 0 ? unixMs : NaN;
    shape.timeEnd = q;
    p = q;
  }
  // PartC: the same keys, in order, with the same kinds.
  const keys = shape.keys;
  const kinds = shape.kinds;
  // A string identical (===) to the one an attribute slot holds at the same
  // offset is in place and was checked when written (a string of this
  // slot's kind, its length against that event's limit: hence the reset
  // when the limit is another), so it is skipped before any kind test.
  // Numbers and bools are written again: keeping them in the slots too cost
  // Deno 8% on records whose values change, for no gain on repeated ones.
  if (valueLengthLimit !== shape.valueLengthLimit) {
    shape.valueLengthLimit = valueLengthLimit;
    memoAt.fill(-1, SLOT_ATTRIBUTES, SLOT_ATTRIBUTES + keys.length);
  }
  let i = 0;
  if (attributes !== undefined) {
    // The kind tests inline (typeof in a switch and calls per field cost
    // V8 more than the writes).
    for (const key in attributes) {
      const value = attributes[key];
      if (i === keys.length || key !== keys[i]) return -1;
      const slot = SLOT_ATTRIBUTES + i;
      if (memoAt[slot] === p && memo[slot] === value) {
        p += 2 + (value as string).length;
        i++;
        continue;
      }
      const kind = kinds[i];
      if (typeof value === "string") {
        if (kind !== KIND_STRING || value.length > valueLengthLimit) return -1;
        p = copyString(bytes, shape, slot, p, value, end);
        if (p < 0) return -1;
        i++;
        continue;
      } else if (typeof value === "number") {
        if (p + 8 > end) return -1;
        const low = value | 0;
        if (low === value) {
          // An int32 (the common case): its high word is its sign, without
          // the float division below.
          if (kind !== KIND_INT) return -1;
          view.setInt32(p, low, true);
          view.setInt32(p + 4, low >> 31, true);
        } else if (Number.isSafeInteger(value)) {
          if (kind !== KIND_INT) return -1;
          view.setUint32(p, value >>> 0, true); // the low word, two's complement
          view.setInt32(p + 4, Math.floor(value / 0x100000000) | 0, true);
        } else {
          if (kind !== KIND_FLOAT) return -1;
          view.setFloat64(p, value, true);
        }
        p += 8;
      } else if (typeof value === "boolean") {
        if (kind !== KIND_BOOL || p + 4 > end) return -1;
        view.setInt32(p, value ? 1 : 0, true); // BOOL32
        p += 4;
      } else if (kind === KIND_BIGINT && kindOf(value) === KIND_BIGINT) {
        p = replayNumber(view, p, kind, value as bigint, end);
        if (p < 0) return -1;
      } else return -1;
      i++;
    }
  }
  if (i !== keys.length || i > countLimit) return -1;
  // PartB: _typeName, [body], severityNumber, [severityText]. A string
  // slot holds only strings written under this shape's kinds, so a hit
  // there needs no kind test.
  p = memoAt[4] === p ? p + 5 : copyString(bytes, shape, 4, p, "Log", end);
  if (p < 0) return -1;
  if (memoAt[5] === p && memo[5] === body) {
    p += 2 + (body as string).length;
  } else if (body === undefined || body === null) {
    if (shape.body !== -1) return -1;
  } else if (typeof body === "string") {
    if (shape.body !== KIND_STRING) return -1;
    p = copyString(bytes, shape, 5, p, body, end);
    if (p < 0) return -1;
  } else {
    const kind = kindOf(body);
    if (kind !== shape.body) return -1;
    p = replayNumber(view, p, kind, body as AnyValue, end);
    if (p < 0) return -1;
  }
  if (p + 2 > end) return -1;
  view.setUint16(p, severityNumber, true);
  p += 2;
  const slot = SLOT_ATTRIBUTES + keys.length;
  if (memoAt[slot] === p && memo[slot] === severityText) {
    p += 2 + severityText!.length;
  } else if (severityText !== undefined) {
    if (!shape.severityText) return -1;
    p = copyString(bytes, shape, slot, p, severityText, end);
    if (p < 0) return -1;
  } else if (shape.severityText) return -1;
  return p;
}
