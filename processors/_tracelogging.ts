/**
 * TraceLogging encoder (pure, no FFI): provider id from name, provider
 * traits, event metadata and payload, EVENT_DESCRIPTOR and
 * EVENT_DATA_DESCRIPTOR. Layouts follow `etw-tracelogging.md` §2-§8.
 *
 * The {@linkcode TraceLoggingWriter} writes one event's metadata and payload
 * into caller-owned regions of one buffer; it never allocates per field for
 * ASCII names and values. In deferred mode (`reset(name, 0, true)`) it
 * writes only the payload and records the metadata as tokens; `finish()`
 * then copies that metadata from its {@linkcode MetadataCache} or renders
 * it. A deferred event that comes near a size limit (or would cut a value)
 * is not finished: `needsExact` asks the caller to encode it again in the
 * normal mode, which makes every limit decision exactly as before.
 *
 * Size rule (normal mode): an event over its budget is not cut while it is
 * written; {@linkcode TraceLoggingWriter.finish} then plans one common length
 * for its longest strings and byte arrays (`_cut.ts`) and returns `false` with
 * {@linkcode TraceLoggingWriter.cutPlanned} set, and the caller writes the
 * same event again: every value longer than that length is cut to it (at a
 * UTF-8 character boundary, counted in `truncated`), every shorter one is
 * written whole. Only an event whose other bytes alone exceed the budget is
 * dropped.
 *
 * @module
 */

import { writeRfc3339Fraction } from "./_rfc3339.ts";
import { isExactTime, writeFileTime } from "../pipeline/time.ts";
import { hasDuplicateSiblings, MetadataCache } from "./_metadata_cache.ts";
import { cutLength } from "./_cut.ts";

/** TraceLogging input types (TlgIn_t); the low 5 bits of a field's InMeta byte. */
export const InType = {
  UNICODESTRING: 1,
  ANSISTRING: 2,
  INT8: 3,
  UINT8: 4,
  INT16: 5,
  UINT16: 6,
  INT32: 7,
  UINT32: 8,
  INT64: 9,
  UINT64: 10,
  FLOAT: 11,
  DOUBLE: 12,
  BOOL32: 13,
  BINARY: 14,
  GUID: 15,
  FILETIME: 17,
  SYSTEMTIME: 18,
  SID: 19,
  HEXINT32: 20,
  HEXINT64: 21,
  COUNTEDSTRING: 22,
  COUNTEDANSISTRING: 23,
  STRUCT: 24,
  COUNTEDBINARY: 25,
} as const;

/** TraceLogging output types (TlgOut_t); the low 7 bits of a field's OutMeta byte. */
export const OutType = {
  DEFAULT: 0,
  NOPRINT: 1,
  STRING: 2,
  BOOLEAN: 3,
  HEX: 4,
  PID: 5,
  TID: 6,
  PORT: 7,
  IPV4: 8,
  IPV6: 9,
  SOCKETADDRESS: 10,
  XML: 11,
  JSON: 12,
  WIN32ERROR: 13,
  NTSTATUS: 14,
  HRESULT: 15,
  FILETIME: 16,
  SIGNED: 17,
  UNSIGNED: 18,
  CULTURE_INSENSITIVE_DATETIME: 33,
  UTF8: 35,
  PKCS7_WITH_TYPE_INFO: 36,
  CODE_POINTER: 37,
  DATETIME_UTC: 38,
} as const;

/** InMeta flag: the field is an array whose count is in the metadata. */
export const IN_CONST_COUNT = 0x20;
/** InMeta flag: the field is an array whose count (u16) precedes the elements in the payload. */
export const IN_VARIABLE_COUNT = 0x40;
/** InMeta / OutMeta / Tags flag: another byte follows. */
export const CHAIN_FLAG = 0x80;

/** EVENT_DATA_DESCRIPTOR Type values (§2). */
export const DataDescriptorType = {
  DATA: 0,
  EVENT_METADATA: 1,
  PROVIDER_TRAITS: 2,
  TIMESTAMP: 3,
} as const;

/** EVENT_INFO_CLASS value of EventSetInformation that sets provider traits. */
export const EVENT_PROVIDER_SET_TRAITS = 2;
/** WINEVENT_CHANNEL_TRACELOGGING: the channel that marks an event as TraceLogging. */
export const TRACELOGGING_CHANNEL = 11;
/** Size of EVENT_DESCRIPTOR. */
export const EVENT_DESCRIPTOR_SIZE = 16;
/** Size of EVENT_DATA_DESCRIPTOR. */
export const EVENT_DATA_DESCRIPTOR_SIZE = 16;
/** Largest metadata blob (its size is a u16; TraceLogging implementations refuse more than 32 KB). */
export const MAX_METADATA_SIZE = 32768;
/** Largest counted string / binary value (u16 byte count). */
export const MAX_COUNTED_SIZE = 65535;
/** Most members a struct can have (7-bit count in OutMeta). */
export const MAX_STRUCT_MEMBERS = 127;

// ---------------------------------------------------------------------------
// SHA-1 (synchronous; WebCrypto's digest is async and this runs once per
// registration).

const SHA1_W = new Int32Array(80);

/**
 * SHA-1 of `data` (FIPS 180-4). Used only to derive provider ids from names.
 *
 * @param data The bytes to hash.
 * @returns The 20-byte digest.
 */
export function sha1(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const length = data.length;
  const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000), false);
  view.setUint32(padded.length - 4, bits >>> 0, false);
  let h0 = 0x67452301,
    h1 = 0xefcdab89 | 0,
    h2 = 0x98badcfe | 0,
    h3 = 0x10325476,
    h4 = 0xc3d2e1f0 | 0;
  const w = SHA1_W;
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getInt32(block + 4 * i, false);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number, k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  outView.setInt32(0, h0, false);
  outView.setInt32(4, h1, false);
  outView.setInt32(8, h2, false);
  outView.setInt32(12, h3, false);
  outView.setInt32(16, h4, false);
  return out;
}

// ---------------------------------------------------------------------------
// GUIDs

const NAME_NAMESPACE = [
  0x48,
  0x2c,
  0x2d,
  0xb2,
  0xc3,
  0x90,
  0x47,
  0xc8,
  0x87,
  0xf8,
  0x1a,
  0x15,
  0xbf,
  0xc1,
  0x30,
  0xfb,
];

/**
 * The provider id (GUID, in-memory byte order) that EventSource and
 * TraceLogging derive from a provider name: SHA-1 over a fixed namespace and
 * the upper-cased name in UTF-16BE, first 16 bytes, version nibble 5.
 *
 * @param name The provider name (keep it ASCII: upper-casing of other
 *   characters differs between implementations).
 * @returns The 16 GUID bytes as passed to EventRegister.
 */
export function providerIdFromName(name: string): Uint8Array<ArrayBuffer> {
  const upper = name.toUpperCase();
  const input = new Uint8Array(16 + 2 * upper.length);
  input.set(NAME_NAMESPACE);
  for (let i = 0; i < upper.length; i++) {
    const c = upper.charCodeAt(i);
    input[16 + 2 * i] = c >> 8;
    input[17 + 2 * i] = c & 0xff;
  }
  const guid = sha1(input).slice(0, 16);
  guid[7] = (guid[7] & 0x0f) | 0x50;
  return guid;
}

const HEX = "0123456789abcdef";

function hexByte(b: number): string {
  return HEX[b >> 4] + HEX[b & 15];
}

/**
 * Formats GUID bytes (in-memory order) in registry form, lowercase, without
 * braces: Data1/2/3 little-endian, Data4 as is.
 *
 * @param bytes 16 bytes.
 * @returns E.g. `ce5fa4ea-ab00-5402-8b76-9f76ac858fb5`.
 */
export function formatGuid(bytes: Uint8Array): string {
  const order = [
    3,
    2,
    1,
    0,
    -1,
    5,
    4,
    -1,
    7,
    6,
    -1,
    8,
    9,
    -1,
    10,
    11,
    12,
    13,
    14,
    15,
  ];
  let out = "";
  for (const i of order) out += i < 0 ? "-" : hexByte(bytes[i]);
  return out;
}

/**
 * Parses a GUID in registry form (braces optional) into its in-memory bytes.
 *
 * @param text E.g. `{faaf2f61-9b26-4591-9bb1-b9b8bae2d34c}`.
 * @returns The 16 bytes.
 * @throws {TypeError} When `text` is not a GUID.
 */
export function parseGuid(text: string): Uint8Array<ArrayBuffer> {
  const m =
    /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i
      .exec(text);
  if (m === null) {
    throw new TypeError(
      `Cannot parse GUID "${text}": expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`,
    );
  }
  const hex = m[1] + m[2] + m[3] + m[4] + m[5];
  const raw = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    raw[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  const out = new Uint8Array(16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6];
  for (let i = 0; i < 8; i++) out[i] = raw[order[i]];
  out.set(raw.subarray(8), 8);
  return out;
}

// ---------------------------------------------------------------------------
// Provider traits

const utf8 = new TextEncoder();

/**
 * The provider traits blob (§4): u16 total size, the name in UTF-8 with a
 * NUL, then an optional provider-group trait (type 1, 19 bytes).
 *
 * @param name The provider name.
 * @param groupId The provider group's GUID bytes, if any.
 * @returns The blob.
 * @throws {RangeError} When the blob would exceed 65535 bytes.
 */
export function encodeProviderTraits(
  name: string,
  groupId?: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const nameBytes = utf8.encode(name);
  const size = 2 + nameBytes.length + 1 + (groupId === undefined ? 0 : 19);
  if (size > 0xffff) {
    throw new RangeError(
      `Cannot encode provider traits: ${size} bytes exceed 65535`,
    );
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, size, true);
  out.set(nameBytes, 2);
  if (groupId !== undefined) {
    const at = 2 + nameBytes.length + 1;
    view.setUint16(at, 19, true);
    out[at + 2] = 1;
    out.set(groupId.subarray(0, 16), at + 3);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Descriptors

/**
 * Writes an EVENT_DESCRIPTOR for a TraceLogging event: id 0, version 0,
 * channel 11, task 0.
 *
 * @param view Where to write.
 * @param offset Byte offset of the 16-byte descriptor.
 * @param level 1 critical … 5 verbose.
 * @param opcode 0 info, 1 start, 2 stop.
 * @param keyword The keyword (below 2^53).
 */
export function writeEventDescriptor(
  view: DataView,
  offset: number,
  level: number,
  opcode: number,
  keyword: number,
): void {
  view.setUint16(offset, 0, true); // Id
  view.setUint8(offset + 2, 0); // Version
  view.setUint8(offset + 3, TRACELOGGING_CHANNEL);
  view.setUint8(offset + 4, level);
  view.setUint8(offset + 5, opcode);
  view.setUint16(offset + 6, 0, true); // Task
  view.setUint32(offset + 8, keyword % 0x100000000, true);
  view.setUint32(offset + 12, Math.floor(keyword / 0x100000000), true);
}

/**
 * Writes an EVENT_DATA_DESCRIPTOR: u64 pointer, u32 size, u8 type, three
 * reserved zero bytes.
 *
 * @param view Where to write.
 * @param offset Byte offset of the 16-byte descriptor.
 * @param address The data's address (below 2^53, as every x64 user address is).
 * @param size The data's size in bytes.
 * @param type One of {@linkcode DataDescriptorType}.
 */
export function writeDataDescriptor(
  view: DataView,
  offset: number,
  address: number,
  size: number,
  type: number,
): void {
  view.setUint32(offset, address % 0x100000000, true);
  view.setUint32(offset + 4, Math.floor(address / 0x100000000), true);
  view.setUint32(offset + 8, size, true);
  view.setUint32(offset + 12, type & 0xff, true);
}

/**
 * Encodes a 28-bit tag value as 1-4 bytes, 7 bits each, most significant
 * first (the shortest form, as the event-level tags use).
 *
 * @param tags The tag value (0..0x0FFFFFFF).
 * @returns The bytes.
 */
export function encodeTags(tags: number): number[] {
  const t = tags & 0x0fffffff;
  const b = [(t >>> 21) & 0x7f, (t >>> 14) & 0x7f, (t >>> 7) & 0x7f, t & 0x7f];
  let n = 4;
  while (n > 1 && b[n - 1] === 0) n--;
  for (let i = 0; i < n - 1; i++) b[i] |= 0x80;
  return b.slice(0, n);
}

// ---------------------------------------------------------------------------
// Event writer

/** How a string is laid out in the payload. */
export type StringEncoding = "counted8" | "nul8" | "counted16" | "nul16";

/** UTF-8 bytes of `s` (lone surrogates count as U+FFFD), stopping past 65,535 (then 65,536-65,539). */
function utf8Length(s: string): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n && bytes <= MAX_COUNTED_SIZE; i++) {
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

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Pass as `outType` of a string field: OutType UTF8 when the value has non-ASCII characters, else none. */
export const OUT_AUTO_UTF8 = -1;

/** Most tokens of a deferred event (the struct caps keep real events far below). */
const MAX_TOKENS = 1024;
/** Token code bit: an OutMeta byte (bits 8-15) follows the InMeta byte (bits 0-7). */
const HAS_OUT = 0x10000;

/**
 * The name a field gets in TraceLogging metadata: lone surrogates become
 * U+FFFD (UTF-8 cannot hold them) and NUL becomes `?` (names are
 * NUL-terminated). Two keys with the same written name are duplicates.
 *
 * @param name The key.
 * @returns The name as written.
 */
export function writtenFieldName(name: string): string {
  return name.toWellFormed().replaceAll("\0", "?");
}

/** Token code of a bare name (the event name). */
const NAME_ONLY = -1;
/** Bytes a deferred event keeps free below each limit (covers every per-field check). */
const DEFERRED_SLACK = 8;

/**
 * Writes one TraceLogging event (metadata + payload) into two regions of a
 * caller-owned buffer. Reuse it: `reset()` starts the next event. Values too
 * long for the format or the event budget are cut (strings at a character
 * boundary) and counted in `truncated`; anything else that does not fit sets
 * `overflow` and the event must be dropped.
 */
export class TraceLoggingWriter {
  /** The buffer holding both regions. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Start of the metadata region. */
  readonly metadataOffset: number;
  /** Start of the payload region. */
  readonly payloadOffset: number;
  /** Metadata region size. */
  readonly metadataCapacity: number;
  /** Payload region size. */
  readonly payloadCapacity: number;
  /** Most bytes of metadata + payload per event. */
  budget: number;
  /** Set when something did not fit; the event must be dropped (unless a cut is planned). */
  overflow = false;
  /** Strings/binaries cut in written events since construction. */
  truncated = 0;
  /** Set by a failed {@linkcode TraceLoggingWriter.finish} when writing the event again with its longest values cut makes it fit (see {@linkcode TraceLoggingWriter.cutNext}). */
  cutPlanned = false;
  // The most bytes of one string or byte array in this event (a cut length after a plan).
  #cap = MAX_COUNTED_SIZE;
  #plannedCap = MAX_COUNTED_SIZE;
  #applyCut = false;
  // Byte lengths the cuttable values of this event want, bytes not written
  // for lack of room, values cut in this event.
  readonly #lengths: Int32Array = new Int32Array(MAX_TOKENS);
  readonly #scratch: Int32Array = new Int32Array(MAX_TOKENS);
  #values = 0;
  #unwritten = 0;
  #cuts = 0;
  // What the last #utf8 call's value wanted when it was cut, else -1.
  #wanted = -1;
  #view: DataView;
  #meta = 0;
  #pay = 0;
  #replaying = false;
  #deferred = false;
  #needsExact = false;
  #finished = 0; // 0 not yet, 1 true, 2 false
  #metaBound = 0;
  #tokens = 0;
  readonly #names: string[] = [];
  readonly #codes: Int32Array = new Int32Array(MAX_TOKENS);
  /** Metadata blocks of recent event shapes (deferred mode). */
  readonly metadataCache: MetadataCache = new MetadataCache();
  #second = new Uint8Array(19);
  #secondValue = NaN;

  /**
   * Creates a writer over two regions of `bytes`.
   *
   * @param bytes The buffer.
   * @param metadataOffset Start of the metadata region.
   * @param metadataCapacity Its size (at most 32768).
   * @param payloadOffset Start of the payload region.
   * @param payloadCapacity Its size.
   * @param budget Most bytes of metadata + payload per event.
   */
  constructor(
    bytes: Uint8Array<ArrayBuffer>,
    metadataOffset: number,
    metadataCapacity: number,
    payloadOffset: number,
    payloadCapacity: number,
    budget: number = metadataCapacity + payloadCapacity,
  ) {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.metadataOffset = metadataOffset;
    this.metadataCapacity = Math.min(metadataCapacity, MAX_METADATA_SIZE);
    this.payloadOffset = payloadOffset;
    this.payloadCapacity = payloadCapacity;
    this.budget = budget;
  }

  /** Bytes of metadata written so far (the final size once `finish()` ran). */
  get metadataLength(): number {
    return this.#meta - this.metadataOffset;
  }
  /** Bytes of payload written so far. */
  get payloadLength(): number {
    return this.#pay - this.payloadOffset;
  }
  /** Current metadata write position (for {@linkcode TraceLoggingWriter.rewindMetadata}); a token count in deferred mode. */
  get metadataPosition(): number {
    return this.#deferred ? this.#tokens : this.#meta;
  }

  /** Set when a deferred event must be encoded again in the normal mode (see the class). */
  get needsExact(): boolean {
    return this.#needsExact;
  }

  /**
   * Whether the current event records its metadata as tokens (the deferred
   * mode). In the normal mode callers leave out a field whose
   * {@linkcode writtenFieldName} equals a sibling's written before it.
   */
  get deferred(): boolean {
    return this.#deferred;
  }

  // Deferred mode: the metadata size is bounded from above, so a check that
  // passes here passes with the exact size; one that fails asks for the
  // normal mode.
  // The normal mode checks only the regions' capacities while writing and
  // the budget in finish().
  #room(): number {
    if (!this.#deferred) return 0x7fffffff;
    return this.budget - this.#metaBound - (this.#pay - this.payloadOffset);
  }

  #exact(): void {
    this.overflow = true;
    this.#needsExact = true;
  }

  #token(name: string, code: number, bytes: number): number {
    const i = this.#tokens;
    this.#metaBound += 3 * name.length + 1 + bytes;
    if (i === MAX_TOKENS) {
      this.#exact();
      return -1;
    }
    this.#names[i] = name;
    this.#codes[i] = code;
    this.#tokens = i + 1;
    return i;
  }

  #metaFits(n: number): boolean {
    if (
      this.#meta + n - this.metadataOffset > this.metadataCapacity ||
      n > this.#room()
    ) {
      this.overflow = true;
      return false;
    }
    return true;
  }

  #payFits(n: number): boolean {
    if (
      this.#pay + n - this.payloadOffset > this.payloadCapacity ||
      n > this.#room()
    ) {
      if (this.#deferred) this.#exact();
      else this.#unwritten += n; // over budget: finish() cuts or drops
      return false;
    }
    return true;
  }

  /**
   * Starts an event: size placeholder, event tags, event name.
   *
   * @param name The event name.
   * @param tags The event tags (28 bits).
   * @param deferred Record the metadata as tokens (see the class); only
   *   without tags.
   */
  reset(name: string, tags = 0, deferred = false): void {
    this.overflow = false;
    // A cut planned by the last finish() applies only when asked for.
    this.#cap = this.#applyCut ? this.#plannedCap : MAX_COUNTED_SIZE;
    this.#applyCut = false;
    this.cutPlanned = false;
    this.#values = 0;
    this.#unwritten = 0;
    this.#cuts = 0;
    this.#replaying = false;
    this.#needsExact = false;
    this.#finished = 0;
    this.#meta = this.metadataOffset + 2;
    this.#pay = this.payloadOffset;
    this.#deferred = deferred && tags === 0;
    if (this.#deferred) {
      this.bytes[this.#meta++] = 0;
      this.#tokens = 0;
      this.#metaBound = 3;
      this.#token(name, NAME_ONLY, 0);
      return;
    }
    if (tags === 0) {
      this.bytes[this.#meta++] = 0;
    } else {
      const t = encodeTags(tags);
      for (let i = 0; i < t.length; i++) this.bytes[this.#meta++] = t[i];
    }
    this.#name(name);
  }

  /**
   * After a failed {@linkcode TraceLoggingWriter.finish} with
   * {@linkcode TraceLoggingWriter.cutPlanned}: makes the next event (only
   * that one) cut its values to the planned length, so that the same event
   * written again fits.
   *
   * @returns Whether a cut was planned.
   */
  cutNext(): boolean {
    this.#applyCut = this.cutPlanned;
    return this.#applyCut;
  }

  /**
   * Ends the event: back-patches the metadata size. In the normal mode an
   * event over the budget returns `false`; when cutting its longest values
   * makes it fit, {@linkcode TraceLoggingWriter.cutPlanned} is set (see
   * {@linkcode TraceLoggingWriter.cutNext}).
   *
   * @returns `true` when the event is complete and fits; `false` on overflow.
   */
  finish(): boolean {
    if (this.#finished !== 0) return this.#finished === 1;
    const ok = this.#finish();
    this.#finished = ok ? 1 : 2;
    return ok;
  }

  #finish(): boolean {
    if (this.overflow) return false;
    if (this.#deferred) {
      this.#deferred = false; // #name and #metaFits below: the normal mode
      const n = this.#tokens;
      const start = this.#meta; // after the size and the tags byte
      const cached = this.metadataCache.find(this.#names, this.#codes, n);
      if (cached !== undefined) {
        this.bytes.set(cached, start);
        this.#meta = start + cached.length;
      } else if (!this.#render(n)) {
        this.#exact();
        return false;
      } else if (
        hasDuplicateSiblings(
          this.#names,
          this.#codes,
          n,
          InType.STRUCT,
          writtenFieldName,
        )
      ) {
        // A new shape with two sibling fields of the same written name: the
        // caller writes it again in the normal mode, which leaves the later
        // ones out (see `deferred`); the cache only holds shapes without.
        this.#exact();
        return false;
      }
      const meta = this.#meta - this.metadataOffset;
      if (
        meta + DEFERRED_SLACK > this.metadataCapacity ||
        meta + (this.#pay - this.payloadOffset) + DEFERRED_SLACK > this.budget
      ) {
        this.#exact();
        return false;
      }
      if (cached === undefined) {
        this.metadataCache.add(
          this.#names,
          this.#codes,
          n,
          this.bytes.subarray(start, this.#meta),
        );
      }
    } else {
      const total = this.#meta - this.metadataOffset +
        (this.#pay - this.payloadOffset) + this.#unwritten;
      if (total > this.budget || this.#unwritten > 0) {
        this.overflow = true;
        const cut = cutLength(
          this.#lengths,
          this.#values,
          Math.max(total - this.budget, 1),
          this.#scratch,
        );
        if (cut >= 0) {
          this.#plannedCap = cut;
          this.cutPlanned = true;
        }
        return false;
      }
      this.truncated += this.#cuts;
    }
    this.#view.setUint16(
      this.metadataOffset,
      this.#meta - this.metadataOffset,
      true,
    );
    return true;
  }

  // Writes the tokens' metadata (deferred mode); false when it did not fit.
  #render(n: number): boolean {
    const names = this.#names;
    const codes = this.#codes;
    const bytes = this.bytes;
    for (let i = 0; i < n; i++) {
      this.#name(names[i]);
      const code = codes[i];
      if (code === NAME_ONLY) continue;
      const size = code & HAS_OUT ? 2 : 1;
      if (this.overflow || !this.#metaFits(size)) return false;
      bytes[this.#meta++] = code & 0xff;
      if (size === 2) bytes[this.#meta++] = (code >>> 8) & 0xff;
    }
    return !this.overflow;
  }

  // Writes a NUL-terminated UTF-8 name into the metadata (NULs inside become '?').
  #name(name: string): void {
    if (this.#deferred) {
      this.#token(name, NAME_ONLY, 0);
      return;
    }
    const n = name.length;
    if (!this.#metaFits(n + 1)) return;
    const bytes = this.bytes;
    let p = this.#meta;
    let i = 0;
    for (; i < n; i++) {
      const c = name.charCodeAt(i);
      if (c >= 0x80 || c === 0) break;
      bytes[p++] = c;
    }
    if (i < n) {
      p = this.#meta;
      const room = Math.min(
        this.metadataCapacity - (p - this.metadataOffset),
        this.#room(),
      ) - 1;
      if (room < 0) {
        this.overflow = true;
        return;
      }
      const r = utf8.encodeInto(name, bytes.subarray(p, p + room));
      if (r.read < n) {
        this.overflow = true;
        return;
      }
      for (let j = p; j < p + r.written; j++) {
        if (bytes[j] === 0) bytes[j] = 0x3f;
      }
      p += r.written;
    }
    bytes[p++] = 0;
    this.#meta = p;
  }

  /**
   * Writes a field's metadata: name, InMeta, [OutMeta], [tags].
   *
   * @param name Field name.
   * @param inMeta InType with array flags.
   * @param outType OutType (0 = none).
   * @param tags Field tags (0 = none; else 4 bytes as TraceLogging writes them).
   */
  field(name: string, inMeta: number, outType = 0, tags = 0): void {
    if (this.#replaying) return;
    if (this.#deferred) {
      if (tags !== 0) this.#exact();
      else if (outType === 0) this.#token(name, inMeta & 0xff, 1);
      else {
        this.#token(
          name,
          ((inMeta | CHAIN_FLAG) & 0xff) | ((outType & 0x7f) << 8) | HAS_OUT,
          2,
        );
      }
      return;
    }
    this.#name(name);
    if (outType === 0 && tags === 0) {
      if (this.#metaFits(1)) this.bytes[this.#meta++] = inMeta;
      return;
    }
    if (!this.#metaFits(tags === 0 ? 2 : 6)) return;
    this.bytes[this.#meta++] = inMeta | CHAIN_FLAG;
    if (tags === 0) {
      this.bytes[this.#meta++] = outType & 0x7f;
    } else {
      this.bytes[this.#meta++] = (outType & 0x7f) | CHAIN_FLAG;
      const t = tags & 0x0fffffff;
      this.bytes[this.#meta++] = ((t >>> 21) & 0x7f) | 0x80;
      this.bytes[this.#meta++] = ((t >>> 14) & 0x7f) | 0x80;
      this.bytes[this.#meta++] = ((t >>> 7) & 0x7f) | 0x80;
      this.bytes[this.#meta++] = t & 0x7f;
    }
  }

  /**
   * Starts a struct; set its member count with {@linkcode TraceLoggingWriter.setStructCount}.
   *
   * @param name Field name.
   * @returns The position of the count byte.
   */
  beginStruct(name: string): number {
    if (this.#replaying) return -1;
    if (this.#deferred) {
      return this.#token(
        name,
        (InType.STRUCT | CHAIN_FLAG) | (1 << 8) | HAS_OUT,
        2,
      );
    }
    this.#name(name);
    if (!this.#metaFits(2)) return -1;
    this.bytes[this.#meta++] = InType.STRUCT | CHAIN_FLAG;
    this.bytes[this.#meta] = 1;
    return this.#meta++;
  }

  /**
   * Sets a struct's member count.
   *
   * @param at What {@linkcode TraceLoggingWriter.beginStruct} returned.
   * @param count 1..127.
   */
  setStructCount(at: number, count: number): void {
    if (at < 0) return;
    if (this.#deferred) {
      this.#codes[at] = (InType.STRUCT | CHAIN_FLAG) | ((count & 0x7f) << 8) |
        HAS_OUT;
    } else {
      this.bytes[at] = count & 0x7f;
    }
  }

  /**
   * Forgets metadata written after `position` (e.g. an empty struct header).
   *
   * @param position A former {@linkcode TraceLoggingWriter.metadataPosition}.
   */
  rewindMetadata(position: number): void {
    if (this.#deferred) this.#tokens = position;
    else this.#meta = position;
  }

  /**
   * Appends metadata recorded earlier with
   * {@linkcode TraceLoggingWriter.metadataSince} and, until
   * {@linkcode TraceLoggingWriter.endReplay}, writes only the payload of the
   * fields that follow. The caller must write exactly the fields (names,
   * types, struct counts) the recording holds; string fields must not use
   * {@linkcode OUT_AUTO_UTF8} (their metadata would depend on the value).
   *
   * @param metadata The recorded metadata bytes.
   */
  replayMetadata(metadata: Uint8Array): void {
    if (this.#deferred) {
      this.#exact(); // not meant for deferred mode
      return;
    }
    if (!this.#metaFits(metadata.length)) return;
    this.bytes.set(metadata, this.#meta);
    this.#meta += metadata.length;
    this.#replaying = true;
  }

  /**
   * Ends a payload that a replay wrote in place after a finished event (see
   * `etw/_etw_replay.ts`): the event is then that event's metadata, which
   * the replay left as it was, and the payload up to `end`.
   *
   * @param end The offset after the payload's last byte.
   */
  replayedPayload(end: number): void {
    this.#pay = end;
  }

  /** Ends a {@linkcode TraceLoggingWriter.replayMetadata}: fields write their metadata again. */
  endReplay(): void {
    this.#replaying = false;
  }

  /**
   * A copy of the metadata written since `position`, to replay for later
   * events of the same shape; `undefined` after an overflow.
   *
   * @param position A former {@linkcode TraceLoggingWriter.metadataPosition}.
   * @returns The bytes.
   */
  metadataSince(position: number): Uint8Array<ArrayBuffer> | undefined {
    return this.overflow ? undefined : this.bytes.slice(position, this.#meta);
  }

  /**
   * An INT8/UINT8 field.
   *
   * @param name Field name.
   * @param value The value.
   * @param outType OutType.
   * @param signed INT8 when `true`.
   */
  u8(name: string, value: number, outType = 0, signed = false): void {
    this.field(name, signed ? InType.INT8 : InType.UINT8, outType);
    if (this.#payFits(1)) this.bytes[this.#pay++] = value & 0xff;
  }

  /**
   * An INT16/UINT16 field.
   *
   * @param name Field name.
   * @param value The value.
   * @param outType OutType.
   * @param signed INT16 when `true`.
   */
  u16(name: string, value: number, outType = 0, signed = false): void {
    this.field(name, signed ? InType.INT16 : InType.UINT16, outType);
    if (!this.#payFits(2)) return;
    this.#view.setUint16(this.#pay, value & 0xffff, true);
    this.#pay += 2;
  }

  /**
   * A 32-bit integer field (INT32, UINT32, BOOL32, HEXINT32).
   *
   * @param name Field name.
   * @param inType The InType.
   * @param value The value.
   * @param outType OutType.
   */
  int32(name: string, inType: number, value: number, outType = 0): void {
    this.field(name, inType, outType);
    if (!this.#payFits(4)) return;
    this.#view.setInt32(this.#pay, value | 0, true);
    this.#pay += 4;
  }

  /**
   * A 64-bit integer field (INT64, UINT64, HEXINT64, FILETIME) from a safe
   * integer number or a bigint (taken modulo 2^64).
   *
   * @param name Field name.
   * @param inType The InType.
   * @param value The value.
   * @param outType OutType.
   */
  int64(
    name: string,
    inType: number,
    value: number | bigint,
    outType = 0,
  ): void {
    this.field(name, inType, outType);
    if (!this.#payFits(8)) return;
    this.#int64Value(value);
  }

  #int64Value(value: number | bigint): void {
    const p = this.#pay;
    if (typeof value === "bigint") {
      this.#view.setBigUint64(p, BigInt.asUintN(64, value), true);
    } else {
      const lo = value % 0x100000000;
      const hi = Math.floor(value / 0x100000000);
      this.#view.setUint32(p, lo < 0 ? lo + 0x100000000 : lo, true);
      this.#view.setInt32(p + 4, hi | 0, true);
    }
    this.#pay = p + 8;
  }

  /**
   * A DOUBLE field.
   *
   * @param name Field name.
   * @param value The value.
   * @param outType OutType.
   */
  f64(name: string, value: number, outType = 0): void {
    this.field(name, InType.DOUBLE, outType);
    if (!this.#payFits(8)) return;
    this.#view.setFloat64(this.#pay, value, true);
    this.#pay += 8;
  }

  /**
   * A FLOAT field.
   *
   * @param name Field name.
   * @param value The value.
   * @param outType OutType.
   */
  f32(name: string, value: number, outType = 0): void {
    this.field(name, InType.FLOAT, outType);
    if (!this.#payFits(4)) return;
    this.#view.setFloat32(this.#pay, value, true);
    this.#pay += 4;
  }

  /**
   * A GUID field (16 bytes in memory order).
   *
   * @param name Field name.
   * @param value The GUID bytes.
   */
  guid(name: string, value: Uint8Array): void {
    this.field(name, InType.GUID);
    if (!this.#payFits(16)) return;
    this.bytes.set(value.subarray(0, 16), this.#pay);
    this.#pay += 16;
  }

  /**
   * A variable-count INT32 array field: u16 count, then the elements.
   *
   * @param name Field name.
   * @param values The elements (at most 65535 are written).
   */
  int32Array(name: string, values: ArrayLike<number>): void {
    this.field(name, InType.INT32 | IN_VARIABLE_COUNT);
    const n = Math.min(values.length, 0xffff);
    if (!this.#payFits(2 + 4 * n)) return;
    this.#view.setUint16(this.#pay, n, true);
    this.#pay += 2;
    for (let i = 0; i < n; i++) {
      this.#view.setInt32(this.#pay, values[i] | 0, true);
      this.#pay += 4;
    }
  }

  // Notes the byte length a cuttable value wants (for the cut plan).
  #record(wanted: number): void {
    const i = this.#values;
    if (i < MAX_TOKENS) {
      this.#lengths[i] = wanted;
      this.#values = i + 1;
    }
  }

  // A value of `wanted` bytes got `written` of at most `limit`: in deferred
  // mode a reason for the normal mode; in the normal mode a cut on purpose
  // (above the cap: counted when the event is written) or for lack of room
  // (the event is over budget: finish() plans a cut or drops it).
  #cut(wanted: number, written: number, limit: number): void {
    if (this.#deferred) {
      this.#exact();
      return;
    }
    const cap = this.#cap;
    if (wanted > cap) this.#cuts++;
    if (limit < cap) {
      const short = Math.min(wanted, cap) - written;
      if (short > 0) this.#unwritten += short;
    }
  }

  // The most bytes the next string or byte array may take: the cap (65,535
  // or the planned cut) and the room left (in deferred mode, the budget).
  #stringLimit(): number {
    const free = Math.min(
      this.payloadCapacity - (this.#pay - this.payloadOffset),
      this.#room(),
    ) - 2; // the count before the bytes
    return Math.max(0, Math.min(this.#cap, free));
  }

  /**
   * A BINARY field (u16 byte count + bytes), or COUNTEDBINARY.
   *
   * @param name Field name.
   * @param value The bytes (cut to fit, counted in `truncated`).
   * @param inType BINARY (default) or COUNTEDBINARY.
   * @param outType OutType.
   */
  binary(
    name: string,
    value: Uint8Array,
    inType: number = InType.BINARY,
    outType = 0,
  ): void {
    this.field(name, inType, outType);
    const wanted = value.length;
    this.#record(Math.min(wanted, MAX_COUNTED_SIZE));
    if (!this.#payFits(2)) {
      this.#unwritten += Math.min(wanted, this.#cap);
      return;
    }
    let n = wanted;
    const limit = this.#stringLimit();
    if (n > limit) {
      n = limit;
      this.#cut(wanted, n, limit);
    }
    this.#view.setUint16(this.#pay, n, true);
    this.bytes.set(
      n === value.length ? value : value.subarray(0, n),
      this.#pay + 2,
    );
    this.#pay += 2 + n;
  }

  /**
   * A counted 8-bit string field (COUNTEDANSISTRING, the encoding
   * OpenTelemetry's ETW exporters use): u16 byte count + UTF-8.
   *
   * @param name Field name.
   * @param value The string; lone surrogates become U+FFFD; cut at a
   *   character boundary to 65,535 bytes or to the planned cut length (see
   *   the module; counted in `truncated`).
   * @param outType OutType, or {@linkcode OUT_AUTO_UTF8}.
   * @param cuttable `false` for short fixed values (ids, type names) that a
   *   cut plan leaves whole.
   */
  str8(
    name: string,
    value: string,
    outType: number = OUT_AUTO_UTF8,
    cuttable = true,
  ): void {
    if (this.#deferred) {
      const at = this.#token(name, 0, 2);
      if (!this.#payFits(2)) return;
      const start = this.#pay + 2;
      const written = this.#utf8(value, start, this.#stringLimit());
      const length = written < 0 ? ~written : written;
      this.#view.setUint16(this.#pay, length, true);
      this.#pay = start + length;
      const out = outType === OUT_AUTO_UTF8
        ? (written < 0 ? OutType.UTF8 : 0)
        : outType;
      if (at >= 0) {
        this.#codes[at] = out === 0
          ? InType.COUNTEDANSISTRING
          : (InType.COUNTEDANSISTRING | CHAIN_FLAG) | ((out & 0x7f) << 8) |
            HAS_OUT;
      }
      return;
    }
    const replaying = this.#replaying;
    if (!replaying) this.#name(name);
    const typeAt = this.#meta;
    if (!replaying && !this.#metaFits(2)) return;
    const cap = this.#cap;
    const values = this.#values;
    if (!cuttable) this.#cap = MAX_COUNTED_SIZE;
    let written: number;
    if (this.#payFits(2)) {
      const start = this.#pay + 2;
      written = this.#utf8(value, start, this.#stringLimit());
      const length = written < 0 ? ~written : written;
      this.#record(
        this.#wanted < 0 ? length : Math.min(this.#wanted, MAX_COUNTED_SIZE),
      );
      this.#view.setUint16(this.#pay, length, true);
      this.#pay = start + length;
    } else {
      // No room even for the count: the event is over budget.
      const wanted = Math.min(utf8Length(value), MAX_COUNTED_SIZE);
      this.#record(wanted);
      this.#unwritten += Math.min(wanted, this.#cap);
      written = isAscii(value) ? 0 : -1;
    }
    if (!cuttable) {
      this.#cap = cap;
      this.#values = values; // not a candidate for cutting
    }
    if (replaying) return;
    const out = outType === OUT_AUTO_UTF8
      ? (written < 0 ? OutType.UTF8 : 0)
      : outType;
    if (out === 0) {
      this.bytes[typeAt] = InType.COUNTEDANSISTRING;
      this.#meta = typeAt + 1;
    } else {
      this.bytes[typeAt] = InType.COUNTEDANSISTRING | CHAIN_FLAG;
      this.bytes[typeAt + 1] = out & 0x7f;
      this.#meta = typeAt + 2;
    }
  }

  // Writes `value` as UTF-8 at `at`, at most `limit` bytes. Returns the byte
  // count, bit-inverted (negative) when the value had non-ASCII characters.
  // Sets #wanted to the bytes the value wanted (65,536 for any more than
  // 65,535) when it was cut, else to -1.
  #utf8(value: string, at: number, limit: number): number {
    this.#wanted = -1;
    const bytes = this.bytes;
    const n = value.length;
    const m = n < limit ? n : limit;
    let i = 0;
    for (; i < m; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) break;
      bytes[at + i] = c;
    }
    if (i === n) return n;
    if (i === m) {
      // All ASCII so far but too long: check the rest only for the OutType.
      let ascii = true;
      for (let j = m; j < n; j++) {
        if (value.charCodeAt(j) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.#wanted = n;
        this.#cut(n, m, limit);
        return m;
      }
    }
    const r = utf8.encodeInto(value, bytes.subarray(at, at + limit));
    if (r.read < n) {
      this.#wanted = utf8Length(value);
      this.#cut(this.#wanted, r.written, limit);
    }
    return ~r.written;
  }

  /**
   * A counted 8-bit string field holding a time in RFC 3339 UTC with a `Z`
   * and 0, 3, 6 or 9 fractional digits (the fewest that are exact; the true
   * digits of the exact time), written straight into the payload: the same
   * text as the pipeline's `formatRfc3339`, without building a string per
   * call (the date and time of day are cached per second). A pair that is
   * not an exact time (see `isExactTime`) is written as time 0,
   * `1970-01-01T00:00:00Z`.
   *
   * @param name Field name.
   * @param unixMs Whole milliseconds since the epoch.
   * @param nanosInMs Nanoseconds within the millisecond.
   */
  rfc3339(name: string, unixMs: number, nanosInMs: number): void {
    this.field(name, InType.COUNTEDANSISTRING);
    if (!this.#payFits(2 + 30)) return;
    if (!isExactTime(unixMs, nanosInMs)) unixMs = nanosInMs = 0;
    const second = Math.floor(unixMs / 1000);
    const cache = this.#second;
    if (second !== this.#secondValue) {
      // YYYY-MM-DDTHH:MM:SS.000Z: four-digit years only (the range ends in 2554).
      const iso = new Date(second * 1000).toISOString();
      for (let i = 0; i < 19; i++) cache[i] = iso.charCodeAt(i);
      this.#secondValue = second;
    }
    const bytes = this.bytes;
    let p = this.#pay + 2;
    for (let i = 0; i < 19; i++) bytes[p++] = cache[i];
    // Below 1e9, an exact integer.
    const nanos = (unixMs - second * 1000) * 1e6 + nanosInMs;
    if (nanos !== 0) p = writeRfc3339Fraction(bytes, p, nanos);
    bytes[p++] = 0x5a; // "Z"
    this.#view.setUint16(this.#pay, p - this.#pay - 2, true);
    this.#pay = p;
  }

  /**
   * A FILETIME field (100 ns intervals since 1601-01-01 UTC) holding a time
   * exact to the 100 ns below it (see the pipeline's `writeFileTime`; a pair
   * that is not an exact time is written as 1970-01-01).
   *
   * @param name Field name.
   * @param unixMs Whole milliseconds since the epoch.
   * @param nanosInMs Nanoseconds within the millisecond.
   */
  filetime(name: string, unixMs: number, nanosInMs: number): void {
    this.field(name, InType.FILETIME);
    if (!this.#payFits(8)) return;
    this.#pay = writeFileTime(this.#view, this.#pay, unixMs, nanosInMs);
  }

  /**
   * A string field in one of the four encodings of §5 (for tools and
   * tests; the processors use {@linkcode TraceLoggingWriter.str8}).
   *
   * @param name Field name.
   * @param value The string.
   * @param encoding Counted/NUL-terminated, UTF-8/UTF-16.
   * @param outType OutType for 8-bit strings (e.g. 35 UTF8).
   */
  string(
    name: string,
    value: string,
    encoding: StringEncoding,
    outType = 0,
  ): void {
    if (encoding === "counted8") {
      this.str8(name, value, outType);
      return;
    }
    if (this.#deferred) {
      this.#exact(); // only counted8 is deferred
      return;
    }
    if (encoding === "nul8") {
      this.field(name, InType.ANSISTRING, outType);
      const limit = this.#stringLimit();
      if (!this.#payFits(1)) return;
      const w = this.#utf8(value, this.#pay, limit);
      let len = w < 0 ? ~w : w;
      // An embedded NUL would end the string early: cut there.
      for (let j = 0; j < len; j++) {
        if (this.bytes[this.#pay + j] === 0) {
          len = j;
          this.truncated++;
          break;
        }
      }
      this.#pay += len;
      this.bytes[this.#pay++] = 0;
      return;
    }
    const counted = encoding === "counted16";
    this.field(name, counted ? InType.COUNTEDSTRING : InType.UNICODESTRING, 0);
    const limit = this.#stringLimit();
    let units = value.length;
    if (2 * units + 2 > limit) {
      units = Math.max(0, (limit - 2) >> 1);
      // Do not split a surrogate pair.
      if (units > 0 && (value.charCodeAt(units - 1) & 0xfc00) === 0xd800) {
        units--;
      }
      this.truncated++;
    }
    if (!this.#payFits(2 * units + 2)) return;
    let p = this.#pay;
    if (counted) {
      this.#view.setUint16(p, 2 * units, true);
      p += 2;
    }
    for (let i = 0; i < units; i++) {
      this.#view.setUint16(p, value.charCodeAt(i), true);
      p += 2;
    }
    if (!counted) {
      this.#view.setUint16(p, 0, true);
      p += 2;
    }
    this.#pay = p;
  }
}
