// histogram.record(v, 3 attributes) (or counter.add with CASE=counter),
// ours against @opentelemetry/sdk-metrics in one process, paired round by
// round, with another checkout's pipeline as "old": the budget rows of
// bench/_metrics_cases.ts are mitata medians of the two timed apart, which
// moved between reports (Bun's histogram row: 0.14x, then 0.22x) with no
// change to the record path in between. Each round is REPS × 1,000 calls
// per arm, arms in a rotating order; per arm the median round, and the
// per-round ratios' median and quartiles.
//
//   deno run -A bench/metrics_record_ab.ts     bun bench/metrics_record_ab.ts
//   node bench/metrics_record_ab.ts            (Node 26)
//
// OLD=<path of another checkout's mod.ts> adds that checkout's pipeline as
// "old" (a `git worktree add --detach` of an older commit); NEW=<path>
// replaces this checkout's, so NEW and OLD two copies of one commit give the
// harness's own floor (A/A). ROUNDS (default 200) sets the rounds.
//
// JSON=<path> also writes "new" against the peer as bench/report's budget
// rows read it: the median of the per-round ratios (wall clock), their
// quartiles and extremes, each side's median ns per call, and the median
// CPU time ratio.

import type { Attributes } from "../mod.ts";
import {
  MeterProvider as PeerMeterProvider,
  MetricReader as PeerMetricReader,
} from "@opentelemetry/sdk-metrics";
import { processCpuNs, quantile, ratioSpread } from "./_fixtures.ts";
import { METRIC_ATTRIBUTES } from "./_metrics_cases.ts";

const env = (globalThis as { process?: { env: Record<string, string> } })
  .process?.env ?? {};
const CASE = env.CASE ?? "histogram";
if (CASE !== "histogram" && CASE !== "counter") {
  throw new Error(`CASE=${CASE}: expected histogram (the default) or counter`);
}
const ROUNDS = Number(env.ROUNDS ?? 200);
const OPS = 1000;
const REPS = 20;
const noEnv = (): undefined => undefined;

/** The metrics entry point of a checkout, from the path of its mod.ts. */
async function metricsOf(
  modPath: string,
): Promise<typeof import("../pipeline/metrics/mod.ts")> {
  const { dirname, join } = await import("node:path");
  return await import(join(dirname(modPath), "pipeline/metrics/mod.ts"));
}

type Round = () => void;

/** A pull reader for sdk-metrics (it ships none). */
class PeerPullReader extends PeerMetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

// ours() and peer() write their loops out each: one shared loop function
// would share its call sites' feedback between the arms and time a
// polymorphic add/record on both sides.
function ours(m: typeof import("../pipeline/metrics/mod.ts")): Round {
  const meter = new m.MeterProvider({
    env: noEnv,
    readers: [new m.ManualMetricReader()],
  }).getMeter("bench", "1.0.0");
  const attrs: Attributes = METRIC_ATTRIBUTES;
  if (CASE === "counter") {
    const counter = meter.createCounter("http.server.requests");
    return () => {
      for (let i = 0; i < OPS; i++) counter.add(1, attrs);
    };
  }
  const histogram = meter.createHistogram("http.server.request.duration", {
    unit: "s",
  });
  return () => {
    for (let i = 0; i < OPS; i++) histogram.record((i & 255) * 0.01, attrs);
  };
}

function peer(): Round {
  // A pull reader that is never collected, as bench/_metrics_cases.ts's:
  // without a reader sdk-metrics keeps no storage and records nothing.
  const meter = new PeerMeterProvider({ readers: [new PeerPullReader()] })
    .getMeter("bench", "1.0.0");
  const attrs = METRIC_ATTRIBUTES as Record<string, string | number>;
  if (CASE === "counter") {
    const counter = meter.createCounter("http.server.requests");
    return () => {
      for (let i = 0; i < OPS; i++) counter.add(1, attrs);
    };
  }
  const histogram = meter.createHistogram("http.server.request.duration", {
    unit: "s",
  });
  return () => {
    for (let i = 0; i < OPS; i++) histogram.record((i & 255) * 0.01, attrs);
  };
}

const here = await import("../pipeline/metrics/mod.ts");
const arms: [string, Round][] = [
  ["new", ours(env.NEW === undefined ? here : await metricsOf(env.NEW))],
  ["peer", peer()],
];
if (env.OLD !== undefined) arms.push(["old", ours(await metricsOf(env.OLD))]);

const times = arms.map(() => [] as number[]);
const cpu = arms.map(() => [] as number[]);
for (let w = 0; w < 50; w++) for (const [, f] of arms) f(); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < arms.length; k++) {
    const a = (r + k) % arms.length;
    const f = arms[a][1];
    const c0 = processCpuNs();
    const t0 = performance.now();
    for (let i = 0; i < REPS; i++) f();
    times[a].push((performance.now() - t0) * 1e6 / (REPS * OPS));
    cpu[a].push((processCpuNs() - c0) / (REPS * OPS));
  }
}
const rt = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
const q = (xs: number[]): string => {
  const s = ratioSpread(xs);
  return `${s.p50.toFixed(3)} (quartiles ${s.p25.toFixed(3)}-${
    s.p75.toFixed(3)
  })`;
};
for (let a = 0; a < arms.length; a++) {
  console.log(
    `${rt} ${CASE} ${arms[a][0].padEnd(4)} p50 ${
      quantile(times[a], 0.5).toFixed(1)
    } ns/call, min ${quantile(times[a], 0).toFixed(1)}, cpu p50 ${
      quantile(cpu[a], 0.5).toFixed(1)
    }`,
  );
}
const per = (x: number, y: number) => times[x].map((t, r) => t / times[y][r]);
const perCpu = (x: number, y: number) => cpu[x].map((c, r) => c / cpu[y][r]);
console.log(
  `${rt} ${CASE} new/peer per round: wall ${q(per(0, 1))} cpu ${
    q(perCpu(0, 1))
  }`,
);
if (arms.length > 2) {
  console.log(
    `${rt} ${CASE} old/peer per round: wall ${q(per(2, 1))} cpu ${
      q(perCpu(2, 1))
    }`,
  );
  console.log(
    `${rt} ${CASE} new/old per round: wall ${q(per(0, 2))} cpu ${
      q(perCpu(0, 2))
    }`,
  );
}
if (env.JSON !== undefined) {
  const result = {
    runtime: rt,
    case: CASE,
    rounds: ROUNDS,
    callsPerMeasurement: REPS * OPS,
    oursNs: { min: quantile(times[0], 0), p50: quantile(times[0], 0.5) },
    peerNs: { min: quantile(times[1], 0), p50: quantile(times[1], 0.5) },
    ratio: ratioSpread(per(0, 1)),
    cpuRatio: quantile(cpu[0], 0.5) / quantile(cpu[1], 0.5),
  };
  const { writeFileSync } = await import("node:fs");
  writeFileSync(env.JSON, JSON.stringify(result, null, 2) + "\n");
}
