/**
 * The EventHeader encoder (pure: record + buffer in, length out) used by the
 * Linux `user_events` processors, following the OpenTelemetry Rust contrib
 * `user_events` exporters' mapping (`shared/docs/user-events.md` §3-4).
 *
 * Layout of the buffer (`EVENT_BUFFER_SIZE` bytes, usually native memory):
 *
 * | offset | what |
 * | --- | --- |
 * | 0 | `write_index` (u32, set by the caller before `write`) |
 * | 4 | `eventheader` (8 bytes) |
 * | 12 | metadata extension header (4 bytes) |
 * | 16 | metadata, then (after {@linkcode finishEvent}) the field data |
 * | 65536 | scratch area: field data while encoding |
 *
 * Metadata (event name, field names and encodings) is recorded as tokens
 * while the field data goes to the scratch area; {@linkcode finishEvent}
 * then copies the metadata block of that exact token sequence from the
 * buffer's {@linkcode MetadataCache}, or renders it (and caches it) on a miss.
 * The bytes are the same either way; only the work differs.
 *
 * Size rule: an event (the bytes after the `write_index`: header, extension,
 * metadata, data) may hold at most {@linkcode EventBuffer.maxEventSize}
 * bytes, by default {@linkcode PERF_MAX_EVENT_SIZE} (what perf keeps) and at
 * most {@linkcode KERNEL_MAX_EVENT_SIZE}. {@linkcode encodeLogRecord} and
 * {@linkcode encodeSpan} cut the longest string values first, all to one
 * common length (`_cut.ts`; counted in `truncatedValues`), and drop the event
 * (`-ERANGE`) only when its other bytes alone do not fit. A string is also
 * cut to 65,535 bytes, the largest counted string. Structs keep at most 127
 * members; attributes beyond that are skipped and counted in `cappedFields`.
 *
 * @module
 */

import { writeRfc3339Fraction, writeRfc3339Millis } from "./_rfc3339.ts";
import {
  type LogTimeMemo,
  type SecondText,
  writeSecondText,
} from "./_replay_time.ts";
import type { AnyValue, Attributes } from "../pipeline/attributes.ts";
import type { LogRecordData } from "../pipeline/logs/log_record.ts";
import type { Resource } from "../pipeline/resource.ts";
import type { ReadableSpan } from "../pipeline/trace/span.ts";
import { formatRfc3339, isExactTime } from "../pipeline/time.ts";
import {
  hasDuplicateSiblings,
  METADATA_CACHE_SHAPES,
  MetadataCache,
} from "./_metadata_cache.ts";
import { cutLength } from "./_cut.ts";
import { copyString } from "./_replay_string.ts";
import { RawLogFields, type ReplayLimits } from "./_raw_fields.ts";
import type { ResidentSpanShape } from "./_span_replay.ts";
import {
  isValidSpanId,
  SPAN_PART_B_ATTRIBUTES,
  SPAN_PART_B_NAMES,
} from "./_span_part_b.ts";
import {
  KERNEL_MAX_EVENT_SIZE,
  PERF_MAX_EVENT_SIZE,
} from "./user_events/options.ts";

/** The field list every EventHeader tracepoint registers, after its name. */
export const EVENTHEADER_FIELDS =
  " u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode; u8 level";
/** The most bytes of metadata plus data in one event (65535 - 68, as `eventheader_dynamic`). */
export const MAX_EVENT_PAYLOAD = 65535 - 68;
/** The longest counted string (u16 byte count). */
const MAX_COUNTED = 65535;
/** Where the metadata starts. */
export const META_OFFSET = 16;
/** Where field data is staged while encoding. */
export const SCRATCH_OFFSET = 65536;
/** The size of an event buffer. */
export const EVENT_BUFFER_SIZE = SCRATCH_OFFSET + 65536;
/** `ERANGE`: the event is too large. */
export const ERANGE = 34;
/** The most members of one struct. */
export const MAX_STRUCT_MEMBERS = 127;
/** `__csver__` value of the Common Schema 4.0 layout the Rust exporters write. */
export const CS_VERSION = 0x400;

const META_END = META_OFFSET + MAX_EVENT_PAYLOAD;
const DATA_END = SCRATCH_OFFSET + MAX_EVENT_PAYLOAD;

// Encodings and formats (eventheader.h).
const ENC_STRUCT = 1;
const ENC_VALUE8 = 2;
const ENC_VALUE16 = 3;
const ENC_VALUE32 = 4;
const ENC_VALUE64 = 5;
const ENC_STRING16 = 10;
const FMT_UNSIGNED = 1;
const FMT_SIGNED = 2;
const FMT_BOOLEAN = 7;
const FMT_FLOAT = 8;

const encoder = new TextEncoder();

/** The most metadata tokens of one event (the struct caps keep real events far below). */
const MAX_TOKENS = 1024;
/** Token code of a bare name (the event name): no encoding byte. */
const NAME_ONLY = -1;

/**
 * A reusable event buffer with its cursors and counters.
 */
export class EventBuffer implements SecondText {
  /** The bytes (at least {@linkcode EVENT_BUFFER_SIZE}). */
  readonly bytes: Uint8Array;
  /** A view over the same bytes. */
  readonly view: DataView;
  /** Metadata cursor (valid after {@linkcode finishEvent}). */
  meta: number = META_OFFSET;
  /** Data cursor (in the scratch area). */
  data: number = SCRATCH_OFFSET;
  /** Set when the metadata did not fit (the event cannot be cut to fit). */
  overflow: boolean = false;
  /** The most bytes of an event after the `write_index` (see the module). */
  maxEventSize: number = KERNEL_MAX_EVENT_SIZE;
  /** The most bytes of one string value (65,535, or a planned cut length while an event is written again). */
  cap: number = MAX_COUNTED;
  /** Set by {@linkcode finishEvent} when an over-size event fits with `cap` = `plannedCap`. */
  cutPlanned: boolean = false;
  /** The cut length {@linkcode finishEvent} planned. */
  plannedCap: number = MAX_COUNTED;
  /** Bytes this pass did not write for lack of room (the event is then cut or dropped). */
  unwritten: number = 0;
  /** Byte lengths the string values of this event want (first `values`). */
  readonly lengths: Int32Array = new Int32Array(MAX_TOKENS);
  /** String values of this event so far. */
  values: number = 0;
  /** Values cut in this pass. */
  cuts: number = 0;
  /** Values cut in written events, since construction. */
  truncatedValues: number = 0;
  readonly #scratch: Int32Array = new Int32Array(MAX_TOKENS);
  /** Struct members skipped because a struct already had 127. */
  cappedFields: number = 0;
  /** `PartC` fields skipped because their written name equals an earlier one's (see {@linkcode writtenName}). */
  duplicateFields: number = 0;
  /** While set, `PartC` skips names already written (the second pass of an event whose shape had duplicates). */
  dedupe: boolean = false;
  /** While set (by the log and span encoders), {@linkcode finishEvent} refuses a new shape with duplicate sibling names so that the encoder writes it again with `dedupe`. */
  checkDuplicates: boolean = false;
  /** Metadata blocks of recent event shapes. */
  readonly metadataCache: MetadataCache;
  /** Metadata tokens of the current event: names… */
  readonly names: string[] = [];
  /** …and codes (encoding byte, with the format in bits 8-15; -1 for a bare name). */
  readonly codes: Int32Array = new Int32Array(MAX_TOKENS);
  /** Tokens of the current event. */
  tokens: number = 0;
  /** The last shape's names while this event's names are equal so far (then `names` is stale). */
  following: readonly string[] | undefined = undefined;
  /** The second whose `YYYY-MM-DDTHH:MM:SS` is in `secondText`. */
  second: number = NaN;
  /** ASCII bytes of that text. */
  readonly secondText: Uint8Array = new Uint8Array(19);
  /**
   * The shape of the log event whose metadata the buffer holds now, while
   * the next record of that shape can be written by replaying it (data
   * only); cleared by {@linkcode beginEvent}.
   */
  resident: ResidentLogShape | undefined = undefined;
  /**
   * The same for the last span event (see `_span_replay.ts`); cleared by
   * {@linkcode beginEvent}.
   */
  residentSpan: ResidentSpanShape | undefined = undefined;

  /**
   * Wraps a buffer.
   *
   * @param buffer At least {@linkcode EVENT_BUFFER_SIZE} bytes; a new one by default.
   * @param cacheShapes Shapes its {@linkcode MetadataCache} keeps (0 disables it).
   * @throws {RangeError} When it is too small.
   */
  constructor(
    buffer: ArrayBuffer = new ArrayBuffer(EVENT_BUFFER_SIZE),
    cacheShapes: number = METADATA_CACHE_SHAPES,
  ) {
    if (buffer.byteLength < EVENT_BUFFER_SIZE) {
      throw new RangeError(
        `Cannot use an event buffer of ${buffer.byteLength} bytes: expected ${EVENT_BUFFER_SIZE}`,
      );
    }
    this.bytes = new Uint8Array(buffer, 0, EVENT_BUFFER_SIZE);
    this.view = new DataView(buffer, 0, EVENT_BUFFER_SIZE);
    this.metadataCache = new MetadataCache(cacheShapes);
  }

  /**
   * Sets `plannedCap` so that the event, written again with `cap` at it, has
   * at most `maxEventSize` bytes; `false` when even empty strings do not fit.
   *
   * @param eventBytes The size the event wanted.
   * @returns Whether a cut length exists.
   */
  planCut(eventBytes: number): boolean {
    const excess = Math.max(eventBytes - this.maxEventSize, 1);
    const cut = cutLength(this.lengths, this.values, excess, this.#scratch);
    if (cut < 0) return false;
    this.plannedCap = Math.min(cut, MAX_COUNTED);
    return true;
  }
}

/** Records a metadata token; returns its index. */
function token(b: EventBuffer, name: string, code: number): number {
  const i = b.tokens;
  if (i === MAX_TOKENS) {
    b.overflow = true;
    return i;
  }
  // While the names follow the last shape's, they are only compared; the
  // first difference copies the ones that matched.
  const following = b.following;
  if (following === undefined) {
    b.names[i] = name;
  } else if (following[i] !== name) {
    copyNames(b, following, i);
    b.names[i] = name;
  }
  b.codes[i] = code;
  b.tokens = i + 1;
  return i;
}

function copyNames(
  b: EventBuffer,
  following: readonly string[],
  n: number,
): void {
  const names = b.names;
  for (let j = 0; j < n; j++) names[j] = following[j];
  b.following = undefined;
}

/**
 * Starts an event: writes the header and the event name.
 *
 * @param b The buffer.
 * @param level 1-5.
 * @param opcode The opcode (0 = info).
 * @param eventName The event name (ASCII, no `;` or NUL).
 */
export function beginEvent(
  b: EventBuffer,
  level: number,
  opcode: number,
  eventName: string,
): void {
  const bytes = b.bytes;
  bytes[4] = 0x07; // pointer64 | little-endian | extension
  bytes[5] = 0; // version
  bytes[6] = 0; // id
  bytes[7] = 0;
  bytes[8] = 0; // tag
  bytes[9] = 0;
  bytes[10] = opcode;
  bytes[11] = level;
  b.meta = META_OFFSET;
  b.data = SCRATCH_OFFSET;
  b.overflow = false;
  b.cutPlanned = false;
  b.unwritten = 0;
  b.values = 0;
  b.cuts = 0;
  b.tokens = 0;
  b.following = b.metadataCache.lastNames;
  b.resident = undefined;
  b.residentSpan = undefined;
  token(b, eventName, NAME_ONLY);
}

/**
 * Finishes an event: writes the extension header and moves the data after
 * the metadata.
 *
 * When the event has more than `b.maxEventSize` bytes it returns `-ERANGE`;
 * if cutting string values can make it fit, it also sets `b.cutPlanned` and
 * `b.plannedCap`: with `b.cap` set to that, the same event written again
 * fits (as {@linkcode encodeLogRecord} does).
 *
 * @param b The buffer.
 * @returns The number of bytes to write (including the 4-byte index), or `-ERANGE`.
 */
export function finishEvent(b: EventBuffer): number {
  if (b.overflow) return -ERANGE;
  const n = b.tokens;
  const cache = b.metadataCache;
  const following = b.following;
  let cached: Uint8Array | undefined;
  if (following !== undefined) {
    if (following.length === n) cached = cache.findLast(b.codes, n);
    if (cached === undefined) copyNames(b, following, n);
  }
  if (cached === undefined) cached = cache.find(b.names, b.codes, n);
  if (cached !== undefined) {
    b.bytes.set(cached, META_OFFSET);
    b.meta = META_OFFSET + cached.length;
  } else {
    renderMetadata(b, n);
    if (b.overflow) return -ERANGE;
    // A new shape: checked once for sibling fields whose written names are
    // equal (the cache only ever holds shapes without).
    if (
      b.checkDuplicates && !b.dedupe &&
      hasDuplicateSiblings(b.names, b.codes, n, ENC_STRUCT, writtenName)
    ) {
      return DUPLICATE_NAMES;
    }
    cache.add(b.names, b.codes, n, b.bytes.subarray(META_OFFSET, b.meta));
  }
  const metaLength = b.meta - META_OFFSET;
  const dataLength = b.data - SCRATCH_OFFSET;
  // header (8) + extension header (4) + metadata + data
  const eventBytes = 12 + metaLength + dataLength + b.unwritten;
  if (b.overflow) return -ERANGE;
  if (eventBytes > b.maxEventSize || b.unwritten > 0) {
    b.cutPlanned = b.planCut(eventBytes);
    return -ERANGE;
  }
  b.truncatedValues += b.cuts;
  b.view.setUint16(12, metaLength, true);
  b.view.setUint16(14, 1, true); // metadata, no chain
  b.bytes.copyWithin(b.meta, SCRATCH_OFFSET, b.data);
  return b.meta + dataLength;
}

/** What finishEvent returns for a shape with duplicate sibling names (internal: the encoders write such an event again with `dedupe`). */
const DUPLICATE_NAMES = -17;

/** Writes one event into `b` from `item` (a log record or a span). */
type EventWriter<T> = (
  b: EventBuffer,
  item: T,
  level: number,
  options: EncodeOptions,
  eventName: string,
) => number;

/**
 * Writes an event with `write`; again with `dedupe` when its new shape has
 * sibling fields with equal written names; again with the planned cut when
 * it is larger than `maxEventSize`. The counters keep only the pass that is
 * written (cut fields and duplicates are not counted twice).
 */
function encodeEvent<T>(
  b: EventBuffer,
  write: EventWriter<T>,
  item: T,
  level: number,
  options: EncodeOptions,
  eventName: string,
): number {
  b.maxEventSize = options.maxEventSize ?? PERF_MAX_EVENT_SIZE;
  b.cutPlanned = false;
  const capped = b.cappedFields;
  const duplicates = b.duplicateFields;
  b.checkDuplicates = true;
  try {
    let n = write(b, item, level, options, eventName);
    if (n === DUPLICATE_NAMES) {
      b.dedupe = true;
      b.cappedFields = capped;
      b.cutPlanned = false;
      n = write(b, item, level, options, eventName);
    }
    if (n < 0 && b.cutPlanned) {
      b.cappedFields = capped;
      b.duplicateFields = duplicates;
      b.cap = b.plannedCap;
      n = write(b, item, level, options, eventName);
    }
    return n;
  } finally {
    b.checkDuplicates = false;
    b.dedupe = false;
    b.cap = MAX_COUNTED;
    b.cutPlanned = false;
  }
}

/**
 * The name a field gets in the metadata: lone surrogates become U+FFFD
 * (UTF-8 cannot hold them), `;` and NUL become `_` (the tracefs command
 * syntax). Two keys with the same written name are duplicates.
 *
 * @param name The key.
 * @returns The name as written.
 */
export function writtenName(name: string): string {
  return name.toWellFormed().replace(/[;\0]/g, "_");
}

/** Writes a NUL-terminated name into the metadata; `;` and NUL become `_`. */
function metaName(b: EventBuffer, name: string): void {
  const bytes = b.bytes;
  let p = b.meta;
  const n = name.length;
  if (p + n * 3 + 1 > META_END) {
    b.overflow = true;
    return;
  }
  let i = 0;
  for (; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) break;
    bytes[p + i] = c === 0x3b || c === 0 ? 0x5f : c;
  }
  if (i === n) {
    p += n;
  } else {
    const written =
      encoder.encodeInto(name, bytes.subarray(p, p + n * 3)).written;
    for (let j = 0; j < written; j++) {
      const c = bytes[p + j];
      if (c === 0x3b || c === 0) bytes[p + j] = 0x5f;
    }
    p += written;
  }
  bytes[p] = 0;
  b.meta = p + 1;
}

/** Writes the metadata of the current tokens from {@linkcode META_OFFSET}. */
function renderMetadata(b: EventBuffer, n: number): void {
  const names = b.names;
  const codes = b.codes;
  const bytes = b.bytes;
  b.meta = META_OFFSET;
  for (let i = 0; i < n; i++) {
    metaName(b, names[i]);
    const code = codes[i];
    if (code === NAME_ONLY) continue;
    if (b.meta + 2 > META_END) b.overflow = true;
    if (b.overflow) return;
    bytes[b.meta++] = code & 0xff;
    if (code > 0xff) bytes[b.meta++] = code >>> 8;
  }
}

/**
 * Adds a field's metadata: name, encoding and (when not 0) format.
 *
 * @param b The buffer.
 * @param name The field name.
 * @param encoding The encoding byte (without 0x80).
 * @param format The format, 0 for the default.
 */
export function metaField(
  b: EventBuffer,
  name: string,
  encoding: number,
  format: number,
): void {
  token(b, name, format === 0 ? encoding : encoding | 0x80 | (format << 8));
}

/**
 * Opens a struct; close it with {@linkcode endStruct}.
 *
 * @param b The buffer.
 * @param name The struct's name.
 * @returns Its token, for {@linkcode endStruct}.
 */
export function beginStruct(b: EventBuffer, name: string): number {
  return token(b, name, ENC_STRUCT | 0x80 | (1 << 8));
}

/**
 * Sets a struct's member count (1-127).
 *
 * @param b The buffer.
 * @param position What {@linkcode beginStruct} returned (its token).
 * @param count The number of members.
 */
export function endStruct(
  b: EventBuffer,
  position: number,
  count: number,
): void {
  if (position < MAX_TOKENS) {
    b.codes[position] = ENC_STRUCT | 0x80 | (count << 8);
  }
}

function reserve(b: EventBuffer, n: number): number {
  const p = b.data;
  if (p + n > DATA_END) {
    b.unwritten += n; // no room: counted, so the event is cut or dropped
    return -1;
  }
  b.data = p + n;
  return p;
}

/**
 * Adds a counted UTF-8 string field (`string_length16_char8`).
 *
 * @param b The buffer.
 * @param name The field name.
 * @param value The string; lone surrogates become U+FFFD.
 */
export function addString(b: EventBuffer, name: string, value: string): void {
  metaField(b, name, ENC_STRING16, 0);
  dataString(b, value);
}

/** A counted string that is never cut (ids, type names): short by construction. */
function addFixedString(b: EventBuffer, name: string, value: string): void {
  metaField(b, name, ENC_STRING16, 0);
  const values = b.values;
  const cap = b.cap;
  b.cap = MAX_COUNTED;
  dataString(b, value);
  b.cap = cap;
  b.values = values; // not a candidate for cutting
}

function dataString(b: EventBuffer, s: string): void {
  const bytes = b.bytes;
  const p = b.data;
  const start = p + 2;
  const n = s.length;
  if (start + n <= DATA_END && n <= b.cap) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      bytes[start + i] = c;
    }
    if (i === n) {
      bytes[p] = n & 0xff;
      bytes[p + 1] = n >>> 8;
      b.data = start + n;
      const v = b.values;
      b.lengths[v] = n;
      b.values = v + 1;
      return;
    }
  }
  dataStringSlow(b, s);
}

/** UTF-8 bytes of `s` (lone surrogates count as U+FFFD), stopping past `max`. */
function utf8Length(s: string, max: number): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n && bytes <= max; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes++;
    else if (c < 0x800) bytes += 2;
    else if (
      c >= 0xd800 && c < 0xdc00 && i + 1 < n &&
      (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function dataStringSlow(b: EventBuffer, s: string): void {
  const p = b.data;
  const start = p + 2;
  const cap = b.cap;
  // What the value wants (more than 65,535 when longer), and within the
  // counted-string limit.
  const full = utf8Length(s, MAX_COUNTED);
  const wanted = Math.min(full, MAX_COUNTED);
  const v = b.values;
  if (v < MAX_TOKENS) {
    b.lengths[v] = wanted;
    b.values = v + 1;
  }
  if (start > DATA_END) {
    b.unwritten += 2 + Math.min(wanted, cap);
    return;
  }
  const room = Math.min(DATA_END - start, cap);
  const result = encoder.encodeInto(s, b.bytes.subarray(start, start + room));
  const written = result.written;
  if (result.read < s.length) {
    if (full > cap) b.cuts++; // cut on purpose (65,535 bytes or the plan)
    // Cut for lack of room: the event is over budget, cut or dropped.
    if (room < cap) {
      const short = Math.min(wanted, cap) - written;
      if (short > 0) b.unwritten += short;
    }
  }
  b.view.setUint16(p, written, true);
  b.data = start + written;
}

/**
 * Adds a time as a counted string, the text of `formatRfc3339` (RFC 3339
 * UTC, 0/3/6/9 fraction digits), written straight into the data; the
 * date and time of day are kept per second in the buffer.
 *
 * The text is exact: a pair that is not an exact time (see `isExactTime`)
 * is written as time 0, `1970-01-01T00:00:00Z`, as `formatRfc3339` does.
 *
 * @param b The buffer.
 * @param name The field name.
 * @param unixMs Whole milliseconds since the epoch.
 * @param nanosInMs Nanoseconds within the millisecond.
 */
export function addTime(
  b: EventBuffer,
  name: string,
  unixMs: number,
  nanosInMs: number,
): void {
  metaField(b, name, ENC_STRING16, 0);
  const p = b.data;
  if (!isExactTime(unixMs, nanosInMs) || p + 32 > DATA_END) {
    dataString(b, formatRfc3339(unixMs, nanosInMs));
    return;
  }
  const second = Math.floor(unixMs / 1000);
  // unixMs - second * 1000 is unixMs % 1000 without a floating-point modulo;
  // the nanoseconds of the second are below 1e9, an exact integer.
  const nanos = (unixMs - second * 1000) * 1e6 + nanosInMs;
  const text = b.secondText;
  if (second !== b.second) {
    const iso = new Date(unixMs).toISOString();
    for (let i = 0; i < 19; i++) text[i] = iso.charCodeAt(i);
    b.second = second;
  }
  const bytes = b.bytes;
  let q = p + 2;
  for (let i = 0; i < 19; i++) bytes[q++] = text[i];
  if (nanos !== 0) q = writeRfc3339Fraction(bytes, q, nanos);
  bytes[q++] = 0x5a; // "Z"
  const length = q - p - 2;
  bytes[p] = length;
  bytes[p + 1] = 0;
  b.data = q;
}

/**
 * Adds a bool (`value8`, format boolean).
 *
 * @param b The buffer.
 * @param name The field name.
 * @param value The value.
 */
export function addBool(b: EventBuffer, name: string, value: boolean): void {
  metaField(b, name, ENC_VALUE8, FMT_BOOLEAN);
  const p = reserve(b, 1);
  if (p >= 0) b.bytes[p] = value ? 1 : 0;
}

/**
 * Adds a signed 16-bit integer.
 *
 * @param b The buffer.
 * @param name The field name.
 * @param value The value.
 */
export function addInt16(b: EventBuffer, name: string, value: number): void {
  metaField(b, name, ENC_VALUE16, FMT_SIGNED);
  const p = reserve(b, 2);
  if (p >= 0) b.view.setInt16(p, value, true);
}

/**
 * Adds an unsigned 32-bit integer.
 *
 * @param b The buffer.
 * @param name The field name.
 * @param value The value.
 */
export function addUint32(b: EventBuffer, name: string, value: number): void {
  metaField(b, name, ENC_VALUE32, FMT_UNSIGNED);
  const p = reserve(b, 4);
  if (p >= 0) b.view.setUint32(p, value, true);
}

/**
 * Adds a signed 32-bit integer.
 *
 * @param b The buffer.
 * @param name The field name.
 * @param value The value.
 */
export function addInt32(b: EventBuffer, name: string, value: number): void {
  metaField(b, name, ENC_VALUE32, FMT_SIGNED);
  const p = reserve(b, 4);
  if (p >= 0) b.view.setInt32(p, value, true);
}

/**
 * Adds a signed 64-bit integer from a safe integer or a bigint.
 *
 * @param b The buffer.
 * @param name The field name.
 * @param value The value.
 */
export function addInt64(
  b: EventBuffer,
  name: string,
  value: number | bigint,
): void {
  metaField(b, name, ENC_VALUE64, FMT_SIGNED);
  const p = reserve(b, 8);
  if (p < 0) return;
  if (typeof value === "bigint") {
    b.view.setBigInt64(p, BigInt.asIntN(64, value), true);
  } else {
    b.view.setUint32(p, value >>> 0, true);
    b.view.setUint32(p + 4, Math.floor(value / 4294967296) >>> 0, true);
  }
}

/**
 * Adds a double (`value64`, format float).
 *
 * @param b The buffer.
 * @param name The field name.
 * @param value The value.
 */
export function addFloat64(b: EventBuffer, name: string, value: number): void {
  metaField(b, name, ENC_VALUE64, FMT_FLOAT);
  const p = reserve(b, 8);
  if (p >= 0) b.view.setFloat64(p, value, true);
}

/**
 * Adds an OpenTelemetry value with the Rust exporters' rules: bool →
 * value8 boolean; integer (safe integer or int64 bigint) → value64 signed;
 * other number → value64 float; string → counted string; anything else
 * (bytes, arrays, maps, empty) → empty string.
 *
 * @param b The buffer.
 * @param name The field name.
 * @param value The value.
 */
export function addAnyValue(
  b: EventBuffer,
  name: string,
  value: AnyValue,
): void {
  switch (typeof value) {
    case "string":
      addString(b, name, value);
      return;
    case "boolean":
      addBool(b, name, value);
      return;
    case "number":
      if (Number.isSafeInteger(value)) addInt64(b, name, value);
      else addFloat64(b, name, value);
      return;
    case "bigint":
      addInt64(b, name, value);
      return;
    default:
      addString(b, name, "");
  }
}

function isIntValue(value: AnyValue): value is number | bigint {
  return typeof value === "bigint" ||
    (typeof value === "number" && Number.isSafeInteger(value));
}

function stringOf(value: AnyValue): string {
  return typeof value === "string" ? value : String(value);
}

/** Options of the encoders. */
export interface EncodeOptions {
  /** Resource attribute keys copied into `PartC`, after the attributes. */
  readonly resourceAttributes: readonly string[];
  /**
   * The most bytes of an event after the `write_index`.
   * @default {PERF_MAX_EVENT_SIZE}
   */
  readonly maxEventSize?: number;
}

function partA(
  b: EventBuffer,
  timeUnixMs: number,
  timeNanosInMs: number,
  traceId: string | undefined,
  spanId: string | undefined,
  resource: Resource,
): void {
  const position = beginStruct(b, "PartA");
  let count = 1;
  addTime(b, "time", timeUnixMs, timeNanosInMs);
  if (traceId !== undefined && spanId !== undefined) {
    addFixedString(b, "ext_dt_traceId", traceId);
    addFixedString(b, "ext_dt_spanId", spanId);
    count += 2;
  }
  const attributes = resource.attributes;
  const role = attributes["service.name"];
  if (role !== undefined && role !== null) {
    addString(b, "ext_cloud_role", stringOf(role));
    count++;
  }
  const instance = attributes["service.instance.id"];
  if (instance !== undefined && instance !== null) {
    addString(b, "ext_cloud_roleInstance", stringOf(instance));
    count++;
  }
  endStruct(b, position, count);
}

function isDuplicate(b: EventBuffer, seen: Set<string>, key: string): boolean {
  const name = writtenName(key);
  if (seen.has(name)) {
    b.duplicateFields++;
    return true;
  }
  seen.add(name);
  return false;
}

/** Writes PartC; `skip` names one key to leave out (or a rename table). */
function partC(
  b: EventBuffer,
  attributes: Attributes,
  resource: Resource,
  options: EncodeOptions,
  skipEventId: boolean,
  renames: Readonly<Record<string, string>> | undefined,
): void {
  let position = -1;
  let count = 0;
  // Only on the second pass of an event whose names collide: the first
  // field with a written name is kept, later ones are counted and skipped.
  const seen = b.dedupe ? new Set<string>() : undefined;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    if (skipEventId && key === "event_id" && isIntValue(value)) continue;
    if (renames !== undefined && renames[key] !== undefined) continue;
    if (seen !== undefined && isDuplicate(b, seen, key)) continue;
    if (count === MAX_STRUCT_MEMBERS) {
      b.cappedFields++;
      continue;
    }
    if (position < 0) position = beginStruct(b, "PartC");
    addAnyValue(b, key, value);
    count++;
  }
  const keys = options.resourceAttributes;
  for (let i = 0; i < keys.length; i++) {
    const value = resource.attributes[keys[i]];
    if (value === undefined) continue;
    if (seen !== undefined && isDuplicate(b, seen, keys[i])) continue;
    if (count === MAX_STRUCT_MEMBERS) {
      b.cappedFields++;
      continue;
    }
    if (position < 0) position = beginStruct(b, "PartC");
    addAnyValue(b, keys[i], value);
    count++;
  }
  if (position >= 0) endStruct(b, position, count);
}

/**
 * Encodes a log record as the Rust `opentelemetry-user-events-logs`
 * exporter does: event `Log` (or `eventName`), `__csver__`, `PartA`,
 * `PartC` (if any), `PartB`. An event over `options.maxEventSize` is written
 * again with its longest strings cut (see the module); `-ERANGE` when that
 * cannot make it fit.
 *
 * @param b The buffer.
 * @param record The resolved record.
 * @param level The EventHeader level (1-5) of its severity.
 * @param options Encoder options.
 * @param eventName The EventHeader event name.
 * @returns Bytes to write (with the 4-byte index), or `-ERANGE`.
 */
export function encodeLogRecord(
  b: EventBuffer,
  record: LogRecordData,
  level: number,
  options: EncodeOptions,
  eventName: string = "Log",
): number {
  const hasTime = record.timeUnixMs !== 0 || record.timeNanosInMs !== 0;
  const unixMs = hasTime ? record.timeUnixMs : record.observedTimeUnixMs;
  const nanosInMs = hasTime
    ? record.timeNanosInMs
    : record.observedTimeNanosInMs;
  // The replay writes exact times only (addTime writes others as time 0).
  if (
    b.resident !== undefined && record.eventName === undefined &&
    isExactTime(unixMs, nanosInMs)
  ) {
    const f = snapshotFields;
    const time = f.time;
    time.unixMs = unixMs;
    time.nanosInMs = nanosInMs;
    f.resource = record.resource;
    f.traceId = record.traceId;
    f.spanId = record.spanId;
    f.attributes = record.attributes;
    f.body = record.body;
    f.severityText = record.severityText;
    // Sanitized already: f.limits stays NO_LIMITS (and the two limits
    // Infinity).
    const n = replayLogRecord(
      b,
      level,
      options,
      eventName,
      f,
      record.severityNumber,
    );
    if (n > 0) return n;
  }
  const duplicates = b.duplicateFields;
  const n = encodeEvent(b, writeLogRecord, record, level, options, eventName);
  // A shape whose duplicate names were skipped has fewer fields than keys.
  if (n > 0 && b.duplicateFields === duplicates) {
    captureLogShape(b, record, options, eventName);
  }
  return n;
}

// --- Replay: the same shape again writes only its data ----------------------
//
// After a log event, the buffer holds its header, extension header and
// metadata at their final places. The next record with the same shape (event
// name, the same PartA fields, the same attribute keys in the same order with
// the same value kinds, the same PartB fields) has exactly that metadata, so
// it is written by overwriting the data after it and the level byte: no
// tokens, no cache lookup, no copy. Strings identical to the previous event's
// at the same offset are already in place and are skipped, as are the date
// and time of day of the same second. Anything the replay does not cover
// (another shape, a string that is not ASCII, cutting, event ids, event
// names, resource attributes in PartC) goes back to the full encoder, which
// writes the same bytes (tests/user_events compare both paths byte for byte).

/** The fields of a snapshot being replayed (read by replayLogRecord on entry, so a nested encode may reuse it). */
const snapshotFields = new RawLogFields();
const KIND_STRING = 1;
const KIND_BOOL = 2;
const KIND_INT = 3;
const KIND_FLOAT = 4;
const KIND_BIGINT = 5;

/** The value kind of an attribute or body as {@linkcode addAnyValue} writes it; 0 for kinds the replay leaves to the full encoder. */
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

/** The shape of the log event resident in an {@linkcode EventBuffer} (see `replayLogRecord`). */
export class ResidentLogShape implements LogTimeMemo {
  readonly eventName: string;
  readonly options: EncodeOptions;
  readonly resource: Resource;
  readonly traced: boolean;
  /**
   * The cloud role and instance strings (`undefined`: none), read when the
   * shape was taken: the resource is the shape's and Resource attributes
   * are frozen, so no lookups per event (as the ETW replay since 207eb0c).
   */
  readonly roleText: string | undefined;
  readonly instanceText: string | undefined;
  readonly keys: readonly string[];
  readonly kinds: Uint8Array;
  /** Body kind, or -1 for none. */
  readonly body: number;
  readonly severityText: boolean;
  /** Where the data starts (after the metadata). */
  readonly dataStart: number;
  /**
   * The first offset the event may not use: the whole event (index
   * excluded) within `options.maxEventSize`, as finishEvent; computed once
   * here instead of per replay (a load and a `??` less per event).
   */
  readonly end: number;
  /**
   * Strings of the last event by slot (0-1 trace and span id, 2-3 cloud
   * role and instance, 4 type name, 5 body, then the attributes, then the
   * severity text), where each was written and where it ended.
   */
  readonly memo: (string | undefined)[];
  readonly memoAt: Int32Array;
  readonly memoEnd: Int32Array;
  // LogTimeMemo (the second's text is the buffer's, see _replay_time.ts).
  timeAt: number = -1;
  timeSecondMs: number = NaN;
  timeMs: number = NaN;
  timeEnd: number = -1;
  /**
   * The limits the attribute slots' strings were checked against (others
   * reset those slots: see replayLogRecord), and their int32 bounds.
   */
  limits: ReplayLimits | undefined = undefined;
  lengthCap = 0;
  countCap = 0;

  constructor(
    eventName: string,
    options: EncodeOptions,
    resource: Resource,
    traced: boolean,
    roleText: string | undefined,
    instanceText: string | undefined,
    keys: readonly string[],
    kinds: Uint8Array,
    body: number,
    severityText: boolean,
    dataStart: number,
  ) {
    this.eventName = eventName;
    this.options = options;
    this.resource = resource;
    this.traced = traced;
    this.roleText = roleText;
    this.instanceText = instanceText;
    this.keys = keys;
    this.kinds = kinds;
    this.body = body;
    this.severityText = severityText;
    this.dataStart = dataStart;
    this.end = Math.min(
      4 + (options.maxEventSize ?? PERF_MAX_EVENT_SIZE),
      dataStart + MAX_EVENT_PAYLOAD,
    );
    const slots = keys.length + 7;
    this.memo = new Array<string | undefined>(slots).fill(undefined);
    this.memoAt = new Int32Array(slots).fill(-1);
    this.memoEnd = new Int32Array(slots);
  }
}

/** After the full encoder wrote `record`: keeps its shape when a replay can repeat it. */
function captureLogShape(
  b: EventBuffer,
  record: LogRecordData,
  options: EncodeOptions,
  eventName: string,
): void {
  if (
    options.resourceAttributes.length !== 0 || record.eventName !== undefined
  ) return;
  const attributes = record.attributes;
  const keys: string[] = [];
  const kinds: number[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    const kind = kindOf(value);
    if (kind === 0 || key === "event_id") return;
    keys.push(key);
    kinds.push(kind);
  }
  if (keys.length > MAX_STRUCT_MEMBERS) return;
  const body = record.body;
  const bodyKind = body === undefined || body === null ? -1 : kindOf(body);
  if (bodyKind === 0) return;
  const resourceAttributes = record.resource.attributes;
  const role = resourceAttributes["service.name"];
  const instance = resourceAttributes["service.instance.id"];
  if (
    (role !== undefined && role !== null && typeof role !== "string") ||
    (instance !== undefined && instance !== null &&
      typeof instance !== "string")
  ) return;
  b.resident = new ResidentLogShape(
    eventName,
    options,
    record.resource,
    record.traceId !== undefined && record.spanId !== undefined,
    role === undefined || role === null ? undefined : role as string,
    instance === undefined || instance === null
      ? undefined
      : instance as string,
    keys,
    new Uint8Array(kinds),
    bodyKind,
    record.severityText !== undefined,
    b.meta,
  );
}

function replayValue(
  b: EventBuffer,
  p: number,
  kind: number,
  value: AnyValue,
  end: number,
): number {
  if (kind === KIND_BOOL) {
    if (p + 1 > end) return -1;
    b.bytes[p] = value ? 1 : 0;
    return p + 1;
  }
  if (p + 8 > end) return -1;
  const view = b.view;
  if (kind === KIND_INT) {
    const v = value as number;
    view.setUint32(p, v >>> 0, true);
    view.setUint32(p + 4, Math.floor(v / 4294967296) >>> 0, true);
  } else if (kind === KIND_FLOAT) {
    view.setFloat64(p, value as number, true);
  } else {
    view.setBigInt64(p, BigInt.asIntN(64, value as bigint), true);
  }
  return p + 8;
}

/**
 * Writes a log event by replaying the resident shape from the record's
 * resolved fields; returns the bytes to write (with the 4-byte index), or -1
 * when the record does not have that shape or needs the full encoder
 * (nothing counted then, and the data area may hold a partial event).
 *
 * `attributes` are either sanitized (`fields.limits` is `NO_LIMITS`) or as
 * the caller gave them: then a string over `fields.limits`' value length
 * limit or more attributes than its count limit return -1, so that the sanitizer (and its
 * counters) sees them; so does a bigint outside int64 (attribute or body).
 *
 * @param b The buffer; `b.resident` is the shape.
 * @param level The EventHeader level (1-5).
 * @param options The options the shape was written with.
 * @param eventName The event name.
 * @param fields The record's resource, PartA time, trace and span id (valid,
 * if any), attributes, body and severity text (if any), and the sanitizer's
 * limits; read once, on entry.
 * @param severityNumber 1-24.
 * @returns The bytes to write, or -1.
 */
export function replayLogRecord(
  b: EventBuffer,
  level: number,
  options: EncodeOptions,
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
  const shape = b.resident;
  if (
    shape === undefined || eventName !== shape.eventName ||
    options !== shape.options || resource !== shape.resource
  ) return -1;
  const traced = traceId !== undefined && spanId !== undefined;
  if (traced !== shape.traced) return -1;
  const bytes = b.bytes;
  // The string checks inline (see _replay_string.ts): the JIT does not
  // inline calls into a function this large, and a call per field costs
  // more than the check.
  const memo = shape.memo;
  const memoAt = shape.memoAt;
  const memoEnd = shape.memoEnd;
  const end = shape.end;
  let p = shape.dataStart + 4; // __csver__ stays from the last event
  const unixMs = time.unixMs;
  const nanosInMs = time.nanosInMs;
  // Exact: readRawLogRecord took it from toExactTime (VALID) or the clock,
  // encodeLogRecord checks a snapshot's (so no isExactTime here, as in the
  // ETW replay since 76b83d8).
  if (p + 32 > end) return -1;
  // Inline but for a new second's text (see _replay_time.ts).
  // Also in etw/_etw_replay.ts: one shared call cost Bun 3-9% (67ccfe8).
  if (nanosInMs === 0 && shape.timeMs === unixMs && shape.timeAt === p) {
    p = shape.timeEnd;
  } else {
    let q = p + 2;
    let msInSecond = unixMs - shape.timeSecondMs;
    if (!(msInSecond >= 0 && msInSecond < 1000) || shape.timeAt !== p) {
      msInSecond = writeSecondText(bytes, shape, b, p, unixMs);
    }
    q += 19;
    if (nanosInMs === 0) {
      // | 0: an int32 argument (0-999 here, exact), not the double of the
      // subtraction above, which V8 passed boxed to this call that it does
      // not inline (bench/encode_vs_c.ts --vary-time: 0.94-0.95x on Deno).
      if (msInSecond !== 0) q = writeRfc3339Millis(bytes, q, msInSecond | 0);
    } else q = writeRfc3339Fraction(bytes, q, msInSecond * 1e6 + nanosInMs);
    bytes[q++] = 0x5a; // "Z"
    bytes[p] = q - p - 2;
    bytes[p + 1] = 0;
    shape.timeMs = nanosInMs === 0 ? unixMs : NaN;
    shape.timeEnd = q;
    p = q;
  }
  if (traced) {
    p = memoAt[0] === p && memo[0] === traceId!
      ? memoEnd[0]
      : copyString(bytes, shape, 0, p, traceId!, end);
    if (p < 0) return -1;
    p = memoAt[1] === p && memo[1] === spanId!
      ? memoEnd[1]
      : copyString(bytes, shape, 1, p, spanId!, end);
    if (p < 0) return -1;
  }
  // Slots 2-4 only ever hold one string each (the shape's role and
  // instance, "Log"): where the slot's text is, that string is.
  const role = shape.roleText;
  if (role !== undefined) {
    p = memoAt[2] === p
      ? memoEnd[2]
      : copyString(bytes, shape, 2, p, role, end);
    if (p < 0) return -1;
  }
  const instance = shape.instanceText;
  if (instance !== undefined) {
    p = memoAt[3] === p
      ? memoEnd[3]
      : copyString(bytes, shape, 3, p, instance, end);
    if (p < 0) return -1;
  }
  // PartC: the same keys, in order, with the same kinds.
  const keys = shape.keys;
  const kinds = shape.kinds;
  const keyCount = keys.length;
  // A string identical (===) to the one an attribute slot holds at the same
  // offset is in place and was checked when written (a string of this
  // slot's kind, its length against that event's limit: hence the reset
  // when the limit is another), so it is skipped before any kind test, as
  // in the ETW replay (207eb0c). The limits come from an object whose
  // limits never change (the sanitizer, or NO_LIMITS), so the shape keeps
  // them per object, as int32 bounds (limits are non-negative integers or
  // Infinity; no string is 2^31 long): an identity test per event and int
  // compares, where the limits themselves are doubles (Infinity), which
  // JSC unboxes with vector instructions that the VM's TCG emulates slowly.
  if (limits !== shape.limits) {
    shape.limits = limits;
    const v = limits.attributeValueLengthLimit;
    const c = limits.attributeCountLimit;
    shape.lengthCap = v < 0x7fffffff ? v | 0 : 0x7fffffff;
    shape.countCap = c < 0x7fffffff ? c | 0 : 0x7fffffff;
    memoAt.fill(-1, 6, 6 + keyCount);
  }
  const lengthCap = shape.lengthCap;
  let i = 0;
  if (attributes !== undefined) {
    // The kind tests inline (typeof in a switch and calls per field cost
    // V8 more than the writes).
    const view = b.view;
    for (const key in attributes) {
      const value = attributes[key];
      if (i === keyCount || key !== keys[i]) return -1;
      const slot = 6 + i;
      if (memoAt[slot] === p && memo[slot] === value) {
        p = memoEnd[slot];
        i++;
        continue;
      }
      const kind = kinds[i];
      if (typeof value === "string") {
        if (kind !== KIND_STRING || value.length > lengthCap) return -1;
        p = copyString(bytes, shape, slot, p, value, end);
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
          view.setUint32(p, value >>> 0, true);
          view.setUint32(p + 4, Math.floor(value / 4294967296) >>> 0, true);
        } else {
          if (kind !== KIND_FLOAT) return -1;
          view.setFloat64(p, value, true);
        }
        p += 8;
      } else if (typeof value === "boolean") {
        if (kind !== KIND_BOOL || p + 1 > end) return -1;
        bytes[p++] = value ? 1 : 0;
      } else if (typeof value === "bigint") {
        // Outside int64 the sanitizer writes a bigint as its decimal
        // string: the full encoder's job (a raw record's, never a
        // sanitized one's).
        if (kind !== KIND_BIGINT || BigInt.asIntN(64, value) !== value) {
          return -1;
        }
        p = replayValue(b, p, kind, value, end);
      } else return -1;
      if (p < 0) return -1;
      i++;
    }
  }
  if (i !== keyCount || i > shape.countCap) return -1;
  // PartB: _typeName, body, severityNumber, severityText.
  p = memoAt[4] === p ? memoEnd[4] : copyString(bytes, shape, 4, p, "Log", end);
  if (p < 0) return -1;
  // Slot 5 holds only a string body of a string-bodied shape: a hit there
  // needs no kind test.
  if (memoAt[5] === p && memo[5] === body) {
    p = memoEnd[5];
  } else if (body === undefined || body === null) {
    if (shape.body !== -1) return -1;
  } else if (typeof body === "string") {
    if (shape.body !== KIND_STRING) return -1;
    p = copyString(bytes, shape, 5, p, body, end);
    if (p < 0) return -1;
  } else {
    const kind = kindOf(body);
    if (kind !== shape.body) return -1;
    if (
      kind === KIND_BIGINT && BigInt.asIntN(64, body as bigint) !== body
    ) return -1;
    p = replayValue(b, p, kind, body as AnyValue, end);
    if (p < 0) return -1;
  }
  if (p + 2 > end) return -1;
  b.view.setInt16(p, severityNumber, true);
  p += 2;
  if ((severityText !== undefined) !== shape.severityText) return -1;
  if (severityText !== undefined) {
    const slot = 6 + keyCount;
    p = memoAt[slot] === p && memo[slot] === severityText
      ? memoEnd[slot]
      : copyString(bytes, shape, slot, p, severityText, end);
    if (p < 0) return -1;
  }
  bytes[11] = level;
  return p;
}

function writeLogRecord(
  b: EventBuffer,
  record: LogRecordData,
  level: number,
  options: EncodeOptions,
  eventName: string,
): number {
  beginEvent(b, level, 0, eventName);
  addUint32(b, "__csver__", CS_VERSION);
  // The timestamp when set, else the observed time (as the Rust exporter).
  const hasTime = record.timeUnixMs !== 0 || record.timeNanosInMs !== 0;
  partA(
    b,
    hasTime ? record.timeUnixMs : record.observedTimeUnixMs,
    hasTime ? record.timeNanosInMs : record.observedTimeNanosInMs,
    record.traceId,
    record.spanId,
    record.resource,
  );
  const attributes = record.attributes;
  partC(b, attributes, record.resource, options, true, undefined);

  const position = beginStruct(b, "PartB");
  let count = 1;
  addFixedString(b, "_typeName", "Log");
  const body = record.body;
  if (body !== undefined && body !== null) {
    addAnyValue(b, "body", body);
    count++;
  }
  addInt16(b, "severityNumber", record.severityNumber);
  count++;
  if (record.severityText !== undefined) {
    addString(b, "severityText", record.severityText);
    count++;
  }
  const eventId = attributes["event_id"];
  if (eventId !== undefined && isIntValue(eventId)) {
    addInt64(b, "eventId", eventId);
    count++;
  }
  const name = record.eventName;
  if (name !== undefined && name.trim() !== "") {
    addString(b, "name", name);
    count++;
  }
  endStruct(b, position, count);
  return finishEvent(b);
}

/**
 * Well-known span attributes that move into `PartB` under a new name (the
 * table both OS span encoders share).
 */
export const SPAN_RENAMES: Readonly<Record<string, string>> = SPAN_PART_B_NAMES;

/**
 * Encodes an ended span as the Rust `opentelemetry-user-events-trace`
 * exporter does: event `Span` at level 4, `__csver__`, `PartA`, `PartB`,
 * `PartC` (if any). Size rules as {@linkcode encodeLogRecord}.
 *
 * @param b The buffer.
 * @param span The ended span.
 * @param options Encoder options.
 * @returns Bytes to write (with the 4-byte index), or `-ERANGE`.
 */
export function encodeSpan(
  b: EventBuffer,
  span: ReadableSpan,
  options: EncodeOptions,
): number {
  return encodeEvent(b, writeSpan, span, 4, options, "Span");
}

function writeSpan(
  b: EventBuffer,
  span: ReadableSpan,
  level: number,
  options: EncodeOptions,
  eventName: string,
): number {
  beginEvent(b, level, 0, eventName);
  addUint32(b, "__csver__", CS_VERSION);
  partA(
    b,
    span.endTimeUnixMs,
    span.endTimeNanosInMs,
    span.traceId,
    span.spanId,
    span.resource,
  );

  const position = beginStruct(b, "PartB");
  let count = 5;
  addFixedString(b, "_typeName", "Span");
  addString(b, "name", span.name);
  addTime(b, "startTime", span.startTimeUnixMs, span.startTimeNanosInMs);
  addBool(b, "success", span.status.code !== 2);
  addUint32(b, "kind", span.kind);
  if (isValidSpanId(span.parentSpanId)) {
    addFixedString(b, "parentId", span.parentSpanId);
    count++;
  }
  const links = span.links;
  if (links.length > 0) {
    let json = "[";
    for (let i = 0; i < links.length; i++) {
      if (i > 0) json += ",";
      json += '{"toTraceId":"' + links[i].traceId + '","toSpanId":"' +
        links[i].spanId + '"}';
    }
    addString(b, "links", json + "]");
    count++;
  }
  const attributes = span.attributes;
  let hasHttpStatus = false;
  for (let i = 0; i < SPAN_PART_B_ATTRIBUTES.length; i++) {
    const entry = SPAN_PART_B_ATTRIBUTES[i];
    const key = entry[0];
    const renamed = entry[1];
    const value = attributes[key];
    if (value === undefined) continue;
    if (renamed === "httpStatusCode") hasHttpStatus = true;
    addAnyValue(b, renamed, value);
    count++;
  }
  const message = span.status.message;
  if (
    span.status.code === 2 && message !== undefined && message !== "" &&
    !hasHttpStatus
  ) {
    addString(b, "statusMessage", message);
    count++;
  }
  endStruct(b, position, count);
  partC(b, attributes, span.resource, options, false, SPAN_RENAMES);
  return finishEvent(b);
}
