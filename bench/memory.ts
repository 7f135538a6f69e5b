// Case 7, memory: RSS and heap after 1M emits into a batching processor whose
// exporter never answers (the queue fills, then every emit is a counted
// drop: memory must stay bounded), ours and @opentelemetry/sdk-logs'; and
// after 10M emits through a UserEventsProcessor nobody listens to (no
// growth). Heap figures are taken after a forced full GC.
//
//   deno run -A --v8-flags=--expose-gc bench/memory.ts [--json FILE]
//   bun run bench/memory.ts [--json FILE]

import { writeFileSync } from "node:fs";
import {
  BatchLogRecordProcessor,
  type Exporter,
  type ExportResult,
  LoggerProvider,
  type LogRecordData,
  Resource,
} from "../mod.ts";
import { UserEventsProcessor } from "../processors/user_events/mod.ts";
import {
  BatchLogRecordProcessor as PeerBatchLogRecordProcessor,
  LoggerProvider as PeerLoggerProvider,
} from "@opentelemetry/sdk-logs";
import { toPeerRecords } from "./_cases.ts";
import { FakeLibc } from "./_fake_libc.ts";
import { seededRecords } from "./_fixtures.ts";
import { type HostInfo, hostInfo } from "./_host.ts";

/** One measured scenario. */
export interface MemoryRow {
  readonly scenario: string;
  readonly emits: number;
  /** Before any emit. */
  readonly rssBeforeMiB: number;
  /** After the first 10,000 emits (code warm, a batch queue already full). */
  readonly rssWarmMiB: number;
  /** After all emits. */
  readonly rssAfterMiB: number;
  readonly heapBeforeMiB: number;
  readonly heapWarmMiB: number;
  readonly heapAfterMiB: number;
  /** What the processor kept (queued or written) and dropped, if it counts. */
  readonly kept: number | null;
  readonly dropped: number | null;
  readonly seconds: number;
}

/** The JSON file written with --json. */
export interface MemoryReport {
  readonly host: HostInfo;
  readonly rows: MemoryRow[];
}

const MiB = 1024 * 1024;
const noEnv = (): undefined => undefined;
const silent = (): void => {};

function gc(): void {
  const g = globalThis as {
    gc?: () => void;
    Bun?: { gc(full: boolean): void };
  };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else if (typeof g.gc === "function") {
    g.gc();
    g.gc();
  }
}

function snapshot(): { rss: number; heap: number } {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss / MiB, heap: m.heapUsed / MiB };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

async function measure(
  scenario: string,
  emits: number,
  chunk: number,
  emit: (i: number) => void,
  counters: () => { accepted: number; dropped: number } | null,
): Promise<MemoryRow> {
  const before = snapshot();
  for (let i = 0; i < 10_000; i++) emit(i);
  await tick();
  const warm = snapshot();
  const t0 = performance.now();
  for (let done = 0; done < emits; done += chunk) {
    for (let i = 0; i < chunk; i++) emit(done + i);
    await tick(); // let timers run (the batch exporter starts, never ends)
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = snapshot();
  const c = counters();
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    scenario,
    emits,
    rssBeforeMiB: round(before.rss),
    rssWarmMiB: round(warm.rss),
    rssAfterMiB: round(after.rss),
    heapBeforeMiB: round(before.heap),
    heapWarmMiB: round(warm.heap),
    heapAfterMiB: round(after.heap),
    kept: c?.accepted ?? null,
    dropped: c?.dropped ?? null,
    seconds: round(seconds),
  };
}

class NeverExporter implements Exporter<LogRecordData> {
  export(_batch: readonly LogRecordData[]): Promise<ExportResult> {
    return new Promise<ExportResult>(() => {});
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const jsonAt = argv.indexOf("--json");
  const records = seededRecords(512);
  const rows: MemoryRow[] = [];

  // Ours: 1M emits into a full BatchLogRecordProcessor (queue 2048).
  const batch = new BatchLogRecordProcessor(new NeverExporter(), {
    env: noEnv,
    diagnostics: silent,
  });
  const logger = new LoggerProvider({
    env: noEnv,
    resource: new Resource({ "service.name": "bench" }),
    processors: [batch],
  }).getLogger("bench");
  rows.push(
    await measure(
      "seed BatchLogRecordProcessor, exporter never resolves",
      1_000_000,
      10_000,
      (i) => logger.emit(records[i & 511]),
      () => batch.stats,
    ),
  );

  // Peer: the same into @opentelemetry/sdk-logs.
  const peerRecords = toPeerRecords(records);
  const peerLogger = new PeerLoggerProvider({
    processors: [
      new PeerBatchLogRecordProcessor({
        exporter: {
          export: () => {}, // never calls back
          shutdown: () => Promise.resolve(),
          forceFlush: () => Promise.resolve(),
        },
      }),
    ],
  }).getLogger("bench");
  rows.push(
    await measure(
      "peer sdk-logs BatchLogRecordProcessor, exporter never calls back",
      1_000_000,
      10_000,
      (i) => peerLogger.emit(peerRecords[i & 511]),
      () => null,
    ),
  );

  // Ours: 10M emits through a disabled user_events processor.
  const disabled = new UserEventsProcessor(new FakeLibc(), {
    providerName: "bench",
    diagnostics: silent,
  });
  const ueLogger = new LoggerProvider({
    env: noEnv,
    resource: new Resource({ "service.name": "bench" }),
    processors: [disabled],
  }).getLogger("bench");
  rows.push(
    await measure(
      "seed UserEventsProcessor, no listener",
      10_000_000,
      1_000_000,
      (i) => ueLogger.emit(records[i & 511]),
      () => {
        const s = disabled.stats;
        return { accepted: s.written, dropped: s.notEnabled };
      },
    ),
  );

  const report: MemoryReport = { host: await hostInfo(), rows };
  if (jsonAt >= 0) {
    writeFileSync(argv[jsonAt + 1], JSON.stringify(report, null, 2) + "\n");
  } else {
    console.table(rows);
  }
  // The never-ending exports would keep nothing alive (timers are unref'd),
  // but exit explicitly so a runtime that waits on Promises does not hang.
  process.exit(0);
}

await main(typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2));
