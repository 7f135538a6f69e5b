// The internal start flags the request instrumentation passes to
// Tracer.startSpan: the span keeps the attributes object it was given (after
// one check), and a parent from the built-in propagators is not checked
// again. Hostile input on both paths: a caller's propagator returning bad
// contexts, Proxies and throwing getters in adopted attributes, limits.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type Attributes,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "../../mod.ts";
import {
  type InternalStartSpanOptions,
  START_ADOPT_ATTRIBUTES,
  START_FLAGS,
  START_PARENT_VALID,
} from "../../pipeline/trace/tracer_provider.ts";
import { HttpServerInstrumentation } from "../../instrumentation/http_server.ts";
import type {
  PropagationContext,
  TextMapPropagator,
} from "../../instrumentation/propagation.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";

function setup(limits?: { attributeCountLimit?: number }) {
  const exporter = new InMemoryExporter<ReadableSpan>();
  const provider = new TracerProvider({
    processors: [new SimpleSpanProcessor(exporter)],
    env: () => undefined,
    limits,
  });
  return { exporter, provider, tracer: provider.getTracer("t") };
}

const adopt = (attributes: Attributes, flags = START_ADOPT_ATTRIBUTES) =>
  ({ attributes, [START_FLAGS]: flags }) as InternalStartSpanOptions;

describe("startSpan with START_ADOPT_ATTRIBUTES", () => {
  it("keeps a valid object, and later attributes go into it under the limits", () => {
    const { tracer } = setup({ attributeCountLimit: 4 });
    const attributes = { a: "x", b: 1, c: true };
    const span = tracer.startSpan("s", adopt(attributes));
    assert.equal(span.attributes, attributes);
    span.setAttribute("d", 4).setAttribute("e", 5); // e is over the limit
    span.setAttribute("a", "y"); // an existing key still updates
    assert.deepEqual({ ...span.attributes }, { a: "y", b: 1, c: true, d: 4 });
    assert.equal(span.droppedAttributesCount, 1);
  });

  it("gives the same attributes and drop counts as the copying path", () => {
    const cases: Record<string, unknown>[] = [
      { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, // over the limit of 4
      { f: () => 1, s: Symbol("x"), ok: "yes", u: undefined },
      { big: 2n ** 70n, n: null, arr: [1, [2]], obj: { k: "v" } },
      { "__proto__": "p", lone: "\ud800" } as Record<string, unknown>,
    ];
    for (const input of cases) {
      const a = setup({ attributeCountLimit: 4 }).tracer;
      const b = setup({ attributeCountLimit: 4 }).tracer;
      const copied = a.startSpan("s", { attributes: input as Attributes });
      const adopted = b.startSpan("s", adopt({ ...input } as Attributes));
      assert.deepEqual({ ...adopted.attributes }, { ...copied.attributes });
      assert.equal(
        adopted.droppedAttributesCount,
        copied.droppedAttributesCount,
        JSON.stringify(Object.keys(input)),
      );
    }
  });

  it("copies (never throws) when a getter or Proxy trap throws", () => {
    const { tracer } = setup();
    const getter = { ok: 1 } as Record<string, unknown>;
    Object.defineProperty(getter, "bad", {
      enumerable: true,
      get() {
        throw new Error("getter");
      },
    });
    const s1 = tracer.startSpan("s", adopt(getter as Attributes));
    assert.deepEqual({ ...s1.attributes }, { ok: 1 });
    assert.equal(s1.droppedAttributesCount, 1);
    const proxy = new Proxy({ a: 1 }, {
      ownKeys() {
        throw new Error("ownKeys");
      },
    });
    const s2 = tracer.startSpan("s", adopt(proxy as Attributes));
    assert.equal(s2.attributes === (proxy as unknown), false);
    const s3 = tracer.startSpan("s", adopt(null as unknown as Attributes));
    assert.deepEqual({ ...s3.attributes }, {});
    s3.setAttribute("later", 1);
    assert.equal(s3.attributes["later"], 1);
  });

  it("is ignored without the flag, and for a non-number flag value", () => {
    const { tracer } = setup();
    const attributes = { a: 1 };
    assert.notEqual(
      tracer.startSpan("s", { attributes }).attributes,
      attributes,
    );
    const odd = {
      attributes,
      [START_FLAGS]: "1",
    } as unknown as InternalStartSpanOptions;
    assert.notEqual(tracer.startSpan("s", odd).attributes, attributes);
  });
});

describe("startSpan with START_PARENT_VALID", () => {
  it("takes the parent's ids as they are, but still checks a trace state", () => {
    const { tracer } = setup();
    const parent = {
      traceId: TRACE_ID,
      spanId: PARENT_ID,
      traceFlags: 1,
      isRemote: true,
    };
    const span = tracer.startSpan(
      "s",
      { parent, [START_FLAGS]: START_PARENT_VALID } as InternalStartSpanOptions,
    );
    assert.equal(span.traceId, TRACE_ID);
    assert.equal(span.parentSpanId, PARENT_ID);
    assert.equal(span.parentIsRemote, true);
    const bad = { ...parent, traceState: "Bad Key=1" };
    const s2 = tracer.startSpan(
      "s",
      {
        parent: bad,
        [START_FLAGS]: START_PARENT_VALID,
      } as InternalStartSpanOptions,
    );
    assert.equal(s2.traceState, undefined);
    assert.equal(s2.traceId, TRACE_ID);
  });
});

/** A caller's propagator that hands back whatever context it was built with. */
function fixed(spanContext: unknown): TextMapPropagator {
  return {
    fields: ["traceparent"],
    extract: (_h, c: PropagationContext) =>
      ({ ...c, spanContext }) as PropagationContext,
    inject: () => {},
  };
}

describe("HttpServerInstrumentation: parents from a caller's propagator are checked", () => {
  it("normalises uppercase ids and refuses garbage, throwing getters and Proxies", async () => {
    const contexts: [unknown, string | undefined][] = [
      [{
        traceId: TRACE_ID.toUpperCase(),
        spanId: PARENT_ID.toUpperCase(),
        traceFlags: 1,
      }, TRACE_ID],
      [{ traceId: "xyz", spanId: PARENT_ID, traceFlags: 1 }, undefined],
      [
        { traceId: "0".repeat(32), spanId: PARENT_ID, traceFlags: 1 },
        undefined,
      ],
      [{
        get traceId(): string {
          throw new Error("getter");
        },
        spanId: PARENT_ID,
        traceFlags: 1,
      }, undefined],
      [
        new Proxy({}, {
          get() {
            throw new Error("trap");
          },
        }),
        undefined,
      ],
    ];
    for (const [ctx, expected] of contexts) {
      const { exporter, provider } = setup();
      const http = new HttpServerInstrumentation({
        tracerProvider: provider,
        propagator: fixed(ctx),
      });
      const handler = http.handler((_r: Request) =>
        new Response(null, { status: 204 })
      );
      const response = await handler(new Request("http://127.0.0.1:8080/x"));
      assert.equal(response.status, 204);
      await provider.forceFlush();
      const span = exporter.items[0];
      assert.equal(exporter.items.length, 1);
      if (expected === undefined) {
        assert.equal(span.parentSpanId, undefined);
        assert.notEqual(span.traceId, "0".repeat(32));
      } else {
        assert.equal(span.traceId, expected);
        assert.equal(span.parentSpanId, PARENT_ID);
        assert.ok(span.traceFlags === 0 || span.traceFlags === 1);
      }
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.equal(http.stats.instrumentationErrors, 0);
    }
    // Out-of-range flags are not kept: the parent counts as unsampled.
    const { exporter, provider } = setup();
    const http = new HttpServerInstrumentation({
      tracerProvider: provider,
      propagator: fixed({
        traceId: TRACE_ID,
        spanId: PARENT_ID,
        traceFlags: 1e9,
      }),
    });
    const handler = http.handler((_r: Request) => new Response("ok"));
    assert.equal(
      await (await handler(new Request("http://127.0.0.1/"))).text(),
      "ok",
    );
    await provider.forceFlush();
    assert.equal(exporter.items.length, 0);
  });

  it("built-in propagator: a valid traceparent is the parent; a malformed one starts a trace", async () => {
    for (
      const [header, parent] of [
        [`00-${TRACE_ID}-${PARENT_ID}-01`, PARENT_ID],
        [`00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`, undefined],
        [`00-${TRACE_ID}-${"0".repeat(16)}-01`, undefined],
        [`00-${TRACE_ID}-${PARENT_ID}-0g`, undefined],
        [`01-${TRACE_ID}-${PARENT_ID}-01-extra`, PARENT_ID],
      ] as const
    ) {
      const { exporter, provider } = setup();
      const http = new HttpServerInstrumentation({
        tracerProvider: provider,
        env: () => undefined,
      });
      const handler = http.handler((_r: Request) =>
        new Response(null, { status: 204 })
      );
      await handler(
        new Request("http://127.0.0.1:8080/x", {
          headers: { traceparent: header, tracestate: "rojo=1,Bad=2" },
        }),
      );
      await provider.forceFlush();
      const span = exporter.items[0];
      assert.equal(span.parentSpanId, parent, header);
      assert.equal(span.traceState, undefined, header); // the invalid tracestate is dropped
      if (parent !== undefined) assert.equal(span.traceId, TRACE_ID);
    }
  });

  it("keeps the span's own attributes object per request: no attribute leaks between requests", async () => {
    const { exporter, provider } = setup();
    const http = new HttpServerInstrumentation({
      tracerProvider: provider,
      env: () => undefined,
    });
    const handler = http.handler(
      (r: Request) =>
        new Response(null, { status: r.url.endsWith("/a") ? 200 : 503 }),
      { route: "/:x" },
    );
    await handler(new Request("http://127.0.0.1:8080/a"));
    await handler(
      new Request("http://127.0.0.1:8080/b?sig=secret", {
        headers: { "user-agent": "ua" },
      }),
    );
    await provider.forceFlush();
    const [a, b] = exporter.items;
    assert.notEqual(a.attributes, b.attributes);
    assert.equal(a.attributes["http.response.status_code"], 200);
    assert.equal(a.attributes["error.type"], undefined);
    assert.equal(a.attributes["user_agent.original"], undefined);
    assert.equal(a.attributes["http.route"], "/:x");
    assert.equal(b.attributes["http.response.status_code"], 503);
    assert.equal(b.attributes["error.type"], "503");
    assert.equal(b.attributes["url.query"], "sig=REDACTED");
  });
});

describe("HttpServerRequest.setRoute span names (cached per method and route)", () => {
  it("names every span `{method} {route}`, past the cache's bound too", async () => {
    const { exporter, provider } = setup();
    const http = new HttpServerInstrumentation({
      tracerProvider: provider,
      env: () => undefined,
    });
    const methods = ["GET", "POST", "PATCH", "BREW"];
    for (let i = 0; i < 1500; i++) {
      const method = methods[i % methods.length];
      const request = new Request("http://127.0.0.1:8080/x", {
        method: method === "BREW" ? "POST" : method,
      });
      if (method === "BREW") {
        Object.defineProperty(request, "method", { value: "BREW" });
      }
      const state = http.begin(request, undefined);
      state.setRoute(`/r/${i % 1200}`);
      state.setRoute(`/r/${i % 1200}/:id`); // the last route wins
      state.end(new Response(null, { status: 204 }));
    }
    await provider.forceFlush();
    assert.equal(exporter.items.length, 1500);
    for (let i = 0; i < 1500; i++) {
      const method = methods[i % methods.length];
      const span = exporter.items[i];
      assert.equal(
        span.name,
        `${method === "BREW" ? "HTTP" : method} /r/${i % 1200}/:id`,
      );
      assert.equal(span.attributes["http.route"], `/r/${i % 1200}/:id`);
    }
  });
});
