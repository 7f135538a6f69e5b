// The C side of bench/etw_floor.ts: a bench library's loop, time and dump
// functions, opened through this runtime's FFI (bench/encode_vs_c.ts's
// openC does the same, plus its kernel case's functions).

/** Runs the C side n times; returns ns per event (negative: it failed). */
export type Loop = (n: number) => number;
/** Fills a buffer with one event's bytes; returns their length or -1. */
export type Dump = (out: Uint8Array, cap: number) => number;

/** The three functions of a bench library. */
export interface CLoop {
  readonly loop: Loop;
  readonly setTime: (ms: number) => void;
  readonly dump: Dump;
}

type Proc = { argv: string[]; versions?: Record<string, string> };
const proc = (globalThis as unknown as { process?: Proc }).process;
const isBun = "Bun" in globalThis;
const isDeno = "Deno" in globalThis && !isBun;

/**
 * Opens `lib` and binds its `loop(i32) → f64`, `setTime(f64)` and
 * `dump(ptr, i32) → i32` functions.
 */
export async function openCLoop(
  lib: string,
  loop: string,
  setTime: string,
  dump: string,
): Promise<CLoop> {
  if (isBun) {
    const { dlopen, FFIType } = await import("bun:ffi");
    const { symbols } = dlopen(lib, {
      [loop]: { args: [FFIType.i32], returns: FFIType.f64 },
      [setTime]: { args: [FFIType.f64], returns: FFIType.void },
      [dump]: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    });
    return {
      loop: symbols[loop] as unknown as Loop,
      setTime: symbols[setTime] as unknown as (ms: number) => void,
      dump: symbols[dump] as unknown as Dump,
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
    });
    return {
      loop: functions[loop] as Loop,
      setTime: functions[setTime] as (ms: number) => void,
      dump: functions[dump] as Dump,
    };
  }
  const { symbols } = Deno.dlopen(
    lib,
    {
      [loop]: { parameters: ["i32"], result: "f64" },
      [setTime]: { parameters: ["f64"], result: "void" },
      [dump]: { parameters: ["buffer", "i32"], result: "i32" },
    } as const,
  );
  return {
    loop: symbols[loop] as unknown as Loop,
    setTime: symbols[setTime] as unknown as (ms: number) => void,
    dump: symbols[dump] as unknown as Dump,
  };
}
