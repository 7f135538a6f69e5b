// Listener throughput in the user_events VM (run by bench/listener_vm.sh).
// A C writer (tests/kernel/_c_writer.c) writes N EventHeader events, as fast
// as it can or paced at RATE events/s, while (a) this process's
// UserEventsListener, (b) perf-collect read them, each with one ring of
// BUFFER_KIB per CPU. Then (c) the forwarder: bench/ue_emit.c writes Common
// Schema log records (the processor's exact bytes), the forwarder ships them
// over OTLP/HTTP to a collector in another process on loopback
// (bench/_otlp_sink.ts), which counts the records it decoded.
//
// The writer is spawned first and starts writing only when it gets a byte
// on stdin: spawning a child blocks the event loop for 0.2-0.6 s under TCG,
// long enough for a fast writer to overflow a ring before the listener runs.
//
// Prints one JSON line per run. Usage:
//   listener_rate.ts N BUFFER_KIB RATE...      RATE 0 = as fast as it can
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import process from "node:process";
import {
  openUserEventsForwarder,
  openUserEventsListener,
} from "../receivers/user_events/mod.ts";
import {
  type CopyPlacement,
  lastWakeupBytes,
  setCopyOverrides,
  TRACE_FIELDS,
} from "../receivers/user_events/_copy_trace.ts";

/** Events per run (the sweep sets its own, LISTENER_BENCH_SWEEP). */
let n = Number(process.argv[2] ?? 20000);
/** Runs so far: each run's provider is new, so no run sees another's. */
let runNumber = 0;
/** The current sweep step's fields, added to its run lines. */
let sweepFields: Record<string, unknown> = {};
const bufferKiB = Number(process.argv[3] ?? 128);
const rates = process.argv.slice(4).map(Number);
if (rates.length === 0) rates.push(0);
const isDeno = "Deno" in globalThis;
const runtime = isDeno ? "deno" : "bun";
const version = navigator.userAgent.split(" ")[0];
const writer = `/tmp/bench_c_writer_${process.pid}`;
const emitter = `/tmp/bench_ue_emit_${process.pid}`;
const tools = process.env.SEED_SHARED
  ? `${process.env.SEED_SHARED}/tools/linuxtracepoints`
  : "../shared/tools/linuxtracepoints";
for (
  const [out, src] of [[writer, "tests/kernel/_c_writer.c"], [
    emitter,
    "bench/ue_emit.c",
  ]]
) {
  const gcc = spawnSync("gcc", ["-O2", "-o", out, src]);
  if (gcc.status !== 0) throw new Error(String(gcc.stderr));
}

/** The writer's CPU time (% of its writing time) and context switches. */
type WriterCpu = Record<string, number>;

interface Writer {
  /** Sends the start byte; resolves with the writer's own writing time. */
  go(): Promise<{ writeMs: number; startedAt: number; cpu: WriterCpu }>;
}

/** Spawns the writer; it registers, waits for the enable bit, then for go(). */
function startWriter(provider: string, rate: number): Writer {
  const child: ChildProcess = spawn(
    writer,
    [provider, String(n), String(rate), "-1"],
    { stdio: ["pipe", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr!.on("data", (c) => err += String(c));
  const exited = new Promise<number>((r) =>
    child.on("exit", (c) => r(c ?? -1))
  );
  return {
    async go() {
      const startedAt = performance.now();
      child.stdin!.write("g");
      child.stdin!.end();
      const code = await exited;
      const m = /ns (\d+)/.exec(err);
      if (code !== 0 || m === null) throw new Error(`writer: ${code} ${err}`);
      const c = /cpu (\d+) vcsw (\d+) ivcsw (\d+)/.exec(err);
      const writeMs = Number(m[1]) / 1e6;
      return {
        writeMs,
        startedAt,
        cpu: c === null ? {} as WriterCpu : {
          writerCpuPercent: Math.round(Number(c[1]) / 1e4 / writeMs),
          writerVoluntarySwitches: Number(c[2]),
          writerPreemptions: Number(c[3]),
        },
      };
    },
  };
}

/**
 * Waits until `count()` reaches `target`, or stops growing for 2 s (the
 * rest was lost: the kernel's exact count comes with close()).
 */
async function settle(count: () => number, target: number): Promise<void> {
  let last = -1;
  let since = performance.now();
  while (count() < target) {
    const now = performance.now();
    if (count() !== last) {
      last = count();
      since = now;
    } else if (now - since > 2000) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Progress on stderr: a VM run is slow, and a stalled step shows here. */
function progress(what: string): void {
  console.error(
    `listener_rate ${runtime}: ${what} at ${new Date().toISOString()}`,
  );
}

/** While true, result lines go to stderr (the warm-up run's). */
let warmingUp = false;

function line(fields: Record<string, unknown>): void {
  const text = JSON.stringify({
    runtime,
    version,
    n,
    bufferKiB,
    ...sweepFields,
    ...fields,
  });
  if (warmingUp) console.error(`listener_rate ${runtime}: warm-up ${text}`);
  else console.log(text);
}

/**
 * What the copy worker's pass log says about the writing window: the
 * longest time between two passes and the fullest ring it found, and where
 * the losses fell (gaps in the writer's `count` field, by kernel time)
 * against the passes around them.
 */
function analyseTrace(
  trace: Float64Array,
  counts: Float64Array,
  times: Float64Array,
  received: number,
): Record<string, unknown> {
  const capacity = Math.floor((trace.length - 1) / TRACE_FIELDS);
  const total = trace[0];
  const first = Math.max(0, total - capacity);
  if (received === 0 || total === 0) return { passes: total };
  const from = times[0];
  const to = times[received - 1];
  let passes = 0;
  let worstGap = 0;
  let worstGapAt = 0;
  let worstPoll = 0;
  let worstCopy = 0;
  let most = 0;
  let prevEnd = -1;
  // The worker thread's CPU time: in poll + copy, and between passes.
  let cpuInPass = 0;
  let cpuBetween = 0;
  let prevCpuEnd = -1;
  for (let i = first; i < total; i++) {
    const at = 1 + (i % capacity) * TRACE_FIELDS;
    const [called, returned, copied, waiting] = [
      trace[at],
      trace[at + 1],
      trace[at + 2],
      trace[at + 3],
    ];
    if (copied < from || called > to) {
      prevEnd = copied;
      prevCpuEnd = trace[at + 6];
      continue;
    }
    passes++;
    cpuInPass += trace[at + 6] - trace[at + 5];
    if (prevCpuEnd >= 0) cpuBetween += trace[at + 5] - prevCpuEnd;
    prevCpuEnd = trace[at + 6];
    if (prevEnd >= 0 && copied - prevEnd > worstGap) {
      worstGap = copied - prevEnd;
      worstGapAt = copied - from;
      worstPoll = returned - called;
      worstCopy = copied - returned;
    }
    if (waiting > most) most = waiting;
    prevEnd = copied;
  }
  // Losses: count jumps, at kernel time (ms since the first event).
  const gaps: string[] = [];
  for (let i = 1; i < received && gaps.length < 8; i++) {
    if (counts[i] !== counts[i - 1] + 1) {
      gaps.push(
        `${counts[i] - counts[i - 1] - 1}@${(times[i] - from).toFixed(1)}ms`,
      );
    }
  }
  return {
    firstCount: counts[0],
    lastCount: counts[received - 1],
    writingMs: Math.round(to - from),
    passesWhileWriting: passes,
    worstPassGapMs: Math.round(worstGap * 10) / 10,
    worstGapAtMs: Math.round(worstGapAt),
    worstGapPollMs: Math.round(worstPoll * 10) / 10,
    worstGapCopyMs: Math.round(worstCopy * 10) / 10,
    mostWaitingWhileWriting: most,
    workerCpuInPollAndCopyMs: Math.round(cpuInPass),
    workerCpuBetweenPassesMs: Math.round(cpuBetween),
    lossGaps: gaps.join(" "),
  };
}

/**
 * The guest's CPU time and scheduler counters (/proc/stat): busy and idle
 * jiffies per CPU, context switches, interrupts. Deltas over the writing
 * window show whether the listener's threads took the CPUs the writer
 * needed.
 */
function procStat(): number[] {
  let text = "";
  try {
    text = readFileSync("/proc/stat", "utf8");
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const l of text.split("\n")) {
    const f = l.trim().split(/\s+/);
    if (/^cpu\d+$/.test(f[0])) {
      const v = f.slice(1).map(Number);
      // user nice system idle iowait irq softirq steal
      out.push(v[0] + v[1] + v[2] + v[5] + v[6], v[3] + v[4]);
    } else if (f[0] === "ctxt" || f[0] === "intr") out.push(Number(f[1]));
  }
  return out;
}

/**
 * This process's CPU time per thread name (/proc/self/task/N/stat utime +
 * stime, in clock ticks of 10 ms), to see which of its threads ran while
 * the writer wrote.
 */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const task of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
      const open = stat.indexOf("(");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(open + 1, close).replace(/[0-9]+$/, "#");
      const f = stat.slice(close + 2).split(" ");
      const ticks = Number(f[11]) + Number(f[12]);
      out.set(name, (out.get(name) ?? 0) + ticks);
    }
  } catch {
    // Not Linux, or a thread ended while listing: report what was read.
  }
  return out;
}

/** `threadTicks()` deltas as "name:ms" (threads that ran only). */
function threadDelta(a: Map<string, number>, b: Map<string, number>): string {
  const parts: string[] = [];
  for (const [name, ticks] of b) {
    const d = ticks - (a.get(name) ?? 0);
    if (d > 0) parts.push(`${name}:${d * 10}`);
  }
  return parts.join(" ");
}

/** `procStat()` deltas: busy % per CPU, context switches, interrupts. */
function statDelta(a: number[], b: number[]): Record<string, unknown> {
  if (a.length !== b.length || a.length < 2) return {};
  const d = b.map((x, i) => x - a[i]);
  const cpus = (d.length - 2) / 2;
  const busy: number[] = [];
  for (let c = 0; c < cpus; c++) {
    const all = d[2 * c] + d[2 * c + 1];
    busy.push(all === 0 ? 0 : Math.round((100 * d[2 * c]) / all));
  }
  return {
    guestBusyPercent: busy.join("/"),
    guestIntr: d[2 * cpus],
    guestCtxt: d[2 * cpus + 1],
  };
}

/**
 * What this thread does while the writer writes: `"decode"` runs the
 * listener as usual, `"skip"` copies and counts without decoding,
 * `"idle"` starts draining only after the writer is done.
 */
type MainMode = "decode" | "skip" | "idle";

/** What one run measured (for the rate search). */
interface RunResult {
  read: number;
  lost: number;
  writerEventsPerSecond: number;
}

/** How one listener run is set up; every field has the default shown. */
interface ListenerRunOptions {
  /** Run the copy worker (default `true`). */
  copyThread?: boolean;
  /** The copy worker's scheduling (default `"fifo"`). */
  priority?: "fifo" | "nice" | "none";
  /** Which CPU the copy worker runs on (default `"writer"`). */
  placement?: CopyPlacement;
  /** The ring's wake-up threshold as a shift (default `null`: the listener's). */
  wakeupShift?: number | null;
  /** What this thread does while the writer writes (default `"decode"`). */
  main?: MainMode;
  /** KiB of the ring the copy worker touches first (default `null`: none). */
  prefaultKiB?: number | null;
  /** The copy worker's poll interval (default `null`: the listener's). */
  pollMs?: number | null;
  /** Record the copy worker's pass log (default `true`). */
  traced?: boolean;
}

async function listenerRun(
  rate: number,
  options: ListenerRunOptions = {},
): Promise<RunResult> {
  const {
    copyThread = true,
    priority = "fifo",
    placement = "writer",
    wakeupShift = null,
    main = "decode",
    prefaultKiB = null,
    pollMs = null,
    traced = true,
  } = options;
  const provider = `benchl_${process.pid}_${runNumber++}_${rate}_${copyThread}`;
  progress(
    `listener ${priority}:${placement}:${wakeupShift}:${main} copyThread ${copyThread} rate ${rate}`,
  );

  const trace = copyThread && traced
    ? new SharedArrayBuffer(8 * (1 + TRACE_FIELDS * 200000))
    : null;
  setCopyOverrides({
    skipDecode: main === "skip",
    trace,
    priority,
    placement,
    wakeupShift,
    prefault: prefaultKiB === null ? null : prefaultKiB * 1024,
    pollMs,
  });
  const counts = new Float64Array(n);
  const times = new Float64Array(n);
  const listener = await openUserEventsListener({
    providers: [provider],
    levels: [5],
    bufferKiB,
    copyThread,
  });
  const w = startWriter(provider, rate);
  let events = 0;
  let lastAt = 0;
  const onEvent = (e: { monotonicNanos: bigint; event: unknown }) => {
    if (events < n) {
      const fields = (e.event as { fields: { value: unknown }[] }).fields;
      counts[events] = Number(fields[0]?.value ?? -1);
      times[events] = Number(e.monotonicNanos) / 1e6;
    }
    events++;
    lastAt = performance.now();
  };
  const controller = new AbortController();
  // main "idle": this thread neither copies nor decodes until the writer
  // is done (the copy worker alone runs while it writes).
  let running = main === "idle"
    ? null
    : listener.run(onEvent, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 300)); // the writer sees its enable bit
  progress("listener open, writing");
  const before = procStat();
  const threadsBefore = threadTicks();
  const { writeMs, startedAt, cpu } = await w.go();
  const during = {
    ...statDelta(before, procStat()),
    threadMs: threadDelta(threadsBefore, threadTicks()),
    ...cpu,
  };
  progress("written");
  running ??= listener.run(onEvent, { signal: controller.signal });
  // main "skip" counts samples without handing any over.
  const delivered = main === "skip"
    ? () => listener.stats.events
    : () => events;
  await settle(delivered, n);
  if (main === "skip") {
    events = listener.stats.events;
    lastAt = performance.now();
  }
  controller.abort();
  await running;
  const stats = listener.close(onEvent);
  const writerEventsPerSecond = Math.round(n / (writeMs / 1000));
  line({
    reader: "listener",
    copyThread: stats.copyThread,
    priority: stats.copyThreadPriority,
    placement: copyThread ? placement : null,
    main,
    prefaultKiB,
    copyPollMs: pollMs,
    wakeupBytes: lastWakeupBytes(),
    copyThreads: stats.copyThreads,
    copyThreadState: stats.copyThreadState,
    pollIntervalMs: listener.pollIntervalMs,
    rate,
    read: events,
    lost: stats.lost,
    drains: stats.drains,
    lostRecords: stats.lostRecords,
    ringHighWaterBytes: stats.ringHighWaterBytes,
    longestCopyGapMs: stats.longestCopyGapMs,
    backlogFullCopies: stats.backlogFullCopies,
    corrupt: stats.corrupt,
    ...(trace === null ? {} : analyseTrace(
      new Float64Array(trace),
      counts,
      times,
      Math.min(events, n),
    )),
    writeMs: Math.round(writeMs),
    writerEventsPerSecond,
    ...during,
    lagMs: Math.round(lastAt - startedAt - writeMs),
    deliveredEventsPerSecond: Math.round(
      events / ((lastAt - startedAt) / 1000),
    ),
  });
  return { read: events, lost: stats.lost, writerEventsPerSecond };
}

async function perfCollectRun(rate: number): Promise<RunResult> {
  const provider = `benchp_${process.pid}_${runNumber++}_${rate}`;
  progress(`perf-collect rate ${rate}`);
  const file = `/tmp/bench_${process.pid}_${rate}.data`;
  const collector = spawn(`${tools}/perf-collect`, [
    "-b",
    String(bufferKiB),
    "-o",
    file,
    `${provider}_L5K1`,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  collector.stderr!.on("data", (c) => err += String(c));
  for (let i = 0; i < 400 && !err.includes("collecting until"); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const w = startWriter(provider, rate);
  await new Promise((r) => setTimeout(r, 300));
  const before = procStat();
  const { writeMs, cpu } = await w.go();
  const during = { ...statDelta(before, procStat()), ...cpu };
  const exited = new Promise((r) => collector.on("exit", r));
  collector.kill("SIGINT");
  await exited;
  const decoded = spawnSync(`${tools}/perf-decode`, [file], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  rmSync(file, { force: true }); // the guest's /tmp is memory
  const read = JSON.parse(decoded.stdout.replace(/^\uFEFF/, ""))[file].filter((
    e: { n: string },
  ) => e.n.startsWith(provider + ":")).length;
  const writerEventsPerSecond = Math.round(n / (writeMs / 1000));
  line({
    reader: "perf-collect",
    rate,
    read,
    lost: n - read,
    wakeups: Number(/woke (\d+) times/.exec(err)?.[1] ?? -1),
    writeMs: Math.round(writeMs),
    writerEventsPerSecond,
    ...during,
  });
  return { read, lost: n - read, writerEventsPerSecond };
}

/**
 * The highest paced rate a reader keeps up with: a bisection (geometric,
 * STEPS runs) between LOW and HIGH events/s. A rate passes when every event
 * was read, none lost, and the writer really wrote at >= 90% of it (a
 * reader that holds the writer back has not kept up with that rate).
 * Prints one `"reader": "search"` line per reader with every step.
 */
async function search(
  reader: string,
  run: (rate: number) => Promise<RunResult>,
  low: number,
  high: number,
  steps: number,
): Promise<void> {
  const tried: string[] = [];
  let pass = 0;
  let fail = 0;
  for (let i = 0; i < steps; i++) {
    const rate = Math.round(Math.sqrt(low * high) / 100) * 100;
    const r = await run(rate);
    const ok = r.lost === 0 && r.read === n &&
      r.writerEventsPerSecond >= 0.9 * rate;
    tried.push(
      `${rate}:${
        ok ? "ok" : "FAIL"
      }(${r.read}/${r.lost},${r.writerEventsPerSecond}/s)`,
    );
    if (ok) low = pass = rate;
    else high = fail = rate;
  }
  line({
    reader: "search",
    searched: reader,
    maxLossFreeRate: pass,
    lowestFailingRate: fail,
    steps: tried.join(" "),
  });
}

/** Writer → forwarder → OTLP/HTTP → a collector process on loopback. */
async function forwarderRun(): Promise<void> {
  const sinkArgs = isDeno
    ? ["run", "-A", "--no-check", "bench/_otlp_sink.ts"]
    : ["run", "bench/_otlp_sink.ts"];
  const sink = spawn(process.execPath, sinkArgs, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve) => {
    let out = "";
    sink.stdout!.on("data", (c) => {
      out += String(c);
      const m = /port (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
  });
  const provider = `benchf_${process.pid}`;
  const forwarder = await openUserEventsForwarder({
    listener: { providers: [provider], levels: [4], bufferKiB },
    endpoint: `http://127.0.0.1:${port}`,
    // Room for the whole run: this measures throughput, not queue drops.
    batch: { maxQueueSize: 65536, maxExportBatchSize: 2048 },
  });
  // ue_emit N ROUNDS writes N x (1 warm-up + ROUNDS) records at full speed.
  const half = Math.floor(
    Number(process.env.LISTENER_BENCH_FORWARD_N ?? 6000) / 2,
  );
  // Where the forwarder's time goes: decoding (the listener), rebuilding
  // records (the bridge, with the batch processor's onEmit), and exports
  // (our encode + HTTP + the collector's decode, which it reports).
  let handleMs = 0;
  let lastHandledAt = 0;
  const bridge = forwarder.bridge;
  const handle = bridge.handle.bind(bridge);
  bridge.handle = (e) => {
    const t = performance.now();
    handle(e);
    lastHandledAt = performance.now();
    handleMs += lastHandledAt - t;
  };
  const running = forwarder.run();
  const t0 = performance.now();
  // Spawned, not spawnSync: the forwarder works while the writer writes.
  const emit = spawn(emitter, [String(half), "1", provider], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let emitOut = "";
  let emitErr = "";
  emit.stdout!.on("data", (c) => emitOut += String(c));
  emit.stderr!.on("data", (c) => emitErr += String(c));
  const code = await new Promise<number>((r) =>
    emit.on("exit", (c) => r(c ?? -1))
  );
  const emittedAt = performance.now();
  if (code !== 0) throw new Error(`ue_emit: ${code} ${emitErr}`);
  const written = JSON.parse(emitOut).written as number;
  await settle(
    () => forwarder.stats.listener.events + forwarder.stats.listener.lost,
    written,
  );
  const readAt = performance.now();
  await forwarder.shutdown(); // exports and awaits the last batches
  await running;
  const t1 = performance.now();
  const stats = forwarder.stats;
  const received = await (await fetch(`http://127.0.0.1:${port}/count`)).json();
  sink.kill("SIGTERM");
  line({
    reader: "forwarder",
    written,
    events: stats.listener.events,
    lost: stats.listener.lost,
    bridgeLogs: stats.bridge.logs,
    logRecordsExported: stats.logs.exported,
    logRecordsDropped: stats.logs.dropped + stats.logs.failed,
    logRecordsReceived: received.logRecords,
    requests: received.requests,
    emitMs: Math.round(emittedAt - t0),
    readMs: Math.round(readAt - t0),
    lastHandledMs: Math.round(lastHandledAt - t0),
    bridgeMs: Math.round(handleMs),
    collectorDecodeMs: Math.round(received.decodeMs),
    endToEndMs: Math.round(t1 - t0),
    endToEndEventsPerSecond: Math.round(
      received.logRecords / ((t1 - t0) / 1000),
    ),
    listenerEventsPerSecond: Math.round(
      stats.listener.events / ((lastHandledAt - t0) / 1000),
    ),
  });
}

// LISTENER_BENCH_ONLY=rate: only the listener / perf-collect pairs.
const only = process.env.LISTENER_BENCH_ONLY ?? "";
// LISTENER_BENCH_SEARCH=LOW,HIGH,STEPS: then the rate search for the
// listener (each LISTENER_BENCH_PRIORITY mode) and perf-collect.
const searchArgs = (process.env.LISTENER_BENCH_SEARCH ?? "").split(",")
  .map(Number);
// LISTENER_BENCH_PRIORITY=fifo,none: one listener run per priority mode.
// LISTENER_BENCH_VARIANTS=fifo:writer:4,none:other:2: one run per
// priority:placement:wake-up shift (the ring wakes its copy worker at
// ring >> shift bytes), instead.
interface Variant {
  /** "off": no copy worker (the main thread copies). */
  priority: "fifo" | "nice" | "none" | "off";
  placement: CopyPlacement;
  shift: number | null;
  main: MainMode;
  /** KiB of each copy queue touched before copying (null: the default). */
  prefault: number | null;
  /** The copy worker's poll timeout in ms (null: the default). */
  pollMs: number | null;
}
const variants: Variant[] = process.env.LISTENER_BENCH_VARIANTS
  ? process.env.LISTENER_BENCH_VARIANTS.split(",").map((v) => {
    const [priority, placement, shift, main, prefault, pollMs] = v.split(
      ":",
    );
    return {
      priority: priority as Variant["priority"],
      placement: (placement || "writer") as CopyPlacement,
      shift: shift ? Number(shift) : null,
      main: (main || "decode") as MainMode,
      prefault: prefault ? Number(prefault) : null,
      pollMs: pollMs ? Number(pollMs) : null,
    };
  })
  : (process.env.LISTENER_BENCH_PRIORITY ?? "fifo").split(",").map((p) => ({
    priority: p as Variant["priority"],
    placement: "writer",
    shift: null,
    main: "decode",
    prefault: null,
    pollMs: null,
  }));
const name = (v: Variant) =>
  `${v.priority}:${v.placement}:${v.shift ?? "default"}${
    v.main === "decode" && v.prefault === null ? "" : `:${v.main}`
  }${v.prefault === null ? "" : `:${v.prefault}`}${
    v.pollMs === null ? "" : `:poll${v.pollMs}`
  }`;
// LISTENER_BENCH_SEARCH_VARIANTS: the variants searched (default: all).
const searchVariants = process.env.LISTENER_BENCH_SEARCH_VARIANTS
  ? variants.filter((v) =>
    process.env.LISTENER_BENCH_SEARCH_VARIANTS!.split(",").includes(
      v.shift === null ? `${v.priority}:${v.placement}` : name(v),
    )
  )
  : variants;
const runVariant = (v: Variant, rate: number) =>
  v.priority === "off"
    ? listenerRun(rate, {
      copyThread: false,
      priority: "none",
      wakeupShift: v.shift,
      main: v.main,
    })
    : listenerRun(rate, {
      priority: v.priority,
      placement: v.placement,
      wakeupShift: v.shift,
      main: v.main,
      prefaultKiB: v.prefault,
      pollMs: v.pollMs,
    });
// LISTENER_BENCH_WARMUP=0: no warm-up. By default one listener run (copy
// worker, decoding) comes first and is reported on stderr only: the first
// run in a process also compiles the decoder, and V8's compiler threads
// (and the first GCs) then take CPU from the writer in the measured run
// (in one VM boot: "V8 DefaultWorker" threads 790 ms of CPU in the first
// run, 70-100 ms in later ones). The rows are the steady state.
if (process.env.LISTENER_BENCH_WARMUP !== "0") {
  warmingUp = true;
  await listenerRun(rates[0]);
  warmingUp = false;
}
// LISTENER_BENCH_ONLY=sweep: only the sustained-rate sweep.
for (const rate of only === "sweep" ? [] : rates) {
  for (const v of variants) await runVariant(v, rate);
  await perfCollectRun(rate);
}
/**
 * The sustained-rate sweep (LISTENER_BENCH_SWEEP=N:RATE,RATE,...; 0 = as
 * fast as the writer can): for each repeat (LISTENER_BENCH_SWEEP_REPEAT),
 * each rate in the order given, the listener (copy worker, decoding) and
 * perf-collect in turn, each run a fresh burst at the same ring size: N
 * events, or at a paced rate at most LISTENER_BENCH_SWEEP_SECONDS (5) of
 * them (a slow rate needs no more to show it holds, and 10,000/s x 150,000
 * would take 15 s). A reader keeps up with a rate when it read every event
 * and lost none. Each run's line carries `sweep`, `repeat` and the guest's
 * load average; one `"reader": "sustained"` line per reader and repeat
 * gives the highest rate up to which every run was loss-free (asked, and
 * as the writer really wrote: a paced writer can fall short of the rate
 * asked when the readers take its CPU, and "max" is whatever it reached),
 * the first rate with a loss, and every run; `maxPacedRate` is the
 * stricter reading: the highest paced rate up to which every run was
 * loss-free with the writer at >= 90% of the rate asked (`firstShortRate`
 * the first that was not).
 */
async function sweep(spec: string, repeats: number): Promise<void> {
  const [count, list] = spec.split(":");
  const rates = (list ?? "").split(",").map(Number);
  const seconds = Number(process.env.LISTENER_BENCH_SWEEP_SECONDS ?? 5);
  if (
    !(Number(count) > 0) || rates.some((r) => !(r >= 0)) || !(seconds > 0)
  ) {
    throw new Error(
      `LISTENER_BENCH_SWEEP=${spec} LISTENER_BENCH_SWEEP_SECONDS=${seconds}: expected N:RATE,RATE,... (e.g. 150000:10000,40000,0) and seconds > 0`,
    );
  }
  const saved = n;
  const readers: [string, (rate: number) => Promise<RunResult>][] = [
    // As a user runs it: without the copy worker's pass log (four more
    // clock reads per pass on the writer's CPU).
    [
      "listener (copy worker)",
      (r) => listenerRun(r, { traced: false }),
    ],
    ["perf-collect", perfCollectRun],
  ];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    const best = readers.map(() => ({
      rate: -1,
      writer: 0,
      firstLoss: null as number | null,
      paced: 0,
      firstShort: null as number | null,
      steps: [] as string[],
    }));
    for (const rate of rates) {
      n = rate > 0
        ? Math.min(Number(count), Math.round(rate * seconds))
        : Number(count);
      for (let i = 0; i < readers.length; i++) {
        const b = best[i];
        sweepFields = {
          sweep: true,
          repeat,
          guestLoad: readFileSync("/proc/loadavg", "utf8").split(" ")
            .slice(0, 3).join(" "),
        };
        const r = await readers[i][1](rate);
        sweepFields = {};
        const ok = r.lost === 0 && r.read === n;
        b.steps.push(
          `${rate || "max"}:${
            ok ? "ok" : "LOSS"
          }(${r.read}/${r.lost},${r.writerEventsPerSecond}/s)`,
        );
        if (!ok) b.firstLoss ??= rate;
        else if (b.firstLoss === null && r.writerEventsPerSecond > b.writer) {
          b.rate = rate;
          b.writer = r.writerEventsPerSecond;
        }
        // The stricter reading: the writer also kept its pace (>= 90% of
        // the rate asked), so the reader did not keep up by taking the
        // writer's CPU.
        if (rate > 0) {
          if (!ok || r.writerEventsPerSecond < 0.9 * rate) {
            b.firstShort ??= rate;
          } else if (b.firstShort === null) b.paced = rate;
        }
      }
    }
    for (let i = 0; i < readers.length; i++) {
      const b = best[i];
      line({
        reader: "sustained",
        of: readers[i][0],
        repeat,
        n: Number(count),
        maxLossFreeRate: b.rate,
        maxLossFreeWriterRate: b.writer,
        firstLossRate: b.firstLoss,
        maxPacedRate: b.paced,
        firstShortRate: b.firstShort,
        steps: b.steps.join(" "),
      });
    }
  }
  n = saved;
}

// LISTENER_BENCH_SWEEP=N:RATES (bench/listener_vm.sh sets a default).
if (process.env.LISTENER_BENCH_SWEEP) {
  await sweep(
    process.env.LISTENER_BENCH_SWEEP,
    Number(process.env.LISTENER_BENCH_SWEEP_REPEAT ?? 1),
  );
}
if (searchArgs.length === 3 && searchArgs.every((x) => x > 0)) {
  const [low, high, steps] = searchArgs;
  for (const v of searchVariants) {
    await search(
      `listener-${name(v)}`,
      (r) => runVariant(v, r),
      low,
      high,
      steps,
    );
  }
  await search("perf-collect", perfCollectRun, low, high, steps);
}
if (only !== "rate" && only !== "sweep") {
  // The same load without the copy worker: the main thread copies between
  // decoding (what the listener does where there is no Worker or poll).
  await listenerRun(rates[0], { copyThread: false });
  await forwarderRun();
}
