/**
 * Which JavaScript runtime this is, read from `navigator.userAgent` (the
 * web-standard way Deno and Bun both answer), with no runtime namespace
 * touched.
 *
 * @module
 */

/**
 * The runtime's name and version.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const info = detectRuntime();
 * assert.ok(["deno", "bun", "node", "unknown"].includes(info.name));
 * ```
 */
export interface RuntimeInfo {
  /** `"deno"`, `"bun"`, `"node"` or `"unknown"`. */
  readonly name: "deno" | "bun" | "node" | "unknown";
  /** The runtime's version, e.g. `"2.9.6"`, or `""` when unknown. */
  readonly version: string;
}

/**
 * Detects the runtime from a user agent string.
 *
 * @param userAgent The user agent; defaults to `navigator.userAgent`.
 * @returns The runtime's name and version.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(detectRuntime("Bun/1.4.5"), { name: "bun", version: "1.4.5" });
 * assert.deepEqual(detectRuntime("Deno/2.9.6"), { name: "deno", version: "2.9.6" });
 * assert.deepEqual(detectRuntime("Node.js/26"), { name: "node", version: "26" });
 * ```
 */
export function detectRuntime(userAgent?: string): RuntimeInfo {
  const ua = userAgent ??
    (typeof navigator === "object" ? navigator.userAgent : "") ?? "";
  const match = /^(Deno|Bun|Node\.js)\/(\S+)/.exec(ua);
  // Node's user agent carries only the major version ("Node.js/26"), and
  // Node 20 has no navigator at all: the full version is process.versions.
  const nodeVersion = userAgent === undefined ? ownNodeVersion() : "";
  if (match === null) {
    return nodeVersion === "" || ua !== ""
      ? { name: "unknown", version: "" }
      : { name: "node", version: nodeVersion };
  }
  const name = match[1] === "Deno"
    ? "deno"
    : match[1] === "Bun"
    ? "bun"
    : "node";
  const version = name === "node" && nodeVersion !== ""
    ? nodeVersion
    : match[2].replace(/^v/, "");
  return { name, version };
}

/** `process.versions.node` when this is Node itself (not Bun or Deno), else "". */
function ownNodeVersion(): string {
  const versions = (globalThis as {
    process?: { versions?: Record<string, string | undefined> };
  }).process?.versions;
  if (
    versions === undefined || typeof versions.node !== "string" ||
    versions.bun !== undefined || versions.deno !== undefined
  ) return "";
  return versions.node;
}
