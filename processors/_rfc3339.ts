// The fractional-seconds part of the RFC 3339 times both OS encoders write
// straight into their buffers: "." and 3, 6 or 9 digits, the fewest that
// show the value exactly (as pipeline/time.ts formatRfc3339 does).

/**
 * The three ASCII digits of 0-999, at 3 × n: a group of digits is three
 * table reads instead of three divisions by 10 (JSC compiled that loop to
 * double divisions: 43% of Bun's replayed user_events emit, by profile).
 */
const DIGITS3: Uint8Array = (() => {
  const table = new Uint8Array(3000);
  for (let n = 0; n < 1000; n++) {
    table[3 * n] = 0x30 + Math.floor(n / 100);
    table[3 * n + 1] = 0x30 + (Math.floor(n / 10) % 10);
    table[3 * n + 2] = 0x30 + (n % 10);
  }
  return table;
})();

/**
 * Writes ".ddd", ".dddddd" or ".ddddddddd" for `nanos` (an integer,
 * 0 < nanos < 1e9, so it fits an int32 and integer division suffices) at
 * `offset`, and returns the offset after it.
 */
export function writeRfc3339Fraction(
  bytes: Uint8Array,
  offset: number,
  nanos: number,
): number {
  const value = nanos | 0;
  const micros = (value / 1000) | 0;
  const millis = (micros / 1000) | 0;
  const digits = DIGITS3;
  bytes[offset] = 0x2e; // "."
  let t = 3 * millis;
  bytes[offset + 1] = digits[t];
  bytes[offset + 2] = digits[t + 1];
  bytes[offset + 3] = digits[t + 2];
  const nanosInMicro = value - micros * 1000;
  const microsInMilli = micros - millis * 1000;
  if (nanosInMicro === 0 && microsInMilli === 0) return offset + 4;
  t = 3 * microsInMilli;
  bytes[offset + 4] = digits[t];
  bytes[offset + 5] = digits[t + 1];
  bytes[offset + 6] = digits[t + 2];
  if (nanosInMicro === 0) return offset + 7;
  t = 3 * nanosInMicro;
  bytes[offset + 7] = digits[t];
  bytes[offset + 8] = digits[t + 1];
  bytes[offset + 9] = digits[t + 2];
  return offset + 10;
}

/**
 * Writes ".ddd" for `millis` (an integer, 0 < millis < 1000) at `offset` and
 * returns the offset after it: {@linkcode writeRfc3339Fraction} of
 * `millis * 1e6`, without its divisions (a whole-millisecond time, as
 * `Date.now()` gives, is the common case of the replays).
 */
export function writeRfc3339Millis(
  bytes: Uint8Array,
  offset: number,
  millis: number,
): number {
  const t = 3 * millis;
  const digits = DIGITS3;
  bytes[offset] = 0x2e; // "."
  bytes[offset + 1] = digits[t];
  bytes[offset + 2] = digits[t + 1];
  bytes[offset + 3] = digits[t + 2];
  return offset + 4;
}
