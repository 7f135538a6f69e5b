// Where Bun spends the enabled user_events emit, per JIT function and per
// machine instruction: runs the encode case (bench/_cases.ts
// user-events/enabled/processor-onEmit-fake-write, the write faked) in a
// child Bun with JSC's jitdump on under `perf record`, then charges every
// sample to the JIT code it landed in (named from the jitdump, as
// bench/http_perf.ts does) and, for one function, writes its code
// (the jitdump keeps the bytes) disassembled by objdump with the samples of
// each instruction beside it.
//
//   bun bench/ue_perf.ts [--secs 5] [--fn replayLogRecord] [--out annot.txt]
//
// Why: Bun's --cpu-prof stops at JavaScript functions, and the replay is one
// large function; this shows which checks inside it cost (session 30, Bun
// 1.4.5 on the AMD EPYC guest, 87 ns/emit: replayLogRecord 63%, #write with
// readRawLogRecord inlined 23%, the bench loop 4%; inside the replay no
// instruction above 2%, the time being spread over type, structure and
// typed-array length checks of each load). Samples skid: read a hot
// instruction as "the load just before it". Needs `perf` and objdump, and a
// kernel that lets this user sample its processes.

import process from "node:process";
import { spawnSync } from "node:child_process";
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
import { argValue, scriptArgs } from "./_cli.ts";

/** One JIT code range of a jitdump, with its machine code. */
interface JitCode {
  readonly address: bigint;
  readonly name: string;
  readonly code: Uint8Array;
}

/**
 * The JIT_CODE_LOAD records of a jitdump, newest last (see
 * bench/http_perf.ts readJitDump for the layout; the code bytes follow the
 * NUL-terminated name).
 *
 * @param bytes The file.
 * @returns The code ranges, in file order.
 */
function readCodes(bytes: Uint8Array): JitCode[] {
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
      const length = Number(view.getBigUint64(offset + 40, true));
      out.push({
        address: view.getBigUint64(offset + 24, true),
        name: new TextDecoder().decode(bytes.subarray(offset + 56, end)),
        code: bytes.slice(end + 1, end + 1 + length),
      });
    }
    offset += size;
  }
  return out;
}

/**
 * The code still in place at the end (JSC reuses the memory of code it
 * threw away): newest first, a range overlapping one kept is dropped.
 *
 * @param codes The loads, in file order.
 * @returns The ranges kept, by address.
 */
function latest(codes: readonly JitCode[]): JitCode[] {
  const kept: JitCode[] = [];
  for (let i = codes.length - 1; i >= 0; i--) {
    const c = codes[i];
    const end = c.address + BigInt(c.code.length);
    if (
      kept.every((k) =>
        end <= k.address || c.address >= k.address + BigInt(k.code.length)
      )
    ) kept.push(c);
  }
  return kept.sort((a, b) => (a.address < b.address ? -1 : 1));
}

/** The child: the encode case in a loop for `secs` seconds. */
async function child(secs: number): Promise<void> {
  const { userEventsCases } = await import("./_cases.ts");
  const name = "user-events/enabled/processor-onEmit-fake-write";
  const c = (await userEventsCases()).find((x) => x.name === name);
  if (c === undefined) throw new Error(`no ${name}`);
  const fn = c.fn as () => void;
  for (let i = 0; i < 3000; i++) fn(); // the JIT settles, as encode_vs_c.ts
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < secs * 1000) {
    for (let i = 0; i < 200; i++) fn();
    calls += 200;
  }
  const ns = (performance.now() - t0) * 1e6 / (calls * c.ops);
  console.log(`${ns.toFixed(1)} ns/emit over ${calls * c.ops} emits`);
}

async function main(): Promise<void> {
  if ((globalThis as { Bun?: unknown }).Bun === undefined) {
    console.error("bench/ue_perf.ts runs on Bun (JSC's jitdump)");
    process.exit(2);
  }
  const secs = Number(argValue("--secs") ?? 5);
  if (scriptArgs.includes("--child")) return await child(secs);
  const want = argValue("--fn") ?? "replayLogRecord";
  const outFile = argValue("--out") ?? "bench/bin/ue_perf_annot.txt";
  const dir = mkdtempSync(join(tmpdir(), "ue-perf-"));
  try {
    const data = join(dir, "perf.data");
    const script = fileURLToPath(import.meta.url);
    const rec = spawnSync("perf", [
      "record",
      "-k",
      "1",
      "-F",
      "4999",
      "-o",
      data,
      process.execPath,
      script,
      "--child",
      "--secs",
      String(secs),
    ], {
      encoding: "utf8",
      env: {
        ...process.env,
        BUN_JSC_useJITDump: "1",
        BUN_JSC_jitDumpDirectory: dir,
      },
    });
    process.stdout.write(rec.stdout);
    const dump = readdirSync(dir).find((f) => f.startsWith("jit-"));
    if (rec.status !== 0 || dump === undefined) {
      throw new Error(`perf record failed (${rec.status}): ${rec.stderr}`);
    }
    const codes = latest(
      readCodes(new Uint8Array(readFileSync(join(dir, dump)))),
    );
    const text = spawnSync("perf", ["script", "-i", data, "-F", "ip,sym"], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    }).stdout;
    const byName = new Map<string, number>();
    const byIp = new Map<string, number>();
    let total = 0;
    for (const line of text.split("\n")) {
      const m = /^\s*([0-9a-f]+)\s*(.*)$/.exec(line);
      if (m === null) continue;
      total++;
      const ip = BigInt(`0x${m[1]}`);
      let lo = 0;
      let hi = codes.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (codes[mid].address <= ip) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      let name = m[2].replace(/\+0x[0-9a-f]+$/, "") || "[unknown]";
      if (
        found >= 0 &&
        ip < codes[found].address + BigInt(codes[found].code.length)
      ) {
        name = codes[found].name;
        byIp.set(m[1], (byIp.get(m[1]) ?? 0) + 1);
      }
      byName.set(name, (byName.get(name) ?? 0) + 1);
    }
    const rows = [...byName].sort((a, b) => b[1] - a[1]).slice(0, 15);
    for (const [name, n] of rows) {
      console.log(`${(100 * n / total).toFixed(1).padStart(5)}%  ${name}`);
    }
    // The hottest tier of the function asked for (FTL before DFG).
    const target = codes.filter((c) => c.name.includes(want))
      .sort((a, b) => (byName.get(b.name) ?? 0) - (byName.get(a.name) ?? 0))[0];
    if (target === undefined) {
      console.log(`no JIT code named ${want}`);
      return;
    }
    const bin = join(dir, "code.bin");
    writeFileSync(bin, target.code);
    const dis = spawnSync("objdump", [
      "-D",
      "-b",
      "binary",
      "-mi386:x86-64",
      `--adjust-vma=0x${target.address.toString(16)}`,
      bin,
    ], { encoding: "utf8", maxBuffer: 1 << 28 }).stdout;
    const lines = dis.split("\n").map((line) => {
      const m = /^\s*([0-9a-f]+):/.exec(line);
      const n = m === null ? 0 : byIp.get(m[1]) ?? 0;
      return `${n === 0 ? "" : String(n)}`.padStart(6) + ` ${line}`;
    });
    writeFileSync(outFile, lines.join("\n") + "\n");
    console.log(
      `${target.name}: ${target.code.length} bytes, ${
        byName.get(target.name) ?? 0
      } samples; annotated disassembly in ${outFile}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
