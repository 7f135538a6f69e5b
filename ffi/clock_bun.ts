/**
 * `clock_gettime` for Bun, through `bun:ffi`: the native monotonic clock
 * behind {@linkcode useNativeClock}. Loaded only by `ffi/clock.ts`, and only
 * on Bun; `bun:ffi` comes from `process.getBuiltinModule`, so this module
 * loads synchronously and Deno never resolves the specifier.
 *
 * @module
 */

import type { ClockGettime } from "./clock.ts";

type BunFfi = typeof import("bun:ffi");

/**
 * Opens `clock_gettime` from the first of `names` that loads, or explains why
 * not.
 *
 * @param names Library names to try, in order.
 * @returns The call, or the reason it is not available.
 */
export function openBunClockGettime(
  names: readonly string[],
): ClockGettime | string {
  if (process.platform !== "linux") {
    return `the OS is ${process.platform}; the native clock is Linux only`;
  }
  let ffi: BunFfi | undefined;
  try {
    ffi = process.getBuiltinModule("bun:ffi") as BunFfi | undefined;
  } catch (error) {
    return `bun:ffi cannot be loaded (${error})`;
  }
  if (ffi === undefined || typeof ffi.dlopen !== "function") {
    return "bun:ffi is not available";
  }
  for (const name of names) {
    try {
      const lib = ffi.dlopen(name, {
        clock_gettime: {
          args: [ffi.FFIType.i32, ffi.FFIType.ptr],
          returns: ffi.FFIType.i32,
        },
      });
      // An ArrayBuffer made by its constructor has a malloc'd backing store
      // that never moves; the pointer is a plain number, passed as is.
      const timespec = new ArrayBuffer(16);
      const pointer = ffi.ptr(timespec);
      return {
        call: lib.symbols.clock_gettime as (
          clockId: number,
          pointer: unknown,
        ) => number,
        pointer,
        timespec,
        library: name,
      };
    } catch {
      // the next name
    }
  }
  return `none of ${names.join(", ")} could be opened`;
}
