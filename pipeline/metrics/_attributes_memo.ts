// A series' attributes never change once the series exists (the series map
// copies and freezes them), yet every collection exports them again. The
// series map gives each such object a memo, under a non-enumerable symbol
// key (invisible to for...in, Object.keys, spreads and JSON), where an
// encoder may keep the attributes' wire form and write it again instead of
// re-encoding them, and the series' start time in wire form (a cumulative
// series keeps its start). The memo names its owner, so a copy or a Proxy of the
// object is never mistaken for it.

import type { Attributes } from "../attributes.ts";

const EMPTY = new Int32Array(0);

/** The wire form of one frozen attributes object, kept by an encoder. */
export class AttributesMemo {
  /** The object this memo belongs to. */
  readonly owner: Attributes;
  /** What the encoder wrote the bytes for (its field tag); -1 for nothing. */
  tag = -1;
  /** The bytes, four per word (little-endian); the last word's tail is garbage. */
  words: Int32Array = EMPTY;
  /** How many bytes the words hold. */
  size = 0;
  /** The last start time written with these attributes (numbers only)... */
  startMs = NaN;
  startNanos = NaN;
  /** ...whether it was written (set and exact), and its fixed64 halves. */
  startSet = false;
  startLo = 0;
  startHi = 0;

  constructor(owner: Attributes) {
    this.owner = owner;
  }
}

/** The key of an attributes object's memo. */
export const ATTRIBUTES_MEMO: unique symbol = Symbol("seed.attributesMemo");

/** An attributes object that may carry a memo. */
export type MemoizedAttributes = Attributes & {
  readonly [ATTRIBUTES_MEMO]?: unknown;
};

/**
 * Gives `attributes` (a fresh object of plain data properties, not yet
 * frozen) its memo, then freezes it; returns it.
 */
export function freezeWithMemo(attributes: Attributes): Attributes {
  Object.defineProperty(attributes, ATTRIBUTES_MEMO, {
    value: new AttributesMemo(attributes),
  });
  return Object.freeze(attributes);
}
