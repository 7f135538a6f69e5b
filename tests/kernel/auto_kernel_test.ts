// The zero-code setup on a real kernel: with no OTEL_*_EXPORTER variables,
// configure() picks user_events for every signal when the kernel has it, with
// no diagnostic, and a log record reaches its tracepoint. Runs in the test VM.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { Diagnostic } from "../../mod.ts";
import { configure } from "../../setup/mod.ts";
import {
  clearTrace,
  setEnable,
  SKIP,
  statusNames,
  TRACEFS,
  waitFor,
} from "./_tracefs.ts";

describe("configure() on a kernel with user_events", { skip: SKIP }, () => {
  it("picks user_events by default for logs, spans and metrics, and writes to it", async () => {
    const seen: Diagnostic[] = [];
    const vars: Record<string, string> = {
      OTEL_SERVICE_NAME: "auto-kernel.test",
    };
    await using telemetry = await configure({
      env: (name) => vars[name],
      diagnostics: (d) => seen.push(d),
      instrumentations: [],
      signals: false,
    });
    assert.deepEqual(seen, []);
    assert.deepEqual(telemetry.backends.logs, ["user_events"]);
    assert.deepEqual(telemetry.backends.traces, ["user_events"]);
    assert.deepEqual(telemetry.backends.metrics, ["user_events"]);
    // The provider name comes from service.name, with "-" and "." as "_".
    const name = "auto_kernel_test_L4K1";
    assert.ok(statusNames().includes(name), statusNames().join(" "));
    clearTrace();
    setEnable(name, true);
    const logger = telemetry.loggerProvider.getLogger("kernel");
    assert.ok(
      await waitFor(() => logger.enabled(9)),
      "the kernel did not set the L4 enable word",
    );
    logger.emit({ severityNumber: 9, body: "through the auto setup" });
    setEnable(name, false);
    const trace = readFileSync(`${TRACEFS}/trace`, "utf8");
    assert.match(trace, new RegExp(name));
  });
});
