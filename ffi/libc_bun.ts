/**
 * The {@linkcode LibcBinding} for Bun, through `bun:ffi`. Loaded only by a
 * dynamic import in `ffi/load_libc.ts`, so Deno never evaluates it.
 *
 * @module
 */

import { dlopen, FFIType, type Pointer, toArrayBuffer } from "bun:ffi";
import { FfiUnavailableError } from "./errors.ts";
import type { LibcBinding, NativeMemory } from "./libc.ts";

const SYMBOLS = {
  open: { args: [FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  ioctl: {
    args: [FFIType.i32, FFIType.u64, FFIType.ptr],
    returns: FFIType.i32,
  },
  // ssize_t read as i32 (the low half of the return register, which the ABI
  // allows; every length here is below 2^31, as in libc_deno.ts): an int32
  // JSValue straight from the trampoline, where i64_fast range-checks and
  // converts the 64-bit result on every call.
  write: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u64],
    returns: FFIType.i32,
  },
  read: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u64],
    returns: FFIType.i64_fast,
  },
  calloc: { args: [FFIType.u64, FFIType.u64], returns: FFIType.ptr },
  free: { args: [FFIType.ptr], returns: FFIType.void },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

type Lib = ReturnType<typeof dlopen<typeof SYMBOLS>>;

/** Open bindings by library name: each library opens once per process. */
const cache = new Map<string, LibcBinding>();

/**
 * Opens libc with `bun:ffi` (once per process) and wraps it.
 *
 * @param names Library names to try, in order.
 * @param os The OS name; defaults to the runtime's.
 * @returns The binding.
 * @throws {FfiUnavailableError} When no name loads or the OS is not Linux.
 */
export function openBunLibc(
  names: readonly string[],
  os: string = process.platform,
): LibcBinding {
  if (os !== "linux") {
    throw new FfiUnavailableError(
      `Cannot use user_events: the OS is ${os}; user_events exists only on Linux`,
    );
  }
  let lib: Lib | undefined;
  let lastError: unknown;
  let loaded = "";
  for (const name of names) {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    try {
      lib = dlopen(name, SYMBOLS);
      loaded = name;
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (lib === undefined) {
    throw new FfiUnavailableError(
      `Cannot load libc: none of ${
        names.join(", ")
      } could be opened; install glibc or musl`,
      { cause: lastError },
    );
  }
  const binding = new BunLibc(lib);
  cache.set(loaded, binding);
  return binding;
}

class BunLibc implements LibcBinding {
  readonly #c: Lib["symbols"];
  readonly #errno: Int32Array;
  readonly #encoder = new TextEncoder();

  constructor(lib: Lib) {
    this.#c = lib.symbols;
    const p = this.#c.__errno_location();
    this.#errno = p === null
      ? new Int32Array(1)
      : new Int32Array(toArrayBuffer(p, 0, 4));
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
    const r = this.#c.ioctl(fd, request, arg.handle as Pointer);
    return r < 0 ? -this.#errno[0] : r;
  }

  write(fd: number, memory: NativeMemory, length: number): number {
    const r = this.#c.write(fd, memory.handle as Pointer, length);
    return r < 0 ? -this.#errno[0] : r;
  }

  read(fd: number, memory: NativeMemory, length: number): number {
    const r = Number(this.#c.read(fd, memory.handle as Pointer, length));
    return r < 0 ? -this.#errno[0] : r;
  }

  alloc(size: number): NativeMemory | null {
    const p = this.#c.calloc(1, size);
    if (p === null) return null;
    return {
      address: BigInt(p),
      size,
      buffer: toArrayBuffer(p, 0, size),
      handle: p,
    };
  }

  free(memory: NativeMemory): void {
    this.#c.free(memory.handle as Pointer);
  }

  errno(): number {
    return this.#errno[0];
  }
}
