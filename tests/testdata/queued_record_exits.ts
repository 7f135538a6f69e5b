// Run as a child process by tests/pipeline/batch_processor_test.ts: a record
// waits in a batch processor with an hour-long delay. If the processor's timer
// kept the process alive, this script would not exit on its own.
import {
  BatchLogRecordProcessor,
  InMemoryExporter,
  LoggerProvider,
  type LogRecordData,
} from "../../mod.ts";

const processor = new BatchLogRecordProcessor(
  new InMemoryExporter<LogRecordData>(),
  {
    scheduledDelayMillis: 3_600_000,
  },
);
new LoggerProvider({ processors: [processor] }).getLogger("child").emit({
  body: "waiting",
});
console.log(`queued=${processor.stats.queued}`);
