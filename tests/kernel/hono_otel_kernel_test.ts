// A Hono app instrumented with @hono/otel only (nothing of this library in
// the app), bridged through @seed/telemetry/otel-api into a
// UserEventsSpanProcessor on the real kernel: the spans are read back by
// perf-collect + perf-decode, the independent reference. Runs inside the
// test VM (shared/vm/run-in-vm.sh sets UEVM_GUEST=1) and skips elsewhere.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import * as api from "@opentelemetry/api";
import { Hono } from "hono";
import { httpInstrumentationMiddleware } from "@hono/otel";
import { Resource, TracerProvider } from "../../mod.ts";
import { openUserEventsSpanProcessor } from "../../processors/user_events/mod.ts";
import { registerOtelApi } from "../../instrumentation/otel_api.ts";
import { serve } from "../instrumentation/_serve.ts";
import {
  type DecodedPerfEvent,
  perfDecode,
  startPerfCollect,
  stopPerfCollect,
} from "./_perf_tools.ts";
import { RUNTIME, SKIP, waitFor } from "./_tracefs.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const noEnv = () => undefined;

describe("@hono/otel through registerOtelApi on a real kernel", () => {
  it(
    "writes the spans of a Hono app instrumented with @hono/otel only to user_events, read back by perf-decode",
    { skip: SKIP, timeout: 120000 },
    async () => {
      const provider = `seedh_${RUNTIME}_${process.pid}`;
      const file = `/tmp/hono_otel_${process.pid}.data`;
      const processor = await openUserEventsSpanProcessor({
        providerName: provider,
      });
      let collector;
      try {
        collector = await startPerfCollect(file, [`${provider}_L4K1`]);
        assert.ok(
          await waitFor(() => processor.enabled()),
          "perf-collect did not enable the span tracepoint",
        );
        const tracerProvider = new TracerProvider({
          resource: new Resource({ "service.name": "hono-kernel" }),
          processors: [processor],
          env: noEnv,
        });
        using _bridge = registerOtelApi({ api, tracerProvider, env: noEnv });
        const app = new Hono();
        app.use(httpInstrumentationMiddleware({ serviceName: "hono-kernel" }));
        app.get("/items/:id", (c) => c.json({ id: c.req.param("id") }));
        app.get("/fail", (c) => c.text("down", 503));
        {
          await using server = await serve((request, info) =>
            app.fetch(request, info)
          );
          const traceparent = `00-${TRACE_ID}-${PARENT_ID}-01`;
          const item = await fetch(`${server.url}/items/3`, {
            headers: { traceparent },
          });
          assert.equal(await item.text(), '{"id":"3"}');
          await (await fetch(`${server.url}/fail`)).text();
        }
        assert.ok(await waitFor(() => processor.stats.written === 2));
        await stopPerfCollect(collector);
        collector = undefined;

        const events = perfDecode(file).filter((e) =>
          e.n.startsWith(provider + ":")
        );
        assert.equal(events.length, 2);
        const part = (e: DecodedPerfEvent, name: string) =>
          e[name] as Record<string, unknown>;
        const [item, fail] = events;
        assert.equal(item.n, `${provider}:Span`);
        assert.equal(part(item, "PartA").ext_dt_traceId, TRACE_ID);
        assert.equal(part(item, "PartA").ext_cloud_role, "hono-kernel");
        const b = part(item, "PartB");
        assert.equal(b.name, "GET /items/:id");
        assert.equal(b.parentId, PARENT_ID);
        assert.equal(b.kind, 1); // SERVER, as the Rust exporter writes it
        assert.equal(b.httpMethod, "GET");
        assert.equal(b.httpStatusCode, 200);
        assert.equal(b.success, true);
        assert.equal(part(fail, "PartB").name, "GET /fail");
        assert.equal(part(fail, "PartB").httpStatusCode, 503);
        assert.equal(part(fail, "PartB").success, false);
        assert.notEqual(part(fail, "PartA").ext_dt_traceId, TRACE_ID);
        await tracerProvider.shutdown();
      } finally {
        if (collector !== undefined) await stopPerfCollect(collector);
        await processor.shutdown();
      }
    },
  );
});
