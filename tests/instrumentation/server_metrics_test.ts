import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { Hono } from "hono";
import { TracerProvider } from "../../mod.ts";
import {
  findMetric,
  type HistogramDataPoint,
  ManualMetricReader,
  MeterProvider,
  type MetricData,
  type NumberDataPoint,
} from "../../pipeline/metrics/mod.ts";
import {
  HTTP_DURATION_BUCKETS,
  HttpServerInstrumentation,
  instrumentHandler,
  type MeterSource,
} from "../../instrumentation/http_server.ts";
import { honoMiddleware } from "../../instrumentation/hono.ts";
import { instrumentNodeListener } from "../../instrumentation/node_http.ts";
import { recordingPipeline, serve, until } from "./_serve.ts";

const noEnv = () => undefined;
const DURATION = "http.server.request.duration";
const ACTIVE = "http.server.active_requests";

function meters() {
  const reader = new ManualMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader], env: noEnv });
  const metric = async (name: string): Promise<MetricData | undefined> =>
    findMetric((await reader.collect()).resourceMetrics, name);
  return { reader, meterProvider, metric };
}

function histogramPoints(metric: MetricData | undefined): HistogramDataPoint[] {
  assert.equal(metric?.dataPointType, "histogram");
  return [
    ...(metric as { dataPoints: readonly HistogramDataPoint[] }).dataPoints,
  ];
}

function sumPoints(metric: MetricData | undefined): NumberDataPoint[] {
  assert.equal(metric?.dataPointType, "sum");
  return [...(metric as { dataPoints: readonly NumberDataPoint[] }).dataPoints];
}

const byStatus = (points: HistogramDataPoint[], status: number) =>
  points.filter((p) => p.attributes["http.response.status_code"] === status);

describe("server metrics on a real server", () => {
  it("records http.server.request.duration with the semantic conventions' unit, buckets and attributes", async () => {
    const { tracerProvider } = recordingPipeline();
    const { meterProvider, metric } = meters();
    const http = new HttpServerInstrumentation({
      tracerProvider,
      meterProvider,
      env: noEnv,
    });
    const users = http.handler(async (request: Request) => {
      await new Promise((r) => setTimeout(r, 30));
      return new Response(new URL(request.url).pathname);
    }, { route: "/users/:id" });
    const down = http.handler(() => new Response("down", { status: 503 }), {
      route: "/down",
    });
    const boom = http.handler(() => {
      throw new RangeError("no");
    }, { route: "/boom" });
    await using server = await serve((request, info) => {
      const path = new URL(request.url).pathname;
      const h = path.startsWith("/users/")
        ? users
        : path === "/down"
        ? down
        : boom;
      return (h as (r: Request, i: unknown) => Response | Promise<Response>)(
        request,
        info,
      );
    }, { onError: () => new Response("caught", { status: 500 }) });
    for (const path of ["/users/1", "/users/2", "/down", "/boom"]) {
      await (await fetch(`${server.url}${path}`)).text();
    }
    await until(() => http.stats.requests === 4);
    const duration = await metric(DURATION);
    assert.equal(duration?.descriptor.unit, "s");
    assert.equal(duration?.descriptor.type, "histogram");
    const points = histogramPoints(duration);
    const ok = byStatus(points, 200);
    assert.equal(ok.length, 1);
    assert.deepEqual({ ...ok[0].attributes }, {
      "http.request.method": "GET",
      "url.scheme": "http",
      "http.response.status_code": 200,
      "http.route": "/users/:id",
      "network.protocol.version": "1.1",
    });
    assert.equal(ok[0].count, 2);
    assert.deepEqual(ok[0].explicitBounds, HTTP_DURATION_BUCKETS);
    assert.ok(ok[0].min! >= 0.025, `min ${ok[0].min} s covers the 30 ms wait`);
    assert.ok(ok[0].max! < 10);
    // 30 ms lands in the (0.025, 0.05] bucket or above, never below.
    assert.equal(
      ok[0].bucketCounts[0] + ok[0].bucketCounts[1] + ok[0].bucketCounts[2],
      0,
    );
    const fail = byStatus(points, 503);
    assert.equal(fail.length, 1);
    assert.equal(fail[0].attributes["error.type"], "503");
    assert.equal(fail[0].attributes["http.route"], "/down");
    const thrown = points.filter((p) =>
      p.attributes["error.type"] === "RangeError"
    );
    assert.equal(
      thrown.length,
      1,
      "a thrown error is recorded with its error.type",
    );
    assert.equal(thrown[0].attributes["http.route"], "/boom");
    assert.equal(thrown[0].attributes["http.response.status_code"], undefined);
    // Nothing else in the attributes: no url.path, no client.address (unbounded).
    for (const p of points) {
      for (const key of Object.keys(p.attributes)) {
        assert.ok(
          [
            "http.request.method",
            "url.scheme",
            "http.response.status_code",
            "http.route",
            "error.type",
            "network.protocol.version",
          ].includes(key),
          key,
        );
      }
    }
    const active = sumPoints(await metric(ACTIVE));
    assert.equal(active.length, 1);
    assert.deepEqual({ ...active[0].attributes }, {
      "http.request.method": "GET",
      "url.scheme": "http",
    });
    assert.equal(active[0].value, 0);
    await meterProvider.shutdown();
  });

  it("counts http.server.active_requests while a request is in flight, and a streamed body until its end", async () => {
    const { tracerProvider } = recordingPipeline();
    const { meterProvider, metric } = meters();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let finishBody!: () => void;
    const bodyGate = new Promise<void>((r) => (finishBody = r));
    await using server = await serve(instrumentHandler(async () => {
      entered();
      await gate;
      return new Response(
        new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode("first,"));
            await bodyGate;
            controller.enqueue(new TextEncoder().encode("last"));
            controller.close();
          },
        }),
      );
    }, { tracerProvider, meterProvider, env: noEnv, route: "/slow" }));
    const pending = fetch(`${server.url}/slow`);
    await inHandler;
    const active = await metric(ACTIVE);
    assert.equal(active?.descriptor.unit, "{request}");
    assert.equal(sumPoints(active)[0].value, 1);
    assert.equal((active as { isMonotonic: boolean }).isMonotonic, false);
    release();
    const response = await pending;
    const reader = response.body!.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(
      sumPoints(await metric(ACTIVE))[0].value,
      1,
      "still active while the body streams",
    );
    assert.equal(
      await metric(DURATION),
      undefined,
      "no duration before the body ends",
    );
    finishBody();
    while (!(await reader.read()).done) { /* drain */ }
    await until(() => true);
    let points: HistogramDataPoint[] = [];
    const deadline = Date.now() + 2000;
    while (points.length === 0 && Date.now() < deadline) {
      const d = await metric(DURATION);
      points = d === undefined ? [] : histogramPoints(d);
      if (points.length === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(points.length, 1);
    assert.equal(points[0].count, 1);
    assert.ok(points[0].sum >= 0.015, "the duration covers the streamed body");
    assert.equal(sumPoints(await metric(ACTIVE))[0].value, 0);
    await meterProvider.shutdown();
  });

  it("records the Hono route through the middleware", async () => {
    const { tracerProvider } = recordingPipeline();
    const { meterProvider, metric } = meters();
    const app = new Hono();
    app.use(honoMiddleware({ tracerProvider, meterProvider, env: noEnv }));
    app.get("/items/:id", (c) => c.json({ id: c.req.param("id") }));
    await using server = await serve((request, info) =>
      app.fetch(request, info)
    );
    await (await fetch(`${server.url}/items/3`)).text();
    await (await fetch(`${server.url}/nowhere`)).text();
    let points: HistogramDataPoint[] = [];
    await until(() => true);
    const deadline = Date.now() + 2000;
    while (points.length < 2 && Date.now() < deadline) {
      const d = await metric(DURATION);
      points = d === undefined ? [] : histogramPoints(d);
      if (points.length < 2) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(
      byStatus(points, 200)[0].attributes["http.route"],
      "/items/:id",
    );
    assert.equal(byStatus(points, 404)[0].attributes["http.route"], undefined);
    await meterProvider.shutdown();
  });

  it("records node:http requests with the request's protocol version", async () => {
    const { tracerProvider } = recordingPipeline();
    const { meterProvider, metric } = meters();
    const server = createServer(
      instrumentNodeListener((_req: IncomingMessage, res: ServerResponse) => {
        res.statusCode = 201;
        res.end("made");
      }, { tracerProvider, meterProvider, env: noEnv, route: "/make" }),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      await (await fetch(`http://127.0.0.1:${port}/make`, { method: "POST" }))
        .text();
      let points: HistogramDataPoint[] = [];
      const deadline = Date.now() + 2000;
      while (points.length === 0 && Date.now() < deadline) {
        const d = await metric(DURATION);
        points = d === undefined ? [] : histogramPoints(d);
        if (points.length === 0) await new Promise((r) => setTimeout(r, 5));
      }
      assert.deepEqual({ ...points[0].attributes }, {
        "http.request.method": "POST",
        "url.scheme": "http",
        "http.response.status_code": 201,
        "http.route": "/make",
        "network.protocol.version": "1.1",
      });
    } finally {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
      await meterProvider.shutdown();
    }
  });
});

describe("server metrics, hostile input", () => {
  it("rejects a meterProvider that is not one, naming the option", () => {
    const { tracerProvider } = recordingPipeline();
    for (const bad of [null, 42, {}, { getMeter: "no" }]) {
      assert.throws(
        () =>
          new HttpServerInstrumentation({
            tracerProvider,
            meterProvider: bad as unknown as MeterSource,
          }),
        (e: unknown) =>
          e instanceof TypeError && /meterProvider/.test(e.message),
      );
    }
  });

  it("serves and counts when the instruments throw", async () => {
    const { tracerProvider, spans } = recordingPipeline();
    const throwing = {
      getMeter: () => ({
        createHistogram: () => ({
          record: () => {
            throw new Error("h");
          },
        }),
        createUpDownCounter: () => ({
          add: (v: number) => {
            if (v < 0) throw new Error("u");
          },
        }),
      }),
    } as unknown as MeterSource;
    const http = new HttpServerInstrumentation({
      tracerProvider,
      meterProvider: throwing,
      env: noEnv,
    });
    const handler = http.handler((_request: Request) =>
      new Response(null, { status: 204 })
    );
    const response = await handler(new Request("http://localhost/"));
    assert.equal(response.status, 204);
    assert.equal(spans.length, 1);
    assert.equal(http.stats.instrumentationErrors, 1);
  });

  it("keeps hostile requests' metric attributes bounded: a 1 KB method is _OTHER, no raw path or query", async () => {
    const { tracerProvider } = recordingPipeline();
    const { meterProvider, metric } = meters();
    const http = new HttpServerInstrumentation({
      tracerProvider,
      meterProvider,
      env: noEnv,
    });
    const handler = http.handler((_request: Request) => new Response(null));
    const method = "X".repeat(1024);
    for (let i = 0; i < 50; i++) {
      const request = new Request(
        `http://localhost/p/${i}?q=${"v".repeat(i * 100)}`,
        { headers: { traceparent: "00-zz-not-a-trace" } },
      );
      // Bun's Request constructor turns unknown methods into GET; an own
      // property gives both runtimes the same 1 KB method.
      if (i % 2) Object.defineProperty(request, "method", { value: method });
      await handler(request);
    }
    const points = histogramPoints(await metric(DURATION));
    assert.equal(
      points.length,
      2,
      "two series: GET and _OTHER, not one per path",
    );
    const other = points.find((p) =>
      p.attributes["http.request.method"] === "_OTHER"
    )!;
    assert.equal(other.count, 25);
    assert.equal(other.attributes["http.request.method_original"], undefined);
    assert.equal(http.stats.otherMethods, 25);
    assert.equal(http.stats.rejectedHeaders, 50);
    await meterProvider.shutdown();
  });

  it("records metrics for spans that are not sampled", async () => {
    const { meterProvider, metric } = meters();
    const tracerProvider = new TracerProvider({
      sampler: "always_off",
      env: noEnv,
    });
    const handler = instrumentHandler(
      (_request: Request) => new Response("x"),
      {
        tracerProvider,
        meterProvider,
        env: noEnv,
      },
    );
    await (await handler(new Request("http://localhost/"))).text();
    const points = histogramPoints(await metric(DURATION));
    assert.equal(points[0].count, 1);
    assert.equal(points[0].attributes["http.response.status_code"], 200);
    await meterProvider.shutdown();
  });
});
