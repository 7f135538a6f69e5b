// The fractional-seconds part of the RFC 3339 times both OS encoders write
// straight into their buffers: "." and 3, 6 or 9 digits, the fewest that
// show the value exactly (as pipeline/time.ts formatRfc3339 does).

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
  let value = nanos | 0;
  let digits = 9;
  const micros = (value / 1000) | 0;
  if (micros * 1000 === value) {
    value = micros;
    digits = 6;
    const millis = (value / 1000) | 0;
    if (millis * 1000 === value) {
      value = millis;
      digits = 3;
    }
  }
  bytes[offset] = 0x2e; // "."
  for (let i = digits; i > 0; i--) {
    const rest = (value / 10) | 0;
    bytes[offset + i] = 0x30 + value - rest * 10;
    value = rest;
  }
  return offset + digits + 1;
}
