/**
 * The advapi32 binding for Deno (`Deno.dlopen`). Nothing is loaded until
 * {@linkcode openAdvapi32Deno} runs.
 *
 * @module
 */

import { type Advapi32Binding, ERROR_NOT_SUPPORTED } from "./advapi32.ts";

/**
 * The symbol table, exactly as `etw-tracelogging.md` §1 gives the Deno types.
 * `EventSetInformation` is optional (Windows 7 RTM lacks it); `EventWrite`
 * and `EventWriteEx` are not bound (unused; Wine lacks `EventWriteEx`).
 */
export const ADVAPI32_DENO_SYMBOLS = {
  EventRegister: {
    parameters: ["buffer", "pointer", "pointer", "buffer"],
    result: "u32",
  },
  EventSetInformation: {
    parameters: ["u64", "i32", "buffer", "u32"],
    result: "u32",
    optional: true,
  },
  EventProviderEnabled: { parameters: ["u64", "u8", "u64"], result: "u8" },
  EventEnabled: { parameters: ["u64", "buffer"], result: "u8" },
  EventWriteTransfer: {
    parameters: ["u64", "buffer", "pointer", "pointer", "u32", "buffer"],
    result: "u32",
  },
  EventUnregister: { parameters: ["u64"], result: "u32" },
} as const;

/**
 * Opens advapi32.dll with `Deno.dlopen` (needs `--allow-ffi`, Windows only).
 *
 * @returns The binding.
 */
export function openAdvapi32Deno(): Advapi32Binding {
  const lib = Deno.dlopen("advapi32.dll", ADVAPI32_DENO_SYMBOLS);
  const s = lib.symbols;
  const setInformation = s.EventSetInformation;
  const pointerOf = (buffer: Uint8Array | null): Deno.PointerValue =>
    buffer === null
      ? null
      : Deno.UnsafePointer.of(buffer as Uint8Array<ArrayBuffer>);
  return {
    runtime: "deno",
    eventRegister: (providerId, handleOut) =>
      s.EventRegister(
        providerId as Uint8Array<ArrayBuffer>,
        null,
        null,
        handleOut as BigUint64Array<ArrayBuffer>,
      ),
    eventSetInformation: (handle, infoClass, info, length) =>
      setInformation === null ? ERROR_NOT_SUPPORTED : setInformation(
        handle,
        infoClass,
        info as Uint8Array<ArrayBuffer>,
        length,
      ),
    eventProviderEnabled: (handle, level, keyword) =>
      s.EventProviderEnabled(handle, level, keyword),
    eventEnabled: (handle, descriptor) =>
      s.EventEnabled(handle, descriptor as Uint8Array<ArrayBuffer>),
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
        descriptor as Uint8Array<ArrayBuffer>,
        pointerOf(activityId),
        pointerOf(relatedId),
        count,
        data as Uint8Array<ArrayBuffer>,
      ),
    eventUnregister: (handle) => s.EventUnregister(handle),
    addressOf: (buffer) =>
      Number(
        Deno.UnsafePointer.value(
          Deno.UnsafePointer.of(buffer as Uint8Array<ArrayBuffer>),
        ),
      ),
    close: () => lib.close(),
  };
}
