/**
 * A decoder for EventHeader events: read back what a `user_events` processor
 * wrote (from `perf` samples or the ftrace ring buffer).
 *
 * @module
 */

/**
 * A decoded value: numbers for integers that fit, `bigint` for 64-bit ones
 * that do not, strings, booleans, bytes, the members of a struct
 * (`DecodedField[]`), or the elements of an array.
 */
export type DecodedValue =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | readonly DecodedField[]
  | readonly DecodedValue[];

/**
 * One field of a decoded event.
 *
 * @example
 * ```ts
 * import type { DecodedField } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const field: DecodedField = { name: "msg", encoding: 10, format: 0, tag: 0, array: false, value: "hi" };
 * assert.equal(field.value, "hi");
 * ```
 */
export interface DecodedField {
  /** The field's name. */
  readonly name: string;
  /** The encoding (low 5 bits of the encoding byte): 1 struct, 2-6 value8-128, 7-13 strings and binary. */
  readonly encoding: number;
  /** The format (for structs: the member count). */
  readonly format: number;
  /** The field tag, 0 when absent. */
  readonly tag: number;
  /** Whether the field is an array (its value is then an array of elements). */
  readonly array: boolean;
  /** The value; a struct's value is its members. */
  readonly value: DecodedValue;
}

/**
 * A decoded EventHeader event.
 *
 * @example
 * ```ts
 * import type { DecodedEvent } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const check = (event: DecodedEvent) => event.provider + ":" + event.name;
 * assert.equal(typeof check, "function");
 * ```
 */
export interface DecodedEvent {
  /** The tracepoint name, e.g. `MyProvider_L4K1`. */
  readonly tracepointName: string;
  /** The provider name, e.g. `MyProvider`. */
  readonly provider: string;
  /** The keyword from the tracepoint name. */
  readonly keyword: bigint;
  /** Options after the keyword in the tracepoint name (e.g. `Gmygroup`), or `""`. */
  readonly options: string;
  /** The event name from the metadata. */
  readonly name: string;
  /** The `;name=value` attributes after the event name, or `""`. */
  readonly nameAttributes: string;
  /** Header flags (0x07 for 64-bit little-endian with extensions). */
  readonly flags: number;
  /** Header version. */
  readonly version: number;
  /** Header id. */
  readonly id: number;
  /** Header tag. */
  readonly tag: number;
  /** Header opcode. */
  readonly opcode: number;
  /** Header level (equals the level in the tracepoint name). */
  readonly level: number;
  /** The activity id (32 hex digits), if the event has one. */
  readonly activityId: string | undefined;
  /** The related activity id (32 hex digits), if the event has one. */
  readonly relatedActivityId: string | undefined;
  /** The fields, in order. */
  readonly fields: readonly DecodedField[];
}

const NAME_PATTERN = /^(.+)_L([0-9a-f]+)K([0-9a-f]+)((?:[A-Z][0-9a-z]*)*)$/;
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const utf16 = new TextDecoder("utf-16le", { ignoreBOM: true });

interface MetaNode {
  name: string;
  encoding: number;
  format: number;
  tag: number;
  arrayKind: 0 | 1 | 2; // none, constant length, variable length
  arrayLength: number;
  members: MetaNode[];
  // Error-message subjects, built once per cached shape rather than for
  // every value decoded (a template string per field per event showed as
  // the listener's largest cost after the values themselves).
  valueWhat: string;
  lengthWhat: string;
  countWhat: string;
}

function fail(message: string): never {
  throw new RangeError(`Cannot decode EventHeader event: ${message}`);
}

class Cursor {
  view: DataView;
  bytes: Uint8Array;
  /** Where the event starts in `bytes`: offsets in messages count from here. */
  base: number;
  end: number;
  pos: number;
  constructor(
    view: DataView,
    bytes: Uint8Array,
    start: number,
    end: number,
    base: number = start,
  ) {
    this.view = view;
    this.bytes = bytes;
    this.base = base;
    this.end = end;
    this.pos = start;
  }
  need(n: number, what: string): number {
    const p = this.pos;
    if (p + n > this.end) {
      fail(
        `${what} needs ${n} bytes at offset ${p - this.base}, ${
          this.end - p
        } left`,
      );
    }
    this.pos = p + n;
    return p;
  }
  u8(what: string): number {
    return this.bytes[this.need(1, what)];
  }
  u16(what: string): number {
    return this.view.getUint16(this.need(2, what), true);
  }
  zstring(what: string): string {
    const start = this.pos;
    let p = start;
    while (p < this.end && this.bytes[p] !== 0) p++;
    if (p >= this.end) {
      fail(`${what} at offset ${start - this.base} has no terminating NUL`);
    }
    this.pos = p + 1;
    return decodeUtf8(this.bytes, start, p);
  }
}

/** Longest ASCII string built from char codes instead of a TextDecoder call. */
const ASCII_MAX = 128;
/** Longest string remembered in {@linkcode internedStrings}. */
const INTERN_MAX = 32;
const INTERN_SLOTS = 512;
// The last short ASCII string seen per hash slot: a value a writer repeats
// (a severity text, a service name, `_typeName`) comes back as the string
// built before instead of a new one. Bounded (512 strings of at most 32
// chars, per process) and only a cache: the result is the same string.
const internedBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX);
const internedLengths = new Int32Array(INTERN_SLOTS).fill(-1);
const internedStrings: string[] = new Array<string>(INTERN_SLOTS).fill("");
// One array of char codes per length, for String.fromCharCode.apply: one
// string allocated, where `s += char` allocated one per character (on V8
// ~600 bytes for a 32-char trace id).
const charCodes: number[][] = [];
for (let n = 0; n <= ASCII_MAX; n++) {
  charCodes.push(new Array<number>(n).fill(0));
}

/**
 * UTF-8 bytes `[start, end)` as a string. ASCII strings of up to 128 bytes
 * (field names, most values) are built here, short ones looked up first:
 * on Deno each `TextDecoder.decode` is a call into the runtime plus a
 * subarray, several per event in a listener's stream. The result is the
 * same: ASCII decodes to itself.
 */
function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= ASCII_MAX) {
    let hash = n;
    let i = start;
    for (; i < end; i++) {
      const b = bytes[i];
      if (b >= 0x80) break;
      hash = Math.imul(hash ^ b, 0x01000193);
    }
    if (i === end) {
      if (n === 0) return "";
      if (n > INTERN_MAX) return fromCharCodes(bytes, start, n);
      const slot = (hash ^ (hash >>> 15)) & (INTERN_SLOTS - 1);
      const at = slot * INTERN_MAX;
      if (internedLengths[slot] === n) {
        let k = 0;
        while (k < n && internedBytes[at + k] === bytes[start + k]) k++;
        if (k === n) return internedStrings[slot];
      }
      const s = fromCharCodes(bytes, start, n);
      for (let k = 0; k < n; k++) internedBytes[at + k] = bytes[start + k];
      internedLengths[slot] = n;
      internedStrings[slot] = s;
      return s;
    }
  }
  return utf8.decode(bytes.subarray(start, end));
}

function fromCharCodes(bytes: Uint8Array, start: number, n: number): string {
  const codes = charCodes[n];
  for (let k = 0; k < n; k++) codes[k] = bytes[start + k];
  return String.fromCharCode.apply(null, codes);
}

function hex(bytes: Uint8Array, start: number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    s += bytes[start + i].toString(16).padStart(2, "0");
  }
  return s;
}

function parseMeta(c: Cursor): MetaNode {
  const name = c.zstring("field name");
  const encByte = c.u8(`encoding of field "${name}"`);
  const encoding = encByte & 0x1f;
  let format = 0;
  let tag = 0;
  if (encByte & 0x80) {
    const fmtByte = c.u8(`format of field "${name}"`);
    format = fmtByte & 0x7f;
    if (fmtByte & 0x80) tag = c.u16(`tag of field "${name}"`);
  }
  let arrayKind: 0 | 1 | 2 = 0;
  let arrayLength = 0;
  if ((encByte & 0x60) === 0x60) {
    fail(`field "${name}" is both a constant- and a variable-length array`);
  }
  if (encByte & 0x20) {
    arrayKind = 1;
    arrayLength = c.u16(`array length of field "${name}"`);
    if (arrayLength === 0) {
      fail(`field "${name}" is a constant-length array of length 0`);
    }
  } else if (encByte & 0x40) {
    arrayKind = 2;
  }
  if (encoding === 0 || encoding > 13) {
    fail(`field "${name}" has unknown encoding ${encoding}`);
  }
  const members: MetaNode[] = [];
  if (encoding === 1) {
    if (format === 0) fail(`struct "${name}" has no members`);
    for (let i = 0; i < format; i++) {
      if (c.pos >= c.end) {
        fail(
          `struct "${name}" declares ${format} members but the metadata ends after ${i}`,
        );
      }
      members.push(parseMeta(c));
    }
  }
  return {
    name,
    encoding,
    format,
    tag,
    arrayKind,
    arrayLength,
    members,
    valueWhat: `value of field "${name}"`,
    lengthWhat: `length of field "${name}"`,
    countWhat: `element count of field "${name}"`,
  };
}

function int64(value: bigint): number | bigint {
  return value >= -9007199254740991n && value <= 9007199254740991n
    ? Number(value)
    : value;
}

function readElement(node: MetaNode, c: Cursor): DecodedValue {
  const { view, bytes } = c;
  const what = node.valueWhat;
  const format = node.format;
  switch (node.encoding) {
    case 1: {
      const members = node.members;
      const fields = new Array<DecodedField>(members.length);
      for (let i = 0; i < members.length; i++) {
        fields[i] = readField(members[i], c);
      }
      return fields;
    }
    case 2: {
      const p = c.need(1, what);
      if (format === 7) return bytes[p] !== 0;
      if (format === 2) return view.getInt8(p);
      return bytes[p];
    }
    case 3: {
      const p = c.need(2, what);
      if (format === 7) return view.getUint16(p, true) !== 0;
      if (format === 2) return view.getInt16(p, true);
      if (format === 16) return view.getUint16(p, false); // port: network order
      return view.getUint16(p, true);
    }
    case 4: {
      const p = c.need(4, what);
      if (format === 7) return view.getUint32(p, true) !== 0;
      if (format === 8) return view.getFloat32(p, true);
      if (format === 2 || format === 4 || format === 6) {
        return view.getInt32(p, true);
      }
      return view.getUint32(p, true);
    }
    case 5: {
      const p = c.need(8, what);
      if (format === 8) return view.getFloat64(p, true);
      if (format === 7) return view.getBigUint64(p, true) !== 0n;
      // Within +-2^53 from two 32-bit halves, without a BigInt per value.
      const lo = view.getUint32(p, true);
      if (format === 2 || format === 6) {
        const hi = view.getInt32(p + 4, true);
        if (hi > -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
        return int64(view.getBigInt64(p, true));
      }
      const hi = view.getUint32(p + 4, true);
      if (hi < 0x200000) return hi * 4294967296 + lo;
      return int64(view.getBigUint64(p, true));
    }
    case 6: {
      const p = c.need(16, what);
      return bytes.slice(p, p + 16);
    }
    case 7: {
      return c.zstring(what);
    }
    case 8: {
      const start = c.pos;
      let p = start;
      while (p + 2 <= c.end && view.getUint16(p, true) !== 0) p += 2;
      if (p + 2 > c.end) {
        fail(
          `${what} at offset ${start - c.base} has no terminating NUL`,
        );
      }
      c.pos = p + 2;
      return utf16.decode(bytes.subarray(start, p));
    }
    case 9: {
      const start = c.pos;
      let p = start;
      let s = "";
      while (p + 4 <= c.end && view.getUint32(p, true) !== 0) {
        const cp = view.getUint32(p, true);
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
        p += 4;
      }
      if (p + 4 > c.end) {
        fail(
          `${what} at offset ${start - c.base} has no terminating NUL`,
        );
      }
      c.pos = p + 4;
      return s;
    }
    case 10: {
      const n = c.u16(node.lengthWhat);
      const p = c.need(n, what);
      if (format === 9) return bytes.slice(p, p + n);
      return decodeUtf8(bytes, p, p + n);
    }
    case 11: {
      const n = c.u16(node.lengthWhat);
      const p = c.need(n * 2, what);
      return utf16.decode(bytes.subarray(p, p + n * 2));
    }
    case 12: {
      const n = c.u16(node.lengthWhat);
      const p = c.need(n * 4, what);
      let s = "";
      for (let i = 0; i < n; i++) {
        const cp = view.getUint32(p + 4 * i, true);
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
      }
      return s;
    }
    default: { // 13 binary
      const n = c.u16(node.lengthWhat);
      const p = c.need(n, what);
      if (format === 10 || format === 11) {
        return decodeUtf8(bytes, p, p + n);
      }
      return bytes.slice(p, p + n);
    }
  }
}

function readField(node: MetaNode, c: Cursor): DecodedField {
  let value: DecodedValue;
  if (node.arrayKind === 0) {
    value = readElement(node, c);
  } else {
    const n = node.arrayKind === 1 ? node.arrayLength : c.u16(node.countWhat);
    const values: DecodedValue[] = [];
    for (let i = 0; i < n; i++) values.push(readElement(node, c));
    value = values;
  }
  return {
    name: node.name,
    encoding: node.encoding,
    format: node.format,
    tag: node.tag,
    array: node.arrayKind !== 0,
    value,
  };
}

/**
 * Decodes one EventHeader event: the tracepoint name it was written to and
 * the bytes after the 4-byte `write_index` (as perf and ftrace record them,
 * after the 8-byte common header). Trailing bytes after the last field (ring
 * buffer padding) are ignored.
 *
 * @param tracepointName The tracepoint name, e.g. `MyProvider_L4K1`.
 * @param event The event bytes: header, extensions, field data.
 * @returns The decoded event.
 * @throws {RangeError} When the name is not an EventHeader tracepoint name,
 * the level does not match it, or the bytes are malformed or truncated.
 *
 * @example Decode the worked example of the specification
 * ```ts
 * import { decodeEventHeader, decodedFieldsToObject } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const hexBytes =
 *   "0700000000000004390001004d794576656e74006d7367000a636f756e740084025061727442008102" +
 *   "5f747970654e616d65000a73657665726974794e756d626572008302020068" +
 *   "69fbffffff03004c6f670900";
 * const bytes = new Uint8Array(hexBytes.match(/../g)!.map((h) => parseInt(h, 16)));
 * const event = decodeEventHeader("MyProvider_L4K1", bytes);
 * assert.equal(event.provider + ":" + event.name, "MyProvider:MyEvent");
 * assert.deepEqual(decodedFieldsToObject(event.fields), {
 *   msg: "hi", count: -5, PartB: { _typeName: "Log", severityNumber: 9 },
 * });
 * ```
 */
export function decodeEventHeader(
  tracepointName: string,
  event: Uint8Array,
): DecodedEvent {
  checkArguments(tracepointName, event);
  return decode(
    undefined,
    tracepointName,
    event,
    undefined,
    0,
    event.byteLength,
    undefined,
  );
}

interface NameInfo {
  readonly provider: string;
  readonly keyword: bigint;
  readonly options: string;
  readonly level: number;
  readonly shapes: Shape[];
}

interface Shape {
  readonly meta: Uint8Array;
  readonly name: string;
  readonly nameAttributes: string;
  readonly nodes: readonly MetaNode[];
}

const MAX_NAMES = 1024;
const MAX_SHAPES = 32;

/**
 * An EventHeader decoder that remembers what it has parsed: the tracepoint
 * names and, per name, the metadata (event name and field list) of the
 * last 32 distinct event shapes.
 * A writer sends the same metadata with every event of a shape, so a
 * listener decoding a stream parses each shape once and then only reads
 * the values. Results are exactly those of {@linkcode decodeEventHeader}.
 * Memory is bounded: at most 1024 names of 32 shapes each are kept; past
 * that it decodes without remembering.
 *
 * @example
 * ```ts
 * import { EventHeaderDecoder, decodedFieldsToObject } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const hexBytes =
 *   "0700000000000004390001004d794576656e74006d7367000a636f756e740084025061727442008102" +
 *   "5f747970654e616d65000a73657665726974794e756d626572008302020068" +
 *   "69fbffffff03004c6f670900";
 * const bytes = new Uint8Array(hexBytes.match(/../g)!.map((h) => parseInt(h, 16)));
 * const decoder = new EventHeaderDecoder();
 * decoder.decode("MyProvider_L4K1", bytes);
 * const event = decoder.decode("MyProvider_L4K1", bytes); // metadata from the cache
 * assert.equal(event.name, "MyEvent");
 * assert.equal(decodedFieldsToObject(event.fields).msg, "hi");
 * ```
 */
export class EventHeaderDecoder {
  readonly #names = new Map<string, NameInfo>();

  /**
   * Decodes one event, as {@linkcode decodeEventHeader} does.
   *
   * @param tracepointName The tracepoint name, e.g. `MyProvider_L4K1`.
   * @param event The event bytes: header, extensions, field data.
   * @returns The decoded event.
   * @throws {RangeError} As {@linkcode decodeEventHeader}.
   */
  decode(tracepointName: string, event: Uint8Array): DecodedEvent {
    checkArguments(tracepointName, event);
    // A fresh cursor per call: `event` may be a subclass whose methods
    // call back into this decoder.
    return decode(
      this.#names,
      tracepointName,
      event,
      undefined,
      0,
      event.byteLength,
      undefined,
    );
  }
}

/**
 * @internal The listener's decoder: an {@linkcode EventHeaderDecoder} that
 * reads an event where it lies in a larger buffer (`bytes[start, end)`,
 * `view` over the same bytes from offset 0), so a listener decoding a
 * stream allocates no subarray, DataView or cursor per event. Results,
 * errors (offsets counted from `start`) and cache bounds are those of
 * {@linkcode EventHeaderDecoder.decode}. Not re-entrant (one cursor), so
 * only for plain `Uint8Array`s the caller owns.
 */
export class EventHeaderRangeDecoder {
  readonly #names = new Map<string, NameInfo>();
  readonly #cursor = new Cursor(
    new DataView(new ArrayBuffer(0)),
    new Uint8Array(0),
    0,
    0,
  );

  /**
   * Decodes the event in `bytes[start, end)`.
   *
   * @param tracepointName The tracepoint name (a string).
   * @param bytes The buffer holding the event.
   * @param view A view over `bytes` (same offset and length).
   * @param start The event's first byte.
   * @param end One past its last byte.
   * @returns The decoded event.
   * @throws {RangeError} As {@linkcode decodeEventHeader}.
   */
  decode(
    tracepointName: string,
    bytes: Uint8Array,
    view: DataView,
    start: number,
    end: number,
  ): DecodedEvent {
    return decode(
      this.#names,
      tracepointName,
      bytes,
      view,
      start,
      end,
      this.#cursor,
    );
  }
}

function nameInfo(
  cache: Map<string, NameInfo> | undefined,
  tracepointName: string,
): NameInfo {
  const known = cache?.get(tracepointName);
  if (known !== undefined) return known;
  const match = NAME_PATTERN.exec(tracepointName);
  if (match === null) {
    fail(
      `"${tracepointName}" is not an EventHeader tracepoint name (<provider>_L<level>K<keyword>)`,
    );
  }
  const info: NameInfo = {
    provider: match[1],
    keyword: BigInt("0x" + match[3]),
    options: match[4],
    level: parseInt(match[2], 16),
    shapes: [],
  };
  if (cache !== undefined && cache.size < MAX_NAMES) {
    cache.set(tracepointName, info);
  }
  return info;
}

function sameBytes(a: Uint8Array, b: Uint8Array, start: number): boolean {
  const n = a.length;
  for (let i = 0; i < n; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

function checkArguments(tracepointName: unknown, event: unknown): void {
  if (typeof tracepointName !== "string") {
    throw new TypeError(
      "Cannot decode EventHeader event: tracepointName is not a string",
    );
  }
  if (!(event instanceof Uint8Array)) {
    throw new TypeError(
      "Cannot decode EventHeader event: event is not a Uint8Array",
    );
  }
}

function decode(
  cache: Map<string, NameInfo> | undefined,
  tracepointName: string,
  event: Uint8Array,
  eventView: DataView | undefined,
  start: number,
  end: number,
  cursor: Cursor | undefined,
): DecodedEvent {
  const info = nameInfo(cache, tracepointName);
  const nameLevel = info.level;
  const view = eventView ??
    new DataView(event.buffer, event.byteOffset, event.byteLength);
  let c: Cursor;
  if (cursor === undefined) {
    c = new Cursor(view, event, start, end);
  } else {
    c = cursor;
    c.view = view;
    c.bytes = event;
    c.base = start;
    c.end = end;
    c.pos = start;
  }
  const h = c.need(8, "eventheader");
  const flags = event[h];
  if ((flags & 0x02) === 0) {
    fail(
      `flags 0x${
        flags.toString(16)
      } say big-endian; only little-endian events are supported`,
    );
  }
  const version = event[h + 1];
  const id = view.getUint16(h + 2, true);
  const tag = view.getUint16(h + 4, true);
  const opcode = event[h + 6];
  const level = event[h + 7];
  if (level !== nameLevel) {
    fail(
      `header level ${level} does not match level ${nameLevel} of tracepoint "${tracepointName}"`,
    );
  }
  let activityId: string | undefined;
  let relatedActivityId: string | undefined;
  let metaStart = -1;
  let metaEnd = -1;
  if (flags & 0x04) {
    for (;;) {
      const size = c.u16("extension size");
      const kind = c.u16("extension kind");
      const k = kind & 0x7fff;
      // The subject only on failure: a template string per event otherwise.
      const p = c.pos + size <= c.end
        ? c.need(size, "extension")
        : c.need(size, `extension of kind ${k}`);
      if (k === 1) {
        if (metaStart >= 0) fail("more than one metadata extension");
        metaStart = p;
        metaEnd = p + size;
      } else if (k === 2) {
        if (size !== 16 && size !== 32) {
          fail(`activity id extension of ${size} bytes (expected 16 or 32)`);
        }
        activityId = hex(event, p, 16);
        if (size === 32) relatedActivityId = hex(event, p + 16, 16);
      }
      if ((kind & 0x8000) === 0) break;
    }
  }
  if (metaStart < 0) fail("no metadata extension");
  const metaLength = metaEnd - metaStart;
  const shapes = info.shapes;
  let shape: Shape | undefined;
  for (let i = 0; i < shapes.length; i++) {
    const s = shapes[i];
    if (s.meta.length === metaLength && sameBytes(s.meta, event, metaStart)) {
      shape = s;
      break;
    }
  }
  if (shape === undefined) {
    const meta = new Cursor(view, event, metaStart, metaEnd, start);
    const fullName = meta.zstring("event name");
    const semicolon = fullName.indexOf(";");
    const nodes: MetaNode[] = [];
    while (meta.pos < meta.end) nodes.push(parseMeta(meta));
    shape = {
      meta: event.slice(metaStart, metaEnd),
      name: semicolon < 0 ? fullName : fullName.slice(0, semicolon),
      nameAttributes: semicolon < 0 ? "" : fullName.slice(semicolon),
      nodes,
    };
    if (cache !== undefined && cache.get(tracepointName) === info) {
      // Newest first; the oldest shape goes when the list is full.
      if (shapes.length >= MAX_SHAPES) shapes.pop();
      shapes.unshift(shape);
    }
  }
  const nodes = shape.nodes;
  // Exactly as long as it needs: from [] the first push() makes room for
  // 17 elements (V8: a 152-byte store for a 4-field event instead of 48).
  const fields = new Array<DecodedField>(nodes.length);
  for (let i = 0; i < nodes.length; i++) fields[i] = readField(nodes[i], c);
  return {
    tracepointName,
    provider: info.provider,
    keyword: info.keyword,
    options: info.options,
    name: shape.name,
    nameAttributes: shape.nameAttributes,
    flags,
    version,
    id,
    tag,
    opcode,
    level,
    activityId,
    relatedActivityId,
    fields,
  };
}

/**
 * Turns decoded fields into a plain object (structs become nested objects,
 * a later field with the same name wins), handy for comparisons and JSON.
 *
 * @param fields Decoded fields.
 * @returns An object keyed by field name.
 *
 * @example
 * ```ts
 * import { decodedFieldsToObject } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const object = decodedFieldsToObject([
 *   { name: "PartB", encoding: 1, format: 1, tag: 0, array: false, value: [
 *     { name: "_typeName", encoding: 10, format: 0, tag: 0, array: false, value: "Log" },
 *   ] },
 * ]);
 * assert.deepEqual(object, { PartB: { _typeName: "Log" } });
 * ```
 */
export function decodedFieldsToObject(
  fields: readonly DecodedField[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.encoding === 1) {
      out[field.name] = field.array
        ? (field.value as readonly DecodedField[][]).map((v) =>
          decodedFieldsToObject(v)
        )
        : decodedFieldsToObject(field.value as readonly DecodedField[]);
    } else {
      out[field.name] = field.value;
    }
  }
  return out;
}
