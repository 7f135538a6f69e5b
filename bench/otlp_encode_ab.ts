// The OTLP logs protobuf encoder alone, old tree vs new, in one process:
// writeLogsRequest of the 512 seeded records (bench/_cases.ts's
// otlp-encode/protobuf-512 "seed" case) into a reused buffer, the two trees'
// encoders in alternating rounds, per-round CPU ratios (new/old) with their
// quartiles. Both trees are copied with copySourceTree, so an A/A run
// (OLD_ROOT and NEW_ROOT the same tree) loads them the same way.
//
//   OLD_ROOT=<a checkout, e.g. git worktree add --detach /tmp/old main> \
//     deno run -A bench/otlp_encode_ab.ts     (also bun, Node 26's node)
//
// NEW_ROOT (default this checkout) replaces "new"; ROUNDS (default 80);
// ONE_SPAN=1 gives every record with a trace context the first record's ids
// (logs of one span); FLAT=1 flattens the seeded ids (they are ropes built
// with +=, as a hex id built char by char is). Before timing, each arm's
// bytes are compared with the other's: the run stops when they differ.

import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { seedLogRecordData } from "./_cases.ts";
import {
  copySourceTree,
  processCpuNs,
  quantile,
  ratioSpread,
} from "./_fixtures.ts";
import type { LogRecordData } from "../mod.ts";

type Encoder = typeof import("../exporters/_otlp_logs_proto.ts");
type Writer = typeof import("../exporters/_proto_writer.ts");

const env = (globalThis as {
  process?: { env: Record<string, string | undefined> };
}).process!.env;
const newRoot = env.NEW_ROOT ?? fileURLToPath(new URL("..", import.meta.url));
const oldRoot = env.OLD_ROOT;
if (oldRoot === undefined) {
  throw new Error(
    "bench/otlp_encode_ab.ts: set OLD_ROOT to the tree to compare against " +
      "(e.g. `git worktree add --detach /tmp/old main`, OLD_ROOT=/tmp/old)",
  );
}
const ROUNDS = Number(env.ROUNDS ?? 80);
const REPS = 20; // batches of 512 per timed sample

async function load(
  root: string,
  prefix: string,
): Promise<{ enc: Encoder; writer: Writer }> {
  const dir = copySourceTree(root, prefix);
  const enc = await import(
    pathToFileURL(join(dir, "exporters/_otlp_logs_proto.ts")).href
  );
  const writer = await import(
    pathToFileURL(join(dir, "exporters/_proto_writer.ts")).href
  );
  return { enc, writer };
}

let records: LogRecordData[] = await seedLogRecordData();
if (env.FLAT === "1") {
  records = records.map((r) => ({
    ...r,
    traceId: r.traceId === undefined ? undefined : flat(r.traceId),
    spanId: r.spanId === undefined ? undefined : flat(r.spanId),
  }));
}
if (env.ONE_SPAN === "1") {
  const first = records.find((r) => r.traceId !== undefined)!;
  records = records.map((r) =>
    r.traceId === undefined
      ? r
      : { ...r, traceId: first.traceId, spanId: first.spanId }
  );
}

function flat(s: string): string {
  // A flat copy: a number round trip defeats rope reuse.
  return JSON.parse(JSON.stringify(s));
}

const arms = [
  { name: "new", ...await load(newRoot, "otlpenc-new-") },
  { name: "old", ...await load(oldRoot, "otlpenc-old-") },
].map((a) => ({ ...a, out: new a.writer.ProtoBuffer() }));

// Same bytes, or the timing means nothing.
const bytes = arms.map((a) => {
  const end = a.enc.writeLogsRequest(records, a.out, 0);
  return a.out.bytes.slice(0, end); // after the call: it may grow the buffer
});
if (
  bytes[0].length !== bytes[1].length ||
  bytes[0].some((b, i) => b !== bytes[1][i])
) {
  throw new Error("bench/otlp_encode_ab.ts: new and old bytes differ");
}

let sink = 0;
const cpu = arms.map(() => [] as number[]);
const wall = arms.map(() => [] as number[]);
for (let w = 0; w < 200; w++) {
  for (const a of arms) sink ^= a.enc.writeLogsRequest(records, a.out, 0);
}
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < arms.length; k++) {
    const i = (r + k) % arms.length;
    const a = arms[i];
    const c0 = processCpuNs();
    const t0 = performance.now();
    for (let j = 0; j < REPS; j++) {
      sink ^= a.enc.writeLogsRequest(records, a.out, 0);
    }
    wall[i].push((performance.now() - t0) * 1e6 / REPS);
    cpu[i].push((processCpuNs() - c0) / REPS);
  }
}
const cpuRatio = ratioSpread(cpu[0].map((c, r) => c / cpu[1][r]));
const wallRatio = ratioSpread(wall[0].map((t, r) => t / wall[1][r]));
const f = (x: number) => x.toFixed(3);
const us = (xs: number[]) => (quantile(xs, 0.5) / 1000).toFixed(1);
console.log(
  `otlp encode A/B (${records.length} records, ${bytes[0].length} bytes, ` +
    `${ROUNDS} rounds x ${REPS}${env.ONE_SPAN === "1" ? ", ONE_SPAN" : ""}` +
    `${env.FLAT === "1" ? ", FLAT" : ""}) sink ${sink & 1}`,
);
console.log(
  `  CPU/batch  new ${us(cpu[0])} us  old ${us(cpu[1])} us  ratio ` +
    `${f(cpuRatio.p50)} (q ${f(cpuRatio.p25)}-${f(cpuRatio.p75)}, ` +
    `min ${f(cpuRatio.min)} max ${f(cpuRatio.max)})`,
);
console.log(
  `  wall/batch new ${us(wall[0])} us  old ${us(wall[1])} us  ratio ` +
    `${f(wallRatio.p50)} (q ${f(wallRatio.p25)}-${f(wallRatio.p75)})`,
);
