// The enabled ETW emit through the production FFI binding, paired old/new
// in ONE process against C: two trees' EtwProcessors (this one and
// OLD_ROOT, each a copySourceTree copy) over ffi/advapi32_deno.ts or
// ffi/advapi32_bun.ts opened on bench/etw_advapi32_stub.c (a Linux
// "advapi32.dll" found through LD_LIBRARY_PATH), and C's
// bench/etw_encode_lib.c etw_encode_loop, in alternating rounds (as
// bench/etw_floor.ts). Unlike encode_vs_c --case etw, whose JS recording
// binding the JIT inlines for free, each EventProviderEnabled and
// EventWriteTransfer here is a real JS-to-native call.
//
//   cc -O2 -shared -fPIC -o bench/bin/libetw_encode.so bench/etw_encode_lib.c
//   mkdir -p bench/bin/advapi32 && cc -O2 -shared -fPIC -o bench/bin/advapi32/advapi32.dll bench/etw_advapi32_stub.c
//   LD_LIBRARY_PATH=bench/bin/advapi32 OLD_ROOT=/tmp/old deno run -A bench/etw_ffi_ab.ts [--ms 4000]
//   LD_LIBRARY_PATH=bench/bin/advapi32 OLD_ROOT=/tmp/old bun bench/etw_ffi_ab.ts

import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { openCLoop } from "./_c_loop.ts";
import { copySourceTree, quantile, RECORD } from "./_fixtures.ts";

type Mod = typeof import("../mod.ts");
type EtwMod = typeof import("../processors/etw/mod.ts");
const proc = (globalThis as {
  process?: { env: Record<string, string | undefined>; argv: string[] };
}).process!;
const isBun = "Bun" in globalThis;
const argv: string[] = "Deno" in globalThis && !isBun
  ? Deno.args
  : proc.argv.slice(2);
const msArg = argv.indexOf("--ms");
const ms = msArg < 0 ? 4000 : Number(argv[msArg + 1]);
const oldRoot = proc.env.OLD_ROOT;
if (oldRoot === undefined) throw new Error("set OLD_ROOT to the old tree");
const OPS = 100;
const CALLS = 50;

/** `OPS` onEmits of RECORD by `root`'s EtwProcessor over its own FFI binding. */
async function arm(root: string, prefix: string) {
  const dir = copySourceTree(root, prefix);
  const load = <T>(path: string): Promise<T> =>
    import(pathToFileURL(join(dir, path)).href);
  const mod = await load<Mod>("mod.ts");
  const etw = await load<EtwMod>("processors/etw/mod.ts");
  const binding = isBun
    ? (await load<typeof import("../ffi/advapi32_bun.ts")>(
      "ffi/advapi32_bun.ts",
    )).openAdvapi32Bun()
    : (await load<typeof import("../ffi/advapi32_deno.ts")>(
      "ffi/advapi32_deno.ts",
    )).openAdvapi32Deno();
  const p = new etw.EtwProcessor(binding, {
    providerName: "Bench.Provider",
    diagnostics: () => {},
  });
  const context = new mod.LoggerProvider({
    env: () => undefined,
    resource: new mod.Resource({ "service.name": "bench" }),
    processors: [p],
  }).getLogger("bench").context;
  const record = RECORD;
  return {
    processor: p,
    run: () => {
      for (let i = 0; i < OPS; i++) p.onEmit(record, context);
    },
  };
}

const arms = [
  await arm(fileURLToPath(new URL("..", import.meta.url)), "etw-ffi-new-"),
  await arm(oldRoot, "etw-ffi-old-"),
];
const c = await openCLoop(
  new URL("./bin/libetw_encode.so", import.meta.url).pathname,
  "etw_encode_loop",
  "etw_set_time_ms",
  "etw_dump",
);
c.setTime(RECORD.timestamp as number);
for (let i = 0; i < 3000; i++) {
  for (const a of arms) a.run();
  c.loop(OPS);
}
const best: number[][] = [[], []];
const cBest: number[] = [];
const started = performance.now();
while (performance.now() - started < ms) {
  const t = [Infinity, Infinity];
  let k = Infinity;
  for (let s = 0; s < 5; s++) {
    const flip = (s + cBest.length) % 2 === 1;
    for (let jj = 0; jj < 2; jj++) {
      const j = flip ? 1 - jj : jj;
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) arms[j].run();
      t[j] = Math.min(t[j], (performance.now() - t0) * 1e6 / (CALLS * OPS));
      k = Math.min(k, c.loop(CALLS * OPS));
    }
  }
  best[0].push(t[0]);
  best[1].push(t[1]);
  cBest.push(k);
}
for (const a of arms) {
  if (a.processor.stats.written === 0) throw new Error("nothing written");
}
const f = (x: number, d = 2) => x.toFixed(d);
const toC = (j: number) => quantile(best[j].map((x, i) => x / cBest[i]), 0.5);
const ab = best[0].map((x, i) => x / best[1][i]);
const runtime = isBun
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Deno ${Deno.version.deno}`;
console.log(
  `${runtime} FFI binding, ${cBest.length} rounds: C ${
    f(quantile(cBest, 0), 1)
  } ns; new ${f(quantile(best[0], 0), 1)} ns (${f(toC(0))}x C), old ${
    f(quantile(best[1], 0), 1)
  } ns (${f(toC(1))}x C); new/old per round median ${
    f(quantile(ab, 0.5), 3)
  } [${f(quantile(ab, 0.25), 3)}-${f(quantile(ab, 0.75), 3)}]`,
);
