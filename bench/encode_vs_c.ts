// Our enabled emit against C doing the same work, timed in ONE process in
// alternating short rounds: the C side, a function of a shared library
// called through FFI once per round of 5000 events, runs between two rounds
// of the TypeScript processor. Three pairings (--case):
//
//   encode  the UserEventsProcessor with its write faked (FakeLibc) against
//           bench/ue_emit.c's encode() (bench/ue_encode_lib.c ue_encode_loop)
//   devnull the UserEventsProcessor with the real FFI write(2) to /dev/null
//           (DevNullLibc) against the same encode + write(2) to /dev/null in
//           C (ue_devnull_loop, what `ue_emit --devnull` does per event)
//   kernel  in the user_events VM only (bench/kernel.sh): the processor
//           opened on the real kernel (openUserEventsProcessor, libc FFI
//           write(2) to user_events_data, bench_L4K1 enabled through
//           tracefs) against bench/ue_emit.c's kernel loop in the same
//           process (ue_kernel_loop: its own registration of bench_L4K1,
//           enable word, encode, write(2)), 1000 events per measurement
//   etw     the EtwProcessor through the bench's recording advapi32 (the
//           call into the OS counts) against a C TraceLogging encode of the
//           same event calling a counting EventWriteTransfer
//           (bench/etw_encode_lib.c etw_encode_loop)
//
// Before timing, each case checks that the C bytes equal ours: the
// user_events event after its write index (FakeLibc keepLast against
// ue_dump), or the EVENT_DESCRIPTOR and the three data descriptors' bytes
// (tests/etw/_fake_advapi32.ts against etw_dump).
//
//   cc -O2 -shared -fPIC -o bench/bin/libue_encode.so bench/ue_encode_lib.c
//   cc -O2 -shared -fPIC -o bench/bin/libetw_encode.so bench/etw_encode_lib.c
//   deno run -A bench/encode_vs_c.ts [--case encode|devnull|kernel|etw] [--ms 4000] [--warmup 3000] [--json out.json]
//   bun bench/encode_vs_c.ts [...]
//   node --no-warnings --experimental-ffi bench/encode_vs_c.ts [...]
//   OLD_ROOT=/tmp/old deno run -A bench/encode_vs_c.ts --case encode
//     (encode, devnull, etw: adds the same case from a copy of another tree,
//     timed in the same rounds; prints its ratio to C and new/old per round)
//   ... --case encode --vary-time   (or --case etw --vary-time)
//     (each record 1 ms after the last one, so that no time memo of the
//     replay holds from one event to the next; C keeps its fixed time, so
//     read new/old, not the ratio to C)
//
// Why: this host's speed changes by up to 2x for seconds at a time, for C
// and TypeScript alike (the C encode runs at 44-48 or 70-83 ns per event,
// the replayed TypeScript one at 103-112 or 180-220 ns on Deno, in blocks of
// 0.1-3 s, with no compile, deopt or GC event in between). Timing the two
// minutes apart makes their ratio depend on which speed each met (the ETW
// and host-proxy rows swung 1.1x-4.2x between runs). Here each round's ratio
// pairs measurements a few milliseconds apart; the median of those ratios
// is the figure to read, with their spread. In the VM (QEMU TCG, on the
// same noisy host, slowed 5-20x) this matters more, not less: bench/kernel.sh
// used to time C and each runtime in separate processes, up to minutes
// apart, and divide their medians.
//
// Warm-up: --warmup calls of each side before timing (default 3000, that is
// 300,000 TypeScript events). Under TCG the JIT tiers take seconds to reach
// (Deno's fake-write replay ran at 2.97 us/event in its first 2 s in the
// VM, 2.0 us after), so a warm-up counted in calls, not in milliseconds,
// reaches the same code there as on the host.

import { etwCases, userEventsCases } from "./_cases.ts";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { copySourceTree, quantile, ratioSpread, RECORD } from "./_fixtures.ts";
import { LoggerProvider, type LogRecordProcessor, Resource } from "../mod.ts";
import type { UserEventsProcessor } from "../processors/user_events/mod.ts";
import { hex } from "../tests/etw/_fake_advapi32.ts";
import { type Dump, type Loop, openCLoop } from "./_c_loop.ts";
import { argValue, runtimeLabel, scriptArgs } from "./_cli.ts";

/** One pairing: which case, which library, and how to check its bytes. */
interface Pairing {
  /** The TypeScript case (bench/_cases.ts) timed against C. */
  readonly tsCase: string;
  readonly build: () => Promise<
    { name: string; ops: number; fn: () => void | Promise<void> }[]
  >;
  readonly lib: string;
  readonly loop: string;
  readonly setTime: string;
  readonly dump: string;
  /** Our bytes of one event, in the dump function's layout. */
  readonly ours: () => Promise<Uint8Array>;
  /** Bytes at the start of both sides left out of the comparison. */
  readonly skip: number;
  /**
   * Events per measurement, each side: one FFI call on the C side (its cost
   * spread over them), about half a millisecond of TypeScript, so that the
   * two measurements of a pair stay close in time.
   */
  readonly events: number;
  /** C functions that register the event and report its enable bit (kernel). */
  readonly kernel?: { open: string; enabled: string };
}

const ms = Number(argValue("--ms") ?? 4000);
const json = argValue("--json");
const which = argValue("--case") ?? "encode";
const warmup = Number(argValue("--warmup") ?? 3000);
const varyTime = scriptArgs.includes("--vary-time");
const binDir = new URL("./bin/", import.meta.url).pathname;
const oldRoot = (globalThis as {
  process?: { env: Record<string, string | undefined> };
}).process?.env.OLD_ROOT;

const silent = (): void => {};
type Mod = typeof import("../mod.ts");
/** A logger over `processor`, from `m`: this graph's mod.ts or a copy's. */
const provider = (
  m: Pick<Mod, "LoggerProvider" | "Resource">,
  processor: LogRecordProcessor,
) =>
  new m.LoggerProvider({
    env: () => undefined,
    resource: new m.Resource({ "service.name": "bench" }),
    processors: [processor],
  }).getLogger("bench");

/**
 * A loader of modules (paths relative to this tree's root) from a fresh copy
 * of this tree that also holds `extra` (copySourceTree's extra files): the
 * byte checks build their processors there, so that this graph's timed
 * processor meets one binding class.
 */
function treeCopy(
  prefix: string,
  extra: string[],
): <T>(path: string) => Promise<T> {
  const dir = copySourceTree(
    fileURLToPath(new URL("..", import.meta.url)),
    prefix,
    extra,
  );
  return (path) => import(pathToFileURL(join(dir, path)).href);
}

/**
 * The encode case's processor from a tree (through `load`): a
 * UserEventsProcessor over an enabled FakeLibc, with its logger's context.
 */
async function fakeWriteProcessor(load: <T>(path: string) => Promise<T>) {
  const mod = await load<Mod>("mod.ts");
  const ue = await load<typeof import("../processors/user_events/mod.ts")>(
    "processors/user_events/mod.ts",
  );
  const fakes = await load<typeof import("./_fake_libc.ts")>(
    "bench/_fake_libc.ts",
  );
  const fake = new fakes.FakeLibc();
  const p = new ue.UserEventsProcessor(fake, {
    providerName: "bench",
    diagnostics: silent,
  });
  fake.setEnabled(true);
  return { fake, p, context: provider(mod, p).context };
}

/**
 * Our user_events bytes of RECORD (write index included), FakeLibc keepLast,
 * made in a copy of this tree as etwBytes() does: a FakeLibc processor in
 * this graph would make the timed processor's libc calls see two binding
 * classes (DevNullLibc or the real libc binding, and FakeLibc) in the
 * devnull and kernel cases.
 */
async function userEventsBytes(): Promise<Uint8Array> {
  const { fake, p, context } = await fakeWriteProcessor(
    treeCopy("ue-bytes-", ["bench/_fake_libc.ts"]),
  );
  fake.keepLast = true;
  p.onEmit(RECORD, context); // the full encoder
  p.onEmit(RECORD, context); // the replay, which the bench times
  return fake.last!;
}

/**
 * Our ETW call for RECORD, serialized as etw_dump() does, made in a copy of
 * this tree: FakeAdvapi32 in this graph's EtwProcessor would make the timed
 * arm's binding calls polymorphic (two binding classes; 1.04-1.09x on Deno
 * in bench/etw_floor.ts's A/A runs).
 */
async function etwBytes(): Promise<Uint8Array> {
  const load = treeCopy("etw-bytes-", ["tests/etw/_fake_advapi32.ts"]);
  const mod = await load<Mod>("mod.ts");
  const etw = await load<typeof import("../processors/etw/mod.ts")>(
    "processors/etw/mod.ts",
  );
  const fakes = await load<typeof import("../tests/etw/_fake_advapi32.ts")>(
    "tests/etw/_fake_advapi32.ts",
  );
  const fake = new fakes.FakeAdvapi32();
  fake.enabledAnswer = 1;
  const p = new etw.EtwProcessor(fake, {
    providerName: "Bench.Provider",
    diagnostics: silent,
  });
  const context = provider(mod, p).context;
  p.onEmit(RECORD, context);
  p.onEmit(RECORD, context); // the replay, which the bench times
  return fakes.etwDumpLayout(fake.writes[fake.writes.length - 1]);
}

const ue = (tsCase: string, loop: string, events: number): Pairing => ({
  tsCase,
  build: userEventsCases,
  lib: `${binDir}libue_encode.so`,
  loop,
  setTime: "ue_set_time_ms",
  dump: "ue_dump",
  ours: userEventsBytes,
  skip: 4, // the write index (the kernel's, per registration)
  events,
});
/** The kernel case's processor, for its write counts after the run. */
let kernelProcessor: UserEventsProcessor | undefined;
const ENABLE = "/sys/kernel/tracing/events/user_events/bench_L4K1/enable";
/**
 * The kernel case's TypeScript side: the processor on the real kernel, the
 * event enabled through tracefs (which also sets C's registration's bit).
 */
async function kernelCases(): Promise<
  { name: string; ops: number; fn: () => void }[]
> {
  const { openUserEventsProcessor } = await import(
    "../processors/user_events/mod.ts"
  );
  const { writeFileSync } = await import("node:fs");
  const processor = await openUserEventsProcessor({
    providerName: "bench",
    diagnostics: (d) => console.error(d.message),
  });
  kernelProcessor = processor;
  const context = provider({ LoggerProvider, Resource }, processor).context;
  writeFileSync(ENABLE, "1");
  for (let i = 0; i < 2000 && !processor.enabled(9); i++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  if (!processor.enabled(9)) throw new Error("enable word never set");
  const record = RECORD;
  const m = 100;
  return [{
    name: "user-events/enabled/processor-onEmit-kernel",
    ops: m,
    fn: () => {
      for (let i = 0; i < m; i++) processor.onEmit(record, context);
    },
  }];
}

/**
 * The etw case's processor from a tree (through `load`), as bench/_cases.ts
 * etwCases builds it: an EtwProcessor over the bench's recording advapi32,
 * with its logger's context.
 */
async function recordingEtwProcessor(load: <T>(path: string) => Promise<T>) {
  const mod = await load<Mod>("mod.ts");
  const etw = await load<typeof import("../processors/etw/mod.ts")>(
    "processors/etw/mod.ts",
  );
  const fixtures = await load<typeof import("./_fixtures.ts")>(
    "bench/_fixtures.ts",
  );
  const p = new etw.EtwProcessor(fixtures.recordingAdvapi32(), {
    providerName: "Bench.Provider",
    diagnostics: silent,
  });
  return { p, context: provider(mod, p).context };
}

/**
 * --vary-time's arm over a tree (this one's or OLD_ROOT's copy, through
 * `load`): the encode case's processor (FakeLibc, enabled) or the etw case's (recordingEtwProcessor), emitting a copy
 * of RECORD whose timestamp, a data property as in an application's record,
 * is 1 ms later at each emit (a new second every 1,000). A getter on RECORD
 * would do without this arm, but costs more than the time text: 20 ns more
 * a replayed emit on Deno 2.9, 30 on Node 26 with a getter returning a
 * constant.
 */
async function varyTimeArm(
  load: <T>(path: string) => Promise<T>,
  ops: number,
): Promise<() => void> {
  const { p, context } = which === "etw"
    ? await recordingEtwProcessor(load)
    : await fakeWriteProcessor(load);
  const base = RECORD.timestamp as number;
  const record = { ...RECORD, timestamp: base };
  let n = 0;
  return () => {
    for (let i = 0; i < ops; i++) {
      n = n === 86_399_999 ? 0 : n + 1;
      record.timestamp = base + n;
      p.onEmit(record, context);
    }
  };
}

const PAIRINGS: Record<string, Pairing> = {
  encode: ue(
    "user-events/enabled/processor-onEmit-fake-write",
    "ue_encode_loop",
    5000,
  ),
  devnull: ue(
    "user-events/enabled/processor-onEmit-devnull",
    "ue_devnull_loop",
    1000,
  ),
  kernel: {
    ...ue(
      "user-events/enabled/processor-onEmit-kernel",
      "ue_kernel_loop",
      1000,
    ),
    build: kernelCases,
    kernel: { open: "ue_kernel_open", enabled: "ue_kernel_enabled" },
  },
  etw: {
    tsCase: "etw/enabled/processor-onEmit-fake-write",
    build: etwCases,
    lib: `${binDir}libetw_encode.so`,
    loop: "etw_encode_loop",
    setTime: "etw_set_time_ms",
    dump: "etw_dump",
    ours: etwBytes,
    skip: 0,
    events: 5000,
  },
};
const pairing = PAIRINGS[which];
if (pairing === undefined) {
  throw new Error(
    `--case ${which}: expected one of ${Object.keys(PAIRINGS).join(", ")}`,
  );
}

/** The library's functions, through this runtime's FFI. */
interface CSide {
  loop: Loop;
  setTime: (ms: number) => void;
  dump: Dump;
  /** The kernel case's registration (0 or -errno) and enable bit (1 or 0). */
  kernelOpen?: () => number;
  kernelEnabled?: () => number;
}

async function openC(p: Pairing): Promise<CSide> {
  const k = p.kernel;
  const lib = await openCLoop(
    p.lib,
    p.loop,
    p.setTime,
    p.dump,
    k === undefined ? [] : [k.open, k.enabled],
  );
  return {
    loop: lib.loop,
    setTime: lib.setTime,
    dump: lib.dump,
    kernelOpen: k === undefined ? undefined : lib.extra[k.open],
    kernelEnabled: k === undefined ? undefined : lib.extra[k.enabled],
  };
}

let c: CSide;
try {
  c = await openC(pairing);
} catch (e) {
  console.error(
    `cannot open ${pairing.lib} (${(e as Error).message}); build it first:\n` +
      "  cc -O2 -shared -fPIC -o bench/bin/libue_encode.so bench/ue_encode_lib.c\n" +
      "  cc -O2 -shared -fPIC -o bench/bin/libetw_encode.so bench/etw_encode_lib.c",
  );
  throw e;
}
c.setTime(RECORD.timestamp as number);

// The C bytes must be ours, or the ratio compares different work.
const cOut = new Uint8Array(8192);
const cLen = c.dump(cOut, cOut.length);
const mine = (await pairing.ours()).subarray(pairing.skip);
const theirs = cOut.subarray(pairing.skip, cLen);
if (cLen < 0 || hex(mine) !== hex(theirs)) {
  throw new Error(
    `--case ${which}: the C event differs from ours\n  ours ${
      hex(mine)
    }\n  C    ${hex(theirs)}`,
  );
}

// The kernel case: C registers first; the TypeScript side's build enables
// the event, which sets both registrations' bits.
if (c.kernelOpen !== undefined) {
  const r = c.kernelOpen();
  if (r < 0) {
    throw new Error(
      `--case ${which}: C could not register bench_L4K1 (errno ${-r}); ` +
        "this case runs in the user_events VM (bench/kernel.sh)",
    );
  }
}
const ts = (await pairing.build()).find((x) => x.name === pairing.tsCase);
if (c.kernelEnabled !== undefined) {
  for (let i = 0; i < 2000 && c.kernelEnabled() === 0; i++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  if (c.kernelEnabled() === 0) {
    throw new Error(`--case ${which}: C's enable bit never set`);
  }
}
if (ts === undefined) {
  throw new Error(`${pairing.tsCase}: no such case here (no FFI?)`);
}
let run = ts.fn as () => void;
if (varyTime && which !== "encode" && which !== "etw") {
  throw new Error(`--vary-time: only with --case encode or etw`);
}
if (varyTime) {
  run = await varyTimeArm(
    (path) => import(new URL(`../${path}`, import.meta.url).href),
    ts.ops,
  );
}
/** The same case from OLD_ROOT's tree (a copy: its own module graph), if asked. */
let runOld: (() => void) | undefined;
if (oldRoot !== undefined) {
  const build = pairing.build === userEventsCases
    ? "userEventsCases"
    : pairing.build === etwCases
    ? "etwCases"
    : undefined;
  if (build === undefined) {
    throw new Error(`OLD_ROOT: --case ${which} has no old arm`);
  }
  // Beside this tree's node_modules and manifests, as bench/http_ab.ts's
  // copyTree (bench/_cases.ts imports npm packages).
  const dir = copySourceTree(oldRoot, "ue-old-");
  const root = fileURLToPath(new URL("..", import.meta.url));
  const fs = await import("node:fs");
  fs.symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  for (const f of ["deno.json", "package.json"]) {
    fs.copyFileSync(join(root, f), join(dir, f));
  }
  const cases: typeof import("./_cases.ts") = await import(
    pathToFileURL(join(dir, "bench/_cases.ts")).href
  );
  const old = (await cases[build]()).find((x) => x.name === pairing.tsCase);
  if (old === undefined) throw new Error(`OLD_ROOT: no ${pairing.tsCase}`);
  runOld = varyTime
    ? await varyTimeArm(
      (path) => import(pathToFileURL(join(dir, path)).href),
      old.ops,
    )
    : old.fn as () => void;
}
const C_EVENTS = pairing.events;
const TS_CALLS = Math.max(1, Math.round(pairing.events / ts.ops));

// Warm-up, then rounds of 5 alternating measurements; each arm's fastest.
for (let i = 0; i < warmup; i++) {
  run();
  runOld?.();
  if (c.loop(ts.ops) < 0) throw new Error(`${pairing.loop} failed`);
}
const tsNs: number[] = [];
const cNs: number[] = [];
const oldNs: number[] = [];
const started = performance.now();
while (performance.now() - started < ms) {
  let t = Infinity;
  let k = Infinity;
  let o = Infinity;
  for (let s = 0; s < 5; s++) {
    // The old arm (if any) before the new one in odd samples: neither
    // always follows C.
    if (runOld !== undefined && (s & 1) === 1) {
      const t1 = performance.now();
      for (let i = 0; i < TS_CALLS; i++) runOld();
      o = Math.min(o, (performance.now() - t1) * 1e6 / (TS_CALLS * ts.ops));
    }
    const t0 = performance.now();
    for (let i = 0; i < TS_CALLS; i++) run();
    t = Math.min(t, (performance.now() - t0) * 1e6 / (TS_CALLS * ts.ops));
    if (runOld !== undefined && (s & 1) === 0) {
      const t1 = performance.now();
      for (let i = 0; i < TS_CALLS; i++) runOld();
      o = Math.min(o, (performance.now() - t1) * 1e6 / (TS_CALLS * ts.ops));
    }
    const per = c.loop(C_EVENTS);
    if (per < 0) throw new Error(`${pairing.loop} failed`);
    k = Math.min(k, per);
  }
  tsNs.push(t);
  cNs.push(k);
  if (runOld !== undefined) oldNs.push(o);
}
const ratios = tsNs.map((t, i) => t / cNs[i]);
const runtime = runtimeLabel();
const result = {
  runtime,
  case: which,
  tsCase: pairing.tsCase,
  cFunction: pairing.loop,
  eventBytes: mine.length,
  eventsPerMeasurement: C_EVENTS,
  warmupCalls: warmup,
  varyTime,
  rounds: ratios.length,
  tsNs: { min: quantile(tsNs, 0), p50: quantile(tsNs, 0.5) },
  cNs: { min: quantile(cNs, 0), p50: quantile(cNs, 0.5) },
  ratio: ratioSpread(ratios),
};
if (kernelProcessor !== undefined) {
  // Every timed emit must have reached the kernel, or the ratio compares
  // different work.
  const stats = kernelProcessor.stats;
  const dropped = stats.droppedNoListener + stats.droppedWriteError;
  if (dropped > 0 || stats.written === 0) {
    throw new Error(
      `--case ${which}: ${stats.written} events written, ${dropped} dropped`,
    );
  }
  Object.assign(result, { written: stats.written });
}
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
console.log(
  `${runtime}, --case ${which}${
    varyTime ? " --vary-time" : ""
  }, ${result.rounds} rounds: TypeScript ${f1(result.tsNs.min)} ns (median ${
    f1(result.tsNs.p50)
  }), C ${f1(result.cNs.min)} ns (median ${
    f1(result.cNs.p50)
  }); per-round ratio median ${f2(result.ratio.p50)}x [${
    f2(result.ratio.min)
  }-${f2(result.ratio.max)}], quartiles ${f2(result.ratio.p25)}-${
    f2(result.ratio.p75)
  }`,
);
if (runOld !== undefined) {
  const old = ratioSpread(oldNs.map((t, i) => t / cNs[i]));
  const newOld = ratioSpread(tsNs.map((t, i) => t / oldNs[i]));
  Object.assign(result, {
    oldRoot,
    oldNs: { min: quantile(oldNs, 0), p50: quantile(oldNs, 0.5) },
    oldRatio: old,
    newOverOld: newOld,
  });
  console.log(
    `  old (${oldRoot}) ${f1(quantile(oldNs, 0))} ns (median ${
      f1(quantile(oldNs, 0.5))
    }); old/C median ${f2(old.p50)}x, quartiles ${f2(old.p25)}-${
      f2(old.p75)
    }; new/old per round median ${f2(newOld.p50)}x [${f2(newOld.min)}-${
      f2(newOld.max)
    }], quartiles ${f2(newOld.p25)}-${f2(newOld.p75)}`,
  );
}
if (json !== undefined) {
  const { writeFileSync } = await import("node:fs");
  writeFileSync(json, JSON.stringify(result, null, 2) + "\n");
}
