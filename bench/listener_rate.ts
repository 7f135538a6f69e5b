// Listener throughput in the user_events VM (run by bench/listener_vm.sh):
// a C writer (tests/kernel/_c_writer.c) writes N EventHeader events as fast
// as it can while (a) this process's UserEventsListener, (b) perf-collect
// read them, each with one ring of BUFFER_KIB per CPU. Prints one JSON line
// per reader: events read, lost, and events/s over the writer's run.
// Usage: listener_rate.ts N BUFFER_KIB POLL_MS
import { spawn, spawnSync } from "node:child_process";
import process from "node:process";
import { openUserEventsListener } from "../receivers/user_events/mod.ts";

const n = Number(process.argv[2] ?? 20000);
const bufferKiB = Number(process.argv[3] ?? 128);
const pollMs = Number(process.argv[4] ?? 1);
const runtime = navigator.userAgent.split(" ")[0];
const writer = `/tmp/bench_c_writer_${process.pid}`;
const tools = process.env.SEED_SHARED
  ? `${process.env.SEED_SHARED}/tools/linuxtracepoints`
  : "../shared/tools/linuxtracepoints";
const gcc = spawnSync("gcc", ["-O2", "-o", writer, "tests/kernel/_c_writer.c"]);
if (gcc.status !== 0) throw new Error(String(gcc.stderr));

function runWriter(provider: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(writer, [provider, String(n)], { stdio: "ignore" });
    child.on(
      "exit",
      (code) =>
        code === 0
          ? resolve(performance.now() - t0)
          : reject(new Error(`writer exit ${code}`)),
    );
  });
}

{
  const provider = `benchl_${process.pid}`;
  const listener = await openUserEventsListener({
    providers: [provider],
    levels: [5],
    bufferKiB,
    pollIntervalMs: pollMs,
  });
  let events = 0;
  const controller = new AbortController();
  const running = listener.run(() => events++, { signal: controller.signal });
  const ms = await runWriter(provider);
  controller.abort();
  await running;
  const stats = listener.close(() => events++);
  console.log(JSON.stringify({
    reader: `listener (${runtime}, poll ${pollMs} ms)`,
    n,
    bufferKiB,
    read: events,
    lost: stats.lost,
    writerMs: Math.round(ms),
    eventsPerSecond: Math.round(events / (ms / 1000)),
  }));
}

{
  const provider = `benchp_${process.pid}`;
  const file = `/tmp/bench_${process.pid}.data`;
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
  const ms = await runWriter(provider);
  const exited = new Promise((r) => collector.on("exit", r));
  collector.kill("SIGINT");
  await exited;
  const decoded = spawnSync(`${tools}/perf-decode`, [file], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const read = JSON.parse(decoded.stdout.replace(/^\uFEFF/, ""))[file].filter((
    e: { n: string },
  ) => e.n.startsWith(provider + ":")).length;
  console.log(JSON.stringify({
    reader: "perf-collect",
    n,
    bufferKiB,
    read,
    lost: n - read,
    writerMs: Math.round(ms),
    eventsPerSecond: Math.round(read / (ms / 1000)),
  }));
}
