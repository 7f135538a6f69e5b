/**
 * The {@linkcode PerfBinding} for Bun, through `bun:ffi`. Loaded only by a
 * dynamic import in `ffi/load_perf.ts`, so Deno never evaluates it.
 *
 * @module
 */

import { dlopen, FFIType, type Pointer, toArrayBuffer } from "bun:ffi";
import { FfiUnavailableError } from "./errors.ts";
import type { NativeMemory } from "./libc.ts";
import {
  fillCpuSet,
  type MappedMemory,
  type PerfBinding,
  perfEventOpenSyscall,
} from "./perf.ts";

const SYMBOLS = {
  syscall: {
    args: [
      FFIType.i64,
      FFIType.ptr,
      FFIType.i64,
      FFIType.i64,
      FFIType.i64,
      FFIType.u64,
    ],
    returns: FFIType.i64_fast,
  },
  mmap: {
    args: [
      FFIType.u64,
      FFIType.u64,
      FFIType.i32,
      FFIType.i32,
      FFIType.i32,
      FFIType.i64,
    ],
    returns: FFIType.u64,
  },
  munmap: { args: [FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  ioctl: {
    args: [FFIType.i32, FFIType.u64, FFIType.u64],
    returns: FFIType.i32,
  },
  read: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u64],
    returns: FFIType.i64_fast,
  },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  poll: {
    args: [FFIType.ptr, FFIType.u64, FFIType.i32],
    returns: FFIType.i32,
  },
  sched_setscheduler: {
    args: [FFIType.i32, FFIType.i32, FFIType.ptr],
    returns: FFIType.i32,
  },
  setpriority: {
    args: [FFIType.i32, FFIType.u32, FFIType.i32],
    returns: FFIType.i32,
  },
  sched_setaffinity: {
    args: [FFIType.i32, FFIType.u64, FFIType.ptr],
    returns: FFIType.i32,
  },
  clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  getpagesize: { args: [], returns: FFIType.i32 },
  calloc: { args: [FFIType.u64, FFIType.u64], returns: FFIType.ptr },
  free: { args: [FFIType.ptr], returns: FFIType.void },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

type Lib = ReturnType<typeof dlopen<typeof SYMBOLS>>;

const cache = new Map<string, PerfBinding>();

/**
 * Opens libc with `bun:ffi` (once per process) for the perf reader.
 *
 * @param names Library names to try, in order.
 * @returns The binding.
 * @throws {FfiUnavailableError} Not Linux, unknown CPU architecture, or no libc.
 */
export function openBunPerf(names: readonly string[]): PerfBinding {
  if (process.platform !== "linux") {
    throw new FfiUnavailableError(
      `Cannot read user_events: the OS is ${process.platform}; user_events exists only on Linux`,
    );
  }
  const nr = perfEventOpenSyscall(process.arch);
  if (nr < 0) {
    throw new FfiUnavailableError(
      `Cannot read user_events: no perf_event_open syscall number for ${process.arch}; run on x86-64 or arm64`,
    );
  }
  let lastError: unknown;
  for (const name of names) {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    let lib: Lib;
    try {
      lib = dlopen(name, SYMBOLS);
    } catch (error) {
      lastError = error;
      continue;
    }
    const binding = new BunPerf(lib, nr);
    cache.set(name, binding);
    return binding;
  }
  throw new FfiUnavailableError(
    `Cannot load libc: none of ${
      names.join(", ")
    } could be opened; install glibc or musl`,
    { cause: lastError },
  );
}

const MAP_FAILED = 0xffffffffffffffffn;

class BunPerf implements PerfBinding {
  readonly #c: Lib["symbols"];
  readonly #nr: number;
  readonly #errno: Int32Array;
  readonly #timespec: BigInt64Array;
  readonly #timespecPointer: Pointer | null;

  constructor(lib: Lib, nr: number) {
    this.#c = lib.symbols;
    this.#nr = nr;
    const p = this.#c.__errno_location();
    this.#errno = p === null
      ? new Int32Array(1)
      : new Int32Array(toArrayBuffer(p, 0, 4));
    const ts = this.#c.calloc(1, 16);
    this.#timespecPointer = ts;
    this.#timespec = ts === null
      ? new BigInt64Array(2)
      : new BigInt64Array(toArrayBuffer(ts, 0, 16));
  }

  perfEventOpen(
    attr: NativeMemory,
    pid: number,
    cpu: number,
    groupFd: number,
    flags: number,
  ): number {
    const r = Number(
      this.#c.syscall(
        this.#nr,
        attr.handle as Pointer,
        pid,
        cpu,
        groupFd,
        flags,
      ),
    );
    return r < 0 ? -this.#errno[0] : r;
  }

  mmap(fd: number, length: number): MappedMemory | number {
    const raw = this.#c.mmap(0, length, 3, 1, fd, 0);
    const address = BigInt(raw);
    if (address === MAP_FAILED || address === 0n) return -this.#errno[0];
    const p = Number(address) as Pointer;
    return {
      address,
      size: length,
      buffer: toArrayBuffer(p, 0, length),
      handle: p,
    };
  }

  munmap(memory: MappedMemory): number {
    const r = this.#c.munmap(memory.handle as Pointer, memory.size);
    return r < 0 ? -this.#errno[0] : 0;
  }

  ioctl(fd: number, request: number, arg: bigint): number {
    const r = this.#c.ioctl(fd, request, arg);
    return r < 0 ? -this.#errno[0] : r;
  }

  read(fd: number, memory: NativeMemory, length: number): number {
    const r = Number(this.#c.read(fd, memory.handle as Pointer, length));
    return r < 0 ? -this.#errno[0] : r;
  }

  close(fd: number): number {
    return this.#c.close(fd) < 0 ? -this.#errno[0] : 0;
  }

  clockNanos(clockid: number): bigint {
    if (this.#c.clock_gettime(clockid, this.#timespecPointer) < 0) {
      return -BigInt(this.#errno[0]);
    }
    return this.#timespec[0] * 1_000_000_000n + this.#timespec[1];
  }

  pageSize(): number {
    return this.#c.getpagesize();
  }

  poll(fds: NativeMemory, count: number, timeoutMs: number): number {
    const r = this.#c.poll(fds.handle as Pointer, count, timeoutMs);
    return r < 0 ? -this.#errno[0] : r;
  }

  setThreadScheduler(policy: number, priority: number): number {
    const param = this.#c.calloc(1, 8);
    if (param === null) return -12;
    new Int32Array(toArrayBuffer(param, 0, 4))[0] = priority;
    const r = this.#c.sched_setscheduler(0, policy, param);
    const errno = this.#errno[0];
    this.#c.free(param);
    return r < 0 ? -errno : 0;
  }

  setThreadAffinity(cpus: readonly number[]): number {
    const mask = this.#c.calloc(1, 128);
    if (mask === null) return -12;
    const bits = new Uint8Array(toArrayBuffer(mask, 0, 128));
    fillCpuSet(bits, cpus);
    const r = this.#c.sched_setaffinity(0, 128, mask);
    const errno = this.#errno[0];
    this.#c.free(mask);
    return r < 0 ? -errno : 0;
  }

  setThreadNice(nice: number): number {
    return this.#c.setpriority(0, 0, nice) < 0 ? -this.#errno[0] : 0;
  }

  viewMemory(address: bigint, length: number): ArrayBuffer {
    if (address === 0n) throw new RangeError("Cannot view memory at address 0");
    return toArrayBuffer(Number(address) as Pointer, 0, length);
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
}
