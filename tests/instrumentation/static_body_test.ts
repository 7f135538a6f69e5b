// Plain bodies end the span at the handler's return without reading
// `response.body` (reading it makes Deno.serve and Bun.serve stream a plain
// body); streamed bodies still end it after their last chunk.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { streamText } from "hono/streaming";
import { HttpServerInstrumentation } from "../../instrumentation/http_server.ts";
import { honoMiddleware } from "../../instrumentation/hono.ts";
import { recordingPipeline, serve, until } from "./_serve.ts";

/** Counts reads of `response.body` on one response. */
function watchBody(response: Response): { reads: number } {
  const seen = { reads: 0 };
  const get = Object.getOwnPropertyDescriptor(Response.prototype, "body")!.get!;
  Object.defineProperty(response, "body", {
    get() {
      seen.reads++;
      return get.call(response);
    },
  });
  return seen;
}

describe("honoMiddleware and plain bodies", () => {
  it("never reads the body of c.json, c.text, c.html, c.body and c.newResponse responses made from a string, buffer or nothing", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const app = new Hono();
    app.use(honoMiddleware({ tracerProvider }));
    const watched: { reads: number }[] = [];
    const keep = (r: Response) => {
      watched.push(watchBody(r));
      return r;
    };
    app.get("/json", (c) => keep(c.json({ a: 1 })));
    app.get("/text", (c) => keep(c.text("hi", 201)));
    app.get("/html", (c) => keep(c.html("<p>hi</p>")));
    app.get("/body", (c) => keep(c.body(new Uint8Array([104, 105]))));
    app.get("/new", (c) => keep(c.newResponse(new ArrayBuffer(2))));
    app.get("/none", (c) => keep(c.body(null, 204)));
    app.get("/redirect", (c) => keep(c.redirect("/json")));
    for (const path of ["json", "text", "html", "body", "new", "none"]) {
      const response = await app.request(`http://localhost/${path}`);
      await response.arrayBuffer();
    }
    await app.request("http://localhost/redirect", { redirect: "manual" });
    assert.equal(spans.length, 7);
    assert.deepEqual(watched.map((w) => w.reads), [0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(
      spans.map((s) => s.attributes["http.response.status_code"]),
      [200, 201, 200, 200, 200, 204, 302],
    );
  });

  it("still watches a body it did not see made: a Response the handler built itself", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const app = new Hono();
    app.use(honoMiddleware({ tracerProvider }));
    let watched: { reads: number } | undefined;
    app.get("/", () => {
      const r = new Response("built by hand");
      watched = watchBody(r);
      return r;
    });
    const response = await app.request("http://localhost/");
    assert.equal(await response.text(), "built by hand");
    await until(() => spans.length === 1);
    assert.ok(watched!.reads >= 1, "the body was looked at");
  });

  it("ends a Hono stream's span after its last chunk on a real server", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const app = new Hono();
    app.use(honoMiddleware({ tracerProvider }));
    let endedBeforeLast: boolean | undefined;
    app.get("/stream", (c) =>
      streamText(c, async (s) => {
        await s.write("a");
        await s.sleep(20);
        endedBeforeLast = spans.length > 0;
        await s.write("b");
      }));
    app.get("/json", (c) => c.json({ ok: true }));
    await using server = await serve((request, info) =>
      app.fetch(request, info)
    );
    assert.equal(await (await fetch(`${server.url}/stream`)).text(), "ab");
    await until(() => spans.length === 1);
    assert.equal(endedBeforeLast, false, "the span waits for the last chunk");
    assert.equal(
      await (await fetch(`${server.url}/json`)).text(),
      '{"ok":true}',
    );
    await until(() => spans.length === 2);
    assert.deepEqual(spans.map((s) => s.name), [
      "GET /stream",
      "GET /json",
    ]);
  });
});

describe("plain bodies, hostile input", () => {
  it("HttpServerRequest.end takes hostile options without throwing", () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({ tracerProvider });
    const hostile: unknown[] = [
      null,
      42,
      "staticBody",
      { staticBody: "yes" },
      {
        get staticBody(): boolean {
          throw new Error("getter");
        },
      },
      new Proxy({}, {
        get() {
          throw new Error("trap");
        },
      }),
    ];
    for (const options of hostile) {
      const request = http.begin(new Request("http://localhost/"), undefined);
      const response = new Response(null, { status: 204 });
      const sent = request.end(response, options as { staticBody?: boolean });
      assert.equal(sent, response);
      assert.equal(request.span.ended, true);
    }
    assert.equal(spans.length, hostile.length);
    // The throwing getter and the throwing Proxy are counted.
    assert.equal(http.stats.instrumentationErrors, 2);
  });

  it("a wrong staticBody: true only ends the span early; the streamed body is sent unchanged", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({ tracerProvider });
    const request = http.begin(new Request("http://localhost/"), undefined);
    const response = new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("still "));
          c.enqueue(new TextEncoder().encode("sent"));
          c.close();
        },
      }),
    );
    const sent = request.end(response, { staticBody: true });
    assert.equal(spans.length, 1);
    assert.equal(await sent.text(), "still sent");
  });

  it("serves through hostile Hono contexts: throwing factories, hostile bodies, a frozen context", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({ tracerProvider });
    const middleware = honoMiddleware(http);
    const proxyBody = new Proxy({}, {
      getPrototypeOf() {
        throw new Error("prototype trap");
      },
    });
    // A factory that throws: the error reaches the handler unchanged.
    const throwing = {
      req: { raw: new Request("http://localhost/a") },
      res: new Response(null),
      json: () => {
        throw new RangeError("factory");
      },
    };
    await assert.rejects(
      middleware(throwing, () => {
        (throwing.json as unknown as () => unknown)();
        return Promise.resolve();
      }),
      RangeError,
    );
    // A body whose prototype trap throws: not known static, looked at.
    const made = new Response("proxied");
    const hostileBody = {
      req: { raw: new Request("http://localhost/b") },
      res: new Response(null),
      body: (_data: unknown) => made,
    };
    await middleware(hostileBody, () => {
      hostileBody.res = (hostileBody.body as (d: unknown) => Response)(
        proxyBody,
      );
      return Promise.resolve();
    });
    assert.equal(await hostileBody.res.text(), "proxied");
    // A frozen context: no factory can be wrapped, every body is looked at.
    const frozen = Object.freeze({
      req: { raw: new Request("http://localhost/c") },
      res: new Response(null, { status: 204 }),
      json: () => new Response("{}"),
    });
    await middleware(frozen, () => Promise.resolve());
    // A factory that returns something that is not a Response.
    const odd = {
      req: { raw: new Request("http://localhost/d") },
      res: new Response(null, { status: 204 }),
      text: () => "not a response",
    };
    await middleware(odd, () => {
      (odd.text as unknown as () => unknown)();
      return Promise.resolve();
    });
    await until(() => spans.length === 4);
    assert.deepEqual(
      spans.map((s) => s.attributes["url.path"]).sort(),
      ["/a", "/b", "/c", "/d"],
    );
    assert.equal(http.stats.handlerErrors, 1);
  });
});
