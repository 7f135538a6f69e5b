/**
 * The advapi32 binding for Bun (`bun:ffi`). Load this file only by dynamic
 * `import()` (Deno cannot evaluate `bun:ffi`).
 *
 * @module
 */

import { dlopen, FFIType, ptr } from "bun:ffi";
import { type Advapi32Binding, ERROR_NOT_SUPPORTED } from "./advapi32.ts";

/**
 * The symbol table, exactly as `etw-tracelogging.md` §1 gives the Bun types.
 * `EventSetInformation` is bound separately so a missing symbol (Windows 7
 * RTM) does not fail the whole `dlopen`.
 */
export const ADVAPI32_BUN_SYMBOLS = {
  EventRegister: {
    args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr],
    returns: FFIType.u32,
  },
  EventProviderEnabled: {
    args: [FFIType.u64, FFIType.u8, FFIType.u64],
    returns: FFIType.u8,
  },
  EventEnabled: { args: [FFIType.u64, FFIType.ptr], returns: FFIType.u8 },
  EventWriteTransfer: {
    args: [
      FFIType.u64,
      FFIType.ptr,
      FFIType.ptr,
      FFIType.ptr,
      FFIType.u32,
      FFIType.ptr,
    ],
    returns: FFIType.u32,
  },
  EventUnregister: { args: [FFIType.u64], returns: FFIType.u32 },
} as const;

/** The optional symbol, opened on its own. */
export const ADVAPI32_BUN_OPTIONAL_SYMBOLS = {
  EventSetInformation: {
    args: [FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
    returns: FFIType.u32,
  },
} as const;

/**
 * Opens advapi32.dll with `bun:ffi` (Windows only).
 *
 * @returns The binding.
 */
export function openAdvapi32Bun(): Advapi32Binding {
  const lib = dlopen("advapi32.dll", ADVAPI32_BUN_SYMBOLS);
  let optional:
    | ReturnType<typeof dlopen<typeof ADVAPI32_BUN_OPTIONAL_SYMBOLS>>
    | null = null;
  try {
    optional = dlopen("advapi32.dll", ADVAPI32_BUN_OPTIONAL_SYMBOLS);
  } catch {
    optional = null;
  }
  const s = lib.symbols;
  return {
    runtime: "bun",
    eventRegister: (providerId, handleOut) =>
      s.EventRegister(providerId, null, null, handleOut) as number,
    eventSetInformation: (handle, infoClass, info, length) =>
      optional === null
        ? ERROR_NOT_SUPPORTED
        : optional.symbols.EventSetInformation(
          handle,
          infoClass,
          info,
          length,
        ) as number,
    eventProviderEnabled: (handle, level, keyword) =>
      s.EventProviderEnabled(handle, level, keyword) as number,
    eventEnabled: (handle, descriptor) =>
      s.EventEnabled(handle, descriptor) as number,
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
      ) as number,
    eventUnregister: (handle) => s.EventUnregister(handle) as number,
    addressOf: (buffer) => ptr(buffer),
    close: () => {
      optional?.close();
      lib.close();
    },
  };
}
