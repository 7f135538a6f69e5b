// Per-request CPU cost of the request instrumentation, ours against
// @hono/otel + @opentelemetry/sdk-trace (BatchSpanProcessor), on the same
// Hono app on Bun.serve or Deno.serve (bench/_http_server.ts).
//
//   deno run -A bench/http_server.ts [--json OUT]
//   bun run bench/http_server.ts [--json OUT]
//
// Two parts. First the budget figure (runPaired, HttpReport.paired): bare,
// ours and theirs served by ONE process (`_http_server.ts paired`, a port
// each), loaded in alternating rounds of PAIRED_REQUESTS (order as
// slotOrder), the process's CPU read before and after each round with the
// arm's pipelines flushed; cost = arm − bare in the same round, ratio = the
// median of the per-round (ours − bare) / (theirs − bare). Why one process:
// the three arms then share one heap, one JIT's luck and one scheduler,
// and a round's three arms are a fraction of a second apart, as the other
// budget rows pair their A and B. Across processes (below) the same code
// moved 2-5x between two servers (an A/A run at load 14, session 23) and
// Bun's ratio read 0.56x in one bench/report run and 0.37-0.40x in two runs
// of the same code an hour later (session 28). Sharing a process does not
// help ours: theirs' garbage (it allocates more) can be collected in ours'
// rounds, and its AsyncLocalStorage context manager stays enabled for
// every arm.
//
// Then the load figures (requests/s, p50/p99, and the per-process CPU
// beside them): three servers of the runtime it runs on (bare, ours, theirs), one
// process each, and loads them in turns with the same bounded loopback load:
// CONCURRENCY requests in flight over keep-alive fetch, REQUESTS per round,
// rounds interleaved so that the machine's other work falls on all three
// alike: the order rotates by one place every two rounds, forward on even
// rounds and reversed on odd ones, so that every server takes every slot
// and no server always follows the same one (which server goes after which
// moves the Deno figures by more than a change being measured).
// Each round reads the server's own CPU time (process.cpuUsage, user +
// system) before and after, both pipelines flushed, so a round's figure
// includes exporting its spans and logs. CPU per request is the figure that
// means something on a shared machine; requests/s and latency are reported
// beside it. cost = variant − bare, per round (paired), median over rounds;
// ratio = ours cost / theirs cost. Many short rounds rather than a few long
// ones: a round that a GC cycle or a neighbour's burst lands on is one
// outlier the median drops, and the quartiles of the paired differences
// (costQuartiles, ratioQuartiles) say how far the figure can be trusted.
//
// Three switches for work on the instrumentation (bench/report sets none):
// - SEED_HTTP_BASELINE=DIR adds a fourth server, "baseline": DIR's own
//   bench/_http_server.ts ours (another checkout of this repository, e.g.
//   `git worktree add DIR main`), so an old and a new tree are measured in
//   the same run, with oursMinusBaselineMicros: the median over rounds of
//   (ours − baseline) in the same round, the paired old/new difference.
//   Check it with an A/A run first (DIR = this tree): at load 14 (session
//   23, Deno 2.9.6, forward/reverse order only, where ours sat in the
//   middle slots and baseline at the ends) the same code measured 2.0-2.8x
//   as costly in the "ours" slot as in the "baseline" slot; at load 0.2-3.6
//   (session 24) A/A gave 0.97x on Deno and 1.01x on Bun, per-round
//   quartiles of ours − baseline -8..15 µs and -8..6 µs. A difference
//   within the A/A one means nothing.
// - SEED_HTTP_CLIENT_ADDRESS=0 runs ours with `clientAddress: false` (no
//   client.address, no server.requestIP call; @hono/otel records none), to
//   see what that attribute costs (a baseline tree without this switch
//   keeps its default).
// - SEED_HTTP_PROFILE=DIR writes a CPU profile of each server into DIR
//   (Bun: --cpu-prof, written when the server's process ends by itself;
//   Deno: V8's profiler through node:inspector). The servers then stop by
//   closing their stdin and are given 20 s to write it. bench/http_profile.ts
//   DIR splits each profile's samples by part of the request path.

import process from "node:process";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type HostInfo, hostInfo } from "./_host.ts";
import type { CpuSample, HttpVariant } from "./_http_server.ts";

/** Requests in flight at once (bench/http_ab.ts sends the same load). */
export const CONCURRENCY = 8;
/**
 * Requests per measured round. With 7 rounds of 1,500 (before), the paired
 * cost of ours moved by 16-35 µs from round to round on Deno at load 1-2:
 * 21 rounds of 1,000 give the median three times the rounds to stand on
 * for about the same time (each round is ~0.1-0.2 s per server).
 */
const REQUESTS = 1000;
/**
 * Requests per variant before the first round: enough for the JIT to
 * settle. process.cpuUsage counts the compiler threads too, and they keep
 * working for thousands of requests: on Bun 1.4.5, after 5,000 requests
 * JSC's JIT threads still took 23 µs per request for ours and 43 µs for
 * theirs, after 40,000 about 1 µs for both (per-thread CPU from
 * /proc/PID/task). With 1,000, as before, the figures were mostly
 * compilation, and the variant with more code paid more.
 */
const WARMUP = 20_000;
/** Rounds per variant (fewer when TIME_BUDGET_MS runs out first). */
const ROUNDS = 21;
const MIN_ROUNDS = 5;
/** Wall-clock budget of the measured rounds. */
const TIME_BUDGET_MS = 30_000;

const VARIANTS: readonly HttpVariant[] = ["bare", "ours", "theirs"];

/** A server of the run: one of the variants, or the baseline tree's ours. */
type RunVariant = HttpVariant | "baseline";

/** One variant's figures. */
export interface HttpVariantResult {
  /** The server; "baseline" only with SEED_HTTP_BASELINE. */
  readonly variant: HttpVariant | "baseline";
  /** CPU µs per request of the server process, one per round. */
  readonly cpuMicrosPerRequest: number[];
  /** Median of {@linkcode cpuMicrosPerRequest}. */
  readonly cpuMicrosMedian: number;
  /** Median over rounds of (this round − bare's round of the same index), µs; 0 for bare. */
  readonly costMicros: number;
  /** First and third quartiles of those paired differences, µs ([0, 0] for bare). */
  readonly costQuartiles?: readonly [number, number];
  /** Requests per second, median round. */
  readonly requestsPerSecond: number;
  /** Latency over all measured requests, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests sent in the measured rounds, and those that did not answer 200. */
  readonly requests: number;
  readonly failed: number;
  /** Spans and logs exported by the server (warm-up included) and dropped. */
  readonly exportedSpans: number;
  readonly exportedLogs: number;
  readonly droppedSpans: number;
  readonly droppedLogs: number;
}

/**
 * The budget figure: bare, ours and theirs served by ONE process (one port
 * each), loaded in alternating rounds (slotOrder) a few hundred ms apart,
 * each round's CPU read from that process before and after (pipelines
 * flushed). cost = arm − bare in the same round.
 */
export interface HttpPairedResult {
  readonly rounds: number;
  readonly requestsPerRound: number;
  readonly warmup: number;
  readonly seconds: number;
  /** /proc/loadavg's 1-minute figure before and after ("" elsewhere). */
  readonly loadBefore: string;
  readonly loadAfter: string;
  /** Median CPU µs per request of the bare arm. */
  readonly bareMicros: number;
  /** Median over rounds of (ours − bare) and (theirs − bare), µs, with quartiles. */
  readonly oursCostMicros: number;
  readonly oursCostQuartiles: readonly [number, number];
  readonly theirsCostMicros: number;
  readonly theirsCostQuartiles: readonly [number, number];
  /** Median of the per-round ratios (ours − bare) / (theirs − bare): the budget row. */
  readonly ratio: number;
  readonly ratioQuartiles: readonly [number, number];
  /** oursCostMicros / theirsCostMicros (the ratio of the medians), beside it. */
  readonly ratioOfMedians: number;
  readonly failed: number;
}

/** What `--json` writes. */
export interface HttpReport {
  /** The budget figure (paired rounds in one process); absent in reports from before it. */
  readonly paired?: HttpPairedResult;
  readonly host: HostInfo;
  readonly concurrency: number;
  readonly requestsPerRound: number;
  readonly rounds: number;
  readonly warmup: number;
  readonly seconds: number;
  readonly variants: HttpVariantResult[];
  /** ours cost / theirs cost. */
  readonly ratio: number;
  /**
   * First and third quartiles of the per-round ratio (ours − bare) /
   * (theirs − bare): how far {@linkcode HttpReport.ratio} moves from round
   * to round.
   */
  readonly ratioQuartiles?: readonly [number, number];
  /** With SEED_HTTP_BASELINE: ours cost / baseline cost. */
  readonly oursOverBaseline?: number;
  /**
   * With SEED_HTTP_BASELINE: median over rounds of (ours − baseline) CPU
   * µs per request in the same round (negative: ours is cheaper), and its
   * first and third quartiles.
   */
  readonly oursMinusBaselineMicros?: number;
  readonly oursMinusBaselineQuartiles?: readonly [number, number];
}

interface Child {
  readonly variant: RunVariant;
  readonly url: string;
  stop(): Promise<void>;
}

const PROFILE_DIR = process.env.SEED_HTTP_PROFILE;
const BASELINE_DIR = process.env.SEED_HTTP_BASELINE;

function command(root?: string): { exec: string; args: string[] } {
  const child = root === undefined
    ? fileURLToPath(new URL("./_http_server.ts", import.meta.url))
    : `${root}/bench/_http_server.ts`;
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  if (g.Bun !== undefined) {
    const profile = PROFILE_DIR === undefined
      ? []
      : ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`];
    return { exec: process.execPath, args: [...profile, "run", child] };
  }
  if (g.Deno !== undefined) {
    return { exec: g.Deno.execPath(), args: ["run", "-A", child] };
  }
  throw new Error("bench/http_server.ts runs on Deno or Bun");
}

function start(variant: RunVariant): Promise<Child> {
  const { exec, args } = command(
    variant === "baseline" ? BASELINE_DIR : undefined,
  );
  const proc = spawn(
    exec,
    [...args, variant === "baseline" ? "ours" : variant],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    proc.on("exit", () => {
      exited = true;
      resolve();
    })
  );
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`${variant} server did not start in 20 s`)),
      20_000,
    );
    proc.on(
      "exit",
      (code) => reject(new Error(`${variant} server exited (${code})`)),
    );
    proc.stdout!.on("data", (chunk: Uint8Array) => {
      out += new TextDecoder().decode(chunk);
      const m = /port (\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve({
        variant,
        url: `http://127.0.0.1:${m[1]}`,
        stop: async () => {
          proc.stdin!.end();
          if (PROFILE_DIR !== undefined && !exited) {
            // Let it write its profile: it exits by itself once stopped.
            await Promise.race([
              gone,
              new Promise((r) => setTimeout(r, 20_000)),
            ]);
          }
          if (!exited) proc.kill();
        },
      });
    });
  });
}

const HEADERS = {
  "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  "user-agent": "seed-bench/1.0",
};

async function sample(child: Child): Promise<CpuSample> {
  const response = await fetch(`${child.url}/__cpu`);
  return await response.json() as CpuSample;
}

/**
 * Sends `n` requests to the server at `url`, CONCURRENCY at a time;
 * latencies (ms) go to `into`.
 */
export async function load(
  url: string,
  n: number,
  into: number[] | undefined,
): Promise<{ ms: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const t0 = performance.now();
      const response = await fetch(`${url}/users/${i % 1000}`, {
        headers: HEADERS,
      });
      await response.arrayBuffer();
      if (response.status !== 200) failed++;
      into?.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { ms: performance.now() - started, failed };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** First and third quartiles (linear between ranks). */
const quartiles = (xs: number[]): [number, number] => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => {
    if (s.length === 0) return NaN;
    const r = q * (s.length - 1);
    const lo = Math.floor(r);
    const hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (r - lo);
  };
  return [at(0.25), at(0.75)];
};
const round2 = (x: number): number => Math.round(x * 100) / 100;
const quantile = (sorted: number[], q: number): number =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * The servers' order in round `round`: rotated by one place every two
 * rounds, forward on even rounds and reversed on odd ones. Over 2n rounds
 * each of n servers takes every slot, after its forward neighbour in one
 * half and its backward one in the other, so the slot favours no server.
 * With forward and
 * reverse alone and four servers (SEED_HTTP_BASELINE), ours took only the
 * middle slots and baseline only the first and last, an asymmetry that
 * showed as a slot bias under load.
 */
export function slotOrder<T>(servers: readonly T[], round: number): T[] {
  const n = servers.length;
  const shift = (round >> 1) % n;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(servers[(i + shift) % n]);
  return round % 2 === 1 ? out.reverse() : out;
}

/** Requests per paired round per arm (about 0.1-0.2 s each here). */
const PAIRED_REQUESTS = 2000;
/** Paired rounds (fewer when PAIRED_BUDGET_MS runs out first, never under MIN_ROUNDS). */
const PAIRED_ROUNDS = 30;
const PAIRED_BUDGET_MS = 45_000;

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ")[0];
  } catch {
    return ""; // not Linux
  }
}

/**
 * The budget figure: bench/_http_server.ts `paired` (bare, ours, theirs in
 * one server process), CPU per request per arm in alternating rounds.
 */
export async function runPaired(): Promise<HttpPairedResult> {
  const began = performance.now();
  const loadBefore = loadAverage();
  const { exec, args } = command();
  const proc = spawn(exec, [...args, "paired"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const urls = await new Promise<Map<HttpVariant, string>>((ok, fail) => {
      let out = "";
      const timer = setTimeout(
        () => fail(new Error("paired server did not start in 20 s")),
        20_000,
      );
      proc.on(
        "exit",
        (code) => fail(new Error(`paired server exited (${code})`)),
      );
      proc.stdout!.on("data", (chunk: Uint8Array) => {
        out += new TextDecoder().decode(chunk);
        const m = /ports (\S+)\n/.exec(out);
        if (m === null) return;
        clearTimeout(timer);
        const map = new Map<HttpVariant, string>();
        for (const pair of m[1].split(",")) {
          const [arm, port] = pair.split("=");
          map.set(arm as HttpVariant, `http://127.0.0.1:${port}`);
        }
        ok(map);
      });
    });
    for (const v of VARIANTS) await load(urls.get(v)!, WARMUP, undefined);
    const cpu = new Map<HttpVariant, number[]>(VARIANTS.map((v) => [v, []]));
    let failed = 0;
    const start = performance.now();
    let rounds = 0;
    while (
      rounds < PAIRED_ROUNDS &&
      (rounds < MIN_ROUNDS || performance.now() - start < PAIRED_BUDGET_MS)
    ) {
      for (const v of slotOrder(VARIANTS, rounds)) {
        const url = urls.get(v)!;
        const before = await sampleUrl(url);
        failed += (await load(url, PAIRED_REQUESTS, undefined)).failed;
        const after = await sampleUrl(url);
        cpu.get(v)!.push(
          (after.cpuMicros - before.cpuMicros) / PAIRED_REQUESTS,
        );
      }
      rounds++;
    }
    const bare = cpu.get("bare")!;
    const cost = (v: HttpVariant) => cpu.get(v)!.map((x, i) => x - bare[i]);
    const ours = cost("ours");
    const theirs = cost("theirs");
    const ratios = ours.map((x, i) => x / theirs[i]);
    const r4 = (xs: number[]) => quartiles(xs).map(round2) as [number, number];
    return {
      rounds,
      requestsPerRound: PAIRED_REQUESTS,
      warmup: WARMUP,
      seconds: Math.round((performance.now() - began) / 100) / 10,
      loadBefore,
      loadAfter: loadAverage(),
      bareMicros: round2(median(bare)),
      oursCostMicros: round2(median(ours)),
      oursCostQuartiles: r4(ours),
      theirsCostMicros: round2(median(theirs)),
      theirsCostQuartiles: r4(theirs),
      ratio: median(ratios),
      ratioQuartiles: r4(ratios),
      ratioOfMedians: median(ours) / median(theirs),
      failed,
    };
  } finally {
    proc.stdin!.end();
    const timer = setTimeout(() => proc.kill(), 2000) as unknown as {
      unref?: () => void;
    };
    timer.unref?.();
  }
}

async function sampleUrl(url: string): Promise<CpuSample> {
  return await (await fetch(`${url}/__cpu`)).json() as CpuSample;
}

/** Runs the whole benchmark on this runtime. */
export async function runHttpBench(): Promise<HttpReport> {
  const paired = await runPaired();
  const began = performance.now();
  const children: Child[] = [];
  try {
    const variantsRun: RunVariant[] = BASELINE_DIR === undefined
      ? [...VARIANTS]
      : [...VARIANTS, "baseline"];
    for (const v of variantsRun) children.push(await start(v));
    for (const c of children) await load(c.url, WARMUP, undefined);
    const perRound = new Map<RunVariant, number[]>();
    const rps = new Map<RunVariant, number[]>();
    const latencies = new Map<RunVariant, number[]>();
    const failed = new Map<RunVariant, number>();
    for (const v of variantsRun) {
      perRound.set(v, []);
      rps.set(v, []);
      latencies.set(v, []);
      failed.set(v, 0);
    }
    const measureStart = performance.now();
    let rounds = 0;
    while (
      rounds < ROUNDS &&
      (rounds < MIN_ROUNDS ||
        performance.now() - measureStart < TIME_BUDGET_MS)
    ) {
      const order = slotOrder(children, rounds);
      for (const c of order) {
        const before = await sample(c);
        const run = await load(c.url, REQUESTS, latencies.get(c.variant));
        const after = await sample(c);
        perRound.get(c.variant)!.push(
          (after.cpuMicros - before.cpuMicros) / REQUESTS,
        );
        rps.get(c.variant)!.push(REQUESTS / (run.ms / 1000));
        failed.set(c.variant, failed.get(c.variant)! + run.failed);
      }
      rounds++;
    }
    const bare = perRound.get("bare")!;
    const variants: HttpVariantResult[] = [];
    for (const c of children) {
      const cpu = perRound.get(c.variant)!;
      const last = await sample(c);
      const sorted = latencies.get(c.variant)!.sort((a, b) => a - b);
      const paired = cpu.map((x, i) => x - bare[i]);
      const [q1, q3] = quartiles(paired);
      variants.push({
        variant: c.variant,
        cpuMicrosPerRequest: cpu.map(round2),
        cpuMicrosMedian: median(cpu),
        costMicros: c.variant === "bare" ? 0 : median(paired),
        costQuartiles: c.variant === "bare" ? [0, 0] : [round2(q1), round2(q3)],
        requestsPerSecond: median(rps.get(c.variant)!),
        p50Ms: quantile(sorted, 0.5),
        p99Ms: quantile(sorted, 0.99),
        requests: rounds * REQUESTS,
        failed: failed.get(c.variant)!,
        exportedSpans: last.exportedSpans,
        exportedLogs: last.exportedLogs,
        droppedSpans: last.droppedSpans,
        droppedLogs: last.droppedLogs,
      });
    }
    const ours = variants.find((v) => v.variant === "ours")!.costMicros;
    const theirs = variants.find((v) => v.variant === "theirs")!.costMicros;
    const baseline = variants.find((v) => v.variant === "baseline")
      ?.costMicros;
    const oursRounds = perRound.get("ours")!;
    const theirsRounds = perRound.get("theirs")!;
    const ratios = oursRounds.map((x, i) =>
      (x - bare[i]) / (theirsRounds[i] - bare[i])
    );
    const [r1, r3] = quartiles(ratios);
    const baselineRounds = perRound.get("baseline");
    const minusBaseline = baselineRounds?.map((x, i) => oursRounds[i] - x);
    return {
      paired,
      host: await hostInfo(),
      concurrency: CONCURRENCY,
      requestsPerRound: REQUESTS,
      rounds,
      warmup: WARMUP,
      seconds: Math.round((performance.now() - began) / 100) / 10,
      variants,
      ratio: ours / theirs,
      ratioQuartiles: [round2(r1), round2(r3)],
      ...(baseline === undefined ? {} : { oursOverBaseline: ours / baseline }),
      ...(minusBaseline === undefined ? {} : {
        oursMinusBaselineMicros: round2(median(minusBaseline)),
        oursMinusBaselineQuartiles: quartiles(minusBaseline).map(round2) as [
          number,
          number,
        ],
      }),
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

if (import.meta.main) {
  const i = process.argv.indexOf("--json");
  const out = i >= 0 ? process.argv[i + 1] : undefined;
  const report = await runHttpBench();
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(
    `${report.host.runtime} ${report.host.version}: ${report.rounds} rounds x ${report.requestsPerRound} requests, ${report.concurrency} in flight, ${report.seconds} s`,
  );
  for (const v of report.variants) {
    console.log(
      `${v.variant.padEnd(7)} cpu/request ${f(v.cpuMicrosMedian)} µs  cost ${
        f(v.costMicros)
      } µs [${f(v.costQuartiles![0])}–${f(v.costQuartiles![1])}]  ${
        f(v.requestsPerSecond, 0)
      } req/s  p50 ${f(v.p50Ms, 2)} ms  p99 ${
        f(v.p99Ms, 2)
      } ms  exported ${v.exportedSpans} spans ${v.exportedLogs} logs  failed ${v.failed}  rounds [${
        v.cpuMicrosPerRequest.join(", ")
      }]`,
    );
  }
  console.log(
    `three processes: ours cost / theirs cost: ${
      f(report.ratio, 2)
    }x, per-round quartiles ${f(report.ratioQuartiles![0], 2)}–${
      f(report.ratioQuartiles![1], 2)
    }x (not the budget figure: see paired)`,
  );
  const p = report.paired!;
  console.log(
    `paired (one server process, load ${p.loadBefore} -> ${p.loadAfter}): ${p.rounds} rounds x ${p.requestsPerRound}, ${p.seconds} s; bare ${
      f(p.bareMicros)
    } µs/request; ours cost ${f(p.oursCostMicros)} µs [${
      f(p.oursCostQuartiles[0])
    }–${f(p.oursCostQuartiles[1])}], theirs ${f(p.theirsCostMicros)} µs [${
      f(p.theirsCostQuartiles[0])
    }–${f(p.theirsCostQuartiles[1])}]; ours/theirs median per-round ratio ${
      f(p.ratio, 2)
    }x [${f(p.ratioQuartiles[0], 2)}–${
      f(p.ratioQuartiles[1], 2)
    }], ratio of medians ${f(p.ratioOfMedians, 2)}x (goal ≤ 0.33x)`,
  );
  if (report.oursOverBaseline !== undefined) {
    console.log(
      `ours cost / baseline's (${BASELINE_DIR}): ${
        f(report.oursOverBaseline, 2)
      }x; ours − baseline per round: median ${
        f(report.oursMinusBaselineMicros!, 2)
      } µs, quartiles ${f(report.oursMinusBaselineQuartiles![0], 2)}–${
        f(report.oursMinusBaselineQuartiles![1], 2)
      } µs`,
    );
  }
  if (out !== undefined) writeFileSync(out, JSON.stringify(report, null, 2));
  process.exit(0);
}
