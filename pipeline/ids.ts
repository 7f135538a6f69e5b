/**
 * W3C Trace Context identifiers: 16-byte trace ids and 8-byte span ids held
 * as lowercase hex strings, the form OTLP/JSON, W3C `traceparent` and the
 * user_events and ETW mappings use. Random bytes come from
 * `crypto.getRandomValues` in 4 KiB refills, so an id costs a few table
 * look-ups and one string, not a typed array per call.
 *
 * @module
 */

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

// The char codes of a byte's high and low hex digit. An id is made by one
// String.fromCharCode with a fixed argument count: a flat string. Joining
// two-digit strings with `+=` made a rope (a tree of 16 or 8 pieces) that
// V8 walks on every later read: generating and then reading two ids twice
// (a validation and an encode) took 2.0 µs on Deno and 1.3 µs on Bun
// against 0.7 µs for flat ids (fastest of 30 rounds, one process).
const HI = new Uint16Array(256);
const LO = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  HI[i] = HEX[i].charCodeAt(0);
  LO[i] = HEX[i].charCodeAt(1);
}

const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** The offset of `bytes` fresh random bytes in `pool`. */
function take(bytes: number): number {
  if (poolOffset + bytes > POOL_SIZE) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset = at + bytes;
  return at;
}

function traceHex(): string {
  const p = pool;
  const o = take(16);
  let any = 0;
  for (let i = o; i < o + 16; i++) any |= p[i];
  // An all-zero id is invalid; the odds are 2^-128, but never return one.
  if (any === 0) return traceHex();
  const b0 = p[o], b1 = p[o + 1], b2 = p[o + 2], b3 = p[o + 3];
  const b4 = p[o + 4], b5 = p[o + 5], b6 = p[o + 6], b7 = p[o + 7];
  const b8 = p[o + 8], b9 = p[o + 9], b10 = p[o + 10], b11 = p[o + 11];
  const b12 = p[o + 12], b13 = p[o + 13], b14 = p[o + 14], b15 = p[o + 15];
  return String.fromCharCode(
    HI[b0],
    LO[b0],
    HI[b1],
    LO[b1],
    HI[b2],
    LO[b2],
    HI[b3],
    LO[b3],
    HI[b4],
    LO[b4],
    HI[b5],
    LO[b5],
    HI[b6],
    LO[b6],
    HI[b7],
    LO[b7],
    HI[b8],
    LO[b8],
    HI[b9],
    LO[b9],
    HI[b10],
    LO[b10],
    HI[b11],
    LO[b11],
    HI[b12],
    LO[b12],
    HI[b13],
    LO[b13],
    HI[b14],
    LO[b14],
    HI[b15],
    LO[b15],
  );
}

function spanHex(): string {
  const p = pool;
  const o = take(8);
  const b0 = p[o], b1 = p[o + 1], b2 = p[o + 2], b3 = p[o + 3];
  const b4 = p[o + 4], b5 = p[o + 5], b6 = p[o + 6], b7 = p[o + 7];
  // An all-zero id is invalid; the odds are 2^-64, but never return one.
  if ((b0 | b1 | b2 | b3 | b4 | b5 | b6 | b7) === 0) return spanHex();
  return String.fromCharCode(
    HI[b0],
    LO[b0],
    HI[b1],
    LO[b1],
    HI[b2],
    LO[b2],
    HI[b3],
    LO[b3],
    HI[b4],
    LO[b4],
    HI[b5],
    LO[b5],
    HI[b6],
    LO[b6],
    HI[b7],
    LO[b7],
  );
}

/**
 * A new random trace id: 32 lowercase hex digits, never all zeros.
 *
 * @returns The trace id.
 *
 * @example
 * ```ts
 * import { isValidTraceId, randomTraceId } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isValidTraceId(randomTraceId()));
 * ```
 */
export function randomTraceId(): string {
  return traceHex();
}

/**
 * A new random span id: 16 lowercase hex digits, never all zeros.
 *
 * @returns The span id.
 *
 * @example
 * ```ts
 * import { isValidSpanId, randomSpanId } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isValidSpanId(randomSpanId()));
 * ```
 */
export function randomSpanId(): string {
  return spanHex();
}

// Per char code below 128: 0 = not a lowercase hex digit, 1 = "0", 3 = a
// non-zero digit. One table read per char instead of range tests whose
// outcome is random on random ids (mispredicted branches).
const HEX_CLASS = new Uint8Array(128);
for (let c = 0x31; c <= 0x39; c++) HEX_CLASS[c] = 3;
for (let c = 0x61; c <= 0x66; c++) HEX_CLASS[c] = 3;
HEX_CLASS[0x30] = 1;

// Per char code below 128: the value of a lowercase hex digit (0 otherwise).
const HEX_VALUE = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) HEX_VALUE[c] = c - 0x30;
for (let c = 0x61; c <= 0x66; c++) HEX_VALUE[c] = c - 0x57;

// Per pair of char codes below 128, indexed `(first << 7) | second`: 0 =
// not two lowercase hex digits, 1 = "00", 3 = two digits, one not "0" (the
// classes of HEX_CLASS, ORed). Ids are read two characters per table read:
// the read of a character (charCodeAt, which dispatches on the string's
// representation each time) is most of the cost, and halving the loop's
// tests and branches took a trace + span id pair from 104 to 87 ns on Deno,
// 100 to 84 ns on Node and 64 to 43 ns on Bun (fastest of 40 rounds,
// bench's seeded ids, one process). 16 KiB, built once.
const HEX_PAIR_CLASS = new Uint8Array(128 * 128);
for (let a = 0; a < 128; a++) {
  const ka = HEX_CLASS[a];
  if (ka === 0) continue;
  for (let b = 0; b < 128; b++) {
    const kb = HEX_CLASS[b];
    if (kb !== 0) HEX_PAIR_CLASS[(a << 7) | b] = ka | kb;
  }
}

function isValidHexId(value: unknown, length: number): boolean {
  if (typeof value !== "string" || value.length !== length) return false;
  if ((length & 1) !== 0) return isValidOddHexId(value, length);
  let any = 0; // OR of the classes: bit 1 sets on a non-zero digit
  for (let i = 0; i < length; i += 2) {
    const a = value.charCodeAt(i);
    const b = value.charCodeAt(i + 1);
    const k = (a | b) < 128 ? HEX_PAIR_CLASS[(a << 7) | b] : 0;
    if (k === 0) return false;
    any |= k;
  }
  return (any & 2) !== 0;
}

/** {@linkcode isValidHexId} of an odd length (only `normalizeHexId` can ask), a character at a time. */
function isValidOddHexId(value: string, length: number): boolean {
  let any = 0;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    const k = c < 128 ? HEX_CLASS[c] : 0;
    if (k === 0) return false;
    any |= k;
  }
  return (any & 2) !== 0;
}

/**
 * Tells whether a value is a valid trace id: 32 lowercase hex digits, not
 * all zeros.
 *
 * @param value The value.
 * @returns `true` when valid.
 *
 * @example
 * ```ts
 * import { isValidTraceId } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidTraceId("4bf92f3577b34da6a3ce929d0e0e4736"), true);
 * assert.equal(isValidTraceId("00000000000000000000000000000000"), false);
 * ```
 */
export function isValidTraceId(value: unknown): value is string {
  return isValidHexId(value, 32);
}

/**
 * Tells whether a value is a valid span id: 16 lowercase hex digits, not all
 * zeros.
 *
 * @param value The value.
 * @returns `true` when valid.
 *
 * @example
 * ```ts
 * import { isValidSpanId } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidSpanId("00f067aa0ba902b7"), true);
 * assert.equal(isValidSpanId("00F067AA0BA902B7"), false);
 * ```
 */
export function isValidSpanId(value: unknown): value is string {
  return isValidHexId(value, 16);
}

/**
 * Writes the bytes of a lowercase hex id into `out` at `offset` and returns
 * the offset after them. The id must be valid (see
 * {@linkcode isValidTraceId}); encoders use this to avoid a `Uint8Array` per
 * id.
 *
 * @param hex The id in lowercase hex.
 * @param out The buffer to write to.
 * @param offset Where to start writing.
 * @returns The offset after the written bytes.
 *
 * @example
 * ```ts
 * import { writeHexId } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const out = new Uint8Array(8);
 * assert.equal(writeHexId("00f067aa0ba902b7", out, 0), 8);
 * assert.deepEqual([...out], [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
 * ```
 */
export function writeHexId(
  hex: string,
  out: Uint8Array,
  offset: number,
): number {
  const n = hex.length >> 1;
  const values = HEX_VALUE;
  for (let i = 0; i < n; i++) {
    out[offset + i] = (values[hex.charCodeAt(2 * i) & 0x7f] << 4) |
      values[hex.charCodeAt(2 * i + 1) & 0x7f];
  }
  return offset + n;
}

/**
 * Formats bytes as lowercase hex (the inverse of {@linkcode writeHexId}).
 *
 * @param bytes The bytes.
 * @returns Lowercase hex.
 *
 * @example
 * ```ts
 * import { bytesToHex } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(bytesToHex(new Uint8Array([0, 255])), "00ff");
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/**
 * Returns a hex id in the canonical form this library keeps: `length`
 * lowercase hex digits, not all zeros. Uppercase digits are lowercased
 * (W3C Trace Context accepts them on input); anything else gives
 * `undefined`. A valid lowercase id is returned as it is.
 *
 * @param value The id as given.
 * @param length 32 for a trace id, 16 for a span id.
 * @returns The lowercase id, or `undefined` when it is invalid.
 *
 * @example
 * ```ts
 * import { normalizeHexId } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(normalizeHexId("00F067AA0BA902B7", 16), "00f067aa0ba902b7");
 * assert.equal(normalizeHexId("0000000000000000", 16), undefined);
 * assert.equal(normalizeHexId("xyz", 16), undefined);
 * ```
 */
export function normalizeHexId(
  value: unknown,
  length: number,
): string | undefined {
  if (isValidHexId(value, length)) return value as string;
  if (typeof value !== "string" || value.length !== length) return undefined;
  const lower = value.toLowerCase();
  return isValidHexId(lower, length) ? lower : undefined;
}
