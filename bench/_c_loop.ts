// The C side of bench/encode_vs_c.ts and bench/etw_floor.ts: a bench
// library's loop, time and dump functions, plus any argument-free i32
// functions a case needs (encode_vs_c's kernel case: registration and enable
// bit), opened through this runtime's FFI.

/** Runs the C side n times; returns ns per event (negative: it failed). */
export type Loop = (n: number) => number;
/** Fills a buffer with one event's bytes; returns their length or -1. */
export type Dump = (out: Uint8Array, cap: number) => number;

/** The three functions of a bench library. */
export interface CLoop {
  readonly loop: Loop;
  readonly setTime: (ms: number) => void;
  readonly dump: Dump;
  /** The `extra` functions asked for, by name: `() → i32`. */
  readonly extra: Readonly<Record<string, () => number>>;
}

type Proc = { argv: string[]; versions?: Record<string, string> };
const proc = (globalThis as unknown as { process?: Proc }).process;
const isBun = "Bun" in globalThis;
const isDeno = "Deno" in globalThis && !isBun;

/** Picks the `extra` functions out of a runtime's symbol table. */
function pick(
  table: Record<string, unknown>,
  extra: readonly string[],
): Record<string, () => number> {
  const out: Record<string, () => number> = {};
  for (const name of extra) out[name] = table[name] as () => number;
  return out;
}

/**
 * Opens `lib` and binds its `loop(i32) → f64`, `setTime(f64)` and
 * `dump(ptr, i32) → i32` functions, and each name of `extra` as `() → i32`.
 */
export async function openCLoop(
  lib: string,
  loop: string,
  setTime: string,
  dump: string,
  extra: readonly string[] = [],
): Promise<CLoop> {
  if (isBun) {
    const { dlopen, FFIType } = await import("bun:ffi");
    const { symbols } = dlopen(lib, {
      [loop]: { args: [FFIType.i32], returns: FFIType.f64 },
      [setTime]: { args: [FFIType.f64], returns: FFIType.void },
      [dump]: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      ...Object.fromEntries(
        extra.map((n) => [n, { args: [], returns: FFIType.i32 }]),
      ),
    });
    const table = symbols as unknown as Record<string, unknown>;
    return {
      loop: table[loop] as Loop,
      setTime: table[setTime] as (ms: number) => void,
      dump: table[dump] as Dump,
      extra: pick(table, extra),
    };
  }
  if (!isDeno) {
    type NodeFfi = {
      dlopen(
        path: string,
        defs: Record<string, { arguments: string[]; return: string }>,
      ): { functions: Record<string, unknown> };
    };
    const ffi = (proc as unknown as {
      getBuiltinModule(id: string): NodeFfi;
    }).getBuiltinModule("node:ffi");
    const { functions } = ffi.dlopen(lib, {
      [loop]: { arguments: ["i32"], return: "f64" },
      [setTime]: { arguments: ["f64"], return: "void" },
      [dump]: { arguments: ["pointer", "i32"], return: "i32" },
      ...Object.fromEntries(
        extra.map((n) => [n, { arguments: [], return: "i32" }]),
      ),
    });
    return {
      loop: functions[loop] as Loop,
      setTime: functions[setTime] as (ms: number) => void,
      dump: functions[dump] as Dump,
      extra: pick(functions, extra),
    };
  }
  const { symbols } = Deno.dlopen(
    lib,
    {
      [loop]: { parameters: ["i32"], result: "f64" },
      [setTime]: { parameters: ["f64"], result: "void" },
      [dump]: { parameters: ["buffer", "i32"], result: "i32" },
      ...Object.fromEntries(
        extra.map((n) => [n, { parameters: [], result: "i32" }]),
      ),
    } as Deno.ForeignLibraryInterface,
  );
  const table = symbols as unknown as Record<string, unknown>;
  return {
    loop: table[loop] as Loop,
    setTime: table[setTime] as (ms: number) => void,
    dump: table[dump] as Dump,
    extra: pick(table, extra),
  };
}
