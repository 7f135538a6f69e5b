// The command line and the runtime's name for the scripts that pair
// TypeScript with C in one process (bench/encode_vs_c.ts,
// bench/etw_floor.ts, bench/tcg_probe.ts), read the same way on Deno, Bun
// and Node 26.
import process from "node:process";

/** The script's own arguments: what follows the runtime and the script's path. */
export const scriptArgs: readonly string[] = process.argv.slice(2);

/**
 * The value given after a flag (`--ms 3000` gives `"3000"` for `"--ms"`).
 *
 * @param name The flag.
 * @returns Its value, or undefined when the flag is not given.
 */
export function argValue(name: string): string | undefined {
  const i = scriptArgs.indexOf(name);
  return i < 0 ? undefined : scriptArgs[i + 1];
}

/**
 * The runtime and its version, as the scripts' JSON reports it.
 *
 * @returns `"Bun 1.4.5"`, `"Deno 2.9.6"` or `"Node 26.12.1"`.
 */
export function runtimeLabel(): string {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  if (bun !== undefined) return `Bun ${bun.version}`;
  const deno = process.versions.deno;
  return deno !== undefined ? `Deno ${deno}` : `Node ${process.versions.node}`;
}
