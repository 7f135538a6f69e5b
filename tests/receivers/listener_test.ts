// Host tests of the user_events listener over a fake perf binding whose
// rings are ArrayBuffers laid out like perf's mappings (the real kernel is
// in tests/kernel/listener_kernel_test.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type ListenedEvent,
  openUserEventsListener,
  parseCpuList,
  selectTracepoints,
  UserEventsListenerError,
  type UserEventsListenerOptions,
} from "../../receivers/user_events/mod.ts";
import { decodedFieldsToObject } from "../../processors/user_events/mod.ts";
import { encodeLogRecord, EventBuffer } from "../../processors/_eventheader.ts";
import { LogEmitContext, Resource, toLogRecordData } from "../../mod.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import {
  FakePerf,
  fakeTracefs,
  hexBytes,
  lostRecord,
  sample,
} from "./_fake_perf.ts";

// perf-ring.md 7.2: a whole PERF_RECORD_SAMPLE of MyProvider_L4K1 (id 496).
const SPEC_SAMPLE = hexBytes(`
09 00 00 00 01 00 88 00 0d 00 00 00 00 00 00 00
57 00 00 00 57 00 00 00 27 cd 48 c8 01 00 00 00
00 00 00 00 00 00 00 00 5c 00 00 00 f0 01 00 00
57 00 00 00 07 00 00 00 00 00 00 04 39 00 01 00
4d 79 45 76 65 6e 74 00 6d 73 67 00 0a 63 6f 75
6e 74 00 84 02 50 61 72 74 42 00 81 02 5f 74 79
70 65 4e 61 6d 65 00 0a 73 65 76 65 72 69 74 79
4e 75 6d 62 65 72 00 83 02 02 00 68 69 fb ff ff
ff 03 00 4c 6f 67 09 00`);

function logEvent(body: string, level = 4): Uint8Array {
  const b = new EventBuffer();
  const n = encodeLogRecord(
    b,
    toLogRecordData(
      { severityNumber: 9, body, timestamp: new Date(1700000000000) },
      new LogEmitContext(new Resource({ "service.name": "t" }), { name: "t" }),
    ),
    level,
    { resourceAttributes: [] },
  );
  return b.bytes.slice(4, n);
}

async function open(
  perf: FakePerf,
  ids: Record<string, number>,
  options: Partial<UserEventsListenerOptions> = {},
  libc = new FakeLibc(),
) {
  return await openUserEventsListener({
    tracepoints: Object.keys(ids),
    tracefsPath: fakeTracefs(ids),
    cpus: [0, 1],
    perf,
    libc,
    ...options,
  });
}

function body(e: ListenedEvent): unknown {
  return (decodedFieldsToObject(e.event.fields).PartB as { body?: unknown })
    ?.body;
}

describe("UserEventsListener (fake perf)", () => {
  it("opens one perf event per CPU with the attr of perf-ring.md 2.2 and enables it after mapping", async () => {
    const perf = new FakePerf();
    const libc = new FakeLibc();
    using listener = await open(perf, { MyProvider_L4K1: 494 }, {
      bufferKiB: 16,
    }, libc);
    assert.deepEqual(listener.cpus, [0, 1]);
    assert.equal(perf.opens.length, 2);
    const attr = new DataView(perf.opens[0].attr.buffer);
    assert.equal(attr.getUint32(0, true), 2); // PERF_TYPE_TRACEPOINT
    assert.equal(attr.getUint32(4, true), 96);
    assert.equal(attr.getBigUint64(8, true), 494n);
    assert.equal(attr.getBigUint64(16, true), 1n);
    assert.equal(attr.getBigUint64(24, true), 0x10486n);
    assert.equal(attr.getBigUint64(32, true), 0x14n);
    const flags = attr.getBigUint64(40, true);
    assert.equal(flags & 1n, 1n, "disabled");
    assert.equal(flags & (1n << 25n), 1n << 25n, "use_clockid");
    assert.equal(flags & (1n << 5n), 0n, "exclude_kernel must stay 0");
    assert.equal(attr.getInt32(92, true), 1); // CLOCK_MONOTONIC
    assert.deepEqual(
      perf.opens.map((o) => [o.cpu, o.pid, o.groupFd, o.flags]),
      [
        [0, -1, -1, 8],
        [1, -1, -1, 8],
      ],
    );
    const mmaps = perf.log.filter((l) => l.startsWith("mmap"));
    assert.deepEqual(mmaps, ["mmap 100 20480", "mmap 101 20480"]);
    const enables = perf.log.filter((l) => l.includes(" 0x2400 "));
    assert.equal(enables.length, 2);
    assert.ok(
      perf.log.indexOf(enables[0]) > perf.log.indexOf(mmaps[1]),
      "enabled only after every ring is mapped",
    );
    // Pre-registered with the EventHeader field list.
    assert.deepEqual(libc.registrations.map((r) => r.command), [
      "MyProvider_L4K1 u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode; u8 level",
    ]);
  });

  it("decodes the worked example sample of perf-ring.md 7.2", async () => {
    const perf = new FakePerf();
    perf.monotonic = 100_000_000_000n; // the sample was recorded at 7.66 s
    using listener = await open(perf, { MyProvider_L4K1: 496 });
    perf.push(0, SPEC_SAMPLE);
    const events: ListenedEvent[] = [];
    assert.equal(listener.drain((e) => events.push(e)), 1);
    const e = events[0];
    assert.equal(e.tracepoint, "MyProvider_L4K1");
    assert.equal(e.pid, 87);
    assert.equal(e.tid, 87);
    assert.equal(e.cpu, 0);
    assert.equal(e.monotonicNanos, 0x1c848cd27n);
    // Wall time = sample time + (realtime - monotonic) of the fake clocks.
    assert.equal(
      e.unixNanos,
      0x1c848cd27n + 1_700_000_000_000_000_000n - 100_000_000_000n,
    );
    assert.equal(e.event.provider + ":" + e.event.name, "MyProvider:MyEvent");
    assert.deepEqual(decodedFieldsToObject(e.event.fields), {
      msg: "hi",
      count: -5,
      PartB: { _typeName: "Log", severityNumber: 9 },
    });
    assert.equal(perf.unread(0), 0, "data_tail stored");
  });

  it("reads records that wrap around the end of the ring, with stale padding", async () => {
    const perf = new FakePerf();
    using listener = await open(perf, { w_L4K1: 7 }, { bufferKiB: 4 });
    const events: ListenedEvent[] = [];
    let t = 1n;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 3; i++) {
        perf.push(
          round % 2,
          sample({
            time: t++,
            cpu: round % 2,
            type: 7,
            event: logEvent(`r${round}-${i}-${"p".repeat(round * 7)}`),
            pad: 0xee,
          }),
        );
      }
      listener.drain((e) => events.push(e));
    }
    assert.equal(events.length, 120);
    assert.equal(listener.stats.malformed, 0);
    assert.equal(body(events[119]), `r39-2-${"p".repeat(39 * 7)}`);
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].monotonicNanos > events[i - 1].monotonicNanos);
    }
  });

  it("frees the rings while it decodes: a writer that fills a ring many times over during one drain loses nothing", async () => {
    const perf = new FakePerf();
    // 8 KiB rings hold 28 of these samples; the handler writes 2,000 more
    // while the first ones are delivered, as a fast writer does while a
    // slow (cold, emulated) decoder works.
    using listener = await open(perf, { s_L4K1: 5 }, { bufferKiB: 8 });
    const event = logEvent("x".repeat(200));
    let t = 1n;
    let written = 0;
    const write = () => {
      const cpu = written % 2;
      if (perf.push(cpu, sample({ time: t++, cpu, type: 5, event }))) written++;
    };
    for (let i = 0; i < 40; i++) write();
    const got: ListenedEvent[] = [];
    let delivered = 0;
    const onEvent = (e: ListenedEvent) => {
      got.push(e);
      // Two writes per event delivered, until 2,000 are in.
      if (delivered++ < 1000) {
        write();
        write();
      }
    };
    for (let i = 0; i < 50 && got.length < written; i++) {
      listener.drain(onEvent);
    }
    assert.equal(perf.dropped.size, 0, `dropped ${[...perf.dropped]}`);
    assert.equal(written, 2040);
    assert.equal(got.length, written);
    assert.equal(listener.stats.backlogBytes, 0);
    // Per CPU, in the order written.
    for (const cpu of [0, 1]) {
      const times = got.filter((e) => e.cpu === cpu).map((e) =>
        e.monotonicNanos
      );
      for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1]);
    }
  });

  it("bounds the backlog: past backlogKiB records stay in the ring and the kernel counts the rest", async () => {
    const perf = new FakePerf();
    using listener = await open(perf, { b_L4K1: 5 }, {
      bufferKiB: 8,
      backlogKiB: 64,
      cpus: [0],
    });
    const event = logEvent("y".repeat(200));
    let t = 1n;
    let written = 0;
    let delivered = 0;
    const onEvent = () => {
      // Never returns to the drain loop's top until 5,000 writes were tried.
      if (delivered++ === 0) {
        for (let i = 0; i < 5000; i++) {
          if (perf.push(0, sample({ time: t++, cpu: 0, type: 5, event }))) {
            written++;
          }
        }
      }
    };
    perf.push(0, sample({ time: t++, cpu: 0, type: 5, event }));
    written++;
    listener.drain(onEvent);
    assert.ok(listener.stats.backlogBytes <= 64 * 1024);
    while (listener.drain(onEvent) > 0);
    const dropped = perf.dropped.get(0) ?? 0;
    assert.ok(dropped > 0);
    assert.equal(written + dropped, 5001);
    assert.equal(delivered, written);
  });

  it("merges the CPUs of one drain in time order, ties by CPU", async () => {
    const perf = new FakePerf();
    using listener = await open(perf, { m_L4K1: 9 });
    for (
      const [cpu, time] of [[0, 10n], [0, 30n], [0, 40n], [1, 20n], [1, 40n], [
        1,
        50n,
      ]] as const
    ) {
      perf.push(
        cpu,
        sample({ time, cpu, type: 9, event: logEvent(`${cpu}@${time}`) }),
      );
    }
    const order: string[] = [];
    listener.drain((e) => order.push(String(body(e))));
    assert.deepEqual(order, ["0@10", "1@20", "0@30", "0@40", "1@40", "1@50"]);
  });

  it("holds back events younger than holdBackMs so a CPU that publishes late is merged in time order across drains (perf-ring.md 5.4)", async () => {
    const ms = 1_000_000n;
    // One script, two window sizes: 5 ms, and 0 (each drain sorted alone).
    const script = async (holdBackMs: number) => {
      const perf = new FakePerf();
      using listener = await open(perf, { h_L4K1: 4 }, { holdBackMs });
      const order: string[] = [];
      const onEvent = (e: ListenedEvent) => order.push(String(body(e)));
      const push = (cpu: number, time: bigint) =>
        perf.push(
          cpu,
          sample({
            time,
            cpu,
            type: 4,
            event: logEvent(`${cpu}@${time / ms}`),
          }),
        );
      perf.monotonic = 100n * ms;
      push(0, 90n * ms);
      push(0, 98n * ms); // inside the window at the first drain
      const first = listener.drain(onEvent);
      const heldAfterFirst = listener.stats.heldBack;
      // CPU 1 timestamped an event at 96 ms but published it only now.
      push(1, 96n * ms);
      perf.monotonic = 200n * ms;
      listener.drain(onEvent);
      push(0, 199n * ms); // still young at close: close hands it over
      const stats = listener.close(onEvent);
      return { first, heldAfterFirst, order, stats };
    };
    const held = await script(5);
    assert.equal(held.first, 1);
    assert.equal(held.heldAfterFirst, 1);
    assert.deepEqual(held.order, ["0@90", "1@96", "0@98", "0@199"]);
    assert.equal(held.stats.outOfOrder, 0);
    assert.equal(held.stats.heldBack, 0);
    // Without the window the late event comes after a younger one.
    const off = await script(0);
    assert.deepEqual(off.order, ["0@90", "0@98", "1@96", "0@199"]);
    assert.equal(off.stats.outOfOrder, 1);
  });

  it("hold-back: a ring left partly in the kernel (full backlog) holds the other CPUs' younger events until its own are read", async () => {
    const perf = new FakePerf();
    using listener = await open(perf, { p_L4K1: 6 }, {
      backlogKiB: 64,
      holdBackMs: 1,
    });
    const event = logEvent("z".repeat(200));
    let cpu0 = 0;
    // ~100 KiB on CPU 0 (times 1..n ns), more than the 64 KiB backlog.
    while (perf.unread(0) < 100 * 1024) {
      perf.push(0, sample({ time: BigInt(++cpu0), cpu: 0, type: 6, event }));
    }
    // CPU 1: one event younger than CPU 0's first 64 KiB, older than its last.
    const mid = BigInt(Math.floor(cpu0 * 0.9));
    perf.push(1, sample({ time: mid, cpu: 1, type: 6, event }));
    const times: bigint[] = [];
    const onEvent = (e: ListenedEvent) => times.push(e.monotonicNanos);
    listener.drain(onEvent);
    assert.ok(times.length < cpu0, "the first drain read CPU 0 only in part");
    while (listener.drain(onEvent) > 0);
    listener.close(onEvent);
    assert.equal(times.length, cpu0 + 1);
    for (let i = 1; i < times.length; i++) {
      assert.ok(
        times[i - 1] <= times[i],
        `order at ${i}: ${times[i - 1]} > ${times[i]}`,
      );
    }
    assert.equal(listener.stats.outOfOrder, 0);
  });

  it("counts LOST records, unknown tracepoints, malformed and corrupt data without throwing", async () => {
    const perf = new FakePerf();
    const listener = await open(perf, { h_L4K1: 11 });
    const good = logEvent("good");
    perf.push(0, lostRecord(5));
    perf.push(0, sample({ time: 1n, cpu: 0, type: 12, event: good })); // not ours
    const wrongLevel = good.slice();
    wrongLevel[7] = 2; // header level 2 on an L4 tracepoint
    perf.push(0, sample({ time: 2n, cpu: 0, type: 11, event: wrongLevel }));
    perf.push(
      0,
      sample({ time: 3n, cpu: 0, type: 11, event: good.slice(0, 20) }),
    ); // truncated
    const lying = sample({ time: 4n, cpu: 0, type: 11, event: good });
    new DataView(lying.buffer).setUint32(40, 4000, true); // raw size beyond the record
    perf.push(0, lying);
    perf.push(0, sample({ time: 5n, cpu: 0, type: 11, event: good }));
    perf.push(
      1,
      sample({ time: 6n, cpu: 1, type: 11, event: new Uint8Array(0) }),
    );
    const seen: string[] = [];
    listener.drain((e) => seen.push(String(body(e))));
    assert.deepEqual(seen, ["good"]);
    let stats = listener.stats;
    assert.equal(stats.samples, 6);
    assert.equal(stats.events, 1);
    assert.equal(stats.unknown, 1);
    assert.equal(stats.malformed, 4);
    assert.equal(stats.lost, 5);
    assert.equal(stats.lostRecords, 1);
    assert.equal(stats.samples, stats.events + stats.malformed + stats.unknown);
    assert.match(stats.firstError!, /level 2 does not match level 4/);
    // A header whose size is not a multiple of 8: the ring's content is dropped.
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setUint16(6, 12, true);
    perf.push(1, bad);
    perf.push(1, sample({ time: 7n, cpu: 1, type: 11, event: good }));
    listener.drain(() => {});
    assert.equal(listener.stats.corrupt, 1);
    assert.equal(perf.unread(1), 0);
    // The ring keeps working afterwards.
    perf.push(1, sample({ time: 8n, cpu: 1, type: 11, event: good }));
    assert.equal(listener.drain(() => {}), 1);
    // A handler that throws does not stop delivery.
    perf.push(0, sample({ time: 9n, cpu: 0, type: 11, event: good }));
    perf.push(1, sample({ time: 10n, cpu: 1, type: 11, event: good }));
    let calls = 0;
    assert.equal(
      listener.drain(() => {
        calls++;
        throw new Error("handler");
      }),
      2,
    );
    assert.equal(calls, 2);
    // Exact lost counts from read() on close win over the LOST records.
    perf.lostByFd.set(100, 7);
    perf.lostByFd.set(101, 3);
    stats = listener.close();
    assert.equal(stats.lost, 10);
  });

  it("shares one ring per CPU between tracepoints (SET_OUTPUT) and tells them apart by id", async () => {
    const perf = new FakePerf();
    using listener = await open(perf, { a_L4K1: 20, a_L2K1: 21 });
    assert.equal(perf.opens.length, 4);
    assert.equal(perf.log.filter((l) => l.startsWith("mmap")).length, 2);
    assert.ok(perf.log.includes("ioctl 101 0x2405 100"));
    perf.push(
      0,
      sample({ time: 1n, cpu: 0, type: 21, event: logEvent("err", 2) }),
    );
    perf.push(
      0,
      sample({ time: 2n, cpu: 0, type: 20, event: logEvent("info", 4) }),
    );
    const seen: string[] = [];
    listener.drain((e) => seen.push(`${e.tracepoint}:${body(e)}`));
    assert.deepEqual(seen, ["a_L2K1:err", "a_L4K1:info"]);
  });

  it("close disables, drains a last time, unmaps, closes and unregisters, once", async () => {
    const perf = new FakePerf();
    const libc = new FakeLibc();
    const listener = await open(perf, { c_L4K1: 30 }, {}, libc);
    perf.push(
      1,
      sample({ time: 1n, cpu: 1, type: 30, event: logEvent("last") }),
    );
    const last: string[] = [];
    const stats = listener.close((e) => last.push(String(body(e))));
    assert.deepEqual(last, ["last"]);
    assert.equal(stats.events, 1);
    const tail = perf.log.slice(
      perf.log.findIndex((l) => l.includes("0x2401")),
    );
    assert.deepEqual(tail, [
      "ioctl 100 0x2401 0",
      "ioctl 101 0x2401 0",
      "munmap 100",
      "munmap 101",
      "close 100",
      "close 101",
    ]);
    assert.deepEqual(libc.log.filter((l) => l.startsWith("unreg")), [
      "unreg c_L4K1",
    ]);
    assert.equal(libc.memories.size, 0, "native memory freed");
    assert.equal(perf.memories.size, 0);
    const before = perf.log.length;
    listener.close();
    listener[Symbol.dispose]();
    assert.equal(perf.log.length, before);
    assert.equal(listener.drain(() => {}), 0);
  });

  it("run() decodes a large backlog in turns, letting the event loop run between them (exports are not held up)", async () => {
    const perf = new FakePerf();
    await using listener = await open(perf, { t_L4K1: 41 }, {
      bufferKiB: 8192,
      cpus: [0, 1],
    });
    const event = logEvent("turns");
    // 40,000 per CPU (about 5 MiB of each 8 MiB ring): enough decoding for
    // two turns of run()'s time budget even once the JIT is warm (with
    // 20,000 per CPU a quiet host decoded the second half in one turn).
    const total = 80000;
    for (let i = 0; i < total; i++) {
      const cpu = i % 2;
      assert.ok(
        perf.push(cpu, sample({ time: BigInt(i + 1), cpu, type: 41, event })),
      );
    }
    const times: bigint[] = [];
    const controller = new AbortController();
    // What the event loop saw while run() worked through the backlog.
    const seenByTimers: number[] = [];
    const tick = () => {
      seenByTimers.push(times.length);
      if (times.length < total) setTimeout(tick, 0);
      else controller.abort();
    };
    setTimeout(tick, 0);
    await listener.run((e) => times.push(e.monotonicNanos), {
      signal: controller.signal,
    });
    assert.equal(times.length, total);
    for (let i = 0; i < total; i++) assert.equal(times[i], BigInt(i + 1));
    // run()'s first turn starts before any timer can fire, so a timer that
    // saw part of the backlog ran between two turns; one decoding it all
    // at once leaves none.
    const midway = seenByTimers.filter((n) => n > 0 && n < total);
    assert.ok(
      midway.length >= 1,
      `timers ran only at ${JSON.stringify(seenByTimers.slice(0, 10))}`,
    );
  });

  it("run() drains on a timer until its signal aborts", async () => {
    const perf = new FakePerf();
    await using listener = await open(perf, { r_L4K1: 40 }, {
      pollIntervalMs: 5,
    });
    const controller = new AbortController();
    const seen: string[] = [];
    const running = listener.run((e) => {
      seen.push(String(body(e)));
      if (seen.length === 2) controller.abort();
    }, { signal: controller.signal });
    await assert.rejects(listener.run(() => {}), UserEventsListenerError);
    perf.push(
      0,
      sample({ time: 1n, cpu: 0, type: 40, event: logEvent("one") }),
    );
    await new Promise((r) => setTimeout(r, 30));
    perf.push(
      1,
      sample({ time: 2n, cpu: 1, type: 40, event: logEvent("two") }),
    );
    await running;
    assert.deepEqual(seen, ["one", "two"]);
    assert.ok(listener.stats.drains >= 2);
  });

  it("permission failures give one message naming the fix, and undo what was done", async () => {
    const perf = new FakePerf();
    perf.openErrno = 13;
    const libc = new FakeLibc();
    await assert.rejects(
      open(perf, { p_L4K1: 50 }, {}, libc),
      (error: unknown) => {
        assert.ok(error instanceof UserEventsListenerError);
        assert.equal(error.code, 13);
        assert.match(
          error.message,
          /^Cannot open perf events on p_L4K1 \(CPU 0\): EACCES \(13\); run as root, or give the process CAP_PERFMON .*perf_event_paranoid=-1$/,
        );
        return true;
      },
    );
    assert.deepEqual(libc.log.filter((l) => l.startsWith("unreg")), [
      "unreg p_L4K1",
    ]);
    assert.equal(libc.memories.size, 0);
    assert.equal(perf.memories.size, 0);

    const perf2 = new FakePerf();
    perf2.mmapErrno = 1;
    await assert.rejects(
      open(perf2, { p_L4K1: 50 }, { bufferKiB: 1024 }),
      /Cannot map a 1024 KiB perf ring on CPU 0: EPERM \(1\); lower bufferKiB/,
    );
    assert.deepEqual(
      perf2.log.filter((l) => l.startsWith("close")),
      ["close 100"],
    );
  });

  it("explains a missing tracepoint and a kernel without user_events", async () => {
    const libc = new FakeLibc();
    libc.openResult = -13;
    const tracefs = fakeTracefs({});
    await assert.rejects(
      openUserEventsListener({
        providers: ["gone"],
        levels: [4],
        tracefsPath: tracefs,
        perf: new FakePerf(),
        libc,
      }),
      /Cannot listen to gone_L4K1: it is not registered and pre-registering failed with EACCES \(13\); run as root/,
    );
    await assert.rejects(
      openUserEventsListener({
        providers: ["gone"],
        levels: [4],
        tracefsPath: tracefs,
        preregister: false,
        perf: new FakePerf(),
      }),
      /the tracepoint does not exist \(ENOENT\) and could not be pre-registered; start a writer first/,
    );
    await assert.rejects(
      openUserEventsListener({
        providers: ["gone"],
        tracefsPath: "/nonexistent-tracefs",
        preregister: false,
        perf: new FakePerf(),
      }),
      /user_events_status does not exist; this kernel has no user_events/,
    );
  });

  it("rejects hostile and invalid options with typed errors naming the option", async () => {
    const perf = new FakePerf();
    const cases: [unknown, RegExp][] = [
      [null, /options must be an object/],
      [{}, /no tracepoints selected/],
      [{ providers: [null] }, /provider "null"/],
      [{ providers: ["a;b"] }, /provider "a;b"/],
      [{ providers: ["x".repeat(300)] }, /expected 1-233/],
      [{ providers: ["a"], levels: [0] }, /level 0/],
      [{ providers: ["a"], levels: [NaN] }, /level NaN/],
      [{ providers: ["a"], keywords: [-1] }, /keyword -1/],
      [{ tracepoints: ["nolevel"] }, /tracepoint "nolevel"/],
      [
        { tracepoints: [{ toString: () => "x_L4K1" }] },
        /tracepoint "x_L4K1": expected/,
      ],
      [{ providers: ["a"], bufferKiB: 3, perf }, /bufferKiB 3/],
      [{ providers: ["a"], bufferKiB: 0, perf }, /bufferKiB 0/],
      [{ providers: ["a"], pollIntervalMs: 0 }, /pollIntervalMs 0/],
      [
        { providers: ["a"], pollIntervalMs: Infinity },
        /pollIntervalMs Infinity/,
      ],
      [{ providers: ["a"], backlogKiB: 10 }, /backlogKiB 10: expected/],
      [{ providers: ["a"], backlogKiB: NaN }, /backlogKiB NaN/],
      [{ providers: ["a"], backlogKiB: "8192" }, /backlogKiB 8192/],
      [
        { providers: ["a"], copyThreadPriority: "rt" },
        /copyThreadPriority "rt": expected "fifo", "nice" or "unchanged"/,
      ],
      [
        { providers: ["a"], copyThreadPriority: 1 },
        /copyThreadPriority of type number/,
      ],
      [
        {
          providers: ["a"],
          copyThreadPriority: {
            toString() {
              throw new Error("hostile");
            },
          },
        },
        /copyThreadPriority of type object/,
      ],
    ];
    for (const [options, pattern] of cases) {
      await assert.rejects(
        openUserEventsListener(options as UserEventsListenerOptions),
        (error: unknown) => {
          assert.ok(error instanceof UserEventsListenerError, String(error));
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
    // A tracepoint id file with garbage.
    const tracefs = fakeTracefs({ g_L4K1: 1 });
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${tracefs}/events/user_events/g_L4K1/id`, "abc");
    await assert.rejects(
      openUserEventsListener({
        tracepoints: ["g_L4K1"],
        tracefsPath: tracefs,
        perf,
        libc: new FakeLibc(),
      }),
      /Cannot use tracepoint id "abc"/,
    );
  });

  it("selects tracepoint names and parses CPU lists", () => {
    assert.deepEqual(
      selectTracepoints({
        providers: ["p"],
        levels: [5, 10],
        keywords: [1, 0xab],
      }),
      ["p_L5K1", "p_L5Kab", "p_LaK1", "p_LaKab"],
    );
    assert.deepEqual(
      selectTracepoints({ providers: ["p", "p"], levels: [4, 4] }),
      [
        "p_L4K1",
      ],
    );
    assert.deepEqual(parseCpuList("0-2,5,7-8\n"), [0, 1, 2, 5, 7, 8]);
    assert.deepEqual(parseCpuList("garbage,3"), [3]);
    assert.equal(parseCpuList("0-99999999").length, 65536);
  });
});

describe("UserEventsListener wake-up watermark (fake perf)", () => {
  it("wakes at a quarter of the ring without a copy worker, at the benchmark's override (a shift, or a fraction rounded down to 8 bytes) once, and never under a page", async () => {
    const { lastWakeupBytes, setCopyOverrides } = await import(
      "../../receivers/user_events/_copy_trace.ts"
    );
    const watermarks = async (
      bufferKiB: number,
      shift: number | null,
    ): Promise<number[]> => {
      const perf = new FakePerf();
      setCopyOverrides({ placement: null, wakeupShift: shift });
      const listener = await open(perf, { P_L5K1: 7 }, { bufferKiB });
      listener.close();
      assert.equal(
        lastWakeupBytes(),
        new DataView(perf.opens[0].attr.buffer).getUint32(48, true),
      );
      return perf.opens.map((o) => {
        const view = new DataView(o.attr.buffer);
        // flags bit 14: watermark, so offset 48 is bytes, not samples.
        assert.equal(Number(view.getBigUint64(40, true) >> 14n) & 1, 1);
        return view.getUint32(48, true);
      });
    };
    assert.deepEqual(await watermarks(128, null), [32768, 32768]);
    assert.deepEqual(await watermarks(128, 1), [65536, 65536]);
    assert.deepEqual(await watermarks(128, 0.75), [98304, 98304]);
    // 0.3 of 128 KiB is 39321.6 bytes: rounded down to 39320.
    assert.deepEqual(await watermarks(128, 0.3), [39320, 39320]);
    // The override is taken once: the next listener has the default again.
    assert.deepEqual(await watermarks(128, null), [32768, 32768]);
    // A one-page ring wakes at its page, whatever the override says.
    assert.deepEqual(await watermarks(4, 0.25), [4096, 4096]);
  });
});
