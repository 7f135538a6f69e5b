// The speed-of-light JS for the enabled ETW emit of bench/_fixtures.ts
// RECORD (bench/etw_floor.ts times it against C and the EtwProcessor): the
// least per-event work that yields the EtwProcessor's bytes for exactly this
// event, hand-specialised as a C TraceLogging provider is. Precomputed once:
// the provider traits, the event metadata (field names and types), the
// EVENT_DESCRIPTOR and the three data descriptors' addresses and types, the
// constant "__csver__". Per event: read the record's fields by their known
// keys, transcode the strings (checking they are ASCII, which the metadata's
// COUNTEDANSISTRING with OutType 0 promises), write the number, bool and
// RFC 3339 time, set the payload size, call the binding. No shape checks,
// no sanitizer limits, no counters, no fallbacks: a record of another shape
// gets wrong bytes (a throw for non-ASCII).
//
// Variants (FloorOptions):
//   memo     a string identical (===) to the last event's at the same
//            offset is left in place (what the production replay does:
//            strings are immutable, so this is a pointer compare)
//   utf16    strings as COUNTEDSTRING (InType 22, UTF-16LE, u16 byte count):
//            the code units copied as they are, no ASCII test; other bytes
//            than ours (metadata and payload), so timed only, not compared
//   enabledCall  asks binding.eventProviderEnabled per event, as the
//            production must (the binding has no enable callback; C reads a
//            level a callback stored)
//   keys     checks, with a for…in, that the attributes have exactly
//            RECORD's keys in order and their kinds: the least a replay
//            that must fall back on another shape has to do per event

import type { Advapi32Binding } from "../ffi/advapi32.ts";
import type { LogEmitContext, LogRecord } from "../mod.ts";
import {
  DataDescriptorType,
  encodeProviderTraits,
  providerIdFromName,
  writeDataDescriptor,
  writeEventDescriptor,
} from "../processors/_tracelogging.ts";

/** How the floor writes strings and whether it asks the binding per event. */
export interface FloorOptions {
  readonly memo?: boolean;
  readonly utf16?: boolean;
  readonly enabledCall?: boolean;
  readonly keys?: boolean;
}

/** A hand-specialised emit of RECORD's event. */
export type FloorEmit = (record: LogRecord, context: LogEmitContext) => void;

const ANSI = 0x17; // COUNTEDANSISTRING
const UTF16 = 0x16; // COUNTEDSTRING
const KEYS = ["user.id", "http.request.method", "url.path", "retry"];
const STRUCT = 0x98; // STRUCT | chain (member count follows)
const DIGITS3 = (() => {
  const t = new Uint8Array(3000);
  for (let n = 0; n < 1000; n++) {
    t[3 * n] = 0x30 + Math.floor(n / 100);
    t[3 * n + 1] = 0x30 + (Math.floor(n / 10) % 10);
    t[3 * n + 2] = 0x30 + (n % 10);
  }
  return t;
})();

/** RECORD's event metadata, as bench/etw_encode_lib.c etw_build() writes it. */
function metadata(str: number): Uint8Array {
  const out: number[] = [0, 0, 0]; // size (patched), event tags
  const name = (s: string) => {
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
    out.push(0);
  };
  const field = (s: string, ...types: number[]) => {
    name(s);
    out.push(...types);
  };
  name("Log");
  field("__csver__", 0x86, 18); // UINT16, OutType UNSIGNED
  field("PartA", STRUCT, 2);
  field("ext_cloud", STRUCT, 1);
  field("role", str);
  field("time", str);
  field("PartC", STRUCT, 4);
  field("user.id", 0x09); // INT64
  field("http.request.method", str);
  field("url.path", str);
  field("retry", 0x0d); // BOOL32
  field("PartB", STRUCT, 4);
  field("_typeName", str);
  field("body", str);
  field("severityNumber", 0x05); // INT16
  field("severityText", str);
  out[0] = out.length & 0xff;
  out[1] = out.length >> 8;
  return Uint8Array.from(out);
}

/**
 * Registers "Bench.Provider" with `binding` and returns the floor's emit.
 *
 * @param binding The advapi32 binding (recording fake or FakeAdvapi32).
 * @param options The variant.
 * @returns The emit.
 */
export function etwFloor(
  binding: Advapi32Binding,
  options: FloorOptions = {},
): FloorEmit {
  const traits = encodeProviderTraits("Bench.Provider", undefined);
  const meta = metadata(options.utf16 ? UTF16 : ANSI);
  // [0,16) EVENT_DESCRIPTOR · [16,64) data descriptors · traits · metadata · payload
  const traitsAt = 64;
  const metaAt = (traitsAt + traits.length + 7) & ~7;
  const payAt = (metaAt + meta.length + 7) & ~7;
  const arena = new Uint8Array(new ArrayBuffer(payAt + 4096));
  const view = new DataView(arena.buffer);
  arena.set(traits, traitsAt);
  arena.set(meta, metaAt);
  const base = binding.addressOf(arena);
  writeEventDescriptor(view, 0, 4, 0, 1);
  writeDataDescriptor(
    view,
    16,
    base + traitsAt,
    traits.length,
    DataDescriptorType.PROVIDER_TRAITS,
  );
  writeDataDescriptor(
    view,
    32,
    base + metaAt,
    meta.length,
    DataDescriptorType.EVENT_METADATA,
  );
  writeDataDescriptor(view, 48, base + payAt, 0, DataDescriptorType.DATA);
  view.setUint16(payAt, 0x0400, true); // __csver__
  const handleOut = new BigUint64Array(1);
  if (binding.eventRegister(providerIdFromName("Bench.Provider"), handleOut)) {
    throw new Error("EventRegister failed");
  }
  const handle = handleOut[0];
  const descriptor = arena.subarray(0, 16);
  const data = arena.subarray(16, 64);
  const bytes = arena;
  const digits = DIGITS3;
  // The date and time of day of the last second, as ASCII.
  const secondText = new Uint8Array(19);
  let secondMs = NaN;
  let placedAt = -1; // where the second's text is in place (memo)
  const memo = options.memo === true;
  const utf16 = options.utf16 === true;
  const enabledCall = options.enabledCall === true;
  const keys = options.keys === true;
  // memo: the string last written at each slot and where (its count's offset).
  const memoS: (string | undefined)[] = new Array(8).fill(undefined);
  const memoAt = new Int32Array(8).fill(-1);
  const memoEnd = new Int32Array(8);

  /** A counted ASCII string at p; the offset after it. */
  const ansi = (p: number, s: string): number => {
    const n = s.length;
    const q = p + 2;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) throw new RangeError("the floor writes ASCII only");
      bytes[q + i] = c;
    }
    bytes[p] = n;
    bytes[p + 1] = n >> 8;
    return q + n;
  };
  /** A counted UTF-16LE string at p. */
  const wide = (p: number, s: string): number => {
    const n = s.length;
    let q = p + 2;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      bytes[q++] = c;
      bytes[q++] = c >> 8;
    }
    bytes[p] = 2 * n;
    bytes[p + 1] = (2 * n) >> 8;
    return q;
  };
  const str = utf16 ? wide : ansi;
  /** `str`, unless slot k holds s at p from the last event. */
  const cached = (k: number, p: number, s: string): number => {
    if (memoAt[k] === p && memoS[k] === s) return memoEnd[k];
    const end = str(p, s);
    memoS[k] = s;
    memoAt[k] = p;
    memoEnd[k] = end;
    return end;
  };
  const put = memo ? cached : (_k: number, p: number, s: string) => str(p, s);

  return (record: LogRecord, context: LogEmitContext): void => {
    if (enabledCall && binding.eventProviderEnabled(handle, 4, 1n) === 0) {
      return;
    }
    const a = record.attributes!;
    let p = payAt + 2;
    p = put(0, p, context.resource.attributes["service.name"] as string);
    // time: "YYYY-MM-DDTHH:MM:SS.mmmZ" (a whole-ms timestamp)
    const ms = record.timestamp as number;
    // The second's start and text change once a second: no division else.
    let millis = ms - secondMs;
    if (!(millis >= 0 && millis < 1000)) {
      const second = Math.floor(ms / 1000);
      const iso = new Date(second * 1000).toISOString();
      for (let i = 0; i < 19; i++) secondText[i] = iso.charCodeAt(i);
      secondMs = second * 1000;
      millis = ms - secondMs;
      placedAt = -1;
    }
    if (utf16) {
      let q = p + 2;
      for (let i = 0; i < 19; i++) {
        bytes[q++] = secondText[i];
        bytes[q++] = 0;
      }
      bytes[q] = 0x2e;
      bytes[q + 2] = digits[3 * millis];
      bytes[q + 4] = digits[3 * millis + 1];
      bytes[q + 6] = digits[3 * millis + 2];
      bytes[q + 8] = 0x5a;
      bytes[q + 1] =
        bytes[q + 3] =
        bytes[q + 5] =
        bytes[q + 7] =
        bytes[q + 9] =
          0;
      bytes[p] = 48;
      bytes[p + 1] = 0;
      p = q + 10;
    } else {
      // memo: the second's text stays from the last event at this offset
      if (!memo || p !== placedAt) {
        const q = p + 2;
        for (let i = 0; i < 19; i++) bytes[q + i] = secondText[i];
        placedAt = p;
      }
      const q = p + 21;
      bytes[q] = 0x2e; // "."
      bytes[q + 1] = digits[3 * millis];
      bytes[q + 2] = digits[3 * millis + 1];
      bytes[q + 3] = digits[3 * millis + 2];
      bytes[q + 4] = 0x5a; // "Z"
      bytes[p] = 24;
      bytes[p + 1] = 0;
      p = q + 5;
    }
    // PartC
    if (keys) {
      // The check a correct replay cannot skip: no other key, none missing,
      // in this order, of these kinds.
      let i = 0;
      for (const key in a) {
        if (key !== KEYS[i++]) throw new RangeError("another shape");
      }
      if (
        i !== 4 || typeof a["user.id"] !== "number" ||
        typeof a["http.request.method"] !== "string" ||
        typeof a["url.path"] !== "string" || typeof a["retry"] !== "boolean"
      ) throw new RangeError("another shape");
    }
    const id = a["user.id"] as number;
    view.setUint32(p, id >>> 0, true);
    view.setInt32(p + 4, Math.floor(id / 0x100000000) | 0, true);
    p = put(1, p + 8, a["http.request.method"] as string);
    p = put(2, p, a["url.path"] as string);
    view.setInt32(p, a["retry"] ? 1 : 0, true);
    // PartB
    p = put(3, p + 4, "Log");
    p = put(4, p, record.body as string);
    view.setUint16(p, record.severityNumber as number, true);
    p = put(5, p + 2, record.severityText as string);
    view.setUint32(56, p - payAt, true);
    binding.eventWriteTransfer(handle, descriptor, null, null, 3, data);
  };
}
