// The listener's copy-worker start on the host, with the runtime's real
// FFI and real worker threads: the fake perf binding maps its rings into
// calloc'd native memory, so the real copy worker reads them by address
// (poll(2) gets the fake's fd numbers, not open here: it reports them
// ready at once, and the worker copies every few ms). The start is made
// late or never with setCopyOverrides; every record pushed while it is not
// running must still be copied (by the listener's own thread), handed over
// in order, and none dropped by the "kernel".
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openPerf } from "../../ffi/load_perf.ts";
import type { MappedMemory, PerfBinding } from "../../ffi/perf.ts";
import type { NativeMemory } from "../../ffi/libc.ts";
import { canStartModuleWorker } from "../../ffi/worker.ts";
import {
  type ListenedEvent,
  openUserEventsListener,
  type UserEventsListener,
} from "../../receivers/user_events/mod.ts";
import { setCopyOverrides } from "../../receivers/user_events/_copy_trace.ts";
import { encodeLogRecord, EventBuffer } from "../../processors/_eventheader.ts";
import { LogEmitContext, Resource, toLogRecordData } from "../../mod.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakePerf, fakeTracefs, sample } from "./_fake_perf.ts";

let native: PerfBinding | undefined;
try {
  native = await openPerf();
} catch {
  native = undefined;
}
const SKIP = native === undefined || typeof native.poll !== "function" ||
    typeof native.viewMemory !== "function" || !canStartModuleWorker()
  ? "no FFI with poll() and viewMemory() or no worker threads on this runtime"
  : false;

/** FakePerf whose rings are native memory a copy worker can read. */
class NativeRingPerf extends FakePerf {
  readonly native: PerfBinding;
  readonly mapped: NativeMemory[] = [];
  constructor(binding: PerfBinding) {
    super();
    this.native = binding;
  }
  override mmap(fd: number, length: number): MappedMemory | number {
    const memory = this.native.alloc(length)!;
    const control = new BigUint64Array(memory.buffer, 1024, 4);
    control[2] = BigInt(this.page);
    control[3] = BigInt(length - this.page);
    this.rings.set(fd, memory.buffer);
    this.ringOfCpu.set(this.opens.find((o) => o.fd === fd)!.cpu, memory.buffer);
    this.mapped.push(memory);
    this.log.push(`mmap ${fd} ${length}`);
    return {
      address: memory.address,
      size: length,
      buffer: memory.buffer,
      handle: fd,
    };
  }
  poll(fds: NativeMemory, count: number, timeoutMs: number): number {
    return this.native.poll!(fds, count, timeoutMs);
  }
  viewMemory(address: bigint, length: number): ArrayBuffer {
    return this.native.viewMemory!(address, length);
  }
  /** Frees the rings (after close: no worker reads them any more). */
  release(): void {
    for (const memory of this.mapped.splice(0)) this.native.free(memory);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** One EventHeader log record, as the processor writes it after the write index. */
function logEvent(): Uint8Array {
  const b = new EventBuffer();
  const n = encodeLogRecord(
    b,
    toLogRecordData(
      { severityNumber: 9, body: "x", timestamp: new Date(1700000000000) },
      new LogEmitContext(new Resource({ "service.name": "t" }), { name: "t" }),
    ),
    4,
    { resourceAttributes: [] },
  );
  return b.bytes.slice(4, n);
}
const EVENT = logEvent();

const SAMPLE_BYTES = sample({ time: 1n, cpu: 0, type: 1, event: EVENT }).length;

/**
 * Pushes `count` samples onto CPU `cpu`'s 8 KiB ring in bursts of 16 (under
 * 2.5 KiB) every 10 ms, from `first` on (times are the sample
 * numbers), calling `between` after each burst.
 *
 * With `roomWaitMs`, a burst that does not fit waits up to that long in
 * all for the reader to make room, as a writer's burst would land a little
 * later: only for the copy worker once it runs, whose thread a loaded
 * 2-core host may not schedule for tens of ms (the ring holds 30 ms of
 * bursts). While the listener's own thread must copy, no wait is given, so
 * a thread that does not copy still drops records.
 */
async function pushBursts(
  perf: NativeRingPerf,
  cpu: number,
  first: number,
  count: number,
  between: () => void = () => {},
  roomWaitMs = 0,
): Promise<void> {
  const waitUntil = Date.now() + roomWaitMs;
  for (let i = first; i < first + count;) {
    const burst = Math.min(16, first + count - i) * SAMPLE_BYTES;
    while (perf.room(cpu) < burst && Date.now() < waitUntil) await sleep(2);
    for (let b = 0; b < 16 && i < first + count; b++, i++) {
      perf.push(
        cpu,
        sample({ time: BigInt(i + 1), cpu, type: 1, event: EVENT }),
      );
    }
    between();
    await sleep(10);
  }
}

async function open(perf: NativeRingPerf): Promise<UserEventsListener> {
  return await openUserEventsListener({
    tracepoints: ["P_L4K1"],
    tracefsPath: fakeTracefs({ P_L4K1: 1 }),
    cpus: [0],
    perf,
    libc: new FakeLibc(),
    bufferKiB: 8,
    holdBackMs: 0,
    copyThread: true,
    copyThreadPriority: "unchanged",
  });
}

/** Drains until `count` events are in (10 s at most). */
async function drainUntil(
  listener: UserEventsListener,
  events: ListenedEvent[],
  count: number,
): Promise<void> {
  const deadline = Date.now() + 10000;
  while (events.length < count && Date.now() < deadline) {
    listener.drain((e) => events.push(e));
    await sleep(5);
  }
}

function assertInOrder(events: ListenedEvent[], count: number): void {
  assert.equal(events.length, count);
  for (let i = 0; i < count; i++) {
    assert.equal(events[i].monotonicNanos, BigInt(i + 1), `event ${i}`);
  }
}

/**
 * Runs `body` on a fresh native-ring perf with the copy worker's start set
 * by setCopyOverrides({ startDelayMs, startTimeoutMs }), undoing both
 * afterwards.
 */
async function withCopyStart(
  startMs: number,
  waitMs: number,
  body: (perf: NativeRingPerf) => Promise<void>,
): Promise<void> {
  const perf = new NativeRingPerf(native!);
  try {
    setCopyOverrides({ startDelayMs: startMs, startTimeoutMs: waitMs });
    await body(perf);
  } finally {
    setCopyOverrides({ startDelayMs: null, startTimeoutMs: null });
    perf.release();
  }
}

describe("listener copy-worker start (receivers/user_events/listener.ts)", () => {
  it(
    "copies the rings from its own thread while opening waits for the worker, then hands them over",
    { skip: SKIP, timeout: 60000 },
    () =>
      withCopyStart(400, 20000, async (perf) => {
        const opening = open(perf);
        // 10 bursts (20 KiB through an 8 KiB ring) while the worker waits:
        // only this thread's copying makes room.
        await pushBursts(perf, 0, 0, 160);
        const listener = await opening;
        try {
          assert.equal(listener.stats.copyThreadState, "running");
          assert.equal(listener.stats.copyThread, true);
          assert.equal(listener.stats.copyThreadError, undefined);
          await pushBursts(perf, 0, 160, 160, undefined, 5000);
          const events: ListenedEvent[] = [];
          await drainUntil(listener, events, 320);
          assert.deepEqual([...perf.dropped], []);
          assertInOrder(events, 320);
          assert.equal(listener.stats.lost, 0);
        } finally {
          listener.close();
        }
      }),
  );

  it(
    "returns after the wait with its own thread copying, says so, and hands the rings over when the worker is late",
    { skip: SKIP, timeout: 60000 },
    () =>
      withCopyStart(800, 100, async (perf) => {
        const listener = await open(perf);
        try {
          assert.equal(listener.stats.copyThreadState, "starting");
          assert.equal(listener.stats.copyThread, false);
          assert.match(
            listener.stats.copyThreadError ?? "",
            /copy workers not ready after 100 ms; this thread copies the rings until they are/,
          );
          const events: ListenedEvent[] = [];
          const states = new Set<string>();
          // Bursts, draining after each, until 20 bursts after the worker
          // took over (30 s at most).
          let pushed = 0;
          let after = 0;
          const deadline = Date.now() + 30000;
          while (after < 20 && Date.now() < deadline) {
            await pushBursts(perf, 0, pushed, 16, () => {
              listener.drain((e) => events.push(e));
              states.add(listener.stats.copyThreadState);
            }, states.has("running") ? 5000 : 0);
            pushed += 16;
            if (states.has("running")) after++;
          }
          await drainUntil(listener, events, pushed);
          assert.deepEqual([...states], ["starting", "running"]);
          assert.equal(listener.stats.copyThread, true);
          assert.match(
            listener.stats.copyThreadError ?? "",
            /copy workers ready after \d+ ms; this thread copied the rings until then/,
          );
          assert.deepEqual([...perf.dropped], []);
          assertInOrder(events, pushed);
        } finally {
          listener.close();
        }
      }),
  );

  it(
    "keeps copying from its own thread when the worker never gets ready, and close() says it failed",
    { skip: SKIP, timeout: 60000 },
    () =>
      withCopyStart(Infinity, 50, async (perf) => {
        const listener = await open(perf);
        const events: ListenedEvent[] = [];
        try {
          assert.equal(listener.stats.copyThreadState, "starting");
          await pushBursts(perf, 0, 0, 320, () => {
            listener.drain((e) => events.push(e));
          });
          await drainUntil(listener, events, 320);
          assert.equal(listener.stats.copyThreadState, "starting");
        } finally {
          listener.close((e) => events.push(e));
        }
        const stats = listener.stats;
        assert.equal(stats.copyThreadState, "failed");
        assert.equal(stats.copyThread, false);
        assert.match(
          stats.copyThreadError ?? "",
          /closed before the copy workers were ready; this thread copies the rings/,
        );
        assert.deepEqual([...perf.dropped], []);
        assertInOrder(events, 320);
      }),
  );
});
