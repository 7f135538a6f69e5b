/**
 * How the OS encoders (EventHeader, TraceLogging) make an event fit its
 * size budget: the longest values are cut first, all to one common length.
 *
 * An encoder writes the event once while recording the byte length each
 * cuttable value (string, JSON text, byte array) wants. When the event is
 * over budget by `excess` bytes, {@linkcode cutLength} finds the largest
 * length `L` such that cutting every value longer than `L` down to `L`
 * removes at least `excess` bytes; the encoder then writes the event again
 * with values capped at `L`. Metadata does not depend on the lengths, so the
 * second event fits exactly when the plan says so. Values of `L` bytes or
 * fewer are written whole, so a value after a cut one is never emptied just
 * because it comes later (the ETW defect of issue 9).
 *
 * @module
 */

/**
 * The largest common length to cut values to so that at least `excess`
 * bytes go, or -1 when cutting every value to nothing is not enough.
 *
 * @param lengths The byte length each cuttable value wants (first `count`).
 * @param count How many values.
 * @param excess Bytes to remove (> 0).
 * @param scratch At least `count` elements of scratch space.
 * @returns The length to cut to (0 or more), or -1.
 */
export function cutLength(
  lengths: Int32Array,
  count: number,
  excess: number,
  scratch: Int32Array,
): number {
  if (count <= 0) return -1;
  const sorted = scratch.subarray(0, count);
  sorted.set(lengths.subarray(0, count));
  sorted.sort(); // ascending; walked from the longest down
  let sum = 0;
  for (let j = 1; j <= count; j++) {
    // Cut the j longest values to L: they lose sum - j * L bytes.
    sum += sorted[count - j];
    const next = j < count ? sorted[count - j - 1] : 0;
    const level = Math.floor((sum - excess) / j);
    if (level >= next) return level;
  }
  return -1;
}
