// Flush at exit: when the event loop empties (beforeExit) and on SIGTERM and
// SIGINT. A signal handler flushes within the deadline, then exits with code
// 0 (1 when the flush failed or ran out of time) — unless the application
// listens to that signal too, in which case exiting is left to it.

import process from "node:process";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/** Registers the hooks; returns the undo. */
export function installExitHooks(
  shutdown: () => Promise<boolean>,
): () => void {
  const removers: (() => void)[] = [];
  const onBeforeExit = () => {
    void shutdown();
  };
  try {
    process.on("beforeExit", onBeforeExit);
    removers.push(() => process.off("beforeExit", onBeforeExit));
  } catch {
    // A runtime without beforeExit: the signal hooks and dispose remain.
  }
  for (const signal of SIGNALS) {
    let received = false;
    const onSignal = () => {
      if (received) {
        // A second Ctrl-C: stop waiting for the flush.
        process.exit(signal === "SIGINT" ? 130 : 143);
      }
      received = true;
      void shutdown().then((ok) => {
        if (process.listenerCount(signal) <= 1) process.exit(ok ? 0 : 1);
      });
    };
    try {
      process.on(signal, onSignal);
      removers.push(() => process.off(signal, onSignal));
    } catch {
      // SIGTERM cannot be listened to on Windows.
    }
  }
  return () => {
    for (const remove of removers) remove();
    removers.length = 0;
  };
}
