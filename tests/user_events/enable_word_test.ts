// The processors read the kernel's enable word with a plain typed-array
// read (no Atomics.load). This checks, on each runtime, that a tracer
// attaching is seen by an optimized hot emit loop that does nothing else:
// the engine must not reuse an earlier read of the word across calls.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Worker as NodeWorker } from "node:worker_threads";

interface Spinner {
  onMessage(handler: (message: Record<string, unknown>) => void): void;
  onError(handler: (error: unknown) => void): void;
  terminate(): void;
}

/** A web Worker on Deno and Bun (deno test does not start worker_threads here), worker_threads on Node. */
function spawn(url: URL): Spinner {
  if (typeof Worker === "function") {
    const w = new Worker(url, { type: "module" });
    return {
      onMessage: (h) => w.addEventListener("message", (e) => h(e.data)),
      onError: (h) => w.addEventListener("error", (e) => h(e)),
      terminate: () => w.terminate(),
    };
  }
  const w = new NodeWorker(url);
  return {
    onMessage: (h) => w.on("message", h),
    onError: (h) => w.on("error", h),
    terminate: () => void w.terminate(),
  };
}

describe("user_events enable word", () => {
  it("a word set by another agent is seen inside an optimized emit loop", async () => {
    const worker = spawn(new URL("./_enable_spin_worker.ts", import.meta.url));
    try {
      const result = await new Promise<{ spins: number; notEnabled: number }>(
        (resolve, reject) => {
          // Starting the worker may take long (deno test type-checks its
          // modules); the 10 s for the loop to see the word start once it runs.
          let timer = setTimeout(
            () => reject(new Error("the worker did not start")),
            120_000,
          );
          worker.onError(reject);
          worker.onMessage((m) => {
            if (m.words !== undefined) {
              // Level 4 (INFO) on, once the loop has run hot for a while.
              const words = new Int32Array(m.words as SharedArrayBuffer);
              clearTimeout(timer);
              timer = setTimeout(
                () => reject(new Error("the loop never saw the enable word")),
                10_300,
              );
              setTimeout(() => {
                words[4] = 1;
              }, 300);
            } else {
              clearTimeout(timer);
              resolve(m as { spins: number; notEnabled: number });
            }
          });
        },
      );
      // The loop ran long enough to be optimized before the word was set.
      assert.ok(result.spins > 100_000, `${result.spins} spins`);
      assert.equal(result.notEnabled, result.spins - 1);
    } finally {
      worker.terminate();
    }
  });
});
