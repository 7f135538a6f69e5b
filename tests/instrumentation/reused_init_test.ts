// The span start path reuses its objects instead of allocating them per
// span: Tracer.startSpan fills one shared SpanInit, HttpServerInstrumentation
// one startSpan options object (only for this library's own Tracer) and one
// URL-parts object, and the Hono middleware's five factory wrappers share
// one state. Hostile input on each: spans started from a caller's code
// while a span is being built (a name's toString, a start time's getter, an
// attribute getter, a processor's onStart), tracers that keep the options
// they are given, Proxies, and handlers that destructure c.json.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
  type StartSpanOptions,
  type Tracer,
  TracerProvider,
} from "../../mod.ts";
import { trustedSpanInit } from "../../pipeline/trace/span.ts";
import {
  HttpServerInstrumentation,
  type TracerSource,
} from "../../instrumentation/http_server.ts";
import { honoMiddleware } from "../../instrumentation/hono.ts";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

function setup(extra: SpanProcessor[] = []) {
  const exporter = new InMemoryExporter<ReadableSpan>();
  const provider = new TracerProvider({
    processors: [new SimpleSpanProcessor(exporter), ...extra],
    env: () => undefined,
  });
  return { exporter, provider, tracer: provider.getTracer("t") };
}

function assertInitCleared(): void {
  assert.equal(trustedSpanInit.name, "");
  assert.equal(trustedSpanInit.parent, undefined);
  assert.equal(trustedSpanInit.startTime, undefined);
  assert.equal(trustedSpanInit.attributes, undefined);
  assert.equal(trustedSpanInit.links, undefined);
  assert.equal(trustedSpanInit.traceState, undefined);
}

describe("Tracer.startSpan with one shared init", () => {
  it("builds each span from its own arguments when a caller's code starts spans mid-construction", () => {
    const { tracer } = setup();
    const inner: Span[] = [];
    const startInner = (tag: string) => {
      inner.push(
        tracer.startSpan(`inner-${tag}`, {
          attributes: { tag },
          links: [{
            context: {
              traceId: "0af7651916cd43dd8448eb211c80319c",
              spanId: "b7ad6b7169203331",
              traceFlags: 1,
            },
          }],
        }),
      );
    };
    // A name whose toString starts a span.
    const name = {
      toString() {
        startInner("name");
        return "outer-name";
      },
    };
    const parent = tracer.startSpan("parent");
    const a = tracer.startSpan(name as unknown as string, {
      attributes: { outer: 1 },
      parent,
    });
    // A start time whose getter starts a span (a Date subclass).
    class SneakyDate extends Date {
      override getTime(): number {
        startInner("time");
        return super.getTime();
      }
    }
    const b = tracer.startSpan("outer-time", {
      startTime: new SneakyDate(1_700_000_000_000),
      attributes: { outer: 2 },
    });
    // An attribute getter (the copying path) that starts a span.
    const c = tracer.startSpan("outer-attr", {
      attributes: {
        get sneaky() {
          startInner("attr");
          return "v";
        },
        outer: 3,
      },
    });
    assert.equal(a.name, "outer-name");
    assert.equal(a.parentSpanId, parent.spanId);
    assert.equal(a.traceId, parent.traceId);
    assert.deepEqual(a.attributes, { outer: 1 });
    assert.equal(a.links.length, 0);
    assert.equal(b.name, "outer-time");
    assert.equal(b.parentSpanId, undefined);
    assert.deepEqual(b.attributes, { outer: 2 });
    assert.equal(c.name, "outer-attr");
    assert.deepEqual(c.attributes, { sneaky: "v", outer: 3 });
    for (const s of [a, b, c]) assert.equal(s.links.length, 0);
    // The name's and the attribute getter's inner spans (a Date's time is
    // read without calling its getTime override).
    assert.ok(inner.length >= 2);
    assert.ok(inner.some((s) => s.name === "inner-name"));
    assert.ok(inner.some((s) => s.name === "inner-attr"));
    for (const s of inner) {
      assert.match(s.name, /^inner-/);
      assert.equal(s.attributes.tag, s.name.slice("inner-".length));
      assert.equal(s.links.length, 1);
    }
    // Every span has its own id.
    const ids = new Set([a, b, c, ...inner].map((s) => s.spanId));
    assert.equal(ids.size, 3 + inner.length);
    assertInitCleared();
  });

  it("keeps nothing alive after a start, and after a start whose name throws", () => {
    const { tracer } = setup();
    tracer.startSpan("s", {
      attributes: { k: "v" },
      parent: tracer.startSpan("p"),
      startTime: 1_700_000_000_000,
    });
    assertInitCleared();
    const hostile = {
      toString() {
        throw new Error("no name");
      },
    };
    const s = tracer.startSpan(hostile as unknown as string, {
      attributes: { k: 1 },
    });
    assert.equal(s.name, "");
    assert.deepEqual(s.attributes, { k: 1 });
    assertInitCleared();
  });
});

describe("HttpServerInstrumentation.begin with reused start options", () => {
  it("gives a tracer that keeps its options a fresh object per request", () => {
    const kept: StartSpanOptions[] = [];
    const { provider } = setup();
    const real = provider.getTracer("keeper");
    // Not this library's Tracer: an object that records what it is given.
    const keeper = {
      startSpan(name: string, options?: StartSpanOptions): Span {
        kept.push(options!);
        return real.startSpan(name, options);
      },
    } as unknown as Tracer;
    const source: TracerSource = { getTracer: () => keeper };
    const http = new HttpServerInstrumentation({ tracerProvider: source });
    for (const path of ["/a", "/b", "/c"]) {
      http.begin(new Request(`http://localhost${path}`), undefined).end(
        new Response(null),
      );
    }
    assert.equal(kept.length, 3);
    assert.equal(new Set(kept).size, 3);
    assert.deepEqual(
      kept.map((o) => o.attributes?.["url.path"]),
      ["/a", "/b", "/c"],
    );
  });

  it("gives a Tracer subclass and a Proxy tracer fresh objects too, and serves when a Proxy's trap throws", () => {
    const { provider } = setup();
    const kept: StartSpanOptions[] = [];
    const base = provider.getTracer("sub");
    class Keeping
      extends (Object.getPrototypeOf(base).constructor as typeof Tracer) {}
    const sub = Object.create(Keeping.prototype, {
      startSpan: {
        value: (name: string, options?: StartSpanOptions) => {
          kept.push(options!);
          return base.startSpan(name, options);
        },
      },
    }) as Tracer;
    const http = new HttpServerInstrumentation({
      tracerProvider: { getTracer: () => sub },
    });
    http.begin(new Request("http://localhost/x"), undefined);
    http.begin(new Request("http://localhost/y"), undefined);
    assert.notEqual(kept[0], kept[1]);
    assert.equal(kept[0].attributes?.["url.path"], "/x");
    // A Proxy (over a plain tracer: a Proxy of a Tracer itself cannot reach
    // its private fields) whose getPrototypeOf trap throws.
    const plain = {
      startSpan: (name: string, options?: StartSpanOptions) =>
        base.startSpan(name, options),
    };
    const trapped = new Proxy(plain, {
      getPrototypeOf() {
        throw new Error("trap");
      },
    });
    const viaProxy = new HttpServerInstrumentation({
      tracerProvider: { getTracer: () => trapped as unknown as Tracer },
    });
    const request = viaProxy.begin(
      new Request("http://localhost/z"),
      undefined,
    );
    assert.equal(request.span.attributes["url.path"], "/z");
  });

  it("keeps each request's attributes and parent when a processor's onStart begins another request", () => {
    const holder: { http?: HttpServerInstrumentation } = {};
    const inner: Span[] = [];
    const nesting: SpanProcessor = {
      onStart(span) {
        const http = holder.http;
        if (http !== undefined && span.attributes["url.path"] === "/outer") {
          inner.push(
            http.begin(
              new Request("http://inner.test:81/inner?q=1"),
              undefined,
            ).span,
          );
        }
      },
      onEnd() {},
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const { provider } = setup([nesting]);
    const http = new HttpServerInstrumentation({ tracerProvider: provider });
    holder.http = http;
    const outer = http.begin(
      new Request("http://outer.test/outer", {
        headers: { traceparent: TRACEPARENT },
      }),
      undefined,
    );
    assert.equal(outer.span.attributes["url.path"], "/outer");
    assert.equal(outer.span.attributes["server.address"], "outer.test");
    assert.equal(outer.span.attributes["server.port"], 80);
    assert.equal(outer.span.attributes["url.query"], undefined);
    assert.equal(outer.span.parentSpanId, "00f067aa0ba902b7");
    assert.equal(inner.length, 1);
    assert.equal(inner[0].attributes["url.path"], "/inner");
    assert.equal(inner[0].attributes["server.address"], "inner.test");
    assert.equal(inner[0].attributes["server.port"], 81);
    assert.equal(inner[0].attributes["url.query"], "q=1");
    assert.equal(inner[0].parentSpanId, undefined);
    assert.notEqual(inner[0].attributes, outer.span.attributes);
    // A request after a malformed URL parse keeps no parts of the one before.
    const next = http.begin(new Request("http://third.test/"), undefined);
    assert.equal(next.span.attributes["url.path"], "/");
    assert.equal(next.span.attributes["url.query"], undefined);
    assertInitCleared();
  });
});

describe("honoMiddleware's shared factory state", () => {
  it("treats destructured factories like c.json: the span ends at the handler's return, the body is not read", async () => {
    const { exporter, provider } = setup();
    const app = new Hono();
    app.use(honoMiddleware({ tracerProvider: provider }));
    app.get("/j", (c) => {
      const { json } = c;
      return json({ ok: true }, 201);
    });
    app.get("/t", (c) => {
      const text = c.text;
      return text("plain");
    });
    app.get("/b", (c) => {
      const { body } = c;
      return body(new Uint8Array([1, 2]));
    });
    for (const path of ["/j", "/t", "/b"]) {
      const response = await app.request(`http://localhost${path}`);
      // Ended before the body is read: a watched stream would end it later.
      assert.equal(exporter.items.at(-1)?.attributes["url.path"], path);
      await response.arrayBuffer();
    }
    assert.deepEqual(
      exporter.items.map((s) => s.attributes["http.response.status_code"]),
      [201, 200, 200],
    );
  });

  it("does not mix up two requests served at once", async () => {
    const { exporter, provider } = setup();
    const app = new Hono();
    app.use(honoMiddleware({ tracerProvider: provider }));
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    app.get("/slow", async (c) => {
      await gate;
      return c.text("slow");
    });
    app.get("/fast", (c) => c.json({ fast: true }));
    const slow = app.request("http://localhost/slow");
    const fast = await app.request("http://localhost/fast");
    assert.equal(exporter.items.length, 1);
    release();
    const slowResponse = await slow;
    assert.equal(exporter.items.length, 2);
    assert.equal(await slowResponse.text(), "slow");
    assert.deepEqual(await fast.json(), { fast: true });
    assert.deepEqual(exporter.items.map((s) => s.name), [
      "GET /fast",
      "GET /slow",
    ]);
  });
});

describe("honoMiddleware without an async frame", () => {
  it("turns a next() that throws synchronously into a rejection, records it, and ends the span", async () => {
    const { exporter, provider } = setup();
    const http = new HttpServerInstrumentation({ tracerProvider: provider });
    const middleware = honoMiddleware(http);
    const c = {
      req: { raw: new Request("http://localhost/sync"), routePath: "/sync" },
      res: new Response(null),
    };
    let returned: Promise<void> | undefined;
    assert.doesNotThrow(() => {
      returned = middleware(c, () => {
        throw new TypeError("sync");
      });
    });
    await assert.rejects(returned!, TypeError);
    assert.equal(exporter.items.length, 1);
    assert.equal(exporter.items[0].name, "GET /sync");
    assert.equal(exporter.items[0].status.code, 2);
    assert.equal(exporter.items[0].attributes["error.type"], "TypeError");
    assert.equal(http.stats.handlerErrors, 1);
  });

  it("takes a next() that returns a non-promise or a rejecting thenable, and a c.res getter that throws", async () => {
    const { exporter, provider } = setup();
    const middleware = honoMiddleware({ tracerProvider: provider });
    const plain = {
      req: { raw: new Request("http://localhost/plain") },
      res: new Response(null, { status: 204 }),
    };
    await middleware(plain, () => undefined as unknown as Promise<void>);
    assert.equal(
      exporter.items.at(-1)?.attributes["http.response.status_code"],
      204,
    );
    const thenable = {
      then(_ok: unknown, fail: (e: unknown) => void) {
        fail(new RangeError("thenable"));
      },
    };
    await assert.rejects(
      middleware(
        {
          req: { raw: new Request("http://localhost/t") },
          res: new Response(null),
        },
        () => thenable as unknown as Promise<void>,
      ),
      RangeError,
    );
    assert.equal(exporter.items.at(-1)?.attributes["error.type"], "RangeError");
    const hostile = {
      req: { raw: new Request("http://localhost/h") },
      get res(): Response {
        throw new EvalError("res");
      },
    };
    await assert.rejects(
      middleware(hostile as unknown as typeof plain, () => Promise.resolve()),
      EvalError,
    );
    // The span is still active inside next, across an await.
    let inside: string | undefined;
    const { activeSpan } = await import("../../mod.ts");
    await middleware(
      {
        req: { raw: new Request("http://localhost/a") },
        res: new Response(null),
      },
      async () => {
        await Promise.resolve();
        inside = (activeSpan() as Span | undefined)
          ?.attributes["url.path"] as string;
      },
    );
    assert.equal(inside, "/a");
    assert.equal(activeSpan(), undefined);
  });
});
