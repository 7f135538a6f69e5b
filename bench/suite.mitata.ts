// The mitata runner: the same cases as bench/*_bench.ts, under Bun, Deno or Node 26.
//
//   bun run bench/suite.mitata.ts                     # mitata's table
//   deno run -A bench/suite.mitata.ts
//   node --experimental-ffi bench/suite.mitata.ts   # Node 26: node_modules/.bin/node
//   ... suite.mitata.ts --json out.json [--filter REGEX]
//   deno run -A bench/suite.mitata.ts --alloc --json alloc.json
//   ... suite.mitata.ts --area user-events/disabled   # build and run one area only
//
// --alloc measures allocations per operation instead of time (V8 only): the
// median over 5 rounds of V8's `total_allocated_bytes` (bytes ever
// allocated on the JS heap; GC does not disturb it) after minus before ~100,000
// operations (at most 100 calls), minus the same for an empty round. A case
// within 10 allocation steps of zero (see ALLOCATION_STEP) is measured again
// in rounds of ~5M operations; the JSON gives beside each figure
// "<name>#resolution" (one step per operation in its rounds) and
// "<name>#min" / "#max" (its fastest and slowest round, empty subtracted).
// ArrayBuffer backing stores live outside the heap and are not counted. JSC
// exposes no allocation counter, so Bun has no allocation figures.

import { bench, do_not_optimize, group, run } from "mitata";
import { AREAS, type BenchCase } from "./_cases.ts";
import { type HostInfo, hostInfo } from "./_host.ts";

/** One case's measurement, as bench/report reads it. */
export interface MitataResult {
  readonly name: string;
  readonly group: string;
  readonly variant: string;
  readonly baseline: boolean;
  readonly ops: number;
  readonly unit: string;
  /** Mean time per operation (mitata's trimmed mean per call / ops). */
  readonly nsPerOp: number;
  /** Median time per operation. */
  readonly p50NsPerOp: number;
  /** Heap bytes allocated per operation (from a separate --alloc run), or null. */
  readonly bytesPerOp: number | null;
}

/** The JSON file written with --json. */
export interface MitataReport {
  readonly host: HostInfo;
  readonly results: MitataResult[];
}

interface Args {
  json?: string;
  area?: string;
  filter?: RegExp;
  quiet: boolean;
  alloc: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quiet: false, alloc: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") args.json = argv[++i];
    else if (a === "--filter") args.filter = new RegExp(argv[++i]);
    else if (a === "--area") args.area = argv[++i];
    else if (a === "--quiet") args.quiet = true;
    else if (a === "--alloc") args.alloc = true;
  }
  return args;
}

type Gc = () => void;

async function heapProbe(): Promise<{ heap: () => number; gc: Gc } | null> {
  const g = globalThis as { gc?: Gc; Bun?: unknown };
  if (g.Bun !== undefined) return null;
  const v8 = await import("node:v8");
  type Stats = { used_heap_size: number; total_allocated_bytes?: number };
  const gc = typeof g.gc === "function" ? g.gc : () => {};
  // V8 >= 13: bytes ever allocated on the heap, unaffected by GC.
  if (
    typeof (v8.getHeapStatistics() as Stats).total_allocated_bytes === "number"
  ) {
    return {
      heap: () => (v8.getHeapStatistics() as Stats).total_allocated_bytes!,
      gc,
    };
  }
  if (typeof g.gc !== "function") return null;
  return { heap: () => v8.getHeapStatistics().used_heap_size, gc };
}

async function callOnce(fn: BenchCase["fn"]): Promise<void> {
  const r = fn();
  if (r instanceof Promise) await r;
}

const ROUNDS = 5;
const OPS_PER_ROUND = 100_000;
/**
 * V8 advances `total_allocated_bytes` a linear allocation area at a time
 * (256 KiB on V8 15: after a GC, the first allocated byte moves it by
 * 262,128), not per object: a round of n operations resolves only about
 * 262,144 / n bytes per operation, 2.6 B at 100,000 operations, so a case
 * that allocates nothing read 0 or 3 B depending on where the area's
 * boundaries fell. Such cases are measured again with rounds long enough to
 * resolve RESOLUTION.
 */
const ALLOCATION_STEP = 262_144;
const RESOLUTION = 0.05;
/** The re-measure's longest round, in ms (estimated from the first rounds). */
const MAX_ROUND_MS = 500;

/** Bytes per operation, and what one allocation step is per operation in its rounds. */
interface Alloc {
  bytesPerOp: number;
  resolution: number;
  spread: [number, number];
}

async function bytesPerOp(
  c: BenchCase,
  probe: { heap: () => number; gc: Gc },
): Promise<Alloc> {
  // ~100,000 operations, but at most 100 calls (a call may encode 512
  // records); the warm-up round below runs the same calls unmeasured.
  const calls = Math.min(100, Math.max(1, Math.ceil(OPS_PER_ROUND / c.ops)));
  const measure = async (
    fn: BenchCase["fn"],
    n: number,
  ): Promise<{ median: number; min: number; max: number; ms: number }> => {
    const deltas: number[] = [];
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      probe.gc();
      const h0 = probe.heap();
      for (let i = 0; i < n; i++) await callOnce(fn);
      deltas.push(probe.heap() - h0);
    }
    const ms = (performance.now() - t0) / ROUNDS;
    deltas.sort((a, b) => a - b);
    return {
      median: deltas[ROUNDS >> 1],
      min: deltas[0],
      max: deltas[ROUNDS - 1],
      ms,
    };
  };
  const perOp = async (n: number) => {
    const empty = await measure(() => {}, n);
    const total = await measure(c.fn, n);
    const ops = n * c.ops;
    return {
      bytesPerOp: Math.max(0, (total.median - empty.median) / ops),
      resolution: ALLOCATION_STEP / ops,
      spread: [
        (total.min - empty.median) / ops,
        (total.max - empty.median) / ops,
      ] as [number, number],
      ms: total.ms,
    };
  };
  for (let i = 0; i < calls; i++) await callOnce(c.fn);
  const first = await perOp(calls);
  if (first.bytesPerOp >= 10 * first.resolution) return first;
  // Near zero: within a few allocation steps. Rounds of enough operations
  // that one step is RESOLUTION bytes per operation, if they fit in
  // MAX_ROUND_MS.
  const wanted = Math.ceil(ALLOCATION_STEP / (RESOLUTION * c.ops));
  const affordable = Math.floor(
    calls * MAX_ROUND_MS / Math.max(first.ms, 1e-3),
  );
  const n = Math.max(calls, Math.min(wanted, affordable));
  if (n === calls) return first;
  return await perOp(n);
}
async function main(): Promise<void> {
  const args = parseArgs(
    typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2),
  );
  const cases: BenchCase[] = [];
  for (const area of AREAS) {
    if (args.area !== undefined && area.area !== args.area) continue;
    for (const c of await area.build()) {
      if (args.filter === undefined || args.filter.test(c.name)) cases.push(c);
    }
  }
  if (args.alloc) {
    const probe = await heapProbe();
    if (probe === null) {
      throw new Error(
        "--alloc needs V8 (run it with Deno)",
      );
    }
    const allocs: Record<string, number> = {};
    for (const c of cases) {
      const a = await bytesPerOp(c, probe);
      allocs[c.name] = a.bytesPerOp;
      // Beside each figure: what one allocation step is per operation in its
      // rounds, and the fastest and slowest round (empty round subtracted).
      allocs[`${c.name}#resolution`] = a.resolution;
      allocs[`${c.name}#min`] = a.spread[0];
      allocs[`${c.name}#max`] = a.spread[1];
    }
    const text = JSON.stringify(allocs, null, 2) + "\n";
    if (args.json === undefined) console.log(text);
    else (await import("node:fs")).writeFileSync(args.json, text);
    return;
  }
  // Shown as in `deno bench`: "[xN]" when one call runs N operations.
  const label = (c: BenchCase) =>
    c.ops === 1 ? c.name : `${c.name} [x${c.ops}]`;
  const byName = new Map(cases.map((c) => [label(c), c]));
  let currentGroup = "";
  let members: BenchCase[] = [];
  const flush = () => {
    const list = members;
    if (list.length === 0) return;
    group(currentGroup, () => {
      for (const c of list) {
        const fn = c.fn;
        // Return the Promise of async cases so mitata awaits it.
        const b = bench(label(c), () => {
          const r = fn();
          do_not_optimize(r);
          return r;
        });
        if (c.baseline) b.baseline(true);
      }
    });
  };
  for (const c of cases) {
    if (c.group !== currentGroup) {
      flush();
      currentGroup = c.group;
      members = [];
    }
    members.push(c);
  }
  flush();

  const quiet = args.quiet || args.json !== undefined;
  const out = await run({ format: quiet ? "quiet" : "mitata", colors: false });
  if (args.json === undefined) return;

  const results: MitataResult[] = [];
  for (const trial of out.benchmarks) {
    const run0 = trial.runs[0];
    const c = byName.get(run0.name);
    if (c === undefined || run0.stats === undefined) continue;
    results.push({
      name: c.name,
      group: c.group,
      variant: c.variant,
      baseline: c.baseline,
      ops: c.ops,
      unit: c.unit,
      nsPerOp: run0.stats.avg / c.ops,
      p50NsPerOp: run0.stats.p50 / c.ops,
      bytesPerOp: null, // filled in by bench/_report.ts from the --alloc run
    });
  }
  const report: MitataReport = { host: await hostInfo(), results };
  const text = JSON.stringify(report, null, 2) + "\n";
  const { writeFileSync } = await import("node:fs");
  writeFileSync(args.json, text);
}

await main();
