/**
 * Timestamps, held exactly: whole milliseconds since the Unix epoch plus the
 * nanoseconds below that millisecond, two integer-valued `number`s.
 *
 * A nanosecond count of today (about 1.8e18) does not fit a double (exact to
 * 2^53, about 9.0e15), so it is split: the milliseconds (0 to
 * {@linkcode MAX_UNIX_MS}, 18446744073709) and the nanoseconds within the
 * millisecond (0 to 999999) are both exact in a double, no `bigint` or object
 * is allocated per record, and every encoder derives its exact form with plain
 * double arithmetic (see {@linkcode writeUnixNanoFixed64},
 * {@linkcode writeFileTime}, {@linkcode formatUnixNano},
 * {@linkcode formatRfc3339}). Records and spans carry the pair as two fields
 * per time, e.g. `timeUnixMs` and `timeNanosInMs`.
 *
 * Inputs follow the OpenTelemetry JS convention ({@linkcode TimeInput}):
 * - a `number` is **milliseconds** since the epoch, fractional allowed; a
 *   value below `performance.timeOrigin` is relative to it (a
 *   `performance.now()` reading) and is added to it, so give a time from
 *   before the process started as a `Date`, an HrTime or a `bigint`, as in
 *   OpenTelemetry JS. The fraction is rounded
 *   to the nearest whole microsecond (half up): a present-day float64
 *   millisecond value resolves only about 0.24 µs, and `performance.now()`
 *   gives at best microseconds, so digits below the microsecond would be
 *   noise. Microseconds round-trip exactly through a `number` up to 2^43 ms
 *   (year 2248); give a `bigint` or an HrTime for nanoseconds;
 * - an HrTime `[seconds, nanoseconds]` (integers, nanoseconds 0-999999999) is
 *   exact;
 * - a `bigint` is exact nanoseconds since the epoch;
 * - a `Date` is its (whole) milliseconds since the epoch.
 *
 * The clock ({@linkcode nowExactTime}) gives `performance.timeOrigin +
 * performance.now()`, as OpenTelemetry JS's `hrTime()` does: monotonic within
 * the process, to the microsecond, with no noise digits below it. Where a
 * runtime adapter installed a native clock (`@seed/telemetry` does on Deno
 * with FFI allowed and on Bun; see `useNativeClock`), it reads the same
 * monotonic clock to the nanosecond, anchored once to that sum, for a
 * fraction of the cost.
 *
 * **The out-of-range rule.** The representable range is 0 to 2^64−1 ns
 * (1970-01-01T00:00:00Z to 2554-07-21T23:34:33.709551615Z, the range of OTLP's
 * `fixed64`; it also keeps RFC 3339 text within four-digit years). A time
 * outside it or malformed — negative, `NaN`, ±`Infinity`, beyond 2^64−1 ns,
 * an invalid `Date` or one beyond the range such as `new Date(8.64e15)`, an
 * HrTime that is not two integers with nanoseconds below 1e9, a value of
 * another type, or a value whose reading throws — is treated as if it had not
 * been given, and is counted: a log record's `timestamp` stays unset (0, so
 * consumers use the observed time), every other time (observed time, span
 * start and end, event time) becomes now. The count is
 * `LoggerProvider.stats.invalidTimes` or `TracerProvider.stats.invalidTimes`.
 * Nothing wraps, clamps or throws. The helpers that take a pair
 * (`unixMs`, `nanosInMs`) apply the same rule: a pair that is not an exact
 * time in range ({@linkcode isExactTime}) counts as 0, the unset time.
 *
 * @example From input to every encoding
 * ```ts
 * import { type ExactTime, formatRfc3339, formatUnixNano, toExactTime, TimeStatus } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const t: ExactTime = { unixMs: 0, nanosInMs: 0 };
 * assert.equal(toExactTime(1_700_000_013_123_456_789n, t), TimeStatus.VALID);
 * assert.deepEqual(t, { unixMs: 1_700_000_013_123, nanosInMs: 456_789 });
 * assert.equal(formatUnixNano(t.unixMs, t.nanosInMs), "1700000013123456789");
 * assert.equal(formatRfc3339(t.unixMs, t.nanosInMs), "2023-11-14T22:13:33.123456789Z");
 * ```
 *
 * @module
 */

/**
 * A high-resolution time as OpenTelemetry JS writes it: whole seconds since
 * the epoch and the nanoseconds within the second (0-999999999).
 *
 * @example
 * ```ts
 * import type { HrTime } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const t: HrTime = [1_700_000_000, 5];
 * assert.equal(t[1], 5);
 * ```
 */
export type HrTime = readonly [seconds: number, nanoseconds: number];

/**
 * A timestamp as callers may give it, following OpenTelemetry JS: a `number`
 * of milliseconds since the epoch (fractional allowed; below
 * `performance.timeOrigin` it is `performance.now()`-relative), an
 * {@linkcode HrTime}, a `bigint` of nanoseconds since the epoch, or a `Date`.
 * See the module documentation for the rounding and out-of-range rules.
 *
 * @example
 * ```ts
 * import type { TimeInput } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const inputs: TimeInput[] = [Date.now(), performance.now(), new Date(), [1_700_000_000, 0], 1_700_000_000_000_000_000n];
 * assert.equal(inputs.length, 5);
 * ```
 */
export type TimeInput = number | bigint | Date | HrTime;

/**
 * The largest whole millisecond of the representable range:
 * ⌊(2^64−1) / 10^6⌋. At this millisecond the nanoseconds go up to 551615.
 *
 * @example
 * ```ts
 * import { MAX_UNIX_MS } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(BigInt(MAX_UNIX_MS) * 1_000_000n + 551_615n, 2n ** 64n - 1n);
 * ```
 */
export const MAX_UNIX_MS: number = 18446744073709;

/** The nanoseconds within {@linkcode MAX_UNIX_MS} of 2^64−1 ns. */
const MAX_NANOS_AT_MAX_MS = 551615;
const MAX_UNIX_NANO = 2n ** 64n - 1n;
const MAX_SECONDS = 18446744073;
const TWO_32 = 4294967296;
/** Milliseconds from 1601-01-01 (the FILETIME epoch) to 1970-01-01. */
const FILETIME_EPOCH_OFFSET_MS = 11644473600000;

/**
 * A time held exactly: a mutable destination for {@linkcode toExactTime} and
 * {@linkcode nowExactTime}. Allocate one and reuse it.
 *
 * @example
 * ```ts
 * import { type ExactTime, nowExactTime } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const now: ExactTime = { unixMs: 0, nanosInMs: 0 };
 * nowExactTime(now);
 * assert.ok(Math.abs(now.unixMs - Date.now()) < 1000);
 * assert.ok(now.nanosInMs >= 0 && now.nanosInMs < 1_000_000);
 * ```
 */
export interface ExactTime {
  /** Whole milliseconds since the Unix epoch, 0 to {@linkcode MAX_UNIX_MS}. */
  unixMs: number;
  /** Nanoseconds within that millisecond, 0 to 999999. */
  nanosInMs: number;
}

/**
 * What {@linkcode toExactTime} found: no time (`undefined` or `null`), a
 * valid time, or an invalid one (out of range or malformed; see the module's
 * out-of-range rule).
 *
 * @example
 * ```ts
 * import { TimeStatus } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TimeStatus.INVALID, 2);
 * ```
 */
export const TimeStatus = { ABSENT: 0, VALID: 1, INVALID: 2 } as const;

/**
 * One of {@linkcode TimeStatus}'s values.
 *
 * @example
 * ```ts
 * import type { TimeStatus } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const status: TimeStatus = 1;
 * assert.equal(status, 1);
 * ```
 */
export type TimeStatus = typeof TimeStatus[keyof typeof TimeStatus];

// performance.timeOrigin split once into whole milliseconds and
// microseconds. Both are `const` (never reassigned): the clock read inlines
// them as constants, where a `let` costs a load and a hole check per read.
const origin = performance.timeOrigin;
const originMicrosRaw = Math.round((origin - Math.floor(origin)) * 1000);
const originMs = Math.floor(origin) + (originMicrosRaw >= 1000 ? 1 : 0);
const originMicros = originMicrosRaw >= 1000
  ? originMicrosRaw - 1000
  : originMicrosRaw;

/**
 * `performance.timeOrigin` as the exact pair every reading of this module's
 * clock is relative to (rounded to the microsecond, once). Internal, for the
 * native clock in `ffi/clock.ts`, which must anchor to the same origin, and
 * for tests; not exported from the package.
 */
export const TIME_ORIGIN: Readonly<ExactTime> = Object.freeze({
  unixMs: originMs,
  nanosInMs: originMicros * 1000,
});

const dateGetTime = Date.prototype.getTime;

// The performance object, read once: on Node the global is an accessor
// (a LoadGlobalIC that is not folded away, 3-4% of a snapshot's time), and a
// module constant costs nothing. `now` is still looked up on every call, so
// code that replaces `performance.now` (fake clocks in tests) is followed.
const perf = performance;
/** `performance.now` as the runtime made it: a native clock is used only while it is in place. */
const runtimeNow = perf.now;

/**
 * The clock seam: a native monotonic clock that writes the exact time, or
 * none (then `performance.now()` is read). A field of a constant object, not
 * a module `let`: the read is one load that V8 and JSC fold into a
 * monomorphic call.
 */
const clock: { read: ((out: ExactTime) => void) | undefined } = {
  read: undefined,
};

/**
 * Installs (or, with `undefined`, removes) the native clock behind
 * {@linkcode nowExactTime}. For the runtime adapters in `ffi/`
 * (`ffi/clock.ts`), which check what they install: `read` must write the
 * same time as `performance.timeOrigin + performance.now()` (the same
 * monotonic clock, anchored to it), as an exact pair, and never throw.
 * While `performance.now` is replaced (a fake clock), the replacement is
 * read instead.
 *
 * @param read The clock, or `undefined` for `performance.now()`.
 */
export function setExactClock(
  read: ((out: ExactTime) => void) | undefined,
): void {
  clock.read = read;
}

/**
 * Reads the current time, `performance.timeOrigin + performance.now()`, into
 * `out`: to the nanosecond from a native clock where one is installed (see
 * the module documentation), else to the microsecond.
 *
 * @param out Where to write it.
 *
 * @example
 * ```ts
 * import { nowExactTime } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const t = { unixMs: 0, nanosInMs: 0 };
 * nowExactTime(t);
 * assert.ok(Math.abs(t.unixMs - Date.now()) < 1000);
 * ```
 */
export function nowExactTime(out: ExactTime): void {
  const read = clock.read;
  if (read !== undefined && perf.now === runtimeNow) read(out);
  else relative(perf.now(), out);
}

/** The destination of {@linkcode nowUnixNano}'s clock read. */
const nowScratch: ExactTime = { unixMs: 0, nanosInMs: 0 };

/**
 * The current time as one `number` of nanoseconds since the epoch, from the
 * clock of {@linkcode nowExactTime}. A double holds a present-day
 * nanosecond count only to the nearest 256 ns, so this is not exact: records,
 * spans and metric data points use {@linkcode nowExactTime}; this is kept for
 * callers that want one number.
 *
 * @returns Nanoseconds since the epoch (not exact beyond 2^53).
 *
 * @example
 * ```ts
 * import { nowUnixNano } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Math.abs(nowUnixNano() / 1e6 - Date.now()) < 1000);
 * ```
 */
export function nowUnixNano(): number {
  nowExactTime(nowScratch);
  return nowScratch.unixMs * 1e6 + nowScratch.nanosInMs;
}

/** `originMs.originMicros + t` (t ≥ 0 milliseconds), to the microsecond. */
function relative(t: number, out: ExactTime): void {
  const whole = Math.floor(t);
  let micros = originMicros + Math.round((t - whole) * 1000);
  let ms = originMs + whole;
  if (micros >= 1000) {
    micros -= 1000;
    ms += 1;
  }
  out.unixMs = ms;
  out.nanosInMs = micros * 1000;
}

/**
 * Converts a {@linkcode TimeInput} into an exact time in `out`. Never
 * throws; `out` is written only when the result is `TimeStatus.VALID`.
 *
 * @param input The time as given (anything: other types are invalid).
 * @param out Where to write the time.
 * @returns `ABSENT` for `undefined` or `null`, `VALID`, or `INVALID` for
 *   anything out of range or malformed (see the module's out-of-range rule).
 *
 * @example
 * ```ts
 * import { toExactTime, TimeStatus } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const t = { unixMs: 0, nanosInMs: 0 };
 * assert.equal(toExactTime(new Date("2026-01-01T00:00:00.002Z"), t), TimeStatus.VALID);
 * assert.deepEqual(t, { unixMs: 1_767_225_600_002, nanosInMs: 0 });
 * assert.equal(toExactTime(4_102_444_800_002.5, t), TimeStatus.VALID); // milliseconds (2100)
 * assert.deepEqual(t, { unixMs: 4_102_444_800_002, nanosInMs: 500_000 });
 * assert.equal(toExactTime(performance.now(), t), TimeStatus.VALID); // below timeOrigin: relative to it
 * assert.ok(Math.abs(t.unixMs - Date.now()) < 1000);
 * assert.equal(toExactTime([1_767_225_600, 2_000_001], t), TimeStatus.VALID);
 * assert.deepEqual(t, { unixMs: 1_767_225_600_002, nanosInMs: 1 });
 * assert.equal(toExactTime(new Date(8.64e15), t), TimeStatus.INVALID);
 * assert.equal(toExactTime(-1, t), TimeStatus.INVALID);
 * assert.equal(toExactTime(undefined, t), TimeStatus.ABSENT);
 * ```
 */
export function toExactTime(input: unknown, out: ExactTime): TimeStatus {
  // The common case (a Date.now() timestamp: a whole millisecond at or after
  // the time origin) in a function small enough for V8 and JSC to inline at
  // each call site; everything else, -0, NaN and out-of-range numbers
  // included, takes the full conversion below.
  // Against the single function it replaces (old and new in one process,
  // paired rounds): about 0.90x on Deno, Node and Bun. Testing the fraction
  // first mattered on JSC: the range tests first cost it 20-30% more.
  if (typeof input === "number") {
    const ms = Math.floor(input);
    // MAX_UNIX_MS and the statuses as literals: an exported constant is a
    // module cell that V8 loads and hole-checks on every call, and
    // `TimeStatus.VALID` a property load on top (old and new in one process,
    // paired rounds: 0.70-0.80x on Deno and Node, 1.00x on Bun). The
    // boundary tests in tests/time keep the literal equal to MAX_UNIX_MS.
    if (ms === input && input >= origin && input <= 18446744073709) {
      out.unixMs = ms;
      out.nanosInMs = 0;
      return 1; // TimeStatus.VALID
    }
  } else if (input === undefined) {
    return 0; // TimeStatus.ABSENT: a record's usual observedTimestamp
  }
  return anyTime(input, out);
}

/** {@linkcode toExactTime} for every input. */
function anyTime(input: unknown, out: ExactTime): TimeStatus {
  if (typeof input === "number") {
    if (!(input >= 0)) return TimeStatus.INVALID; // negative or NaN
    if (input < origin) {
      relative(input, out);
      return TimeStatus.VALID;
    }
    let ms = Math.floor(input);
    if (ms === input) {
      // A whole millisecond (Date.now()): no fraction to round. Also
      // Infinity, which is above the range.
      if (ms > MAX_UNIX_MS) return TimeStatus.INVALID;
      out.unixMs = ms;
      out.nanosInMs = 0;
      return TimeStatus.VALID;
    }
    let micros = Math.round((input - ms) * 1000);
    if (micros === 1000) {
      ms += 1;
      micros = 0;
    }
    const nanos = micros * 1000;
    // Also false for Infinity (ms is Infinity).
    if (!inRange(ms, nanos)) return TimeStatus.INVALID;
    out.unixMs = ms;
    out.nanosInMs = nanos;
    return TimeStatus.VALID;
  }
  if (input === undefined || input === null) return TimeStatus.ABSENT;
  if (typeof input === "bigint") {
    if (input < 0n || input > MAX_UNIX_NANO) return TimeStatus.INVALID;
    out.unixMs = Number(input / 1000000n);
    out.nanosInMs = Number(input % 1000000n);
    return TimeStatus.VALID;
  }
  if (typeof input !== "object") return TimeStatus.INVALID;
  try {
    return objectTime(input, out);
  } catch {
    return TimeStatus.INVALID; // a Proxy or a getter that throws
  }
}

function objectTime(input: object, out: ExactTime): TimeStatus {
  if (input instanceof Date) {
    // The intrinsic getTime: a subclass or a fake Date cannot change it (a
    // non-Date with Date.prototype throws, caught by the caller).
    const ms = dateGetTime.call(input);
    if (!(ms >= 0 && ms <= MAX_UNIX_MS)) return TimeStatus.INVALID; // NaN too
    out.unixMs = ms;
    out.nanosInMs = 0;
    return TimeStatus.VALID;
  }
  if (Array.isArray(input) && input.length === 2) {
    const seconds: unknown = input[0];
    const nanos: unknown = input[1];
    if (
      typeof seconds !== "number" || typeof nanos !== "number" ||
      !(seconds >= 0 && seconds <= MAX_SECONDS) ||
      Math.floor(seconds) !== seconds ||
      !(nanos >= 0 && nanos < 1e9) || Math.floor(nanos) !== nanos
    ) return TimeStatus.INVALID;
    const msInSecond = Math.floor(nanos / 1e6);
    const ms = seconds * 1000 + msInSecond; // exact: below 2^45
    const nanosInMs = nanos - msInSecond * 1e6;
    if (!inRange(ms, nanosInMs)) return TimeStatus.INVALID;
    out.unixMs = ms;
    out.nanosInMs = nanosInMs;
    return TimeStatus.VALID;
  }
  return TimeStatus.INVALID;
}

/** Within 0..2^64-1 ns, given integers ms ≥ 0 and 0 ≤ nanos < 1e6. */
function inRange(ms: number, nanos: number): boolean {
  return ms < MAX_UNIX_MS ||
    (ms === MAX_UNIX_MS && nanos <= MAX_NANOS_AT_MAX_MS);
}

/**
 * Whether (`unixMs`, `nanosInMs`) is an exact time in range: integers,
 * `0 ≤ unixMs ≤ MAX_UNIX_MS`, `0 ≤ nanosInMs ≤ 999999`, and at most
 * 2^64−1 ns in total. The encoders write any other pair as 0 (unset).
 *
 * @param unixMs Whole milliseconds since the epoch.
 * @param nanosInMs Nanoseconds within the millisecond.
 * @returns Whether the pair is exact and in range.
 *
 * @example
 * ```ts
 * import { isExactTime, MAX_UNIX_MS } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isExactTime(1_700_000_000_000, 999_999), true);
 * assert.equal(isExactTime(MAX_UNIX_MS, 551_616), false); // 2^64 ns
 * assert.equal(isExactTime(1.5, 0), false);
 * ```
 */
export function isExactTime(unixMs: number, nanosInMs: number): boolean {
  // typeof first: a hand-made record's bigint or object must not reach
  // Math.floor or a valueOf.
  return typeof unixMs === "number" && typeof nanosInMs === "number" &&
    unixMs >= 0 && nanosInMs >= 0 && nanosInMs < 1e6 &&
    Math.floor(unixMs) === unixMs && Math.floor(nanosInMs) === nanosInMs &&
    inRange(unixMs, nanosInMs);
}

/**
 * Converts any {@linkcode TimeInput} to exact nanoseconds since the epoch.
 *
 * @param input The time as given.
 * @returns Nanoseconds, or `undefined` for an absent or invalid time.
 *
 * @example
 * ```ts
 * import { toUnixNano } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toUnixNano(new Date(1)), 1_000_000n);
 * assert.equal(toUnixNano([1, 5]), 1_000_000_005n);
 * assert.equal(toUnixNano(4_102_444_800_000.001), 4_102_444_800_000_001_000n);
 * assert.equal(toUnixNano(-1), undefined);
 * ```
 */
export function toUnixNano(input: TimeInput | undefined): bigint | undefined {
  const t: ExactTime = { unixMs: 0, nanosInMs: 0 };
  if (toExactTime(input, t) !== TimeStatus.VALID) return undefined;
  return unixNanoToBigInt(t.unixMs, t.nanosInMs);
}

/**
 * The exact nanoseconds since the epoch of a time pair, as a `bigint`.
 *
 * @param unixMs Whole milliseconds since the epoch.
 * @param nanosInMs Nanoseconds within the millisecond.
 * @returns Nanoseconds (0n for a pair that is not an exact time).
 *
 * @example
 * ```ts
 * import { unixNanoToBigInt } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(unixNanoToBigInt(1_700_000_013_123, 456_789), 1_700_000_013_123_456_789n);
 * ```
 */
export function unixNanoToBigInt(unixMs: number, nanosInMs: number): bigint {
  if (!isExactTime(unixMs, nanosInMs)) return 0n;
  return BigInt(unixMs) * 1000000n + BigInt(nanosInMs);
}

/**
 * The exact nanoseconds since the epoch of a time pair as a decimal string
 * (the OTLP/JSON form of a `fixed64` time), without a `bigint`.
 *
 * @param unixMs Whole milliseconds since the epoch.
 * @param nanosInMs Nanoseconds within the millisecond.
 * @returns The decimal digits ("0" for a pair that is not an exact time).
 *
 * @example
 * ```ts
 * import { formatUnixNano } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatUnixNano(1_700_000_013_123, 456_789), "1700000013123456789");
 * assert.equal(formatUnixNano(0, 1_000), "1000");
 * assert.equal(formatUnixNano(18_446_744_073_709, 551_615), "18446744073709551615");
 * ```
 */
export function formatUnixNano(unixMs: number, nanosInMs: number): string {
  if (!isExactTime(unixMs, nanosInMs)) return "0";
  if (unixMs === 0) return String(nanosInMs);
  return String(unixMs) + String(nanosInMs).padStart(6, "0");
}

/**
 * Writes the nanoseconds since the epoch of a time pair as a little-endian
 * 64-bit unsigned integer (protobuf `fixed64`), exactly: the value is split
 * into its low and high uint32 halves with double arithmetic in which no
 * intermediate exceeds 2^53. A pair that is not an exact time is written as 0.
 *
 * @param view The destination.
 * @param offset Where to write the 8 bytes.
 * @param unixMs Whole milliseconds since the epoch.
 * @param nanosInMs Nanoseconds within the millisecond.
 * @returns The offset after the 8 bytes.
 *
 * @example
 * ```ts
 * import { writeUnixNanoFixed64 } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const view = new DataView(new ArrayBuffer(8));
 * assert.equal(writeUnixNanoFixed64(view, 0, 1_700_000_013_123, 456_789), 8);
 * assert.equal(view.getBigUint64(0, true), 1_700_000_013_123_456_789n);
 * ```
 */
export function writeUnixNanoFixed64(
  view: DataView,
  offset: number,
  unixMs: number,
  nanosInMs: number,
): number {
  if (!isExactTime(unixMs, nanosInMs)) {
    view.setUint32(offset, 0, true);
    view.setUint32(offset + 4, 0, true);
    return offset + 8;
  }
  return writeExactUnixNanoFixed64(view, offset, unixMs, nanosInMs);
}

/**
 * {@linkcode writeUnixNanoFixed64} of a pair already known to be an exact
 * time ({@linkcode isExactTime}), without checking it again: for encoders
 * that test the pair first anyway (the OTLP writer skips a zero or inexact
 * time). Not part of the public API.
 *
 * @param view The destination.
 * @param offset Where to write the 8 bytes.
 * @param unixMs Whole milliseconds since the epoch (an exact time with `nanosInMs`).
 * @param nanosInMs Nanoseconds within the millisecond.
 * @returns The offset after the 8 bytes.
 */
export function writeExactUnixNanoFixed64(
  view: DataView,
  offset: number,
  unixMs: number,
  nanosInMs: number,
): number {
  // unixMs = h * 2^32 + l (h < 2^13, l < 2^32), so
  // T = h * 1e6 * 2^32 + (l * 1e6 + nanos), and l * 1e6 + nanos < 2^52 + 2^20.
  const h = Math.floor(unixMs / TWO_32);
  const m = (unixMs - h * TWO_32) * 1e6 + nanosInMs;
  const mh = Math.floor(m / TWO_32);
  view.setUint32(offset, m - mh * TWO_32, true);
  view.setUint32(offset + 4, h * 1e6 + mh, true); // < 2^32 since T < 2^64
  return offset + 8;
}

/**
 * Writes a time pair as a Windows FILETIME (little-endian 64-bit count of
 * 100 ns intervals since 1601-01-01 UTC), exact to the 100 ns below (the
 * nanoseconds under 100 are cut, as Windows' own conversions do). The value
 * is split into uint32 halves with double arithmetic in which no intermediate
 * exceeds 2^53. A pair that is not an exact time is written as the FILETIME
 * of 1970-01-01 (time 0, unset).
 *
 * @param view The destination.
 * @param offset Where to write the 8 bytes.
 * @param unixMs Whole milliseconds since the epoch.
 * @param nanosInMs Nanoseconds within the millisecond.
 * @returns The offset after the 8 bytes.
 *
 * @example
 * ```ts
 * import { writeFileTime } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const view = new DataView(new ArrayBuffer(8));
 * writeFileTime(view, 0, 0, 0);
 * assert.equal(view.getBigUint64(0, true), 116_444_736_000_000_000n);
 * writeFileTime(view, 0, 1_700_000_013_123, 456_789);
 * assert.equal(view.getBigUint64(0, true), 116_444_736_000_000_000n + 17_000_000_131_234_567n);
 * ```
 */
export function writeFileTime(
  view: DataView,
  offset: number,
  unixMs: number,
  nanosInMs: number,
): number {
  if (!isExactTime(unixMs, nanosInMs)) unixMs = nanosInMs = 0;
  // ms since 1601 < 2^45 = h * 2^32 + l (h < 2^13); l * 1e4 + ticks < 2^47.
  const ms = unixMs + FILETIME_EPOCH_OFFSET_MS;
  const h = Math.floor(ms / TWO_32);
  const m = (ms - h * TWO_32) * 10000 + Math.floor(nanosInMs / 100);
  const mh = Math.floor(m / TWO_32);
  view.setUint32(offset, m - mh * TWO_32, true);
  view.setUint32(offset + 4, h * 10000 + mh, true);
  return offset + 8;
}

/**
 * Formats a time pair as RFC 3339 UTC with a `Z` suffix and 0, 3, 6 or 9
 * fractional digits, the fewest that show the value exactly (the form the
 * OpenTelemetry Rust user_events and ETW exporters write); the digits are
 * the true digits of the exact time. A pair that is not an exact time is
 * formatted as time 0, `1970-01-01T00:00:00Z`. The range ends in 2554, so
 * the year always has four digits.
 *
 * @param unixMs Whole milliseconds since the epoch.
 * @param nanosInMs Nanoseconds within the millisecond.
 * @returns The formatted time, e.g. `2024-01-02T03:04:05.678Z`.
 *
 * @example
 * ```ts
 * import { formatRfc3339 } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatRfc3339(1_767_225_600_002, 0), "2026-01-01T00:00:00.002Z");
 * assert.equal(formatRfc3339(1_704_164_645_678, 1_000), "2024-01-02T03:04:05.678001Z");
 * assert.equal(formatRfc3339(0, 0), "1970-01-01T00:00:00Z");
 * assert.equal(formatRfc3339(18_446_744_073_709, 551_615), "2554-07-21T23:34:33.709551615Z");
 * ```
 */
export function formatRfc3339(unixMs: number, nanosInMs: number): string {
  if (!isExactTime(unixMs, nanosInMs)) unixMs = nanosInMs = 0;
  // YYYY-MM-DDTHH:MM:SS depends only on the second: format it once per second
  // (Date + toISOString dominated the user_events/ETW encode time).
  const second = Math.floor(unixMs / 1000);
  let base: string;
  if (second === cachedSecond) {
    base = cachedBase;
  } else {
    base = new Date(second * 1000).toISOString().slice(0, 19);
    cachedSecond = second;
    cachedBase = base;
  }
  const nanosOfSecond = (unixMs - second * 1000) * 1e6 + nanosInMs; // < 1e9
  if (nanosOfSecond === 0) return base + "Z";
  if (nanosOfSecond % 1e6 === 0) {
    return base + "." + pad(nanosOfSecond / 1e6, 3) + "Z";
  }
  if (nanosOfSecond % 1e3 === 0) {
    return base + "." + pad(nanosOfSecond / 1e3, 6) + "Z";
  }
  return base + "." + pad(nanosOfSecond, 9) + "Z";
}

let cachedSecond = NaN;
let cachedBase = "";

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}
