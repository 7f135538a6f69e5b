// The shared OTLP protobuf writer: the buffer, varints, length back-patching,
// strings, ids, fixed64 times, AnyValue and KeyValue, Resource and
// InstrumentationScope, and the grouping of items by resource and scope that
// every Export*ServiceRequest has. The per-signal encoders write their own
// messages with it: `_otlp_logs_proto.ts`, `_otlp_trace_proto.ts` and
// `_otlp_metrics_proto.ts`; `_otlp_response.ts` reads the responses.
//
// Wire format: https://protobuf.dev/programming-guides/encoding/ ; messages
// and field numbers: opentelemetry-proto `opentelemetry/proto/{common,
// resource}/v1/*.proto`.
//
// How it stays fast:
// - one growable buffer and one DataView; positions are passed and returned,
//   never a writer object per message. The exporters write into buffers they
//   take back after each request (ProtoBufferPool): no output bytes are
//   allocated per export, and no fresh pages are touched;
// - a length prefix is reserved with the width it usually needs (1 byte for
//   values and key-values, 2 for records and spans, 3 for the scope and
//   resource wrappers) and back-patched; only a wrong guess moves bytes;
// - ASCII strings are copied by a charCodeAt loop, others with encodeInto;
// - ids are written from hex eight digits at a time; fixed64 times as two uint32
//   halves; proto3 default values (0, "", absent) are not written.
//
// Every field this writes, by number:
// AnyValue: 1 string_value, 2 bool_value, 3 int_value (int64), 4 double_value,
//   5 array_value {1 values}, 6 kvlist_value {1 values}, 7 bytes_value.
// KeyValue: 1 key, 2 value. Resource: 1 attributes, 2 dropped_attributes_count.
// InstrumentationScope: 1 name, 2 version, 3 attributes, 4 dropped_attributes_count.
// ScopeX (ScopeLogs, ScopeSpans, ScopeMetrics): 1 scope, 2 items, 3 schema_url.
// ResourceX: 1 resource, 2 scope_x, 3 schema_url.

import type { AnyValue, Attributes } from "../pipeline/attributes.ts";
import { writeHexId } from "../pipeline/ids.ts";
import type { Resource } from "../pipeline/resource.ts";
import type { InstrumentationScope } from "../pipeline/scope.ts";
import { isExactTime, writeExactUnixNanoFixed64 } from "../pipeline/time.ts";

/**
 * A growable byte buffer that the encoders write into and keep between
 * calls. Its `bytes` may be replaced by a larger array while encoding.
 */
export class ProtoBuffer {
  /** The storage; bytes past the returned offset are garbage. */
  bytes: Uint8Array<ArrayBuffer>;
  /** A view over `bytes`. */
  view: DataView<ArrayBuffer>;

  /**
   * Creates a buffer.
   *
   * @param initialSize Its first capacity, in bytes.
   */
  constructor(initialSize = 64 * 1024) {
    this.bytes = new Uint8Array(initialSize);
    this.view = new DataView(this.bytes.buffer);
  }
}

// The buffer being written, set by the entry points. Module state, so the
// writers below take and return plain positions.
export let holder: ProtoBuffer;
export let buf: Uint8Array<ArrayBuffer>;
export let view: DataView<ArrayBuffer>;
export let cap = 0;

export function bind(out: ProtoBuffer): void {
  holder = out;
  buf = out.bytes;
  view = out.view;
  cap = buf.length;
}

/** Makes room for `n` more bytes at `pos` (the only place that grows). */
export function grow(pos: number, n: number): void {
  let size = cap * 2;
  while (size < pos + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, pos));
  buf = next;
  view = new DataView(next.buffer);
  cap = size;
  holder.bytes = next;
  holder.view = view;
}

export function varintSize(v: number): number {
  return v < 0x80
    ? 1
    : v < 0x4000
    ? 2
    : v < 0x200000
    ? 3
    : v < 0x10000000
    ? 4
    : 5;
}

/** Writes an unsigned varint below 2^32 (room must exist). */
export function putVarint32(pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/**
 * Back-patches the length of the message whose content starts at
 * `lenPos + reserved` and ends at `end`; moves the content when the length
 * needs a different width than reserved. Returns the new end.
 */
export function patchLength(
  lenPos: number,
  reserved: number,
  end: number,
): number {
  const start = lenPos + reserved;
  const len = end - start;
  const size = varintSize(len);
  if (size !== reserved) {
    if (size > reserved && end + (size - reserved) > cap) {
      grow(end, size - reserved);
    }
    buf.copyWithin(lenPos + size, start, end);
    end += size - reserved;
  }
  putVarint32(lenPos, len);
  return end;
}

// The value of each lowercase hex digit by char code (0 for anything else).
const HEX_VALUE = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) HEX_VALUE[c] = c - 0x30;
for (let c = 0x61; c <= 0x66; c++) HEX_VALUE[c] = c - 0x57;

/**
 * Writes the bytes of a valid lowercase hex id (32 or 16 digits): eight
 * digits per step into one big-endian 32-bit store.
 */
export function putHexId(pos: number, hex: string): number {
  const n = hex.length;
  if ((n & 7) !== 0) return writeHexId(hex, buf, pos);
  const h = HEX_VALUE;
  const v = view;
  for (let i = 0; i < n; i += 8) {
    v.setUint32(
      pos + (i >> 1),
      (h[hex.charCodeAt(i) & 0x7f] << 28) |
        (h[hex.charCodeAt(i + 1) & 0x7f] << 24) |
        (h[hex.charCodeAt(i + 2) & 0x7f] << 20) |
        (h[hex.charCodeAt(i + 3) & 0x7f] << 16) |
        (h[hex.charCodeAt(i + 4) & 0x7f] << 12) |
        (h[hex.charCodeAt(i + 5) & 0x7f] << 8) |
        (h[hex.charCodeAt(i + 6) & 0x7f] << 4) |
        h[hex.charCodeAt(i + 7) & 0x7f],
    );
  }
  return pos + (n >> 1);
}

/** Writes a fixed64 from a non-negative integer number (ns since epoch). */
export function putFixed64(pos: number, v: number): number {
  const hi = Math.floor(v / 4294967296);
  view.setUint32(pos, v - hi * 4294967296, true);
  view.setUint32(pos + 4, hi, true);
  return pos + 8;
}

/**
 * Writes a time field (tag byte, fixed64 nanoseconds since the epoch,
 * exact) when the time is set; an unset time (0) or a pair that is not an
 * exact time (see `isExactTime`) is left out, as protobuf leaves out zeros.
 * Needs 9 bytes of room.
 */
export function putTime(
  pos: number,
  tag: number,
  ms: number,
  nanos: number,
): number {
  if ((ms === 0 && nanos === 0) || !isExactTime(ms, nanos)) return pos;
  buf[pos] = tag;
  return writeExactUnixNanoFixed64(view, pos + 1, ms, nanos);
}

/** Writes an int64 varint from a safe integer (negatives take 10 bytes). */
export function putInt64(pos: number, v: number): number {
  if (v >= 0) {
    if (v < 0x80000000) return putVarint32(pos, v);
    let hi = Math.floor(v / 4294967296);
    let lo = (v - hi * 4294967296) >>> 0;
    while (hi > 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    return pos;
  }
  // Two's complement of |v| over 64 bits.
  const abs = -v;
  let hi = Math.floor(abs / 4294967296);
  let lo = abs - hi * 4294967296;
  lo = (~lo + 1) >>> 0;
  hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  for (let i = 0; i < 9; i++) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo & 0x01;
  return pos;
}

/** Writes an int64 varint from a bigint within int64. */
function putBigInt64(pos: number, v: bigint): number {
  const u = BigInt.asUintN(64, v);
  return putInt64Halves(pos, Number(u & 0xffffffffn), Number(u >> 32n));
}

function putInt64Halves(pos: number, lo: number, hi: number): number {
  while (hi > 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

const encoder = new TextEncoder();

/** Writes a string's length and UTF-8 bytes (without the tag). */
export function putString(pos: number, s: string): number {
  const n = s.length;
  if (pos + 5 + n * 3 > cap) grow(pos, 5 + n * 3);
  const b = buf; // locals: the loops keep the arrays in registers
  const v = view;
  const start = pos + (n < 0x80 ? 1 : varintSize(n));
  let i = 0;
  // Four chars per step, one 32-bit store: ~25% faster than byte by byte.
  for (; i + 4 <= n; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) return putStringUtf8(pos, s);
    v.setUint32(start + i, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24), true);
  }
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return putStringUtf8(pos, s);
    b[start + i] = c;
  }
  if (n < 0x80) b[pos] = n;
  else putVarint32(pos, n);
  return start + n;
}

function putStringUtf8(pos: number, s: string): number {
  const max = s.length * 3;
  const reserved = varintSize(max);
  const start = pos + reserved;
  const written =
    encoder.encodeInto(s, buf.subarray(start, start + max)).written;
  return patchLength(pos, reserved, start + written);
}

function putBytes(pos: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (pos + 5 + n > cap) grow(pos, 5 + n);
  pos = putVarint32(pos, n);
  buf.set(bytes, pos);
  return pos + n;
}

/** Writes the fields of an AnyValue message (its content, not its length). */
export function putAnyValue(pos: number, v: AnyValue, depth: number): number {
  if (pos + 16 > cap) grow(pos, 16);
  switch (typeof v) {
    case "string":
      buf[pos] = 0x0a;
      return putString(pos + 1, v);
    case "number":
      if (Number.isSafeInteger(v)) {
        buf[pos] = 0x18;
        return putInt64(pos + 1, v);
      }
      buf[pos] = 0x21;
      view.setFloat64(pos + 1, v, true);
      return pos + 9;
    case "boolean":
      buf[pos] = 0x10;
      buf[pos + 1] = v ? 1 : 0;
      return pos + 2;
    case "bigint":
      buf[pos] = 0x18;
      return putBigInt64(pos + 1, v);
    case "object": {
      if (v === null) return pos;
      if (v instanceof Uint8Array) {
        buf[pos] = 0x3a;
        return putBytes(pos + 1, v);
      }
      if (depth > 64) return pos; // the sanitizer already cut deeper nesting
      if (Array.isArray(v)) {
        buf[pos] = 0x2a;
        const arrLen = pos + 1;
        let p = arrLen + 1;
        const items = v as readonly AnyValue[];
        for (let i = 0; i < items.length; i++) {
          if (p + 2 > cap) grow(p, 2);
          buf[p] = 0x0a;
          const itemLen = p + 1;
          p = patchLength(
            itemLen,
            1,
            putAnyValue(itemLen + 1, items[i], depth + 1),
          );
        }
        return patchLength(arrLen, 1, p);
      }
      buf[pos] = 0x32;
      const listLen = pos + 1;
      return patchLength(
        listLen,
        1,
        putKeyValues(listLen + 1, v as Attributes, 0x0a, depth + 1),
      );
    }
    default:
      return pos; // undefined: the empty value
  }
}

// Attribute keys repeat from record to record, mostly in the same order:
// the encoded bytes (length + ASCII) of the last key seen at each of the
// first KEY_SLOTS ordinals are kept, and a key that is the same string as
// last time (one pointer compare for the interned literals keys usually
// are) is copied from there instead of being re-read char by char.
const KEY_SLOTS = 16;
const KEY_SLOT_SIZE = 48;
const slotKeys: (string | undefined)[] = [];
for (let i = 0; i < KEY_SLOTS; i++) slotKeys.push(undefined); // never a key
const slotSizes = new Uint8Array(KEY_SLOTS);
const slotBytes = new Uint8Array(KEY_SLOTS * KEY_SLOT_SIZE + 4);
const slotView = new DataView(slotBytes.buffer);

// String values at those ordinals, the same way: many repeat from record
// to record as the same string (a request's method, scheme, host, client
// address, user agent and route, interned by the HTTP instrumentation; a
// constant in the caller's code). When a record's value is the string of
// last time (`===`: one pointer compare when it is the same string, else
// the length and characters), its bytes (length + ASCII) are copied from
// here instead of being read char by char from a string that, in a batch
// exported long after it was made, is mostly out of the CPU's caches
// (512 spans encoded cold took 2.6-3.3x as long as hot on Bun). A value
// seen once is only remembered (no copy); its bytes are kept on its second
// sighting, so values that change every record cost one failed compare.
const VALUE_SLOT_SIZE = 128;
const slotValues: (string | undefined)[] = [];
for (let i = 0; i < KEY_SLOTS; i++) slotValues.push(undefined);
/**
 * Bytes kept per value slot; 0 = the value is remembered but not its bytes;
 * above VALUE_SLOT_SIZE, the slot is skipped (see valueMisses) for that
 * many values more, less VALUE_SLOT_SIZE.
 */
const valueSizes = new Uint8Array(KEY_SLOTS);
const valueBytes = new Uint8Array(KEY_SLOTS * VALUE_SLOT_SIZE + 4);
const valueView = new DataView(valueBytes.buffer);
// Values that change from record to record (a log's random request method:
// the seeded bench records repeat the last one a quarter of the time) paid
// the compare, the slot's stores and, on their many second sightings, a copy
// into it, for few copies out: the logs encoder took 1.03-1.09x as long on
// Bun as before the value slots. Misses since the last second sighting are
// counted here (a hit with bytes touches nothing more than before); at
// VALUE_MISS_LIMIT the slot is left alone for VALUE_SKIP values (valueSizes
// counts them down: one load and one store each, no call), then tried
// again. A value repeated request after request (HTTP) keeps hitting.
const valueMisses = new Uint8Array(KEY_SLOTS);
const VALUE_MISS_LIMIT = 4;
const VALUE_SKIP = 64;

/** Writes each entry of `attributes` as a KeyValue field with tag byte `tag`. */
export function putKeyValues(
  pos: number,
  attributes: Attributes,
  tag: number,
  depth: number,
): number {
  let k = depth === 0 ? 0 : KEY_SLOTS; // the key's ordinal: its cache slot
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    if (pos + KEY_SLOT_SIZE + 8 > cap) grow(pos, KEY_SLOT_SIZE + 8);
    buf[pos] = tag;
    const kvLen = pos + 1;
    buf[kvLen + 1] = 0x0a;
    const slot = k;
    let p: number;
    if (k < KEY_SLOTS) {
      p = kvLen + 2;
      if (key === slotKeys[k]) {
        // The same key as at this ordinal last time: copy its bytes.
        // Four bytes per step; up to three bytes past the key are written
        // too (room was made above), and overwritten by what follows.
        const v = view;
        const n = slotSizes[k];
        for (let i = 0, j = k * KEY_SLOT_SIZE; i < n; i += 4, j += 4) {
          v.setUint32(p + i, slotView.getUint32(j));
        }
        p += n;
      } else {
        p = putString(p, key);
        const n = p - kvLen - 2;
        if (n <= KEY_SLOT_SIZE && n === key.length + 1) {
          // ASCII, one length byte: remember it.
          slotBytes.set(buf.subarray(kvLen + 2, p), k * KEY_SLOT_SIZE);
          slotSizes[k] = n;
          slotKeys[k] = key;
        }
      }
      k++;
    } else p = putString(kvLen + 2, key);
    if (p + 3 > cap) grow(p, 3);
    buf[p] = 0x12;
    const valueLen = p + 1;
    p = valueLen + 1;
    switch (typeof value) {
      case "string":
        buf[p] = 0x0a;
        if (slot < KEY_SLOTS) {
          const n = valueSizes[slot];
          if (n <= VALUE_SLOT_SIZE) p = putSlotString(p + 1, value, slot, n);
          else {
            // Skipping the slot; tried again (no bytes kept) at the end.
            valueSizes[slot] = n === VALUE_SLOT_SIZE + 1 ? 0 : n - 1;
            p = putString(p + 1, value);
          }
        } else p = putString(p + 1, value);
        break;
      case "boolean":
        if (p + 2 > cap) grow(p, 2);
        buf[p] = 0x10;
        buf[p + 1] = value ? 1 : 0;
        p += 2;
        break;
      case "number":
        if (p + 11 > cap) grow(p, 11);
        if (Number.isSafeInteger(value)) {
          buf[p] = 0x18;
          p = value >= 0 && value < 0x80000000
            ? putVarint32(p + 1, value)
            : putInt64(p + 1, value);
        } else {
          buf[p] = 0x21;
          view.setFloat64(p + 1, value, true);
          p += 9;
        }
        break;
      default:
        p = putAnyValue(p, value, depth);
    }
    let len = p - valueLen - 1;
    if (len < 0x80) buf[valueLen] = len;
    else p = patchLength(valueLen, 1, p);
    len = p - kvLen - 1;
    if (len < 0x80) {
      buf[kvLen] = len;
      pos = p;
    } else pos = patchLength(kvLen, 1, p);
  }
  return pos;
}

/** {@linkcode putString} of an attribute value at ordinal `slot`, through its value slot (`n`: its valueSizes, not skipping). */
function putSlotString(
  pos: number,
  s: string,
  slot: number,
  n: number,
): number {
  if (s === slotValues[slot]) {
    if (n !== 0) {
      // As for keys: four bytes per step, up to three past the value (room
      // made here), overwritten by what follows.
      if (pos + VALUE_SLOT_SIZE + 4 > cap) grow(pos, VALUE_SLOT_SIZE + 4);
      const v = view;
      for (let i = 0, j = slot * VALUE_SLOT_SIZE; i < n; i += 4, j += 4) {
        v.setUint32(pos + i, valueView.getUint32(j));
      }
      return pos + n;
    }
    // The second sighting: encode, and keep the bytes when they are ASCII
    // with a one-byte length (putString made room for 5 + 3 * length
    // bytes from pos, so the reads below stay inside the buffer).
    valueMisses[slot] = 0;
    const end = putString(pos, s);
    const size = end - pos;
    if (size <= VALUE_SLOT_SIZE && size === s.length + 1) {
      const v = view;
      for (let i = 0, j = slot * VALUE_SLOT_SIZE; i < size; i += 4, j += 4) {
        valueView.setUint32(j, v.getUint32(pos + i));
      }
      valueSizes[slot] = size;
    }
    return end;
  }
  // Only strings that could be kept: a long one is not held on to.
  slotValues[slot] = s.length < VALUE_SLOT_SIZE ? s : undefined;
  const misses = valueMisses[slot] + 1;
  if (misses === VALUE_MISS_LIMIT) {
    valueMisses[slot] = 0;
    valueSizes[slot] = VALUE_SLOT_SIZE + VALUE_SKIP;
  } else {
    valueMisses[slot] = misses;
    valueSizes[slot] = 0;
  }
  return putString(pos, s);
}

export function putResource(pos: number, resource: Resource): number {
  // ResourceX.resource (field 1)
  if (pos + 8 > cap) grow(pos, 8);
  buf[pos] = 0x0a;
  const len = pos + 1;
  return patchLength(
    len,
    2,
    putKeyValues(len + 2, resource.attributes, 0x0a, 0),
  );
}

export function putScope(pos: number, scope: InstrumentationScope): number {
  // ScopeX.scope (field 1)
  if (pos + 8 > cap) grow(pos, 8);
  buf[pos] = 0x0a;
  const len = pos + 1;
  let p = len + 1;
  if (scope.name) {
    buf[p] = 0x0a;
    p = putString(p + 1, scope.name);
  }
  if (scope.version) {
    if (p + 1 > cap) grow(p, 1);
    buf[p] = 0x12;
    p = putString(p + 1, scope.version);
  }
  if (scope.attributes !== undefined) {
    p = putKeyValues(p, scope.attributes, 0x1a, 0);
  }
  return patchLength(len, 1, p);
}

export function putTagString(pos: number, tag: number, s: string): number {
  if (pos + 1 > cap) grow(pos, 1);
  buf[pos] = tag;
  return putString(pos + 1, s);
}

// ---------------------------------------------------------------------------
// Grouping by resource, then by scope, without a Map per call.

/** An item of a request: grouped by its resource, then by its scope. */
export interface Grouped {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
}

const groupResources: Resource[] = [];
const groupScopes: InstrumentationScope[] = [];
let groupCount = 0;
let groupOf = new Int32Array(1024);
let order = new Int32Array(1024);
let groupStart = new Int32Array(64);

function sameScope(a: InstrumentationScope, b: InstrumentationScope): boolean {
  return a === b ||
    (a.name === b.name && a.version === b.version &&
      a.schemaUrl === b.schemaUrl && a.attributes === b.attributes);
}

/**
 * Groups `items` by resource and scope. Afterwards group g holds
 * `order[groupStart[g] .. groupStart[g + 1])`; returns false (and groups
 * nothing) when every item shares the first item's resource and scope.
 */
function group(items: readonly Grouped[]): boolean {
  const n = items.length;
  const r0 = items[0].resource;
  const s0 = items[0].scope;
  let i = 1;
  while (i < n && items[i].resource === r0 && items[i].scope === s0) i++;
  if (i === n) return false;
  if (groupOf.length < n) {
    groupOf = new Int32Array(n);
    order = new Int32Array(n);
  }
  groupCount = 0;
  let last = -1;
  for (let k = 0; k < n; k++) {
    const item = items[k];
    const r = item.resource;
    const s = item.scope;
    let g = last;
    if (g < 0 || groupResources[g] !== r || !sameScope(groupScopes[g], s)) {
      for (g = 0; g < groupCount; g++) {
        if (groupResources[g] === r && sameScope(groupScopes[g], s)) break;
      }
      if (g === groupCount) {
        groupResources[g] = r;
        groupScopes[g] = s;
        groupCount++;
      }
      last = g;
    }
    groupOf[k] = g;
  }
  if (groupStart.length < groupCount + 1) {
    groupStart = new Int32Array(groupCount * 2 + 1);
  }
  groupStart.fill(0, 0, groupCount + 1);
  for (let k = 0; k < n; k++) groupStart[groupOf[k] + 1]++;
  for (let g = 0; g < groupCount; g++) groupStart[g + 1] += groupStart[g];
  // Counting sort, stable; groupStart is shifted by one while filling.
  for (let k = 0; k < n; k++) order[groupStart[groupOf[k]]++] = k;
  for (let g = groupCount; g > 0; g--) groupStart[g] = groupStart[g - 1];
  groupStart[0] = 0;
  return true;
}

function releaseGroups(): void {
  for (let g = 0; g < groupCount; g++) {
    groupResources[g] = undefined as unknown as Resource;
    groupScopes[g] = undefined as unknown as InstrumentationScope;
  }
  groupCount = 0;
}

/** Writes one item's field (tag, length, message); returns the end. */
export type ItemWriter<T> = (pos: number, item: T) => number;

/** Items the last request left out because writing them threw. */
let skippedItems = 0;

/**
 * How many items the last `write*Request` / `encode*Request` call left out
 * because reading them threw (each costs only itself, never the request).
 */
export function lastSkippedItems(): number {
  return skippedItems;
}

/**
 * Writes a whole Export*ServiceRequest: ResourceX (field 1) > ScopeX (field
 * 2) > items (field 2), each item by `putItem`; resets `lastSkippedItems`.
 */
export function putRequest<T extends Grouped>(
  pos: number,
  items: readonly T[],
  putItem: ItemWriter<T>,
): number {
  skippedItems = 0;
  if (items.length === 0) return pos;
  if (!group(items)) {
    return putResourceGroup(pos, items, putItem, items[0].resource, -1);
  }
  try {
    // Resources in order of first appearance; each with all its scopes.
    for (let g = 0; g < groupCount; g++) {
      const resource = groupResources[g];
      let seen = false;
      for (let h = 0; h < g; h++) {
        if (groupResources[h] === resource) {
          seen = true;
          break;
        }
      }
      if (!seen) pos = putResourceGroup(pos, items, putItem, resource, g);
    }
    return pos;
  } finally {
    releaseGroups();
  }
}

function putResourceGroup<T extends Grouped>(
  pos: number,
  items: readonly T[],
  putItem: ItemWriter<T>,
  resource: Resource,
  firstGroup: number,
): number {
  if (pos + 8 > cap) grow(pos, 8);
  buf[pos] = 0x0a; // Export*ServiceRequest.resource_x
  const rLen = pos + 1;
  let p = putResource(rLen + 3, resource);
  if (firstGroup < 0) {
    p = putScopeGroup(
      p,
      items,
      putItem,
      items[0].scope,
      0,
      items.length,
      false,
    );
  } else {
    for (let g = firstGroup; g < groupCount; g++) {
      if (groupResources[g] !== resource) continue;
      p = putScopeGroup(
        p,
        items,
        putItem,
        groupScopes[g],
        groupStart[g],
        groupStart[g + 1],
        true,
      );
    }
  }
  if (resource.schemaUrl) p = putTagString(p, 0x1a, resource.schemaUrl);
  return patchLength(rLen, 3, p);
}

function putScopeGroup<T extends Grouped>(
  pos: number,
  items: readonly T[],
  putItem: ItemWriter<T>,
  scope: InstrumentationScope,
  from: number,
  to: number,
  sorted: boolean,
): number {
  if (pos + 8 > cap) grow(pos, 8);
  buf[pos] = 0x12; // ResourceX.scope_x
  const sLen = pos + 1;
  let p = putScope(sLen + 3, scope);
  for (let k = from; k < to; k++) {
    // One item that cannot be read (a hand-made record whose getter throws)
    // costs only itself: its bytes are taken back and it is counted.
    const start = p;
    try {
      p = putItem(p, items[sorted ? order[k] : k]);
    } catch {
      p = start;
      skippedItems++;
    }
  }
  if (scope.schemaUrl) p = putTagString(p, 0x1a, scope.schemaUrl);
  return patchLength(sLen, 3, p);
}

/**
 * Output buffers an exporter writes its requests into and takes back once
 * the request is done, so a steady stream of exports writes into memory that
 * is already mapped (fresh pages cost more than the encoding itself on some
 * machines) and allocates no output bytes at all.
 */
export class ProtoBufferPool {
  readonly #free: ProtoBuffer[] = [];
  readonly #keep: number;

  /**
   * Creates a pool.
   *
   * @param keep The most idle buffers kept.
   */
  constructor(keep = 2) {
    this.#keep = keep;
  }

  /** A buffer to write into (an idle one, or a new one). */
  take(): ProtoBuffer {
    return this.#free.pop() ?? new ProtoBuffer();
  }

  /** Gives a buffer back once nothing reads its bytes any more. */
  give(buffer: ProtoBuffer): void {
    if (
      this.#free.length < this.#keep && buffer.bytes.length <= KEEP_AT_MOST
    ) this.#free.push(buffer);
  }
}

/** A buffer grown past this by one huge batch is dropped after use. */
const KEEP_AT_MOST = 8 * 1024 * 1024;

/** The buffer `encode*Request` write into before copying out (see detach). */
export let shared: ProtoBuffer = new ProtoBuffer();

// A result gets an ArrayBuffer of exactly its size, copied from the shared
// buffer. Measured against carving results out of 1 MiB slabs (no copy, one
// ArrayBuffer per ~1 MiB): the slabs were 2-3x slower per 70 kB batch, as every
// slab is fresh memory whose pages fault on first write, while allocations of
// this size reuse memory the allocator already holds.
export function detach(end: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(end);
  out.set(shared.bytes.subarray(0, end));
  if (shared.bytes.length > KEEP_AT_MOST) shared = new ProtoBuffer();
  return out;
}
