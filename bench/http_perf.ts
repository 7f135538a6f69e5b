// Where a Bun server's CPU goes per request, native code included: runs one
// bench/_http_server.ts variant on Bun with JSC's jitdump on, loads it
// (bench/http_server.ts's load: 8 in flight, keep-alive), records it with
// `perf record -g` meanwhile, names the JIT code from the jitdump (written
// out as /tmp/perf-PID.map, which perf reads), and charges every sample to
// the innermost JavaScript frame on its stack, split by where the sample
// itself landed: in JIT code, in native code (bun's own, libc) or in the
// kernel. Samples with no JavaScript frame are charged to their thread
// ("no JS": uWS, GC, the event loop; other threads by name).
//
//   bun bench/http_perf.ts [bare|ours|theirs] [--requests N] [--top N]
//
// Why: Bun's --cpu-prof (bench/http_profile.ts) sees JavaScript frames only,
// and bun's binary has no symbols, so `perf report` alone shows most of a
// request as addresses; this says which JavaScript call they run under
// (session 29, ours on Bun 1.4.5: 1.6 µs of native time per request under
// begin(): the Headers object, server.requestIP's getpeername and the
// header reads; 1.5 µs in the batch export's encoders; 3.6 µs in no JS).
// Needs `perf` and a kernel that lets it sample this user's processes.
// Figures are µs per request of the recorded window, with perf's own
// overhead: compare variants recorded one after the other at the same
// load, never with bench/http_server.ts's CPU figures.

import process from "node:process";
import { spawn, spawnSync } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { load } from "./http_server.ts";

/** One JIT code range of a jitdump (JIT_CODE_LOAD records). */
interface JitCode {
  readonly address: bigint;
  readonly size: bigint;
  readonly name: string;
}

/**
 * Reads the JIT_CODE_LOAD records of a jitdump file (Linux perf's format:
 * a header of `total_size` bytes at offset 8, then records of id, size,
 * timestamp; a load record has pid, tid, vma, code address, code size,
 * code index, then the NUL-terminated name and the code).
 *
 * @param bytes The file.
 * @returns The code ranges, in file order.
 */
export function readJitDump(bytes: Uint8Array): JitCode[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: JitCode[] = [];
  let offset = view.getUint32(8, true);
  while (offset + 16 <= bytes.length) {
    const id = view.getUint32(offset, true);
    const size = view.getUint32(offset + 4, true);
    if (size === 0) break;
    if (id === 0 && offset + 56 <= bytes.length) {
      let end = offset + 56;
      while (end < bytes.length && bytes[end] !== 0) end++;
      out.push({
        address: view.getBigUint64(offset + 24, true),
        size: view.getBigUint64(offset + 40, true),
        name: new TextDecoder().decode(bytes.subarray(offset + 56, end)),
      });
    }
    offset += size;
  }
  return out;
}

/**
 * The code ranges still in place at the end: JSC reuses the memory of code
 * it threw away (a deoptimised or replaced tier), so a later load can cover
 * an earlier one's addresses, and a perf map with both would name samples
 * after code that was gone. Newest first, a range overlapping one kept is
 * dropped.
 *
 * @param codes The loads, in file (time) order.
 * @returns The ranges kept, by address.
 */
export function latestCode(codes: readonly JitCode[]): JitCode[] {
  const kept: JitCode[] = [];
  for (let i = codes.length - 1; i >= 0; i--) {
    const c = codes[i];
    const end = c.address + c.size;
    if (
      kept.every((k) => end <= k.address || c.address >= k.address + k.size)
    ) {
      kept.push(c);
    }
  }
  return kept.sort((a, b) => (a.address < b.address ? -1 : 1));
}

/** Per-request µs by (innermost JS frame, where the sample landed). */
export interface Attribution {
  readonly totalMicros: number;
  readonly byKind: Map<string, number>;
  readonly rows: { frame: string; kind: string; micros: number }[];
}

/**
 * Charges `perf script -F comm,ip,sym,dso,period` output to the innermost
 * JIT frame of each sample.
 *
 * @param script The perf script text.
 * @param requests Requests served in the recorded window.
 * @returns The figures, rows sorted by cost.
 */
export function attribute(script: string, requests: number): Attribution {
  const cost = new Map<string, number>();
  const byKind = new Map<string, number>();
  let total = 0;
  let comm = "";
  let period = 0;
  let frames: { sym: string; dso: string }[] | undefined;
  const flush = () => {
    if (frames === undefined || frames.length === 0) return;
    const js = frames.find((f) => f.sym.startsWith("JSC"));
    const leaf = frames[0];
    const kind = leaf.sym.startsWith("JSC")
      ? "jit"
      : leaf.dso.includes("kernel")
      ? "kernel"
      : "native";
    const frame = js !== undefined
      ? js.sym.replace(/#\w+$/, "")
      : `no JS (${comm})`;
    const key = `${kind}\u0000${frame}`;
    cost.set(key, (cost.get(key) ?? 0) + period);
    byKind.set(kind, (byKind.get(kind) ?? 0) + period);
    total += period;
  };
  for (const line of script.split("\n")) {
    if (line.trim() === "") {
      flush();
      frames = undefined;
    } else if (!line.startsWith("\t")) {
      const fields = line.trim().split(/\s+/);
      comm = fields[0];
      period = Number(fields[fields.length - 1]) || 0;
      frames = [];
    } else {
      const m = /^\s*(\S+)\s+(.*?)\s+\((.*)\)$/.exec(line);
      if (m === null || frames === undefined) continue;
      const sym = m[2] === "[unknown]" ? `0x${m[1]}` : m[2];
      frames.push({ sym, dso: m[3] });
    }
  }
  flush();
  // perf's period is in ns (cpu-clock).
  const per = (ns: number) => ns / 1000 / requests;
  const rows = [...cost].map(([key, ns]) => {
    const [kind, frame] = key.split("\u0000");
    return { frame, kind, micros: per(ns) };
  }).sort((a, b) => b.micros - a.micros);
  const kinds = new Map([...byKind].map(([k, ns]) => [k, per(ns)]));
  return { totalMicros: per(total), byKind: kinds, rows };
}

function argOf(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const g = globalThis as { Bun?: unknown };
  if (g.Bun === undefined) {
    console.error("bench/http_perf.ts runs on Bun (JSC's jitdump)");
    process.exit(2);
  }
  const variant =
    ["bare", "ours", "theirs"].find((v) => process.argv.includes(v)) ?? "ours";
  const requests = Number(argOf("--requests", "60000"));
  const top = Number(argOf("--top", "30"));
  const dumpDir = mkdtempSync(join(tmpdir(), "http-perf-"));
  const server = fileURLToPath(
    new URL("./_http_server.ts", import.meta.url),
  );
  const proc = spawn(process.execPath, ["run", server, variant], {
    stdio: ["pipe", "pipe", "inherit"],
    env: {
      ...process.env,
      BUN_JSC_useJITDump: "1",
      BUN_JSC_jitDumpDirectory: dumpDir,
    },
  });
  const pid = proc.pid!;
  const mapFile = `/tmp/perf-${pid}.map`;
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = "";
      proc.on("exit", (code) => fail(new Error(`server exited (${code})`)));
      proc.stdout!.on("data", (chunk: Uint8Array) => {
        out += new TextDecoder().decode(chunk);
        const m = /port (\d+)/.exec(out);
        if (m !== null) ok(`http://127.0.0.1:${m[1]}`);
      });
    });
    await load(url, 40_000, undefined); // the JIT settles (see http_server.ts WARMUP)
    const data = join(dumpDir, "perf.data");
    const perf = spawn("perf", [
      "record",
      "-k",
      "1",
      "-F",
      "2999",
      "-g",
      "-o",
      data,
      "-p",
      String(pid),
    ], { stdio: ["ignore", "ignore", "inherit"] });
    await new Promise((r) => setTimeout(r, 300));
    const { ms } = await load(url, requests, undefined);
    const done = new Promise((r) => perf.on("exit", r));
    perf.kill("SIGINT");
    await done;
    const dump = readdirSync(dumpDir).find((f) =>
      f.startsWith("jit-") && f.includes(String(pid))
    );
    if (dump === undefined) throw new Error(`no jitdump in ${dumpDir}`);
    const codes = latestCode(readJitDump(readFileSync(join(dumpDir, dump))));
    writeFileSync(
      mapFile,
      codes.map((c) =>
        `${c.address.toString(16)} ${c.size.toString(16)} ${c.name}\n`
      ).join(""),
    );
    const script = spawnSync("perf", [
      "script",
      "-i",
      data,
      "-F",
      "comm,ip,sym,dso,period",
    ], { encoding: "utf8", maxBuffer: 1 << 30 }).stdout;
    const a = attribute(script, requests);
    let load1 = "";
    try {
      load1 = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
    } catch {
      // not Linux
    }
    console.log(
      `${variant}: ${requests} requests in ${
        (ms / 1000).toFixed(1)
      } s, load ${load1}; ${a.totalMicros.toFixed(2)} µs/request sampled (${
        [...a.byKind].map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")
      }); ${codes.length} JIT code ranges`,
    );
    for (const row of a.rows.slice(0, top)) {
      console.log(
        `${row.micros.toFixed(3).padStart(7)} µs  ${
          row.kind.padEnd(6)
        }  ${row.frame}`,
      );
    }
  } finally {
    proc.stdin!.end();
    proc.kill();
    rmSync(dumpDir, { recursive: true, force: true });
    rmSync(mapFile, { force: true });
  }
  process.exit(0);
}

if (import.meta.main) await main();
