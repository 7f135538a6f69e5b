// perf-collect and perf-decode (shared/tools/linuxtracepoints) as an
// independent reference for the listener's real-kernel tests, and the gcc
// build of the C writer.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";

const SHARED = process.env.SEED_SHARED ??
  (existsSync("/work/shared") ? "/work/shared" : "../shared");
export const TOOLS = `${SHARED}/tools/linuxtracepoints`;

export interface Collector {
  readonly child: ChildProcess;
  readonly file: string;
  stderr: string;
}

/** Starts perf-collect on `specs` and resolves once it is collecting. */
export async function startPerfCollect(
  file: string,
  specs: readonly string[],
  bufferKiB = 128,
): Promise<Collector> {
  const child = spawn(`${TOOLS}/perf-collect`, [
    "-b",
    String(bufferKiB),
    "-o",
    file,
    ...specs,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  const collector: Collector = { child, file, stderr: "" };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`perf-collect did not start: ${collector.stderr}`)),
      20000,
    );
    child.stderr!.on("data", (chunk) => {
      collector.stderr += String(chunk);
      if (collector.stderr.includes("collecting until")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`perf-collect exited ${code}: ${collector.stderr}`));
    });
  });
  return collector;
}

/** Stops perf-collect with SIGINT and waits for it. */
export async function stopPerfCollect(collector: Collector): Promise<void> {
  const child = collector.child;
  child.removeAllListeners("exit");
  // A child ended by a signal keeps exitCode null and sets signalCode: both
  // mean "already exited", or a second stop would wait for an exit that came.
  if (child.exitCode !== null || child.signalCode !== null) return;
  let escalation: ReturnType<typeof setTimeout> | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    // perf-collect flushes on SIGINT; one that does not exit within 20 s
    // (stopped, or wedged) is killed so the test file cannot hang on it.
    escalation = setTimeout(() => child.kill("SIGKILL"), 20_000);
  });
  child.kill("SIGINT");
  try {
    await exited;
  } finally {
    clearTimeout(escalation);
  }
}

export interface DecodedPerfEvent {
  n: string;
  meta: Record<string, unknown>;
  [field: string]: unknown;
}

/** perf-decode's JSON events of a perf.data file. */
export function perfDecode(file: string): DecodedPerfEvent[] {
  const r = spawnSync(`${TOOLS}/perf-decode`, [file], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`perf-decode failed: ${r.stderr}`);
  const json = JSON.parse(r.stdout.replace(/^\uFEFF/, ""));
  return json[file] as DecodedPerfEvent[];
}

/** Builds tests/kernel/_c_writer.c into `output` with gcc. */
export function buildCWriter(output: string): void {
  const r = spawnSync("gcc", [
    "-std=c99",
    "-O2",
    "-Wall",
    "-Werror",
    "-o",
    output,
    "tests/kernel/_c_writer.c",
  ], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`gcc failed: ${r.stderr}`);
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}
