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
  const table = await dlopenTable(lib, loop, setTime, dump, extra);
  const extras: Record<string, () => number> = {};
  for (const name of extra) extras[name] = table[name] as () => number;
  return {
    loop: table[loop] as Loop,
    setTime: table[setTime] as (ms: number) => void,
    dump: table[dump] as Dump,
    extra: extras,
  };
}

/** The symbol table of `lib` through this runtime's FFI, by function name. */
async function dlopenTable(
  lib: string,
  loop: string,
  setTime: string,
  dump: string,
  extra: readonly string[],
): Promise<Record<string, unknown>> {
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
    return symbols as unknown as Record<string, unknown>;
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
    return functions;
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
  return symbols as unknown as Record<string, unknown>;
}
