// The ETW processors reuse an "enabled" answer of EventProviderEnabled for
// ENABLED_RECHECK events of a level (never a "not enabled" one): what that
// costs when sessions come, go, or change their level or keywords, checked
// against FakeAdvapi32's session model (it filters writes as ETW does).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  LogEmitContext,
  type LogRecord,
  Resource,
  TracerProvider,
} from "../../mod.ts";
import { EtwProcessor, EtwSpanProcessor } from "../../processors/etw/mod.ts";
import { ENABLED_RECHECK } from "../../processors/etw/_etw_provider.ts";
import { FakeAdvapi32 } from "./_fake_advapi32.ts";

const NAME = "MyCompany.MyComponent";
const CONTEXT = new LogEmitContext(new Resource({ "service.name": "svc" }), {
  name: "test",
});
const INFO: LogRecord = {
  severityNumber: 9, // level 4
  body: "hello",
  attributes: { "user.id": 1, "ok": true },
};
const ERROR: LogRecord = { severityNumber: 17, body: "bad" }; // level 2
/** The most events encoded for nobody after a change, per level used. */
const BOUND = ENABLED_RECHECK - 1;

function setup(session?: { level: number; keywords: bigint }) {
  const fake = new FakeAdvapi32();
  fake.session = session ?? { level: 0, keywords: 0n };
  const processor = new EtwProcessor(fake, { providerName: NAME });
  return { fake, processor };
}

function emit(processor: EtwProcessor, record: LogRecord, n: number): void {
  for (let i = 0; i < n; i++) processor.onEmit(record, CONTEXT);
}

describe("EtwProcessor's reuse of an enabled answer", () => {
  it("asks EventProviderEnabled once per ENABLED_RECHECK enabled events of a level", () => {
    const { fake, processor } = setup({ level: 5, keywords: 1n });
    emit(processor, INFO, 100);
    assert.equal(fake.enabledQueries.length, Math.ceil(100 / ENABLED_RECHECK));
    assert.equal(fake.writes.length, 100);
    assert.equal(fake.delivered, 100);
    assert.equal(processor.stats.written, 100);
    assert.ok(fake.enabledQueries.every((q) => q.level === 4));
    assert.ok(fake.enabledQueries.every((q) => q.keyword === 1n));
  });

  it("with no session, asks per emit and encodes nothing", () => {
    const { fake, processor } = setup();
    emit(processor, INFO, 40);
    assert.equal(fake.enabledQueries.length, 40);
    assert.equal(fake.writes.length, 0);
    assert.equal(processor.stats.notEnabled, 40);
  });

  it("stops encoding within the bound when the session stops, then asks per emit", () => {
    const { fake, processor } = setup({ level: 5, keywords: 1n });
    for (const warm of [1, 7, 16, 17, 33]) {
      fake.session = { level: 5, keywords: 1n };
      emit(processor, INFO, warm);
      const writes = fake.writes.length;
      const delivered = fake.delivered;
      fake.session = { level: 0, keywords: 0n }; // the last session stops
      emit(processor, INFO, 50);
      const wasted = fake.writes.length - writes;
      assert.ok(wasted <= BOUND, `${wasted} events encoded after the stop`);
      assert.equal(fake.delivered, delivered); // ETW discarded them
      // No "not enabled" answer is reused: the next emits ask each time.
      const queries = fake.enabledQueries.length;
      emit(processor, INFO, 5);
      assert.equal(fake.enabledQueries.length, queries + 5);
      assert.equal(fake.writes.length - writes, wasted);
    }
  });

  it("sees a session that starts at the next emit", () => {
    const { fake, processor } = setup();
    emit(processor, INFO, 5);
    assert.equal(fake.writes.length, 0);
    fake.session = { level: 4, keywords: 1n };
    emit(processor, INFO, 1);
    assert.equal(fake.writes.length, 1);
    assert.equal(fake.delivered, 1);
  });

  it("follows level changes: a lowered level within the bound, a raised one at once", () => {
    const { fake, processor } = setup({ level: 4, keywords: 1n });
    emit(processor, INFO, 20);
    emit(processor, ERROR, 3);
    assert.equal(fake.delivered, 23);
    fake.session = { level: 2, keywords: 1n }; // errors and worse only
    const before = fake.writes.length;
    let errors = 0;
    for (let i = 0; i < 60; i++) {
      processor.onEmit(INFO, CONTEXT);
      if (i % 3 === 0) {
        processor.onEmit(ERROR, CONTEXT);
        errors++;
      }
    }
    const infos = fake.writes.length - before - errors;
    assert.ok(
      infos <= BOUND,
      `${infos} level-4 events encoded after the change`,
    );
    // Every error was written and delivered: nothing wanted is lost.
    assert.equal(fake.delivered, 23 + errors);
    fake.session = { level: 5, keywords: 1n }; // raised: seen at once
    const delivered = fake.delivered;
    emit(processor, INFO, 1);
    assert.equal(fake.delivered, delivered + 1);
  });

  it("follows keyword changes: keyword 1 dropped within the bound, added back at once", () => {
    const { fake, processor } = setup({ level: 5, keywords: 1n });
    emit(processor, INFO, 10);
    fake.session = { level: 5, keywords: 2n }; // another keyword only
    const before = fake.writes.length;
    emit(processor, INFO, 50);
    assert.ok(fake.writes.length - before <= BOUND);
    assert.equal(fake.delivered, 10);
    fake.session = { level: 5, keywords: 3n };
    emit(processor, INFO, 1);
    assert.equal(fake.delivered, 11);
  });

  it("keeps the bound per level when levels alternate", () => {
    const { fake, processor } = setup({ level: 5, keywords: 1n });
    const records: LogRecord[] = [
      { severityNumber: 1, body: "a" }, // level 5
      INFO, // 4
      { severityNumber: 13, body: "c" }, // 3
      ERROR, // 2
      { severityNumber: 21, body: "e" }, // 1
    ];
    for (let i = 0; i < 200; i++) processor.onEmit(records[i % 5], CONTEXT);
    assert.equal(fake.delivered, 200);
    fake.session = { level: 0, keywords: 0n };
    const before = fake.writes.length;
    for (let i = 0; i < 200; i++) processor.onEmit(records[i % 5], CONTEXT);
    assert.ok(fake.writes.length - before <= BOUND * records.length);
  });

  it("enabled() asks every time, and its 'not enabled' ends the reuse at once", () => {
    const { fake, processor } = setup({ level: 5, keywords: 1n });
    emit(processor, INFO, 1);
    const queries = fake.enabledQueries.length;
    assert.equal(processor.enabled(9), true);
    assert.equal(processor.enabled(9), true);
    assert.equal(fake.enabledQueries.length, queries + 2);
    fake.session = { level: 0, keywords: 0n };
    assert.equal(processor.enabled(9), false);
    const writes = fake.writes.length;
    emit(processor, INFO, 5);
    assert.equal(fake.writes.length, writes);
  });

  it("hostile records neither throw nor use up or extend the reuse", () => {
    const evil = {
      get severityNumber(): number {
        throw new Error("boom");
      },
    } as unknown as LogRecord;
    const proxy = new Proxy({}, {
      get() {
        throw new Error("trap");
      },
    }) as LogRecord;
    const { fake, processor } = setup({ level: 5, keywords: 1n });
    for (let i = 0; i < 40; i++) {
      processor.onEmit(INFO, CONTEXT);
      processor.onEmit(evil, CONTEXT);
      processor.onEmit(proxy, CONTEXT);
      processor.onEmit(null as unknown as LogRecord, CONTEXT);
      processor.onEmit({ severityNumber: 9, attributes: 5 } as never, CONTEXT);
    }
    // The last kind is a record (level 4) whose attributes the full encoder
    // rejects or skips: it asks like any record of its level.
    const clean = setup({ level: 5, keywords: 1n });
    for (let i = 0; i < 40; i++) {
      clean.processor.onEmit(INFO, CONTEXT);
      clean.processor.onEmit({ severityNumber: 9 }, CONTEXT);
    }
    assert.equal(fake.enabledQueries.length, clean.fake.enabledQueries.length);
    assert.equal(processor.stats.invalidRecords, 120);
    assert.equal(
      fake.writes.filter((w) => w.blobs[2].bytes.length > 0).length,
      processor.stats.written,
    );
    // Within the bound after a stop, whatever the mix.
    fake.session = { level: 0, keywords: 0n };
    const before = fake.writes.length;
    for (let i = 0; i < 40; i++) {
      processor.onEmit(evil, CONTEXT);
      processor.onEmit(INFO, CONTEXT);
    }
    assert.ok(fake.writes.length - before <= BOUND);
  });

  it("neither asks nor writes after shutdown, within the reuse too", async () => {
    const { fake, processor } = setup({ level: 5, keywords: 1n });
    emit(processor, INFO, 2);
    await processor.shutdown();
    const queries = fake.enabledQueries.length;
    emit(processor, INFO, 5);
    assert.equal(fake.writes.length, 2);
    assert.equal(fake.enabledQueries.length, queries);
    assert.equal(processor.stats.afterShutdown, 5);
  });

  it("the span processor stops encoding within the bound too", () => {
    const fake = new FakeAdvapi32();
    fake.session = { level: 5, keywords: 1n };
    using spans = new EtwSpanProcessor(fake, { providerName: NAME });
    const tracer = new TracerProvider({ processors: [spans] }).getTracer("t");
    for (let i = 0; i < 20; i++) tracer.startSpan("s").end();
    assert.equal(fake.delivered, 20);
    assert.equal(fake.enabledQueries.length, Math.ceil(20 / ENABLED_RECHECK));
    fake.session = { level: 0, keywords: 0n };
    const before = fake.writes.length;
    for (let i = 0; i < 40; i++) tracer.startSpan("s").end();
    assert.ok(fake.writes.length - before <= BOUND);
    assert.equal(fake.delivered, 20);
    fake.session = { level: 5, keywords: 1n };
    tracer.startSpan("s").end();
    assert.equal(fake.delivered, 21);
  });
});
