// The listener → telemetry path on the host (issue 12): perf samples in a
// fake ring, drained by a UserEventsListener and handed to a
// UserEventsBridge in front of processors that only count (the forwarder's
// path without the batch and the export), old tree against this one in ONE
// process, paired rounds alternating which goes first.
//
// Events: 1,600 Common Schema `Log` records (bench/_fixtures.ts's seeded
// records, each with its own time, trace and span id, one service name)
// and 400 `Span` events (a round's worth, so a round repeats no trace id),
// encoded by this tree's processor encoder and wrapped as PERF_RECORD_SAMPLEs
// (tests/receivers/_fake_perf.ts). Per round and arm: the samples are copied
// into the ring (not timed), then one drain is timed (CPU time) and its
// allocation read from V8's total_allocated_bytes (node:v8; Bun's shim
// reads 0 for this workload, so under Bun only the CPU time means anything).
//
// `--kind c`: instead, tests/kernel/_c_writer.c's event (CEvent: u32 count,
// string16 msg, i64 delta, bool8 ok; its count and delta change per event),
// the VM bench's (bench/listener_rate.ts) load; `--mode listen` then reads
// what that bench's callback reads (the first field's value and the time).
//
//   deno run -A bench/listener_decode_ab.ts --old DIR [--rounds 40] [--events 2000] [--mode bridge|listen|decode] [--kind otel|c]
//   bun bench/listener_decode_ab.ts --old DIR [...]
//
// `--mode listen` hands the events to a callback that reads nothing (the
// listener's own cost); `decode` times EventHeaderDecoder.decode over the
// same event bytes (the public decode API). Prints ns/event and
// bytes/event per arm (medians over rounds) and the median of the per-round
// new/old ratios with quartiles.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { cpuUsage } from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";
import { copySourceTree, quantile, seededRecords } from "./_fixtures.ts";

function arg(name: string): string | undefined {
  const g = globalThis as {
    Deno?: { args: string[] };
    process?: { argv: string[] };
  };
  const argv = g.Deno?.args ?? g.process!.argv.slice(2);
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const oldRoot = arg("--old");
const rounds = Number(arg("--rounds") ?? 40);
const perRound = Number(arg("--events") ?? 2000);
const mode = arg("--mode") ?? "bridge";
const kind = arg("--kind") ?? "otel";
const here = fileURLToPath(new URL("..", import.meta.url));
const TRACEPOINT = "bench_L4K1";
/** Distinct Log events (and a quarter as many Span events): a round's worth. */
const logCount = Math.ceil(perRound * 0.8);

// deno-lint-ignore no-explicit-any
type Mod = any;

async function load(root: string) {
  const url = (p: string) => pathToFileURL(join(root, p)).href;
  return {
    mod: await import(url("mod.ts")) as Mod,
    eh: await import(url("processors/_eventheader.ts")) as Mod,
    ue: await import(url("processors/user_events/mod.ts")) as Mod,
    rx: await import(url("receivers/user_events/mod.ts")) as Mod,
    fake: await import(url("tests/receivers/_fake_perf.ts")) as Mod,
  };
}

/** tests/kernel/_c_writer.c's event `i`, byte for byte (after write_index). */
function cWriterEvent(i: number): Uint8Array {
  const enc = new TextEncoder();
  const meta = [
    ...enc.encode("CEvent\0count\0"),
    0x04,
    ...enc.encode("msg\0"),
    0x0a,
    ...enc.encode("delta\0"),
    0x85,
    0x02,
    ...enc.encode("ok\0"),
    0x82,
    0x07,
  ];
  const text = enc.encode("from C");
  const out = new Uint8Array(12 + meta.length + 4 + 2 + text.length + 8 + 1);
  const v = new DataView(out.buffer);
  out.set([0x07, 0, 0, 0, 0, 0, 0, 4, meta.length, 0, 0x01, 0x00]);
  out.set(meta, 12);
  let p = 12 + meta.length;
  v.setUint32(p, i, true);
  v.setUint16(p + 4, text.length, true);
  out.set(text, p + 6);
  p += 6 + text.length;
  v.setBigInt64(p, -BigInt(i) * 1000000007n, true);
  out[p + 8] = i % 2;
  return out;
}

/** The event bytes (after write_index) of the Log and Span events. */
async function makeEvents(m: Awaited<ReturnType<typeof load>>) {
  if (kind === "c") {
    const events: Uint8Array[] = [];
    for (let i = 0; i < perRound; i++) events.push(cWriterEvent(i));
    return events;
  }
  const resource = new m.mod.Resource({
    "service.name": "checkout",
    "service.instance.id": "i-7",
  });
  const context = new m.mod.LogEmitContext(resource, { name: "bench" });
  const events: Uint8Array[] = [];
  const b = new m.eh.EventBuffer();
  let i = 0;
  // As in a real stream, every record has its own time, trace and span id.
  for (const record of seededRecords(logCount)) {
    const data = m.mod.toLogRecordData({
      ...record,
      timestamp: (record.timestamp as number) + i,
      traceId: "4bf92f35a3ce929d" +
        (0x10000000 + i * 7919).toString(16).padStart(16, "0"),
      spanId: (0x00f067aa0ba902b7n + BigInt(i)).toString(16).padStart(16, "0"),
      traceFlags: 1,
    }, context);
    const n = m.eh.encodeLogRecord(b, data, 4, { resourceAttributes: [] });
    events.push(b.bytes.slice(4, n));
    i++;
  }
  const exporter = new m.mod.InMemoryExporter();
  const provider = new m.mod.TracerProvider({
    resource,
    processors: [new m.mod.SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer("bench");
  for (let s = 0; s < logCount / 4; s++) {
    const span = tracer.startSpan(`GET /api/v1/items/${s}`, {
      kind: 1,
      attributes: {
        "http.request.method": "GET",
        "http.response.status_code": 200,
      },
    });
    span.end();
  }
  await provider.forceFlush();
  for (const span of exporter.items) {
    const n = m.eh.encodeSpan(b, span, { resourceAttributes: [] });
    events.push(b.bytes.slice(4, n));
  }
  await provider.shutdown();
  return events;
}

interface Arm {
  readonly label: string;
  /** Runs one round; returns [cpu ns, allocated bytes]. */
  round(): [number, number];
  check(): string;
}

function allocated(): number {
  return v8.getHeapStatistics().total_allocated_bytes;
}

async function arm(
  label: string,
  m: Awaited<ReturnType<typeof load>>,
  events: readonly Uint8Array[],
): Promise<Arm> {
  const order: Uint8Array[] = [];
  for (let i = 0; i < perRound; i++) order.push(events[i % events.length]);
  if (mode === "decode") {
    const decoder = new m.ue.EventHeaderDecoder();
    let fields = 0;
    return {
      label,
      round() {
        const a0 = allocated();
        const t0 = cpuUsage();
        for (let i = 0; i < order.length; i++) {
          fields += decoder.decode(TRACEPOINT, order[i]).fields.length;
        }
        const t1 = cpuUsage(t0);
        return [(t1.user + t1.system) * 1000, allocated() - a0];
      },
      check: () => `fields ${fields}`,
    };
  }
  const perf = new m.fake.FakePerf();
  const tracefs = m.fake.fakeTracefs({ [TRACEPOINT]: 7 });
  const listener = await m.rx.openUserEventsListener({
    tracepoints: [TRACEPOINT],
    perf,
    preregister: false,
    copyThread: false,
    holdBackMs: 0,
    cpus: [0],
    bufferKiB: 2048,
    backlogKiB: 4096,
    tracefsPath: tracefs,
  });
  let logs = 0;
  let spans = 0;
  const bridge = new m.rx.UserEventsBridge({
    logProcessors: [{
      onEmit() {
        logs++;
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    }],
    spanProcessors: [{
      onStart() {},
      onEnd() {
        spans++;
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    }],
  });
  let seen = 0;
  let firstValues = 0;
  let lastTime = 0;
  const onEvent = mode === "listen" && kind === "c"
    ? (
      e: { monotonicNanos: bigint; event: { fields: { value: unknown }[] } },
    ) => {
      // What bench/listener_rate.ts's callback reads.
      firstValues += Number(e.event.fields[0].value);
      lastTime = Number(e.monotonicNanos);
      seen++;
    }
    : mode === "listen"
    ? () => {
      seen++;
    }
    : (e: unknown) => bridge.handle(e);
  // All samples of a round, back to back, as the ring would hold them.
  const samples = order.map((event, i) =>
    m.fake.sample({ time: 1000n + BigInt(i), cpu: 0, type: 7, event })
  );
  let total = 0;
  for (const s of samples) total += s.length;
  const block = new Uint8Array(total);
  let at = 0;
  for (const s of samples) {
    block.set(s, at);
    at += s.length;
  }
  const ring = perf.ringOfCpu.get(0) as ArrayBuffer;
  const control = new BigUint64Array(ring, 1024, 4);
  const size = Number(control[3]);
  const data = new Uint8Array(ring, perf.page, size);
  if (total > size - 8) {
    throw new Error(`a round of ${total} bytes does not fit the ring`);
  }
  let time = 0n;
  return {
    label,
    round() {
      // Fill (not timed): the round's samples after the ring's head, new
      // times so the listener sees them in order.
      let head = Number(control[0]);
      const v = new DataView(block.buffer);
      for (let i = 0, p = 0; i < samples.length; i++) {
        v.setBigUint64(p + 24, time++, true);
        p += samples[i].length;
      }
      const offset = head & (size - 1);
      const first = Math.min(total, size - offset);
      data.set(block.subarray(0, first), offset);
      if (first < total) data.set(block.subarray(first), 0);
      head += total;
      Atomics.store(control, 0, BigInt(head));
      const a0 = allocated();
      const t0 = cpuUsage();
      listener.drain(onEvent);
      const t1 = cpuUsage(t0);
      return [(t1.user + t1.system) * 1000, allocated() - a0];
    },
    check() {
      const s = listener.stats;
      return `events ${s.events} malformed ${s.malformed} logs ${logs} spans ${spans} seen ${seen}${
        kind === "c" ? ` sum ${firstValues} last ${lastTime}` : ""
      }`;
    },
  };
}

const runtime = "Deno" in globalThis
  ? "Deno"
  : "Bun" in globalThis
  ? "Bun"
  : "Node";
if (oldRoot === undefined) {
  console.error(
    "usage: listener_decode_ab.ts --old DIR [--rounds N] [--events N] [--mode bridge|listen|decode]",
  );
  throw new Error("--old DIR is required");
}
const oldCopy = copySourceTree(oldRoot, "listener-decode-", [
  "tests/receivers",
]);
try {
  const newMods = await load(here);
  const oldMods = await load(oldCopy);
  const events = await makeEvents(newMods);
  const arms = [
    await arm("old", oldMods, events),
    await arm("new", newMods, events),
  ];
  // Warm-up: both compiled before the first timed round.
  for (let i = 0; i < 5; i++) for (const a of arms) a.round();
  const ns: number[][] = [[], []];
  const bytes: number[][] = [[], []];
  const ratios: number[] = [];
  const byteRatios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const first = r & 1;
    const got: [number, number][] = [];
    got[first] = arms[first].round();
    got[1 - first] = arms[1 - first].round();
    for (let a = 0; a < 2; a++) {
      ns[a].push(got[a][0] / perRound);
      bytes[a].push(got[a][1] / perRound);
    }
    ratios.push(got[1][0] / got[0][0]);
    byteRatios.push(got[1][1] / got[0][1]);
  }
  const med = (x: number[]) => quantile(x, 0.5);
  console.log(
    kind === "c"
      ? `${runtime}, --mode ${mode} --kind c, ${rounds} rounds of ${perRound} C-writer events`
      : `${runtime}, --mode ${mode}, ${rounds} rounds of ${perRound} events (${events.length} distinct: ${logCount} Log, ${
        logCount / 4
      } Span)`,
  );
  for (let a = 0; a < 2; a++) {
    console.log(
      `${arms[a].label}: ${med(ns[a]).toFixed(0)} ns/event, ${
        med(bytes[a]).toFixed(0)
      } bytes/event (${arms[a].check()})`,
    );
  }
  console.log(
    `new/old CPU time: ${med(ratios).toFixed(2)} [q1 ${
      quantile(ratios, 0.25).toFixed(2)
    }, q3 ${quantile(ratios, 0.75).toFixed(2)}]; bytes: ${
      med(byteRatios).toFixed(2)
    } [q1 ${quantile(byteRatios, 0.25).toFixed(2)}, q3 ${
      quantile(byteRatios, 0.75).toFixed(2)
    }]`,
  );
} finally {
  rmSync(oldCopy, { recursive: true, force: true });
}
