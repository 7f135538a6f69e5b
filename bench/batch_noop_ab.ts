// emit → BatchLogRecordProcessor → an exporter that does nothing (issue 13's
// no-op batch row), old/new in one process, with the peer
// (@opentelemetry/sdk-logs) in the same run. Each round is 512 emits of the
// seeded records + `forceFlush` per pipeline, pipelines interleaved in a
// rotating order; the median and fastest round of each are reported per emit.
//
//   deno run -A bench/batch_noop_ab.ts        bun bench/batch_noop_ab.ts
//   node bench/batch_noop_ab.ts               (Node 26: node_modules/.bin/node)
//
// EXPORTER=otlp-protobuf times issue 13's headline row instead, the pipelines
// of bench/_cases.ts's batch/emit-then-flush group: ours into
// OtlpHttpLogExporter (protobuf, over a fetch that answers 200 at once), the
// peer's into an exporter that runs otlp-transformer's
// ProtobufLogsSerializer, as OTLPLogExporter does before its transport.
//
// OLD=<path of another checkout's mod.ts> adds that checkout's pipeline
// (e.g. a `git worktree add --detach` of main) as "old"; NEW=<path> likewise
// replaces this checkout's pipeline as "new". ROUNDS (default 60)
// sets the rounds, REPS (default 8) the flushed batches of 512 per round;
// FLAT_ARM=1 adds this checkout's pipeline fed records whose ids are flat
// strings (the seeded ones are ropes built with +=); ONE_SPAN=1
// gives every record with a trace context the same ids (see recordsOf);
// PROFILE=<seconds> only loops this checkout's pipeline, for a CPU profiler:
//
//   PROFILE=4 node --cpu-prof bench/batch_noop_ab.ts
//
// JSON=<path> also writes "new" against the peer as bench/report's budget
// row reads it: per round, the two arms' times are a few ms apart, and the
// row gives the median of those per-round ratios with their quartiles (the
// pairing the C rows use: mitata's p50s of the two, minutes apart, swung
// 0.16x-0.40x between reports because the peer's GC-bound figure moves with
// the host's load).
//
// Per arm: the median and fastest round (wall clock) and the median CPU time
// of the process (all threads), each also divided by the peer's. The CPU is
// shared: read the ratios, not the figures, and run an A/A check first (NEW
// and OLD two copies of one commit): here it was within 8% on CPU time.

import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecord,
  type LogRecordData,
  Resource,
} from "../mod.ts";
import {
  BatchLogRecordProcessor as PeerBatchLogRecordProcessor,
  LoggerProvider as PeerLoggerProvider,
  type LogRecordExporter as PeerLogRecordExporter,
} from "@opentelemetry/sdk-logs";
import { resourceFromAttributes as peerResourceFromAttributes } from "@opentelemetry/resources";
import { ProtobufLogsSerializer as PeerProtobufLogsSerializer } from "@opentelemetry/otlp-transformer";
import { OtlpHttpLogExporter } from "../exporters/otlp/mod.ts";
import { toPeerRecords } from "./_cases.ts";
import {
  consume,
  NoopExporter,
  okFetch,
  processCpuNs,
  quantile,
  ratioSpread,
  seededRecords,
} from "./_fixtures.ts";

/** A tree's pipeline and its OTLP/HTTP log exporter. */
type Mod = typeof import("../mod.ts") & {
  OtlpHttpLogExporter: typeof OtlpHttpLogExporter;
};
const env = (globalThis as { process?: { env: Record<string, string> } })
  .process?.env ?? {};
/** Another checkout's pipeline, from the path of its mod.ts. */
async function tree(modPath: string): Promise<Mod> {
  const { dirname, join } = await import("node:path");
  const otlp = await import(join(dirname(modPath), "exporters/otlp/mod.ts"));
  return {
    ...await import(modPath),
    OtlpHttpLogExporter: otlp.OtlpHttpLogExporter,
  };
}
const old: Mod | undefined = env.OLD === undefined
  ? undefined
  : await tree(env.OLD);
const EXPORTER = env.EXPORTER ?? "noop";
if (EXPORTER !== "noop" && EXPORTER !== "otlp-protobuf") {
  throw new Error(
    `EXPORTER=${EXPORTER}: expected noop (the default) or otlp-protobuf`,
  );
}
const ROUNDS = Number(env.ROUNDS ?? 60);
const BATCH = 512;
const RESOURCE_ATTRIBUTES = {
  "service.name": "bench",
  "service.instance.id": "bench-1",
};
const noEnv = (): undefined => undefined;
const silent = (): void => {};

type Round = () => Promise<void>;

/**
 * The seeded records; with ONE_SPAN=1 every record with a trace context
 * carries the first one's id strings, as records emitted inside one span do
 * (the seeded ones are 256 distinct traces).
 */
function recordsOf(): LogRecord[] {
  const out = seededRecords(BATCH);
  if (env.ONE_SPAN === "1") {
    for (const r of out) {
      if (r.traceId !== undefined) {
        r.traceId = out[0].traceId;
        r.spanId = out[0].spanId;
      }
    }
  }
  return out;
}

function seed(m: Mod, flat = false): Round {
  const records: LogRecord[] = recordsOf();
  if (flat) {
    const f = (s: string) =>
      String.fromCharCode(...Array.from(s, (c) => c.charCodeAt(0)));
    for (const r of records) {
      if (r.traceId !== undefined) r.traceId = f(r.traceId);
      if (r.spanId !== undefined) r.spanId = f(r.spanId);
    }
  }
  const provider = new m.LoggerProvider({
    env: noEnv,
    resource: new m.Resource(RESOURCE_ATTRIBUTES),
    processors: [
      new m.BatchLogRecordProcessor(
        EXPORTER === "noop"
          ? new NoopExporter<LogRecordData>()
          // As bench/_cases.ts's seed-otlp-protobuf: over a fetch that
          // answers 200 at once.
          : new m.OtlpHttpLogExporter({
            env: noEnv,
            endpoint: "http://127.0.0.1:4318",
            protocol: "http/protobuf",
            compression: "none",
            fetch: okFetch(),
            diagnostics: silent,
          }),
        { env: noEnv, diagnostics: silent },
      ),
    ],
  });
  const logger = provider.getLogger("bench", "1.0.0");
  return async () => {
    for (let i = 0; i < BATCH; i++) logger.emit(records[i]);
    await provider.forceFlush();
  };
}

function peer(): Round {
  const records = toPeerRecords(recordsOf());
  const RESOLVED = Promise.resolve();
  const exporter: PeerLogRecordExporter = {
    export(logs, resultCallback): void {
      // As bench/_cases.ts's peer-otlp-protobuf: what OTLPLogExporter does
      // before its transport, then a transport that answers at once.
      if (EXPORTER === "noop") consume(logs.length);
      else {
        consume(PeerProtobufLogsSerializer.serializeRequest(logs)?.length ?? 0);
      }
      RESOLVED.then(() => resultCallback({ code: 0 }));
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
  const provider = new PeerLoggerProvider({
    resource: peerResourceFromAttributes(RESOURCE_ATTRIBUTES),
    processors: [new PeerBatchLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger("bench", "1.0.0");
  return async () => {
    for (let i = 0; i < BATCH; i++) logger.emit(records[i]);
    await provider.forceFlush();
  };
}

// NEW=<path> takes the "new" pipeline from another checkout too, so that an
// A/A run (NEW and OLD two copies of one commit) shows the harness's own bias.
const here = {
  BatchLogRecordProcessor,
  LoggerProvider,
  Resource,
  OtlpHttpLogExporter,
} as Mod;
const newMod: Mod = env.NEW === undefined ? here : await tree(env.NEW);
const arms: [string, Round][] = [
  ["new", seed(newMod)],
  ["peer", peer()],
];
if (old !== undefined) arms.push(["old", seed(old)]);
if (env.FLAT_ARM === "1") {
  arms.push([
    "flat",
    seed(here, true),
  ]);
}
if (env.PROFILE !== undefined) {
  // Only this checkout's pipeline, for PROFILE seconds: a loop to run under
  // a CPU profiler (node --cpu-prof, bun --cpu-prof).
  const round = arms[0][1];
  const end = performance.now() + Number(env.PROFILE) * 1000;
  let n = 0;
  while (performance.now() < end) {
    await round();
    n++;
  }
  console.log(`${n * BATCH} emits`);
  // deno-lint-ignore no-explicit-any
  (globalThis as any).process?.exit?.(0);
}
// Rounds of 512 per timed sample (REPS, default 8): REPS=1 with more ROUNDS
// keeps each old/new pair within one scheduling quantum on a loaded host.
const REPS = Number(env.REPS ?? 8);
const times = arms.map(() => [] as number[]);
const cpu = arms.map(() => [] as number[]);
for (let w = 0; w < 30; w++) for (const [, f] of arms) await f(); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < arms.length; k++) {
    const a = (r + k) % arms.length;
    const f = arms[a][1];
    const c0 = processCpuNs();
    const t0 = performance.now();
    for (let i = 0; i < REPS; i++) await f();
    times[a].push((performance.now() - t0) * 1e6 / (REPS * BATCH));
    cpu[a].push((processCpuNs() - c0) / (REPS * BATCH));
  }
}
const med = (xs: number[]): number => quantile(xs, 0.5);
const peerMed = med(times[1]);
const peerMin = Math.min(...times[1]);
const peerCpu = med(cpu[1]);
const rt = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
for (let a = 0; a < arms.length; a++) {
  const m = med(times[a]), lo = Math.min(...times[a]);
  console.log(
    `${rt} ${arms[a][0].padEnd(4)} p50 ${m.toFixed(0).padStart(5)} ns/emit ` +
      `min ${lo.toFixed(0).padStart(5)}  / peer: p50 ${
        (m / peerMed).toFixed(3)
      } min ${(lo / peerMin).toFixed(3)} cpu ${
        (med(cpu[a]) / peerCpu).toFixed(3)
      } (${med(cpu[a]).toFixed(0)} ns)`,
  );
}
{
  // new (arm 0) against the peer (arm 1), paired round by round.
  const s = ratioSpread(times[0].map((t, r) => t / times[1][r]));
  console.log(
    `${rt} ${EXPORTER} new/peer per round: ${s.p50.toFixed(3)} (quartiles ${
      s.p25.toFixed(3)
    }-${s.p75.toFixed(3)}, min ${s.min.toFixed(3)} max ${
      s.max.toFixed(3)
    }) cpu ${(med(cpu[0]) / peerCpu).toFixed(3)}`,
  );
}
if (old !== undefined) {
  // new (arm 0) against old (arm 2), paired round by round: wall and CPU.
  const q = (xs: number[]): string => {
    const s = ratioSpread(xs);
    return `${s.p50.toFixed(3)} (quartiles ${s.p25.toFixed(3)}-${
      s.p75.toFixed(3)
    })`;
  };
  console.log(
    `${rt} new/old per round: wall ${
      q(times[0].map((t, r) => t / times[2][r]))
    } cpu ${q(cpu[0].map((c, r) => c / cpu[2][r]))}`,
  );
}
if (env.JSON !== undefined) {
  // "new" (arm 0) against the peer (arm 1), round by round.
  const ratios = times[0].map((t, r) => t / times[1][r]);
  const result = {
    runtime: rt,
    exporter: EXPORTER,
    rounds: ratios.length,
    emitsPerMeasurement: REPS * BATCH,
    oursNs: { min: quantile(times[0], 0), p50: quantile(times[0], 0.5) },
    peerNs: { min: quantile(times[1], 0), p50: quantile(times[1], 0.5) },
    ratio: ratioSpread(ratios),
    cpuRatio: med(cpu[0]) / peerCpu,
  };
  const { writeFileSync } = await import("node:fs");
  writeFileSync(env.JSON, JSON.stringify(result, null, 2) + "\n");
}
