// Run by listener_kernel_test.ts as a non-root user: tries to open a
// listener and prints the error as one JSON line.
import { openUserEventsListener } from "../../receivers/user_events/mod.ts";

try {
  const listener = await openUserEventsListener({
    providers: ["seed_nonroot_listen"],
  });
  listener.close();
  console.log(JSON.stringify({ name: "opened" }));
} catch (error) {
  const e = error as { name: string; message: string; code?: number };
  console.log(
    JSON.stringify({ name: e.name, message: e.message, code: e.code }),
  );
}
