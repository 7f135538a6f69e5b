// The demo behind `npm run demo`: logs and spans flow through the pipeline
// to an exporter, and the counters show what happened. See README.md.
import {
  BatchLogRecordProcessor,
  BatchSpanProcessor,
  ConsoleLogRecordExporter,
  ConsoleSpanExporter,
  LoggerProvider,
  SeverityNumber,
  TracerProvider,
} from "./mod.ts";

const logProcessor = new BatchLogRecordProcessor(
  new ConsoleLogRecordExporter(),
  { scheduledDelayMillis: 200 },
);
const spanProcessor = new BatchSpanProcessor(new ConsoleSpanExporter(), {
  scheduledDelayMillis: 200,
});
const logs = new LoggerProvider({ processors: [logProcessor] });
const traces = new TracerProvider({ processors: [spanProcessor] });
const logger = logs.getLogger("demo", "0.1.0");
const tracer = traces.getTracer("demo", "0.1.0");

await tracer.startActiveSpan("checkout", async (span) => {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 5));
    logger.emit({
      severityNumber: SeverityNumber.INFO,
      body: `item ${i} added`,
      attributes: { "item.index": i },
    });
  }
  span.end();
});
await logs.shutdown();
await traces.shutdown();
console.log("log processor:", logProcessor.stats);
console.log("span processor:", spanProcessor.stats);
