// `node --import @seed/telemetry/auto` on Node 26 (type stripping runs the
// .ts sources): a script with no setup of its own sends its spans (one made
// with the exported tracer provider, one by the fetch instrumentation) and a
// console log to a loopback collector, flushed by SIGTERM.
import assert from "node:assert/strict";
import process from "node:process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { FakeCollector } from "../otlp/_server.ts";
import { AUTO, childEnv } from "./_child.ts";
import { spawn } from "node:child_process";
import { receivedLogs, receivedSpans } from "./_received.ts";

const SCRIPT = fileURLToPath(
  new URL("../testdata/auto_node_script.ts", import.meta.url),
);
const isNode = navigator.userAgent.startsWith("Node.js/");

describe("node --import @seed/telemetry/auto", {
  skip: isNode ? false : "Node only (Deno and Bun run the server tests)",
}, () => {
  it("exports a script's spans and logs and flushes them on SIGTERM", async () => {
    await using collector = await FakeCollector.start();
    const child = spawn(process.execPath, [
      "--no-warnings",
      `--import=${AUTO}`,
      SCRIPT,
    ], {
      env: childEnv({
        OTEL_SERVICE_NAME: "node-script",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
        OTEL_BSP_SCHEDULE_DELAY: "600000",
        OTEL_BLRP_SCHEDULE_DELAY: "600000",
        OTEL_METRICS_EXPORTER: "none",
        SEED_TELEMETRY_INSTRUMENTATIONS: "fetch,console",
        TARGET_URL: collector.url("/ping"),
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const exited = new Promise<{ code: number | null; signal: string | null }>(
      (resolve) =>
        child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (chunk: Uint8Array) => {
        stderr += new TextDecoder().decode(chunk);
        if (stderr.includes("ready")) resolve();
      });
      child.on("exit", () => reject(new Error(`exited early: ${stderr}`)));
    });
    process.kill(child.pid!, "SIGTERM");
    const { code, signal } = await exited;
    assert.equal(signal, null, stderr);
    assert.equal(code, 0, stderr);
    const spans = receivedSpans(collector);
    const job = spans.find((s) => s.name === "job")!;
    const client = spans.find((s) => s.kind === 3)!;
    assert.ok(job, JSON.stringify(spans));
    assert.equal(client.parentSpanId, job.spanId);
    assert.equal(job.resource["service.name"], "node-script");
    const log = receivedLogs(collector).find((l) => l.body === "fetched 200")!;
    assert.equal(log.traceId, job.traceId);
  });
});
