// End to end over loopback: emit → batching processor → OTLP/HTTP protobuf
// exporter → a collector in another process (bench/_collector.ts), ours
// against the OpenTelemetry JS SDK (sdk-logs BatchLogRecordProcessor +
// exporter-logs-otlp-proto OTLPLogExporter), each with its default
// configuration (only the endpoint and the compression set), with and
// without gzip, on Deno and Bun. Each variant runs in a fresh process:
// RECORDS seeded records emitted 512 at a time with a macrotask turn between
// chunks (an application's request loop), waiting while the processor's
// queue has no room for the next chunk (nothing dropped), then `forceFlush()`; throughput
// is the records the collector counted (decoded) per second of that run.
// A second scenario emits 1,000,000 records at once with the collector down
// and reports the heap after a full GC (the queue bounds it).
//
//   deno run -A bench/otlp_e2e.ts [--json OUT] [--records N] [--rounds R]
//   (children: ... otlp_e2e.ts --child seed|peer --compression none|gzip --url URL --records N
//              ... otlp_e2e.ts --child seed|peer --burst N --url URL)

import { setImmediate } from "node:timers";
import process from "node:process";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecord,
  Resource,
} from "../mod.ts";
import { OtlpHttpLogExporter } from "../exporters/otlp/mod.ts";
import {
  BatchLogRecordProcessor as PeerBatchLogRecordProcessor,
  LoggerProvider as PeerLoggerProvider,
} from "@opentelemetry/sdk-logs";
import { OTLPLogExporter as PeerOtlpLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { resourceFromAttributes as peerResourceFromAttributes } from "@opentelemetry/resources";
import { seededRecords } from "./_fixtures.ts";
import { toPeerRecords } from "./_cases.ts";
import { hostInfo } from "./_host.ts";

const CHUNK = 512;
const RESOURCE_ATTRIBUTES = {
  "service.name": "bench",
  "service.instance.id": "bench-1",
};

/** One variant's result, as bench/_report.ts reads it. */
export interface E2eResult {
  readonly runtime: string;
  readonly side: "seed" | "peer";
  readonly compression: "none" | "gzip";
  readonly records: number;
  readonly received: number;
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  /**
   * CPU time of the emitting process (user + system, its worker threads
   * included: zlib, fetch) per record received, in µs: what the pipeline
   * costs, less sensitive than records/s to how fast a loaded machine lets
   * the collector answer.
   */
  readonly cpuMicrosPerRecord: number;
}

/** The burst scenario's result. */
export interface BurstResult {
  readonly runtime: string;
  readonly side: "seed" | "peer";
  readonly emits: number;
  readonly heapBeforeMiB: number;
  readonly heapAfterMiB: number;
  readonly seconds: number;
}

function args(): Map<string, string> {
  const argv = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) m.set(argv[i], argv[i + 1] ?? "");
  return m;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

interface Pipeline {
  emit(i: number): void;
  /** Records waiting in the processor's queue (the producer's backpressure). */
  queued(): number;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

function pipeline(
  side: string,
  url: string,
  compression: "none" | "gzip",
): Pipeline {
  const seeded = seededRecords(CHUNK);
  if (side === "seed") {
    const processor = new BatchLogRecordProcessor(
      new OtlpHttpLogExporter({
        env: () => undefined,
        endpoint: url,
        compression,
        diagnostics: () => {},
      }),
      { env: () => undefined, diagnostics: () => {} },
    );
    const provider = new LoggerProvider({
      env: () => undefined,
      resource: new Resource(RESOURCE_ATTRIBUTES),
      processors: [processor],
    });
    const logger = provider.getLogger("bench", "1.0.0");
    const records: LogRecord[] = seeded;
    return {
      emit: (i) => logger.emit(records[i % CHUNK]),
      queued: () => processor.stats.queued,
      forceFlush: () => provider.forceFlush(),
      shutdown: () => provider.shutdown(),
    };
  }
  const records = toPeerRecords(seeded);
  const processor = new PeerBatchLogRecordProcessor({
    exporter: new PeerOtlpLogExporter({
      url: `${url}/v1/logs`,
      compression: compression as never,
    }),
  });
  const provider = new PeerLoggerProvider({
    resource: peerResourceFromAttributes(RESOURCE_ATTRIBUTES),
    processors: [processor],
  });
  const logger = provider.getLogger("bench", "1.0.0");
  // Its queue (an implementation detail, read only for backpressure).
  const queue = (processor as unknown as { _finishedLogRecords: unknown[] })
    ._finishedLogRecords;
  return {
    emit: (i) => logger.emit(records[i % CHUNK]),
    queued: () =>
      (processor as unknown as { _finishedLogRecords: unknown[] })
        ._finishedLogRecords.length ?? queue.length,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

function heapMiB(): number {
  const g = globalThis as {
    gc?: () => void;
    Bun?: { gc(full: boolean): void };
  };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else g.gc?.();
  return Math.round(process.memoryUsage().heapUsed / 1048576 * 10) / 10;
}

async function child(a: Map<string, string>): Promise<void> {
  const side = a.get("--child")!;
  const url = a.get("--url")!;
  const runtime = (await hostInfo()).runtime;
  if (a.has("--burst")) {
    const n = Number(a.get("--burst"));
    const p = pipeline(side, url, "none");
    for (let i = 0; i < 10_000; i++) p.emit(i);
    await turn();
    const before = heapMiB();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) p.emit(i);
    const seconds = (performance.now() - t0) / 1000;
    await turn();
    const after = heapMiB();
    const out: BurstResult = {
      runtime,
      side: side as "seed",
      emits: n,
      heapBeforeMiB: before,
      heapAfterMiB: after,
      seconds: Math.round(seconds * 100) / 100,
    };
    console.log(JSON.stringify(out));
    process.exit(0); // the exporters would retry against the closed port
  }
  const compression = a.get("--compression") as "none" | "gzip";
  const n = Number(a.get("--records"));
  const p = pipeline(side, url, compression);
  // Warm-up: one chunk, flushed, not counted.
  for (let i = 0; i < CHUNK; i++) p.emit(i);
  await p.forceFlush();
  await fetch(`${url}/stats`).then((r) => r.arrayBuffer());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i += CHUNK) {
    // A producer that waits while the queue (2,048 by default on both
    // sides) has no room for its next chunk, so that nothing is dropped and
    // the figure is what the pipeline sustains.
    while (p.queued() > 2048 - CHUNK) await sleep();
    for (let j = 0; j < CHUNK; j++) p.emit(i + j);
    await turn();
  }
  await p.forceFlush();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stats = await fetch(`${url}/stats`).then((r) => r.json()) as {
    requests: number;
    records: number;
  };
  const out: E2eResult = {
    runtime,
    side: side as "seed",
    compression,
    records: n,
    received: stats.records,
    requests: stats.requests,
    seconds: Math.round(seconds * 1000) / 1000,
    perSecond: Math.round(stats.records / seconds),
    cpuMicrosPerRecord: Math.round(
      (cpu.user + cpu.system) / Math.max(1, stats.records) * 100,
    ) / 100,
  };
  console.log(JSON.stringify(out));
  await p.shutdown();
  process.exit(0);
}

async function run(cmd: string[]): Promise<string> {
  const { spawn } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const c = spawn(cmd[0], cmd.slice(1), {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    c.stdout.on("data", (d: Uint8Array) => out += new TextDecoder().decode(d));
    c.on("error", reject);
    c.on(
      "exit",
      (code) =>
        code === 0
          ? resolve(out)
          : reject(new Error(`${cmd.join(" ")}: exit ${code}`)),
    );
  });
}

async function driver(a: Map<string, string>): Promise<void> {
  const { spawn } = await import("node:child_process");
  const deno = "./node_modules/.bin/deno";
  const bun = "./node_modules/.bin/bun";
  const records = Number(a.get("--records") ?? 200_000);
  const rounds = Number(a.get("--rounds") ?? 1);
  const collector = spawn(deno, ["run", "-A", "bench/_collector.ts"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve) =>
    collector.stdout!.once(
      "data",
      (d: Uint8Array) => resolve(Number(new TextDecoder().decode(d).trim())),
    )
  );
  const url = `http://127.0.0.1:${port}`;
  const results: E2eResult[] = [];
  const bursts: BurstResult[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (
        const [rt, cmd] of [["deno", [deno, "run", "-A"]], ["bun", [
          bun,
          "run",
        ]]] as const
      ) {
        for (const compression of ["none", "gzip"]) {
          for (
            const side of r % 2 === 0 ? ["seed", "peer"] : ["peer", "seed"]
          ) {
            const line = await run([
              ...cmd,
              "bench/otlp_e2e.ts",
              "--child",
              side,
              "--compression",
              compression,
              "--url",
              url,
              "--records",
              String(records),
            ]);
            const result = JSON.parse(
              line.trim().split("\n").pop()!,
            ) as E2eResult;
            results.push(result);
            console.error(
              `${rt} ${side} ${compression}: ${result.perSecond} records/s, ${result.cpuMicrosPerRecord} µs CPU/record (${result.received}/${records} received)`,
            );
          }
        }
      }
    }
    // The burst, with the collector down: a port nothing listens on.
    const { createServer } = await import("node:net");
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    for (
      const [rt, cmd] of [["deno", [
        deno,
        "run",
        "-A",
        "--v8-flags=--expose-gc",
      ]], ["bun", [bun, "run"]]] as const
    ) {
      for (const side of ["seed", "peer"]) {
        const line = await run([
          ...cmd,
          "bench/otlp_e2e.ts",
          "--child",
          side,
          "--burst",
          "1000000",
          "--url",
          `http://127.0.0.1:${closed}`,
        ]);
        const b = JSON.parse(line.trim().split("\n").pop()!) as BurstResult;
        bursts.push(b);
        console.error(
          `${rt} ${side} burst: heap ${b.heapBeforeMiB} -> ${b.heapAfterMiB} MiB`,
        );
      }
    }
  } finally {
    collector.kill();
  }
  const json = a.get("--json");
  const text = JSON.stringify({ records, results, bursts }, null, 2) + "\n";
  if (json !== undefined) (await import("node:fs")).writeFileSync(json, text);
  else console.log(text);
}

const a = args();
await (a.has("--child") ? child(a) : driver(a));
