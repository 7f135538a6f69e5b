/**
 * The runtime-neutral interface to the few libc calls the Linux
 * `user_events` processor needs. `ffi/libc_deno.ts` implements it with
 * `Deno.dlopen`, `ffi/libc_bun.ts` with `bun:ffi`, `ffi/libc_node.ts` with
 * `node:ffi`; tests pass a fake.
 *
 * Calls return plain numbers: a result `>= 0`, or `-errno` on failure, so
 * callers never need a second call to learn why something failed.
 *
 * @module
 */

/**
 * A block of native memory (from libc `calloc`) that never moves and is not
 * garbage collected: its address may be handed to the kernel (enable words,
 * `struct user_reg`) or to a native call (the event buffer).
 *
 * @example
 * ```ts
 * import type { NativeMemory } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const fake: NativeMemory = { address: 0x1000n, size: 8, buffer: new ArrayBuffer(8), handle: null };
 * assert.equal(new Uint8Array(fake.buffer).length, fake.size);
 * ```
 */
export interface NativeMemory {
  /** The address of the first byte, for embedding into native structs. */
  readonly address: bigint;
  /** The size in bytes. */
  readonly size: number;
  /** An `ArrayBuffer` over the native bytes (no copy): views over it read and write the memory itself. */
  readonly buffer: ArrayBuffer;
  /** The backend's own handle of the memory (a pointer object or number). */
  readonly handle: unknown;
}

/**
 * The libc functions used to register, enable-check and write `user_events`.
 * Every call returns `-errno` on failure instead of throwing.
 *
 * @example A fake binding for tests
 * ```ts
 * import type { LibcBinding } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * let next = 0x1000n;
 * const fake: LibcBinding = {
 *   open: () => -2, // ENOENT
 *   close: () => 0,
 *   ioctl: () => 0,
 *   write: (_fd, _memory, length) => length,
 *   read: () => 0,
 *   alloc: (size) => ({ address: (next += 0x10000n), size, buffer: new ArrayBuffer(size), handle: null }),
 *   free: () => {},
 *   errno: () => 0,
 * };
 * assert.equal(fake.open("/sys/kernel/tracing/user_events_data", 1), -2);
 * ```
 */
export interface LibcBinding {
  /**
   * `open(path, flags)`.
   *
   * @param path The path.
   * @param flags `O_*` flags, e.g. `O_WRONLY | O_CLOEXEC`.
   * @returns The file descriptor, or `-errno`.
   */
  open(path: string, flags: number): number;
  /**
   * `close(fd)`.
   *
   * @param fd The file descriptor.
   * @returns 0, or `-errno`.
   */
  close(fd: number): number;
  /**
   * `ioctl(fd, request, arg)` with a pointer argument.
   *
   * @param fd The file descriptor.
   * @param request The request number (may exceed 2^31).
   * @param arg Native memory holding the argument struct; the kernel may write to it.
   * @returns The ioctl result (>= 0), or `-errno`.
   */
  ioctl(fd: number, request: number, arg: NativeMemory): number;
  /**
   * `write(fd, memory, length)` from the start of `memory`.
   *
   * @param fd The file descriptor.
   * @param memory The bytes to write.
   * @param length How many bytes, at most `memory.size`.
   * @returns Bytes written, or `-errno`.
   */
  write(fd: number, memory: NativeMemory, length: number): number;
  /**
   * `read(fd, memory, length)` into the start of `memory` (tests and tools
   * read tracefs with it; the processors never read).
   *
   * @param fd The file descriptor.
   * @param memory Where to read to.
   * @param length How many bytes at most, at most `memory.size`.
   * @returns Bytes read, or `-errno`.
   */
  read(fd: number, memory: NativeMemory, length: number): number;
  /**
   * `calloc(1, size)`: zeroed native memory, aligned for any type.
   *
   * @param size Bytes, > 0.
   * @returns The memory, or `null` when out of memory.
   */
  alloc(size: number): NativeMemory | null;
  /**
   * `free(memory)`. The memory and views over it must not be used afterwards.
   *
   * @param memory Memory from {@linkcode LibcBinding.alloc}.
   */
  free(memory: NativeMemory): void;
  /**
   * The calling thread's current `errno`.
   *
   * @returns The errno value.
   */
  errno(): number;
}

/** `O_WRONLY`. */
export const O_WRONLY = 1;
/** `O_RDONLY`. */
export const O_RDONLY = 0;
/** `O_NONBLOCK` on x86-64 and arm64 Linux. */
export const O_NONBLOCK = 0x800;
/** `O_CLOEXEC` on x86-64 and arm64 Linux. */
export const O_CLOEXEC = 0x80000;
