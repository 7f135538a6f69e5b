/**
 * The runtime-neutral interface to the libc calls a `user_events` listener
 * needs to read tracepoints through `perf_event_open(2)` and its ring
 * buffers (`shared/docs/perf-ring.md`). `ffi/perf_deno.ts` implements it
 * with `Deno.dlopen`, `ffi/perf_bun.ts` with `bun:ffi`; `ffi/load_perf.ts`
 * picks one.
 *
 * Calls return plain numbers: a result `>= 0`, or `-errno` on failure.
 *
 * @module
 */

import type { NativeMemory } from "./libc.ts";

/**
 * A shared mapping of a perf ring (`mmap(MAP_SHARED)`): the control page
 * followed by the data pages.
 */
export interface MappedMemory {
  /** The address of the first byte. */
  readonly address: bigint;
  /** The length in bytes. */
  readonly size: number;
  /** An `ArrayBuffer` over the mapped bytes (no copy); never touch it after `munmap`. */
  readonly buffer: ArrayBuffer;
  /** The backend's own pointer handle. */
  readonly handle: unknown;
}

/**
 * The libc calls of the perf reader. Every call returns `-errno` on failure
 * instead of throwing.
 *
 * @example A fake binding (tests use one to simulate permission failures)
 * ```ts
 * import type { PerfBinding } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const denied = { perfEventOpen: () => -13 } as unknown as PerfBinding; // EACCES
 * assert.equal(denied.perfEventOpen({} as never, -1, 0, -1, 8), -13);
 * ```
 */
export interface PerfBinding {
  /**
   * `syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags)`.
   *
   * @param attr Native memory holding `struct perf_event_attr`.
   * @param pid -1 for every process.
   * @param cpu The CPU.
   * @param groupFd -1.
   * @param flags `PERF_FLAG_*`.
   * @returns The fd, or `-errno`.
   */
  perfEventOpen(
    attr: NativeMemory,
    pid: number,
    cpu: number,
    groupFd: number,
    flags: number,
  ): number;
  /**
   * `mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)`.
   *
   * @param fd The perf fd.
   * @param length Bytes: page size × (1 + 2^n).
   * @returns The mapping, or `-errno`.
   */
  mmap(fd: number, length: number): MappedMemory | number;
  /**
   * `munmap(address, size)`. Views over the mapping must not be used afterwards.
   *
   * @param memory A mapping from {@linkcode PerfBinding.mmap}.
   * @returns 0, or `-errno`.
   */
  munmap(memory: MappedMemory): number;
  /**
   * `ioctl(fd, request, arg)` with an integer argument (0, an fd, or an address).
   *
   * @param fd The fd.
   * @param request The request.
   * @param arg The argument.
   * @returns The result, or `-errno`.
   */
  ioctl(fd: number, request: number, arg: bigint): number;
  /**
   * `read(fd, memory, length)`.
   *
   * @param fd The fd.
   * @param memory Where to read to.
   * @param length Bytes, at most `memory.size`.
   * @returns Bytes read, or `-errno`.
   */
  read(fd: number, memory: NativeMemory, length: number): number;
  /**
   * `close(fd)`.
   *
   * @param fd The fd.
   * @returns 0, or `-errno`.
   */
  close(fd: number): number;
  /**
   * `clock_gettime(clockid)` in nanoseconds.
   *
   * @param clockid E.g. 0 `CLOCK_REALTIME`, 1 `CLOCK_MONOTONIC`.
   * @returns Nanoseconds, or `-errno` as a negative bigint.
   */
  clockNanos(clockid: number): bigint;
  /**
   * `getpagesize()`.
   *
   * @returns The page size in bytes.
   */
  pageSize(): number;
  /**
   * `poll(fds, count, timeout)`: blocks the calling thread, so the listener
   * calls it only from its copy worker. Absent where the binding has none.
   *
   * @param fds `count` 8-byte `struct pollfd`s.
   * @param count How many.
   * @param timeoutMs The timeout in ms.
   * @returns Ready fds, 0 on timeout, or `-errno`.
   */
  poll?(fds: NativeMemory, count: number, timeoutMs: number): number;
  /**
   * An `ArrayBuffer` over memory this process already has mapped (the copy
   * worker reaches the rings the main thread mapped this way). Absent where
   * the binding has none.
   *
   * @param address The first byte.
   * @param length Bytes.
   * @returns The view (no copy).
   */
  viewMemory?(address: bigint, length: number): ArrayBuffer;
  /**
   * `sched_setscheduler(0, policy, { priority })`: on Linux it changes the
   * calling thread only (the copy worker asks for `SCHED_FIFO` so that a
   * busy CPU cannot keep it from freeing a ring). Absent where the binding
   * has none.
   *
   * @param policy `SCHED_OTHER` 0, `SCHED_FIFO` 1, `SCHED_RR` 2.
   * @param priority 0 for `SCHED_OTHER`, 1-99 for the real-time policies.
   * @returns 0, or `-errno` (`EPERM` without `CAP_SYS_NICE`).
   */
  setThreadScheduler?(policy: number, priority: number): number;
  /**
   * `setpriority(PRIO_PROCESS, 0, nice)`: on Linux it changes the calling
   * thread only. Absent where the binding has none.
   *
   * @param nice -20 (first) to 19 (last).
   * @returns 0, or `-errno` (`EACCES` lowering it without `CAP_SYS_NICE`).
   */
  setThreadNice?(nice: number): number;
  /**
   * `sched_setaffinity(0, …)`: on Linux it pins the calling thread only, to
   * the given CPUs (numbers below 1024). Absent where the binding has none.
   *
   * @param cpus The CPUs the thread may run on.
   * @returns 0, or `-errno` (`EINVAL` when none of them is online).
   */
  setThreadAffinity?(cpus: readonly number[]): number;
  /**
   * `calloc(1, size)`.
   *
   * @param size Bytes, > 0.
   * @returns The memory, or `null`.
   */
  alloc(size: number): NativeMemory | null;
  /**
   * `free(memory)`.
   *
   * @param memory Memory from {@linkcode PerfBinding.alloc}.
   */
  free(memory: NativeMemory): void;
}

/**
 * `__NR_perf_event_open` by architecture (x86-64 298, arm64 241).
 *
 * @param arch `"x86_64"`/`"x64"` or `"aarch64"`/`"arm64"`.
 * @returns The syscall number, or -1 when unknown.
 */
export function perfEventOpenSyscall(arch: string): number {
  if (arch === "x86_64" || arch === "x64") return 298;
  if (arch === "aarch64" || arch === "arm64") return 241;
  return -1;
}

/** Bytes in the `cpu_set_t` the bindings pass to `sched_setaffinity` (1024 CPUs). */
export const CPU_SET_BYTES = 128;

/**
 * Sets the bit of each listed CPU in a zeroed `cpu_set_t` (bit `cpu & 7` of
 * byte `cpu >> 3`); entries that are not integers in [0, 1024) are skipped.
 *
 * @param bits The set's {@linkcode CPU_SET_BYTES} bytes.
 * @param cpus CPU numbers.
 */
export function fillCpuSet(bits: Uint8Array, cpus: readonly number[]): void {
  for (const cpu of cpus) {
    if (Number.isInteger(cpu) && cpu >= 0 && cpu < CPU_SET_BYTES * 8) {
      bits[cpu >> 3] |= 1 << (cpu & 7);
    }
  }
}
