import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as api from "@opentelemetry/api";
import * as logsApi from "@opentelemetry/api-logs";
import { Hono } from "hono";
import { httpInstrumentationMiddleware } from "@hono/otel";
import {
  activeSpanContext,
  BatchSpanProcessor,
  type Diagnostic,
  Resource,
  SpanKind,
  SpanStatusCode,
  TracerProvider,
} from "../../mod.ts";
import { OtlpHttpSpanExporter } from "../../exporters/otlp/mod.ts";
import {
  decodedFieldsToObject,
  decodeEventHeader,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import { registerOtelApi } from "../../instrumentation/otel_api.ts";
import { instrumentHandler } from "../../instrumentation/http_server.ts";
import { activeBaggage, withBaggage } from "../../instrumentation/baggage.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakeCollector } from "../otlp/_server.ts";
import { decodeTrace, hex, plainAttributes } from "../otlp/_decoder.ts";
import { recordingPipeline, serve, until } from "./_serve.ts";

const noEnv = () => undefined;

describe("registerOtelApi", () => {
  it("shares the active span in both directions, across await", async () => {
    const { spans, tracerProvider } = recordingPipeline();
    using bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
    assert.deepEqual(bridge.registered, [
      "tracerProvider",
      "contextManager",
      "propagator",
    ]);
    const ours = tracerProvider.getTracer("ours");
    const theirs = api.trace.getTracer("theirs", "2.0.0");
    await ours.startActiveSpan("outer", async (outer) => {
      await Promise.resolve();
      // Ours → API: the API sees our active span.
      assert.equal(
        api.trace.getActiveSpan()?.spanContext().spanId,
        outer.spanId,
      );
      await theirs.startActiveSpan(
        "middle",
        { kind: api.SpanKind.CLIENT },
        async (middle) => {
          await new Promise((r) => setTimeout(r, 1));
          // API → ours: our tracer and logs see the API's active span.
          assert.equal(
            activeSpanContext()?.spanId,
            middle.spanContext().spanId,
          );
          ours.startSpan("inner").end();
          middle.setAttribute("k", "v").addEvent("e", { a: 1 }).setStatus({
            code: api.SpanStatusCode.ERROR,
            message: "m",
          });
          middle.end();
        },
      );
      // An API context without a span clears ours.
      api.context.with(api.ROOT_CONTEXT, () => {
        assert.equal(activeSpanContext(), undefined);
        assert.equal(api.trace.getActiveSpan(), undefined);
      });
      outer.end();
    });
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    assert.equal(byName.middle.parentSpanId, byName.outer.spanId);
    assert.equal(byName.inner.parentSpanId, byName.middle.spanId);
    assert.equal(byName.middle.kind, SpanKind.CLIENT);
    assert.equal(byName.middle.scope.name, "theirs");
    assert.equal(byName.middle.scope.version, "2.0.0");
    assert.equal(byName.middle.attributes.k, "v");
    assert.equal(byName.middle.events[0].name, "e");
    assert.equal(byName.middle.status.code, SpanStatusCode.ERROR);
  });

  it("extracts and injects through the API's propagation with this library's propagator", () => {
    const { spans, tracerProvider } = recordingPipeline();
    using _bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
    const incoming = {
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "rojo=1",
      baggage: "tenant=acme",
    };
    const ctx = api.propagation.extract(api.ROOT_CONTEXT, incoming);
    assert.equal(
      api.propagation.getBaggage(ctx)?.getEntry("tenant")?.value,
      "acme",
    );
    const out: Record<string, string> = {};
    api.trace.getTracer("t").startActiveSpan("s", {}, ctx, (span) => {
      api.propagation.inject(api.context.active(), out);
      span.end();
    });
    assert.equal(spans[0].traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(spans[0].parentSpanId, "00f067aa0ba902b7");
    assert.equal(spans[0].parentIsRemote, true);
    assert.equal(spans[0].traceState, "rojo=1");
    assert.equal(
      out.traceparent,
      `00-${spans[0].traceId}-${spans[0].spanId}-01`,
    );
    assert.equal(out.tracestate, "rojo=1");
    assert.equal(out.baggage, "tenant=acme");
  });

  it("bridges API logs with the context they name", () => {
    const { logs, tracerProvider, loggerProvider } = recordingPipeline();
    using _bridge = registerOtelApi({
      api,
      logsApi,
      tracerProvider,
      loggerProvider,
      env: noEnv,
    });
    const span = api.trace.getTracer("t").startSpan("s");
    const logger = logsApi.logs.getLogger("lib", "1.0.0");
    logger.emit({
      severityNumber: logsApi.SeverityNumber.WARN,
      severityText: "WARN",
      body: "hello",
      attributes: { n: 1 },
      timestamp: [1704164645, 500],
      context: api.trace.setSpan(api.ROOT_CONTEXT, span),
    });
    span.end();
    assert.equal(logs.length, 1);
    assert.equal(logs[0].body, "hello");
    assert.equal(logs[0].timeUnixMs, 1704164645000); // HrTime, exact
    assert.equal(logs[0].timeNanosInMs, 500);
    assert.equal(logs[0].severityNumber, 13);
    assert.equal(logs[0].attributes.n, 1);
    assert.equal(logs[0].scope.name, "lib");
    assert.equal(logs[0].spanId, span.spanContext().spanId);
  });

  it("reports a refused global and OTEL_DENO=true in one diagnostic each, never throwing", () => {
    const { tracerProvider } = recordingPipeline();
    const seen: Diagnostic[] = [];
    using first = registerOtelApi({ api, tracerProvider, env: noEnv });
    assert.equal(first.registered.length, 3);
    const originalError = console.error;
    console.error = () => {}; // the API's own diag logger complains about the duplicate
    try {
      using second = registerOtelApi({
        api,
        tracerProvider,
        env: noEnv,
        diagnostics: (d) => void seen.push(d),
      });
      assert.deepEqual(second.registered, []);
    } finally {
      console.error = originalError;
    }
    assert.equal(seen.length, 1);
    assert.match(
      seen[0].message,
      /refused tracerProvider, contextManager, propagator.*disable\(\)/,
    );
    first.unregister();
    using _deno = registerOtelApi({
      api,
      tracerProvider,
      env: (name) => (name === "OTEL_DENO" ? "true" : undefined),
      diagnostics: (d) => void seen.push(d),
    });
    assert.match(seen[1].message, /OTEL_DENO=true.*unset OTEL_DENO/);
    assert.throws(
      () => registerOtelApi({ api: {} as never }),
      /import \* as api/,
    );
    assert.throws(
      () =>
        registerOtelApi({
          api,
          loggerProvider: recordingPipeline().loggerProvider,
        }),
      /logsApi/,
    );
  });

  it("never throws on hostile input through the API span", () => {
    const { spans, tracerProvider } = recordingPipeline();
    using _bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
    const tracer = api.trace.getTracer("t");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const span = tracer.startSpan("s", {
      attributes: { f: (() => 1) as never, ok: 1 },
      startTime: [Number.NaN, 5],
      links: [null as never, {
        context: { traceId: "bad", spanId: "x", traceFlags: 1 },
      }],
    });
    span.setAttribute("cyclic", cyclic as never);
    span.setAttributes(null as never);
    span.addEvent("e", [-1, 0]);
    span.addEvent("e2", Number.POSITIVE_INFINITY);
    span.setStatus(null as never);
    span.recordException({
      get message(): string {
        throw new Error("getter");
      },
    } as never);
    span.end([1e30, 1e30]);
    assert.equal(spans.length, 1);
    assert.equal(spans[0].attributes.ok, 1);
    assert.equal(spans[0].droppedLinksCount, 1);
  });
});

describe("@hono/otel through registerOtelApi", () => {
  it("sends the spans of a Hono app instrumented with @hono/otel only to an OTLP collector and a user_events processor", async () => {
    await using collector = await FakeCollector.start();
    const libc = new FakeLibc();
    const userEvents = new UserEventsSpanProcessor(libc, {
      providerName: "hono",
      userEventsDataPath: "/fake/user_events_data",
    });
    libc.enable("hono_L4K1");
    const tracerProvider = new TracerProvider({
      resource: new Resource({ "service.name": "hono-app" }),
      processors: [
        new BatchSpanProcessor(
          new OtlpHttpSpanExporter({ endpoint: collector.url("/v1/traces") }),
          { scheduledDelayMillis: 10 },
        ),
        userEvents,
      ],
      env: noEnv,
    });
    using _bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
    const app = new Hono();
    app.use(httpInstrumentationMiddleware({ serviceName: "hono-app" }));
    app.get("/items/:id", (c) => c.json({ id: c.req.param("id") }));
    app.get("/fail", (c) => c.text("down", 503));
    await using server = await serve((request, info) =>
      app.fetch(request, info)
    );
    const traceparent =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert.equal(
      await (await fetch(`${server.url}/items/3`, { headers: { traceparent } }))
        .text(),
      '{"id":"3"}',
    );
    await (await fetch(`${server.url}/fail`)).text();
    await tracerProvider.forceFlush();
    await until(() => collector.requests.length > 0);
    const spans = collector.requests.flatMap((r) =>
      decodeTrace(r.body).resourceSpans.flatMap((
        rs: { scopeSpans: { spans: unknown[]; scope: { name: string } }[] },
      ) =>
        rs.scopeSpans.flatMap((ss) =>
          ss.spans.map((s) => ({
            span: s as Record<string, never>,
            scope: ss.scope.name,
          }))
        )
      )
    );
    assert.equal(spans.length, 2);
    const [item, fail] = spans;
    assert.equal(item.scope, "@hono/otel");
    assert.equal(item.span.name, "GET /items/:id");
    assert.equal(item.span.kind, 2); // OTLP SERVER
    assert.equal(hex(item.span.traceId), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(hex(item.span.parentSpanId), "00f067aa0ba902b7");
    const attrs = plainAttributes(item.span.attributes);
    assert.equal(attrs["http.route"], "/items/:id");
    assert.equal(attrs["http.request.method"], "GET");
    assert.equal(attrs["http.response.status_code"], 200);
    assert.equal(attrs["url.full"], `${server.url}/items/3`);
    assert.equal(fail.span.name, "GET /fail");
    assert.equal((fail.span.status as { code: number }).code, 2);
    // The same spans through the user_events processor, decoded from the bytes written.
    const events = libc.writes.map((w) =>
      decodeEventHeader(libc.nameOfIndex(w.index), w.event)
    );
    assert.equal(events.length, 2);
    const fields = decodedFieldsToObject(events[0].fields) as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(fields.PartB.name, "GET /items/:id");
    assert.equal(
      fields.PartA.ext_dt_traceId,
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    assert.equal(fields.PartB.parentId, "00f067aa0ba902b7");
    await tracerProvider.shutdown();
  });
});

describe("baggage through registerOtelApi", () => {
  const incoming = "tenant=acme;ttl=60,tier=gold";

  it("shows an instrumented server's incoming baggage to code on the API (propagation.getBaggage)", async () => {
    const { tracerProvider } = recordingPipeline();
    using _bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
    const seen: Record<string, unknown>[] = [];
    await using server = await serve(
      instrumentHandler(async () => {
        await new Promise((r) => setTimeout(r, 1));
        const baggage = api.propagation.getBaggage(api.context.active());
        seen.push(
          Object.fromEntries(
            (baggage?.getAllEntries() ?? []).map(([k, e]) => [
              k,
              e.metadata === undefined
                ? e.value
                : `${e.value};${e.metadata.toString()}`,
            ]),
          ),
        );
        // What the API injects downstream carries it too.
        const out: Record<string, string> = {};
        api.propagation.inject(api.context.active(), out);
        return Response.json(out);
      }, { tracerProvider, env: noEnv }),
    );
    const injected = await (await fetch(server.url, {
      headers: { baggage: incoming },
    })).json();
    assert.deepEqual(seen, [{ tenant: "acme;ttl=60", tier: "gold" }]);
    assert.equal(injected.baggage, incoming);
    // Without incoming baggage the API sees none.
    await (await fetch(server.url)).text();
    assert.deepEqual(seen[1], {});
  });

  it("shows @hono/otel's request baggage to this library (activeBaggage) and back to the API", async () => {
    const { tracerProvider } = recordingPipeline();
    using _bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
    const app = new Hono();
    app.use(httpInstrumentationMiddleware({ serviceName: "bag" }));
    app.get("/", async (c) => {
      await Promise.resolve();
      return c.json({
        ours: activeBaggage()?.get("tenant")?.value ?? null,
        api: api.propagation.getBaggage(api.context.active())?.getEntry(
          "tenant",
        )?.value ?? null,
      });
    });
    await using server = await serve((request, info) =>
      app.fetch(request, info)
    );
    const body = await (await fetch(server.url, {
      headers: { baggage: incoming },
    })).json();
    assert.deepEqual(body, { ours: "acme", api: "acme" });
  });

  it("carries API baggage into this library across await, and ours into the API", async () => {
    const { tracerProvider } = recordingPipeline();
    using _bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
    const ctx = api.propagation.setBaggage(
      api.context.active(),
      api.propagation.createBaggage({ k: { value: "v" } }),
    );
    await api.context.with(ctx, async () => {
      await new Promise((r) => setTimeout(r, 1));
      assert.equal(activeBaggage()?.get("k")?.value, "v");
      await withBaggage(new Map([["mine", { value: "1" }]]), async () => {
        await Promise.resolve();
        const seen = api.propagation.getBaggage(api.context.active());
        assert.equal(seen?.getEntry("mine")?.value, "1");
      });
      assert.equal(
        api.propagation.getBaggage(api.context.active())?.getEntry("k")?.value,
        "v",
      );
    });
    assert.equal(activeBaggage(), undefined);
  });

  it("never throws on a hostile API baggage", async () => {
    const { tracerProvider } = recordingPipeline();
    using _bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
    const hostile = [
      {
        getAllEntries() {
          throw new Error("no");
        },
      },
      { getAllEntries: () => [[1, null], ["ok", { value: 2 }]] },
      {
        getAllEntries: () => [[
          "m",
          {
            value: "x",
            metadata: {
              toString() {
                throw new Error("meta");
              },
            },
          },
        ]],
      },
      new Proxy({}, {
        get() {
          throw new Error("trap");
        },
      }),
    ];
    for (const baggage of hostile) {
      const ctx = api.propagation.setBaggage(
        api.ROOT_CONTEXT,
        baggage as never,
      );
      const result = await api.context.with(ctx, async () => {
        await Promise.resolve();
        return "ran";
      });
      assert.equal(result, "ran");
    }
  });
});
