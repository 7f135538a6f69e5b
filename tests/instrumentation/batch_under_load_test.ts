// A real server under steady load exports its spans through a batch
// processor on real timers, dropping none: the "export now" turn of a full
// batch must run while requests keep arriving (on Deno an unref'd
// setImmediate did not, and the queue filled).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BatchSpanProcessor,
  InMemoryExporter,
  type ReadableSpan,
  TracerProvider,
} from "../../mod.ts";
import { HttpServerInstrumentation } from "../../instrumentation/http_server.ts";
import { spawn } from "node:child_process";
import process from "node:process";
import { isBun, isDeno, serve } from "./_serve.ts";

describe("batch processor behind a real server", () => {
  it("exports every span of 1,500 requests from another process, 8 in flight, with a 64-span queue", async () => {
    const exporter = new InMemoryExporter<ReadableSpan>();
    const processor = new BatchSpanProcessor(exporter, {
      maxExportBatchSize: 16,
      maxQueueSize: 64,
      env: () => undefined,
    });
    const tracerProvider = new TracerProvider({
      processors: [processor],
      env: () => undefined,
    });
    const http = new HttpServerInstrumentation({
      tracerProvider,
      env: () => undefined,
    });
    await using server = await serve(
      http.handler(() => new Response(null, { status: 204 })),
    );
    const total = 1500;
    // The load comes from another process, as a server's clients do.
    const code = `let next = 0;
      const worker = async () => {
        while (next < ${total}) {
          next++;
          const response = await fetch(${JSON.stringify(server.url)});
          await response.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));`;
    const args = isDeno ? ["eval", code] : isBun ? ["-e", code] : [
      "--input-type=module",
      "-e",
      code,
    ];
    const exit = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: "inherit" });
      child.on("error", reject);
      child.on("exit", resolve);
    });
    assert.equal(exit, 0);
    await tracerProvider.forceFlush();
    assert.equal(processor.stats.dropped, 0);
    assert.equal(exporter.items.length, total);
    await tracerProvider.shutdown();
  });
});
