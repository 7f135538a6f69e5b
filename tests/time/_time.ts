// Test helpers for exact times, written from RFC 3339 and the FILETIME
// definition with bigint arithmetic, not from the library's code.

import assert from "node:assert/strict";

/** 100 ns intervals from 1601-01-01 to 1970-01-01. */
export const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;
/** The largest representable time, 2^64 - 1 ns. */
export const MAX_NS = 2n ** 64n - 1n;

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}|\d{6}|\d{9}))?Z$/;

/**
 * Parses RFC 3339 UTC text with 0, 3, 6 or 9 fraction digits into exact
 * nanoseconds, and checks the digits are the fewest that are exact.
 */
export function parseRfc3339(text: unknown): bigint {
  assert.equal(typeof text, "string", `not a string: ${String(text)}`);
  const m = RFC3339.exec(text as string);
  assert.ok(m, `not RFC 3339 with 0/3/6/9 digits: ${text}`);
  const [, y, mo, d, h, mi, s, fraction] = m;
  const seconds = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) / 1000;
  assert.ok(Number.isSafeInteger(seconds), `bad date: ${text}`);
  let nanos = 0n;
  if (fraction !== undefined) {
    assert.notEqual(
      fraction.slice(-3),
      "000",
      `more digits than needed: ${text}`,
    );
    nanos = BigInt(fraction.padEnd(9, "0"));
  }
  return BigInt(seconds) * 1_000_000_000n + nanos;
}

/** The (ms, ns within the ms) pair of exact nanoseconds. */
export function split(ns: bigint): [number, number] {
  return [Number(ns / 1_000_000n), Number(ns % 1_000_000n)];
}

/** mulberry32: a small seeded PRNG of uint32 values. */
export function prng32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A uniform bigint in [lo, hi] from a uint32 source. */
export function randomBigInt(next: () => number, lo: bigint, hi: bigint) {
  const span = hi - lo + 1n;
  const r = (BigInt(next()) << 64n) | (BigInt(next()) << 32n) |
    BigInt(next());
  return lo + r % span;
}
