// Spawned by host_libc_test.ts (e.g. by Deno without --allow-ffi): opens a
// processor and prints its diagnostics and stats as one JSON line.
import { openUserEventsProcessor } from "../../processors/user_events/mod.ts";

const messages: string[] = [];
const processor = await openUserEventsProcessor({
  providerName: "seed_child",
  diagnostics: (d) => messages.push(d.message),
});
processor.onEmit({ severityNumber: 9 }, undefined as never);
console.log(JSON.stringify({ messages, stats: processor.stats }));
await processor.shutdown();
