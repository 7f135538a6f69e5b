/**
 * Attribute and `AnyValue` types of the OpenTelemetry data model, the limits
 * that apply to them, and the rules that turn arbitrary JavaScript values into
 * valid ones.
 *
 * ## Value rules
 *
 * A value is kept as it is when it is a string, a number, a boolean, `null`
 * (the empty value), a `Uint8Array` (bytes), a `bigint` within int64, or an
 * array or plain object made of such values. Anything else is converted or
 * dropped, and counted in {@linkcode AttributeSanitizer}'s counters:
 *
 * | input | becomes | counter |
 * | --- | --- | --- |
 * | `undefined` (attribute or map entry) | absent | none: it carries no data |
 * | `undefined` in an array | `null` | none |
 * | `bigint` outside int64 | its decimal string | `converted` |
 * | `Date` | ISO 8601 string (invalid dates are dropped) | `converted` |
 * | `ArrayBuffer`, other typed arrays, `DataView` | `Uint8Array` over the same bytes | `converted` |
 * | `Map` | map with `String(key)` keys | `converted` |
 * | `Set` | array | `converted` |
 * | `Error` | its `stack`, else `name: message` | `converted` |
 * | other objects (class instances) | map of own enumerable properties | `converted` |
 * | function, symbol | dropped (`null` inside arrays) | `invalid` |
 * | a reference back to an enclosing array/map (a cycle) | dropped | `invalid` |
 * | nesting deeper than {@linkcode MAX_VALUE_DEPTH} (24) levels | dropped | `invalid` |
 * | a value, entry or key whose reading throws (getter, `toString`, Proxy trap, an `Error` whose `stack` throws falls back to `name: message`) | dropped alone (`null` inside arrays) | `invalid` |
 * | beyond {@linkcode MAX_VALUE_NODES} nodes or {@linkcode MAX_VALUE_SIZE} code units (shared sub-objects counted each time reached) | the rest is cut | `cut` (once per value) |
 *
 * Numbers: a safe integer is encoded as an OTLP `int`, any other number
 * (fractions, `NaN`, ±`Infinity`, integers beyond 2^53) as a `double`; see
 * {@linkcode isIntValue}.
 *
 * Limits: strings and bytes longer than the value length limit are cut to it
 * (`truncated`); attributes beyond the count limit are dropped, first come
 * first kept, and counted in the record's `droppedAttributesCount`.
 *
 * Attribute objects that already follow every rule are stored as they are,
 * not copied: do not mutate an attributes object after passing it in.
 *
 * @module
 */

/**
 * A map of `AnyValue`s: an OTLP `KeyValueList`.
 *
 * @example
 * ```ts
 * import type { AnyValueMap } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const map: AnyValueMap = { user: { id: 7, roles: ["admin"] } };
 * assert.ok(map.user);
 * ```
 */
export interface AnyValueMap {
  /** A value by key. */
  readonly [key: string]: AnyValue;
}

/**
 * An OpenTelemetry `AnyValue`: a string, number, boolean, bigint (int64),
 * bytes, an array of values, a map of values, or `null` for the empty value.
 *
 * `undefined` is accepted where a value is optional and means "absent".
 *
 * @example Values of every kind
 * ```ts
 * import type { AnyValue } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const values: AnyValue[] = ["text", 42, 1.5, true, 9007199254740993n, new Uint8Array([1]), [1, "a"], { k: "v" }, null];
 * assert.equal(values.length, 9);
 * ```
 */
export type AnyValue =
  | string
  | number
  | boolean
  | bigint
  | Uint8Array
  | null
  | undefined
  | readonly AnyValue[]
  | AnyValueMap;

/**
 * Attributes of a record, span, event, link, resource or scope.
 *
 * @example
 * ```ts
 * import type { Attributes } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const attributes: Attributes = { "http.request.method": "GET", "http.response.status_code": 200 };
 * assert.equal(attributes["http.request.method"], "GET");
 * ```
 */
export type Attributes = AnyValueMap;

/**
 * Attribute limits, as the OpenTelemetry specification defines them.
 *
 * @example
 * ```ts
 * import type { AttributeLimits } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const limits: AttributeLimits = { attributeCountLimit: 16, attributeValueLengthLimit: 256 };
 * assert.equal(limits.attributeCountLimit, 16);
 * ```
 */
export interface AttributeLimits {
  /**
   * The most attributes one record, span, event or link keeps.
   * @default {128}
   */
  readonly attributeCountLimit?: number;
  /**
   * The longest string (in UTF-16 code units) or byte array an attribute
   * value keeps.
   * @default {Infinity}
   */
  readonly attributeValueLengthLimit?: number;
}

/**
 * The deepest nesting of arrays and maps one value keeps, counting the value
 * itself: `[1]` has depth 1, `{ a: { b: 1 } }` depth 2. Deeper arrays and
 * maps are dropped and counted in {@linkcode AttributeSanitizer.invalid}.
 *
 * Chosen so that every OTLP request decodes at the default recursion limit
 * of protobuf decoders (100 nested messages in `protoc` and protobufjs). The
 * deepest value sits in a span event's or link's attribute: request (0) >
 * ResourceSpans (1) > ScopeSpans (2) > Span (3) > Event (4) > KeyValue (5) >
 * AnyValue (6), and each map level adds three messages (KeyValueList >
 * KeyValue > AnyValue; an array level two), so depth `D` needs `6 + 3D`
 * levels: 24 needs 78, leaving room for relays that wrap a request.
 *
 * @example
 * ```ts
 * import { MAX_VALUE_DEPTH } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_VALUE_DEPTH, 24);
 * ```
 */
export const MAX_VALUE_DEPTH = 24;

/**
 * The most nodes converting one value visits: every array item and map entry
 * counts, and a sub-object shared by several parents counts each time it is
 * reached (so `v = { a: v, b: v }` repeated 24 times costs this bound, not
 * 2^24). For a record's or span's attribute set the bound applies to the whole
 * set. Past it the rest of the value is cut (arrays end, maps lose their later
 * entries) and the value is counted once in {@linkcode AttributeSanitizer.cut}.
 *
 * @example
 * ```ts
 * import { MAX_VALUE_NODES } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_VALUE_NODES, 16384);
 * ```
 */
export const MAX_VALUE_NODES = 16384;

/**
 * The most text and bytes converting one value keeps: UTF-16 code units of
 * its strings and map keys plus bytes of its byte arrays, each counted every
 * time it is reached (4 Mi, the default gRPC message limit of OTLP
 * receivers). The string that crosses the bound is cut, later parts are
 * dropped, and the value is counted once in {@linkcode AttributeSanitizer.cut}.
 * Together with {@linkcode MAX_VALUE_NODES} it bounds every encoder's output
 * for one value.
 *
 * @example
 * ```ts
 * import { MAX_VALUE_SIZE } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_VALUE_SIZE, 4 * 1024 * 1024);
 * ```
 */
export const MAX_VALUE_SIZE: number = 4 * 1024 * 1024;

/**
 * The default attribute count limit of the OpenTelemetry specification.
 *
 * @example
 * ```ts
 * import { DEFAULT_ATTRIBUTE_COUNT_LIMIT } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_ATTRIBUTE_COUNT_LIMIT, 128);
 * ```
 */
export const DEFAULT_ATTRIBUTE_COUNT_LIMIT = 128;

/**
 * Tells whether a number is encoded as an integer (`intValue`) or as a
 * double (`doubleValue`): safe integers are integers, every other number is a
 * double.
 *
 * @param value The number.
 * @returns `true` for safe integers.
 *
 * @example
 * ```ts
 * import { isIntValue } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isIntValue(42), true);
 * assert.equal(isIntValue(1.5), false);
 * assert.equal(isIntValue(2 ** 60), false);
 * ```
 */
export function isIntValue(value: number): boolean {
  return Number.isSafeInteger(value);
}

// `hasOwnProperty.call` inside `for...in`: V8 answers it from the enum
// cache for free, while `Object.hasOwn` there costs ~8 ns per key.
const hasOwn = Object.prototype.hasOwnProperty;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function checkLimit(name: string, value: number): number {
  if (!(value >= 0) || (value !== Infinity && !Number.isInteger(value))) {
    throw new RangeError(
      `Cannot use ${name} ${value}: expected a non-negative integer or Infinity`,
    );
  }
  return value;
}

/**
 * Applies the value rules and attribute limits of this module, counting what
 * it drops, converts and truncates. One sanitizer serves one provider; its
 * counters only grow.
 *
 * Values that already follow every rule are returned as they are, without a
 * copy, so the common case allocates nothing. No method throws: a value whose
 * reading throws (a throwing getter, `toString` or Proxy trap) is dropped
 * alone and counted in {@linkcode AttributeSanitizer.invalid}.
 *
 * @example Drop a function, keep the rest
 * ```ts
 * import { AttributeSanitizer } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const sanitizer = new AttributeSanitizer({ attributeCountLimit: 2 });
 * const out = sanitizer.attributes({ a: 1, f: () => 1, b: "x", c: true } as never);
 * assert.deepEqual(out, { a: 1, b: "x" });
 * assert.equal(sanitizer.lastDropped, 2); // `f` was invalid, `c` over the limit
 * assert.equal(sanitizer.invalid, 1);
 * ```
 */
export class AttributeSanitizer {
  /** The attribute count limit in force. */
  readonly attributeCountLimit: number;
  /** The attribute value length limit in force. */
  readonly attributeValueLengthLimit: number;
  /** Attributes dropped by the last {@linkcode AttributeSanitizer.attributes} call. */
  lastDropped = 0;
  /** Attributes dropped because of the count limit, in total. */
  overLimit = 0;
  /** Values dropped because they cannot be represented (functions, symbols, cycles, depth, a read that throws), in total. */
  invalid = 0;
  /** Values converted to a representable kind (see the module's table), in total. */
  converted = 0;
  /** Strings and byte arrays cut to the value length limit, in total. */
  truncated = 0;
  /**
   * Times out of range or malformed, treated as absent (see `toExactTime`),
   * in total; the log record snapshot counts here.
   */
  invalidTimes = 0;
  /** Values cut at {@linkcode MAX_VALUE_NODES} or {@linkcode MAX_VALUE_SIZE}, in total. */
  cut = 0;
  /** Record trace contexts dropped (ids not hex of the right length, all zeros) or whose flags were not an integer 0-255 (replaced by 0). */
  invalidTraceContexts = 0;
  /** Trace states dropped as invalid (for the `TraceContextCounters` contract). */
  invalidTraceStates = 0;
  /** Record fields of the wrong type or range, or whose reading threw, left out: a severity number that is not an integer 1-24, a non-string severity text or event name, an unreadable time. */
  invalidFields = 0;

  #seen: unknown[] = [];
  // What the value being converted may still cost (see MAX_VALUE_NODES and
  // MAX_VALUE_SIZE); #isClean and #copy both spend it.
  #nodes = 0;
  #size = 0;
  #wasCut = false;

  /**
   * Creates a sanitizer.
   *
   * @param limits The limits to apply.
   * @throws {RangeError} When a limit is negative or not an integer.
   */
  constructor(limits: AttributeLimits = {}) {
    this.attributeCountLimit = checkLimit(
      "attributeCountLimit",
      limits.attributeCountLimit ?? DEFAULT_ATTRIBUTE_COUNT_LIMIT,
    );
    this.attributeValueLengthLimit = checkLimit(
      "attributeValueLengthLimit",
      limits.attributeValueLengthLimit ?? Infinity,
    );
  }

  #budget(): void {
    this.#nodes = MAX_VALUE_NODES;
    this.#size = MAX_VALUE_SIZE;
    this.#wasCut = false;
  }

  /**
   * Returns valid attributes for `attributes`: the same object when it
   * already follows the rules and limits, else a sanitized copy. Sets
   * {@linkcode AttributeSanitizer.lastDropped}. Never throws.
   *
   * @param attributes The attributes as the caller gave them.
   * @returns Valid attributes, or `undefined` when there were none.
   */
  attributes(attributes: Attributes | undefined): Attributes | undefined {
    this.lastDropped = 0;
    if (attributes === undefined || attributes === null) return undefined;
    if (typeof attributes !== "object") {
      this.invalid++;
      this.lastDropped = 1;
      return undefined;
    }
    this.#budget();
    let count = 0;
    let clean = true;
    let size = 0;
    const limit = this.attributeValueLengthLimit;
    try {
      // The prototype first, right after a read of a key no object has:
      // that read's inline cache records the maps of the attributes
      // objects, and with a few (up to 4) V8 folds Object.getPrototypeOf
      // into the map check it already made. Without a map known there it
      // is a C++ builtin call, about 20 ns on Deno and Node (9% of an emit
      // into a no-op batch exporter on Deno). Called after the loop, as it
      // was, the loop hid the maps. JSC folds it either way.
      if (
        (attributes as Record<symbol, unknown>)[MAP_PROBE] === undefined &&
        isPlainObject(attributes)
      ) {
        for (const key in attributes) {
          if (!hasOwn.call(attributes, key)) continue;
          const value = attributes[key];
          // Primitives inline (most values); the rest through #isClean. Each
          // `typeof` is compared where it is taken: a `typeof` kept in a
          // variable is a call to V8's Typeof builtin per value.
          if (typeof value === "string") {
            if (value.length <= limit) {
              size += value.length;
              count++;
              continue;
            }
          } else if (typeof value === "number" || typeof value === "boolean") {
            count++;
            continue;
          }
          if (value === undefined || !this.#isClean(value, limit, 0)) {
            clean = false;
            break;
          }
          count++;
        }
        if (
          clean && count <= this.attributeCountLimit && size <= this.#size
        ) return attributes;
      }
    } catch {
      // A getter, Proxy trap or prototype lookup threw: copy, entry by entry.
    }
    return this.#copyAttributes(attributes);
  }

  /**
   * Returns a valid `AnyValue` for `value` (a log body): the same value when
   * it already follows the rules, else a sanitized copy. No length limit
   * applies to bodies, only the bounds of {@linkcode MAX_VALUE_NODES} and
   * {@linkcode MAX_VALUE_SIZE}. Never throws.
   *
   * @param value The value as the caller gave it.
   * @returns A valid value; `undefined` when the value was absent or dropped.
   */
  value(value: unknown): AnyValue {
    return this.#convert(value, Infinity);
  }

  /**
   * Returns a valid value for one attribute (with the value length limit),
   * or `undefined` when the value is absent or must be dropped (counted in
   * {@linkcode AttributeSanitizer.invalid}). Never throws.
   *
   * @param value The value as the caller gave it.
   * @returns The valid value, or `undefined`.
   */
  attributeValue(value: unknown): AnyValue | undefined {
    return this.#convert(value, this.attributeValueLengthLimit);
  }

  #convert(value: unknown, limit: number): AnyValue {
    if (value === undefined) return undefined;
    if (
      typeof value === "string" && value.length <= limit &&
      value.length <= MAX_VALUE_SIZE
    ) return value;
    this.#budget();
    try {
      if (this.#isClean(value, limit, 0)) return value as AnyValue;
    } catch {
      // Read it again, value by value, below.
    }
    this.#budget();
    this.#seen.length = 0;
    const out = this.#copy(value, limit, 0);
    this.#seen.length = 0;
    if (this.#wasCut) this.cut++;
    return out === DROP ? undefined : out;
  }

  // May throw (getters, Proxies): callers catch and fall back to #copy.
  #isClean(value: unknown, lengthLimit: number, depth: number): boolean {
    switch (typeof value) {
      case "string":
        return value.length <= lengthLimit &&
          (this.#size -= value.length) >= 0;
      case "number":
      case "boolean":
        return true;
      case "bigint":
        return value >= INT64_MIN && value <= INT64_MAX;
      case "object": {
        if (value === null) return true;
        if (depth >= MAX_VALUE_DEPTH) return false;
        if (value instanceof Uint8Array) {
          return value.constructor === Uint8Array &&
            value.length <= lengthLimit && (this.#size -= value.length) >= 0;
        }
        if (Array.isArray(value)) {
          if ((this.#nodes -= value.length + 1) < 0) return false;
          for (let i = 0; i < value.length; i++) {
            const item = value[i];
            if (
              item === undefined || !this.#isClean(item, lengthLimit, depth + 1)
            ) return false;
          }
          return true;
        }
        if (!isPlainObject(value)) return false;
        if (--this.#nodes < 0) return false;
        const map = value as Record<string, unknown>;
        for (const key in map) {
          if (!hasOwn.call(map, key)) continue;
          const item = map[key];
          if (
            --this.#nodes < 0 || (this.#size -= key.length) < 0 ||
            item === undefined || !this.#isClean(item, lengthLimit, depth + 1)
          ) return false;
        }
        return true;
      }
      default:
        return false;
    }
  }

  #copyAttributes(attributes: object): Attributes {
    const out: Record<string, AnyValue> = {};
    let kept = 0;
    let dropped = 0;
    const limit = this.attributeValueLengthLimit;
    this.#budget();
    this.#seen.length = 0;
    this.#seen.push(attributes);
    try {
      for (const key in attributes) {
        let raw: unknown;
        try {
          if (!hasOwn.call(attributes, key)) continue;
          raw = (attributes as Record<string, unknown>)[key];
        } catch {
          this.invalid++;
          dropped++;
          continue;
        }
        if (raw === undefined) continue;
        if (this.#nodes <= 0 || this.#size <= 0) {
          this.#wasCut = true;
          dropped++;
          continue;
        }
        this.#nodes--;
        this.#size -= key.length;
        const value = this.#copy(raw, limit, 0);
        if (value === DROP) {
          dropped++;
          continue;
        }
        if (kept >= this.attributeCountLimit) {
          dropped++;
          this.overLimit++;
          continue;
        }
        setOwn(out, key, value);
        kept++;
      }
    } catch {
      // The key enumeration itself threw (a Proxy's ownKeys trap): keep what
      // was read, count the rest as one invalid value.
      this.invalid++;
      dropped++;
    }
    this.#seen.length = 0;
    if (this.#wasCut) this.cut++;
    this.lastDropped = dropped;
    return out;
  }

  #truncateString(value: string, limit: number): string {
    let end = value.length;
    if (end > limit) {
      this.truncated++;
      end = limit;
    }
    if (end > this.#size) {
      this.#wasCut = true;
      end = Math.max(this.#size, 0);
    }
    if (end < value.length) value = cutString(value, end);
    this.#size -= value.length;
    return value;
  }

  // Never throws: a value whose reading throws is dropped (and counted).
  #copy(value: unknown, limit: number, depth: number): AnyValue | typeof DROP {
    switch (typeof value) {
      case "string":
        return this.#truncateString(value, limit);
      case "number":
      case "boolean":
        return value;
      case "bigint":
        if (value >= INT64_MIN && value <= INT64_MAX) return value;
        this.converted++;
        return this.#truncateString(value.toString(), limit);
      case "undefined":
        return null;
      case "object":
        break;
      default:
        this.invalid++;
        return DROP;
    }
    if (value === null) return null;
    try {
      return this.#copyObject(value, limit, depth);
    } catch {
      this.invalid++;
      return DROP;
    }
  }

  #copyObject(
    value: object,
    limit: number,
    depth: number,
  ): AnyValue | typeof DROP {
    if (depth >= MAX_VALUE_DEPTH || this.#seen.includes(value)) {
      this.invalid++;
      return DROP;
    }
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      let bytes: Uint8Array;
      if (value instanceof Uint8Array && value.constructor === Uint8Array) {
        bytes = value;
      } else {
        this.converted++;
        bytes = value instanceof ArrayBuffer
          ? new Uint8Array(value)
          : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      }
      let keep = Math.min(limit, bytes.length);
      if (bytes.length > limit) this.truncated++;
      if (keep > this.#size) {
        this.#wasCut = true;
        keep = Math.max(this.#size, 0);
      }
      this.#size -= keep;
      return keep < bytes.length ? bytes.subarray(0, keep) : bytes;
    }
    if (value instanceof Date) {
      const time = value.getTime();
      if (Number.isNaN(time)) {
        this.invalid++;
        return DROP;
      }
      this.converted++;
      return this.#truncateString(value.toISOString(), limit);
    }
    if (value instanceof Error) {
      const text = errorText(value);
      if (text === undefined) {
        this.invalid++;
        return DROP;
      }
      this.converted++;
      return this.#truncateString(text, limit);
    }
    this.#seen.push(value);
    let out: AnyValue;
    if (Array.isArray(value) || value instanceof Set) {
      if (value instanceof Set) this.converted++;
      const items: AnyValue[] = [];
      for (const item of value) {
        if (this.#nodes <= 0 || this.#size <= 0) {
          this.#wasCut = true;
          break;
        }
        this.#nodes--;
        const copied = this.#copy(item, limit, depth + 1);
        items.push(copied === DROP ? null : copied);
      }
      out = items;
    } else if (value instanceof Map) {
      this.converted++;
      const map: Record<string, AnyValue> = {};
      for (const [key, item] of value) {
        if (item === undefined) continue;
        if (this.#nodes <= 0 || this.#size <= 0) {
          this.#wasCut = true;
          break;
        }
        this.#nodes--;
        let name: string;
        try {
          name = String(key);
        } catch {
          this.invalid++;
          continue;
        }
        this.#size -= name.length;
        const copied = this.#copy(item, limit, depth + 1);
        if (copied !== DROP) setOwn(map, name, copied);
      }
      out = map;
    } else {
      if (!isPlainObject(value)) this.converted++;
      const map: Record<string, AnyValue> = {};
      for (const key in value) {
        let item: unknown;
        try {
          if (!hasOwn.call(value, key)) continue;
          item = (value as Record<string, unknown>)[key];
        } catch {
          this.invalid++;
          continue;
        }
        if (item === undefined) continue;
        if (this.#nodes <= 0 || this.#size <= 0) {
          this.#wasCut = true;
          break;
        }
        this.#nodes--;
        this.#size -= key.length;
        const copied = this.#copy(item, limit, depth + 1);
        if (copied !== DROP) setOwn(map, key, copied);
      }
      out = map;
    }
    this.#seen.pop();
    return out;
  }
}

const DROP: unique symbol = Symbol("drop");

/**
 * Sets `map[key]` as an own enumerable property, also for `__proto__`
 * (which plain assignment would turn into a prototype change). Internal.
 */
export function setOwn(
  map: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  if (key === "__proto__") {
    Object.defineProperty(map, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else map[key] = value;
}

/** A key no attributes object has (see AttributeSanitizer.attributes). */
const MAP_PROBE: unique symbol = Symbol("attributes map probe");

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The first `limit` code units of `value`, without half of a surrogate pair at the end. */
function cutString(value: string, limit: number): string {
  let end = limit;
  const last = value.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  return value.slice(0, end);
}

/**
 * An error's text: its `stack`, else `name: message`. Each read that throws
 * or gives a non-string is skipped; `undefined` when nothing is readable.
 */
function errorText(error: Error): string | undefined {
  try {
    const stack = error.stack;
    if (typeof stack === "string") return stack;
  } catch {
    // fall back to name and message
  }
  let name = "Error";
  try {
    const n = error.name;
    if (typeof n === "string") name = n;
  } catch {
    // keep "Error"
  }
  try {
    const message = error.message;
    return typeof message === "string" ? `${name}: ${message}` : name;
  } catch {
    return undefined;
  }
}
