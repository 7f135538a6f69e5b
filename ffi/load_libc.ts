/**
 * Picks and opens the {@linkcode LibcBinding} of the running runtime.
 *
 * @module
 */

import { FfiUnavailableError } from "./errors.ts";
import type { LibcBinding } from "./libc.ts";
import { isNode } from "./node_ffi.ts";

/** The libc names tried in order: glibc, then musl on x86-64 and arm64. */
export const LIBC_NAMES: readonly string[] = [
  "libc.so.6",
  "libc.musl-x86_64.so.1",
  "libc.musl-aarch64.so.1",
  "libc.so",
];

/** Overrides of {@linkcode openLibc}'s detection, for tests. */
export interface OpenLibcOptions {
  /** The runtime's user agent; defaults to `navigator.userAgent`. */
  readonly userAgent?: string;
  /** The OS name (`"linux"`, `"darwin"`, `"windows"`, ...); defaults to the runtime's. */
  readonly os?: string;
  /** Library names to try; defaults to {@linkcode LIBC_NAMES}. */
  readonly names?: readonly string[];
}

/**
 * Opens libc through the FFI of the running runtime (Deno, Bun or Node >= 26), once per
 * process.
 *
 * @param options Overrides of the detection, for tests.
 * @returns The binding.
 * @throws {FfiUnavailableError} When the runtime has no supported FFI, the OS
 * is not Linux, Deno lacks `--allow-ffi`, or libc cannot be found.
 */
export async function openLibc(
  options: OpenLibcOptions = {},
): Promise<LibcBinding> {
  const names = options.names ?? LIBC_NAMES;
  const ua = options.userAgent ??
    (typeof navigator === "object" ? navigator.userAgent : "") ?? "";
  if (ua.startsWith("Deno/")) {
    const { openDenoLibc } = await import("./libc_deno.ts");
    return openDenoLibc(names, options.os);
  }
  if (ua.startsWith("Bun/")) {
    const { openBunLibc } = await import("./libc_bun.ts");
    return openBunLibc(names, options.os);
  }
  if (isNode(ua)) {
    const { openNodeLibc } = await import("./libc_node.ts");
    return openNodeLibc(names, options.os);
  }
  throw new FfiUnavailableError(
    `Cannot load libc: runtime ${
      ua === "" ? "unknown" : ua
    } has no supported FFI; run on Deno (--allow-ffi), Bun, or Node >= 26 (--experimental-ffi)`,
  );
}
