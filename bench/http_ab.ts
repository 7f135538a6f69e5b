// The request instrumentation, an old tree against this one, served by ONE
// server process: bench/_http_server.ts's Hono app built by each tree
// ("old" and "new", both the `ours` variant) and by this tree as `bare`
// (and, with --theirs, as `theirs`: @hono/otel + sdk-trace), each on its
// own Bun.serve / Deno.serve port. This process is the load generator
// (same runtime): per round it loads each server in turn with the same
// bounded loopback load (8 in flight, keep-alive fetch) and reads the
// server process's CPU time (process.cpuUsage, user + system) before and
// after, both pipelines flushed, so a round's figure includes exporting
// its spans and logs. The order rotates as bench/http_server.ts's does
// (slotOrder).
//
// Why one server process (bench/http_server.ts with SEED_HTTP_BASELINE runs
// one per variant): there, two identical servers can differ 3-5x round
// after round under load (a per-process effect, its header says). Here the
// variants share one heap, one JIT and one scheduler's luck, and a round's
// pair is a few hundred ms apart; what differs is only the module graph.
// The price: one variant's garbage can be collected in another's round (the
// median over many rounds drops most of it), and Hono's own code sees every
// variant's middleware.
//
//   deno run -A bench/http_ab.ts --old DIR [--new DIR] [--rounds 30] [--requests 1000] [--theirs] [--part P]
//   bun bench/http_ab.ts --old DIR [...]
//
// DIR is another checkout (e.g. `git worktree add --detach /tmp/old main`);
// its sources are copied (copySourceTree) beside this tree's node_modules,
// so an A/A run (`--old .`, or `--old DIR --new DIR`) loads two module
// graphs of one commit: run it first, a difference within its spread means
// nothing. Prints per arm the median CPU µs per request and the cost over
// bare (paired per round), and new/old: the median of the per-round ratios
// (new − bare) / (old − bare) with quartiles, and the median of the
// per-round (new − old) in µs with quartiles.
//
// What a piece of ours costs: `--part no-log|no-encode|middleware|floor`
// serves the new tree's ours with that piece taken out, or only the floor
// under it (bench/_http_server.ts's HttpPart says what each is), while the
// old arm stays whole: `--old DIR --new DIR --part floor` pairs all of a
// tree's ours with the floor under it, in the same rounds.

import process from "node:process";
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { copySourceTree, quantile } from "./_fixtures.ts";
import { CONCURRENCY, load, slotOrder } from "./http_server.ts";
import {
  type CpuSample,
  HTTP_PARTS,
  type HttpPart,
  type HttpVariant,
} from "./_http_server.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");

function argv(): string[] {
  const g = globalThis as { Deno?: { args: string[] } };
  return g.Deno?.args ?? process.argv.slice(2);
}
function arg(name: string): string | undefined {
  const a = argv();
  const i = a.indexOf(name);
  return i >= 0 ? a[i + 1] : undefined;
}

/** Copies a tree's sources next to this tree's node_modules and manifests. */
function copyTree(root: string, prefix: string): string {
  const dir = copySourceTree(root, prefix);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  for (const f of ["deno.json", "package.json"]) {
    copyFileSync(join(ROOT, f), join(dir, f));
  }
  return dir;
}

// ---- server side (--serve): every arm in this one process ----

type Arm = "bare" | "old" | "new" | "theirs";

interface ServeLike {
  Bun?: {
    serve(options: Record<string, unknown>): { port: number };
  };
  Deno?: {
    serve(
      options: Record<string, unknown>,
      handler: (request: Request, info: unknown) => unknown,
    ): { addr: { port: number } };
  };
}

async function serve(): Promise<void> {
  const oldDir = arg("--old-copy")!;
  const newDir = arg("--new-copy")!;
  const withTheirs = argv().includes("--theirs");
  const part = arg("--part") as HttpPart | undefined;
  type Build = (v: HttpVariant, part?: HttpPart) => {
    fetch: (request: Request, info: unknown) => unknown;
  };
  const load = async (dir: string): Promise<Build> =>
    (await import(
      pathToFileURL(join(dir, "bench/_http_server.ts")).href
    )).build as Build;
  const buildOld = await load(oldDir);
  const buildNew = await load(newDir);
  const arms: [Arm, (request: Request, info: unknown) => unknown][] = [
    ["bare", buildNew("bare").fetch],
    ["old", buildOld("ours").fetch],
    ["new", buildNew("ours", part).fetch],
  ];
  if (withTheirs) arms.push(["theirs", buildNew("theirs").fetch]);
  // Bytes allocated so far (V8's counter: Deno; Bun's node:v8 shim reads 0).
  const v8 = await import("node:v8");
  const allocated = (): number =>
    (v8.getHeapStatistics() as { total_allocated_bytes?: number })
      .total_allocated_bytes ?? 0;
  const g = globalThis as ServeLike;
  const ports: string[] = [];
  for (const [arm, armFetch] of arms) {
    // GET /__stats: the arm's /__cpu (its pipelines flushed first) plus the
    // process's allocated bytes, read after the flush.
    const fetch = async (request: Request, info: unknown) => {
      if (!request.url.endsWith("/__stats")) return armFetch(request, info);
      const cpu = await (armFetch(
        new Request(request.url.replace("/__stats", "/__cpu")),
        info,
      ) as Promise<Response>);
      const sample = await cpu.json() as CpuSample;
      return Response.json({ ...sample, allocatedBytes: allocated() });
    };
    let port: number;
    if (g.Bun !== undefined) {
      port = g.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch }).port;
    } else {
      port = g.Deno!.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        fetch,
      ).addr.port;
    }
    ports.push(`${arm}=${port}`);
  }
  process.stdout.write(`ports ${ports.join(",")}\n`);
  const stop = () => process.exit(0);
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}

// ---- load side ----

type Stats = CpuSample & { allocatedBytes: number };

async function sample(url: string): Promise<Stats> {
  return await (await fetch(`${url}/__stats`)).json() as Stats;
}

const q = (xs: readonly number[], p: number) => quantile([...xs], p);
const f = (x: number, d = 2) => x.toFixed(d);

async function main(): Promise<void> {
  const oldRoot = arg("--old");
  if (oldRoot === undefined) {
    console.error(
      "usage: http_ab.ts --old DIR [--new DIR] [--rounds N] [--requests N] [--warmup N] [--theirs] [--part P]",
    );
    process.exit(2);
  }
  const rounds = Number(arg("--rounds") ?? 30);
  const requests = Number(arg("--requests") ?? 1000);
  const warmup = Number(arg("--warmup") ?? 20_000);
  const withTheirs = argv().includes("--theirs");
  const part = arg("--part");
  if (part !== undefined && !HTTP_PARTS.includes(part as HttpPart)) {
    console.error(`--part: expected one of ${HTTP_PARTS.join(", ")}`);
    process.exit(2);
  }
  const oldCopy = copyTree(resolve(oldRoot), "http-ab-old-");
  const newCopy = copyTree(resolve(arg("--new") ?? ROOT), "http-ab-new-");
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  const self = fileURLToPath(import.meta.url);
  const childArgs = [
    "--serve",
    "--old-copy",
    oldCopy,
    "--new-copy",
    newCopy,
    ...(withTheirs ? ["--theirs"] : []),
    ...(part !== undefined ? ["--part", part] : []),
  ];
  const proc = g.Bun !== undefined
    ? spawn(process.execPath, ["run", self, ...childArgs], {
      stdio: ["pipe", "pipe", "inherit"],
    })
    : spawn(g.Deno!.execPath(), ["run", "-A", self, ...childArgs], {
      stdio: ["pipe", "pipe", "inherit"],
    });
  try {
    const urls = await new Promise<Map<Arm, string>>((ok, fail) => {
      let out = "";
      proc.on("exit", (code) => fail(new Error(`server exited (${code})`)));
      proc.stdout!.on("data", (chunk: Uint8Array) => {
        out += new TextDecoder().decode(chunk);
        const m = /ports (\S+)\n/.exec(out);
        if (m === null) return;
        const map = new Map<Arm, string>();
        for (const pair of m[1].split(",")) {
          const [arm, port] = pair.split("=");
          map.set(arm as Arm, `http://127.0.0.1:${port}`);
        }
        ok(map);
      });
    });
    const arms = [...urls.keys()];
    for (const arm of arms) await load(urls.get(arm)!, warmup, undefined);
    const cpu = new Map<Arm, number[]>(arms.map((a) => [a, []]));
    const bytes = new Map<Arm, number[]>(arms.map((a) => [a, []]));
    let failed = 0;
    const began = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const arm of slotOrder(arms, r)) {
        const url = urls.get(arm)!;
        const before = await sample(url);
        failed += (await load(url, requests, undefined)).failed;
        const after = await sample(url);
        cpu.get(arm)!.push((after.cpuMicros - before.cpuMicros) / requests);
        bytes.get(arm)!.push(
          (after.allocatedBytes - before.allocatedBytes) / requests,
        );
      }
    }
    const last = new Map<Arm, Stats>();
    for (const arm of arms) last.set(arm, await sample(urls.get(arm)!));
    const bare = cpu.get("bare")!;
    const cost = (arm: Arm) => cpu.get(arm)!.map((x, i) => x - bare[i]);
    const runtime = g.Bun !== undefined
      ? `bun ${
        (globalThis as unknown as { Bun: { version: string } }).Bun.version
      }`
      : `deno ${
        (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno
          .version.deno
      }`;
    let load1 = "";
    try {
      load1 = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
    } catch {
      // not Linux
    }
    console.log(
      `${runtime}: ${rounds} rounds x ${requests} requests per arm, ${CONCURRENCY} in flight, ${warmup} warm-up each, ${
        f((performance.now() - began) / 1000, 1)
      } s, load ${load1}, failed ${failed}`,
    );
    console.log(
      `old ${oldRoot}  new ${arg("--new") ?? ROOT}${
        part === undefined ? "" : ` (part: ${part})`
      }`,
    );
    for (const arm of arms) {
      const c = cost(arm);
      const s = last.get(arm)!;
      console.log(
        `${arm.padEnd(6)} cpu/request ${f(q(cpu.get(arm)!, 0.5), 1)} µs` +
          (arm === "bare"
            ? ""
            : `  cost ${f(q(c, 0.5), 1)} µs [${f(q(c, 0.25), 1)}–${
              f(q(c, 0.75), 1)
            }]`) +
          (q(bytes.get(arm)!, 0.5) > 0
            ? `  ${f(q(bytes.get(arm)!, 0.5) / 1024)} KB allocated/request`
            : "") +
          `  exported ${s.exportedSpans} spans ${s.exportedLogs} logs, dropped ${s.droppedSpans}/${s.droppedLogs}`,
      );
    }
    const oldC = cost("old");
    const newC = cost("new");
    const ratios = newC.map((x, i) => x / oldC[i]);
    const diffs = newC.map((x, i) => x - oldC[i]);
    console.log(
      `new/old cost: median per-round ratio ${f(q(ratios, 0.5))}x [${
        f(q(ratios, 0.25))
      }–${f(q(ratios, 0.75))}]; ratio of median costs ${
        f(q(newC, 0.5) / q(oldC, 0.5))
      }x; new − old ${f(q(diffs, 0.5))} µs [${f(q(diffs, 0.25))}–${
        f(q(diffs, 0.75))
      }]`,
    );
    if (withTheirs) {
      const th = cost("theirs");
      for (const arm of ["old", "new"] as const) {
        const c = cost(arm);
        const r = c.map((x, i) => x / th[i]);
        console.log(
          `${arm}/theirs cost: median per-round ratio ${f(q(r, 0.5))}x [${
            f(q(r, 0.25))
          }–${f(q(r, 0.75))}]`,
        );
      }
    }
  } finally {
    proc.stdin!.end();
    setTimeout(() => proc.kill(), 2000);
    for (const d of [oldCopy, newCopy]) {
      if (existsSync(d)) rmSync(d, { recursive: true, force: true });
    }
  }
  process.exit(0);
}

if (import.meta.main) {
  if (argv().includes("--serve")) await serve();
  else await main();
}
