// Metrics memory: heap after 1,000,000 measurements, each with a distinct
// attribute set, into one counter (the cardinality limit, 2000 series, must
// hold memory bounded: sets past it go to the overflow series), ours and
// @opentelemetry/sdk-metrics'. Heap figures after a forced full GC.
//
//   deno run -A --v8-flags=--expose-gc bench/metrics_memory.ts [--json FILE]
//   bun run bench/metrics_memory.ts [--json FILE]
//
// --json writes a MetricsMemoryReport (bench/report reads it).

import process from "node:process";
import { writeFileSync } from "node:fs";
import { type HostInfo, hostInfo } from "./_host.ts";
import { ManualMetricReader, MeterProvider } from "../pipeline/metrics/mod.ts";
import {
  MeterProvider as PeerMeterProvider,
  MetricReader as PeerMetricReader,
} from "@opentelemetry/sdk-metrics";

const MiB = 1024 * 1024;
const N = 1_000_000;
const WARM = 10_000;

class PeerPullReader extends PeerMetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

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

function heap(): number {
  gc();
  return process.memoryUsage().heapUsed / MiB;
}

/** One side's figures. */
export interface MetricsMemoryRow {
  readonly scenario: string;
  /** Distinct attribute sets added after the warm-up. */
  readonly sets: number;
  readonly heapBeforeMiB: number;
  readonly heapWarmMiB: number;
  readonly heapAfterMiB: number;
  readonly nsPerAdd: number;
  /** Series held at the end (ours), or null. */
  readonly series: number | null;
  /** Measurements sent to the overflow series (ours), or null. */
  readonly overflowed: number | null;
}

/** The JSON file written with --json. */
export interface MetricsMemoryReport {
  readonly host: HostInfo;
  readonly rows: MetricsMemoryRow[];
}

const rows: MetricsMemoryRow[] = [];
const round1 = (x: number) => Math.round(x * 10) / 10;

function run(name: string, add: (i: number) => void): void {
  const before = heap();
  for (let i = 0; i < WARM; i++) add(i);
  const warm = heap();
  const t0 = performance.now();
  for (let i = WARM; i < N; i++) add(i);
  const seconds = (performance.now() - t0) / 1000;
  const after = heap();
  console.log(
    `${name}: heap ${before.toFixed(1)} -> ${
      warm.toFixed(1)
    } (after ${WARM}) -> ${
      after.toFixed(1)
    } MiB after ${N} distinct sets; growth after warm-up ${
      (after - warm).toFixed(1)
    } MiB; ${(seconds * 1e9 / (N - WARM)).toFixed(0)} ns per add`,
  );
  rows.push({
    scenario: name,
    sets: N - WARM,
    heapBeforeMiB: round1(before),
    heapWarmMiB: round1(warm),
    heapAfterMiB: round1(after),
    nsPerAdd: Math.round(seconds * 1e9 / (N - WARM)),
    series: null,
    overflowed: null,
  });
}

const runtime = navigator.userAgent;
console.log(`runtime: ${runtime}`);
{
  const reader = new ManualMetricReader();
  const provider = new MeterProvider({
    env: () => undefined,
    readers: [reader],
  });
  const counter = provider.getMeter("bench").createCounter("c");
  run("seed", (i) => counter.add(1, { id: i, route: "/users/:id", ok: true }));
  console.log(
    `seed: series ${provider.stats.series}, overflowed ${provider.stats.overflowed}`,
  );
  rows[rows.length - 1] = {
    ...rows[rows.length - 1],
    series: provider.stats.series,
    overflowed: provider.stats.overflowed,
  };
}
{
  const reader = new PeerPullReader();
  const provider = new PeerMeterProvider({ readers: [reader] });
  const counter = provider.getMeter("bench").createCounter("c");
  run(
    "peer-sdk-metrics",
    (i) => counter.add(1, { id: i, route: "/users/:id", ok: true }),
  );
}

const argv = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const jsonAt = argv.indexOf("--json");
if (jsonAt >= 0) {
  const report: MetricsMemoryReport = { host: await hostInfo(), rows };
  writeFileSync(argv[jsonAt + 1], JSON.stringify(report, null, 2) + "\n");
}
