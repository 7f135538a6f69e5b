// The forwarder over a fake perf binding: events in the rings come out of
// the exporters, counters add up, shutdown closes the listener.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  InMemoryExporter,
  LogEmitContext,
  type LogRecordData,
  type ReadableSpan,
  Resource,
  toLogRecordData,
} from "../../mod.ts";
import { encodeLogRecord, EventBuffer } from "../../processors/_eventheader.ts";
import { openUserEventsForwarder } from "../../receivers/user_events/mod.ts";
import { parseTailArgs } from "../../receivers/user_events/tail.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakePerf, fakeTracefs, sample } from "./_fake_perf.ts";

function logEvent(body: string): Uint8Array {
  const b = new EventBuffer();
  const n = encodeLogRecord(
    b,
    toLogRecordData(
      { severityNumber: 9, body },
      new LogEmitContext(new Resource({ "service.name": "w" }), { name: "w" }),
    ),
    4,
    { resourceAttributes: [] },
  );
  return b.bytes.slice(4, n);
}

describe("openUserEventsForwarder (fake perf)", () => {
  it("exports what the rings hold and its counters add up", async () => {
    const perf = new FakePerf();
    const logs = new InMemoryExporter<LogRecordData>();
    const spans = new InMemoryExporter<ReadableSpan>();
    const forwarder = await openUserEventsForwarder({
      listener: {
        tracepoints: ["f_L4K1"],
        tracefsPath: fakeTracefs({ f_L4K1: 3 }),
        cpus: [0, 1],
        perf,
        libc: new FakeLibc(),
      },
      logExporter: logs,
      spanExporter: spans,
    });
    perf.push(0, sample({ time: 1n, cpu: 0, type: 3, event: logEvent("a") }));
    perf.push(1, sample({ time: 2n, cpu: 1, type: 3, event: logEvent("b") }));
    assert.equal(forwarder.drain(), 2);
    perf.push(
      1,
      sample({ time: 3n, cpu: 1, type: 3, event: new Uint8Array(9) }),
    );
    perf.push(0, sample({ time: 4n, cpu: 0, type: 3, event: logEvent("c") }));
    await forwarder.shutdown(); // the last drain happens in shutdown
    assert.deepEqual(logs.items.map((r) => r.body), ["a", "b", "c"]);
    assert.deepEqual(logs.items[0].resource.attributes, {
      "service.name": "w",
    });
    const s = forwarder.stats;
    assert.equal(s.listener.samples, 4);
    assert.equal(s.listener.malformed, 1);
    assert.equal(s.bridge.events, s.listener.events);
    assert.equal(s.bridge.logs, 3);
    assert.equal(s.logs.exported, 3);
    assert.equal(s.spans.exported, 0);
    assert.ok(perf.log.includes("close 100") && perf.log.includes("close 101"));
    await forwarder.shutdown();
  });
});

describe("parseTailArgs", () => {
  it("parses and rejects with messages naming the option", () => {
    const a = parseTailArgs([
      "p",
      "q",
      "--event",
      "Log",
      "--event",
      "Span",
      "--keyword",
      "ff",
      "--buffer-kib",
      "64",
      "--duration",
      "1.5",
    ]);
    assert.deepEqual(a, {
      providers: ["p", "q"],
      levels: [1, 2, 3, 4, 5],
      keywords: [255],
      events: ["Log", "Span"],
      json: false,
      bufferKiB: 64,
      durationMs: 1500,
    });
    for (
      const [argv, pattern] of [
        [[], /No provider/],
        [["p", "--level"], /--level needs a value/],
        [["p", "--level", "0"], /--level 0/],
        [["p", "--keyword", "zz"], /--keyword zz/],
        [["p", "--duration", "-1"], /--duration -1/],
        [["p", "--bogus"], /Unknown option --bogus/],
      ] as const
    ) {
      assert.throws(() => parseTailArgs(argv), pattern);
    }
  });
});
