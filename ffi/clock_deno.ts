/**
 * `clock_gettime` for Deno, through `Deno.dlopen`: the native monotonic
 * clock behind {@linkcode useNativeClock}. Loaded only by `ffi/clock.ts`, and
 * only on Deno.
 *
 * @module
 */

import type { ClockGettime } from "./clock.ts";

/** `int clock_gettime(clockid_t, struct timespec *)`: an i32 and a pointer, both on V8's fast FFI path. */
const SYMBOLS = {
  clock_gettime: { parameters: ["i32", "pointer"], result: "i32" },
} as const;

/**
 * Opens `clock_gettime` from the first of `names` that loads, or explains why
 * not. Never prompts: FFI must already be granted (`--allow-ffi` or `-A`).
 *
 * @param names Library names to try, in order.
 * @returns The call, or the reason it is not available.
 */
export function openDenoClockGettime(
  names: readonly string[],
): ClockGettime | string {
  if (Deno.build.os !== "linux") {
    return `the OS is ${Deno.build.os}; the native clock is Linux only`;
  }
  let state: string;
  try {
    state = Deno.permissions.querySync({ name: "ffi" }).state;
  } catch (error) {
    return `the FFI permission cannot be read (${error})`;
  }
  if (state !== "granted") {
    return "FFI is not granted; run deno with --allow-ffi (or -A)";
  }
  for (const name of names) {
    try {
      const lib = Deno.dlopen(name, SYMBOLS);
      // An ArrayBuffer made by its constructor has an off-heap backing store
      // that the garbage collector never moves: its address stays valid.
      const timespec = new ArrayBuffer(16);
      const pointer = Deno.UnsafePointer.of(timespec);
      const call = lib.symbols.clock_gettime;
      return {
        call: call as (clockId: number, pointer: unknown) => number,
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
