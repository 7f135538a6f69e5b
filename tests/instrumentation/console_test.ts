import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  consoleDiagnosticSink,
  LoggerProvider,
  type LogRecordProcessor,
} from "../../mod.ts";
import {
  captureConsole,
  type ConsoleMethod,
} from "../../instrumentation/console.ts";
import { recordingPipeline } from "./_serve.ts";

const METHODS: ConsoleMethod[] = [
  "trace",
  "debug",
  "log",
  "info",
  "warn",
  "error",
];

/** Replaces the console methods with recorders for the test's duration (so nothing is printed). */
function recordConsole() {
  const printed: [string, unknown[]][] = [];
  const target = console as unknown as Record<string, unknown>;
  const saved = METHODS.map((m) => [m, target[m]] as const);
  for (const m of METHODS) {
    target[m] = (...args: unknown[]) => void printed.push([m, args]);
  }
  return {
    printed,
    [Symbol.dispose]() {
      for (const [m, f] of saved) target[m] = f;
    },
  };
}

describe("captureConsole", () => {
  it("maps every method to its severity, still prints, and keeps object arguments", () => {
    using recorder = recordConsole();
    const { logs, loggerProvider } = recordingPipeline();
    {
      using capture = captureConsole({ loggerProvider });
      console.trace("t");
      console.debug("d %s", "x");
      console.log("l", 1);
      console.info("i");
      console.warn("w");
      console.error("e", { code: 7, nested: { ok: true } });
      assert.equal(capture.stats.captured, 6);
    }
    assert.deepEqual(
      logs.map((r) => [r.severityNumber, r.severityText, r.body]),
      [
        [1, "TRACE", "Trace: t"],
        [5, "DEBUG", "d x"],
        [9, "INFO", "l 1"],
        [9, "INFO", "i"],
        [13, "WARN", "w"],
        [17, "ERROR", "e { code: 7, nested: { ok: true } }"],
      ],
    );
    assert.deepEqual(logs[5].attributes["console.arguments"], [
      "e",
      { code: 7, nested: { ok: true } },
    ]);
    assert.equal(logs[0].attributes["console.arguments"], undefined);
    assert.deepEqual(recorder.printed.map(([m]) => m), METHODS);
    // Restored: no more records.
    console.info("after");
    assert.equal(logs.length, 6);
  });

  it("never recurses through the library's own diagnostics or a processor that logs", async () => {
    using recorder = recordConsole();
    const { logs, loggerProvider } = recordingPipeline();
    let calls = 0;
    const noisy: LogRecordProcessor = {
      onEmit() {
        calls++;
        console.warn("processor says hi"); // re-entrant: printed, not captured
        throw new Error("processor failed"); // provider → diagnostic → console.warn
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const failing = new LoggerProvider({
      processors: [noisy],
      diagnostics: consoleDiagnosticSink,
      env: () => undefined,
    });
    using capture = captureConsole({ loggerProvider: failing });
    console.error("boom");
    consoleDiagnosticSink({
      source: "test",
      level: "warn",
      message: "own line",
    });
    assert.equal(calls, 1);
    assert.equal(capture.stats.captured, 1);
    assert.ok(capture.stats.skipped >= 2, JSON.stringify(capture.stats));
    assert.ok(
      recorder.printed.some(([, a]) =>
        String(a[0]).startsWith("[@seed/telemetry]")
      ),
    );
    assert.equal(logs.length, 0);
    capture.restore();
    await loggerProvider.shutdown();
  });

  it("never throws on hostile arguments and refuses a second capture", () => {
    using _recorder = recordConsole();
    const { logs, loggerProvider } = recordingPipeline();
    using capture = captureConsole({ loggerProvider, print: false });
    const cyclic: Record<string, unknown> = { name: "c" };
    cyclic.self = cyclic;
    const proxy = new Proxy({}, {
      get() {
        throw new Error("trap");
      },
      ownKeys() {
        throw new Error("trap");
      },
    });
    const badToString = {
      toString() {
        throw new Error("no");
      },
    };
    console.log(cyclic);
    console.log(proxy);
    console.log("%s", badToString);
    console.log("x".repeat(100_000), "\ud800");
    assert.ok(logs.length >= 2);
    // Each call is captured or skipped (formatting failed); a diagnostic the
    // pipeline prints while emitting is skipped as re-entrant, not recursed into.
    assert.ok(
      capture.stats.captured + capture.stats.skipped >= 4,
      JSON.stringify(capture.stats),
    );
    console.log("still working");
    assert.equal(logs.at(-1)!.body, "still working");
    assert.match(String(logs[0].body), /\[Circular \*1\]/);
    assert.throws(() => captureConsole({ loggerProvider }), /twice/);
    assert.throws(
      () => captureConsole({ loggerProvider: null as never }),
      TypeError,
    );
    assert.throws(
      () =>
        captureConsole({ loggerProvider, methods: ["shout" as ConsoleMethod] }),
      /console\.shout/,
    );
  });

  it("gives records emitted inside a span that span's ids across await", async () => {
    using _recorder = recordConsole();
    const { logs, loggerProvider, tracerProvider } = recordingPipeline();
    using _capture = captureConsole({ loggerProvider });
    await tracerProvider.getTracer("t").startActiveSpan(
      "request",
      async (span) => {
        await new Promise((r) => setTimeout(r, 1));
        console.info("inside");
        span.end();
        assert.equal(logs[0].spanId, span.spanId);
        assert.equal(logs[0].traceId, span.traceId);
      },
    );
  });
});
