// The fraction writer both OS encoders use (processors/_rfc3339.ts), checked
// against pipeline/time.ts formatRfc3339 (a separate implementation): every
// nanosecond count of the first 2 ms, the edges of each digit group, and a
// seeded spread over the whole second.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  writeRfc3339Fraction,
  writeRfc3339Millis,
} from "../../processors/_rfc3339.ts";
import { formatRfc3339 } from "../../pipeline/time.ts";

const SECOND_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const bytes = new Uint8Array(32);
const text = new TextDecoder();

/** What formatRfc3339 writes after the seconds, "Z" left out. */
function expected(nanos: number): string {
  const iso = formatRfc3339(
    SECOND_MS + Math.floor(nanos / 1e6),
    nanos % 1e6,
  );
  return iso.slice(19, -1);
}

function written(nanos: number, offset: number): string {
  bytes.fill(0xff);
  const end = writeRfc3339Fraction(bytes, offset, nanos);
  // Nothing outside [offset, end) is touched.
  for (let i = 0; i < offset; i++) assert.equal(bytes[i], 0xff);
  for (let i = end; i < bytes.length; i++) assert.equal(bytes[i], 0xff);
  return text.decode(bytes.subarray(offset, end));
}

function check(nanos: number, offset = 3): void {
  const want = expected(nanos);
  const got = written(nanos, offset);
  if (got !== want) assert.fail(`nanos ${nanos}: ${got} !== ${want}`);
}

describe("writeRfc3339Fraction", () => {
  it("writes the fewest of 3, 6 or 9 digits, as formatRfc3339", () => {
    assert.equal(written(123_000_000, 0), ".123");
    assert.equal(written(1_000, 0), ".000001");
    assert.equal(written(999_999_999, 0), ".999999999");
    assert.equal(written(1, 0), ".000000001");
    assert.equal(written(500_000_000, 5), ".500");
    assert.equal(written(10_010_000, 1), ".010010");
  });

  it("agrees with formatRfc3339 on every nanosecond count below 200 µs", () => {
    for (let nanos = 1; nanos < 200_000; nanos++) check(nanos, nanos & 7);
  });

  it("agrees at the edges of each digit group and over the second", () => {
    for (let k = 1; k < 1000; k++) {
      check(k * 1_000_000);
      check(k * 1_000);
      check(k * 1_000_000 + 1);
      check(k * 1_000_000 - 1);
      check(999_999_999 - k);
    }
    let seed = 0x5eed;
    for (let i = 0; i < 50_000; i++) {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      check(1 + (seed % 999_999_999));
    }
  });
});

describe("writeRfc3339Millis", () => {
  it("writes what writeRfc3339Fraction writes for every whole millisecond", () => {
    const other = new Uint8Array(32);
    for (let ms = 1; ms < 1000; ms++) {
      const offset = ms & 7;
      bytes.fill(0xff);
      other.fill(0xff);
      const end = writeRfc3339Millis(bytes, offset, ms);
      assert.equal(end, writeRfc3339Fraction(other, offset, ms * 1e6));
      assert.deepEqual(bytes, other, `ms ${ms}`);
      assert.equal(
        text.decode(bytes.subarray(offset, end)),
        expected(ms * 1e6),
      );
    }
  });
});
