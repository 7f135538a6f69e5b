// Real Deno.serve / Bun.serve servers on 127.0.0.1 (whichever runtime runs
// the file), instrumented, driven by real fetch and raw sockets.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { SpanKind, SpanStatusCode } from "../../mod.ts";
import {
  HttpServerInstrumentation,
  instrumentHandler,
} from "../../instrumentation/http_server.ts";
import { instrumentFetch } from "../../instrumentation/fetch.ts";
import { activeBaggage } from "../../instrumentation/propagation.ts";
import {
  isBun,
  isDeno,
  isNode,
  recordingPipeline,
  serve,
  until,
} from "./_serve.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";

/** Sends raw bytes on a new connection and returns everything the server answers. */
function raw(port: number, bytes: Uint8Array | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Uint8Array[] = [];
    socket.on("data", (c: Uint8Array) => chunks.push(c));
    socket.on("error", reject);
    socket.on(
      "close",
      () => resolve(new TextDecoder().decode(Buffer.concat(chunks))),
    );
    socket.write(bytes);
    setTimeout(() => socket.end(), 500);
  });
}

describe("HttpServerInstrumentation on a real server", () => {
  it("records every request attribute, the remote parent, baggage and log correlation across await", async () => {
    const { spans, logs, tracerProvider, loggerProvider } = recordingPipeline();
    const logger = loggerProvider.getLogger("app");
    const http = new HttpServerInstrumentation({
      tracerProvider,
      requestHeaders: ["X-Request-Id"],
      responseHeaders: ["content-type"],
      env: () => undefined,
    });
    let seenBaggage: string | undefined;
    await using server = await serve(
      http.handler(async (request) => {
        await new Promise((r) => setTimeout(r, 2));
        seenBaggage = activeBaggage()?.get("tenant")?.value;
        logger.emit({ severityNumber: 9, body: "inside" });
        return new Response(`hello ${new URL(request.url).pathname}`, {
          headers: { "content-type": "text/plain" },
        });
      }, { route: "/items/:id" }),
    );
    const url = server.url.replace(
      "http://",
      "http://",
    ) + "/items/7?color=red&sig=topsecret";
    const response = await fetch(url, {
      headers: {
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
        tracestate: "rojo=00f067aa0ba902b7",
        baggage: "tenant=acme,tier=gold%20plus",
        "user-agent": "seed-test/1.0",
        "x-request-id": "r-1",
      },
    });
    assert.equal(await response.text(), "hello /items/7");
    await until(() => spans.length === 1);
    const span = spans[0];
    assert.equal(span.name, "GET /items/:id");
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.traceId, TRACE_ID);
    assert.equal(span.parentSpanId, PARENT_ID);
    assert.equal(span.parentIsRemote, true);
    assert.equal(span.traceState, "rojo=00f067aa0ba902b7");
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(span.attributes, {
      "http.request.method": "GET",
      "url.scheme": "http",
      "url.path": "/items/7",
      "url.query": "color=red&sig=REDACTED",
      "url.full":
        `http://127.0.0.1:${server.port}/items/7?color=red&sig=REDACTED`,
      "server.address": "127.0.0.1",
      "server.port": server.port,
      "network.protocol.version": "1.1",
      "client.address": span.attributes["client.address"],
      "user_agent.original": "seed-test/1.0",
      "http.request.header.x-request-id": ["r-1"],
      "http.route": "/items/:id",
      "http.response.status_code": 200,
      "http.response.header.content-type": ["text/plain"],
    });
    assert.match(
      String(span.attributes["client.address"]),
      /^(::ffff:)?127\.0\.0\.1$/,
    );
    assert.equal(seenBaggage, "acme");
    assert.equal(logs.length, 1);
    assert.equal(logs[0].traceId, TRACE_ID);
    assert.equal(logs[0].spanId, span.spanId);
    assert.equal(http.stats.requests, 1);
    assert.equal(http.stats.rejectedHeaders, 0);
  });

  it("records a thrown error, re-throws it, and the server answers the next request", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({ tracerProvider });
    const thrown: unknown[] = [];
    const inner = http.handler(async (request: Request) => {
      await Promise.resolve();
      if (new URL(request.url).pathname === "/boom") {
        throw new RangeError("kaput");
      }
      return new Response("fine");
    });
    // Catch what the instrumented handler re-throws, as the runtime would.
    await using server = await serve(async (request) => {
      try {
        return await (inner(request) as Promise<Response>);
      } catch (error) {
        thrown.push(error);
        return new Response("handled", { status: 500 });
      }
    });
    const first = await fetch(`${server.url}/boom`);
    assert.equal(first.status, 500);
    await first.body?.cancel();
    const second = await fetch(`${server.url}/ok`);
    assert.equal(await second.text(), "fine");
    await until(() => spans.length === 2);
    assert.equal(thrown.length, 1);
    assert.ok(thrown[0] instanceof RangeError);
    const failed = spans[0];
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.equal(failed.status.message, "kaput");
    assert.equal(failed.attributes["error.type"], "RangeError");
    assert.equal(failed.attributes["http.response.status_code"], undefined);
    assert.equal(failed.events[0].name, "exception");
    assert.equal(failed.events[0].attributes["exception.type"], "RangeError");
    assert.equal(failed.events[0].attributes["exception.message"], "kaput");
    assert.equal(spans[1].status.code, SpanStatusCode.UNSET);
    assert.equal(http.stats.handlerErrors, 1);
  });

  it("lets the runtime's error handler answer 500 when the handler throws, and keeps serving", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    let calls = 0;
    const seen: unknown[] = [];
    await using server = await serve(
      instrumentHandler(() => {
        if (calls++ === 0) throw new TypeError("sync throw");
        return new Response("again");
      }, { tracerProvider }),
      {
        onError: (error) => {
          seen.push(error);
          return new Response("oops", { status: 500 });
        },
      },
    );
    const first = await fetch(server.url);
    assert.equal(first.status, 500);
    await first.body?.cancel();
    assert.equal(await (await fetch(server.url)).text(), "again");
    await until(() => spans.length === 2);
    assert.ok(
      seen[0] instanceof TypeError,
      "the same error reaches the runtime",
    );
    assert.equal(spans[0].attributes["error.type"], "TypeError");
    assert.equal(spans[0].status.code, SpanStatusCode.ERROR);
  });

  it("sets status error and error.type for a 5xx, but not for a 404", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    await using server = await serve(
      instrumentHandler((request: Request) =>
        new Response(null, {
          status: request.url.endsWith("/missing") ? 404 : 503,
        }), { tracerProvider }),
    );
    await (await fetch(`${server.url}/missing`)).arrayBuffer();
    await (await fetch(`${server.url}/down`)).arrayBuffer();
    await until(() => spans.length === 2);
    assert.equal(spans[0].attributes["http.response.status_code"], 404);
    assert.equal(spans[0].status.code, SpanStatusCode.UNSET);
    assert.equal(spans[0].attributes["error.type"], undefined);
    assert.equal(spans[1].attributes["http.response.status_code"], 503);
    assert.equal(spans[1].status.code, SpanStatusCode.ERROR);
    assert.equal(spans[1].attributes["error.type"], "503");
    assert.equal(spans[1].name, "GET");
  });

  it("ends the span of a streamed body after its last chunk", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await using server = await serve(
      instrumentHandler(() =>
        new Response(
          new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode("first,"));
              await gate;
              controller.enqueue(new TextEncoder().encode("last"));
              controller.close();
            },
          }),
        ), { tracerProvider }),
    );
    const response = await fetch(server.url);
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first,");
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(
      spans.length,
      0,
      "the span is still open while the body streams",
    );
    release();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    assert.equal(rest, "last");
    await until(() => spans.length === 1);
    assert.equal(spans[0].attributes["http.response.status_code"], 200);
    assert.equal(spans[0].status.code, SpanStatusCode.UNSET);
  });

  it("ends the span when the client aborts a streamed body", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({ tracerProvider });
    let timer: ReturnType<typeof setInterval> | undefined;
    await using server = await serve(
      http.handler(() =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              timer = setInterval(() => {
                try {
                  controller.enqueue(new TextEncoder().encode("tick\n"));
                } catch {
                  clearInterval(timer);
                }
              }, 5);
            },
            cancel() {
              clearInterval(timer);
            },
          }),
        )
      ),
    );
    const abort = new AbortController();
    const response = await fetch(server.url, { signal: abort.signal });
    const reader = response.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.read().catch(() => {});
    try {
      await until(() => spans.length === 1, 3000);
    } finally {
      clearInterval(timer);
    }
    assert.equal(http.stats.bodiesCancelled, 1);
    assert.equal(spans[0].attributes["http.response.status_code"], 200);
  });

  it("propagates to a second loopback service through the instrumented fetch", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const tracedFetch = instrumentFetch(fetch, { tracerProvider });
    let backendSaw: string | null = null;
    let backendBaggage: string | null = null;
    await using backend = await serve(
      instrumentHandler((request: Request) => {
        backendSaw = request.headers.get("traceparent");
        backendBaggage = request.headers.get("baggage");
        return Response.json({ ok: true });
      }, { tracerProvider, route: "/stock" }),
    );
    await using frontend = await serve(
      instrumentHandler(async () => {
        const r = await tracedFetch(`${backend.url}/stock?sku=1`);
        return new Response(JSON.stringify(await r.json()));
      }, { tracerProvider, route: "/buy" }),
    );
    const response = await fetch(`${frontend.url}/buy`, {
      headers: {
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
        baggage: "tenant=acme",
      },
    });
    assert.equal(await response.text(), '{"ok":true}');
    await until(() => spans.length === 3);
    const server = spans.find((s) => s.name === "GET /buy")!;
    const client = spans.find((s) => s.kind === SpanKind.CLIENT)!;
    const downstream = spans.find((s) => s.name === "GET /stock")!;
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(downstream.parentSpanId, client.spanId);
    assert.equal(downstream.traceId, TRACE_ID);
    assert.equal(backendSaw, `00-${TRACE_ID}-${client.spanId}-01`);
    assert.equal(backendBaggage, "tenant=acme");
    assert.equal(client.name, "GET");
    assert.deepEqual(client.attributes, {
      "http.request.method": "GET",
      "url.full": `${backend.url}/stock?sku=1`,
      "server.address": "127.0.0.1",
      "server.port": backend.port,
      "http.response.status_code": 200,
    });
  });

  it("names spans by Bun.serve route patterns", {
    skip: !isBun && "Bun.serve({ routes }) exists only on Bun",
  }, async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({ tracerProvider });
    await using server = await serve(
      http.handler(() => new Response("fallback", { status: 404 })),
      {
        routes: http.routes({
          "/users/:id": (request: Request & { params: { id: string } }) =>
            Response.json({ id: request.params.id }),
          "/orders": {
            POST: () => new Response("created", { status: 201 }),
          },
          "/static": new Response("static"),
        }),
      },
    );
    assert.equal(
      await (await fetch(`${server.url}/users/42`)).text(),
      '{"id":"42"}',
    );
    assert.equal(
      (await fetch(`${server.url}/orders`, { method: "POST" })).status,
      201,
    );
    assert.equal(await (await fetch(`${server.url}/static`)).text(), "static");
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    await until(() => spans.length === 3);
    assert.deepEqual(spans.map((s) => s.name), [
      "GET /users/:id",
      "POST /orders",
      "GET",
    ]);
    assert.equal(spans[0].attributes["http.route"], "/users/:id");
    assert.equal(spans[0].attributes["url.path"], "/users/42");
  });

  it("ends the span at a WebSocket upgrade", {
    skip: isNode && "Node has no fetch-style WebSocket upgrade",
  }, async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const deno = (globalThis as unknown as {
      Deno?: {
        upgradeWebSocket(r: Request): { socket: WebSocket; response: Response };
      };
    }).Deno;
    await using server = await serve(
      instrumentHandler((request: Request, info: unknown) => {
        if (isDeno) {
          const { socket, response } = deno!.upgradeWebSocket(request);
          socket.onmessage = (e) => socket.send(`echo ${e.data}`);
          return response;
        }
        const bunServer = info as { upgrade(r: Request): boolean };
        return bunServer.upgrade(request)
          ? undefined
          : new Response("no", { status: 400 });
      }, { tracerProvider }),
      isBun
        ? {
          websocket: {
            message(ws: { send(s: string): void }, m: string) {
              ws.send(`echo ${m}`);
            },
          },
        }
        : {},
    );
    const ws = new WebSocket(server.url.replace("http", "ws"));
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send("hi");
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error("websocket failed"));
    });
    assert.equal(echoed, "echo hi");
    await until(() => spans.length === 1);
    assert.equal(spans[0].attributes["http.response.status_code"], 101);
    ws.close();
    await new Promise((r) => (ws.onclose = r));
  });
});

describe("HttpServerInstrumentation with hostile requests", () => {
  it("serves a malformed traceparent and bad baggage normally and counts them", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({ tracerProvider });
    await using server = await serve(
      http.handler((request: Request) => new Response(`ok ${request.method}`)),
    );
    const bad = await fetch(server.url, {
      headers: {
        traceparent: "00-zzzz-00f067aa0ba902b7-01",
        baggage: "=novalue,ok=1,bad=%zz",
      },
    });
    assert.equal(await bad.text(), "ok GET");
    const badState = await fetch(server.url, {
      headers: {
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
        tracestate: "UPPER=case",
      },
    });
    assert.equal(await badState.text(), "ok GET");
    await until(() => spans.length === 2);
    assert.equal(
      spans[0].parentSpanId,
      undefined,
      "a malformed parent starts a new trace",
    );
    assert.equal(
      spans[1].parentSpanId,
      PARENT_ID,
      "a bad tracestate keeps the parent",
    );
    assert.equal(spans[1].traceState, undefined);
    assert.deepEqual(http.stats.rejectedHeaders, 4);
    assert.equal(http.stats.instrumentationErrors, 0);
  });

  it("survives a 100 KB header, a non-UTF-8 path and a 1 KB method on the wire, and keeps serving", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({ tracerProvider });
    await using server = await serve(
      http.handler((request: Request) =>
        new Response(`ok ${request.method.length}`)
      ),
    );
    // The runtime's HTTP parser may refuse these itself (Deno: 400, Bun: 431
    // or a closed connection); when it lets one through, the handler serves it.
    const huge = await fetch(server.url, {
      headers: { traceparent: "0".repeat(100_000) },
    });
    await huge.body?.cancel();
    const path = new Uint8Array([
      ...new TextEncoder().encode("GET /caf"),
      0xff,
      0xfe,
      ...new TextEncoder().encode(
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      ),
    ]);
    const pathReply = await raw(server.port, path);
    const methodReply = await raw(
      server.port,
      `${
        "X".repeat(1024)
      } / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    for (const reply of [pathReply, methodReply]) {
      assert.ok(
        reply === "" || /^HTTP\/1\.1 \d{3}/.test(reply),
        reply.slice(0, 40),
      );
    }
    assert.equal(await (await fetch(server.url)).text(), "ok 3");
    await until(() => spans.length === http.stats.requests);
    assert.equal(http.stats.handlerErrors, 0);
    assert.equal(http.stats.instrumentationErrors, 0);
    if (huge.status === 200) assert.ok(http.stats.rejectedHeaders >= 1);
    if (/^HTTP\/1\.1 200/.test(methodReply)) {
      assert.equal(http.stats.otherMethods, 1);
    }
  });

  it("describes requests the parsers would refuse: 1 KB method, non-UTF-8 path, 100 KB headers", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const http = new HttpServerInstrumentation({
      tracerProvider,
      requestHeaders: ["x-big"],
    });
    const handler = http.handler((request: Request) =>
      new Response(request.method.slice(0, 3))
    );
    const method = "X".repeat(1024);
    // Bun's Request constructor turns unknown methods into GET; an own
    // property gives both runtimes the same 1 KB method.
    const longMethod = new Request("http://127.0.0.1:8080/", {
      method: "POST",
    });
    Object.defineProperty(longMethod, "method", { value: method });
    const r1 = await handler(longMethod) as Response;
    assert.equal(await r1.text(), "XXX");
    const r2 = await handler(
      new Request("http://127.0.0.1:8080/caf%FF%FE?q=%FF"),
    ) as Response;
    await r2.text();
    const big = "b".repeat(100_000);
    const r3 = await handler(
      new Request("http://127.0.0.1:8080/", {
        headers: {
          traceparent: big,
          tracestate: big,
          baggage: big,
          "x-big": big,
        },
      }),
    ) as Response;
    await r3.text();
    assert.equal(spans.length, 3);
    assert.equal(spans[0].name, "HTTP");
    assert.equal(spans[0].attributes["http.request.method"], "_OTHER");
    assert.equal(
      spans[0].attributes["http.request.method_original"],
      "X".repeat(64) + "...",
    );
    assert.equal(spans[1].attributes["url.path"], "/caf%FF%FE");
    assert.equal(spans[1].attributes["url.query"], "q=%FF");
    assert.equal(spans[2].parentSpanId, undefined);
    assert.equal(
      (spans[2].attributes["http.request.header.x-big"] as string[])[0].length,
      4096,
    );
    const stats = http.stats;
    assert.equal(stats.otherMethods, 1);
    assert.equal(stats.rejectedHeaders, 2, JSON.stringify(stats)); // traceparent, baggage
    assert.equal(stats.instrumentationErrors, 0);
  });
});
