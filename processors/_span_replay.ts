/**
 * The user_events span hot path: a span whose shape repeats the last span
 * event's is written as data only (the span counterpart of
 * `replayLogRecord` in `_eventheader.ts`).
 *
 * After {@linkcode encodeSpan} wrote a span, the buffer holds the event's
 * header, extension header and metadata at their final places. The next
 * span of the same shape (the same options and resource, the same PartA
 * fields, a parent id or not, links or not, a status message or not, the
 * same attribute keys in the same order with the same value kinds) has
 * exactly that metadata, so {@linkcode writeSpanEvent} writes it by
 * overwriting the data after it: no tokens, no metadata cache lookup, no
 * copy, and no string built for the links. Strings identical to the last
 * event's at the same offset are already in place and are skipped, as are
 * the date and time of day of the same second. Anything the replay does not
 * cover (another shape, a string that is not ASCII, an event that would
 * need cutting, a time that is not exact, arrays and other values the
 * encoder writes as empty strings, resource attributes copied into PartC,
 * duplicate written names) goes to the full encoder, which writes the same
 * bytes (tests/user_events/span_replay_test.ts compares both paths byte for
 * byte).
 *
 * @module
 */

import type { Attributes } from "../pipeline/attributes.ts";
import type { Resource } from "../pipeline/resource.ts";
import type { ReadableSpan } from "../pipeline/trace/span.ts";
import {
  type EncodeOptions,
  encodeSpan,
  type EventBuffer,
  MAX_EVENT_PAYLOAD,
  MAX_STRUCT_MEMBERS,
} from "./_eventheader.ts";
import { replayLinks, replayTime, SpanShape } from "./_span_replay_text.ts";
import { copyString } from "./_replay_string.ts";
import {
  isValidSpanId,
  SPAN_PART_B_ATTRIBUTES,
  SPAN_PART_B_NAMES,
} from "./_span_part_b.ts";
import { PERF_MAX_EVENT_SIZE } from "./user_events/options.ts";

const KIND_STRING = 1;
const KIND_BOOL = 2;
const KIND_INT = 3;
const KIND_FLOAT = 4;
const KIND_BIGINT = 5;
/** Set on the kind of an attribute that goes to PartB under its Common Schema name. */
const RENAMED = 0x10;
const SPAN_LEVEL = 4;

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

/** The index of the `http.response.status_code` row (its presence hides the status message). */
const HTTP_STATUS_ROW = SPAN_PART_B_ATTRIBUTES.findIndex((e) =>
  e[1] === "httpStatusCode"
);

/** The value kind `addAnyValue` gives `value`; 0 for kinds the replay leaves to the full encoder. */
function kindOf(value: unknown): number {
  switch (typeof value) {
    case "string":
      return KIND_STRING;
    case "boolean":
      return KIND_BOOL;
    case "number":
      return Number.isSafeInteger(value) ? KIND_INT : KIND_FLOAT;
    case "bigint":
      return KIND_BIGINT;
    default:
      return 0;
  }
}

/** The shape of the span event resident in an {@linkcode EventBuffer} (see the module). */
export class ResidentSpanShape extends SpanShape {
  readonly options: EncodeOptions;
  /** Where the data starts (after the metadata). */
  readonly dataStart: number;

  constructor(
    options: EncodeOptions,
    resource: Resource,
    role: boolean,
    instance: boolean,
    parent: boolean,
    links: boolean,
    message: boolean,
    keys: readonly string[],
    kinds: Uint8Array,
    partB: Int32Array,
    dataStart: number,
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
    this.options = options;
    this.dataStart = dataStart;
  }
}

/** Whether the status message is written (as `writeSpan`): an error with a non-empty message, and no HTTP status code. */
function writesMessage(span: ReadableSpan, attributes: Attributes): boolean {
  const status = span.status;
  const message = status.message;
  return status.code === 2 && message !== undefined && message !== "" &&
    attributes[SPAN_PART_B_ATTRIBUTES[HTTP_STATUS_ROW][0]] === undefined;
}

/**
 * After the full encoder wrote `span` (and returned a length): the shape a
 * replay can repeat, or `undefined`.
 */
function captureSpanShape(
  b: EventBuffer,
  span: ReadableSpan,
  options: EncodeOptions,
): ResidentSpanShape | undefined {
  if (options.resourceAttributes.length !== 0) return undefined;
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
  const message = span.status.message;
  if (message !== undefined && typeof message !== "string") return undefined;
  const resourceAttributes = span.resource.attributes;
  const role = resourceAttributes["service.name"];
  const instance = resourceAttributes["service.instance.id"];
  if (
    (role !== undefined && role !== null && typeof role !== "string") ||
    (instance !== undefined && instance !== null &&
      typeof instance !== "string")
  ) return undefined;
  return new ResidentSpanShape(
    options,
    span.resource,
    role !== undefined && role !== null,
    instance !== undefined && instance !== null,
    isValidSpanId(span.parentSpanId),
    span.links.length > 0,
    writesMessage(span, attributes),
    keys,
    new Uint8Array(kinds),
    new Int32Array(partB),
    b.meta,
  );
}

/**
 * Writes an attribute value of `kind` as `addAnyValue` does, at `p`; -1 when
 * the value has another kind, a string is not ASCII, or past `end`.
 */
function replayValue(
  b: EventBuffer,
  shape: ResidentSpanShape,
  slot: number,
  p: number,
  kind: number,
  value: unknown,
  end: number,
): number {
  if (typeof value === "string") {
    if (kind !== KIND_STRING) return -1;
    return shape.memoAt[slot] === p && shape.memo[slot] === value
      ? shape.memoEnd[slot]
      : copyString(b.bytes, shape, slot, p, value, end);
  }
  if (typeof value === "number") {
    if (p + 8 > end) return -1;
    if (Number.isSafeInteger(value)) {
      if (kind !== KIND_INT) return -1;
      b.view.setUint32(p, value >>> 0, true);
      b.view.setUint32(p + 4, Math.floor(value / 4294967296) >>> 0, true);
    } else {
      if (kind !== KIND_FLOAT) return -1;
      b.view.setFloat64(p, value, true);
    }
    return p + 8;
  }
  if (typeof value === "boolean") {
    if (kind !== KIND_BOOL || p + 1 > end) return -1;
    b.bytes[p] = value ? 1 : 0;
    return p + 1;
  }
  if (typeof value === "bigint") {
    if (kind !== KIND_BIGINT || p + 8 > end) return -1;
    b.view.setBigInt64(p, BigInt.asIntN(64, value), true);
    return p + 8;
  }
  return -1;
}

/**
 * Writes `span` by replaying `b.residentSpan`: returns the bytes to write
 * (with the 4-byte index), or -1 when the span does not have that shape or
 * needs the full encoder (nothing counted then; the data area may hold a
 * partial event, which the full encoder overwrites).
 *
 * @param b The buffer; `b.residentSpan` is the shape.
 * @param span The (checked) span.
 * @param options The options the shape was written with.
 * @returns The bytes to write, or -1.
 */
export function replaySpan(
  b: EventBuffer,
  span: ReadableSpan,
  options: EncodeOptions,
): number {
  const shape = b.residentSpan;
  if (
    shape === undefined || options !== shape.options ||
    span.resource !== shape.resource
  ) return -1;
  const bytes = b.bytes;
  const memo = shape.memo;
  const memoAt = shape.memoAt;
  const memoEnd = shape.memoEnd;
  const start = shape.dataStart;
  // The whole event (index excluded) within maxEventSize, as finishEvent.
  const end = Math.min(
    4 + (options.maxEventSize ?? PERF_MAX_EVENT_SIZE),
    start + MAX_EVENT_PAYLOAD,
  );
  // PartA: time (end), trace id, span id, [role], [instance].
  let p = replayTime(
    bytes,
    shape,
    0,
    start + 4, // __csver__ stays from the last event
    span.endTimeUnixMs,
    span.endTimeNanosInMs,
    end,
  );
  if (p < 0) return -1;
  const traceId = span.traceId;
  const spanId = span.spanId;
  if (typeof traceId !== "string" || typeof spanId !== "string") return -1;
  p = memoAt[SLOT_TRACE] === p && memo[SLOT_TRACE] === traceId
    ? memoEnd[SLOT_TRACE]
    : copyString(bytes, shape, SLOT_TRACE, p, traceId, end);
  if (p < 0) return -1;
  p = memoAt[SLOT_SPAN] === p && memo[SLOT_SPAN] === spanId
    ? memoEnd[SLOT_SPAN]
    : copyString(bytes, shape, SLOT_SPAN, p, spanId, end);
  if (p < 0) return -1;
  const resourceAttributes = shape.resource.attributes;
  if (shape.role) {
    const role = resourceAttributes["service.name"];
    if (typeof role !== "string") return -1;
    p = memoAt[SLOT_ROLE] === p && memo[SLOT_ROLE] === role
      ? memoEnd[SLOT_ROLE]
      : copyString(bytes, shape, SLOT_ROLE, p, role, end);
    if (p < 0) return -1;
  }
  if (shape.instance) {
    const instance = resourceAttributes["service.instance.id"];
    if (typeof instance !== "string") return -1;
    p = memoAt[SLOT_INSTANCE] === p && memo[SLOT_INSTANCE] === instance
      ? memoEnd[SLOT_INSTANCE]
      : copyString(bytes, shape, SLOT_INSTANCE, p, instance, end);
    if (p < 0) return -1;
  }
  // PartB: _typeName, name, startTime, success, kind, [parentId], [links],
  // [renamed attributes], [statusMessage].
  p = memoAt[SLOT_TYPE] === p && memo[SLOT_TYPE] === "Span"
    ? memoEnd[SLOT_TYPE]
    : copyString(bytes, shape, SLOT_TYPE, p, "Span", end);
  if (p < 0) return -1;
  const name = span.name;
  if (typeof name !== "string") return -1;
  p = memoAt[SLOT_NAME] === p && memo[SLOT_NAME] === name
    ? memoEnd[SLOT_NAME]
    : copyString(bytes, shape, SLOT_NAME, p, name, end);
  if (p < 0) return -1;
  p = replayTime(
    bytes,
    shape,
    1,
    p,
    span.startTimeUnixMs,
    span.startTimeNanosInMs,
    end,
  );
  if (p < 0 || p + 5 > end) return -1;
  const status = span.status;
  bytes[p] = status.code !== 2 ? 1 : 0;
  b.view.setUint32(p + 1, span.kind, true);
  p += 5;
  const parent = span.parentSpanId;
  if (isValidSpanId(parent) !== shape.parent) return -1;
  if (shape.parent) {
    p = memoAt[SLOT_PARENT] === p && memo[SLOT_PARENT] === parent
      ? memoEnd[SLOT_PARENT]
      : copyString(bytes, shape, SLOT_PARENT, p, parent!, end);
    if (p < 0) return -1;
  }
  const links = span.links;
  if ((links.length > 0) !== shape.links) return -1;
  if (shape.links) {
    p = replayLinks(bytes, p, links, end);
    if (p < 0) return -1;
  }
  const attributes = span.attributes;
  const keys = shape.keys;
  const kinds = shape.kinds;
  const partB = shape.partB;
  for (let j = 0; j < partB.length; j++) {
    const i = partB[j];
    p = replayValue(
      b,
      shape,
      SLOT_KEYS + i,
      p,
      kinds[i] & ~RENAMED,
      attributes[keys[i]],
      end,
    );
    if (p < 0) return -1;
  }
  if (writesMessage(span, attributes) !== shape.message) return -1;
  if (shape.message) {
    const message = status.message;
    if (typeof message !== "string") return -1;
    p = memoAt[SLOT_MESSAGE] === p && memo[SLOT_MESSAGE] === message
      ? memoEnd[SLOT_MESSAGE]
      : copyString(bytes, shape, SLOT_MESSAGE, p, message, end);
    if (p < 0) return -1;
  }
  // PartC: the same keys, in order, with the same kinds (the PartB ones in
  // their places, written above).
  let i = 0;
  const view = b.view;
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
      if (kind !== KIND_STRING) return -1;
      const slot = SLOT_KEYS + i;
      p = memoAt[slot] === p && memo[slot] === value
        ? memoEnd[slot]
        : copyString(bytes, shape, slot, p, value, end);
    } else if (typeof value === "number" && Number.isSafeInteger(value)) {
      if (kind !== KIND_INT || p + 8 > end) return -1;
      view.setUint32(p, value >>> 0, true);
      view.setUint32(p + 4, Math.floor(value / 4294967296) >>> 0, true);
      p += 8;
    } else {
      p = replayValue(b, shape, SLOT_KEYS + i, p, kind, value, end);
    }
    if (p < 0) return -1;
    i++;
  }
  if (i !== keys.length) return -1;
  bytes[11] = SPAN_LEVEL;
  return p;
}

/**
 * Writes `span` into `b` as {@linkcode encodeSpan} does, with the same
 * bytes and counters: by replaying the last span event's shape when the
 * span has it, else with the full encoder (after which the shape is kept
 * for the next span). May throw where {@linkcode encodeSpan} may.
 *
 * @param b The buffer.
 * @param span The (checked) span.
 * @param options The encoder options (the same object for every span of a processor).
 * @returns Bytes to write (with the 4-byte index), or `-ERANGE`.
 */
export function writeSpanEvent(
  b: EventBuffer,
  span: ReadableSpan,
  options: EncodeOptions,
): number {
  if (b.residentSpan !== undefined) {
    const shape = b.residentSpan;
    let n = -1;
    try {
      n = replaySpan(b, span, options);
    } catch {
      n = -1;
    }
    // A span written from inside this one (none today: a checked span runs
    // no user code) would have replaced the shape.
    if (n > 0 && b.residentSpan === shape) return n;
  }
  const duplicates = b.duplicateFields;
  const n = encodeSpan(b, span, options);
  // A shape whose duplicate names were skipped has fewer fields than keys.
  if (n > 0 && b.duplicateFields === duplicates) {
    b.residentSpan = captureSpanShape(b, span, options);
  }
  return n;
}
