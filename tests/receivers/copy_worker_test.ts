// The listener's copy worker on the host, with the runtime's real FFI: a
// ring laid out like perf's in calloc'd native memory (written here as the
// kernel would), copied by the worker thread into a SharedArrayBuffer queue
// that this thread reads while it keeps writing. poll(2) gets fd -1 (which
// it ignores), so the worker copies on its timeout, as it does on a quiet
// ring in the kernel. On Node the worker is a worker_threads one
// (ffi/worker.ts), started the way the listener starts it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openPerf } from "../../ffi/load_perf.ts";
import type { PerfBinding } from "../../ffi/perf.ts";
import {
  canStartModuleWorker,
  type ModuleWorker,
  startModuleWorker,
} from "../../ffi/worker.ts";
import {
  parseStaged,
  queueView,
  RingView,
  StagedRecords,
  stageRing,
} from "../../receivers/user_events/_ring.ts";
import { sample } from "./_fake_perf.ts";
import { COPY_WORKER_URL } from "../../receivers/user_events/_copy_worker.ts";

let perf: PerfBinding | undefined;
try {
  perf = await openPerf();
} catch {
  perf = undefined;
}
const SKIP = perf === undefined || typeof perf.poll !== "function" ||
    !canStartModuleWorker()
  ? "no FFI with poll() or no worker threads on this runtime"
  : false;

function push(ring: RingView, record: Uint8Array): boolean {
  const head = Number(ring.control[0]);
  if (
    head + record.length - Number(Atomics.load(ring.control, 1)) > ring.size - 8
  ) {
    return false;
  }
  for (let i = 0; i < record.length; i++) {
    ring.data[(head + i) & (ring.size - 1)] = record[i];
  }
  Atomics.store(ring.control, 0, BigInt(head + record.length));
  return true;
}

/** A native ring of 8 KiB after one control page, and a queue to copy it into. */
function allocRing(p: PerfBinding) {
  const page = p.pageSize();
  const memory = p.alloc(page + 8192)!;
  const control = new BigUint64Array(memory.buffer, 1024, 4);
  control[2] = BigInt(page);
  control[3] = 8192n;
  const queueBuffer = new SharedArrayBuffer(page + 65536);
  return { page, memory, queueBuffer };
}

/**
 * Starts the copy worker on one ring; resolves with its first reply, after
 * handing it the ring (state 4 ready -> 1 running) as the listener does.
 */
async function startCopyWorker(
  state: Int32Array,
  page: number,
  pollMs: number,
  extra: Record<string, unknown>,
  ring: {
    fd: number;
    address: string;
    length: number;
    queue: SharedArrayBuffer;
  },
): Promise<{ worker: ModuleWorker; reply: string }> {
  const worker = startModuleWorker(COPY_WORKER_URL, "runCopyWorker");
  const reply = await new Promise<string>((resolve) => {
    worker.onmessage = (m) => resolve(String(m.data));
    worker.postMessage({
      state: state.buffer,
      pageSize: page,
      pollMs,
      ...extra,
      rings: [ring],
    });
  });
  if (reply === "ready") {
    assert.equal(Atomics.load(state, 0), 4, "ready, not touching the ring");
    Atomics.compareExchange(state, 0, 4, 1);
    Atomics.notify(state, 0);
  }
  return { worker, reply };
}

/** Asks the worker to stop (state 1 -> 2) and waits until it says stopped (3). */
async function stopCopyWorker(state: Int32Array, deadline: number) {
  Atomics.compareExchange(state, 0, 1, 2);
  while (Atomics.load(state, 0) !== 3 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("copy worker (receivers/user_events/_copy_worker.ts)", () => {
  it(
    "copies a native ring into the queue from its own thread, in order, freeing the ring",
    { skip: SKIP, timeout: 60000 },
    async () => {
      const p = perf!;
      const { page, memory, queueBuffer } = allocRing(p);
      try {
        const ring = new RingView(memory.buffer, page);
        const queue = queueView(queueBuffer, page);
        const state = new Int32Array(new SharedArrayBuffer(16));
        const { worker, reply } = await startCopyWorker(state, page, 1, {}, {
          fd: -1,
          address: String(memory.address),
          length: memory.size,
          queue: queueBuffer,
        });
        assert.equal(reply, "ready");
        assert.equal(Atomics.load(state, 0), 1);
        // 2,000 samples of 120 bytes through an 8 KiB ring (68 fit at once):
        // only the worker's copying makes room.
        const staged = new StagedRecords(4096, 1 << 20);
        const times: bigint[] = [];
        const sink = {
          sample: (_b: Uint8Array, view: DataView, start: number) => {
            times.push(view.getBigUint64(start + 24, true));
          },
          lost: () => assert.fail("no LOST records here"),
        };
        const event = new Uint8Array(64).fill(7);
        let t = 0n;
        const deadline = Date.now() + 30000;
        while (t < 2000n && Date.now() < deadline) {
          if (push(ring, sample({ time: t, cpu: 0, type: 1, event }))) t++;
          else await new Promise((r) => setTimeout(r, 1));
          stageRing(queue, staged, () => assert.fail("corrupt"));
          parseStaged(staged, staged.end, sink, 1e9);
        }
        while (times.length < 2000 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 5));
          stageRing(queue, staged, () => assert.fail("corrupt"));
          parseStaged(staged, staged.end, sink, 1e9);
        }
        await stopCopyWorker(state, deadline);
        worker.terminate();
        assert.equal(Atomics.load(state, 0), 3);
        assert.equal(times.length, 2000);
        for (let i = 0; i < times.length; i++) {
          assert.equal(times[i], BigInt(i));
        }
        assert.equal(ring.control[1], ring.control[0]); // all freed
        assert.ok(Atomics.load(state, 2) > 0); // copy passes counted
      } finally {
        p.free(memory);
      }
    },
  );

  it(
    "sleeps up to 5 ms after a wake-up that copied nothing instead of polling again at once (an fd that is always ready: POLLNVAL)",
    { skip: SKIP, timeout: 60000 },
    async () => {
      const p = perf!;
      const { page, memory, queueBuffer } = allocRing(p);
      try {
        queueView(queueBuffer, page);
        // Words [2] copy passes and [6] polls that returned ready fds.
        const state = new Int32Array(new SharedArrayBuffer(48));
        const { worker, reply } = await startCopyWorker(
          state,
          page,
          25,
          { priority: "none" },
          {
            // Not an open fd: poll(2) reports it ready (POLLNVAL) at once,
            // every time, and the empty ring has nothing to copy.
            fd: 999_999,
            address: String(memory.address),
            length: memory.size,
            queue: queueBuffer,
          },
        );
        try {
          assert.equal(reply, "ready");
          const from = Atomics.load(state, 2);
          const t0 = performance.now();
          await new Promise((r) => setTimeout(r, 500));
          const passes = Atomics.load(state, 2) - from;
          const ms = performance.now() - t0;
          await stopCopyWorker(state, Date.now() + 10000);
          assert.equal(Atomics.load(state, 0), 3);
          assert.ok(Atomics.load(state, 6) > 0, "the fd was reported ready");
          // Each ready poll is followed by a sleeping pass of up to 5 ms:
          // at most 2 passes per 5 ms (a spinning worker does 10^5 or more).
          const most = 2 * Math.ceil(ms / 5) + 10;
          assert.ok(
            passes > 0 && passes <= most,
            `${passes} passes in ${Math.round(ms)} ms (at most ${most})`,
          );
        } finally {
          worker.terminate();
        }
      } finally {
        p.free(memory);
      }
    },
  );
});
