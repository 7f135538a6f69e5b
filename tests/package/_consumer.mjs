// What an npm user's program does with the package, as plain JavaScript
// (Node 20 cannot strip types): spawned by npm_consumer_test.ts with the
// system Node and with Node 26. The package is imported by bare specifier
// ("@seed/telemetry", as installed under node_modules) or, with a directory
// argument, from that directory's .ts files (Node 26's type stripping).
// Sends a log record and a span through the batching processors and the
// OTLP/HTTP exporters to a collector on loopback, opens the OS processors,
// and prints one JSON line: the runtime, what arrived (base64), the
// diagnostics.
import { createServer } from "node:http";
import process from "node:process";

const dir = process.argv[2];
const entry = (bare, file) =>
  dir === undefined ? bare : new URL(file, `file://${dir}/`).href;
// Every entry point (SEED_ENTRIES: JSON, {specifier: file} from deno.json's
// exports) loads, and names its exports.
const entries = {};
for (
  const [bare, file] of Object.entries(JSON.parse(process.env.SEED_ENTRIES))
) {
  entries[bare] = Object.keys(await import(entry(bare, file))).length;
}
const telemetry = await import(entry("@seed/telemetry", "mod.ts"));
const otlp = await import(
  entry("@seed/telemetry/otlp-http", "exporters/otlp/mod.ts")
);
const userEvents = await import(
  entry("@seed/telemetry/user-events", "processors/user_events/mod.ts")
);
const etw = await import(entry("@seed/telemetry/etw", "processors/etw/mod.ts"));

const received = [];
const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    received.push({
      path: request.url,
      contentType: request.headers["content-type"],
      body: Buffer.concat(chunks).toString("base64"),
    });
    response.writeHead(200, { "content-type": "application/x-protobuf" });
    response.end();
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const diagnostics = [];
const sink = (d) => diagnostics.push(`${d.source}: ${d.message}`);
const logs = new telemetry.LoggerProvider({
  processors: [
    new telemetry.BatchLogRecordProcessor(
      new otlp.OtlpHttpLogExporter({ endpoint: `${base}/v1/logs` }),
    ),
  ],
});
const traces = new telemetry.TracerProvider({
  processors: [
    new telemetry.BatchSpanProcessor(
      new otlp.OtlpHttpSpanExporter({ endpoint: `${base}/v1/traces` }),
    ),
  ],
});
traces.getTracer("npm").startActiveSpan("GET /from-npm", (span) => {
  logs.getLogger("npm").emit({
    severityNumber: telemetry.SeverityNumber.INFO,
    body: "hello from npm",
    attributes: {
      "runtime.major": Number(process.versions.node.split(".")[0]),
    },
  });
  span.end();
});
await logs.shutdown();
await traces.shutdown();
server.close();

const ue = await userEvents.openUserEventsProcessor({
  providerName: "seed_npm",
  diagnostics: sink,
});
ue.onEmit({ severityNumber: 9, body: "x" }, undefined);
await ue.shutdown();
const win = await etw.openEtwProcessor({
  providerName: "Seed.Npm",
  onUnsupported: "noop",
  diagnostics: sink,
});
await win.shutdown();

console.log(JSON.stringify({
  node: process.version,
  runtime: telemetry.detectRuntime(),
  entries,
  received,
  diagnostics,
  userEventsStats: ue.stats,
}));
