// The enabled user_events encode (write faked) against the C program's
// encode of the same event, timed in ONE process in alternating short
// rounds: the C encode (bench/ue_encode_lib.c, bench/ue_emit.c's encode())
// runs through FFI between two rounds of the TypeScript processor.
//
//   cc -O2 -shared -fPIC -o bench/bin/libue_encode.so bench/ue_encode_lib.c
//   deno run -A bench/encode_vs_c.ts [--ms 4000] [--json out.json]
//   bun bench/encode_vs_c.ts [--ms 4000] [--json out.json]
//
// Why: this host's speed changes by up to 2x for seconds at a time, for C
// and TypeScript alike (the C encode runs at 44-48 or 70-83 ns per event,
// the replayed TypeScript one at 103-112 or 180-220 ns on Deno, in blocks of
// 0.1-3 s, with no compile, deopt or GC event in between). bench/report
// times the two minutes apart, so their ratio depends on which speed each
// met. Here each round's ratio pairs measurements a few milliseconds
// apart; the median of those ratios is the figure to read.

import { userEventsCases } from "./_cases.ts";
import { RECORD } from "./_fixtures.ts";

type Loop = (n: number) => number;

const isBun = "Bun" in globalThis;
const argv: string[] = isBun
  ? (globalThis as unknown as { process: { argv: string[] } }).process.argv
    .slice(2)
  : Deno.args;
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const ms = Number(arg("--ms") ?? 4000);
const json = arg("--json");
const lib = new URL("./bin/libue_encode.so", import.meta.url).pathname;

async function openC(): Promise<{ loop: Loop; setTime: (ms: number) => void }> {
  if (isBun) {
    const { dlopen, FFIType } = await import("bun:ffi");
    const { symbols } = dlopen(lib, {
      ue_encode_loop: { args: [FFIType.i32], returns: FFIType.f64 },
      ue_set_time_ms: { args: [FFIType.f64], returns: FFIType.void },
    });
    return {
      loop: symbols.ue_encode_loop as Loop,
      setTime: symbols.ue_set_time_ms as (ms: number) => void,
    };
  }
  const { symbols } = Deno.dlopen(lib, {
    ue_encode_loop: { parameters: ["i32"], result: "f64" },
    ue_set_time_ms: { parameters: ["f64"], result: "void" },
  });
  return {
    loop: symbols.ue_encode_loop as Loop,
    setTime: symbols.ue_set_time_ms as (ms: number) => void,
  };
}

let c: Awaited<ReturnType<typeof openC>>;
try {
  c = await openC();
} catch (e) {
  console.error(
    `cannot open ${lib} (${(e as Error).message}); build it first:\n` +
      "  cc -O2 -shared -fPIC -o bench/bin/libue_encode.so bench/ue_encode_lib.c",
  );
  throw e;
}
c.setTime(RECORD.timestamp as number);
const ts = (await userEventsCases()).find((x) =>
  x.name === "user-events/enabled/processor-onEmit-fake-write"
)!;

// Warm-up, then rounds of 5 alternating measurements; each arm's fastest.
for (let i = 0; i < 3000; i++) {
  ts.fn();
  c.loop(ts.ops);
}
const tsNs: number[] = [];
const cNs: number[] = [];
const started = performance.now();
while (performance.now() - started < ms) {
  let t = Infinity;
  let k = Infinity;
  for (let s = 0; s < 5; s++) {
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) ts.fn();
    t = Math.min(t, (performance.now() - t0) * 1e6 / (50 * ts.ops));
    k = Math.min(k, c.loop(5000));
  }
  tsNs.push(t);
  cNs.push(k);
}
const quantile = (v: readonly number[], f: number) =>
  v.slice().sort((a, b) => a - b)[Math.floor(f * (v.length - 1))];
const ratios = tsNs.map((t, i) => t / cNs[i]);
const runtime = isBun
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Deno ${Deno.version.deno}`;
const result = {
  runtime,
  rounds: ratios.length,
  tsNs: { min: quantile(tsNs, 0), p50: quantile(tsNs, 0.5) },
  cNs: { min: quantile(cNs, 0), p50: quantile(cNs, 0.5) },
  ratio: {
    p25: quantile(ratios, 0.25),
    p50: quantile(ratios, 0.5),
    p75: quantile(ratios, 0.75),
  },
};
console.log(
  `${runtime}, ${result.rounds} rounds: TypeScript ${
    result.tsNs.min.toFixed(1)
  } ns ` +
    `(median ${result.tsNs.p50.toFixed(1)}), C ${
      result.cNs.min.toFixed(1)
    } ns ` +
    `(median ${result.cNs.p50.toFixed(1)}); per-round ratio median ` +
    `${result.ratio.p50.toFixed(2)}x [${result.ratio.p25.toFixed(2)}-${
      result.ratio.p75.toFixed(2)
    }]`,
);
if (json !== undefined) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(json, JSON.stringify(result, null, 2) + "\n");
}
