// The log snapshot's cache of recently seen valid trace id / span id pairs
// (see idPairOf), and their bytes as OTLP protobuf fields for the encoder, which
// copies a cached pair's bytes instead of reading 48 hex digits again
// (putHexId was 9% of an emit -> batch -> OTLP protobuf export on Node).
// Internal: not exported from the package.

import { normalizeHexId, writeHexId } from "./ids.ts";

// Recently seen valid id pairs of snapshots, from the active span or the
// record: all records emitted inside one span carry its id strings, so a
// pair equal to a remembered one is valid without reading its 48 hex digits
// again (about 100 ns a pair on V8). One pair per slot, the slot picked by
// the span id's first three characters (12 bits of a random id), so records
// of many spans emitted interleaved (a server's concurrent requests) still
// hit: with the last pair only, the seeded bench records (256 traces
// interleaved) missed every time and the scan was ~25% of a no-op batch emit
// in Deno; strings are immutable and a slot only ever holds a pair that
// passed normalizeHexId, so only a valid id can ever be equal to a
// remembered one: anything else (another type, length or case, all zeros, a
// lone surrogate) misses and is checked in full. A miss costs four
// character reads and three stores more than the last-pair check did:
// snapshots of records whose pairs all differ (32768 of them, in a loop)
// took 1.04-1.12x as long on Deno and Node, 0.90x on Bun. At most
// PAIR_SLOTS pairs stay referenced (about 0.3 MB of id strings when full,
// up to twice that for ropes); a slot is overwritten by the next valid pair
// that maps to it.
const PAIR_SLOTS = 4096;
const pairTraceIds: string[] = new Array<string>(PAIR_SLOTS).fill("");
const pairSpanIds: string[] = new Array<string>(PAIR_SLOTS).fill("");
// The last character of each slot's span id, compared before the strings:
// on a collision (another span whose id starts alike) it differs 15 times
// in 16, where comparing two distinct strings of one length goes through
// their characters (a runtime call for a rope).
const pairSpanLast = new Uint8Array(PAIR_SLOTS);
// Per char code below 128: the value of a lowercase hex digit, else 0 (an
// index, not a check: anything maps somewhere and the compare decides).
const DIGIT = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) DIGIT[c] = c - 0x30;
for (let c = 0x61; c <= 0x66; c++) DIGIT[c] = c - 0x57;

/** The slot of a 16-character span id: its first three characters as hex digits. */
function pairSlot(spanId: string): number {
  const digit = DIGIT;
  return (digit[spanId.charCodeAt(0) & 0x7f] << 8) |
    (digit[spanId.charCodeAt(1) & 0x7f] << 4) |
    digit[spanId.charCodeAt(2) & 0x7f];
}

/**
 * The second slot of a 16-character span id: its fourth to sixth characters
 * as hex digits. A pair whose first slot holds another pair (two spans whose
 * ids start alike) is kept here: the 256 interleaved traces of the seeded
 * bench records share 9 first slots, and those 18 pairs missed on every
 * record, each validated in full (normalizeHexId 3.6% of Bun's emit -> batch
 * -> OTLP export) and encoded from its strings.
 */
function pairSlot2(spanId: string): number {
  const digit = DIGIT;
  return (digit[spanId.charCodeAt(3) & 0x7f] << 8) |
    (digit[spanId.charCodeAt(4) & 0x7f] << 4) |
    digit[spanId.charCodeAt(5) & 0x7f];
}

/** Whether `slot` holds exactly this pair (the same strings, or equal ones). */
function holds(slot: number, traceId: unknown, spanId: string): boolean {
  return spanId.charCodeAt(15) === pairSpanLast[slot] &&
    spanId === pairSpanIds[slot] && traceId === pairTraceIds[slot];
}

/** The valid pair {@linkcode idPairOf} found (one object, no allocation per record). */
export const validPair: { traceId: string; spanId: string } = {
  traceId: "",
  spanId: "",
};

/**
 * Validates a trace id and span id as a pair (each as `normalizeHexId`
 * does): `true` with the canonical ids in `validPair`, or `false` when
 * either is invalid.
 */
export function idPairOf(traceId: unknown, spanId: unknown): boolean {
  let slot = -1;
  if (typeof spanId === "string" && spanId.length === 16) {
    const first = pairSlot(spanId);
    let hit = first;
    if (!holds(first, traceId, spanId)) {
      const second = pairSlot2(spanId);
      if (holds(second, traceId, spanId)) hit = second;
      else {
        // A miss: remembered in the first slot while it is empty, else in
        // the second while that is, else in the first again (the one slot
        // a pair had before).
        hit = -1;
        slot = pairSpanIds[first] !== "" && pairSpanIds[second] === ""
          ? second
          : first;
      }
    }
    if (hit !== -1) {
      validPair.traceId = pairTraceIds[hit];
      validPair.spanId = pairSpanIds[hit];
      return true;
    }
  }
  const tr = normalizeHexId(traceId, 32);
  if (tr === undefined) return false;
  const sp = normalizeHexId(spanId, 16);
  if (sp === undefined) return false;
  // The slot came from the span id as given: remember the pair only when
  // that is the canonical id (an uppercase one was lowercased).
  if (slot !== -1 && sp === spanId) {
    pairTraceIds[slot] = tr;
    pairSpanIds[slot] = sp;
    pairSpanLast[slot] = sp.charCodeAt(15);
    pairHasBytes[slot] = 0; // the encoder writes them when it first needs them
  }
  validPair.traceId = tr;
  validPair.spanId = sp;
  return true;
}

// Each slot's pair as the OTLP protobuf LogRecord fields trace_id and
// span_id (tag 0x4a, length 16, 16 bytes, tag 0x52, length 8, 8 bytes: 28
// bytes, seven 32-bit words), valid when pairHasBytes is 1: written by the
// encoder from the slot's strings the first time it meets the pair, cleared
// whenever the slot takes another pair.
const FIELDS_SIZE = 28;
const pairBytes = new Uint8Array(PAIR_SLOTS * FIELDS_SIZE);
const pairView = new DataView(pairBytes.buffer);
const pairHasBytes = new Uint8Array(PAIR_SLOTS);

/**
 * The slot holding exactly this pair (the same strings, or equal ones), or
 * -1. For the encoder: a LogRecordData made by hand, or one whose pair was
 * replaced since its snapshot, misses and is encoded from its strings.
 */
export function idPairSlot(traceId: string, spanId: string): number {
  if (spanId.length !== 16) return -1;
  const slot = pairSlot(spanId);
  if (holds(slot, traceId, spanId)) return slot;
  const second = pairSlot2(spanId);
  return holds(second, traceId, spanId) ? second : -1;
}

/**
 * Writes the pair in `slot` as the LogRecord fields trace_id and span_id
 * (28 bytes) at `pos` of `out` (a view of at least `pos + 28` bytes) and
 * returns the position after them. The bytes are computed once per pair.
 */
export function putIdPairFields(
  slot: number,
  out: DataView,
  pos: number,
): number {
  const at = slot * FIELDS_SIZE;
  const v = pairView;
  if (pairHasBytes[slot] === 0) fillPairBytes(slot, at);
  for (let i = 0; i < FIELDS_SIZE; i += 4) {
    out.setUint32(pos + i, v.getUint32(at + i));
  }
  return pos + FIELDS_SIZE;
}

/**
 * {@linkcode putIdPairFields} as the Span fields trace_id (1) and span_id
 * (2): the same 28 bytes with the tags 0x0a and 0x12. A server span's log
 * records carry its ids, so their snapshots put the span's pair in a slot,
 * and the span's encoder copies the bytes the logs' encoder wrote (or
 * writes them for it) instead of reading 48 hex digits again.
 */
export function putIdPairSpanFields(
  slot: number,
  out: DataView,
  pos: number,
): number {
  const at = slot * FIELDS_SIZE;
  const v = pairView;
  if (pairHasBytes[slot] === 0) fillPairBytes(slot, at);
  for (let i = 0; i < FIELDS_SIZE; i += 4) {
    out.setUint32(pos + i, v.getUint32(at + i));
  }
  out.setUint8(pos, 0x0a);
  out.setUint8(pos + 18, 0x12);
  return pos + FIELDS_SIZE;
}

/** Writes the LogRecord fields of the pair in `slot` at `at` of pairBytes. */
function fillPairBytes(slot: number, at: number): void {
  const b = pairBytes;
  b[at] = 0x4a;
  b[at + 1] = 16;
  writeHexId(pairTraceIds[slot], b, at + 2);
  b[at + 18] = 0x52;
  b[at + 19] = 8;
  writeHexId(pairSpanIds[slot], b, at + 20);
  pairHasBytes[slot] = 1;
}
