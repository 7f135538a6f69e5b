// Runs a server script in a child process of the current runtime with the
// auto entry point preloaded, and collects its output.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

export const isBun = typeof (globalThis as { Bun?: unknown }).Bun === "object";
export const isDeno = !isBun && navigator.userAgent.startsWith("Deno");
export const AUTO = fileURLToPath(
  new URL("../../setup/auto.ts", import.meta.url),
);

export interface Child {
  readonly process: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Resolves with the port once the server printed "listening <port>". */
  readonly listening: Promise<number>;
}

/** The child's environment: nothing of ours leaks in but PATH and HOME. */
export function childEnv(vars: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return { ...env, ...vars };
}

export function startChild(
  script: string,
  vars: Record<string, string>,
): Child {
  const args = isDeno
    ? ["run", "-A", "--no-check", `--preload=${AUTO}`, script]
    : [`--preload=${AUTO}`, script];
  const child = spawn(process.execPath, args, {
    env: childEnv(vars),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Child = {
    process: child,
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal }))
    ),
    listening: new Promise((resolve, reject) => {
      child.stderr!.on("data", (chunk: Uint8Array) => {
        out.stderr += new TextDecoder().decode(chunk);
        const m = /listening (\d+)/.exec(out.stderr);
        if (m) resolve(Number(m[1]));
      });
      child.on(
        "exit",
        () => reject(new Error(`child exited early: ${out.stderr}`)),
      );
    }),
  };
  out.listening.catch(() => {});
  child.stdout!.on("data", (chunk: Uint8Array) => {
    out.stdout += new TextDecoder().decode(chunk);
  });
  return out;
}
