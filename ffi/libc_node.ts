/**
 * The {@linkcode LibcBinding} for Node (>= 26), through `node:ffi`. Loaded
 * only by a dynamic import in `ffi/load_libc.ts`, and only on Node.
 *
 * @module
 */

import { FfiUnavailableError } from "./errors.ts";
import type { LibcBinding, NativeMemory } from "./libc.ts";
import {
  type NodeFfi,
  nodeFfi,
  nodeFfiPermissionError,
  type NodeFfiSignature,
  nodeProcess,
} from "./node_ffi.ts";

/**
 * The libc signatures in `node:ffi` types. `write` and `read` return
 * `ssize_t`, declared `i32`: a result is at most the requested length
 * (< 2^31) or -1, and an `i32` result is a number where an `i64` one would
 * allocate a bigint on every emit.
 *
 * `write` is the one call per enabled emit. Every `node:ffi` function with
 * an integer or pointer argument runs behind a JavaScript wrapper
 * (`lib/internal/ffi/fast-api.js` in Node 26) that checks each argument
 * against its type name before the V8 fast call; that wrapper, not the call,
 * is most of what Node pays above Deno per write. So `write` takes the
 * buffer address as a `u64` (the same 64-bit register as `pointer`, minus
 * the wrapper's string and ArrayBuffer checks) and its length as a bigint
 * from the binding's length cache: a number for a `u64` would be
 * converted by `BigInt()` in the wrapper, a heap allocation on every emit.
 */
export const LIBC_NODE_SYMBOLS: Readonly<Record<string, NodeFfiSignature>> = {
  open: { arguments: ["pointer", "i32"], return: "i32" },
  close: { arguments: ["i32"], return: "i32" },
  ioctl: { arguments: ["i32", "u64", "pointer"], return: "i32" },
  write: { arguments: ["i32", "u64", "u64"], return: "i32" },
  read: { arguments: ["i32", "pointer", "u64"], return: "i32" },
  calloc: { arguments: ["u64", "u64"], return: "pointer" },
  free: { arguments: ["pointer"], return: "void" },
  __errno_location: { arguments: [], return: "pointer" },
};

interface Symbols {
  open(path: Uint8Array, flags: number): number;
  close(fd: number): number;
  ioctl(fd: number, request: bigint, arg: bigint): number;
  write(fd: number, buffer: bigint, length: bigint): number;
  read(fd: number, buffer: bigint, length: number): number;
  calloc(count: number, size: number): bigint;
  free(pointer: bigint): void;
  __errno_location(): bigint;
}

/**
 * Slots of the write-length cache (a power of two): event lengths are at
 * most 65479 bytes and an application emits a few shapes, so lengths repeat.
 */
const LENGTH_CACHE = 1024;

/** Open bindings by library name: each library opens once per process. */
const cache = new Map<string, LibcBinding>();

/**
 * Opens libc with `node:ffi` (once per process) and wraps it.
 *
 * @param names Library names to try, in order.
 * @param os The OS name; defaults to the runtime's.
 * @returns The binding.
 * @throws {FfiUnavailableError} Without `node:ffi` (Node < 26, or
 *   `--no-experimental-ffi`), without `--allow-ffi` under the permission
 *   model, off Linux, or when no name loads.
 */
export function openNodeLibc(
  names: readonly string[],
  os: string = nodeProcess()?.platform ?? "unknown",
): LibcBinding {
  if (os !== "linux") {
    throw new FfiUnavailableError(
      `Cannot use user_events: the OS is ${os}; user_events exists only on Linux`,
    );
  }
  const ffi = nodeFfi("libc");
  let symbols: Symbols | undefined;
  let lastError: unknown;
  let loaded = "";
  for (const name of names) {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    try {
      symbols = ffi.dlopen(name, LIBC_NODE_SYMBOLS)
        .functions as unknown as Symbols;
      loaded = name;
      break;
    } catch (error) {
      const denied = nodeFfiPermissionError("libc", error);
      if (denied !== undefined) throw denied;
      lastError = error;
    }
  }
  if (symbols === undefined) {
    throw new FfiUnavailableError(
      `Cannot load libc: none of ${
        names.join(", ")
      } could be opened; install glibc or musl`,
      { cause: lastError },
    );
  }
  const binding = new NodeLibc(ffi, symbols);
  cache.set(loaded, binding);
  return binding;
}

class NodeLibc implements LibcBinding {
  readonly #ffi: NodeFfi;
  readonly #c: Symbols;
  readonly #errno: Int32Array;
  readonly #encoder = new TextEncoder();
  /** `write`, read once: `symbols` is a null-prototype dictionary. */
  readonly #write: Symbols["write"];
  /**
   * A direct-mapped cache of write lengths as bigints, so an emit allocates
   * none. Float64 keys hold any length exactly, and NaN matches nothing: a
   * slot only answers the very number it was made from.
   */
  readonly #lengthKeys = new Float64Array(LENGTH_CACHE).fill(NaN);
  readonly #lengthValues: bigint[] = new Array<bigint>(LENGTH_CACHE).fill(0n);

  constructor(ffi: NodeFfi, symbols: Symbols) {
    this.#ffi = ffi;
    this.#c = symbols;
    this.#write = symbols.write;
    const p = this.#c.__errno_location();
    this.#errno = p === 0n
      ? new Int32Array(1)
      : new Int32Array(ffi.toArrayBuffer(p, 4, false));
  }

  open(path: string, flags: number): number {
    const bytes = this.#encoder.encode(path + "\0");
    const fd = this.#c.open(bytes, flags);
    return fd < 0 ? -this.#errno[0] : fd;
  }

  close(fd: number): number {
    return this.#c.close(fd) < 0 ? -this.#errno[0] : 0;
  }

  ioctl(fd: number, request: number, arg: NativeMemory): number {
    const r = this.#c.ioctl(fd, BigInt(request), arg.handle as bigint);
    return r < 0 ? -this.#errno[0] : r;
  }

  write(fd: number, memory: NativeMemory, length: number): number {
    const slot = length & (LENGTH_CACHE - 1);
    // A fractional length makes BigInt() throw and a negative one node:ffi's
    // u64 check: the errors a number length met before.
    if (this.#lengthKeys[slot] !== length) {
      this.#lengthValues[slot] = BigInt(length); // throws before the key is set
      this.#lengthKeys[slot] = length;
    }
    const r = this.#write(
      fd,
      memory.handle as bigint,
      this.#lengthValues[slot],
    );
    return r < 0 ? -this.#errno[0] : r;
  }

  read(fd: number, memory: NativeMemory, length: number): number {
    const r = this.#c.read(fd, memory.handle as bigint, length);
    return r < 0 ? -this.#errno[0] : r;
  }

  alloc(size: number): NativeMemory | null {
    const p = this.#c.calloc(1, size);
    if (p === 0n) return null;
    return {
      address: p,
      size,
      buffer: this.#ffi.toArrayBuffer(p, size, false),
      handle: p,
    };
  }

  free(memory: NativeMemory): void {
    this.#c.free(memory.handle as bigint);
  }

  errno(): number {
    return this.#errno[0];
  }
}
