// http.route in the Hono middleware comes from Hono's match result (the
// symbol-keyed getter `hono/route` reads) instead of the deprecated
// `c.req.routePath` getter, which maps every matched route into a new array
// per call. It must give what `routePath` gives for every route shape, and
// fall back to `routePath` for request objects without that getter, with
// two candidates, with one that disagrees, throws, or has another shape.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "../../mod.ts";
import { honoMiddleware } from "../../instrumentation/hono.ts";
import { serve, until } from "./_serve.ts";

function setup() {
  const exporter = new InMemoryExporter<ReadableSpan>();
  const tracerProvider = new TracerProvider({
    processors: [new SimpleSpanProcessor(exporter)],
    env: () => undefined,
  });
  return { exporter, middleware: honoMiddleware({ tracerProvider }) };
}

/** A request object of its own class, as a Hono-like framework might have. */
function requestOf(
  proto: object,
  raw: Request,
  routePath: unknown,
  routeIndex: unknown = 1,
): { raw: Request; routePath?: string; routeIndex?: number } {
  const req = Object.create(proto) as Record<PropertyKey, unknown>;
  req.raw = raw;
  Object.defineProperty(req, "routePath", {
    get: () => routePath,
    configurable: true,
  });
  req.routeIndex = routeIndex;
  return req as { raw: Request; routePath?: string; routeIndex?: number };
}

/** A prototype with one description-less symbol getter returning `match`. */
function protoWithMatch(match: (this: unknown) => unknown): object {
  const proto = {};
  Object.defineProperty(proto, Symbol(), { get: match });
  return proto;
}

async function run(
  middleware: ReturnType<typeof honoMiddleware>,
  req: { raw: Request; routePath?: string; routeIndex?: number },
): Promise<void> {
  await middleware({ req, res: new Response(null) }, () => Promise.resolve());
}

describe("honoMiddleware's http.route", () => {
  it("equals c.req.routePath for every route shape of a real Hono app on a real server", async () => {
    const { exporter, middleware } = setup();
    const seen: string[] = [];
    const app = new Hono();
    app.use(middleware);
    const remember = (c: { req: { routePath: string } }) => {
      seen.push(c.req.routePath);
    };
    app.get("/users/:id", (c) => {
      remember(c);
      return c.json({ id: c.req.param("id") });
    });
    app.get("/static", (c) => {
      remember(c);
      return c.text("static");
    });
    app.get("/files/*", (c) => {
      remember(c);
      return c.text("file");
    });
    app.use("/mw/*", async (_c, next) => {
      await next();
    });
    app.get("/mw/:a/:b", (c) => {
      remember(c);
      return c.text("mw");
    });
    const api = new Hono();
    api.get("/items/:item", (c) => {
      remember(c);
      return c.text("item");
    });
    app.route("/api/v1", api);
    await using server = await serve((request, info) =>
      app.fetch(request, info)
    );
    const paths = [
      "/users/7",
      "/static",
      "/files/a/b.txt",
      "/mw/x/y",
      "/api/v1/items/9",
      "/nope",
      "/users/8",
    ];
    for (const path of paths) {
      await (await fetch(`${server.url}${path}`)).arrayBuffer();
    }
    await until(() => exporter.items.length === paths.length);
    const routes = exporter.items.map((s) => s.attributes["http.route"]);
    assert.deepEqual(routes, [
      "/users/:id",
      "/static",
      "/files/*",
      "/mw/:a/:b",
      "/api/v1/items/:item",
      undefined, // no route matched: the span is named by the method alone
      "/users/:id",
    ]);
    assert.deepEqual(routes.filter((r) => r !== undefined), seen);
    assert.equal(exporter.items[5].name, "GET");
  });

  it("reads routePath for request objects without the getter, with two candidates, or whose getter disagrees", async () => {
    const { exporter, middleware } = setup();
    const raw = () => new Request("http://localhost/x");
    const goodMatch = () => [[[[], { path: "/never" }], [[() => {}, {
      path: "/from-match",
    }]]]];
    // No symbol at all (a plain object).
    await run(middleware, { raw: raw(), routePath: "/plain" });
    // Two description-less symbol getters: neither is trusted.
    const two = protoWithMatch(goodMatch);
    Object.defineProperty(two, Symbol(), { get: goodMatch });
    await run(middleware, requestOf(two, raw(), "/two"));
    // One getter that disagrees with routePath: routePath, now and later.
    const liar = protoWithMatch(goodMatch);
    await run(middleware, requestOf(liar, raw(), "/truth"));
    await run(middleware, requestOf(liar, raw(), "/truth-again"));
    // A described symbol (not Hono's) is not a candidate.
    const described = {};
    Object.defineProperty(described, Symbol("match"), { get: goodMatch });
    await run(middleware, requestOf(described, raw(), "/described"));
    assert.deepEqual(
      exporter.items.map((s) => s.attributes["http.route"]),
      ["/plain", "/two", "/truth", "/truth-again", "/described"],
    );
  });

  it("uses a confirmed getter, and falls back per request when it throws or gives another shape", async () => {
    const { exporter, middleware } = setup();
    let mode: "ok" | "throw" | "shape" | "index" = "ok";
    const proto = protoWithMatch(function (this: unknown) {
      if (mode === "throw") throw new Error("getter");
      if (mode === "shape") return { 0: "not an array" };
      return [[[[], { path: "/mw" }], [[() => {}, { path: "/users/:id" }]]]];
    });
    const raw = () => new Request("http://localhost/users/1");
    // First request: confirmed against routePath.
    await run(middleware, requestOf(proto, raw(), "/users/:id"));
    // Now trusted: a routePath that would say otherwise is not read.
    let reads = 0;
    const trusted = requestOf(proto, raw(), "/users/:id");
    Object.defineProperty(trusted, "routePath", {
      get: () => {
        reads++;
        return "/not-read";
      },
    });
    await run(middleware, trusted);
    assert.equal(reads, 0);
    mode = "throw";
    await run(middleware, requestOf(proto, raw(), "/fallback-throw"));
    mode = "shape";
    await run(middleware, requestOf(proto, raw(), "/fallback-shape"));
    mode = "index";
    await run(middleware, requestOf(proto, raw(), "/fallback-index", 5));
    await run(middleware, requestOf(proto, raw(), "/fallback-no-index", "1"));
    assert.deepEqual(
      exporter.items.map((s) => s.attributes["http.route"]),
      [
        "/users/:id",
        "/users/:id",
        "/fallback-throw",
        "/fallback-shape",
        "/fallback-index",
        "/fallback-no-index",
      ],
    );
  });

  it("never trusts a getter that throws on the first request, and serves every request", async () => {
    const { exporter, middleware } = setup();
    let calls = 0;
    const proto = protoWithMatch(() => {
      calls++;
      throw new Error("hostile");
    });
    for (let i = 0; i < 5; i++) {
      await run(
        middleware,
        requestOf(proto, new Request("http://localhost/h"), `/h${i}`),
      );
    }
    assert.equal(calls, 1);
    assert.deepEqual(
      exporter.items.map((s) => s.attributes["http.route"]),
      ["/h0", "/h1", "/h2", "/h3", "/h4"],
    );
  });

  it("keeps each prototype's own answer when requests of two frameworks alternate", async () => {
    const { exporter, middleware } = setup();
    const hono = protoWithMatch(() => [[[[() => {}, { path: "/a/:x" }]]]]);
    const other = {};
    for (let i = 0; i < 200; i++) {
      const a = requestOf(
        hono,
        new Request("http://localhost/a/1"),
        "/a/:x",
        0,
      );
      const b = requestOf(other, new Request("http://localhost/b"), "/b");
      await run(middleware, i % 2 === 0 ? a : b);
    }
    const routes = exporter.items.map((s) => s.attributes["http.route"]);
    assert.equal(routes.length, 200);
    for (let i = 0; i < 200; i++) {
      assert.equal(routes[i], i % 2 === 0 ? "/a/:x" : "/b");
    }
  });
});
