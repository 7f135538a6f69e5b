/**
 * Opens the advapi32 binding for the running runtime, on Windows only.
 * Importing this module loads nothing; only {@linkcode openAdvapi32} does.
 *
 * @module
 */

import type { Advapi32Binding } from "./advapi32.ts";
import { FfiUnavailableError } from "./errors.ts";
import { isNode } from "./node_ffi.ts";

/** The JavaScript runtime, from `navigator.userAgent` (or Node's `process`). */
function runtimeName(): "deno" | "bun" | "node" | "other" {
  const ua =
    typeof navigator === "object" && typeof navigator.userAgent === "string"
      ? navigator.userAgent
      : "";
  if (ua.startsWith("Deno/")) return "deno";
  if (ua.startsWith("Bun/")) return "bun";
  if (isNode(ua)) return "node";
  return "other";
}

/**
 * The operating system as Node's `process.platform` names it (`"win32"`,
 * `"linux"`, …), or `"unknown"`.
 *
 * @returns The platform name.
 */
export function hostPlatform(): string {
  const deno = (globalThis as { Deno?: { build?: { os?: string } } }).Deno;
  if (deno?.build?.os !== undefined) {
    return deno.build.os === "windows" ? "win32" : deno.build.os;
  }
  const proc = (globalThis as { process?: { platform?: string } }).process;
  return typeof proc?.platform === "string" ? proc.platform : "unknown";
}

let opened: Promise<Advapi32Binding> | undefined;

/**
 * Opens advapi32.dll through `Deno.dlopen`, `bun:ffi` or `node:ffi`, once per process
 * (later calls share the binding; it is never closed).
 *
 * @returns The binding.
 * @throws {FfiUnavailableError} Off Windows, on another runtime, or when the
 *   library cannot be opened (e.g. Deno without `--allow-ffi`).
 */
export function openAdvapi32(): Promise<Advapi32Binding> {
  opened ??= load();
  // A failed attempt may be retried (e.g. after granting permissions).
  opened.catch(() => {
    opened = undefined;
  });
  return opened;
}

async function load(): Promise<Advapi32Binding> {
  const platform = hostPlatform();
  if (platform !== "win32") {
    throw new FfiUnavailableError(
      `Cannot open advapi32.dll: ETW exists only on Windows and this is ${platform}; ` +
        `use the user_events processor on Linux, or pass onUnsupported: "noop"`,
    );
  }
  const runtime = runtimeName();
  try {
    if (runtime === "deno") {
      const { openAdvapi32Deno } = await import("./advapi32_deno.ts");
      return openAdvapi32Deno();
    }
    if (runtime === "bun") {
      const { openAdvapi32Bun } = await import("./advapi32_bun.ts");
      return openAdvapi32Bun();
    }
    if (runtime === "node") {
      const { openAdvapi32Node } = await import("./advapi32_node.ts");
      return openAdvapi32Node();
    }
  } catch (cause) {
    // node_ffi.ts already names the fix (Node version, flags, --allow-ffi).
    if (cause instanceof FfiUnavailableError) throw cause;
    throw new FfiUnavailableError(
      `Cannot open advapi32.dll: ${
        cause instanceof Error ? cause.message : String(cause)
      }; ` +
        `run Deno with --allow-ffi (Bun and Node 26 need no flag)`,
      { cause },
    );
  }
  throw new FfiUnavailableError(
    `Cannot open advapi32.dll: no FFI on this runtime (${runtime}); use Deno, Bun, or Node >= 26 (--experimental-ffi)`,
  );
}
