/**
 * Picks and opens the {@linkcode PerfBinding} of the running runtime.
 *
 * @module
 */

import { FfiUnavailableError } from "./errors.ts";
import { LIBC_NAMES } from "./load_libc.ts";
import { isNode } from "./node_ffi.ts";
import type { PerfBinding } from "./perf.ts";

/**
 * Opens libc for the perf reader through the FFI of the running runtime
 * (Deno, Bun or Node >= 26), once per process.
 *
 * @param userAgent The runtime's user agent; defaults to `navigator.userAgent`.
 * @returns The binding.
 * @throws {FfiUnavailableError} When the runtime has no supported FFI, the
 * OS is not Linux, Deno lacks `--allow-ffi`, or libc cannot be found.
 */
export async function openPerf(userAgent?: string): Promise<PerfBinding> {
  const ua = userAgent ??
    (typeof navigator === "object" ? navigator.userAgent : "") ?? "";
  if (ua.startsWith("Deno/")) {
    const { openDenoPerf } = await import("./perf_deno.ts");
    return openDenoPerf(LIBC_NAMES);
  }
  if (ua.startsWith("Bun/")) {
    const { openBunPerf } = await import("./perf_bun.ts");
    return openBunPerf(LIBC_NAMES);
  }
  if (isNode(ua)) {
    const { openNodePerf } = await import("./perf_node.ts");
    return openNodePerf(LIBC_NAMES);
  }
  throw new FfiUnavailableError(
    `Cannot read user_events: runtime ${
      ua === "" ? "unknown" : ua
    } has no supported FFI; run on Deno (--allow-ffi), Bun, or Node >= 26 (--experimental-ffi)`,
  );
}
