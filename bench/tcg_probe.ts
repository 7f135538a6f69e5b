// What QEMU TCG (the user_events VM on this host, bench/kernel.sh) does to
// JIT-compiled JavaScript against C, part by part: three small loops timed
// against their C twins (bench/tcg_probe_lib.c) in ONE process, in
// alternating rounds (as bench/encode_vs_c.ts), once on the host and once in
// the VM, so that the two ratios of each part can be compared:
//
//   arith  xorshift32 rounds (registers only, no memory)
//   arith8 the same with 8 rounds per loop iteration (the loop's own work,
//          in JIT code its back-edge interrupt check, 1/8 as often)
//   copy   a 120-byte copy, one byte at a time with a running checksum
//          (a typed-array load and store per byte, as the encoders' string
//          copies)
//   ffi    one argument-free FFI call (probe_noop) from JavaScript, against
//          an indirect call of the same function from C
//
//   cc -O2 -shared -fPIC -o bench/bin/libtcg_probe.so bench/tcg_probe_lib.c
//   deno run -A bench/tcg_probe.ts [--ms 3000] [--json out.json]
//   bun bench/tcg_probe.ts    node --no-warnings --experimental-ffi bench/tcg_probe.ts
//   $SEED_SHARED/vm/run-in-vm.sh -t 900 -- ./node_modules/.bin/deno run -A --no-check bench/tcg_probe.ts
//
// Each round: 5 samples of each side, each side's fastest; the figure to
// read is the median of the per-round ratios JavaScript / C.

import { openCLoop } from "./_c_loop.ts";
import { quantile, ratioSpread } from "./_fixtures.ts";
import { argValue, runtimeLabel } from "./_cli.ts";

const ms = Number(argValue("--ms") ?? 3000);
const json = argValue("--json");
const lib = new URL("./bin/libtcg_probe.so", import.meta.url).pathname;

let sink = 0;

function arith(n: number): number {
  let x = 0x5eed;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  const t = performance.now() - t0;
  sink ^= x;
  return t * 1e6 / n;
}

function arith8(n: number): number {
  let x = 0x5eed;
  const t0 = performance.now();
  for (let i = 0; i < n; i += 8) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  const t = performance.now() - t0;
  sink ^= x;
  return t * 1e6 / n;
}

const SRC = new TextEncoder().encode(
  "user signed in/api/v1/sessions POST INFO bench 2026-12-04T18:57:51.123Z " +
    "0123456789abcdef0123456789abcdef0123456789abcdef01234",
);
const DST = new Uint8Array(128);

function copy(n: number): number {
  const src = SRC;
  const dst = DST;
  let sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 120; j++) {
      const c = src[j];
      sum = (Math.imul(sum, 31) + c) | 0;
      dst[j] = c;
    }
  }
  const t = performance.now() - t0;
  sink ^= sum;
  return t * 1e6 / n;
}

const arithC = await openCLoop(
  lib,
  "probe_arith_loop",
  "probe_set",
  "probe_dump",
);
const arith8C = await openCLoop(
  lib,
  "probe_arith8_loop",
  "probe_set",
  "probe_dump",
);
const copyC = await openCLoop(
  lib,
  "probe_copy_loop",
  "probe_set",
  "probe_dump",
  [
    "probe_noop",
  ],
);
const callC = await openCLoop(
  lib,
  "probe_call_loop",
  "probe_set",
  "probe_dump",
);
const noop = copyC.extra["probe_noop"];

function ffi(n: number): number {
  const f = noop;
  let s = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) s += f();
  const t = performance.now() - t0;
  sink ^= s;
  return t * 1e6 / n;
}

/** Each part: the JavaScript side, the C side, and the iterations per sample of each (about 0.3 ms on the host). */
const PARTS: [string, (n: number) => number, (n: number) => number, number][] =
  [
    ["arith", arith, arithC.loop, 200_000],
    ["arith8", arith8, arith8C.loop, 200_000],
    ["copy", copy, copyC.loop, 2_000],
    ["ffi", ffi, callC.loop, 20_000],
  ];

// Warm-up: every tier of each JavaScript loop (under TCG, seconds).
for (let w = 0; w < 300; w++) {
  for (const [, js, c, n] of PARTS) {
    js(n);
    c(n);
  }
}
const runtime = runtimeLabel();
const results: Record<string, unknown> = { runtime };
const f = (x: number) => x < 10 ? x.toFixed(2) : x.toFixed(1);
for (const [name, js, c, n] of PARTS) {
  const jsNs: number[] = [];
  const cNs: number[] = [];
  const started = performance.now();
  while (performance.now() - started < ms) {
    let a = Infinity;
    let b = Infinity;
    for (let s = 0; s < 5; s++) {
      a = Math.min(a, js(n));
      b = Math.min(b, c(n));
    }
    jsNs.push(a);
    cNs.push(b);
  }
  const ratio = ratioSpread(jsNs.map((x, i) => x / cNs[i]));
  results[name] = {
    jsNs: quantile(jsNs, 0.5),
    cNs: quantile(cNs, 0.5),
    rounds: jsNs.length,
    ratio,
  };
  console.log(
    `${runtime} ${name}: JS ${f(quantile(jsNs, 0.5))} ns, C ${
      f(quantile(cNs, 0.5))
    } ns (medians); per-round ratio median ${
      ratio.p50.toFixed(2)
    }x, quartiles ${ratio.p25.toFixed(2)}-${
      ratio.p75.toFixed(2)
    }, ${jsNs.length} rounds`,
  );
}
if (sink === 0.5) console.log(sink); // keeps the loops' results alive
if (json !== undefined) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(json, JSON.stringify(results, null, 2) + "\n");
}
