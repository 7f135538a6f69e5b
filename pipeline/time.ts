/**
 * Timestamps: nanoseconds since the Unix epoch, held in a `number`.
 *
 * A double holds integers exactly up to 2^53, so a present-day nanosecond
 * timestamp (about 1.8e18) is kept to the nearest 256 ns. JavaScript clocks
 * are coarser than that, so nothing real is lost, and no `bigint` is
 * allocated per record. A `bigint` or a `Date` given by the caller is
 * converted once.
 *
 * @module
 */

/**
 * A timestamp as callers may give it: nanoseconds since the epoch as a
 * `number` or `bigint`, or a `Date`.
 *
 * @example
 * ```ts
 * import type { TimeInput } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const t: TimeInput = 1_700_000_000_000_000_000n;
 * assert.equal(typeof t, "bigint");
 * ```
 */
export type TimeInput = number | bigint | Date;

const origin = performance.timeOrigin;

/**
 * The current time in nanoseconds since the Unix epoch, with the
 * sub-millisecond precision of `performance.now()`.
 *
 * @returns Nanoseconds since the epoch.
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
  return Math.round((origin + performance.now()) * 1e3) * 1e3;
}

/**
 * Converts a {@linkcode TimeInput} to nanoseconds since the epoch, or
 * returns `undefined` for an absent or invalid time (negative, `NaN`, an
 * invalid `Date`).
 *
 * @param input The time as given.
 * @returns Nanoseconds, or `undefined`.
 *
 * @example
 * ```ts
 * import { toUnixNano } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toUnixNano(new Date(1)), 1e6);
 * assert.equal(toUnixNano(5n), 5);
 * assert.equal(toUnixNano(-1), undefined);
 * ```
 */
export function toUnixNano(input: TimeInput | undefined): number | undefined {
  if (typeof input === "number") {
    return input >= 0 && input < 2 ** 64 ? Math.floor(input) : undefined;
  }
  if (typeof input === "bigint") {
    return input >= 0n && input < 2n ** 64n ? Number(input) : undefined;
  }
  if (input instanceof Date) {
    const ms = input.getTime();
    return ms >= 0 ? ms * 1e6 : undefined;
  }
  return undefined;
}

/**
 * Formats nanoseconds since the epoch as RFC 3339 UTC with a `Z` suffix and
 * 0, 3, 6 or 9 fractional digits, the fewest that show the value exactly
 * (the form the OpenTelemetry Rust user_events and ETW exporters write).
 *
 * @param unixNano Nanoseconds since the epoch.
 * @returns The formatted time, e.g. `2024-01-02T03:04:05.678Z`.
 *
 * @example
 * ```ts
 * import { formatRfc3339 } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatRfc3339(1704164645678000000), "2024-01-02T03:04:05.678Z");
 * assert.equal(formatRfc3339(0), "1970-01-01T00:00:00Z");
 * ```
 */
export function formatRfc3339(unixNano: number): string {
  const ms = Math.floor(unixNano / 1e6);
  const subNanos = Math.round(unixNano - ms * 1e6); // 0..999999 below the millisecond
  // YYYY-MM-DDTHH:MM:SS depends only on the second: format it once per second
  // (Date + toISOString dominated the user_events/ETW encode time).
  const second = Math.floor(ms / 1000);
  let base: string;
  if (second === cachedSecond) {
    base = cachedBase;
  } else {
    base = new Date(ms).toISOString().slice(0, 19);
    if (ms >= 0) {
      cachedSecond = second;
      cachedBase = base;
    }
  }
  const nanosOfSecond = (ms % 1000) * 1e6 + subNanos;
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
