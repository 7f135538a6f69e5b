import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AttributeSanitizer,
  type Diagnostic,
  LogEmitContext,
  LoggerProvider,
  type LogRecord,
  Resource,
  SpanKind,
  SpanStatusCode,
  TracerProvider,
} from "../../mod.ts";
import {
  decodeTraceLogging,
  EtwProcessor,
  EtwSpanProcessor,
  FfiUnavailableError,
  openEtwProcessor,
  openEtwSpanProcessor,
  type TraceLoggingField,
  traceLoggingFieldsToObject,
} from "../../processors/etw/mod.ts";
import {
  bytes,
  FakeAdvapi32,
  hex,
  type RecordedWrite,
} from "./_fake_advapi32.ts";

const NAME = "MyCompany.MyComponent";
const context = (resource: Resource = new Resource({})) =>
  new LogEmitContext(resource, { name: "test" });
// A Date: a number before performance.timeOrigin would be performance.now()-relative.
const TIME = new Date("2024-01-02T03:04:05.678Z");

function decodeWrite(write: RecordedWrite) {
  assert.equal(write.count, 3);
  assert.deepEqual(write.blobs.map((b) => b.type), [2, 1, 0]);
  return decodeTraceLogging(write.blobs[1].bytes, write.blobs[2].bytes);
}
function fieldsOf(write: RecordedWrite) {
  return traceLoggingFieldsToObject(decodeWrite(write).fields);
}

describe("EtwProcessor", () => {
  it("registers the GUID derived from the name, then sets the traits", () => {
    const fake = new FakeAdvapi32();
    using processor = new EtwProcessor(fake, { providerName: NAME });
    assert.deepEqual(fake.calls, ["EventRegister", "EventSetInformation"]);
    assert.equal(
      hex(fake.registeredIds[0]),
      "ea a4 5f ce 00 ab 02 54 8b 76 9f 76 ac 85 8f b5",
    );
    assert.equal(fake.traits[0].handle, 0xdeadbeefn);
    assert.equal(fake.traits[0].infoClass, 2);
    assert.equal(fake.traits[0].length, 24);
    assert.equal(
      hex(fake.traits[0].bytes),
      "18 00 4d 79 43 6f 6d 70 61 6e 79 2e 4d 79 43 6f 6d 70 6f 6e 65 6e 74 00",
    );
    assert.equal(processor.providerId, "ce5fa4ea-ab00-5402-8b76-9f76ac858fb5");
  });

  it("writes nothing while no session is enabled, and asks with the record's level and keyword 1", () => {
    const fake = new FakeAdvapi32();
    using processor = new EtwProcessor(fake, { providerName: NAME });
    processor.onEmit({ severityNumber: 17, body: "x" }, context());
    processor.onEmit({ body: "no severity" }, context());
    assert.equal(fake.writes.length, 0);
    assert.deepEqual(fake.enabledQueries, [
      { handle: 0xdeadbeefn, level: 2, keyword: 1n },
      { handle: 0xdeadbeefn, level: 5, keyword: 1n },
    ]);
    assert.equal(processor.stats.notEnabled, 2);
    assert.equal(processor.stats.written, 0);
  });

  it("answers enabled() through EventProviderEnabled", () => {
    const fake = new FakeAdvapi32();
    using processor = new EtwProcessor(fake, { providerName: NAME });
    assert.equal(processor.enabled(9), false);
    fake.enabledAnswer = 1;
    assert.equal(processor.enabled(21), true);
    assert.deepEqual(fake.enabledQueries.map((q) => q.level), [4, 1]);
  });

  it("writes the spec's minimal OpenTelemetry log vector byte for byte", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, { providerName: NAME });
    processor.onEmit(
      { severityNumber: 9, body: "hi", timestamp: TIME },
      context(),
    );
    assert.equal(fake.writes.length, 1);
    const write = fake.writes[0];
    assert.equal(write.handle, 0xdeadbeefn);
    assert.equal(
      hex(write.descriptor),
      "00 00 00 0b 04 00 00 00 01 00 00 00 00 00 00 00",
    );
    assert.equal(write.activityId, null);
    assert.equal(write.relatedId, null);
    assert.equal(hex(write.blobs[0].bytes), hex(fake.traits[0].bytes));
    assert.equal(
      hex(write.blobs[1].bytes),
      hex(
        bytes(
          `4a 00 00 4c 6f 67 00 5f 5f 63 73 76 65 72 5f 5f 00 86 12 50 61 72 74 41 00 98 01 74 69 6d 65 00 17
        50 61 72 74 42 00 98 03 5f 74 79 70 65 4e 61 6d 65 00 17 62 6f 64 79 00 17 73 65 76 65 72 69 74 79
        4e 75 6d 62 65 72 00 05`,
        ),
      ),
    );
    const time = hex(new TextEncoder().encode("2024-01-02T03:04:05.678Z"));
    assert.equal(
      hex(write.blobs[2].bytes),
      `00 04 18 00 ${time} 03 00 4c 6f 67 02 00 68 69 09 00`,
    );
    assert.equal(write.blobs[2].bytes.length, 39);
    // Descriptor sizes match the blobs, and the traits pointer is the same on every write.
    const dd = new DataView(write.rawDescriptors.buffer);
    assert.equal(dd.getUint32(8, true), 24);
    assert.equal(dd.getUint32(24, true), 74);
    assert.equal(dd.getUint32(40, true), 39);
    processor.onEmit({ severityNumber: 13, body: "again" }, context());
    assert.equal(fake.writes[1].blobs[0].address, write.blobs[0].address);
    assert.equal(fake.writes[1].descriptor[4], 3);
    assert.equal(processor.stats.written, 2);
  });

  it("maps trace context, resource, attributes and PartB fields like opentelemetry-etw-logs", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, {
      providerName: NAME,
      resourceAttributes: ["deployment.environment"],
    });
    const resource = new Resource({
      "service.name": "checkout",
      "service.instance.id": "i-1",
      "deployment.environment": "prod",
      "host.name": "not-opted-in",
    });
    const record: LogRecord = {
      timestamp: TIME,
      severityNumber: 17,
      severityText: "ERROR",
      body: { msg: "failed", n: 2n },
      eventName: "checkout.failed",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      attributes: {
        event_id: 42,
        str: "é",
        int: -7,
        big: 2n ** 62n,
        dbl: 1.25,
        ok: true,
        bytes: Uint8Array.from([1, 2]),
        list: [1, "a", null],
        empty: null,
      },
    };
    processor.onEmit(record, context(resource));
    const event = decodeWrite(fake.writes[0]);
    assert.equal(event.name, "Log");
    assert.equal(fake.writes[0].descriptor[4], 2);
    assert.deepEqual(traceLoggingFieldsToObject(event.fields), {
      __csver__: 0x400,
      PartA: {
        ext_dt: {
          traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
          spanId: "00f067aa0ba902b7",
        },
        ext_cloud: { role: "checkout", roleInstance: "i-1" },
        time: "2024-01-02T03:04:05.678Z",
      },
      PartC: {
        "deployment.environment": "prod",
        str: "é",
        int: -7n,
        big: 2n ** 62n,
        dbl: 1.25,
        ok: true,
        bytes: Uint8Array.from([1, 2]),
        list: '[1,"a",null]',
        empty: "",
      },
      PartB: {
        _typeName: "Log",
        body: '{"msg":"failed","n":2}',
        severityNumber: 17,
        severityText: "ERROR",
        eventId: 42n,
        name: "checkout.failed",
      },
    });
    // Field order is __csver__, PartA, PartC, PartB, and the types are the exporters'.
    assert.deepEqual(event.fields.map((f) => f.name), [
      "__csver__",
      "PartA",
      "PartC",
      "PartB",
    ]);
    const partC = event.fields[2].value as readonly TraceLoggingField[];
    assert.deepEqual(
      partC.map((f) => [f.name, f.inType, f.outType]),
      [
        ["deployment.environment", 23, 0],
        ["str", 23, 35],
        ["int", 9, 0],
        ["big", 9, 0],
        ["dbl", 12, 0],
        ["ok", 13, 0],
        ["bytes", 14, 0],
        ["list", 23, 12],
        ["empty", 23, 0],
      ],
    );
  });

  it("replays cached PartA metadata byte-identical to a fresh encoding, per variant", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, { providerName: NAME });
    const trace = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
    };
    const resources = [
      new Resource({}),
      new Resource({ "service.name": "a" }),
      new Resource({ "service.instance.id": "i" }),
      new Resource({ "service.name": "ä", "service.instance.id": 7 }),
    ];
    const records: [LogRecord, Resource][] = [];
    for (const resource of resources) {
      records.push([
        { severityNumber: 9, body: "x", timestamp: TIME },
        resource,
      ]);
      records.push([
        { severityNumber: 9, body: "x", timestamp: TIME, ...trace },
        resource,
      ]);
    }
    // First pass records each variant, second and third passes replay them (in another order).
    const runs: Uint8Array[][] = [[], [], []];
    for (let pass = 0; pass < 3; pass++) {
      const order = pass === 1 ? [...records].reverse() : records;
      for (const [record, resource] of order) {
        processor.onEmit(record, context(resource));
        const w = fake.writes.at(-1)!;
        runs[pass].push(
          Uint8Array.from([...w.blobs[1].bytes, 0xff, ...w.blobs[2].bytes]),
        );
        decodeWrite(w); // still decodes
      }
    }
    runs[1].reverse();
    assert.deepEqual(runs[1], runs[0]);
    assert.deepEqual(runs[2], runs[0]);
    const last = fieldsOf(fake.writes.at(-1)!);
    assert.deepEqual(last.PartA, {
      ext_dt: trace,
      ext_cloud: { role: "ä", roleInstance: "7" }, // non-ASCII: OutType UTF8
      time: "2024-01-02T03:04:05.678Z",
    });
  });

  it("keeps 127 PartC fields and counts the attributes left out", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, { providerName: NAME });
    const attributes: Record<string, number> = {};
    for (let i = 0; i < 130; i++) attributes["a" + i] = i;
    const sanitizer = new AttributeSanitizer({ attributeCountLimit: 1000 });
    processor.onEmit(
      { severityNumber: 9, attributes },
      new LogEmitContext(new Resource({}), { name: "t" }, { sanitizer }),
    );
    const o = fieldsOf(fake.writes[0]);
    const partC = o.PartC as Record<string, bigint>;
    assert.equal(Object.keys(partC).length, 127);
    assert.equal(partC.a126, 126n);
    assert.equal(processor.stats.droppedAttributes, 3);
  });

  it("drops and counts an event whose metadata does not fit, and cuts long strings", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, { providerName: NAME });
    const attributes: Record<string, number> = {};
    for (let i = 0; i < 120; i++) attributes["k".repeat(300) + i] = i; // ~36 KB of names
    processor.onEmit({ severityNumber: 9, attributes }, context());
    assert.equal(fake.writes.length, 0);
    assert.equal(processor.stats.oversize, 1);

    processor.onEmit({
      severityNumber: 9,
      body: "b".repeat(100000),
      attributes: { after: 1 },
    }, context());
    assert.equal(fake.writes.length, 1);
    const o = fieldsOf(fake.writes[0]);
    assert.equal(processor.stats.truncatedValues, 1);
    const w = fake.writes[0];
    assert.ok(w.blobs[0].size + w.blobs[1].size + w.blobs[2].size <= 65000);
    assert.ok((o.PartB as { body: string }).body.startsWith("bbbb"));
    assert.equal((o.PartB as { severityNumber: number }).severityNumber, 9);
  });

  it("counts write errors", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    fake.writeStatus = 534;
    using processor = new EtwProcessor(fake, { providerName: NAME });
    processor.onEmit({ severityNumber: 9, body: "x" }, context());
    assert.equal(processor.stats.writeErrors, 1);
    assert.equal(processor.stats.lastWriteError, 534);
    assert.equal(processor.stats.written, 0);
  });

  it("never throws from onEmit: an unreadable attribute set costs only itself", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    using processor = new EtwProcessor(fake, { providerName: NAME });
    const evil = {
      severityNumber: 9,
      body: "kept",
      get attributes(): never {
        throw new Error("boom");
      },
    } as LogRecord;
    const ctx = context();
    processor.onEmit(evil, ctx);
    assert.equal(processor.stats.written, 1);
    assert.equal(processor.stats.encodeErrors, 0);
    assert.equal(ctx.sanitizer.invalidFields, 1);
    const fields = traceLoggingFieldsToObject(
      decodeWrite(fake.writes[0]).fields,
    );
    assert.equal((fields.PartB as Record<string, unknown>).body, "kept");
  });

  it("never throws from onEmit: an encoding failure is counted and reported once", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const seen: Diagnostic[] = [];
    using processor = new EtwProcessor(fake, {
      providerName: NAME,
      diagnostics: (d) => seen.push(d),
    });
    // A resource that is not one (the encoder reads its attributes).
    const evil = Object.defineProperty({}, "attributes", {
      get(): never {
        throw new Error("boom");
      },
    }) as Resource;
    processor.onEmit({ severityNumber: 9 }, context(evil));
    processor.onEmit({ severityNumber: 9 }, context(evil));
    assert.equal(processor.stats.encodeErrors, 2);
    assert.equal(seen.length, 1);
    assert.match(seen[0].message, /boom/);
  });

  it("writes when forced although no session is enabled (Wine)", () => {
    const fake = new FakeAdvapi32();
    using processor = new EtwProcessor(fake, {
      providerName: NAME,
      forceEnabled: true,
    });
    processor.onEmit({ severityNumber: 9, body: "x" }, context());
    assert.equal(fake.writes.length, 1);
    assert.equal(fake.enabledQueries.length, 0);
  });

  it("ignores a failing EventSetInformation (the traits still go in descriptor 0)", () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    fake.traitsStatus = 50;
    using processor = new EtwProcessor(fake, { providerName: NAME });
    processor.onEmit({ severityNumber: 9, body: "x" }, context());
    assert.equal(fake.writes.length, 1);
    assert.equal(fake.writes[0].blobs[0].size, 24);
  });

  it("rejects a failed registration with the Win32 code", () => {
    const fake = new FakeAdvapi32();
    fake.registerStatus = 5;
    assert.throws(
      () => new EtwProcessor(fake, { providerName: NAME }),
      (e: unknown) =>
        e instanceof FfiUnavailableError && e.code === 5 &&
        /EventRegister/.test(e.message),
    );
  });

  it("rejects bad options", () => {
    const fake = new FakeAdvapi32();
    assert.throws(
      () => new EtwProcessor(fake, { providerName: "" }),
      RangeError,
    );
    assert.throws(
      () => new EtwProcessor(fake, { providerName: "Prøvider" }),
      RangeError,
    );
    assert.throws(
      () => new EtwProcessor(fake, { providerName: NAME, maxEventSize: 100 }),
      RangeError,
    );
    assert.throws(
      () => new EtwProcessor(fake, { providerName: NAME, providerGroup: "x" }),
      TypeError,
    );
    assert.equal(fake.calls.length, 0);
  });

  it("unregisters once on shutdown and dispose, then drops and counts", async () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const processor = new EtwProcessor(fake, { providerName: NAME });
    await processor.shutdown();
    await processor.shutdown();
    processor[Symbol.dispose]();
    assert.deepEqual(fake.unregistered, [0xdeadbeefn]);
    processor.onEmit({ severityNumber: 9, body: "late" }, context());
    assert.equal(processor.stats.afterShutdown, 1);
    assert.equal(fake.writes.length, 0);
    assert.equal(processor.enabled(9), false);
    assert.equal(fake.calls.at(-1), "EventUnregister");
  });

  it("runs end to end under a LoggerProvider", async () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const processor = new EtwProcessor(fake, { providerName: NAME });
    {
      await using provider = new LoggerProvider({
        processors: [processor],
        resource: new Resource({ "service.name": "svc" }),
      });
      provider.getLogger("app").emit({
        severityNumber: 13,
        body: "careful",
        attributes: { n: 1 },
      });
    }
    assert.equal(fake.writes.length, 1);
    const o = fieldsOf(fake.writes[0]);
    assert.deepEqual((o.PartA as Record<string, unknown>).ext_cloud, {
      role: "svc",
    });
    assert.deepEqual(o.PartC, { n: 1n });
    assert.equal((o.PartB as Record<string, unknown>).body, "careful");
    assert.deepEqual(fake.unregistered, [0xdeadbeefn]); // the provider's shutdown reached the processor
  });
});

describe("EtwSpanProcessor", () => {
  it("writes a span like opentelemetry-etw-traces", async () => {
    const fake = new FakeAdvapi32();
    fake.enabledAnswer = 1;
    const processor = new EtwSpanProcessor(fake, {
      providerName: "MyProvider",
    });
    assert.equal(
      hex(fake.registeredIds[0]),
      hex(
        Uint8Array.from([
          0x38,
          0x4c,
          0x86,
          0xb3,
          0x73,
          0x42,
          0xc5,
          0x58,
          0x54,
          0x5b,
          0x8b,
          0x36,
          0x08,
          0x34,
          0x34,
          0x71,
        ]),
      ),
    );
    {
      await using provider = new TracerProvider({
        processors: [processor],
        resource: new Resource({ "service.name": "api" }),
      });
      const tracer = provider.getTracer("t");
      const parent = tracer.startSpan("parent");
      const child = tracer.startSpan("GET /ü", {
        parent,
        kind: SpanKind.SERVER,
        startTime: TIME,
        attributes: {
          "http.request.method": "GET",
          "http.response.status_code": 500,
          custom: "v",
        },
        links: [{
          context: {
            traceId: "0af7651916cd43dd8448eb211c80319c",
            spanId: "00f067aa0ba902b7",
            traceFlags: 1,
          },
        }],
      });
      child.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
      child.end(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 680)));
      const write = fake.writes[0];
      assert.equal(fake.enabledQueries[0].level, 5);
      assert.equal(write.descriptor[4], 5);
      assert.equal(write.descriptor[3], 11);
      const event = decodeWrite(write);
      assert.equal(event.name, "Span");
      assert.deepEqual(event.fields.map((f) => f.name), [
        "__csver__",
        "PartA",
        "PartC",
        "PartB",
      ]);
      assert.deepEqual(traceLoggingFieldsToObject(event.fields), {
        __csver__: 1024,
        PartA: {
          time: "2024-01-02T03:04:05.680Z",
          ext_dt: { traceId: child.traceId, spanId: child.spanId },
          ext_cloud: { role: "api" },
        },
        PartC: { custom: "v" },
        PartB: {
          _typeName: "Span",
          name: "GET /ü",
          kind: 1,
          startTime: "2024-01-02T03:04:05.678Z",
          parentId: parent.spanId,
          links:
            '[{"toTraceId":"0af7651916cd43dd8448eb211c80319c","toSpanId":"00f067aa0ba902b7"}]',
          statusMessage: "boom",
          httpMethod: "GET",
          httpStatusCode: 500n,
          success: 0,
        },
      });
      const partB = event.fields[3].value as readonly TraceLoggingField[];
      assert.deepEqual(partB.at(-1), {
        name: "success",
        inType: 4,
        outType: 3,
        tags: 0,
        value: 0,
      });
      assert.equal(partB[1].outType, 35);
      parent.end();
      assert.equal(fake.writes.length, 2);
      const root = fieldsOf(fake.writes[1]);
      assert.equal("PartC" in root, false);
      assert.equal((root.PartB as Record<string, unknown>).success, 1);
      assert.equal(
        "parentId" in (root.PartB as Record<string, unknown>),
        false,
      );
    }
    assert.deepEqual(fake.unregistered, [0xdeadbeefn]);
    assert.equal(processor.stats.written, 2);
  });

  it("skips spans while verbose events are not enabled", () => {
    const fake = new FakeAdvapi32();
    using processor = new EtwSpanProcessor(fake, {
      providerName: "MyProvider",
    });
    const provider = new TracerProvider({ processors: [processor] });
    provider.getTracer("t").startSpan("s").end();
    assert.equal(fake.writes.length, 0);
    assert.equal(processor.stats.notEnabled, 1);
  });
});

describe("openEtwProcessor off Windows", {
  skip: process.platform === "win32" ? "runs on Windows" : false,
}, () => {
  it("rejects with FfiUnavailableError", async () => {
    await assert.rejects(
      openEtwProcessor({ providerName: NAME }),
      (e: unknown) =>
        e instanceof FfiUnavailableError && /only on Windows/.test(e.message),
    );
    await assert.rejects(
      openEtwSpanProcessor({ providerName: NAME }),
      FfiUnavailableError,
    );
  });

  it("yields a counted no-op with one diagnostic when asked to", async () => {
    const seen: Diagnostic[] = [];
    const processor = await openEtwProcessor({
      providerName: NAME,
      onUnsupported: "noop",
      diagnostics: (d) => seen.push(d),
    });
    processor.onEmit({ severityNumber: 9, body: "x" }, context());
    processor.onEmit({ severityNumber: 9, body: "y" }, context());
    assert.equal(processor.stats.unsupported, 2);
    assert.equal(processor.enabled(9), false);
    assert.equal(processor.providerId, undefined);
    assert.equal(seen.length, 1);
    assert.match(seen[0].message, /only on Windows/);
    await processor.shutdown();
    const spans = await openEtwSpanProcessor({
      providerName: NAME,
      onUnsupported: "noop",
      diagnostics: () => {},
    });
    spans.onEnd({} as never);
    assert.equal(spans.stats.unsupported, 1);
  });

  it("rejects an unknown onUnsupported value", async () => {
    await assert.rejects(
      openEtwProcessor({ providerName: NAME, onUnsupported: "maybe" as never }),
      RangeError,
    );
  });
});
