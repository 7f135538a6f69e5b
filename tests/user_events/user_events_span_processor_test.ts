import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeLibc } from "./_fake_libc.ts";
import {
  type DecodedField,
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import {
  type Diagnostic,
  formatRfc3339,
  type ReadableSpan,
  Resource,
  SpanStatusCode,
  TracerProvider,
} from "../../mod.ts";

const PATH = "/fake/user_events_data";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";

function setup() {
  const fake = new FakeLibc();
  const diagnostics: Diagnostic[] = [];
  const processor = new UserEventsSpanProcessor(fake, {
    providerName: "spans",
    userEventsDataPath: PATH,
    diagnostics: (d) => diagnostics.push(d),
  });
  return { fake, processor, diagnostics };
}

function span(overrides: Partial<ReadableSpan> = {}): ReadableSpan {
  return {
    name: "op",
    kind: 0,
    traceId: TRACE_ID,
    spanId: "1111111111111111",
    traceFlags: 1,
    traceState: undefined,
    parentSpanId: undefined,
    parentIsRemote: false,
    startTimeUnixMs: 1704164645000,
    startTimeNanosInMs: 0,
    endTimeUnixMs: 1704164646500,
    endTimeNanosInMs: 0,
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: SpanStatusCode.UNSET },
    resource: new Resource({}),
    scope: { name: "s" },
    ended: true,
    ...overrides,
  };
}

function decodeAll(fake: FakeLibc) {
  return fake.writes.map((w) =>
    decodeEventHeader(fake.nameOfIndex(w.index), w.event)
  );
}

describe("UserEventsSpanProcessor", () => {
  it("registers one tracepoint <provider>_L4K1 and skips spans while its word is 0", () => {
    const { fake, processor, diagnostics } = setup();
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(fake.registrations.map((r) => r.name), ["spans_L4K1"]);
    assert.deepEqual(processor.tracepoints, ["spans_L4K1"]);
    let touched = 0;
    const watched = new Proxy(span(), {
      get(target, key) {
        touched++;
        return Reflect.get(target, key);
      },
    });
    processor.onEnd(watched);
    assert.equal(touched, 0, "the span is not read when nobody listens");
    assert.equal(processor.enabled(), false);
    assert.equal(processor.stats.notEnabled, 1);
    assert.equal(fake.writes.length, 0);
    processor.shutdown();
  });

  it("writes a root span with the Rust exporter's fields", () => {
    const { fake, processor } = setup();
    fake.enable("spans_L4K1");
    assert.equal(processor.enabled(), true);
    processor.onEnd(
      span({
        resource: new Resource({
          "service.name": "svc",
          "service.instance.id": "7",
        }),
      }),
    );
    const [event] = decodeAll(fake);
    assert.equal(event.name, "Span");
    assert.equal(event.level, 4);
    assert.equal(event.opcode, 0);
    assert.deepEqual(decodedFieldsToObject(event.fields), {
      __csver__: 1024,
      PartA: {
        time: "2024-01-02T03:04:06.500Z",
        ext_dt_traceId: TRACE_ID,
        ext_dt_spanId: "1111111111111111",
        ext_cloud_role: "svc",
        ext_cloud_roleInstance: "7",
      },
      PartB: {
        _typeName: "Span",
        name: "op",
        startTime: "2024-01-02T03:04:05Z",
        success: true,
        kind: 0,
      },
    });
    const partB = event.fields.find((f) => f.name === "PartB")!
      .value as DecodedField[];
    assert.deepEqual(partB.map((f) => [f.name, f.encoding, f.format]), [
      ["_typeName", 10, 0],
      ["name", 10, 0],
      ["startTime", 10, 0],
      ["success", 2, 7],
      ["kind", 4, 1],
    ]);
    processor.shutdown();
  });

  it("encodes every kind, success from the status, the parent id and links", () => {
    const { fake, processor } = setup();
    fake.enable("spans_L4K1");
    for (let kind = 0; kind <= 4; kind++) {
      processor.onEnd(
        span({
          kind: kind as ReadableSpan["kind"],
          status: { code: ([0, 1, 2, 0, 1] as const)[kind] },
        }),
      );
    }
    processor.onEnd(span({
      parentSpanId: PARENT_ID,
      links: [
        {
          traceId: TRACE_ID,
          spanId: PARENT_ID,
          traceFlags: 1,
          attributes: {},
          droppedAttributesCount: 0,
        },
        {
          traceId: "0af7651916cd43dd8448eb211c80319c",
          spanId: "b7ad6b7169203331",
          traceFlags: 0,
          attributes: {},
          droppedAttributesCount: 0,
        },
      ],
    }));
    processor.onEnd(span({ parentSpanId: "0000000000000000" }));
    const parts = decodeAll(fake).map((e) =>
      (decodedFieldsToObject(e.fields) as Record<
        string,
        Record<string, unknown>
      >).PartB
    );
    assert.deepEqual(parts.slice(0, 5).map((p) => [p.kind, p.success]), [
      [0, true],
      [1, true],
      [2, false],
      [3, true],
      [4, true],
    ]);
    assert.equal(parts[5].parentId, PARENT_ID);
    assert.equal(
      parts[5].links,
      `[{"toTraceId":"${TRACE_ID}","toSpanId":"${PARENT_ID}"},{"toTraceId":"0af7651916cd43dd8448eb211c80319c","toSpanId":"b7ad6b7169203331"}]`,
    );
    assert.equal(parts[6].parentId, undefined);
    assert.equal(parts[6].links, undefined);
    processor.shutdown();
  });

  it("moves well-known attributes into PartB under their new names and keeps the rest in PartC", () => {
    const { fake, processor } = setup();
    fake.enable("spans_L4K1");
    processor.onEnd(span({
      attributes: {
        "custom": "c",
        "db.system.name": "postgresql",
        "db.namespace": "shop",
        "db.query.text": "SELECT 1",
        "http.request.method": "GET",
        "url.full": "https://x/y",
        "messaging.system": "kafka",
        "messaging.destination.name": "orders",
        "messaging.url": "kafka://b",
        "rpc.system.name": "grpc",
        "rpc.response.status_code": 0,
        "n": 1.5,
        "constructor": "kept",
      },
      status: { code: SpanStatusCode.ERROR, message: "db down" },
    }));
    const object = decodedFieldsToObject(decodeAll(fake)[0].fields) as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepEqual(object.PartB, {
      _typeName: "Span",
      name: "op",
      startTime: "2024-01-02T03:04:05Z",
      success: false,
      kind: 0,
      dbSystem: "postgresql",
      dbName: "shop",
      dbStatement: "SELECT 1",
      httpMethod: "GET",
      httpUrl: "https://x/y",
      messagingSystem: "kafka",
      messagingDestination: "orders",
      messagingUrl: "kafka://b",
      rpcSystem: "grpc",
      rpcGrpcStatusCode: 0,
      statusMessage: "db down",
    });
    assert.deepEqual(object.PartC, {
      custom: "c",
      n: 1.5,
      constructor: "kept",
    });
    processor.shutdown();
  });

  it("leaves out statusMessage when an HTTP status code is present or the status is not an error", () => {
    const { fake, processor } = setup();
    fake.enable("spans_L4K1");
    processor.onEnd(
      span({
        attributes: { "http.response.status_code": 503 },
        status: { code: SpanStatusCode.ERROR, message: "x" },
      }),
    );
    processor.onEnd(
      span({ status: { code: SpanStatusCode.OK, message: "fine" } }),
    );
    const parts = decodeAll(fake).map((e) =>
      (decodedFieldsToObject(e.fields) as Record<
        string,
        Record<string, unknown>
      >).PartB
    );
    assert.equal(parts[0].httpStatusCode, 503);
    assert.equal(parts[0].statusMessage, undefined);
    assert.equal(parts[1].statusMessage, undefined);
    processor.shutdown();
  });

  it("writes spans ended through a TracerProvider", () => {
    const { fake, processor } = setup();
    fake.enable("spans_L4K1");
    const provider = new TracerProvider({
      processors: [processor],
      resource: new Resource({ "service.name": "svc" }),
    });
    const tracer = provider.getTracer("t");
    const parent = tracer.startSpan("parent");
    const child = tracer.startSpan("child", {
      parent,
      kind: 2,
      attributes: { "http.request.method": "POST" },
    });
    child.end();
    parent.end();
    const events = decodeAll(fake).map((e) =>
      decodedFieldsToObject(e.fields) as Record<string, Record<string, unknown>>
    );
    assert.equal(events.length, 2);
    assert.equal(events[0].PartB.name, "child");
    assert.equal(events[0].PartB.parentId, parent.spanId);
    assert.equal(events[0].PartB.kind, 2);
    assert.equal(events[0].PartB.httpMethod, "POST");
    assert.equal(
      events[0].PartA.time,
      formatRfc3339(child.endTimeUnixMs, child.endTimeNanosInMs),
    );
    assert.equal(events[1].PartB.parentId, undefined);
    assert.equal(processor.stats.written, 2);
    processor.shutdown();
  });

  it("caps PartC at 127 members, drops over-size spans, counts EBADF, and unregisters on dispose", () => {
    const { fake, processor } = setup();
    fake.enable("spans_L4K1");
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 130; i++) attributes[`k${i}`] = "v";
    processor.onEnd(span({ attributes }));
    processor.onEnd(span({
      attributes: Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => ["k".repeat(90) + i, i]),
      ),
    }));
    fake.writeResults = [-9];
    processor.onEnd(span());
    const partC = decodeAll(fake)[0].fields.find((f) => f.name === "PartC")!;
    assert.equal(partC.format, 127);
    const stats = processor.stats;
    // A hand-made span keeps 128 attributes (the default count limit, applied
    // by the hand-made span check); PartC then takes 127 of them.
    assert.equal(stats.cappedFields, 1);
    assert.equal(stats.repairedSpans, 1);
    assert.equal(stats.droppedTooLarge, 1);
    assert.equal(stats.droppedNoListener, 1);
    assert.equal(stats.written, 1);
    assert.equal(stats.emitted, 3);
    processor[Symbol.dispose]();
    assert.ok(
      fake.log.indexOf("unreg spans_L4K1") < fake.log.lastIndexOf("free 32"),
    );
    assert.equal(fake.log.at(-1), "close 7");
    processor.onEnd(span());
    assert.equal(processor.stats.notEnabled, 1);
    assert.equal(fake.memories.size, 0);
  });
});
