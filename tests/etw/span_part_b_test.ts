// The span PartB mapping both OS back-ends share (processors/_span_part_b.ts):
// one table of well-known attribute keys with the current semantic
// conventions, the parent id rule, and service.name / service.instance.id in
// PartA only. Each event is decoded with the project decoder of its format.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  LogEmitContext,
  type ReadableSpan,
  Resource,
  SpanKind,
  type SpanProcessor,
  SpanStatusCode,
  TracerProvider,
} from "../../mod.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  EtwSpanProcessor,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import { FakeAdvapi32 } from "./_fake_advapi32.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";

type Obj = Record<string, Record<string, unknown>>;

/** Both span processors over fakes, and a reader of their last event. */
function backEnds(resourceAttributes: string[] = []) {
  const advapi = new FakeAdvapi32();
  advapi.enabledAnswer = 1;
  const etw = new EtwSpanProcessor(advapi, {
    providerName: "Test.Spans",
    resourceAttributes,
  });
  const libc = new FakeLibc();
  const ue = new UserEventsSpanProcessor(libc, {
    providerName: "spans",
    userEventsDataPath: "/fake/user_events_data",
    resourceAttributes,
  });
  libc.enable("spans_L4K1");
  return {
    etw,
    ue,
    lastEtw(): Obj {
      const w = advapi.writes.at(-1)!;
      return traceLoggingFieldsToObject(
        decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).fields,
      ) as Obj;
    },
    lastUe(): Obj {
      const w = libc.writes.at(-1)!;
      return decodedFieldsToObject(
        decodeEventHeader(libc.nameOfIndex(w.index), w.event).fields,
      ) as Obj;
    },
  };
}

/** One ended span from the real tracer, as a processor receives it. */
async function endedSpan(
  attributes: Record<string, string | number>,
  resource = new Resource({}),
): Promise<ReadableSpan> {
  let captured: ReadableSpan | undefined;
  const capture: SpanProcessor = {
    onStart() {},
    onEnd(span) {
      captured = span;
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  await using provider = new TracerProvider({
    processors: [capture],
    resource,
  });
  const tracer = provider.getTracer("t");
  const parent = tracer.startSpan("parent");
  const span = tracer.startSpan("q", {
    parent,
    kind: SpanKind.CLIENT,
    attributes,
  });
  span.setStatus({ code: SpanStatusCode.ERROR, message: "failed" });
  span.end();
  return captured!;
}

/** A plain object with every data property and getter value of `span`. */
function snapshot(span: ReadableSpan): ReadableSpan {
  const out: Record<string, unknown> = {};
  for (
    let p: object | null = span;
    p !== null && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const key of Object.getOwnPropertyNames(p)) {
      if (key === "constructor" || key in out) continue;
      const value = (span as unknown as Record<string, unknown>)[key];
      if (typeof value !== "function") out[key] = value;
    }
  }
  return out as unknown as ReadableSpan;
}

const CURRENT: Record<string, string | number> = {
  "db.system.name": "postgresql",
  "db.namespace": "orders",
  "db.query.text": "SELECT 1",
  "messaging.system": "kafka",
  "messaging.destination.name": "events",
  "messaging.url": "kafka://b",
  "rpc.system.name": "grpc",
  "rpc.response.status_code": 0,
  "url.full": "https://x/y",
  "http.request.method": "GET",
  other: "stays in PartC",
};

const RENAMED = {
  dbSystem: "postgresql",
  dbName: "orders",
  dbStatement: "SELECT 1",
  httpMethod: "GET",
  httpUrl: "https://x/y",
  messagingSystem: "kafka",
  messagingDestination: "events",
  messagingUrl: "kafka://b",
  rpcSystem: "grpc",
};

describe("span PartB, shared by the user_events and ETW span processors", () => {
  it("moves the current semantic-convention keys into PartB under the Common Schema names, on both back-ends", async () => {
    const b = backEnds();
    const span = await endedSpan(CURRENT);
    b.etw.onEnd(span);
    b.ue.onEnd(span);
    const etw = b.lastEtw();
    const ue = b.lastUe();
    for (const [name, value] of Object.entries(RENAMED)) {
      assert.equal(etw.PartB[name], value, `ETW ${name}`);
      assert.equal(ue.PartB[name], value, `user_events ${name}`);
    }
    // Integers: INT64 (bigint) in TraceLogging, value64 in EventHeader.
    assert.equal(etw.PartB.rpcGrpcStatusCode, 0n);
    assert.equal(ue.PartB.rpcGrpcStatusCode, 0);
    assert.deepEqual(etw.PartC, { other: "stays in PartC" });
    assert.deepEqual(ue.PartC, { other: "stays in PartC" });
    // The PartB field order is the table's on both.
    const order = (o: Obj) =>
      Object.keys(o.PartB).filter((k) =>
        k in RENAMED || k === "rpcGrpcStatusCode"
      );
    assert.deepEqual(order(etw), [
      ...Object.keys(RENAMED),
      "rpcGrpcStatusCode",
    ]);
    assert.deepEqual(order(ue), order(etw));
    // statusMessage is written (no httpStatusCode).
    assert.equal(etw.PartB.statusMessage, "failed");
    assert.equal(ue.PartB.statusMessage, "failed");
  });

  it("leaves the old keys (db.system, db.name, db.statement, messaging.destination) in PartC", async () => {
    const b = backEnds();
    const old = {
      "db.system": "mysql",
      "db.name": "n",
      "db.statement": "s",
      "messaging.destination": "d",
    };
    const span = await endedSpan(old);
    b.etw.onEnd(span);
    b.ue.onEnd(span);
    for (const o of [b.lastEtw(), b.lastUe()]) {
      assert.deepEqual(o.PartC, old);
      assert.equal(o.PartB.dbSystem, undefined);
      assert.equal(o.PartB.messagingDestination, undefined);
    }
  });

  it("writes parentId only for a valid parent span id", async () => {
    const b = backEnds();
    const span = await endedSpan({});
    b.etw.onEnd(span);
    b.ue.onEnd(span);
    assert.equal(b.lastEtw().PartB.parentId, span.parentSpanId);
    assert.equal(b.lastUe().PartB.parentId, span.parentSpanId);
    // Uppercase hex is a valid id, written lowercase (the tracer's rule).
    const upper = { ...snapshot(span), parentSpanId: "00F067AA0BA902B7" };
    b.etw.onEnd(upper);
    b.ue.onEnd(upper);
    assert.equal(b.lastEtw().PartB.parentId, "00f067aa0ba902b7");
    assert.equal(b.lastUe().PartB.parentId, "00f067aa0ba902b7");
    for (
      const bad of [
        "0000000000000000",
        "zzzzzzzzzzzzzzzz",
        "00f067aa0ba902",
        "",
        42 as unknown as string,
      ]
    ) {
      const invalid = { ...snapshot(span), parentSpanId: bad };
      b.etw.onEnd(invalid);
      b.ue.onEnd(invalid);
      assert.equal("parentId" in b.lastEtw().PartB, false, `ETW ${bad}`);
      assert.equal("parentId" in b.lastUe().PartB, false, `UE ${bad}`);
    }
    assert.equal(b.etw.stats.written, 7);
    assert.equal(b.etw.stats.encodeErrors, 0);
    assert.equal(b.ue.stats.written, 7);
  });

  it("puts service.name and service.instance.id in PartA only, even when listed in resourceAttributes", async () => {
    const b = backEnds([
      "service.name",
      "service.instance.id",
      "deployment.environment",
    ]);
    const resource = new Resource({
      "service.name": "api",
      "service.instance.id": "i-1",
      "deployment.environment": "prod",
    });
    const span = await endedSpan({ k: "v" }, resource);
    b.etw.onEnd(span);
    b.ue.onEnd(span);
    const etw = b.lastEtw();
    const ue = b.lastUe();
    assert.deepEqual(etw.PartA.ext_cloud, { role: "api", roleInstance: "i-1" });
    assert.equal(ue.PartA.ext_cloud_role, "api");
    assert.equal(ue.PartA.ext_cloud_roleInstance, "i-1");
    assert.deepEqual(etw.PartC, { k: "v", "deployment.environment": "prod" });
    assert.deepEqual(ue.PartC, { k: "v", "deployment.environment": "prod" });
  });
});

describe("EtwProcessor eventNameCallback", () => {
  it("names events from the record, falling back to eventName (counted) when it throws or returns garbage", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const answers: unknown[] = [
      "checkout.done",
      new Error("boom"),
      undefined,
      "",
      "n".repeat(256),
      "ünï",
    ];
    let i = 0;
    using processor = new EtwProcessor(fake, {
      providerName: "Test.Names",
      // Long enough that the deferred pass gives up: the callback is still called once.
      maxEventSize: 2048,
      eventNameCallback: (record) => {
        const a = answers[i++];
        if (a instanceof Error) throw a;
        assert.equal(record.body, i === 1 ? "z".repeat(3000) : "hi");
        return a as string;
      },
    });
    const ctx = new LogEmitContext(new Resource({}), { name: "s" });
    processor.onEmit(
      { severityNumber: 9, body: "z".repeat(3000) },
      ctx,
    );
    for (let k = 1; k < answers.length; k++) {
      processor.onEmit({ severityNumber: 9, body: "hi" }, ctx);
    }
    assert.equal(i, answers.length); // one call per record
    const names = fake.writes.map((w) =>
      decodeTraceLogging(w.blobs[1].bytes, w.blobs[2].bytes).name
    );
    assert.deepEqual(names, [
      "checkout.done",
      "Log",
      "Log",
      "Log",
      "Log",
      "ünï",
    ]);
    assert.equal(processor.stats.eventNameFallbacks, 4);
    assert.equal(processor.stats.written, 6);
  });

  it("rejects a callback that is not a function, and any callback on the span processor", () => {
    for (const bad of [null, "Log", 1, {}]) {
      assert.throws(
        () =>
          new EtwProcessor(new FakeAdvapi32(), {
            providerName: "Test.Names",
            eventNameCallback: bad as never,
          }),
        (e: Error) =>
          e instanceof TypeError && /eventNameCallback/.test(e.message),
      );
    }
    assert.throws(
      () =>
        new EtwSpanProcessor(new FakeAdvapi32(), {
          providerName: "Test.Names",
          eventNameCallback: () => "x",
        }),
      (e: Error) =>
        e instanceof TypeError && /eventNameCallback/.test(e.message),
    );
  });
});
