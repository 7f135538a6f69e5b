/**
 * The text fields both span replays (`_span_replay.ts` for user_events,
 * `etw/_etw_span_replay.ts` for ETW) write the same way: a counted RFC 3339
 * time and the links as a counted JSON string, written in place without
 * building a string. Both formats count a string with a little-endian u16.
 *
 * @module
 */

import type { Resource } from "../pipeline/resource.ts";
import type { SpanLink } from "../pipeline/trace/span.ts";
import { isExactTime } from "../pipeline/time.ts";
import { writeRfc3339Fraction } from "./_rfc3339.ts";

const encoder = new TextEncoder();
const LINK_OPEN = encoder.encode('{"toTraceId":"');
const LINK_MIDDLE = encoder.encode('","toSpanId":"');

/** Per time field of a span shape (0: end, 1: start): what the last event left in the buffer. */
export interface SpanTimeMemo {
  /** The second whose date and time of day text is at `secondAt`. */
  readonly second: Float64Array;
  readonly secondAt: Int32Array;
  /** The `YYYY-MM-DDTHH:MM:SS` bytes of `textSecond`, 19 per time. */
  readonly text: Uint8Array;
  readonly textSecond: Float64Array;
}

/**
 * What both span replays key a shape on and remember of the last event
 * written with it; each format's subclass adds where its payload starts.
 */
export class SpanShape implements SpanTimeMemo {
  readonly resource: Resource;
  readonly role: boolean;
  readonly instance: boolean;
  readonly parent: boolean;
  readonly links: boolean;
  readonly message: boolean;
  /** Every attribute key with a value, in enumeration order. */
  readonly keys: readonly string[];
  /** Their kinds, with the format's renamed flag on the PartB ones. */
  readonly kinds: Uint8Array;
  /** Indices into `keys` of the PartB attributes, in the order of the rename table. */
  readonly partB: Int32Array;
  /** The last event's strings by slot (the format's fixed slots, then one per key), where each was written and where it ended. */
  readonly memo: (string | undefined)[];
  readonly memoAt: Int32Array;
  readonly memoEnd: Int32Array;
  /** For the end time (0) and the start time (1): the second whose text is at `secondAt`. */
  readonly second: Float64Array = new Float64Array(2).fill(NaN);
  readonly secondAt: Int32Array = new Int32Array(2).fill(-1);
  /** The `YYYY-MM-DDTHH:MM:SS` bytes of `textSecond`, 19 per time. */
  readonly text: Uint8Array = new Uint8Array(38);
  readonly textSecond: Float64Array = new Float64Array(2).fill(NaN);

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
    fixedSlots: number,
  ) {
    this.resource = resource;
    this.role = role;
    this.instance = instance;
    this.parent = parent;
    this.links = links;
    this.message = message;
    this.keys = keys;
    this.kinds = kinds;
    this.partB = partB;
    const slots = fixedSlots + keys.length;
    this.memo = new Array<string | undefined>(slots).fill(undefined);
    this.memoAt = new Int32Array(slots).fill(-1);
    this.memoEnd = new Int32Array(slots);
  }
}

/**
 * Writes a time as a counted RFC 3339 string (the text of `formatRfc3339`,
 * as the EventHeader `addTime` and TraceLogging `rfc3339` write it) at `p`;
 * the date and time of day are skipped when the last event had them there.
 *
 * @param bytes The buffer.
 * @param shape The shape's time memo.
 * @param which 0 (end time) or 1 (start time).
 * @param p Where the count goes.
 * @param unixMs Whole milliseconds.
 * @param nanosInMs Nanoseconds within the millisecond.
 * @param end The first offset the event may not use.
 * @returns The offset after it, or -1 (not an exact time, or past `end`).
 */
export function replayTime(
  bytes: Uint8Array,
  shape: SpanTimeMemo,
  which: number,
  p: number,
  unixMs: number,
  nanosInMs: number,
  end: number,
): number {
  if (!isExactTime(unixMs, nanosInMs) || p + 32 > end) return -1;
  const second = Math.floor(unixMs / 1000);
  const nanos = (unixMs - second * 1000) * 1e6 + nanosInMs;
  let q = p + 2;
  if (shape.second[which] !== second || shape.secondAt[which] !== q) {
    const text = shape.text;
    const t = which * 19;
    if (shape.textSecond[which] !== second) {
      const iso = new Date(second * 1000).toISOString();
      for (let i = 0; i < 19; i++) text[t + i] = iso.charCodeAt(i);
      shape.textSecond[which] = second;
    }
    for (let i = 0; i < 19; i++) bytes[q + i] = text[t + i];
    shape.second[which] = second;
    shape.secondAt[which] = q;
  }
  q += 19;
  if (nanos !== 0) q = writeRfc3339Fraction(bytes, q, nanos);
  bytes[q++] = 0x5a; // "Z"
  bytes[p] = q - p - 2;
  bytes[p + 1] = 0;
  return q;
}

/** Copies an ASCII string's code units to `q`; -1 when one is not ASCII or past `end`. */
function asciiAt(
  bytes: Uint8Array,
  q: number,
  s: unknown,
  end: number,
): number {
  if (typeof s !== "string") return -1;
  const n = s.length;
  if (q + n > end) return -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    bytes[q + i] = c;
  }
  return q + n;
}

/**
 * Writes the links as the counted string both full span encoders build
 * (`[{"toTraceId":"…","toSpanId":"…"},…]`), without building it.
 *
 * @param bytes The buffer.
 * @param p Where the count goes.
 * @param links The span's links (at least one).
 * @param end The first offset the event may not use.
 * @returns The offset after it, or -1 when an id is not an ASCII string or the text does not fit.
 */
export function replayLinks(
  bytes: Uint8Array,
  p: number,
  links: readonly SpanLink[],
  end: number,
): number {
  let q = p + 2;
  if (q + 1 > end) return -1;
  bytes[q++] = 0x5b; // [
  for (let i = 0; i < links.length; i++) {
    const link = links[i];
    if (q + 1 + LINK_OPEN.length > end) return -1;
    if (i > 0) bytes[q++] = 0x2c; // ,
    bytes.set(LINK_OPEN, q);
    q = asciiAt(bytes, q + LINK_OPEN.length, link.traceId, end);
    if (q < 0 || q + LINK_MIDDLE.length > end) return -1;
    bytes.set(LINK_MIDDLE, q);
    q = asciiAt(bytes, q + LINK_MIDDLE.length, link.spanId, end);
    if (q < 0 || q + 2 > end) return -1;
    bytes[q++] = 0x22; // "
    bytes[q++] = 0x7d; // }
  }
  if (q + 1 > end) return -1;
  bytes[q++] = 0x5d; // ]
  const length = q - p - 2;
  // A counted string holds at most 65,535 bytes (the full encoder cuts).
  if (length > 65535) return -1;
  bytes[p] = length & 0xff;
  bytes[p + 1] = length >>> 8;
  return q;
}
