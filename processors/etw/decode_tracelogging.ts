/**
 * A TraceLogging decoder for one event's metadata + payload pair (the
 * blobs of data descriptors 1 and 0), written from the format description.
 * A tool for tests and debugging, not a hot path.
 *
 * @module
 */

import { formatGuid, InType } from "../_tracelogging.ts";

/** A decoded field value. */
export type TraceLoggingValue =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | number[]
  | readonly TraceLoggingField[]
  | readonly TraceLoggingValue[];

/**
 * One decoded field.
 *
 * @example
 * ```ts
 * import type { TraceLoggingField } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const field: TraceLoggingField = { name: "count", inType: 9, outType: 0, tags: 0, value: 42n };
 * assert.equal(field.value, 42n);
 * ```
 */
export interface TraceLoggingField {
  /** The field's name. */
  readonly name: string;
  /** Its InType (without array flags). */
  readonly inType: number;
  /** Its OutType (0 when absent). */
  readonly outType: number;
  /** Its tags (0 when absent). */
  readonly tags: number;
  /**
   * The value: strings for string types, numbers for integers up to 32 bits
   * and floats, bigints for 64-bit integers and FILETIME, booleans for
   * BOOL32, bytes for BINARY/SID, the registry form for GUID, the eight
   * u16 members for SYSTEMTIME, the member fields for a STRUCT, an array of
   * values for array fields.
   */
  readonly value: TraceLoggingValue;
}

/**
 * A decoded event: its name, tags and fields.
 *
 * @example
 * ```ts
 * import type { TraceLoggingEvent } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const event: TraceLoggingEvent = { name: "Log", tags: 0, fields: [] };
 * assert.equal(event.name, "Log");
 * ```
 */
export interface TraceLoggingEvent {
  /** The event name. */
  readonly name: string;
  /** The event tags. */
  readonly tags: number;
  /** The top-level fields, in order. */
  readonly fields: readonly TraceLoggingField[];
}

const utf8 = new TextDecoder("utf-8");
const CP1252_HIGH = [
  0x20ac,
  0x81,
  0x201a,
  0x192,
  0x201e,
  0x2026,
  0x2020,
  0x2021,
  0x2c6,
  0x2030,
  0x160,
  0x2039,
  0x152,
  0x8d,
  0x17d,
  0x8f,
  0x90,
  0x2018,
  0x2019,
  0x201c,
  0x201d,
  0x2022,
  0x2013,
  0x2014,
  0x2dc,
  0x2122,
  0x161,
  0x203a,
  0x153,
  0x9d,
  0x17e,
  0x178,
];

function cp1252(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    out += String.fromCharCode(
      b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : b,
    );
  }
  return out;
}

function decode8(bytes: Uint8Array, outType: number): string {
  // UTF8, XML and JSON mean UTF-8; otherwise decoders assume CP1252. Pure
  // ASCII reads the same either way.
  return outType === 35 || outType === 11 || outType === 12
    ? utf8.decode(bytes)
    : cp1252(bytes);
}

class Reader {
  pos = 0;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly what: string;
  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.what = what;
  }
  need(n: number): number {
    if (this.pos + n > this.bytes.length) {
      throw new RangeError(
        `Cannot decode TraceLogging ${this.what}: ${n} bytes needed at offset ${this.pos}, ${this.bytes.length} in total`,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number {
    return this.bytes[this.need(1)];
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  cstr(): string {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0) {
      throw new RangeError(
        `Cannot decode TraceLogging ${this.what}: unterminated string at ${this.pos}`,
      );
    }
    const s = utf8.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  tags(): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.u8();
      value = (value << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) return value << (7 * (3 - i));
    }
    throw new RangeError(
      `Cannot decode TraceLogging ${this.what}: tags longer than 4 bytes at ${this.pos}`,
    );
  }
}

interface FieldMeta {
  name: string;
  inType: number;
  outType: number;
  tags: number;
  array: "none" | "const" | "variable";
  constCount: number;
}

function readFieldMeta(meta: Reader): FieldMeta {
  const name = meta.cstr();
  const inMeta = meta.u8();
  let outType = 0;
  let tags = 0;
  if (inMeta & 0x80) {
    const outMeta = meta.u8();
    outType = outMeta & 0x7f;
    if (outMeta & 0x80) tags = meta.tags();
  }
  const flags = inMeta & 0x60;
  const array = flags === 0x20 ? "const" : flags === 0x40 ? "variable" : "none";
  if (flags === 0x60) {
    throw new RangeError(
      `Cannot decode TraceLogging metadata: field "${name}" has both array flags`,
    );
  }
  const constCount = array === "const" ? meta.u16() : 0;
  return { name, inType: inMeta & 0x1f, outType, tags, array, constCount };
}

function readScalar(
  inType: number,
  outType: number,
  data: Reader,
): TraceLoggingValue {
  const v = data.view;
  switch (inType) {
    case InType.UNICODESTRING: {
      let s = "";
      while (true) {
        const c = v.getUint16(data.need(2), true);
        if (c === 0) return s;
        s += String.fromCharCode(c);
      }
    }
    case InType.ANSISTRING: {
      const end = data.bytes.indexOf(0, data.pos);
      if (end < 0) {
        throw new RangeError(
          `Cannot decode TraceLogging payload: unterminated string at ${data.pos}`,
        );
      }
      const s = decode8(data.bytes.subarray(data.pos, end), outType);
      data.pos = end + 1;
      return s;
    }
    case InType.INT8:
      return v.getInt8(data.need(1));
    case InType.UINT8:
      return v.getUint8(data.need(1));
    case InType.INT16:
      return v.getInt16(data.need(2), true);
    case InType.UINT16:
      return v.getUint16(data.need(2), true);
    case InType.INT32:
      return v.getInt32(data.need(4), true);
    case InType.UINT32:
    case InType.HEXINT32:
      return v.getUint32(data.need(4), true);
    case InType.INT64:
      return v.getBigInt64(data.need(8), true);
    case InType.UINT64:
    case InType.HEXINT64:
    case InType.FILETIME:
      return v.getBigUint64(data.need(8), true);
    case InType.FLOAT:
      return v.getFloat32(data.need(4), true);
    case InType.DOUBLE:
      return v.getFloat64(data.need(8), true);
    case InType.BOOL32:
      return v.getInt32(data.need(4), true) !== 0;
    case InType.BINARY:
    case InType.COUNTEDBINARY: {
      const n = data.u16();
      return data.bytes.slice(data.need(n), data.pos);
    }
    case InType.GUID:
      return formatGuid(data.bytes.subarray(data.need(16), data.pos));
    case InType.SYSTEMTIME: {
      const at = data.need(16);
      const out: number[] = [];
      for (let i = 0; i < 8; i++) out.push(v.getUint16(at + 2 * i, true));
      return out;
    }
    case InType.SID: {
      const at = data.pos;
      data.need(8);
      const count = data.bytes[at + 1];
      data.need(4 * count);
      return data.bytes.slice(at, data.pos);
    }
    case InType.COUNTEDSTRING: {
      const n = data.u16();
      const at = data.need(n);
      let s = "";
      for (let p = at; p + 1 < at + n; p += 2) {
        s += String.fromCharCode(v.getUint16(p, true));
      }
      return s;
    }
    case InType.COUNTEDANSISTRING: {
      const n = data.u16();
      return decode8(data.bytes.subarray(data.need(n), data.pos), outType);
    }
    default:
      throw new RangeError(
        `Cannot decode TraceLogging field: unknown InType ${inType}`,
      );
  }
}

function readField(meta: Reader, data: Reader): TraceLoggingField {
  const f = readFieldMeta(meta);
  if (f.inType === InType.STRUCT) {
    const count = f.outType;
    if (count === 0) {
      throw new RangeError(
        `Cannot decode TraceLogging metadata: struct "${f.name}" has no members`,
      );
    }
    const metaStart = meta.pos;
    const decodeOnce = (): TraceLoggingField[] => {
      meta.pos = metaStart;
      const members: TraceLoggingField[] = [];
      for (let i = 0; i < count; i++) members.push(readField(meta, data));
      return members;
    };
    if (f.array === "none") {
      return {
        name: f.name,
        inType: f.inType,
        outType: 0,
        tags: f.tags,
        value: decodeOnce(),
      };
    }
    const n = f.array === "const" ? f.constCount : data.u16();
    const items: TraceLoggingField[][] = [];
    if (n === 0) {
      // Skip the member metadata without payload.
      skipMembers(meta, count);
    }
    for (let i = 0; i < n; i++) items.push(decodeOnce());
    return {
      name: f.name,
      inType: f.inType,
      outType: 0,
      tags: f.tags,
      value: items,
    };
  }
  if (f.array === "none") {
    return {
      name: f.name,
      inType: f.inType,
      outType: f.outType,
      tags: f.tags,
      value: readScalar(f.inType, f.outType, data),
    };
  }
  const n = f.array === "const" ? f.constCount : data.u16();
  const items: TraceLoggingValue[] = [];
  for (let i = 0; i < n; i++) items.push(readScalar(f.inType, f.outType, data));
  return {
    name: f.name,
    inType: f.inType,
    outType: f.outType,
    tags: f.tags,
    value: items,
  };
}

function skipMembers(meta: Reader, count: number): void {
  for (let i = 0; i < count; i++) {
    const f = readFieldMeta(meta);
    if (f.inType === InType.STRUCT) skipMembers(meta, f.outType);
  }
}

/**
 * Decodes one TraceLogging event from its metadata blob (data descriptor
 * type 1) and its payload (type 0).
 *
 * @param metadata The event metadata, starting with its u16 size.
 * @param payload The payload bytes.
 * @returns The event name, tags and fields.
 * @throws {RangeError} When the blobs are malformed, the size field does
 *   not match, or payload bytes are left over.
 *
 * @example Decode a one-field event
 * ```ts
 * import { decodeTraceLogging } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * // size 12 · tags 0 · "E" · field "count" INT16
 * const meta = Uint8Array.from([0x0c, 0x00, 0x00, 0x45, 0x00, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x05]);
 * const event = decodeTraceLogging(meta, Uint8Array.from([7, 0]));
 * assert.equal(event.name, "E");
 * assert.deepEqual(event.fields[0], { name: "count", inType: 5, outType: 0, tags: 0, value: 7 });
 * ```
 */
export function decodeTraceLogging(
  metadata: Uint8Array,
  payload: Uint8Array,
): TraceLoggingEvent {
  const meta = new Reader(metadata, "metadata");
  const size = meta.u16();
  if (size !== metadata.length) {
    throw new RangeError(
      `Cannot decode TraceLogging metadata: size field ${size}, blob ${metadata.length} bytes`,
    );
  }
  const tags = meta.tags();
  const name = meta.cstr();
  const data = new Reader(payload, "payload");
  const fields: TraceLoggingField[] = [];
  while (meta.pos < metadata.length) fields.push(readField(meta, data));
  if (data.pos !== payload.length) {
    throw new RangeError(
      `Cannot decode TraceLogging payload: ${
        payload.length - data.pos
      } bytes left over`,
    );
  }
  return { name, tags, fields };
}

/** A plain-object view of decoded fields (see {@linkcode traceLoggingFieldsToObject}). */
export interface TraceLoggingObject {
  /** A field's value, or a nested object for a struct. */
  readonly [name: string]: unknown;
}

/**
 * Turns decoded fields into a plain object: structs become nested objects,
 * other fields their value (a repeated name keeps the last value).
 *
 * @param fields Decoded fields.
 * @returns The object.
 *
 * @example
 * ```ts
 * import { traceLoggingFieldsToObject } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const fields = [{ name: "PartB", inType: 24, outType: 0, tags: 0, value: [{ name: "body", inType: 23, outType: 0, tags: 0, value: "hi" }] }];
 * assert.deepEqual(traceLoggingFieldsToObject(fields), { PartB: { body: "hi" } });
 * ```
 */
export function traceLoggingFieldsToObject(
  fields: readonly TraceLoggingField[],
): TraceLoggingObject {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    // A struct has at least one member; an array of structs holds arrays (or nothing).
    const struct = f.inType === InType.STRUCT && Array.isArray(f.value) &&
      f.value.length > 0 &&
      !Array.isArray(f.value[0]);
    const value = struct
      ? traceLoggingFieldsToObject(f.value as unknown as TraceLoggingField[])
      : f.value;
    // defineProperty: a field named "__proto__" stays a field.
    Object.defineProperty(out, f.name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
