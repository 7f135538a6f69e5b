// Does a replay stay fast for plain records after odd attributes objects
// (issue #13)? On V8 an object that had a key deleted (other than the last
// one added), that got ~20 keys by computed stores, or that has a null
// prototype is in dictionary mode; a replay loop that has met one may be
// compiled generic for every later record.
//
// Timed in ONE process, in interleaved rounds, as CPU time (the host is
// shared: a preempted round would read slow): the same processor code twice,
// as two copies of the source tree (two sets of JIT functions and feedback).
// "clean" sees only plain records; "new" (this tree) also met N odd ones
// after its warm-up. The figure is the median over rounds of new/clean. With
// `--old DIR` (a checkout of an older commit) a processor from DIR's code,
// fed the same odd records, runs in the same rounds (old/clean). Calibrate
// with `--kind none` (odd records that are plain: the ratio then reads
// 0.85-1.0 on this host, the first copy's bias).
//
//   deno run -A bench/replay_deopt.ts [--kind deleted|rest|nullproto|elements|othershape|none|a,b]
//     [--n 1000] [--rounds 40] [--target ue|etw|span|all] [--old DIR] [--record-map other]
//   bun bench/replay_deopt.ts [...]
//   node --no-warnings bench/replay_deopt.ts [...]
//
// `--kind othershape,deleted` is the common case in an application: records
// of other keys first (V8 then no longer knows the map of a record's
// `attributes`), then deleted-key ones. user_events goes through FakeLibc
// (write counts), ETW through a counting advapi32, spans through the
// user_events span processor; a round is 20,000 emits of bench/_fixtures.ts's
// RECORD (for spans, a span with its attributes). Read the ratios, not the
// ns.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { cpuUsage } from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { copySourceTree, RECORD, recordingAdvapi32 } from "./_fixtures.ts";

function arg(name: string): string | undefined {
  const g = globalThis as {
    Deno?: { args: string[] };
    process?: { argv: string[] };
  };
  const argv = g.Deno?.args ?? g.process!.argv.slice(2);
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

// Several kinds (--kind othershape,deleted) follow one another, n each.
const kind = arg("--kind") ?? "deleted";
const kinds = kind.split(",");
const n = Number(arg("--n") ?? 1000);
const rounds = Number(arg("--rounds") ?? 40);
const target = arg("--target") ?? "all";
const oldRoot = arg("--old");
// The odd records' own map: by default RECORD's (a spread of it), so that
// V8 tracks one type for the `attributes` field of plain and odd records;
// "other" puts `attributes` first (another map).
const otherMap = arg("--record-map") === "other";
const ROUND = 20_000;
const silent = (): void => {};
const here = fileURLToPath(new URL("..", import.meta.url));

/** The i-th odd attributes object, odd in the way `--kind` says. */
function oddAttributes(i: number): Record<string, unknown> {
  const plain = { ...RECORD.attributes, "retry": (i & 1) === 0 };
  switch (kinds[Math.floor(i / n)]) {
    case "deleted": {
      // A key deleted other than the last one added: dictionary mode on V8.
      const o: Record<string, unknown> = { gone: i, ...plain };
      delete o.gone;
      return o;
    }
    case "rest": {
      // The same key left out by an object rest copy instead of a delete:
      // a new object, built by adding keys (fast mode on V8 for this size).
      const { gone: _, ...o } = { gone: i, ...plain };
      return o;
    }
    case "othershape":
      // Plain, other keys: the full path, and another map in `attributes`.
      return { a: i, b: "x", c: true };
    case "nullproto":
      return Object.assign(Object.create(null), plain);
    case "elements":
      // An index key: for…in cannot use the map's enum cache.
      return { ...plain, "7": "x" };
    default:
      return plain;
  }
}

/** One copy of the processors: emits one plain record, or an odd one. */
interface Subject {
  readonly label: string;
  plain(): void;
  odd(i: number): void;
}

// deno-lint-ignore no-explicit-any
type Mod = any;

async function load(root: string) {
  const url = (p: string) => pathToFileURL(join(root, p)).href;
  return {
    mod: await import(url("mod.ts")) as Mod,
    ue: await import(url("processors/user_events/mod.ts")) as Mod,
    etw: await import(url("processors/etw/mod.ts")) as Mod,
    fake: await import(url("bench/_fake_libc.ts")) as Mod,
  };
}

function subject(
  label: string,
  m: Awaited<ReturnType<typeof load>>,
  which: string,
): Subject {
  const resource = new m.mod.Resource({ "service.name": "bench" });
  if (which === "span") {
    const fake = new m.fake.FakeLibc();
    const processor = new m.ue.UserEventsSpanProcessor(fake, {
      providerName: "bench",
      diagnostics: silent,
    });
    fake.setEnabled(true);
    const tracer = new m.mod.TracerProvider({
      env: () => undefined,
      resource,
      processors: [processor],
    }).getTracer("bench");
    const attributes = RECORD.attributes;
    return {
      label,
      plain: () => tracer.startSpan("GET /", { attributes }).end(),
      odd: (i) =>
        tracer.startSpan("GET /", { attributes: oddAttributes(i) }).end(),
    };
  }
  let processor;
  if (which === "ue") {
    const fake = new m.fake.FakeLibc();
    processor = new m.ue.UserEventsProcessor(fake, {
      providerName: "bench",
      diagnostics: silent,
    });
    fake.setEnabled(true);
  } else {
    processor = new m.etw.EtwProcessor(recordingAdvapi32(), {
      providerName: "Bench.Provider",
      diagnostics: silent,
    });
  }
  const context = new m.mod.LoggerProvider({
    env: () => undefined,
    resource,
    processors: [processor],
  }).getLogger("bench").context;
  return {
    label,
    plain: () => processor.onEmit(RECORD, context),
    odd: (i) =>
      processor.onEmit(
        otherMap
          ? { attributes: oddAttributes(i), ...RECORD }
          : { ...RECORD, attributes: oddAttributes(i) },
        context,
      ),
  };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** ns of this process's CPU time per plain emit, over one round (CPU time, not wall: the host is shared, and a preempted round would read slow). */
function roundNs(s: Subject): number {
  const plain = s.plain;
  const t0 = cpuUsage();
  for (let i = 0; i < ROUND; i++) plain();
  const t = cpuUsage(t0);
  return (t.user + t.system) * 1e3 / ROUND;
}

function run(which: string, subjects: Subject[]): void {
  for (const s of subjects) for (let i = 0; i < 100_000; i++) s.plain();
  // Odd records for every subject but the clean one, then plain again.
  const oddNs: number[] = [];
  for (const s of subjects.slice(1)) {
    const t0 = performance.now();
    for (let i = 0; i < n * kinds.length; i++) s.odd(i);
    oddNs.push((performance.now() - t0) * 1e6 / (n * kinds.length));
    for (let i = 0; i < 20_000; i++) s.plain();
  }
  const ns: number[][] = subjects.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // Alternate the order, so that neither side always runs first.
    for (let k = 0; k < subjects.length; k++) {
      const j = r & 1 ? subjects.length - 1 - k : k;
      ns[j].push(roundNs(subjects[j]));
    }
  }
  const clean = ns[0];
  const parts = subjects.map((s, j) => {
    const ratio = median(ns[j].map((x, r) => x / clean[r]));
    return `${s.label} ${median(ns[j]).toFixed(1)} ns` +
      (j === 0 ? "" : ` (${ratio.toFixed(2)}x clean)`);
  });
  console.log(
    `${which.padEnd(4)} ${parts.join(", ")}; ${n} ${kind} records: ${
      oddNs.map((x) => x.toFixed(0)).join(" / ")
    } ns each`,
  );
}

const runtime = "Deno" in globalThis
  ? "Deno"
  : "Bun" in globalThis
  ? "Bun"
  : "Node";
const copy = copySourceTree(here, "replay-deopt-");
const oldCopy = oldRoot === undefined
  ? undefined
  : copySourceTree(oldRoot, "replay-deopt-");
try {
  const cleanMods = await load(copy);
  const newMods = await load(here);
  const oldMods = oldCopy === undefined ? undefined : await load(oldCopy);
  console.log(
    `${runtime}, --kind ${kind}, --n ${n}, ${rounds} rounds of ${ROUND}`,
  );
  for (const which of ["ue", "etw", "span"]) {
    if (target !== "all" && target !== which) continue;
    const subjects = [
      subject("clean", cleanMods, which),
      subject("new", newMods, which),
    ];
    if (oldMods !== undefined) subjects.push(subject("old", oldMods, which));
    run(which, subjects);
  }
} finally {
  rmSync(copy, { recursive: true, force: true });
  if (oldCopy !== undefined) rmSync(oldCopy, { recursive: true, force: true });
}
