// Base-2 exponential histogram buckets (OpenTelemetry data model,
// "ExponentialHistogram"): the value -> index mappings for every scale and
// the growable, downscaling bucket array of one sign.
//
// Bucket i at scale s holds values in (2^(i * 2^-s), 2^((i+1) * 2^-s)].
// Scale > 0 uses the logarithm with an exact answer at powers of two; scale
// <= 0 uses the binary exponent, which is exact everywhere.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Little-endian hosts (every Deno/Bun target): u32[1] is the high word.
const HI = 1;
const LO = 0;

/** The unbiased binary exponent of a positive finite double (subnormals included). */
function exponentOf(value: number): number {
  f64[0] = value;
  const biased = (u32[HI] >>> 20) & 0x7ff;
  if (biased === 0) {
    // Subnormal: value = m * 2^-1074 with m < 2^52.
    return Math.floor(Math.log2(value));
  }
  return biased - 1023;
}

/** Whether a positive finite normal double is an exact power of two. */
function isPowerOfTwo(value: number): boolean {
  f64[0] = value;
  return (u32[HI] & 0xfffff) === 0 && u32[LO] === 0 &&
    ((u32[HI] >>> 20) & 0x7ff) !== 0;
}

/**
 * The bucket index of `value` (> 0, finite) at `scale`.
 */
export function mapToIndex(value: number, scale: number): number {
  if (scale <= 0) {
    let exp = exponentOf(value);
    if (isPowerOfTwo(value)) exp--; // 2^e belongs to (2^(e-1), 2^e]
    return exp >> -scale;
  }
  if (isPowerOfTwo(value)) {
    return exponentOf(value) * (1 << scale) - 1;
  }
  // Not a power of two, so log2(value) * 2^scale is (but for rounding) not
  // an integer: floor is the bucket whose upper boundary is inclusive.
  return Math.floor(Math.log(value) * (Math.LOG2E * (1 << scale)));
}

/**
 * The lower boundary of bucket `index` at `scale` (for tests and display).
 */
export function lowerBoundary(index: number, scale: number): number {
  if (scale <= 0) return 2 ** (index * 2 ** -scale);
  return Math.exp(index * Math.LN2 / (1 << scale));
}

/** The buckets of one sign: counts[i] belongs to index offset + i. */
export class ExponentialBucketArray {
  offset = 0;
  length = 0;
  counts: Float64Array;

  constructor(maxSize: number) {
    this.counts = new Float64Array(maxSize);
  }

  /** The lowest index in use (valid when length > 0). */
  get low(): number {
    return this.offset;
  }

  /** The highest index in use (valid when length > 0). */
  get high(): number {
    return this.offset + this.length - 1;
  }

  /**
   * Counts one value at `index`; returns false (and changes nothing) when
   * the array would need more than its capacity.
   */
  increment(index: number, by: number): boolean {
    const counts = this.counts;
    if (this.length === 0) {
      this.offset = index;
      this.length = 1;
      counts[0] = by;
      return true;
    }
    const offset = this.offset;
    if (index >= offset) {
      const at = index - offset;
      if (at < this.length) {
        counts[at] += by;
        return true;
      }
      if (at >= counts.length) return false;
      counts.fill(0, this.length, at);
      counts[at] = by;
      this.length = at + 1;
      return true;
    }
    const shift = offset - index;
    const length = this.length + shift;
    if (length > counts.length) return false;
    counts.copyWithin(shift, 0, this.length);
    counts.fill(0, 1, shift);
    counts[0] = by;
    this.offset = index;
    this.length = length;
    return true;
  }

  /** Merges buckets pairwise `change` times (index >> change). */
  downscale(change: number): void {
    if (change <= 0 || this.length === 0) return;
    const counts = this.counts;
    const newOffset = this.offset >> change;
    let last = -1;
    for (let i = 0; i < this.length; i++) {
      const c = counts[i];
      const at = ((this.offset + i) >> change) - newOffset;
      if (at !== last) {
        // `at` only grows and stays <= i, so this writes at or behind the read.
        counts[at] = c;
        last = at;
      } else counts[at] += c;
    }
    const newLength = last + 1;
    counts.fill(0, newLength, this.length);
    this.offset = newOffset;
    this.length = newLength;
  }

  reset(): void {
    this.counts.fill(0, 0, this.length);
    this.offset = 0;
    this.length = 0;
  }

  /** The counts as a plain array, trimmed of zero buckets at both ends. */
  snapshot(): { offset: number; bucketCounts: number[] } {
    let start = 0;
    let end = this.length;
    const counts = this.counts;
    while (start < end && counts[start] === 0) start++;
    while (end > start && counts[end - 1] === 0) end--;
    const out = new Array<number>(end - start);
    for (let i = start; i < end; i++) out[i - start] = counts[i];
    return { offset: end > start ? this.offset + start : 0, bucketCounts: out };
  }
}

/** How many times indexes `low..high` must be halved to fit in `maxSize` buckets. */
export function changeToFit(
  low: number,
  high: number,
  maxSize: number,
): number {
  let change = 0;
  while (high - low + 1 > maxSize) {
    low >>= 1;
    high >>= 1;
    change++;
  }
  return change;
}

/** The whole state of one exponential histogram series. */
export class ExponentialHistogramState {
  scale: number;
  readonly maxScale: number;
  readonly maxSize: number;
  zeroCount = 0;
  readonly positive: ExponentialBucketArray;
  readonly negative: ExponentialBucketArray;

  constructor(maxSize: number, maxScale: number) {
    this.maxSize = maxSize;
    this.maxScale = maxScale;
    this.scale = maxScale;
    this.positive = new ExponentialBucketArray(maxSize);
    this.negative = new ExponentialBucketArray(maxSize);
  }

  /** Records one finite value. */
  record(value: number): void {
    if (value === 0) {
      this.zeroCount++;
      return;
    }
    const buckets = value > 0 ? this.positive : this.negative;
    const abs = value > 0 ? value : -value;
    let index = mapToIndex(abs, this.scale);
    if (buckets.increment(index, 1)) return;
    const low = Math.min(buckets.low, index);
    const high = Math.max(buckets.high, index);
    const change = changeToFit(low, high, this.maxSize);
    this.scale -= change;
    this.positive.downscale(change);
    this.negative.downscale(change);
    index = mapToIndex(abs, this.scale);
    buckets.increment(index, 1);
  }

  reset(): void {
    this.scale = this.maxScale;
    this.zeroCount = 0;
    this.positive.reset();
    this.negative.reset();
  }
}
