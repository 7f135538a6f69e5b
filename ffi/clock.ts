/**
 * A native clock for the pipeline's exact time: `clock_gettime(CLOCK_MONOTONIC)`
 * through Deno's or Bun's FFI (a vDSO call, no system call), anchored once to
 * `performance.timeOrigin + performance.now()`. It is the clock that
 * `performance.now()` itself reads on Linux, so the time keeps the meaning it
 * has in OpenTelemetry JS (`hrTime()`: the time origin plus a monotonic
 * clock, never going back within the process) and orders with
 * `performance.now()`-relative inputs; it resolves nanoseconds, and costs a
 * fraction of `performance.now()` where that is an expensive runtime call
 * (Deno). The wall clock (`CLOCK_REALTIME`) was not chosen: a clock step would
 * let a span end before it starts and records go out of order.
 *
 * `@seed/telemetry` installs it when it loads; where FFI is not available or
 * not permitted (Node, Deno without `--allow-ffi`, other OSes) the pipeline
 * keeps reading `performance.now()`.
 *
 * @module
 */

import {
  type ExactTime,
  isExactTime,
  setExactClock,
  TIME_ORIGIN,
} from "../pipeline/time.ts";
import { openBunClockGettime } from "./clock_bun.ts";
import { openDenoClockGettime } from "./clock_deno.ts";
import { LIBC_NAMES } from "./load_libc.ts";

/** `clock_gettime` as a runtime adapter opened it, with the `struct timespec` it writes into. */
export interface ClockGettime {
  /** `clock_gettime(clockId, pointer)`; returns 0 on success. */
  readonly call: (clockId: number, pointer: unknown) => number;
  /** The address of `timespec`, in the runtime's pointer form. */
  readonly pointer: unknown;
  /** 16 bytes that never move: `tv_sec` and `tv_nsec`, two little-endian int64. */
  readonly timespec: ArrayBuffer;
  /** The library it came from. */
  readonly library: string;
}

/** `CLOCK_MONOTONIC` on Linux (every architecture). */
const CLOCK_MONOTONIC = 1;

/**
 * What {@linkcode nativeClockStatus} reports.
 *
 * @example
 * ```ts
 * import { nativeClockStatus, type NativeClockStatus } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const status: NativeClockStatus = nativeClockStatus();
 * assert.equal(typeof status.active, "boolean");
 * ```
 */
export interface NativeClockStatus {
  /** Whether {@linkcode nowExactTime} reads the native clock now. */
  readonly active: boolean;
  /** Where the clock comes from (`"deno-ffi libc.so.6"`), or why there is none. */
  readonly detail: string;
  /**
   * The uncertainty of the anchor to `performance.timeOrigin +
   * performance.now()`, in nanoseconds (half the narrowest bracket of two
   * `performance.now()` reads around a native read); 0 when not active.
   */
  readonly anchorErrorNanos: number;
}

let status: NativeClockStatus = {
  active: false,
  detail: "not installed",
  anchorErrorNanos: 0,
};
/** The reader built once per process; `useNativeClock(false)` then `true` reuses it. */
let installed: ((out: ExactTime) => void) | undefined;
let installedStatus: NativeClockStatus | undefined;

/**
 * Reports whether the native clock is in use, where it comes from, or why it
 * is not.
 *
 * @returns The status.
 *
 * @example
 * ```ts
 * import { nativeClockStatus } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const { active, detail } = nativeClockStatus();
 * assert.equal(typeof detail, "string");
 * if (active) assert.match(detail, /ffi/);
 * ```
 */
export function nativeClockStatus(): NativeClockStatus {
  return status;
}

/**
 * Turns the native clock behind {@linkcode nowExactTime} on (the default
 * when `@seed/telemetry` loads) or off (back to `performance.now()`).
 * Turning it on where it is unavailable changes nothing and says why in
 * {@linkcode nativeClockStatus}; it never throws for that.
 *
 * @param enabled `true` to use the native clock where there is one, `false` for `performance.now()`.
 * @returns Whether the native clock is in use afterwards.
 * @throws {TypeError} When `enabled` is not a boolean.
 *
 * @example
 * ```ts
 * import { nativeClockStatus, nowExactTime, useNativeClock } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(useNativeClock(false), false);
 * const t = { unixMs: 0, nanosInMs: 0 };
 * nowExactTime(t);
 * assert.equal(t.nanosInMs % 1000, 0); // performance.now(): microseconds
 * const on = useNativeClock(true);
 * assert.equal(on, nativeClockStatus().active);
 * ```
 */
export function useNativeClock(enabled: boolean = true): boolean {
  if (typeof enabled !== "boolean") {
    throw new TypeError(
      `Cannot set useNativeClock(${describe(enabled)}): expected true or false`,
    );
  }
  if (!enabled) {
    setExactClock(undefined);
    status = {
      active: false,
      detail: "turned off by useNativeClock(false)",
      anchorErrorNanos: 0,
    };
    return false;
  }
  if (installed === undefined) {
    const opened = openClockGettime();
    if (typeof opened === "string") {
      status = { active: false, detail: opened, anchorErrorNanos: 0 };
      return false;
    }
    const built = buildReader(opened.clock);
    if (typeof built === "string") {
      status = { active: false, detail: built, anchorErrorNanos: 0 };
      return false;
    }
    installed = built.read;
    installedStatus = {
      active: true,
      detail: `${opened.runtime}-ffi ${opened.clock.library}`,
      anchorErrorNanos: built.anchorErrorNanos,
    };
  }
  setExactClock(installed);
  status = installedStatus as NativeClockStatus;
  return true;
}

/** A value for a message, without calling into it. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "object" || typeof value === "function") {
    return `a ${typeof value}`;
  }
  return typeof value === "symbol" ? "a symbol" : String(value);
}

function openClockGettime():
  | { runtime: string; clock: ClockGettime }
  | string {
  const ua = typeof navigator === "object" && navigator !== null &&
      typeof navigator.userAgent === "string"
    ? navigator.userAgent
    : "";
  try {
    if (ua.startsWith("Deno/")) {
      const clock = openDenoClockGettime(LIBC_NAMES);
      return typeof clock === "string" ? clock : { runtime: "deno", clock };
    }
    if (ua.startsWith("Bun/")) {
      const clock = openBunClockGettime(LIBC_NAMES);
      return typeof clock === "string" ? clock : { runtime: "bun", clock };
    }
  } catch (error) {
    return `the native clock failed to load (${error})`;
  }
  return `no native clock for ${
    ua === "" ? "this runtime" : ua
  }: performance.now() is read`;
}

/** A reader and the uncertainty of its anchor, or why there is none. */
type Built = { read: (out: ExactTime) => void; anchorErrorNanos: number };

/**
 * Builds the reader: checks the call and the layout, anchors the monotonic
 * clock to `performance.timeOrigin + performance.now()`, and checks that the
 * first reading agrees with it. Never throws: a failure is the reason.
 *
 * @param clock The call a runtime adapter opened.
 * @returns The reader, or why it cannot be used.
 */
export function buildReader(clock: ClockGettime): Built | string {
  try {
    return build(clock);
  } catch (error) {
    return `the native clock failed its first reads (${error})`;
  }
}

function build(clock: ClockGettime): Built | string {
  const { call, pointer } = clock;
  const ts = new Int32Array(clock.timespec, 0, 4);
  // tv_sec's high word must stay 0 (CLOCK_MONOTONIC counts seconds since
  // boot, far below 2^31) and tv_nsec below 1e9: this also rejects a
  // big-endian or 32-bit time_t layout.
  const sane = () =>
    ts[1] === 0 && ts[3] === 0 && ts[0] >= 0 && ts[2] >= 0 && ts[2] < 1e9;
  const perf = performance;
  // The origin pipeline/time.ts reads performance.now() against, so both
  // paths share one origin.
  const origin = perf.timeOrigin;
  const originMs = TIME_ORIGIN.unixMs;
  const originNs = TIME_ORIGIN.nanosInMs;
  let best = Infinity;
  let anchorMs = 0;
  let anchorNs = 0;
  for (let i = 0; i < 16; i++) {
    const before = perf.now();
    if (call(CLOCK_MONOTONIC, pointer) !== 0) {
      return "clock_gettime(CLOCK_MONOTONIC) failed";
    }
    const after = perf.now();
    if (!sane()) return "clock_gettime wrote an unexpected struct timespec";
    const width = after - before;
    if (!(width >= 0) || width >= best) continue;
    best = width;
    // The native read happened within [before, after]: take the middle,
    // relative to the time origin, minus the monotonic reading itself.
    const mid = (before + after) / 2;
    const midMs = Math.floor(mid);
    const midNs = Math.round((mid - midMs) * 1e6);
    const sec = ts[0];
    const nsec = ts[2];
    const monoMsInSec = Math.floor(nsec / 1e6);
    anchorMs = originMs + midMs - (sec * 1000 + monoMsInSec);
    anchorNs = originNs + midNs - (nsec - monoMsInSec * 1e6);
    while (anchorNs < 0) {
      anchorNs += 1e6;
      anchorMs -= 1;
    }
    while (anchorNs >= 1e6) {
      anchorNs -= 1e6;
      anchorMs += 1;
    }
  }
  if (best === Infinity) return "performance.now() went backwards";
  const baseMs = anchorMs;
  const baseNs = anchorNs;
  const read = (out: ExactTime): void => {
    call(CLOCK_MONOTONIC, pointer);
    const nsec = ts[2];
    // nsec is an int32 in 0..999999999, so `| 0` (truncation, which is floor
    // for nsec >= 0) of the correctly rounded quotient is exact, and V8 and
    // JSC compile an int32 division by a constant into a multiply and
    // shifts: Math.floor(nsec / 1e6) was a float64 division and a round,
    // whose latency right after the FFI call was the hottest instruction of
    // the snapshot on Deno.
    const msInSec = (nsec / 1e6) | 0;
    let ns = nsec - msInSec * 1e6 + baseNs;
    let ms = ts[0] * 1000 + msInSec + baseMs;
    if (ns >= 1e6) {
      ns -= 1e6;
      ms += 1;
    }
    out.unixMs = ms;
    out.nanosInMs = ns;
  };
  // The first reading must be an exact time within a millisecond of
  // performance.timeOrigin + performance.now().
  const check: ExactTime = { unixMs: 0, nanosInMs: 0 };
  read(check);
  const diffMs = check.unixMs - origin + check.nanosInMs / 1e6 - perf.now();
  if (!isExactTime(check.unixMs, check.nanosInMs) || !(Math.abs(diffMs) < 1)) {
    return `the native clock disagrees with performance.now() by ${diffMs} ms`;
  }
  return { read, anchorErrorNanos: Math.ceil(best * 1e6 / 2) };
}
