// Worker of enable_word_test.ts: a UserEventsProcessor whose enable words
// live in a SharedArrayBuffer (standing in for the native memory the kernel
// writes), emitting in a hot loop with nothing else in it until a write
// happens. The main thread sets the word once the loop is optimized.
import { parentPort } from "node:worker_threads";

// A web Worker on Deno and Bun, a worker_threads Worker on Node.
const post = (message: unknown): void => {
  if (parentPort) parentPort.postMessage(message);
  else (globalThis as unknown as Worker).postMessage(message);
};
import type { LibcBinding, NativeMemory } from "../../ffi/libc.ts";
import { UserEventsProcessor } from "../../processors/user_events/mod.ts";
import { LogEmitContext, Resource } from "../../mod.ts";

let words: SharedArrayBuffer | undefined;
let writes = 0;
let index = 0;
let next = 0x10000n;
const libc: LibcBinding = {
  open: () => 3,
  close: () => 0,
  alloc(size: number): NativeMemory | null {
    const shared = size === 32 && words === undefined;
    const buffer = shared
      ? (words = new SharedArrayBuffer(32))
      : new ArrayBuffer(size);
    const address = next;
    next += 0x100000n;
    return { address, size, buffer: buffer as ArrayBuffer, handle: address };
  },
  free: () => {},
  errno: () => 0,
  ioctl(_fd: number, request: number, arg: NativeMemory): number {
    if (request === 0xc0082a00) {
      new DataView(arg.buffer).setUint32(24, index++, true);
    }
    return 0;
  },
  write(_fd: number, _memory: NativeMemory, length: number): number {
    writes++;
    return length;
  },
  read: () => 0,
};

const processor = new UserEventsProcessor(libc, {
  providerName: "spin",
  userEventsDataPath: "/fake/user_events_data",
  diagnostics: () => {},
});
const context = new LogEmitContext(new Resource({}), { name: "spin" });
const record = { severityNumber: 9, body: "x" };
post({ words });
let spins = 0;
while (writes === 0) {
  processor.onEmit(record, context);
  spins++;
}
post({ spins, notEnabled: processor.stats.notEnabled });
