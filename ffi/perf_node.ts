/**
 * The {@linkcode PerfBinding} for Node (>= 26), through `node:ffi`. Loaded
 * only by a dynamic import in `ffi/load_perf.ts`, and only on Node.
 *
 * @module
 */

import { FfiUnavailableError } from "./errors.ts";
import type { NativeMemory } from "./libc.ts";
import {
  type NodeFfi,
  nodeFfi,
  nodeFfiPermissionError,
  type NodeFfiSignature,
  nodeProcess,
} from "./node_ffi.ts";
import {
  fillCpuSet,
  type MappedMemory,
  type PerfBinding,
  perfEventOpenSyscall,
} from "./perf.ts";

const SYMBOLS: Readonly<Record<string, NodeFfiSignature>> = {
  syscall: {
    arguments: ["i64", "pointer", "i64", "i64", "i64", "u64"],
    return: "i64",
  },
  mmap: {
    arguments: ["pointer", "u64", "i32", "i32", "i32", "i64"],
    return: "pointer",
  },
  munmap: { arguments: ["pointer", "u64"], return: "i32" },
  ioctl: { arguments: ["i32", "u64", "u64"], return: "i32" },
  read: { arguments: ["i32", "pointer", "u64"], return: "i32" },
  close: { arguments: ["i32"], return: "i32" },
  poll: { arguments: ["pointer", "u64", "i32"], return: "i32" },
  sched_setscheduler: { arguments: ["i32", "i32", "pointer"], return: "i32" },
  setpriority: { arguments: ["i32", "u32", "i32"], return: "i32" },
  sched_setaffinity: { arguments: ["i32", "u64", "pointer"], return: "i32" },
  clock_gettime: { arguments: ["i32", "pointer"], return: "i32" },
  getpagesize: { arguments: [], return: "i32" },
  calloc: { arguments: ["u64", "u64"], return: "pointer" },
  free: { arguments: ["pointer"], return: "void" },
  __errno_location: { arguments: [], return: "pointer" },
};

interface Symbols {
  syscall(
    nr: bigint,
    attr: bigint,
    pid: bigint,
    cpu: bigint,
    group: bigint,
    flags: bigint,
  ): bigint;
  mmap(
    addr: bigint,
    length: bigint,
    prot: number,
    flags: number,
    fd: number,
    offset: bigint,
  ): bigint;
  munmap(addr: bigint, length: bigint): number;
  ioctl(fd: number, request: bigint, arg: bigint): number;
  read(fd: number, buffer: bigint, length: number): number;
  close(fd: number): number;
  poll(fds: bigint, count: bigint, timeoutMs: number): number;
  sched_setscheduler(pid: number, policy: number, param: bigint): number;
  setpriority(which: number, who: number, nice: number): number;
  sched_setaffinity(pid: number, size: bigint, mask: bigint): number;
  clock_gettime(clockid: number, ts: bigint): number;
  getpagesize(): number;
  calloc(count: number, size: number): bigint;
  free(pointer: bigint): void;
  __errno_location(): bigint;
}

const cache = new Map<string, PerfBinding>();

/**
 * Opens libc with `node:ffi` (once per process) for the perf reader.
 *
 * @param names Library names to try, in order.
 * @returns The binding.
 * @throws {FfiUnavailableError} Without `node:ffi`, off Linux, on an
 * unknown CPU architecture, or when no name loads.
 */
export function openNodePerf(names: readonly string[]): PerfBinding {
  const proc = nodeProcess() as
    | { platform?: string; arch?: string }
    | undefined;
  const os = proc?.platform ?? "unknown";
  if (os !== "linux") {
    throw new FfiUnavailableError(
      `Cannot read user_events: the OS is ${os}; user_events exists only on Linux`,
    );
  }
  const arch = proc?.arch ?? "unknown";
  const nr = perfEventOpenSyscall(arch);
  if (nr < 0) {
    throw new FfiUnavailableError(
      `Cannot read user_events: no perf_event_open syscall number for ${arch}; run on x86-64 or arm64`,
    );
  }
  const ffi = nodeFfi("libc");
  let lastError: unknown;
  for (const name of names) {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    let symbols: Symbols;
    try {
      symbols = ffi.dlopen(name, SYMBOLS).functions as unknown as Symbols;
    } catch (error) {
      const denied = nodeFfiPermissionError("libc", error);
      if (denied !== undefined) throw denied;
      lastError = error;
      continue;
    }
    const binding = new NodePerf(ffi, symbols, nr);
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

class NodePerf implements PerfBinding {
  readonly #ffi: NodeFfi;
  readonly #c: Symbols;
  readonly #nr: bigint;
  readonly #errno: Int32Array;
  readonly #timespec: BigInt64Array;
  readonly #timespecPointer: bigint;

  constructor(ffi: NodeFfi, symbols: Symbols, nr: number) {
    this.#ffi = ffi;
    this.#c = symbols;
    this.#nr = BigInt(nr);
    const p = symbols.__errno_location();
    this.#errno = p === 0n
      ? new Int32Array(1)
      : new Int32Array(ffi.toArrayBuffer(p, 4, false));
    const ts = symbols.calloc(1, 16);
    this.#timespecPointer = ts;
    this.#timespec = ts === 0n
      ? new BigInt64Array(2)
      : new BigInt64Array(ffi.toArrayBuffer(ts, 16, false));
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
        attr.handle as bigint,
        BigInt(pid),
        BigInt(cpu),
        BigInt(groupFd),
        BigInt(flags),
      ),
    );
    return r < 0 ? -this.#errno[0] : r;
  }

  mmap(fd: number, length: number): MappedMemory | number {
    const p = this.#c.mmap(0n, BigInt(length), 3, 1, fd, 0n);
    if (p === MAP_FAILED || p === 0n) return -this.#errno[0];
    return {
      address: p,
      size: length,
      buffer: this.#ffi.toArrayBuffer(p, length, false),
      handle: p,
    };
  }

  munmap(memory: MappedMemory): number {
    const r = this.#c.munmap(memory.handle as bigint, BigInt(memory.size));
    return r < 0 ? -this.#errno[0] : 0;
  }

  ioctl(fd: number, request: number, arg: bigint): number {
    const r = this.#c.ioctl(fd, BigInt(request), arg);
    return r < 0 ? -this.#errno[0] : r;
  }

  read(fd: number, memory: NativeMemory, length: number): number {
    const r = this.#c.read(fd, memory.handle as bigint, length);
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
    const r = this.#c.poll(fds.handle as bigint, BigInt(count), timeoutMs);
    return r < 0 ? -this.#errno[0] : r;
  }

  setThreadScheduler(policy: number, priority: number): number {
    const param = this.#c.calloc(1, 8);
    if (param === 0n) return -12;
    new Int32Array(this.#ffi.toArrayBuffer(param, 4, false))[0] = priority;
    const r = this.#c.sched_setscheduler(0, policy, param);
    const errno = this.#errno[0];
    this.#c.free(param);
    return r < 0 ? -errno : 0;
  }

  setThreadAffinity(cpus: readonly number[]): number {
    const mask = this.#c.calloc(1, 128);
    if (mask === 0n) return -12;
    const bits = new Uint8Array(this.#ffi.toArrayBuffer(mask, 128, false));
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
    if (address === 0n) throw new RangeError("Cannot view memory at address 0");
    return this.#ffi.toArrayBuffer(address, length, false);
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
}
