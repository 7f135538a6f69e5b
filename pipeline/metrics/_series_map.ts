// Attribute set -> series, for one metric stream, without allocating on a
// hit: a trie of Maps keyed by the attribute keys and primitive values in
// the order the caller wrote them. Each trie node also remembers the last
// key (or value) taken from it and where it led, so a stream of calls with
// the same set costs one identity compare per key and per value, and a Map
// lookup only where the set differs from the last one.
// A miss hashes the sanitized set without allocating (an order-independent
// sum over its key-value pairs) and looks it up in a hash index of the
// series, so {a, b} and {b, a} share a series and a set past the
// cardinality limit goes to the overflow series without building a key.
// Only a new series builds its canonical key (sorted keys, typed values).
// The trie and the series are bounded: past the cardinality limit, new sets
// go to the overflow series and add no trie nodes, and sets that cannot be
// a trie path (long strings, many keys) or hashed (object values) take the
// canonical path each time.

import type { AnyValue, Attributes } from "../attributes.ts";
import type { AttributeSanitizer } from "../attributes.ts";
import { freezeWithMemo } from "./_attributes_memo.ts";

const hasOwn = Object.prototype.hasOwnProperty;

/** The attribute that marks the overflow series (specification). */
export const OVERFLOW_ATTRIBUTES: Attributes = freezeWithMemo({
  "otel.metric.overflow": true,
});

const MAX_TRIE_KEYS = 32;
const MAX_TRIE_STRING = 256;

/** Never a key or value: what an unused `last` holds. */
const NONE: unique symbol = Symbol("none");

class TrieNode<S> {
  map: Map<unknown, TrieNode<S>> | undefined = undefined;
  series: S | undefined = undefined;
  /** The key (or value) last looked up from this node... */
  last: unknown = NONE;
  /** ...and the node it led to. */
  lastNext: TrieNode<S> | undefined = undefined;
}

// Order-independent hash of an attribute set: the sum of one mixed 32-bit
// hash per key-value pair (so key order does not matter), over the same
// entries and value identity as canonicalKey: 0 and -0 alike, NaN equal to
// NaN, "1" unlike 1. Values other than strings, numbers and booleans make
// the set unhashable (they take the canonical path).
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const UNHASHABLE = -1; // hashes are made non-negative, so this is never one

function stringHash(s: string, h: number): number {
  // FNV-1a over UTF-16 code units.
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return h;
}

function mix(h: number): number {
  // murmur3's finalizer: every input bit reaches every output bit.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function valueHash(value: unknown): number {
  switch (typeof value) {
    case "string":
      return stringHash(value, 0x2f3a5c71);
    case "number": {
      if (value === 0) return 0x1b873593; // and -0
      if (value !== value) return 0x7ff80001; // NaN
      if ((value | 0) === value) return mix(value ^ 0x3c6ef372);
      f64[0] = value;
      return mix(u32[0] ^ Math.imul(u32[1], 0x27d4eb2f));
    }
    case "boolean":
      return value ? 0x5bd1e995 : 0x6b43a9b5;
    default:
      return UNHASHABLE;
  }
}

/**
 * The set's hash, or UNHASHABLE (also for an empty set: the empty series has
 * its own path). Reads like canonicalKey (own keys, `keep`).
 */
function hashAttributes(
  attributes: Attributes,
  keep: ReadonlySet<string> | undefined,
): number {
  let sum = 0;
  let entries = 0;
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) continue;
    if (keep !== undefined && !keep.has(key)) continue;
    const value = attributes[key];
    if (value === undefined) continue;
    const v = valueHash(value);
    if (v === UNHASHABLE) return UNHASHABLE;
    entries++;
    sum = (sum + mix(stringHash(key, 0x811c9dc5) ^ Math.imul(v, 0x9e3779b1))) |
      0;
  }
  return entries === 0 ? UNHASHABLE : sum & 0x7fffffff;
}

/** Whether `stored` (a series' own attributes) is the set `attributes` names. */
function sameSet(
  stored: Attributes,
  attributes: Attributes,
  keep: ReadonlySet<string> | undefined,
): boolean {
  let count = 0;
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) continue;
    if (keep !== undefined && !keep.has(key)) continue;
    const value = attributes[key];
    if (value === undefined) continue;
    if (!hasOwn.call(stored, key)) return false;
    const s = stored[key];
    if (s !== value && !(s !== s && value !== value)) return false;
    count++;
  }
  for (const key in stored) if (hasOwn.call(stored, key)) count--;
  return count === 0;
}

/** What a series must carry for the map. */
export interface SeriesBase {
  readonly attributes: Attributes;
  readonly key: string;
}

function typedValue(value: AnyValue): string {
  switch (typeof value) {
    case "string":
      // Length-prefixed, so no escaping is needed to keep keys unambiguous.
      return "s" + value.length + ":" + value;
    case "number":
      return "n" + (Object.is(value, -0) ? "0" : String(value));
    case "boolean":
      return value ? "T" : "F";
    case "bigint":
      return "i" + value.toString();
    case "object": {
      if (value === null) return "z";
      if (value instanceof Uint8Array) return "b" + value.join(",");
      if (Array.isArray(value)) {
        let out = "[";
        for (const item of value) out += typedValue(item) + ",";
        return out + "]";
      }
      return "{" + canonicalKey(value as Attributes) + "}";
    }
    default:
      return "u";
  }
}

/** The canonical key of sanitized attributes: sorted keys, typed values. */
export function canonicalKey(
  attributes: Attributes,
  keep?: ReadonlySet<string>,
): string {
  const keys = Object.keys(attributes).sort();
  let out = "";
  for (const key of keys) {
    if (keep !== undefined && !keep.has(key)) continue;
    const value = attributes[key];
    if (value === undefined) continue;
    out += key.length + ":" + key + typedValue(value) + ";";
  }
  return out;
}

/** Creates a series for sanitized attributes and their canonical key. */
export type SeriesFactory<S> = (attributes: Attributes, key: string) => S;

/**
 * The series of one stream. `find` never throws: a hostile attributes object
 * (a throwing getter, a Proxy) makes it return `undefined`.
 */
export class SeriesMap<S extends SeriesBase> {
  readonly byKey: Map<string, S> = new Map();
  readonly #limit: number;
  readonly #sanitizer: AttributeSanitizer;
  readonly #create: SeriesFactory<S>;
  readonly #maxNodes: number;
  readonly #keep: ReadonlySet<string> | undefined;
  #root: TrieNode<S> = new TrieNode();
  #nodes = 0;
  /** Every hashable series by its set's hash (a list on collisions). */
  #byHash: Map<number, S | S[]> = new Map();
  #empty: S | undefined;
  #overflow: S | undefined;
  /** Measurements that went to the overflow series. */
  overflowed = 0;
  /** Calls whose attributes could not be read. */
  unreadable = 0;

  constructor(
    limit: number,
    sanitizer: AttributeSanitizer,
    create: SeriesFactory<S>,
    keep?: ReadonlySet<string>,
  ) {
    this.#keep = keep;
    this.#limit = limit;
    this.#sanitizer = sanitizer;
    this.#create = create;
    this.#maxNodes = limit * 8 + 64;
  }

  /** Series in use, the overflow series included. */
  get size(): number {
    return this.byKey.size;
  }

  /** The series for `attributes`, or `undefined` when they cannot be read. */
  find(attributes: Attributes | undefined): S | undefined {
    if (attributes === undefined || attributes === null) {
      return this.#empty ?? this.#slow(undefined, false);
    }
    try {
      let node = this.#root;
      let keys = 0;
      const keep = this.#keep;
      for (const key in attributes) {
        if (!hasOwn.call(attributes, key)) continue;
        if (keep !== undefined && !keep.has(key)) continue;
        const value = attributes[key];
        if (value === undefined) continue;
        const type = typeof value;
        if (
          (type !== "string" && type !== "number" && type !== "boolean") ||
          (type === "string" && (value as string).length > MAX_TRIE_STRING) ||
          ++keys > MAX_TRIE_KEYS
        ) return this.#slow(attributes, false);
        let byKey = node.lastNext;
        if (key !== node.last) {
          byKey = node.map?.get(key);
          if (byKey === undefined) return this.#slow(attributes, true);
          node.last = key;
          node.lastNext = byKey;
        }
        let next = byKey!.lastNext;
        if (value !== byKey!.last) {
          next = byKey!.map?.get(value);
          if (next === undefined) return this.#slow(attributes, true);
          byKey!.last = value;
          byKey!.lastNext = next;
        }
        node = next!;
      }
      if (keys === 0) return this.#empty ?? this.#slow(undefined, false);
      return node.series ?? this.#slow(attributes, true);
    } catch {
      this.unreadable++;
      return undefined;
    }
  }

  #slow(attributes: Attributes | undefined, link: boolean): S | undefined {
    // Key first, from the sanitized view (no copy when already valid): a
    // set that exists, or one past the limit, costs no copy.
    let valid: Attributes | undefined;
    let key: string;
    let hash = UNHASHABLE;
    try {
      valid = this.#sanitizer.attributes(attributes);
      if (valid !== undefined) {
        // A set seen before, or one past the limit: no key is built.
        hash = hashAttributes(valid, this.#keep);
        if (hash !== UNHASHABLE) {
          const found = this.#findHashed(hash, valid);
          if (found !== undefined) {
            if (link && attributes !== undefined) {
              this.#link(attributes, found);
            }
            return found;
          }
          if (this.byKey.size >= this.#limit - 1) {
            this.overflowed++;
            return this.overflowSeries();
          }
        }
      }
      key = valid === undefined ? "" : canonicalKey(valid, this.#keep);
    } catch {
      this.unreadable++;
      return undefined;
    }
    let series = this.byKey.get(key);
    if (series === undefined) {
      if (this.byKey.size >= this.#limit - 1) {
        this.overflowed++;
        return this.overflowSeries();
      }
      let clean: Attributes;
      try {
        clean = copyAttributes(valid, this.#keep);
      } catch {
        this.unreadable++;
        return undefined;
      }
      series = this.#create(clean, key);
      this.byKey.set(key, series);
      if (hash !== UNHASHABLE) this.#index(hash, series);
    }
    if (key === "") this.#empty = series;
    else if (link && attributes !== undefined) this.#link(attributes, series);
    return series;
  }

  /** The overflow series, created on first use. */
  overflowSeries(): S {
    let series = this.#overflow;
    if (series === undefined) {
      const key = canonicalKey(OVERFLOW_ATTRIBUTES);
      series = this.#create(OVERFLOW_ATTRIBUTES, key);
      this.#overflow = series;
      this.byKey.set(key, series);
      this.#index(hashAttributes(OVERFLOW_ATTRIBUTES, undefined), series);
    }
    return series;
  }

  #findHashed(hash: number, attributes: Attributes): S | undefined {
    const entry = this.#byHash.get(hash);
    if (entry === undefined) return undefined;
    const keep = this.#keep;
    if (!Array.isArray(entry)) {
      return sameSet(entry.attributes, attributes, keep) ? entry : undefined;
    }
    for (let i = 0; i < entry.length; i++) {
      if (sameSet(entry[i].attributes, attributes, keep)) return entry[i];
    }
    return undefined;
  }

  #index(hash: number, series: S): void {
    const entry = this.#byHash.get(hash);
    if (entry === undefined) this.#byHash.set(hash, series);
    else if (Array.isArray(entry)) entry.push(series);
    else this.#byHash.set(hash, [entry, series]);
  }

  #link(attributes: Attributes, series: S): void {
    if (this.#nodes >= this.#maxNodes) return;
    let node = this.#root;
    const keep = this.#keep;
    for (const key in attributes) {
      if (!hasOwn.call(attributes, key)) continue;
      if (keep !== undefined && !keep.has(key)) continue;
      const value = attributes[key];
      if (value === undefined) continue;
      let map = node.map;
      if (map === undefined) map = node.map = new Map();
      let byKey = map.get(key);
      if (byKey === undefined) {
        byKey = new TrieNode();
        map.set(key, byKey);
        this.#nodes++;
      }
      let values = byKey.map;
      if (values === undefined) values = byKey.map = new Map();
      let next = values.get(value);
      if (next === undefined) {
        next = new TrieNode();
        values.set(value, next);
        this.#nodes++;
      }
      node = next;
    }
    node.series = series;
  }

  /** Removes the series `keep` rejects; the trie is rebuilt on demand. */
  evict(keep: (series: S) => boolean): void {
    let removed = false;
    for (const [key, series] of this.byKey) {
      if (keep(series)) continue;
      this.byKey.delete(key);
      if (series === this.#empty) this.#empty = undefined;
      if (series === this.#overflow) this.#overflow = undefined;
      removed = true;
    }
    if (removed) {
      this.#root = new TrieNode();
      this.#nodes = 0;
      this.#byHash = new Map();
      for (const series of this.byKey.values()) {
        const hash = hashAttributes(series.attributes, undefined);
        if (hash !== UNHASHABLE) this.#index(hash, series);
      }
    }
  }
}

function copyAttributes(
  attributes: Attributes | undefined,
  keep: ReadonlySet<string> | undefined,
): Attributes {
  const out: Record<string, AnyValue> = {};
  if (attributes !== undefined) {
    for (const key in attributes) {
      if (keep !== undefined && !keep.has(key)) continue;
      const value = attributes[key];
      if (value !== undefined) out[key] = value;
    }
  }
  return freezeWithMemo(out);
}
