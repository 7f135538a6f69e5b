// Run by tests/setup/node_import_test.ts under `node --import <setup/auto.ts>`:
// no telemetry setup of its own; it uses the providers the import exported,
// makes a fetch (patched by the fetch instrumentation), logs through console,
// then waits for SIGTERM.
import process from "node:process";
import { tracerProvider } from "../../setup/auto.ts";

const tracer = tracerProvider.getTracer("node-script");
await tracer.startActiveSpan("job", async (span) => {
  const response = await fetch(process.env.TARGET_URL!);
  console.log(`fetched ${response.status}`);
  span.end();
});
console.error("ready");
setInterval(() => {}, 1000);
