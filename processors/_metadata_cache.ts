/**
 * A bounded cache of encoded event metadata, keyed by the event's exact
 * sequence of metadata tokens (field name + an encoder-defined int code).
 *
 * @module
 */

/** Shapes a {@linkcode MetadataCache} keeps by default. */
export const METADATA_CACHE_SHAPES = 256;
/** Largest metadata block a {@linkcode MetadataCache} keeps (bigger ones are rendered each time). */
export const METADATA_CACHE_MAX_BYTES = 2048;
class CachedShape {
  readonly hash: number;
  readonly names: readonly string[];
  readonly codes: Int32Array;
  readonly meta: Uint8Array;
  used: number;
  constructor(
    hash: number,
    names: readonly string[],
    codes: Int32Array,
    meta: Uint8Array,
    used: number,
  ) {
    this.hash = hash;
    this.names = names;
    this.codes = codes;
    this.meta = meta;
    this.used = used;
  }
}

/**
 * The metadata blocks of recent event shapes, so an event whose field names
 * and encodings repeat an earlier event's copies that block instead of
 * encoding every name again (used by the EventHeader and TraceLogging
 * encoders; each encoder defines its token codes). A shape is the exact token sequence (names
 * compared with `===`, encoding and format bytes, struct member counts), so
 * a hit yields the bytes a fresh encoding would. Bounded: at most
 * `capacity` shapes (two-way set-associative; a new shape evicts the least
 * recently used of its two slots) of at most
 * {@linkcode METADATA_CACHE_MAX_BYTES} bytes each.
 */
export class MetadataCache {
  /** The most shapes kept (a power of two; 0 disables the cache). */
  readonly capacity: number;
  /** Lookups answered from the cache. */
  hits = 0;
  /** Lookups that had to render the metadata. */
  misses = 0;
  /** Shapes dropped to make room. */
  evictions = 0;
  /** Shapes held now. */
  size = 0;
  readonly #slots: (CachedShape | undefined)[];
  #clock = 0;
  #hash = 0;
  #last: CachedShape | undefined = undefined;

  /**
   * Creates an empty cache.
   *
   * @param capacity The most shapes kept, rounded up to a power of two; 0
   * disables caching.
   */
  constructor(capacity: number = METADATA_CACHE_SHAPES) {
    let c = 0;
    if (capacity > 0) {
      c = 2;
      while (c < capacity) c *= 2;
    }
    this.capacity = c;
    this.#slots = new Array<CachedShape | undefined>(c).fill(undefined);
  }

  /**
   * The cached metadata of a token sequence, or `undefined` (then
   * {@linkcode MetadataCache.add} may store it).
   *
   * @param names The token names.
   * @param codes The token codes.
   * @param n The number of tokens.
   * @returns The metadata bytes, or `undefined`.
   */
  find(
    names: readonly string[],
    codes: Int32Array,
    n: number,
  ): Uint8Array | undefined {
    if (this.capacity === 0) return undefined;
    const last = this.#last;
    if (last !== undefined && sameTokens(last, names, codes, n)) {
      this.hits++;
      return last.meta;
    }
    let h = n;
    for (let i = 0; i < n; i++) {
      const name = names[i];
      const length = name.length;
      // Length and four characters (first, middle, last two): cheap, and
      // enough to spread keys like `key1`…`key999` (a collision costs a
      // slot, never a wrong answer: hits compare every token).
      h = Math.imul(h ^ codes[i] ^ (length << 20), 0x01000193);
      h = Math.imul(
        h ^ name.charCodeAt(0) ^ (name.charCodeAt(length >> 1) << 8),
        0x9e3779b1,
      );
      h = Math.imul(
        h ^ name.charCodeAt(length - 1) ^ (name.charCodeAt(length - 2) << 8),
        0x85ebca6b,
      );
      h ^= h >>> 13;
    }
    h ^= h >>> 16;
    this.#hash = h;
    const slots = this.#slots;
    const at = h & (this.capacity - 1);
    let entry = slots[at];
    if (entry === undefined || !matches(entry, h, names, codes, n)) {
      entry = slots[at ^ 1];
      if (entry === undefined || !matches(entry, h, names, codes, n)) {
        this.misses++;
        return undefined;
      }
    }
    this.hits++;
    entry.used = ++this.#clock;
    this.#last = entry;
    return entry.meta;
  }

  /**
   * The names of the shape last found or added (`undefined` when none): an
   * encoder may compare names against it as it records them and then ask
   * {@linkcode MetadataCache.findLast} instead of {@linkcode MetadataCache.find}.
   */
  get lastNames(): readonly string[] | undefined {
    return this.#last?.names;
  }

  /**
   * The metadata of the shape last found or added, when its names (already
   * compared by the caller) and these codes are the token sequence's.
   *
   * @param codes The token codes.
   * @param n The number of tokens.
   * @returns The metadata bytes, or `undefined` (nothing counted then).
   */
  findLast(codes: Int32Array, n: number): Uint8Array | undefined {
    const last = this.#last;
    if (last === undefined) return undefined;
    const cachedCodes = last.codes;
    if (cachedCodes.length !== n) return undefined;
    for (let i = 0; i < n; i++) {
      if (cachedCodes[i] !== codes[i]) return undefined;
    }
    this.hits++;
    last.used = ++this.#clock;
    return last.meta;
  }

  /**
   * Stores the metadata of the token sequence last passed to
   * {@linkcode MetadataCache.find} (copied; too large blocks are not kept).
   *
   * @param names The token names.
   * @param codes The token codes.
   * @param n The number of tokens.
   * @param meta The rendered metadata.
   */
  add(
    names: readonly string[],
    codes: Int32Array,
    n: number,
    meta: Uint8Array,
  ): void {
    if (this.capacity === 0 || meta.length > METADATA_CACHE_MAX_BYTES) return;
    const slots = this.#slots;
    const h = this.#hash;
    let at = h & (this.capacity - 1);
    const a = slots[at];
    const b = slots[at ^ 1];
    if (a !== undefined) {
      if (b === undefined || b.used < a.used) at ^= 1;
    }
    if (slots[at] === undefined) this.size++;
    else this.evictions++;
    const entry = new CachedShape(
      h,
      names.slice(0, n),
      codes.slice(0, n),
      meta.slice(),
      ++this.#clock,
    );
    slots[at] = entry;
    this.#last = entry;
  }

  /** Forgets every shape (the counters stay). */
  clear(): void {
    this.#slots.fill(undefined);
    this.#last = undefined;
    this.size = 0;
  }
}

function matches(
  entry: CachedShape,
  hash: number,
  names: readonly string[],
  codes: Int32Array,
  n: number,
): boolean {
  return entry.hash === hash && sameTokens(entry, names, codes, n);
}

function sameTokens(
  entry: CachedShape,
  names: readonly string[],
  codes: Int32Array,
  n: number,
): boolean {
  if (entry.codes.length !== n) return false;
  const cachedNames = entry.names;
  const cachedCodes = entry.codes;
  for (let i = 0; i < n; i++) {
    if (cachedCodes[i] !== codes[i] || cachedNames[i] !== names[i]) {
      return false;
    }
  }
  return true;
}

/**
 * Whether two sibling fields of an event shape have the same written name
 * (the name as the format stores it, which both formats derive from the key
 * by a lossy rule, e.g. a lone surrogate becomes U+FFFD). Run once per new
 * shape, never on a cache hit.
 *
 * @param names The shape's token names (index 0 is the event name).
 * @param codes The shape's token codes: the low 7 bits the field's
 *   encoding, bits 8-14 a struct's member count.
 * @param n How many tokens.
 * @param structCode The encoding (low 7 bits) that opens a struct.
 * @param written The format's rule from a key to its written name.
 * @returns `true` when siblings collide.
 */
export function hasDuplicateSiblings(
  names: readonly string[],
  codes: Int32Array,
  n: number,
  structCode: number,
  written: (name: string) => string,
): boolean {
  let i = 1; // after the event name
  const walk = (count: number): boolean => {
    const seen = new Set<string>();
    for (let k = 0; i < n && (count < 0 || k < count); k++) {
      const name = written(names[i]);
      const code = codes[i];
      i++;
      if (seen.has(name)) return true;
      seen.add(name);
      if ((code & 0x7f) === structCode && walk((code >>> 8) & 0x7f)) {
        return true;
      }
    }
    return false;
  };
  return walk(-1);
}
