// What a result was measured on: runtime and engine versions, CPU, OS.

import { arch, cpus, release } from "node:os";

/** The machine and runtime of one run. */
export interface HostInfo {
  /** `deno`, `bun` or `node`. */
  readonly runtime: string;
  /** The runtime's version. */
  readonly version: string;
  /** The JavaScript engine and its version. */
  readonly engine: string;
  /** CPU model. */
  readonly cpu: string;
  /** Logical CPUs. */
  readonly cores: number;
  /** OS kernel release and architecture. */
  readonly os: string;
  /** When the run started (ISO 8601). */
  readonly date: string;
}

/** Describes the current runtime and machine. */
export function hostInfo(): Promise<HostInfo> {
  const g = globalThis as {
    Bun?: { version: string; revision?: string };
    Deno?: { version: { deno: string; v8: string } };
  };
  let runtime = "unknown";
  let version = "";
  let engine = "";
  if (g.Bun !== undefined) {
    runtime = "bun";
    version = g.Bun.version;
    engine = "JavaScriptCore";
  } else if (g.Deno !== undefined) {
    runtime = "deno";
    version = g.Deno.version.deno;
    engine = `V8 ${g.Deno.version.v8}`;
  } else if (typeof process === "object" && process.versions?.node) {
    runtime = "node";
    version = process.versions.node;
    engine = `V8 ${process.versions.v8}`;
  }
  const list = cpus();
  return Promise.resolve({
    runtime,
    version,
    engine,
    cpu: list.length > 0 ? list[0].model.trim() : "unknown",
    cores: list.length,
    os: `Linux ${release()} ${arch()}`,
    date: new Date().toISOString(),
  });
}
