import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SpanKind, SpanStatusCode } from "../../mod.ts";
import {
  instrumentFetch,
  patchGlobalFetch,
} from "../../instrumentation/fetch.ts";
import { withBaggage } from "../../instrumentation/propagation.ts";
import { recordingPipeline, serve, until } from "./_serve.ts";

describe("instrumentFetch", () => {
  it("makes CLIENT spans with redacted URLs, injects context and records 4xx as errors", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const seen: Headers[] = [];
    await using server = await serve((request) => {
      seen.push(request.headers);
      return new Response("x", {
        status: request.url.includes("missing") ? 404 : 200,
        headers: { "content-type": "text/plain;charset=utf-8" },
      });
    });
    const traced = instrumentFetch(fetch, {
      tracerProvider,
      responseHeaders: ["content-type"],
    });
    const tracer = tracerProvider.getTracer("t");
    await tracer.startActiveSpan("outer", async (outer) => {
      await withBaggage(new Map([["tenant", { value: "acme" }]]), async () => {
        const r = await traced(
          `${server.url}/missing?X-Goog-Signature=abc&keep=1`,
          { method: "post", body: "hi" },
        );
        await r.text();
        const r2 = await traced(
          new Request(`${server.url}/ok`, { headers: { "x-own": "1" } }),
        );
        await r2.text();
      });
      outer.end();
    });
    await until(() => spans.length === 3);
    const [missing, ok] = spans.filter((s) => s.kind === SpanKind.CLIENT);
    const outer = spans.find((s) => s.name === "outer")!;
    assert.equal(missing.name, "POST");
    assert.equal(missing.parentSpanId, outer.spanId);
    assert.deepEqual(missing.attributes, {
      "http.request.method": "POST",
      "url.full": `${server.url}/missing?X-Goog-Signature=REDACTED&keep=1`,
      "server.address": "127.0.0.1",
      "server.port": server.port,
      "http.response.status_code": 404,
      "error.type": "404",
      "http.response.header.content-type": ["text/plain;charset=utf-8"],
    });
    assert.equal(missing.status.code, SpanStatusCode.ERROR);
    assert.equal(
      seen[0].get("traceparent"),
      `00-${missing.traceId}-${missing.spanId}-01`,
    );
    assert.equal(seen[0].get("baggage"), "tenant=acme");
    assert.equal(seen[1].get("x-own"), "1", "a Request's own headers are kept");
    assert.equal(
      seen[1].get("traceparent"),
      `00-${ok.traceId}-${ok.spanId}-01`,
    );
    assert.equal(ok.status.code, SpanStatusCode.UNSET);
  });

  it("records a rejected fetch and re-throws the same error", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const traced = instrumentFetch(fetch, { tracerProvider });
    const { closedPort } = await import("../otlp/_server.ts");
    const port = await closedPort();
    const error = await traced(`http://user:pw@127.0.0.1:${port}/`).catch((e) =>
      e
    );
    assert.ok(error instanceof Error);
    assert.equal(spans.length, 1);
    assert.equal(
      spans[0].attributes["url.full"],
      `http://REDACTED:REDACTED@127.0.0.1:${port}/`,
    );
    assert.equal(spans[0].attributes["error.type"], error.name);
    assert.equal(spans[0].status.code, SpanStatusCode.ERROR);
    assert.equal(spans[0].events[0].name, "exception");
  });

  it("passes odd input through to fetch unchanged and skips ignored URLs", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    const calls: unknown[][] = [];
    const fake = (...args: unknown[]) => {
      calls.push(args);
      return Promise.resolve(new Response("ok"));
    };
    const traced = instrumentFetch(fake as typeof fetch, {
      tracerProvider,
      ignore: (url) => url.includes("/v1/traces"),
      diagnostics: () => {},
    });
    await traced("http://collector:4318/v1/traces");
    assert.equal(calls[0].length, 2);
    assert.equal(spans.length, 0);
    const hostileInit = {
      get method(): string {
        throw new Error("getter");
      },
    };
    await traced("http://x/", hostileInit as RequestInit);
    assert.equal(
      calls[1][1],
      hostileInit,
      "uninstrumented, the same init object",
    );
    await traced("http://x/", { method: "M".repeat(1024) });
    assert.equal(spans.at(-1)!.attributes["http.request.method"], "_OTHER");
    assert.equal(
      String(spans.at(-1)!.attributes["http.request.method_original"]).length,
      67,
    );
    assert.throws(
      () => instrumentFetch(null as never, { tracerProvider }),
      TypeError,
    );
    assert.throws(
      () => instrumentFetch(fetch, {} as never),
      /tracerProvider is required/,
    );
  });
});

describe("patchGlobalFetch", () => {
  it("instruments globalThis.fetch until restored, and refuses to patch twice", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    await using server = await serve(() => new Response("hi"));
    const original = globalThis.fetch;
    const diagnostics: string[] = [];
    const patch = patchGlobalFetch({
      tracerProvider,
      diagnostics: (d) => void diagnostics.push(d.message),
    });
    try {
      assert.notEqual(globalThis.fetch, original);
      const again = patchGlobalFetch({
        tracerProvider,
        diagnostics: (d) => void diagnostics.push(d.message),
      });
      again.restore();
      assert.match(diagnostics[0], /already instrumented/);
      await (await fetch(server.url)).text();
      assert.equal(spans.length, 1);
    } finally {
      patch.restore();
    }
    assert.equal(globalThis.fetch, original);
    await (await fetch(server.url)).text();
    assert.equal(spans.length, 1, "no span after restore");
  });
});
