import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  activeSpanContext,
  bytesToHex,
  formatTraceparent,
  InMemoryExporter,
  isValidSpanId,
  isValidTraceId,
  normalizeHexId,
  parseTraceparent,
  randomSpanId,
  randomTraceId,
  type ReadableSpan,
  Resource,
  SimpleSpanProcessor,
  SpanKind,
  type SpanProcessor,
  SpanStatusCode,
  TracerProvider,
  writeHexId,
} from "../../mod.ts";
import { envOf } from "./_fakes.ts";

const resource = new Resource({ "service.name": "test" });

function setup(options: Record<string, unknown> = {}) {
  const exporter = new InMemoryExporter<ReadableSpan>();
  const provider = new TracerProvider({
    resource,
    processors: [new SimpleSpanProcessor(exporter)],
    env: envOf({}),
    ...options,
  });
  return { exporter, provider, tracer: provider.getTracer("test", "1.0.0") };
}

describe("Tracer", () => {
  it("records a span's data and hands it to processors when it ends", async () => {
    const { exporter, provider, tracer } = setup();
    const span = tracer.startSpan("GET /items", {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": "GET" },
      startTime: 4_102_444_800_001, // ms (2100), after performance.timeOrigin
    });
    span.setAttribute("http.response.status_code", 200);
    span.addEvent("cache.miss", { key: "items" }, 4_102_444_800_001.5);
    span.setStatus({ code: SpanStatusCode.ERROR, message: "slow" });
    span.updateName("GET /items/:id");
    assert.equal(exporter.items.length, 0);
    span.end(4_102_444_800_002);
    await provider.forceFlush();
    const s = exporter.items[0];
    assert.equal(s.name, "GET /items/:id");
    assert.equal(s.kind, SpanKind.SERVER);
    assert.equal(s.startTimeUnixMs, 4_102_444_800_001);
    assert.equal(s.startTimeNanosInMs, 0);
    assert.equal(s.endTimeUnixMs, 4_102_444_800_002);
    assert.equal(s.endTimeNanosInMs, 0);
    assert.deepEqual(s.attributes, {
      "http.request.method": "GET",
      "http.response.status_code": 200,
    });
    assert.deepEqual(s.events, [{
      name: "cache.miss",
      timeUnixMs: 4_102_444_800_001,
      timeNanosInMs: 500_000,
      attributes: { key: "items" },
      droppedAttributesCount: 0,
    }]);
    assert.deepEqual(s.status, { code: SpanStatusCode.ERROR, message: "slow" });
    assert.deepEqual(s.scope, { name: "test", version: "1.0.0" });
    assert.equal(s.resource, resource);
    assert.equal(s.parentSpanId, undefined);
    assert.equal(s.traceFlags, 1);
  });

  it("ignores changes and a second end() after the span ended", async () => {
    const { exporter, provider, tracer } = setup();
    const span = tracer.startSpan("s");
    span.end();
    span.setAttribute("late", 1).addEvent("late").setStatus({
      code: SpanStatusCode.ERROR,
    }).updateName("late");
    span.end();
    await provider.forceFlush();
    assert.equal(exporter.items.length, 1);
    assert.deepEqual(exporter.items[0].attributes, {});
    assert.equal(exporter.items[0].name, "s");
    assert.equal(exporter.items[0].status.code, SpanStatusCode.UNSET);
  });

  it("keeps OK final and drops a message on OK", () => {
    const { tracer } = setup();
    const span = tracer.startSpan("s");
    span.setStatus({ code: SpanStatusCode.OK, message: "ignored" } as never);
    span.setStatus({ code: SpanStatusCode.ERROR, message: "too late" });
    assert.deepEqual(span.status, { code: SpanStatusCode.OK });
  });

  it("links children to the active parent across await, and restores the context after", async () => {
    const { exporter, provider, tracer } = setup();
    await tracer.startActiveSpan("parent", async (parent) => {
      await new Promise((r) => setTimeout(r, 1));
      const child = tracer.startSpan("child");
      await tracer.startActiveSpan("active-child", async (c2) => {
        await Promise.resolve();
        assert.equal(activeSpanContext()?.spanId, c2.spanId);
        tracer.startSpan("grandchild").end();
        c2.end();
      });
      assert.equal(activeSpanContext()?.spanId, parent.spanId);
      child.end();
      parent.end();
    });
    assert.equal(activeSpanContext(), undefined);
    await provider.forceFlush();
    const byName = Object.fromEntries(exporter.items.map((s) => [s.name, s]));
    assert.equal(byName.child.parentSpanId, byName.parent.spanId);
    assert.equal(byName["active-child"].parentSpanId, byName.parent.spanId);
    assert.equal(byName.grandchild.parentSpanId, byName["active-child"].spanId);
    for (const s of exporter.items) {
      assert.equal(s.traceId, byName.parent.traceId);
    }
  });

  it("keeps concurrent async contexts apart", async () => {
    const { tracer } = setup();
    const seen: [string, string | undefined][] = [];
    await Promise.all(
      ["a", "b", "c"].map((name) =>
        tracer.startActiveSpan(name, async (span) => {
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          seen.push([span.spanId, activeSpanContext()?.spanId]);
          span.end();
        })
      ),
    );
    for (const [expected, actual] of seen) assert.equal(actual, expected);
  });

  it("starts a new trace with parent: null, and follows an explicit remote parent", async () => {
    const { exporter, provider, tracer } = setup();
    const remote = parseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "k=v",
    )!;
    await tracer.startActiveSpan("outer", (outer) => {
      tracer.startSpan("root", { parent: null }).end();
      tracer.startSpan("remote-child", { parent: remote }).end();
      outer.end();
    });
    await provider.forceFlush();
    const byName = Object.fromEntries(exporter.items.map((s) => [s.name, s]));
    assert.equal(byName.root.parentSpanId, undefined);
    assert.notEqual(byName.root.traceId, byName.outer.traceId);
    assert.equal(
      byName["remote-child"].traceId,
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    assert.equal(byName["remote-child"].parentSpanId, "00f067aa0ba902b7");
    assert.equal(byName["remote-child"].parentIsRemote, true);
    assert.equal(byName["remote-child"].traceState, "k=v");
  });

  it("does not deliver children of an unsampled parent", async () => {
    const { exporter, provider, tracer } = setup();
    const parent = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 0,
    };
    const span = tracer.startSpan("unsampled", { parent });
    assert.equal(span.traceFlags, 0);
    span.end();
    await provider.forceFlush();
    assert.equal(exporter.items.length, 0);
    assert.equal(provider.stats.spansEnded, 1);
  });

  it("applies event, link and attribute limits and counts what they drop", () => {
    const { tracer } = setup({
      limits: {
        attributeCountLimit: 2,
        eventCountLimit: 1,
        linkCountLimit: 1,
        eventAttributeCountLimit: 1,
        linkAttributeCountLimit: 1,
      },
    });
    const ctx = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
    };
    const span = tracer.startSpan("s", {
      attributes: { a: 1, b: 2, c: 3 },
      links: [{ context: ctx, attributes: { x: 1, y: 2 } }, { context: ctx }, {
        context: { ...ctx, traceId: "bad" },
      }],
    });
    span.setAttribute("a", 10); // replacing an existing key is not over the limit
    span.addEvent("e1", { x: 1, y: 2 });
    span.addEvent("e2");
    assert.deepEqual(span.attributes, { a: 10, b: 2 });
    assert.equal(span.droppedAttributesCount, 1);
    assert.equal(span.events.length, 1);
    assert.equal(span.events[0].droppedAttributesCount, 1);
    assert.equal(span.droppedEventsCount, 1);
    assert.equal(span.links.length, 1);
    assert.equal(span.links[0].droppedAttributesCount, 1);
    assert.equal(span.droppedLinksCount, 2);
  });

  it("reads span limits from the environment", () => {
    const { tracer } = setup({
      env: envOf({ OTEL_SPAN_EVENT_COUNT_LIMIT: "0" }),
    });
    const span = tracer.startSpan("s");
    span.addEvent("dropped");
    assert.equal(span.droppedEventsCount, 1);
  });

  it("records exceptions with the semantic conventions' attributes", () => {
    const { tracer } = setup();
    const span = tracer.startSpan("s");
    span.recordException(new TypeError("nope"));
    assert.equal(span.events[0].name, "exception");
    assert.equal(span.events[0].attributes["exception.type"], "TypeError");
    assert.equal(span.events[0].attributes["exception.message"], "nope");
  });

  it("calls onStart for sampled spans and contains processors that throw", () => {
    const started: string[] = [];
    const throwing: SpanProcessor = {
      onStart: (span) => void started.push(span.name),
      onEnd: () => {
        throw new Error("bad");
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const provider = new TracerProvider({
      resource,
      processors: [throwing],
      env: envOf({}),
      diagnostics: () => {},
    });
    provider.getTracer("t").startSpan("s").end();
    assert.deepEqual(started, ["s"]);
    assert.equal(provider.stats.processorErrors, 1);
  });

  it("ends a span at scope exit with `using`", async () => {
    const { exporter, provider, tracer } = setup();
    {
      using _span = tracer.startSpan("scoped");
    }
    await provider.forceFlush();
    assert.equal(exporter.items[0]?.name, "scoped");
  });
});

describe("samplers", () => {
  const remoteSampled = {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
  };
  const remoteUnsampled = { ...remoteSampled, traceFlags: 0 };

  it("always_off samples nothing, parent or not", () => {
    const { tracer } = setup({ sampler: "always_off" });
    assert.equal(tracer.startSpan("root").traceFlags, 0);
    assert.equal(
      tracer.startSpan("child", { parent: remoteSampled }).traceFlags,
      0,
    );
  });

  it("parentbased_always_off follows a sampled parent but samples no root", () => {
    const { tracer } = setup({ sampler: "parentbased_always_off" });
    assert.equal(tracer.startSpan("root").traceFlags, 0);
    assert.equal(
      tracer.startSpan("child", { parent: remoteSampled }).traceFlags,
      1,
    );
    assert.equal(
      tracer.startSpan("child", { parent: remoteUnsampled }).traceFlags,
      0,
    );
  });

  it("traceidratio samples about the ratio, the same way for the same trace id", () => {
    const { tracer } = setup({ sampler: "traceidratio", samplerRatio: 0.25 });
    let sampled = 0;
    for (let i = 0; i < 4000; i++) sampled += tracer.startSpan("s").traceFlags;
    assert.ok(sampled > 800 && sampled < 1200, `sampled ${sampled} of 4000`);
    const a = tracer.startSpan("a", { parent: remoteUnsampled });
    const b = tracer.startSpan("b", { parent: remoteSampled });
    assert.equal(
      a.traceFlags,
      b.traceFlags,
      "not parent-based: the trace id decides",
    );
  });

  it("is read from OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, options winning", () => {
    const env = envOf({ OTEL_TRACES_SAMPLER: "always_off" });
    assert.equal(setup({ env }).tracer.startSpan("s").traceFlags, 0);
    assert.equal(
      setup({ env, sampler: "always_on" }).tracer.startSpan("s").traceFlags,
      1,
    );
    const seen: string[] = [];
    const bad = envOf({
      OTEL_TRACES_SAMPLER: "sometimes",
      OTEL_TRACES_SAMPLER_ARG: "2",
    });
    assert.equal(
      setup({
        env: bad,
        diagnostics: (d: { message: string }) => seen.push(d.message),
      }).tracer.startSpan("s").traceFlags,
      1,
    );
    assert.match(seen[0], /OTEL_TRACES_SAMPLER="sometimes"/);
  });

  it("rejects a ratio outside [0, 1]", () => {
    assert.throws(
      () =>
        new TracerProvider({
          sampler: "traceidratio",
          samplerRatio: 1.5,
          env: envOf({}),
        }),
      /samplerRatio 1.5/,
    );
  });
});

describe("ids", () => {
  it("are valid W3C ids and unique over many draws", () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const t = randomTraceId();
      const s = randomSpanId();
      assert.ok(isValidTraceId(t), t);
      assert.ok(isValidSpanId(s), s);
      traces.add(t);
      spans.add(s);
    }
    assert.equal(traces.size, 20_000);
    assert.equal(spans.size, 20_000);
  });

  it("spell every byte value in every position, and round-trip as bytes", () => {
    // Each id is built from per-byte tables: a wrong table entry or a
    // shifted argument shows as a byte value missing at some position or a
    // round trip that differs.
    const seen = [new Set<number>(), new Set<number>()];
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 20_000; i++) {
      const t = randomTraceId();
      const s = randomSpanId();
      assert.match(t, /^[0-9a-f]{32}$/);
      assert.match(s, /^[0-9a-f]{16}$/);
      writeHexId(t, bytes, 0);
      assert.equal(bytesToHex(bytes), t);
      for (let j = 0; j < 16; j++) seen[0].add(j * 256 + bytes[j]);
      writeHexId(s, bytes, 0);
      assert.equal(bytesToHex(bytes.subarray(0, 8)), s);
      for (let j = 0; j < 8; j++) seen[1].add(j * 256 + bytes[j]);
    }
    assert.equal(seen[0].size, 16 * 256);
    assert.equal(seen[1].size, 8 * 256);
  });

  it("are checked like a character-by-character reference, whatever character sits at any position", () => {
    // The check reads two characters per table lookup: a pair table entry
    // that is wrong, a character >= 128 that aliases into the table, or an
    // odd length (normalizeHexId's length is the caller's) shows here.
    const reference = (v: string, length: number): boolean => {
      if (v.length !== length) return false;
      let nonZero = false;
      for (let i = 0; i < length; i++) {
        const c = v.charCodeAt(i);
        const digit = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
        if (!digit) return false;
        if (c !== 0x30) nonZero = true;
      }
      return nonZero;
    };
    const codes: number[] = [];
    for (let c = 0; c < 0x180; c++) codes.push(c);
    // Characters whose low 7 bits (or low byte) are hex digits.
    codes.push(0x1b0, 0x1e1, 0x230, 0x3061, 0x8031, 0xff30, 0xff41, 0xffff);
    for (const length of [16, 32]) {
      const zeros = "0".repeat(length);
      const base = randomTraceId().slice(0, length);
      for (const at of [0, 1, length - 2, length - 1]) {
        for (const c of codes) {
          const ch = String.fromCharCode(c);
          for (const around of [base, zeros]) {
            const v = around.slice(0, at) + ch + around.slice(at + 1);
            const ok = length === 32 ? isValidTraceId(v) : isValidSpanId(v);
            assert.equal(ok, reference(v, length), JSON.stringify(v));
            // Lowercased when uppercase hex, else as the check says.
            const lower = v.toLowerCase();
            assert.equal(
              normalizeHexId(v, length),
              reference(lower, length) ? lower : undefined,
              JSON.stringify(v),
            );
          }
        }
      }
      assert.equal(isValidTraceId(base.slice(0, length - 1)), false);
      assert.equal(isValidSpanId(base + "a"), false);
    }
    // Odd and other lengths through normalizeHexId.
    for (const v of ["a", "0", "abc", "00a", "0A0", "abcdefabc", "g", ""]) {
      for (const length of [v.length, v.length + 1]) {
        const lower = v.toLowerCase();
        assert.equal(
          normalizeHexId(v, length),
          reference(lower, length) ? lower : undefined,
          `${JSON.stringify(v)} ${length}`,
        );
      }
    }
  });

  it("skip all-zero random bytes instead of returning an invalid id", () => {
    // The pool refills through crypto.getRandomValues; make every refill
    // start with 16 zero bytes, so the first id after a refill would be
    // all zeros without the check.
    const original = crypto.getRandomValues;
    let refills = 0;
    crypto.getRandomValues = function <T extends ArrayBufferView | null>(
      array: T,
    ): T {
      original.call(crypto, array as never);
      new Uint8Array(array!.buffer, array!.byteOffset, 16).fill(0);
      refills++;
      return array;
    } as typeof crypto.getRandomValues;
    try {
      for (let i = 0; i < 2_000; i++) {
        const t = i % 2 === 0 ? randomTraceId() : randomSpanId();
        assert.ok(isValidTraceId(t) || isValidSpanId(t), t);
        assert.notEqual(/^0+$/.test(t), true, t);
      }
      for (let i = 0; i < 2_000; i++) {
        assert.ok(isValidSpanId(randomSpanId()));
      }
    } finally {
      crypto.getRandomValues = original;
    }
    assert.ok(refills >= 2, `refills ${refills}`);
  });

  it("round-trip through traceparent", () => {
    const ctx = {
      traceId: randomTraceId(),
      spanId: randomSpanId(),
      traceFlags: 1,
    };
    const parsed = parseTraceparent(formatTraceparent(ctx));
    assert.deepEqual(parsed, { ...ctx, isRemote: true });
    assert.equal(
      parseTraceparent(
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      ),
      undefined,
    );
    assert.equal(
      parseTraceparent(
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      ),
      undefined,
    );
  });
});
