/**
 * The listener's copy worker: waits in `poll(2)` on the perf fds and copies
 * every ring the main thread mapped into a `SharedArrayBuffer` queue,
 * freeing the kernel's ring at once, so that a busy or slow main thread
 * (decoding, the caller's own work, an emulated CPU) does not make the
 * kernel drop samples. It does nothing else: the main thread decodes.
 *
 * Protocol (`state`, an Int32Array over a SharedArrayBuffer):
 * `[0]` 0 not started, 4 ready (set up, pinned and warmed up, but touching
 * no ring: it posts `"ready"` and waits), 1 running (stored by the main
 * thread, which copies the rings itself until then: exactly one thread
 * reads a ring at any time), 2 stop asked, 3 stopped (the worker touches
 * no ring after it stores 3); `[1]` corrupt rings seen;
 * `[2]` copy passes done; `[3]` the most bytes found waiting in one ring
 * (how close the kernel came to dropping); `[4]` copies cut short by a full
 * queue; `[5]` the longest time between two copy passes, in µs; `[6]` polls
 * that returned ready fds. Bytes 32-39 (a BigInt64): `CLOCK_MONOTONIC` when
 * the last whole copy pass began, so every record the kernel published
 * before it is in the queues (the reader's hold-back window starts there).
 * Callers may pass a buffer of only 16 bytes: words past its end are not
 * written.
 *
 * Importing this module does nothing: the worker is started with
 * `startModuleWorker(COPY_WORKER_URL, "runCopyWorker")` (ffi/worker.ts),
 * which calls {@linkcode runCopyWorker} in the new thread. The listener
 * imports {@linkcode COPY_WORKER_URL} statically, which keeps this module in
 * the package's module graph: JSR's npm layer publishes only the modules
 * imported from an export, transpiled to `.js`, and renames them without
 * rewriting a `new URL("./_copy_worker.ts", import.meta.url)`; this
 * module's own `import.meta.url` names the file that is really there.
 *
 * @module
 */

import { openPerf } from "../../ffi/load_perf.ts";
import { TRACE_FIELDS } from "./_copy_trace.ts";
import { copyRing, queueView, RingView } from "./_ring.ts";

/** What the main thread sends. */
export interface CopyWorkerStart {
  /** The state words. */
  readonly state: SharedArrayBuffer;
  /** The page size. */
  readonly pageSize: number;
  /** How long one poll waits, in ms. */
  readonly pollMs: number;
  /** A pass log for benchmarks (`_copy_trace.ts`), if any. */
  readonly trace?: SharedArrayBuffer | null;
  /**
   * How to raise the worker thread's priority: `"fifo"` tries `SCHED_FIFO`
   * then nice -20, `"nice"` only nice -20, `"none"` neither.
   */
  readonly priority?: "fifo" | "nice" | "none";
  /** The CPUs whose rings it copies: it pins itself to them. */
  readonly cpus?: readonly number[];
  /** Bytes of each queue to touch before copying (default: 4 rings). */
  readonly prefaultBytes?: number | null;
  /**
   * Tests only (`setCopyOverrides`' `startDelayMs`): wait this long before reporting ready
   * (`Infinity`: never, until asked to stop).
   */
  readonly startDelayMs?: number | null;
  /** One entry per ring. */
  readonly rings: readonly {
    readonly fd: number;
    /** The mapping's address (decimal). */
    readonly address: string;
    readonly length: number;
    readonly queue: SharedArrayBuffer;
  }[];
}

const POLLIN = 1;

/**
 * This module's URL, whatever its file is called where it was installed
 * (`_copy_worker.ts` from source, `_copy_worker.js` from JSR's npm layer).
 */
export const COPY_WORKER_URL: string = import.meta.url;

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

/**
 * Makes this thread a copy worker: it waits for one {@linkcode CopyWorkerStart}
 * message. Called in the worker thread only (by ffi/worker.ts's bootstrap).
 */
export function runCopyWorker(): void {
  scope.onmessage = copyWorkerMain;
}

async function copyWorkerMain(
  message: { data: CopyWorkerStart },
): Promise<void> {
  const start = message.data;
  const state = new Int32Array(start.state);
  try {
    const perf = await openPerf();
    const sources = start.rings.map((r) =>
      new RingView(
        perf.viewMemory!(BigInt(r.address), r.length),
        start.pageSize,
      )
    );
    const queues = start.rings.map((r) =>
      new RingView(r.queue as unknown as ArrayBuffer, start.pageSize)
    );
    const count = sources.length;
    const fds = perf.alloc(8 * count)!;
    const pollView = new DataView(fds.buffer, 0, 8 * count);
    for (let i = 0; i < count; i++) {
      pollView.setInt32(i * 8, start.rings[i].fd, true);
      pollView.setInt16(i * 8 + 4, POLLIN, true);
    }
    const onCorrupt = () => Atomics.add(state, 1, 1);
    warmUp(
      start.pageSize,
      sources.length === 0 ? 0 : sources[0].size,
      queues,
      start.prefaultBytes ?? null,
    );
    // Run where the writers fill these rings (see startCopier).
    if (start.cpus !== undefined && start.cpus.length > 0) {
      perf.setThreadAffinity?.(start.cpus);
    }
    const raised = raisePriority(perf, start.priority ?? "fifo");
    if (state.length >= 8) state[7] = raised;
    const diagnostics = state.length >= 7;
    const passTimes = start.state.byteLength >= 40
      ? new BigInt64Array(start.state, 32, 1)
      : null;
    let highWater = 0;
    let maxGap = 0;
    let last = performance.now();
    const trace = start.trace == null ? null : new Float64Array(start.trace);
    const traceCapacity = trace === null
      ? 0
      : Math.floor((trace.length - 1) / TRACE_FIELDS);
    let idle = false;
    if (start.startDelayMs != null) {
      const until = performance.now() + start.startDelayMs;
      while (Atomics.load(state, 0) === 0 && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    // Ready, unless close() came first; the main thread copies the rings
    // until it hands them over (4 -> 1), right after a copy of its own.
    if (Atomics.compareExchange(state, 0, 0, 4) !== 0) return;
    scope.postMessage("ready");
    while (Atomics.load(state, 0) === 4) Atomics.wait(state, 0, 4, 100);
    last = performance.now();
    while (Atomics.load(state, 0) === 1) {
      const pollCalled = trace === null ? 0 : Number(perf.clockNanos(1)) / 1e6;
      const cpuAtPoll = trace === null ? 0 : Number(perf.clockNanos(3)) / 1e6;
      // After a pass that was woken but found nothing it could copy (an fd
      // reporting POLLERR or POLLHUP, a full queue), sleep instead of
      // polling the fds again at once: at SCHED_FIFO a poll that keeps
      // returning would take this CPU from every other thread.
      const ready: number = idle
        ? perf.poll!(fds, 0, Math.min(start.pollMs, 5))
        : perf.poll!(fds, count, start.pollMs);
      const passStart = passTimes === null ? -1n : perf.clockNanos(1);
      let most = 0;
      let copiedAny = false;
      // Edge-triggered POLLIN: copy every ring each time, not only the ready ones.
      for (let i = 0; i < count; i++) {
        const control = sources[i].control;
        const waiting = Number(Atomics.load(control, 0) - control[1]);
        const copied = copyRing(sources[i], queues[i], onCorrupt);
        if (copied > 0) copiedAny = true;
        if (waiting > most) most = waiting;
        if (diagnostics) {
          if (waiting > highWater) highWater = state[3] = waiting;
          if (copied < waiting) state[4]++;
        }
      }
      idle = !idle && ready !== 0 && !copiedAny;
      if (passStart > 0n) Atomics.store(passTimes!, 0, passStart);
      if (trace !== null) {
        const at = 1 + (trace[0] % traceCapacity) * TRACE_FIELDS;
        trace[at] = pollCalled;
        trace[at + 1] = Number(passStart) / 1e6;
        trace[at + 2] = Number(perf.clockNanos(1)) / 1e6;
        trace[at + 3] = most;
        trace[at + 4] = ready;
        trace[at + 5] = cpuAtPoll;
        trace[at + 6] = Number(perf.clockNanos(3)) / 1e6;
        trace[0]++;
      }
      Atomics.add(state, 2, 1);
      if (diagnostics) {
        const now = performance.now();
        const gap = Math.round((now - last) * 1000);
        if (gap > maxGap) maxGap = state[5] = gap;
        last = now;
        if (ready > 0) state[6]++;
      }
    }
    perf.free(fds);
  } catch (error) {
    scope.postMessage(
      `error ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    Atomics.store(state, 0, 3);
    Atomics.notify(state, 0);
  }
}

/**
 * Raises this thread's scheduling priority, as far as the process may: a
 * copy that waits behind other threads on a busy CPU (the main thread
 * decoding, the writers themselves) lets the kernel drop samples, and the
 * worker sleeps in poll(2) nearly all the time, so running it first costs
 * the others little. `SCHED_FIFO` priority 1 (what `perf record -r` does)
 * needs `CAP_SYS_NICE`, as does a negative nice; without it the thread
 * keeps its priority.
 *
 * @returns 1 `SCHED_FIFO`, 2 nice -20, 0 unchanged.
 */
function raisePriority(
  perf: Awaited<ReturnType<typeof openPerf>>,
  mode: "fifo" | "nice" | "none",
): number {
  if (mode === "fifo" && perf.setThreadScheduler?.(1, 1) === 0) return 1;
  if (mode !== "none" && perf.setThreadNice?.(-20) === 0) return 2;
  return 0;
}

/**
 * Runs the copy path on a synthetic ring before the real rings can hold
 * anything, and touches the first pages of each queue: the first real copy
 * otherwise pays for the JIT's first tiers and the queue's first page
 * faults, tens of ms on an emulated CPU, while a fast writer fills a ring.
 */
function warmUp(
  pageSize: number,
  ringSize: number,
  queues: RingView[],
  prefaultBytes: number | null,
): void {
  if (ringSize === 0) return;
  const src = queueView(new ArrayBuffer(pageSize + ringSize), pageSize);
  const dst = queueView(new ArrayBuffer(pageSize + ringSize * 2), pageSize);
  const record = 120;
  for (let at = 0; at + record <= ringSize; at += record) {
    src.view.setUint32(at, 9, true);
    src.view.setUint16(at + 6, record, true);
  }
  const used = Math.floor((ringSize - 8) / record) * record;
  for (let i = 0; i < 16; i++) {
    // Alternate a fitting copy and one cut short (the scan path).
    src.control[1] = 0n;
    src.control[0] = BigInt(used);
    dst.control[1] = 0n;
    dst.control[0] = BigInt(i % 2 === 0 ? 0 : ringSize + (ringSize >> 1));
    copyRing(src, dst, () => {});
  }
  for (const queue of queues) {
    const data = queue.data;
    const end = Math.min(data.length, prefaultBytes ?? ringSize * 4);
    for (let at = 0; at < end; at += pageSize) data[at] = 0;
  }
}
