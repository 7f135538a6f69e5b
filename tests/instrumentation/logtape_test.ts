import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configure, getLogger, reset } from "@logtape/logtape";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  Resource,
} from "../../mod.ts";
import { OtlpHttpLogExporter } from "../../exporters/otlp/mod.ts";
import { logTapeSink } from "../../instrumentation/logtape.ts";
import { FakeCollector } from "../otlp/_server.ts";
import { decodeLogs, plainAttributes, plainValue } from "../otlp/_decoder.ts";
import { recordingPipeline } from "./_serve.ts";

const quietMeta = { category: ["logtape", "meta"], sinks: [] as string[] };

describe("logTapeSink", () => {
  it("drops nothing right after configure(): 1000 records reach an OTLP collector through the batch processor", async () => {
    await using collector = await FakeCollector.start();
    const batch = new BatchLogRecordProcessor(
      new OtlpHttpLogExporter({ endpoint: collector.url("/v1/logs") }),
      { scheduledDelayMillis: 20 },
    );
    const loggerProvider = new LoggerProvider({
      resource: new Resource({ "service.name": "logtape-test" }),
      processors: [batch],
      env: () => undefined,
    });
    await configure({
      sinks: { otel: logTapeSink({ loggerProvider }) },
      loggers: [
        { category: ["app"], sinks: ["otel"], lowestLevel: "trace" },
        quietMeta,
      ],
    });
    try {
      const logger = getLogger(["app", "start"]);
      for (let i = 0; i < 1000; i++) logger.info("record {i}", { i });
      getLogger(["app", "db"]).error`query failed after ${3} tries`;
      await loggerProvider.forceFlush();
    } finally {
      await reset();
    }
    const records = collector.requests.flatMap((r) =>
      decodeLogs(r.body).resourceLogs.flatMap((
        rl: { scopeLogs: { scope: { name: string }; logRecords: unknown[] }[] },
      ) =>
        rl.scopeLogs.flatMap((sl) =>
          sl.logRecords.map((lr) => ({
            scope: sl.scope.name,
            lr: lr as Record<string, never>,
          }))
        )
      )
    );
    assert.equal(records.length, 1001);
    assert.equal(batch.stats.dropped, 0);
    assert.equal(records[0].scope, "app.start");
    assert.equal(plainValue(records[0].lr.body), "record 0");
    assert.equal(records[0].lr.severityNumber, 9);
    assert.deepEqual(plainAttributes(records[999].lr.attributes), {
      i: 999,
      "message.template": "record {i}",
    });
    const last = records[1000];
    assert.equal(last.scope, "app.db");
    assert.equal(last.lr.severityNumber, 17);
    assert.equal(plainValue(last.lr.body), "query failed after 3 tries");
    assert.equal(
      plainAttributes(last.lr.attributes)["message.template"],
      "query failed after {} tries",
    );
    await loggerProvider.shutdown();
  });

  it("maps every level, keeps the active span's context across await, and survives hostile properties", async () => {
    const { logs, loggerProvider, tracerProvider } = recordingPipeline();
    const sink = logTapeSink({ loggerProvider });
    await configure({
      sinks: { otel: sink },
      loggers: [
        { category: ["svc"], sinks: ["otel"], lowestLevel: "trace" },
        quietMeta,
      ],
    });
    try {
      const logger = getLogger(["svc"]);
      logger.trace("t");
      logger.debug("d");
      logger.info("i");
      logger.warn("w");
      logger.error("e");
      logger.fatal("f");
      assert.deepEqual(logs.map((r) => [r.severityNumber, r.severityText]), [
        [1, "TRACE"],
        [5, "DEBUG"],
        [9, "INFO"],
        [13, "WARN"],
        [17, "ERROR"],
        [21, "FATAL"],
      ]);
      await tracerProvider.getTracer("t").startActiveSpan(
        "job",
        async (span) => {
          await new Promise((r) => setTimeout(r, 1));
          logger.info("inside {job}", { job: "sync" });
          span.end();
          assert.equal(logs.at(-1)!.spanId, span.spanId);
          assert.equal(logs.at(-1)!.body, "inside sync");
        },
      );
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      logger.info("cyclic {c}", { c: cyclic, fn: () => 1 });
      assert.equal(logs.at(-1)!.body, "cyclic [object Object]");
      assert.equal(
        logs.at(-1)!.attributes.fn,
        undefined,
        "a function property is dropped",
      );
      const hostile = {
        category: ["svc"],
        level: "info",
        message: ["x"],
        rawMessage: "x",
        timestamp: Number.NaN,
        get properties(): Record<string, unknown> {
          throw new Error("getter");
        },
      };
      sink(hostile);
      assert.equal(sink.stats.skipped, 1);
      sink({
        category: ["svc"],
        level: "weird",
        message: [],
        rawMessage: "",
        timestamp: 1,
        properties: {},
      });
      assert.equal(logs.at(-1)!.severityNumber, 0);
    } finally {
      await reset();
    }
    assert.throws(() => logTapeSink({} as never), /loggerProvider is required/);
  });
});
