/**
 * The advapi32 binding for Node (>= 26, `node:ffi`). Load this file only by
 * dynamic `import()`; nothing is loaded until {@linkcode openAdvapi32Node}
 * runs.
 *
 * @module
 */

import { type Advapi32Binding, ERROR_NOT_SUPPORTED } from "./advapi32.ts";
import {
  nodeFfi,
  nodeFfiPermissionError,
  type NodeFfiPointerArg,
  type NodeFfiSignature,
} from "./node_ffi.ts";

/**
 * The symbol table in `node:ffi` types, from `etw-tracelogging.md` §1: the C
 * pointers (Deno's `buffer` and `pointer`) are all `pointer`, which takes a
 * typed array's address, `null` or a bigint address. `EventSetInformation`
 * is bound on its own ({@linkcode ADVAPI32_NODE_OPTIONAL_SYMBOLS}) so a
 * missing symbol (Windows 7 RTM) does not fail the whole `dlopen`.
 */
export const ADVAPI32_NODE_SYMBOLS: Readonly<
  Record<string, NodeFfiSignature>
> = {
  EventRegister: {
    arguments: ["pointer", "pointer", "pointer", "pointer"],
    return: "u32",
  },
  EventProviderEnabled: { arguments: ["u64", "u8", "u64"], return: "u8" },
  EventEnabled: { arguments: ["u64", "pointer"], return: "u8" },
  EventWriteTransfer: {
    arguments: ["u64", "pointer", "pointer", "pointer", "u32", "pointer"],
    return: "u32",
  },
  EventUnregister: { arguments: ["u64"], return: "u32" },
};

/** The optional symbol, opened on its own. */
export const ADVAPI32_NODE_OPTIONAL_SYMBOLS: Readonly<
  Record<string, NodeFfiSignature>
> = {
  EventSetInformation: {
    arguments: ["u64", "i32", "pointer", "u32"],
    return: "u32",
  },
};

interface Symbols {
  EventRegister(
    id: Uint8Array,
    callback: null,
    context: null,
    handle: BigUint64Array,
  ): number;
  EventProviderEnabled(handle: bigint, level: number, keyword: bigint): number;
  EventEnabled(handle: bigint, descriptor: Uint8Array): number;
  EventWriteTransfer(
    handle: bigint,
    descriptor: Uint8Array,
    activityId: NodeFfiPointerArg,
    relatedId: NodeFfiPointerArg,
    count: number,
    data: Uint8Array,
  ): number;
  EventUnregister(handle: bigint): number;
}

interface OptionalSymbols {
  EventSetInformation(
    handle: bigint,
    infoClass: number,
    info: Uint8Array,
    length: number,
  ): number;
}

/**
 * Opens advapi32.dll with `node:ffi` (Windows only).
 *
 * @returns The binding.
 * @throws {FfiUnavailableError} Without `node:ffi` or, under the permission
 *   model, without `--allow-ffi`.
 */
export function openAdvapi32Node(): Advapi32Binding {
  const ffi = nodeFfi("advapi32.dll");
  let opened;
  try {
    opened = ffi.dlopen("advapi32.dll", ADVAPI32_NODE_SYMBOLS);
  } catch (error) {
    throw nodeFfiPermissionError("advapi32.dll", error) ?? error;
  }
  const { lib } = opened;
  const s = opened.functions as unknown as Symbols;
  let optional: { lib: { close(): void }; s: OptionalSymbols } | null = null;
  try {
    const o = ffi.dlopen("advapi32.dll", ADVAPI32_NODE_OPTIONAL_SYMBOLS);
    optional = { lib: o.lib, s: o.functions as unknown as OptionalSymbols };
  } catch {
    optional = null;
  }
  return {
    runtime: "node",
    eventRegister: (providerId, handleOut) =>
      s.EventRegister(providerId, null, null, handleOut),
    eventSetInformation: (handle, infoClass, info, length) =>
      optional === null
        ? ERROR_NOT_SUPPORTED
        : optional.s.EventSetInformation(handle, infoClass, info, length),
    eventProviderEnabled: (handle, level, keyword) =>
      s.EventProviderEnabled(handle, level, keyword),
    eventEnabled: (handle, descriptor) => s.EventEnabled(handle, descriptor),
    eventWriteTransfer: (
      handle,
      descriptor,
      activityId,
      relatedId,
      count,
      data,
    ) =>
      s.EventWriteTransfer(
        handle,
        descriptor,
        activityId,
        relatedId,
        count,
        data,
      ),
    eventUnregister: (handle) => s.EventUnregister(handle),
    addressOf: (buffer) => Number(ffi.getRawPointer(buffer)),
    close: () => {
      optional?.lib.close();
      lib.close();
    },
  };
}
