/**
 * The listener's copy worker: waits in `poll(2)` on the perf fds and copies
 * every ring the main thread mapped into a `SharedArrayBuffer` queue,
 * freeing the kernel's ring at once, so that a busy or slow main thread
 * (decoding, the caller's own work, an emulated CPU) does not make the
 * kernel drop samples. It does nothing else: the main thread decodes.
 *
 * Protocol (`state`, an Int32Array over a SharedArrayBuffer):
 * `[0]` 0 not started, 1 running, 2 stop asked, 3 stopped (the worker
 * touches no ring after it stores 3); `[1]` corrupt rings seen;
 * `[2]` copy passes done.
 *
 * @module
 */

import { openPerf } from "../../ffi/load_perf.ts";
import { copyRing, RingView } from "./_ring.ts";

/** What the main thread sends. */
export interface CopyWorkerStart {
  /** The state words. */
  readonly state: SharedArrayBuffer;
  /** The page size. */
  readonly pageSize: number;
  /** How long one poll waits, in ms. */
  readonly pollMs: number;
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

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

scope.onmessage = async (message: { data: CopyWorkerStart }) => {
  const start = message.data;
  const state = new Int32Array(start.state);
  try {
    const perf = await openPerf();
    // Claim the rings, unless close() came first.
    if (Atomics.compareExchange(state, 0, 0, 1) !== 0) return;
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
    scope.postMessage("running");
    while (Atomics.load(state, 0) === 1) {
      perf.poll!(fds, count, start.pollMs);
      // Edge-triggered POLLIN: copy every ring each time, not only the ready ones.
      for (let i = 0; i < count; i++) {
        copyRing(sources[i], queues[i], onCorrupt);
      }
      Atomics.add(state, 2, 1);
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
};
