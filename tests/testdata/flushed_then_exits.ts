// Run as a child process by tests/pipeline/batch_processor_test.ts: records
// are exported by forceFlush with an hour-long export timeout and flush
// deadline. Both timers stay armed once the work is done (one timer serves
// every export, one every deadline), unref'd: if either kept the process
// alive, this script would not exit on its own.
import {
  BatchLogRecordProcessor,
  InMemoryExporter,
  LoggerProvider,
  type LogRecordData,
} from "../../mod.ts";

const exporter = new InMemoryExporter<LogRecordData>();
const processor = new BatchLogRecordProcessor(exporter, {
  scheduledDelayMillis: 3_600_000,
  exportTimeoutMillis: 3_600_000,
  forceFlushTimeoutMillis: 3_600_000,
});
const logger = new LoggerProvider({ processors: [processor] }).getLogger(
  "child",
);
for (let round = 0; round < 3; round++) {
  logger.emit({ body: `round ${round}` });
  await processor.forceFlush();
}
console.log(`exported=${processor.stats.exported}`);
