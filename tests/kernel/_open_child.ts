// Run by user_events_kernel_test.ts as a non-root user: opens a processor
// and prints what happened as one JSON line.
import { openUserEventsProcessor } from "../../processors/user_events/mod.ts";

const messages: string[] = [];
const processor = await openUserEventsProcessor({
  providerName: "seed_nonroot",
  diagnostics: (d) => messages.push(d.message),
});
processor.onEmit({ severityNumber: 9, body: "x" }, undefined as never);
console.log(
  JSON.stringify({
    messages,
    stats: processor.stats,
    tracepoints: processor.tracepoints,
  }),
);
await processor.shutdown();
