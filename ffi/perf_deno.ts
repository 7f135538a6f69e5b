/**
 * The {@linkcode PerfBinding} for Deno, through `Deno.dlopen`. Loaded only
 * by `ffi/load_perf.ts`, and only on Deno.
 *
 * @module
 */

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
    parameters: ["i64", "pointer", "i64", "i64", "i64", "u64"],
    result: "i64",
  },
  mmap: {
    parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"],
    result: "pointer",
  },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "u64"], result: "i32" },
  read: { parameters: ["i32", "pointer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["pointer", "u64", "i32"], result: "i32" },
  sched_setscheduler: {
    parameters: ["i32", "i32", "pointer"],
    result: "i32",
  },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
  sched_setaffinity: {
    parameters: ["i32", "usize", "pointer"],
    result: "i32",
  },
  clock_gettime: { parameters: ["i32", "pointer"], result: "i32" },
  getpagesize: { parameters: [], result: "i32" },
  calloc: { parameters: ["usize", "usize"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;

const cache = new Map<string, PerfBinding>();

/**
 * Opens libc with `Deno.dlopen` (once per process) for the perf reader.
 *
 * @param names Library names to try, in order.
 * @returns The binding.
 * @throws {FfiUnavailableError} Not Linux, no `--allow-ffi`, unknown CPU
 * architecture, or no libc.
 */
export function openDenoPerf(names: readonly string[]): PerfBinding {
  if (Deno.build.os !== "linux") {
    throw new FfiUnavailableError(
      `Cannot read user_events: the OS is ${Deno.build.os}; user_events exists only on Linux`,
    );
  }
  const nr = perfEventOpenSyscall(Deno.build.arch);
  if (nr < 0) {
    throw new FfiUnavailableError(
      `Cannot read user_events: no perf_event_open syscall number for ${Deno.build.arch}; run on x86-64 or arm64`,
    );
  }
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    throw new FfiUnavailableError(
      "Cannot load libc: FFI permission not granted; run deno with --allow-ffi (or -A)",
    );
  }
  let lastError: unknown;
  for (const name of names) {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    let lib: Lib;
    try {
      lib = Deno.dlopen(name, SYMBOLS);
    } catch (error) {
      lastError = error;
      continue;
    }
    const binding = new DenoPerf(lib, nr);
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

class DenoPerf implements PerfBinding {
  readonly #c: Lib["symbols"];
  readonly #nr: bigint;
  readonly #errno: Int32Array;
  readonly #timespec: BigInt64Array;
  readonly #timespecPointer: Deno.PointerValue;

  constructor(lib: Lib, nr: number) {
    this.#c = lib.symbols;
    this.#nr = BigInt(nr);
    const p = this.#c.__errno_location();
    this.#errno = p === null
      ? new Int32Array(1)
      : new Int32Array(Deno.UnsafePointerView.getArrayBuffer(p, 4));
    const ts = this.#c.calloc(1n, 16n);
    this.#timespecPointer = ts;
    this.#timespec = ts === null
      ? new BigInt64Array(2)
      : new BigInt64Array(Deno.UnsafePointerView.getArrayBuffer(ts, 16));
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
        attr.handle as Deno.PointerValue,
        BigInt(pid),
        BigInt(cpu),
        BigInt(groupFd),
        BigInt(flags),
      ),
    );
    return r < 0 ? -this.#errno[0] : r;
  }

  mmap(fd: number, length: number): MappedMemory | number {
    const p = this.#c.mmap(null, BigInt(length), 3, 1, fd, 0n);
    if (p === null) return -this.#errno[0];
    const address = BigInt(Deno.UnsafePointer.value(p));
    if (address === MAP_FAILED) return -this.#errno[0];
    return {
      address,
      size: length,
      buffer: Deno.UnsafePointerView.getArrayBuffer(p, length),
      handle: p,
    };
  }

  munmap(memory: MappedMemory): number {
    const r = this.#c.munmap(
      memory.handle as Deno.PointerValue,
      BigInt(memory.size),
    );
    return r < 0 ? -this.#errno[0] : 0;
  }

  ioctl(fd: number, request: number, arg: bigint): number {
    const r = this.#c.ioctl(fd, BigInt(request), arg);
    return r < 0 ? -this.#errno[0] : r;
  }

  read(fd: number, memory: NativeMemory, length: number): number {
    const r = Number(
      this.#c.read(fd, memory.handle as Deno.PointerValue, BigInt(length)),
    );
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
    const r = this.#c.poll(
      fds.handle as Deno.PointerValue,
      BigInt(count),
      timeoutMs,
    );
    return r < 0 ? -this.#errno[0] : r;
  }

  setThreadScheduler(policy: number, priority: number): number {
    const param = this.#c.calloc(1n, 8n);
    if (param === null) return -12;
    new Int32Array(Deno.UnsafePointerView.getArrayBuffer(param, 4))[0] =
      priority;
    const r = this.#c.sched_setscheduler(0, policy, param);
    const errno = this.#errno[0];
    this.#c.free(param);
    return r < 0 ? -errno : 0;
  }

  setThreadAffinity(cpus: readonly number[]): number {
    const mask = this.#c.calloc(1n, 128n);
    if (mask === null) return -12;
    const bits = new Uint8Array(
      Deno.UnsafePointerView.getArrayBuffer(mask, 128),
    );
    fillCpuSet(bits, cpus);
    const r = this.#c.sched_setaffinity(0, 128n, mask);
    const errno = this.#errno[0];
    this.#c.free(mask);
    return r < 0 ? -errno : 0;
  }

  setThreadNice(nice: number): number {
    return this.#c.setpriority(0, 0, nice) < 0 ? -this.#errno[0] : 0;
  }

  viewMemory(address: bigint, length: number): ArrayBuffer {
    const p = Deno.UnsafePointer.create(address);
    if (p === null) throw new RangeError("Cannot view memory at address 0");
    return Deno.UnsafePointerView.getArrayBuffer(p, length);
  }

  alloc(size: number): NativeMemory | null {
    const p = this.#c.calloc(1n, BigInt(size));
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
}
