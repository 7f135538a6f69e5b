// @seed/telemetry/auto end to end: a real server (Deno.serve under deno test,
// Bun.serve under bun test) in a child process, with the auto entry point
// preloaded and only environment variables, sends its spans and logs to a
// loopback collector; SIGTERM flushes what is queued and the process exits 0.
import assert from "node:assert/strict";
import process from "node:process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { FakeCollector } from "../otlp/_server.ts";
import { isBun, isDeno, startChild } from "./_child.ts";
import { receivedLogs, receivedSpans } from "./_received.ts";

const SERVER = fileURLToPath(
  new URL("../testdata/auto_server.ts", import.meta.url),
);
const skip = isDeno || isBun
  ? false
  : "needs Deno.serve or Bun.serve (Node servers use @seed/telemetry/node-http)";
const SERVER_KIND = 2;
const CLIENT_KIND = 3;

function diagnosticLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("[@seed/telemetry]"));
}

describe("@seed/telemetry/auto", { skip }, () => {
  it("sends a real server's spans and logs to OTLP, and flushes everything on SIGTERM", async () => {
    await using collector = await FakeCollector.start();
    const child = startChild(SERVER, {
      OTEL_SERVICE_NAME: "auto-server",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
      // Nothing is exported on a timer during the test: only the SIGTERM flush can deliver it.
      OTEL_BSP_SCHEDULE_DELAY: "600000",
      OTEL_BLRP_SCHEDULE_DELAY: "600000",
      OTEL_METRICS_EXPORTER: "none",
      SEED_TELEMETRY_INSTRUMENTATIONS: "http,fetch,console",
    });
    const port = await child.listening;
    const requests = 25;
    for (let i = 0; i < requests; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/hello?n=${i}`);
      assert.equal(await response.text(), "hello");
    }
    assert.equal(
      await (await fetch(`http://127.0.0.1:${port}/chain`)).text(),
      "hello",
    );
    assert.equal(
      collector.requests.length,
      0,
      "nothing exported before the signal",
    );
    process.kill(child.process.pid!, "SIGTERM");
    const { code, signal } = await child.exited;
    assert.equal(signal, null, child.stderr);
    assert.equal(code, 0, child.stderr);

    const spans = receivedSpans(collector);
    const server = spans.filter((s) => s.kind === SERVER_KIND);
    const client = spans.filter((s) => s.kind === CLIENT_KIND);
    // 25 + /chain + the /hello that /chain fetched; one CLIENT span for that fetch.
    assert.equal(server.length, requests + 2);
    assert.equal(client.length, 1);
    assert.equal(spans[0].resource["service.name"], "auto-server");
    assert.equal(spans[0].resource["deployment.environment.name"], "test");
    assert.equal(server[0].attributes["http.request.method"], "GET");
    assert.equal(server[0].attributes["http.response.status_code"], 200);
    // One trace across the fetch: /chain SERVER -> CLIENT -> /hello SERVER.
    const chain = server.find((s) => s.attributes["url.path"] === "/chain")!;
    const inner = server.find((s) =>
      s.attributes["url.query"] === "from=chain"
    )!;
    assert.equal(client[0].parentSpanId, chain.spanId);
    assert.equal(inner.parentSpanId, client[0].spanId);
    assert.equal(inner.traceId, chain.traceId);

    const logs = receivedLogs(collector);
    const hellos = logs.filter((l) => String(l.body).startsWith("hello "));
    assert.equal(hellos.length, requests + 1, "every console.log arrived");
    assert.ok(logs.some((l) => l.body === "chain got 200"));
    // Console calls inside a request carry its trace.
    const n3 = logs.find((l) => l.body === "hello 3")!;
    assert.equal(
      n3.traceId,
      server.find((s) => s.attributes["url.query"] === "n=3")!.traceId,
    );
    // At most the one diagnostic about user_events on a host without it.
    const diags = diagnosticLines(child.stderr);
    assert.ok(diags.length <= 1, child.stderr);
    for (const d of diags) assert.match(d, /user_events is not available/);
  });

  it("reports a bad variable once, names it, and still serves with the rest configured", async () => {
    await using collector = await FakeCollector.start();
    const child = startChild(SERVER, {
      OTEL_SERVICE_NAME: "auto-bad-vars",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
      OTEL_TRACES_EXPORTER: "otlp,zipkin",
      OTEL_LOGS_EXPORTER: "otlp",
      OTEL_METRICS_EXPORTER: "none",
      OTEL_PROPAGATORS: "tracecontext,b3",
      OTEL_BSP_SCHEDULE_DELAY: "soon",
      SEED_TELEMETRY_INSTRUMENTATIONS: "http,console,tracing",
    });
    const port = await child.listening;
    assert.equal(
      await (await fetch(`http://127.0.0.1:${port}/hello`)).text(),
      "hello",
    );
    process.kill(child.process.pid!, "SIGTERM");
    const { code } = await child.exited;
    assert.equal(code, 0, child.stderr);
    const diags = diagnosticLines(child.stderr);
    const about = (name: string) =>
      diags.filter((d) =>
        d.includes(`Ignoring ${name}=`) || d.includes(`in ${name}:`)
      );
    assert.equal(about("OTEL_TRACES_EXPORTER").length, 1, child.stderr);
    assert.match(about("OTEL_TRACES_EXPORTER")[0], /"zipkin" is not one/);
    assert.equal(about("OTEL_PROPAGATORS").length, 1, child.stderr);
    assert.equal(about("OTEL_BSP_SCHEDULE_DELAY").length, 1, child.stderr);
    assert.equal(
      about("SEED_TELEMETRY_INSTRUMENTATIONS").length,
      1,
      child.stderr,
    );
    // OTEL_TRACES_EXPORTER fell back to its default (OTLP, as an endpoint is
    // set); SEED_TELEMETRY_INSTRUMENTATIONS to its default (http only).
    const spans = receivedSpans(collector);
    assert.equal(spans.length, 1);
    assert.equal(receivedLogs(collector).length, 0, "console was not captured");
  });

  it("with OTEL_SDK_DISABLED=true serves without telemetry and exits cleanly", async () => {
    await using collector = await FakeCollector.start();
    const child = startChild(SERVER, {
      OTEL_SDK_DISABLED: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
      SEED_TELEMETRY_INSTRUMENTATIONS: "http,fetch,console",
    });
    const port = await child.listening;
    assert.equal(
      await (await fetch(`http://127.0.0.1:${port}/chain`)).text(),
      "hello",
    );
    process.kill(child.process.pid!, "SIGINT");
    const { code } = await child.exited;
    assert.equal(code, 0, child.stderr);
    assert.equal(collector.requests.length, 0);
    assert.deepEqual(diagnosticLines(child.stderr), []);
  });
});
