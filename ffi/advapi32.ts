/**
 * The runtime-neutral advapi32 (ETW provider API) binding: what the ETW
 * processors call, implemented by `advapi32_deno.ts` (`Deno.dlopen`),
 * `advapi32_bun.ts` (`bun:ffi`) and `advapi32_node.ts` (`node:ffi`), and by
 * recording fakes in tests.
 *
 * Every function returns a plain number (a Win32 error code, or 0/1 for the
 * BOOLEAN results). A `REGHANDLE` is a `bigint`. Buffers are passed by
 * pointer for the duration of the call only; data the ETW call reads through
 * a data descriptor must stay alive and unmoved until the call returns.
 *
 * @module
 */

/**
 * The advapi32 ETW functions the ETW processors use (x64 Windows; see
 * `etw-tracelogging.md` §1 for the C signatures).
 *
 * @example A binding that records calls
 * ```ts
 * import type { Advapi32Binding } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const calls: string[] = [];
 * const binding: Advapi32Binding = {
 *   runtime: "fake",
 *   eventRegister(_id, handleOut) { calls.push("register"); handleOut[0] = 1n; return 0; },
 *   eventSetInformation() { calls.push("traits"); return 0; },
 *   eventProviderEnabled() { return 0; },
 *   eventEnabled() { return 0; },
 *   eventWriteTransfer() { calls.push("write"); return 0; },
 *   eventUnregister() { calls.push("unregister"); return 0; },
 *   addressOf() { return 0x1000; },
 *   close() {},
 * };
 * const out = new BigUint64Array(1);
 * assert.equal(binding.eventRegister(new Uint8Array(16), out), 0);
 * assert.equal(out[0], 1n);
 * assert.deepEqual(calls, ["register"]);
 * ```
 */
export interface Advapi32Binding {
  /** `"deno"`, `"bun"`, `"node"`, or anything else for a fake. */
  readonly runtime: string;
  /**
   * `EventRegister(providerId, NULL, NULL, &handle)`: no enable callback.
   *
   * @param providerId The 16 GUID bytes.
   * @param handleOut Receives the REGHANDLE.
   * @returns A Win32 error code (0 = success).
   */
  eventRegister(providerId: Uint8Array, handleOut: BigUint64Array): number;
  /**
   * `EventSetInformation(handle, infoClass, info, length)`. Returns 50
   * (ERROR_NOT_SUPPORTED) when the OS lacks the function.
   *
   * @param handle The REGHANDLE.
   * @param infoClass The EVENT_INFO_CLASS (2 = provider traits).
   * @param info The information blob.
   * @param length Its length in bytes.
   * @returns A Win32 error code.
   */
  eventSetInformation(
    handle: bigint,
    infoClass: number,
    info: Uint8Array,
    length: number,
  ): number;
  /**
   * `EventProviderEnabled(handle, level, keyword)`.
   *
   * @param handle The REGHANDLE.
   * @param level The event level (1-5).
   * @param keyword The event keyword.
   * @returns 1 when a session wants such events, else 0.
   */
  eventProviderEnabled(handle: bigint, level: number, keyword: bigint): number;
  /**
   * `EventEnabled(handle, &descriptor)`.
   *
   * @param handle The REGHANDLE.
   * @param descriptor The 16-byte EVENT_DESCRIPTOR.
   * @returns 1 when a session wants the event, else 0.
   */
  eventEnabled(handle: bigint, descriptor: Uint8Array): number;
  /**
   * `EventWriteTransfer(handle, &descriptor, activityId, relatedId, count, data)`.
   *
   * @param handle The REGHANDLE.
   * @param descriptor The 16-byte EVENT_DESCRIPTOR.
   * @param activityId A 16-byte GUID, or `null` for the thread's activity id.
   * @param relatedId A 16-byte GUID, or `null`.
   * @param count The number of data descriptors.
   * @param data `count` EVENT_DATA_DESCRIPTORs (16 bytes each).
   * @returns A Win32 error code (0 = success or nobody listening).
   */
  eventWriteTransfer(
    handle: bigint,
    descriptor: Uint8Array,
    activityId: Uint8Array | null,
    relatedId: Uint8Array | null,
    count: number,
    data: Uint8Array,
  ): number;
  /**
   * `EventUnregister(handle)`.
   *
   * @param handle The REGHANDLE.
   * @returns A Win32 error code.
   */
  eventUnregister(handle: bigint): number;
  /**
   * The native address of a buffer's first byte, for EVENT_DATA_DESCRIPTOR
   * `Ptr` fields. Pass a buffer whose `ArrayBuffer` was made with
   * `new ArrayBuffer(n)` (never resized or transferred) and keep it
   * referenced while ETW may read it.
   *
   * @param buffer The buffer.
   * @returns Its address (x64 user addresses fit in 2^53).
   */
  addressOf(buffer: Uint8Array): number;
  /** Closes the library; calls afterwards are undefined behaviour. */
  close(): void;
}

/** ERROR_NOT_SUPPORTED: returned by `eventSetInformation` when the symbol is missing. */
export const ERROR_NOT_SUPPORTED = 50;
