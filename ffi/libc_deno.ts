/**
 * The {@linkcode LibcBinding} for Deno, through `Deno.dlopen`. Loaded only by
 * `ffi/load_libc.ts`, and only on Deno.
 *
 * @module
 */

import { FfiUnavailableError } from "./errors.ts";
import type { LibcBinding, NativeMemory } from "./libc.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "pointer"], result: "i32" },
  // ssize_t results read as i32 (the low half of the return register, which
  // the ABI allows): an isize result comes back as a number | bigint that
  // costs a conversion per call (measured: 370 -> 341 ns per write(2) to
  // /dev/null on Deno 2.9); every length here is below 2^31.
  write: { parameters: ["i32", "pointer", "usize"], result: "i32" },
  read: { parameters: ["i32", "pointer", "usize"], result: "i32" },
  calloc: { parameters: ["usize", "usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;

/**
 * Slots of the write-length cache (a power of two, as in libc_node.ts):
 * event lengths are at most 65479 bytes and an application emits a few
 * shapes, so lengths repeat.
 */
const LENGTH_CACHE = 1024;

/** Open bindings by library name: each library opens once per process. */
const cache = new Map<string, LibcBinding>();

/**
 * Opens libc with `Deno.dlopen` (once per process) and wraps it.
 *
 * @param names Library names to try, in order.
 * @param os The OS name; defaults to the runtime's.
 * @returns The binding.
 * @throws {FfiUnavailableError} Without `--allow-ffi`, or when no name loads.
 */
export function openDenoLibc(
  names: readonly string[],
  os: string = Deno.build.os,
): LibcBinding {
  if (os !== "linux") {
    throw new FfiUnavailableError(
      `Cannot use user_events: the OS is ${os}; user_events exists only on Linux`,
    );
  }
  const status = Deno.permissions.querySync({ name: "ffi" });
  if (status.state !== "granted") {
    throw new FfiUnavailableError(
      "Cannot load libc: FFI permission not granted; run deno with --allow-ffi (or -A)",
    );
  }
  let lib: Lib | undefined;
  let lastError: unknown;
  let loaded = "";
  for (const name of names) {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    try {
      lib = Deno.dlopen(name, SYMBOLS);
      loaded = name;
      break;
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable ||
        error instanceof Deno.errors.PermissionDenied
      ) {
        throw new FfiUnavailableError(
          "Cannot load libc: FFI permission not granted; run deno with --allow-ffi (or -A)",
          { cause: error },
        );
      }
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
  const binding = new DenoLibc(lib);
  cache.set(loaded, binding);
  return binding;
}

class DenoLibc implements LibcBinding {
  readonly #c: Lib["symbols"];
  readonly #errno: Int32Array;
  readonly #encoder = new TextEncoder();
  /** `write`, read once. */
  readonly #write: Lib["symbols"]["write"];
  /**
   * A direct-mapped cache of write lengths as bigints, so an emit allocates
   * none (a `BigInt(length)` per write was an allocation per emit). Float64
   * keys hold any length exactly, and NaN matches nothing: a slot only
   * answers the very number it was made from.
   */
  readonly #lengthKeys = new Float64Array(LENGTH_CACHE).fill(NaN);
  readonly #lengthValues: bigint[] = new Array<bigint>(LENGTH_CACHE).fill(0n);

  constructor(lib: Lib) {
    this.#c = lib.symbols;
    this.#write = lib.symbols.write;
    const p = this.#c.__errno_location();
    this.#errno = p === null
      ? new Int32Array(1)
      : new Int32Array(Deno.UnsafePointerView.getArrayBuffer(p, 4));
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
    const r = this.#c.ioctl(
      fd,
      request as unknown as bigint,
      arg.handle as Deno.PointerValue,
    );
    return r < 0 ? -this.#errno[0] : r;
  }

  write(fd: number, memory: NativeMemory, length: number): number {
    // A bigint for the usize parameter keeps the call on V8's fast FFI path;
    // a number sends it through the slow, allocating path (measured: 3.8 ->
    // 3.0 us per enabled emit on Deno 2.9), cached per length (see above).
    const slot = length & (LENGTH_CACHE - 1);
    // A fractional length makes BigInt() throw: the error it met before.
    if (this.#lengthKeys[slot] !== length) {
      this.#lengthValues[slot] = BigInt(length); // throws before the key is set
      this.#lengthKeys[slot] = length;
    }
    const r = this.#write(
      fd,
      memory.handle as Deno.PointerValue,
      this.#lengthValues[slot],
    );
    return r < 0 ? -this.#errno[0] : r;
  }

  read(fd: number, memory: NativeMemory, length: number): number {
    const r = this.#c.read(
      fd,
      memory.handle as Deno.PointerValue,
      BigInt(length),
    );
    return r < 0 ? -this.#errno[0] : r;
  }

  alloc(size: number): NativeMemory | null {
    const p = this.#c.calloc(1 as unknown as bigint, size as unknown as bigint);
    if (p === null) return null;
    return {
      address: BigInt(Deno.UnsafePointer.value(p)),
      size,
      buffer: Deno.UnsafePointerView.getArrayBuffer(p, size),
      handle: p,
    };
  }

  free(memory: NativeMemory): void {
    this.#c.free(memory.handle as Deno.PointerValue);
  }

  errno(): number {
    return this.#errno[0];
  }
}
