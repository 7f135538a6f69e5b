// The listener as npm users get it from JSR (`npx jsr add`, `bunx jsr add`):
// a copy of the package's module graph, .ts transpiled to .js and only the
// import specifiers rewritten (tests/receivers/_jsr_npm_copy.mjs), under a
// node_modules folder (where Node refuses to load .ts files). The copy
// worker must be in that graph, and the listener must start it by the name
// it has there: a `new URL("./_copy_worker.ts", import.meta.url)` names a
// file the npm package does not have. The worker started from the copy then
// copies a native ring on the host (no kernel needed), as
// copy_worker_test.ts does with the sources.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { openPerf } from "../../ffi/load_perf.ts";
import type { PerfBinding } from "../../ffi/perf.ts";
import type * as WorkerModule from "../../ffi/worker.ts";
import { queueView, RingView } from "../../receivers/user_events/_ring.ts";
import { sample } from "./_fake_perf.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const node = join(root, "node_modules/.bin/node");

let perf: PerfBinding | undefined;
try {
  perf = await openPerf();
} catch {
  perf = undefined;
}

/** Writes the JSR-shaped copy; returns its folder and its module list. */
function jsrCopy(): { base: string; dir: string; modules: string[] } {
  const base = mkdtempSync(join(tmpdir(), "seed-jsr-npm-"));
  const dir = join(base, "node_modules/@jsr/seed__telemetry");
  const out = execFileSync(node, [
    "--no-warnings",
    join(root, "tests/receivers/_jsr_npm_copy.mjs"),
    root,
    dir,
  ], { encoding: "utf8", maxBuffer: 1 << 26 });
  return { base, dir, modules: JSON.parse(out).modules };
}

describe("the listener from JSR's npm layer (.js files under node_modules)", () => {
  it(
    "publishes the copy worker in the module graph and starts it by its .js name",
    { timeout: 120000 },
    async () => {
      const { base, dir, modules } = jsrCopy();
      try {
        assert.ok(modules.includes("receivers/user_events/listener.js"));
        assert.ok(
          modules.includes("receivers/user_events/_copy_worker.js"),
          "the copy worker is not in the module graph of the exports, so JSR's npm package would not have it",
        );
        assert.deepEqual(modules.filter((m) => /\.m?ts$/.test(m)), []);
        const listenerJs = readFileSync(
          join(dir, "receivers/user_events/listener.js"),
          "utf8",
        );
        // No quoted .ts name of the worker left (comments may name it).
        assert.doesNotMatch(listenerJs, /["'][./]*_copy_worker\.ts["']/);
        const before = (globalThis as { onmessage?: unknown }).onmessage;
        const copyWorker = await import(
          pathToFileURL(join(dir, "receivers/user_events/_copy_worker.js")).href
        ) as { COPY_WORKER_URL: string };
        // Importing the worker module (the listener does) installs nothing.
        assert.equal((globalThis as { onmessage?: unknown }).onmessage, before);
        assert.ok(copyWorker.COPY_WORKER_URL.endsWith("/_copy_worker.js"));
        assert.ok(existsSync(fileURLToPath(copyWorker.COPY_WORKER_URL)));

        const workers = await import(
          pathToFileURL(join(dir, "ffi/worker.js")).href
        ) as typeof WorkerModule;
        if (
          perf === undefined || typeof perf.poll !== "function" ||
          !workers.canStartModuleWorker()
        ) return; // no FFI with poll() here: the layout checks above ran
        const p = perf;
        const page = p.pageSize();
        const memory = p.alloc(page + 8192)!;
        try {
          const control = new BigUint64Array(memory.buffer, 1024, 4);
          control[2] = BigInt(page);
          control[3] = 8192n;
          const ring = new RingView(memory.buffer, page);
          const record = sample({
            time: 7n,
            cpu: 0,
            type: 1,
            event: new Uint8Array(64).fill(3),
          });
          ring.data.set(record, 0);
          Atomics.store(ring.control, 0, BigInt(record.length));
          const queueBuffer = new SharedArrayBuffer(page + 65536);
          const queue = queueView(queueBuffer, page);
          const state = new Int32Array(new SharedArrayBuffer(16));
          const worker = workers.startModuleWorker(
            copyWorker.COPY_WORKER_URL,
            "runCopyWorker",
          );
          try {
            const reply = await new Promise<string>((resolve) => {
              const timer = setTimeout(() => resolve("timeout"), 60000);
              worker.onmessage = (m) => {
                clearTimeout(timer);
                resolve(String(m.data));
              };
              worker.onerror = (e) => {
                clearTimeout(timer);
                e.preventDefault?.();
                resolve(`error ${e.message}`);
              };
              worker.postMessage({
                state: state.buffer,
                pageSize: page,
                pollMs: 1,
                priority: "none",
                rings: [{
                  fd: -1,
                  address: String(memory.address),
                  length: memory.size,
                  queue: queueBuffer,
                }],
              });
            });
            assert.equal(reply, "ready");
            // Ready, not copying until handed the ring (as the listener does).
            assert.equal(Atomics.load(state, 0), 4);
            assert.equal(ring.control[1], 0n);
            Atomics.compareExchange(state, 0, 4, 1);
            Atomics.notify(state, 0);
            const deadline = Date.now() + 30000;
            while (
              Atomics.load(queue.control, 0) < BigInt(record.length) &&
              Date.now() < deadline
            ) {
              await new Promise((r) => setTimeout(r, 5));
            }
            assert.equal(Atomics.load(queue.control, 0), BigInt(record.length));
            assert.deepEqual(queue.data.subarray(0, record.length), record);
            assert.equal(ring.control[1], ring.control[0]); // freed
            Atomics.compareExchange(state, 0, 1, 2);
            while (Atomics.load(state, 0) !== 3 && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 5));
            }
            assert.equal(Atomics.load(state, 0), 3);
          } finally {
            worker.terminate();
          }
        } finally {
          p.free(memory);
        }
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  );
});
