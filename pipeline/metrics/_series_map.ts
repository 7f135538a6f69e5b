// Attribute set -> series, for one metric stream, without allocating on a
// hit: a trie of Maps keyed by the attribute keys and primitive values in
// the order the caller wrote them (V8 and JSC cache a string's hash, so each
// step is one hashed lookup). A miss builds the set's canonical key (sorted
// keys, typed values) so that {a, b} and {b, a} share a series, then links
// the new path to it. The trie and the series are bounded: past the
// cardinality limit, new sets go to the overflow series and add no trie
// nodes, and sets that cannot be a trie path (object values, long strings,
// many keys) take the canonical path each time.

import type { AnyValue, Attributes } from "../attributes.ts";
import type { AttributeSanitizer } from "../attributes.ts";

const hasOwn = Object.prototype.hasOwnProperty;

/** The attribute that marks the overflow series (specification). */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({
  "otel.metric.overflow": true,
});

const MAX_TRIE_KEYS = 32;
const MAX_TRIE_STRING = 256;

class TrieNode<S> {
  map: Map<unknown, TrieNode<S>> | undefined = undefined;
  series: S | undefined = undefined;
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
        const byKey = node.map?.get(key);
        if (byKey === undefined) return this.#slow(attributes, true);
        const next = byKey.map?.get(value);
        if (next === undefined) return this.#slow(attributes, true);
        node = next;
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
    try {
      valid = this.#sanitizer.attributes(attributes);
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
    }
    return series;
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
  return Object.freeze(out);
}
