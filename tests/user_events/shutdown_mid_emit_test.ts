// Shutdown from user code in the middle of an emit (an event name callback,
// an attribute getter), with the real libc's native memory (node:ffi,
// Deno.dlopen, bun:ffi) and only the kernel faked: the encode that was under
// way must not write into the freed event buffer. Before the fix it
// overwrote hundreds of bytes of whatever malloc handed out next (under
// node:ffi, V8's own bookkeeping lives in that heap) and then threw a
// TypeError into the caller.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import type { LibcBinding, NativeMemory } from "../../ffi/libc.ts";
import { openLibc } from "../../ffi/load_libc.ts";
import {
  UserEventsProcessor,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import { EVENT_BUFFER_SIZE } from "../../processors/_eventheader.ts";
import { Resource } from "../../mod.ts";
import type { ReadableSpan } from "../../mod.ts";

const DIAG_IOCSREG = 0xc0082a00;

/** The real libc, with the fd on /dev/null and DIAG_IOCSREG answered here. */
class DevNullLibc implements LibcBinding {
  readonly real: LibcBinding;
  /** Every free(), in order, as the address freed. */
  readonly freed: bigint[] = [];
  #words: Int32Array | undefined;
  #index = 0;
  constructor(real: LibcBinding) {
    this.real = real;
  }
  /** Sets every level's enable word, as a listener attaching would. */
  enableAll(): void {
    this.#words!.fill(1, 1, 6);
  }
  open(_path: string, flags: number): number {
    return this.real.open("/dev/null", flags);
  }
  close(fd: number): number {
    return this.real.close(fd);
  }
  alloc(size: number): NativeMemory | null {
    const memory = this.real.alloc(size);
    if (memory !== null && size === 32 && this.#words === undefined) {
      this.#words = new Int32Array(memory.buffer, 0, 8);
    }
    return memory;
  }
  free(memory: NativeMemory): void {
    this.freed.push(memory.address);
    this.real.free(memory);
  }
  errno(): number {
    return this.real.errno();
  }
  ioctl(_fd: number, request: number, arg: NativeMemory): number {
    if (request === DIAG_IOCSREG) {
      new DataView(arg.buffer).setUint32(24, this.#index++, true);
    }
    return 0;
  }
  write(fd: number, memory: NativeMemory, length: number): number {
    return this.real.write(fd, memory, length);
  }
  read(fd: number, memory: NativeMemory, length: number): number {
    return this.real.read(fd, memory, length);
  }
}

const skip = process.platform !== "linux" && "needs Linux's libc";

/**
 * What user code does in the callback: shut the processor down, then take a
 * block of the event buffer's size (malloc hands back the one just freed, if
 * it was freed) and fill it.
 */
function shutDownAndReuse(
  libc: DevNullLibc,
  close: () => void,
): { block: Uint8Array; memory: NativeMemory } {
  close();
  const memory = libc.real.alloc(EVENT_BUFFER_SIZE)!;
  const block = new Uint8Array(memory.buffer);
  block.fill(0xaa);
  return { block, memory };
}

function untouched(block: Uint8Array): number {
  let n = 0;
  for (const b of block) if (b === 0xaa) n++;
  return n;
}

describe(
  "shutdown in the middle of an emit (real libc memory)",
  { skip },
  () => {
    it("UserEventsProcessor: the encode finishes in memory still owned, the record counts as no listener, then the memory is freed", async () => {
      const libc = new DevNullLibc(await openLibc());
      let reused: { block: Uint8Array; memory: NativeMemory } | undefined;
      let freedDuringEmit = -1;
      const processor: UserEventsProcessor = new UserEventsProcessor(libc, {
        providerName: "mid_emit",
        diagnostics: () => {},
        eventNameCallback: () => {
          reused = shutDownAndReuse(libc, () => processor[Symbol.dispose]());
          freedDuringEmit = libc.freed.length;
          return "Ev";
        },
      });
      libc.enableAll();
      const before = libc.freed.length;
      processor.onEmit({
        severityNumber: 9,
        body: "x".repeat(300),
        attributes: { a: "y".repeat(300) },
      }, undefined as never);
      assert.ok(reused !== undefined, "the callback ran");
      // Only the small unregister block was freed while the encode ran.
      assert.equal(freedDuringEmit - before, 1);
      assert.equal(untouched(reused.block), EVENT_BUFFER_SIZE);
      const stats = processor.stats;
      assert.equal(stats.written, 0);
      assert.equal(stats.droppedNoListener, 1);
      // After the emit: the enable words and the event buffer are freed.
      assert.equal(libc.freed.length - before, 3);
      processor[Symbol.dispose](); // idempotent: nothing freed twice
      assert.equal(libc.freed.length - before, 3);
      libc.real.free(reused.memory);
    });

    it("UserEventsSpanProcessor: an attribute getter that shuts down mid-encode writes nothing into freed memory", async () => {
      const libc = new DevNullLibc(await openLibc());
      const processor = new UserEventsSpanProcessor(libc, {
        providerName: "mid_emit_span",
        diagnostics: () => {},
      });
      libc.enableAll();
      let reused: { block: Uint8Array; memory: NativeMemory } | undefined;
      const attributes = {
        get first() {
          reused = shutDownAndReuse(libc, () => processor[Symbol.dispose]());
          return "z".repeat(400);
        },
        second: "w".repeat(400),
      };
      const span: ReadableSpan = {
        name: "op",
        kind: 0,
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "1111111111111111",
        traceFlags: 1,
        traceState: undefined,
        parentSpanId: undefined,
        parentIsRemote: false,
        startTimeUnixMs: 1704164645000,
        startTimeNanosInMs: 0,
        endTimeUnixMs: 1704164646500,
        endTimeNanosInMs: 0,
        attributes,
        droppedAttributesCount: 0,
        events: [],
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: { code: 0 },
        resource: new Resource({}),
        scope: { name: "s" },
        ended: true,
      } as ReadableSpan;
      processor.onEnd(span);
      assert.ok(reused !== undefined, "the getter ran");
      assert.equal(untouched(reused.block), EVENT_BUFFER_SIZE);
      assert.equal(processor.stats.written, 0);
      libc.real.free(reused.memory);
    });
  },
);
