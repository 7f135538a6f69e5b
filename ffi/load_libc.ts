/**
 * Picks and opens the {@linkcode LibcBinding} of the running runtime.
 *
 * @module
 */

import { FfiUnavailableError } from "./errors.ts";
import type { LibcBinding } from "./libc.ts";

/** The libc names tried in order: glibc, then musl on x86-64 and arm64. */
export const LIBC_NAMES: readonly string[] = [
  "libc.so.6",
  "libc.musl-x86_64.so.1",
  "libc.musl-aarch64.so.1",
  "libc.so",
];

/**
 * Opens libc through the FFI of the running runtime (Deno or Bun), once per
 * process.
 *
 * @param userAgent The runtime's user agent; defaults to `navigator.userAgent`.
 * @returns The binding.
 * @throws {FfiUnavailableError} When the runtime has no supported FFI, the OS
 * is not Linux, Deno lacks `--allow-ffi`, or libc cannot be found.
 */
export async function openLibc(userAgent?: string): Promise<LibcBinding> {
  const ua = userAgent ??
    (typeof navigator === "object" ? navigator.userAgent : "") ?? "";
  if (ua.startsWith("Deno/")) {
    const { openDenoLibc } = await import("./libc_deno.ts");
    return openDenoLibc(LIBC_NAMES);
  }
  if (ua.startsWith("Bun/")) {
    const { openBunLibc } = await import("./libc_bun.ts");
    return openBunLibc(LIBC_NAMES);
  }
  throw new FfiUnavailableError(
    `Cannot load libc: runtime ${
      ua === "" ? "unknown" : ua
    } has no supported FFI; run on Deno (--allow-ffi) or Bun`,
  );
}
