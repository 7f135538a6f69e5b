import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BatchLogRecordProcessor,
  type BatchScheduler,
  type Exporter,
  type ExportResult,
  LoggerProvider,
  type LogRecordData,
} from "../../pipeline/mod.ts";
import {
  findMetric,
  observeBatchProcessor,
} from "../../pipeline/metrics/mod.ts";
import { points, rig } from "./_helpers.ts";

const manual: BatchScheduler = { setTimeout: () => 0, clearTimeout: () => {} };

describe("observeBatchProcessor", () => {
  it("reports queue size and processed items by outcome", async () => {
    let answer: ExportResult = { code: "success" };
    const exporter: Exporter<LogRecordData> = {
      export: () => Promise.resolve(answer),
      shutdown: () => Promise.resolve(),
    };
    const processor = new BatchLogRecordProcessor(exporter, {
      maxQueueSize: 4,
      maxExportBatchSize: 4,
      scheduler: manual,
      env: () => undefined,
      diagnostics: () => {},
    });
    const logs = new LoggerProvider({
      env: () => undefined,
      processors: [processor],
    });
    const r = rig();
    observeBatchProcessor(r.provider.getMeter("sdk"), processor, "log", {
      "otel.component.name": "p0",
    });
    const logger = logs.getLogger("app");
    for (let i = 0; i < 3; i++) logger.emit({ body: "x" });
    let m = (await r.collect()).resourceMetrics;
    assert.deepEqual(
      points(findMetric(m, "otel.sdk.processor.log.queue.size")).map((p) =>
        p.value
      ),
      [3],
    );
    await processor.forceFlush(); // 3 exported
    answer = { code: "failure", retryable: false };
    for (let i = 0; i < 6; i++) logger.emit({ body: "y" }); // 4 queued, 2 dropped
    await processor.forceFlush(); // 4 failed
    m = (await r.collect()).resourceMetrics;
    assert.deepEqual(
      points(findMetric(m, "otel.sdk.processor.log.queue.size")).map((p) =>
        p.value
      ),
      [0],
    );
    const processed = findMetric(m, "otel.sdk.processor.log.processed");
    assert.ok(processed?.dataPointType === "sum" && processed.isMonotonic);
    const byType = new Map(
      points(processed).map((
        p,
      ) => [p.attributes["error.type"] ?? "ok", p.value]),
    );
    assert.deepEqual(Object.fromEntries(byType), {
      ok: 3,
      dropped: 2,
      failed: 4,
      rejected: 0,
    });
    assert.equal(points(processed)[0].attributes["otel.component.name"], "p0");
    await logs.shutdown();
  });
});
