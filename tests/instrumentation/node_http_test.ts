// node:http listeners through instrumentNodeListener: a real node:http
// server on 127.0.0.1 (Node, and node:http in Deno and Bun), real fetch
// requests, the spans and logs that come out.
import assert from "node:assert/strict";
import {
  createServer,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import {
  InMemoryExporter,
  LoggerProvider,
  type LogRecordData,
  type ReadableSpan,
  SimpleLogRecordProcessor,
  SimpleSpanProcessor,
  TracerProvider,
} from "../../mod.ts";
import {
  instrumentNodeListener,
  NodeHttpInstrumentation,
} from "../../instrumentation/node_http.ts";

type Listener = NonNullable<Parameters<typeof createServer>[1]>;

async function withServer(
  listener: Listener,
  fn: (base: string, port: number) => Promise<void>,
): Promise<void> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    await fn(`http://127.0.0.1:${port}`, port);
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
}

function setup() {
  const spans = new InMemoryExporter<ReadableSpan>();
  const logs = new InMemoryExporter<LogRecordData>();
  const tracerProvider = new TracerProvider({
    processors: [new SimpleSpanProcessor(spans)],
  });
  const loggerProvider = new LoggerProvider({
    processors: [new SimpleLogRecordProcessor(logs)],
  });
  return { spans, logs, tracerProvider, loggerProvider };
}

/** Waits until `n` spans arrived (the span ends on the response's finish event). */
async function spansOf(
  t: ReturnType<typeof setup>,
  n: number,
): Promise<ReadableSpan[]> {
  for (let i = 0; i < 200 && t.spans.items.length < n; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await t.tracerProvider.forceFlush();
  }
  assert.equal(t.spans.items.length, n);
  return t.spans.items as ReadableSpan[];
}

describe("instrumentNodeListener", () => {
  it("makes one SERVER span per request with the HTTP semantic conventions, active across awaits", async () => {
    const t = setup();
    const logger = t.loggerProvider.getLogger("app");
    const listener = instrumentNodeListener(
      async (req: IncomingMessage, res: ServerResponse) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.emit({ severityNumber: 9, body: `handled ${req.url}` });
        res.setHeader("content-type", "text/plain");
        res.end("hello");
      },
      { tracerProvider: t.tracerProvider, route: "/users/:id" },
    );
    await withServer(listener, async (base, port) => {
      const response = await fetch(`${base}/users/7?token=x&q=1`, {
        headers: {
          "user-agent": "seed-test",
          traceparent:
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        },
      });
      assert.equal(await response.text(), "hello");
      const [span] = await spansOf(t, 1);
      assert.equal(span.name, "GET /users/:id");
      assert.equal(span.kind, 1); // SERVER
      assert.equal(
        span.traceId,
        "4bf92f3577b34da6a3ce929d0e0e4736",
      );
      assert.equal(span.parentSpanId, "00f067aa0ba902b7");
      const a = span.attributes;
      assert.equal(a["http.request.method"], "GET");
      assert.equal(a["url.path"], "/users/7");
      assert.equal(a["url.scheme"], "http");
      assert.equal(a["server.address"], "127.0.0.1");
      assert.equal(a["server.port"], port);
      assert.equal(a["client.address"], "127.0.0.1");
      assert.equal(a["user_agent.original"], "seed-test");
      assert.equal(a["network.protocol.version"], "1.1");
      assert.equal(a["http.route"], "/users/:id");
      assert.equal(a["http.response.status_code"], 200);
      assert.equal(span.status.code, 0);
      await t.loggerProvider.forceFlush();
      const [log] = t.logs.items as LogRecordData[];
      assert.equal(log.body, "handled /users/7?token=x&q=1");
      assert.equal(log.spanId, span.spanId);
      assert.equal(log.traceId, span.traceId);
    });
  });

  it("sets error status for a 5xx and counts it; an unknown method becomes _OTHER", async () => {
    const t = setup();
    const http = new NodeHttpInstrumentation({
      tracerProvider: t.tracerProvider,
    });
    const listener = http.listener(
      (_req: IncomingMessage, res: ServerResponse) => {
        res.statusCode = 503;
        res.end("down");
      },
    );
    await withServer(listener, async (_base, port) => {
      await new Promise<void>((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port, method: "PURGE", path: "/cache" },
          (res) => {
            res.resume();
            res.on("end", resolve);
          },
        );
        req.on("error", reject);
        req.end();
      });
      const [span] = await spansOf(t, 1);
      assert.equal(span.name, "HTTP");
      assert.equal(span.attributes["http.request.method"], "_OTHER");
      assert.equal(span.attributes["http.request.method_original"], "PURGE");
      assert.equal(span.attributes["http.response.status_code"], 503);
      assert.equal(span.attributes["error.type"], "503");
      assert.equal(span.status.code, 2);
      assert.equal(http.stats.requests, 1);
      assert.equal(http.stats.serverErrors, 1);
      assert.equal(http.stats.otherMethods, 1);
    });
  });

  it("serves hostile requests normally: a malformed traceparent is counted, a huge header kept bounded", async () => {
    const t = setup();
    const http = new NodeHttpInstrumentation({
      tracerProvider: t.tracerProvider,
      requestHeaders: ["x-big"],
    });
    const listener = http.listener((
      _req: IncomingMessage,
      res: ServerResponse,
    ) => res.end("ok"));
    await withServer(listener, async (base) => {
      const response = await fetch(`${base}/`, {
        headers: { traceparent: "00-zz-yy-01", "x-big": "b".repeat(10_000) },
      });
      assert.equal(await response.text(), "ok");
      const [span] = await spansOf(t, 1);
      assert.equal(span.parentSpanId, undefined);
      assert.equal(http.stats.rejectedHeaders, 1);
      const big = span.attributes["http.request.header.x-big"] as string[];
      assert.equal(big.length, 1);
      assert.ok(big[0].length <= 4096);
    });
  });

  it("ends the span without a status code when the client goes before the response", async () => {
    const t = setup();
    let closed!: () => void;
    const gone = new Promise<void>((resolve) => (closed = resolve));
    const listener = instrumentNodeListener(
      (_req: IncomingMessage, res: ServerResponse) => {
        res.once("close", () => closed());
        res.write("partial"); // never ended
      },
      { tracerProvider: t.tracerProvider },
    );
    await withServer(listener, async (base) => {
      const controller = new AbortController();
      const response = await fetch(`${base}/slow`, {
        signal: controller.signal,
      });
      controller.abort();
      await response.body?.cancel().catch(() => {});
      await gone;
      const [span] = await spansOf(t, 1);
      assert.equal(span.attributes["http.response.status_code"], undefined);
      assert.equal(span.attributes["url.path"], "/slow");
    });
  });

  it("rejects a listener that is not a function, naming what to pass", () => {
    assert.throws(
      () =>
        instrumentNodeListener(42 as never, {
          tracerProvider: new TracerProvider(),
        }),
      /Cannot instrument listener: expected a function \(request, response\) => void/,
    );
    assert.throws(
      () => instrumentNodeListener(() => {}, {} as never),
      /options\.tracerProvider is required/,
    );
  });
});
