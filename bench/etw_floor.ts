// How close the enabled ETW emit can get to C in JS at all, and how far the
// EtwProcessor is from that: in ONE process, in alternating short rounds,
// the C TraceLogging encode of bench/_fixtures.ts RECORD
// (bench/etw_encode_lib.c etw_encode_loop, a counting EventWriteTransfer),
// the EtwProcessor through the recording advapi32 (bench/_fixtures.ts, the
// `--case etw` arm of bench/encode_vs_c.ts), optionally the EtwProcessor of
// another tree (OLD_ROOT, copied with copySourceTree), and the floor of
// bench/_etw_floor.ts in its variants: the least JS that writes the same
// bytes for exactly this event. Each arm's figure per round is its fastest
// of 5 samples, divided by C's fastest of the 5 C samples taken between them;
// the report gives each arm's per-round ratio quartiles.
//
// Before timing, the floor's event (through tests/etw/_fake_advapi32.ts) must
// equal C's etw_dump() and the EtwProcessor's, byte for byte (the utf16
// variant writes other bytes by design and is timed only).
//
//   cc -O2 -shared -fPIC -o bench/bin/libetw_encode.so bench/etw_encode_lib.c
//   deno run -A bench/etw_floor.ts [--floor memo] [--ms 6000]
//   bun bench/etw_floor.ts [--floor strict] [--ms 6000]
//   OLD_ROOT=/tmp/old deno run -A bench/etw_floor.ts   (adds an "old" arm)

import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { openCLoop } from "./_c_loop.ts";
import { etwFloor, type FloorOptions } from "./_etw_floor.ts";
import {
  copySourceTree,
  quantile,
  RECORD,
  recordingAdvapi32,
} from "./_fixtures.ts";
import type { Advapi32Binding } from "../ffi/advapi32.ts";
import * as here from "../mod.ts";
import { EtwProcessor } from "../processors/etw/mod.ts";
import {
  etwDumpLayout,
  FakeAdvapi32,
  hex,
} from "../tests/etw/_fake_advapi32.ts";
import { argValue, runtimeLabel } from "./_cli.ts";

type Mod = typeof import("../mod.ts");
type EtwMod = typeof import("../processors/etw/mod.ts");

const env = (globalThis as {
  process?: { env: Record<string, string | undefined> };
}).process!;
const ms = Number(argValue("--ms") ?? 6000);
const oldRoot = env.env.OLD_ROOT;
const silent = (): void => {};
const OPS = 100; // emits per call of an arm, as bench/_cases.ts ENABLED_OPS
const CALLS = 50; // calls per sample: 5000 emits, as encode_vs_c
const C_EVENTS = 5000;

function contextOf(mod: Mod, processor: here.LogRecordProcessor) {
  return new mod.LoggerProvider({
    env: () => undefined,
    resource: new mod.Resource({ "service.name": "bench" }),
    processors: [processor],
  }).getLogger("bench").context;
}

/** The EtwProcessor's onEmit of RECORD, `OPS` times, in `mod`'s module graph. */
function production(
  mod: Mod,
  etw: EtwMod,
  binding: Advapi32Binding,
): () => void {
  const p = new etw.EtwProcessor(binding, {
    providerName: "Bench.Provider",
    diagnostics: silent,
  });
  const context = contextOf(mod, p);
  const record = RECORD;
  return () => {
    for (let i = 0; i < OPS; i++) p.onEmit(record, context);
  };
}

function floor(options: FloorOptions, binding: Advapi32Binding): () => void {
  const emit = etwFloor(binding, options);
  const context = contextOf(
    here,
    new here.SimpleLogRecordProcessor(
      new here.InMemoryExporter(),
    ),
  );
  const record = RECORD;
  return () => {
    for (let i = 0; i < OPS; i++) emit(record, context);
  };
}

// --- bytes: floor = C = EtwProcessor
const c = await openCLoop(
  new URL("./bin/libetw_encode.so", import.meta.url).pathname,
  "etw_encode_loop",
  "etw_set_time_ms",
  "etw_dump",
).catch((e) => {
  console.error(
    "build it first: cc -O2 -shared -fPIC -o bench/bin/libetw_encode.so bench/etw_encode_lib.c",
  );
  throw e;
});
c.setTime(RECORD.timestamp as number);
const cOut = new Uint8Array(8192);
const cBytes = hex(cOut.subarray(0, c.dump(cOut, cOut.length)));
function dumped(emitTwice: (fake: FakeAdvapi32) => void): string {
  const fake = new FakeAdvapi32();
  fake.enabledAnswer = 1;
  emitTwice(fake);
  return hex(etwDumpLayout(fake.writes[fake.writes.length - 1]));
}
const oursBytes = dumped((fake) => {
  const p = new EtwProcessor(fake, {
    providerName: "Bench.Provider",
    diagnostics: silent,
  });
  const context = contextOf(here, p);
  p.onEmit(RECORD, context);
  p.onEmit(RECORD, context); // the replay
});
// One variant per process: the variants are closures of one function, whose
// optimised code and type feedback they would share (polymorphic calls).
const VARIANTS: Record<string, { options: FloorOptions; compare: boolean }> = {
  "strict": { options: {}, compare: true },
  "strict+enabled": { options: { enabledCall: true }, compare: true },
  "memo": { options: { memo: true }, compare: true },
  "memo+enabled": { options: { memo: true, enabledCall: true }, compare: true },
  "memo+enabled+keys": {
    options: { memo: true, enabledCall: true, keys: true },
    compare: true,
  },
  "utf16": { options: { utf16: true }, compare: false },
};
const variant = argValue("--floor") ?? "memo";
if (VARIANTS[variant] === undefined) {
  throw new Error(
    `--floor ${variant}: expected one of ${Object.keys(VARIANTS).join(", ")}`,
  );
}
const ARMS = [{ name: `floor ${variant}`, ...VARIANTS[variant] }];
for (const a of ARMS) {
  if (!a.compare) continue;
  const floorBytes = dumped((fake) => {
    const emit = etwFloor(fake, a.options);
    const context = contextOf(
      here,
      new here.SimpleLogRecordProcessor(
        new here.InMemoryExporter(),
      ),
    );
    emit(RECORD, context);
    emit(RECORD, context);
  });
  for (const [who, theirs] of [["C", cBytes], ["EtwProcessor", oursBytes]]) {
    if (floorBytes !== theirs) {
      throw new Error(
        `${a.name}: its event differs from ${who}'s\n  floor ${floorBytes}\n  ${who} ${theirs}`,
      );
    }
  }
}

// --- arms
// Each EtwProcessor arm runs in its own copy of its tree: the bytes check
// above ran this graph's EtwProcessor with FakeAdvapi32, and a second binding
// class makes its binding calls polymorphic (an A/A run of this graph against
// a copy of it: 1.07-1.09x on Deno).
async function loadTree(root: string, prefix: string) {
  const dir = copySourceTree(root, prefix);
  const mod: Mod = await import(pathToFileURL(join(dir, "mod.ts")).href);
  const etw: EtwMod = await import(
    pathToFileURL(join(dir, "processors/etw/mod.ts")).href
  );
  return production(mod, etw, recordingAdvapi32());
}
const arms: { name: string; run: () => void }[] = [
  {
    name: "ours",
    run: await loadTree(
      fileURLToPath(new URL("..", import.meta.url)),
      "etw-floor-new-",
    ),
  },
];
if (oldRoot !== undefined) {
  arms.push({ name: "old", run: await loadTree(oldRoot, "etw-floor-old-") });
}
for (const a of ARMS) {
  arms.push({ name: a.name, run: floor(a.options ?? {}, recordingAdvapi32()) });
}

for (let i = 0; i < 3000; i++) {
  for (const a of arms) a.run();
  c.loop(OPS);
}
const ratios: number[][] = arms.map(() => []);
const best: number[][] = arms.map(() => []);
const cBest: number[] = [];
const started = performance.now();
while (performance.now() - started < ms) {
  const t = arms.map(() => Infinity);
  let k = Infinity;
  for (let s = 0; s < 5; s++) {
    // The arms' order alternates, so that none always follows the same one.
    const flip = (s + cBest.length) % 2 === 1;
    for (let jj = 0; jj < arms.length; jj++) {
      const j = flip ? arms.length - 1 - jj : jj;
      const run = arms[j].run;
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) run();
      t[j] = Math.min(t[j], (performance.now() - t0) * 1e6 / (CALLS * OPS));
      k = Math.min(k, c.loop(C_EVENTS));
    }
  }
  cBest.push(k);
  for (let j = 0; j < arms.length; j++) {
    best[j].push(t[j]);
    ratios[j].push(t[j] / k);
  }
}
const runtime = runtimeLabel();
const f = (x: number, d = 2) => x.toFixed(d);
console.log(
  `${runtime}, ${cBest.length} rounds, C ${
    f(quantile(cBest, 0), 1)
  } ns (median ${
    f(quantile(cBest, 0.5), 1)
  }); per arm: min ns, per-round ratio to C median [quartiles]`,
);
for (let j = 0; j < arms.length; j++) {
  console.log(
    `  ${arms[j].name.padEnd(20)} ${
      f(quantile(best[j], 0), 1).padStart(6)
    } ns  ${f(quantile(ratios[j], 0.5))}x [${f(quantile(ratios[j], 0.25))}-${
      f(quantile(ratios[j], 0.75))
    }]`,
  );
}
if (oldRoot !== undefined) {
  const ab = best[0].map((x, i) => x / best[1][i]);
  console.log(
    `  ours/old per round: median ${f(quantile(ab, 0.5), 3)} [${
      f(quantile(ab, 0.25), 3)
    }-${f(quantile(ab, 0.75), 3)}]`,
  );
}
