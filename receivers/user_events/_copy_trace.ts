/**
 * A diagnostic hook for the benchmark: when a trace buffer is set, the next
 * listener's copy worker logs every copy pass into it (`CLOCK_MONOTONIC`
 * times), so a benchmark can line the passes up with the writer's events
 * and the kernel's losses. Not part of the public API.
 *
 * Layout (a Float64Array over the buffer): `[0]` entries written (the log
 * wraps: entry `i` is at `1 + (i % capacity) * TRACE_FIELDS`); each entry is
 * `[pollCalledMs, pollReturnedMs, copiedMs, mostWaitingBytes, ready,
 * cpuAtPollMs, cpuAtCopiedMs]`, the last two the worker thread's own CPU
 * time (`CLOCK_THREAD_CPUTIME_ID`) when it called poll and when the copy
 * ended.
 *
 * @module
 */

/** Numbers per trace entry. */
export const TRACE_FIELDS = 7;

let next: SharedArrayBuffer | null = null;

/**
 * Sets the buffer the next copy worker logs into (taken once).
 *
 * @param buffer The log, or null for none.
 */
export function setCopyTrace(buffer: SharedArrayBuffer | null): void {
  next = buffer;
}

/**
 * Takes the buffer set by {@linkcode setCopyTrace}, if any.
 *
 * @returns The buffer, or null.
 */
export function takeCopyTrace(): SharedArrayBuffer | null {
  const buffer = next;
  next = null;
  return buffer;
}

let priority: "fifo" | "nice" | "none" | null = null;

/**
 * Overrides how the next copy worker raises its priority (benchmarks
 * compare them); null for the default.
 *
 * @param mode The mode, or null.
 */
export function setCopyPriority(mode: "fifo" | "nice" | "none" | null): void {
  priority = mode;
}

/**
 * Takes the override of {@linkcode setCopyPriority}, if any.
 *
 * @returns The mode, or null.
 */
export function takeCopyPriority(): "fifo" | "nice" | "none" | null {
  const mode = priority;
  priority = null;
  return mode;
}

/**
 * Where the next listener's copy workers run (benchmarks compare them):
 * `"writer"` pinned to the CPUs whose rings they copy (the default),
 * `"other"` pinned to every other CPU, `"any"` not pinned.
 */
export type CopyPlacement = "writer" | "other" | "any";

let placement: CopyPlacement | null = null;
let wakeupShift: number | null = null;

/**
 * Overrides the next copy workers' placement and the ring's wake-up point
 * (a ring wakes its worker at `ring size >> shift` bytes, or, for a shift
 * below 1, at that fraction of the ring); null for the defaults.
 *
 * @param where The placement, or null.
 * @param shift The wake-up shift, or null.
 */
export function setCopyPlacement(
  where: CopyPlacement | null,
  shift: number | null = null,
): void {
  placement = where;
  wakeupShift = shift;
}

/**
 * Takes the placement of {@linkcode setCopyPlacement}, if any.
 *
 * @returns The placement, or null.
 */
export function takeCopyPlacement(): CopyPlacement | null {
  const where = placement;
  placement = null;
  return where;
}

/**
 * Takes the wake-up shift of {@linkcode setCopyPlacement}, if any.
 *
 * @returns The shift, or null.
 */
export function takeWakeupShift(): number | null {
  const shift = wakeupShift;
  wakeupShift = null;
  return shift;
}

let prefault: number | null = null;

/**
 * Overrides how many bytes of each queue the next copy workers touch before
 * the rings can fill (benchmarks compare them); null for the default.
 *
 * @param bytes The bytes, or null.
 */
export function setCopyPrefault(bytes: number | null): void {
  prefault = bytes;
}

/**
 * Takes the override of {@linkcode setCopyPrefault}, if any.
 *
 * @returns The bytes, or null.
 */
export function takeCopyPrefault(): number | null {
  const bytes = prefault;
  prefault = null;
  return bytes;
}

let pollMs: number | null = null;

/**
 * Overrides how long the next copy workers' polls wait, in ms (benchmarks
 * compare them); null for the default.
 *
 * @param ms The timeout, or null.
 */
export function setCopyPollMs(ms: number | null): void {
  pollMs = ms;
}

/**
 * Takes the override of {@linkcode setCopyPollMs}, if any.
 *
 * @returns The timeout in ms, or null.
 */
export function takeCopyPollMs(): number | null {
  const ms = pollMs;
  pollMs = null;
  return ms;
}

let wakeupBytes = 0;

/**
 * Records the wake-up watermark the last listener opened its rings with.
 *
 * @param bytes The watermark, in bytes.
 */
export function noteWakeupBytes(bytes: number): void {
  wakeupBytes = bytes;
}

/**
 * The wake-up watermark of the last listener opened (benchmarks report it).
 *
 * @returns The watermark, in bytes (0 before any listener).
 */
export function lastWakeupBytes(): number {
  return wakeupBytes;
}

let skipDecode = false;

/**
 * Makes the next listener count its samples without decoding them (and
 * hand none over): benchmarks use it to see what the decoding itself costs
 * a writer running next to the listener.
 *
 * @param skip Whether to skip decoding.
 */
export function setSkipDecode(skip: boolean): void {
  skipDecode = skip;
}

/**
 * Takes the setting of {@linkcode setSkipDecode}.
 *
 * @returns Whether the next listener skips decoding.
 */
export function takeSkipDecode(): boolean {
  const skip = skipDecode;
  skipDecode = false;
  return skip;
}

let startDelayMs: number | null = null;
let startTimeoutMs: number | null = null;

/**
 * Makes the next listener's copy workers wait `delayMs` before they report
 * ready (`Infinity`: never), and the listener's open wait at most
 * `timeoutMs` for them (null: the default, 20 s): tests start a worker late
 * or never and check that this thread keeps copying meanwhile.
 *
 * @param delayMs The delay, or null for none.
 * @param timeoutMs The open's wait, or null for the default.
 */
export function setCopyStart(
  delayMs: number | null,
  timeoutMs: number | null = null,
): void {
  startDelayMs = delayMs;
  startTimeoutMs = timeoutMs;
}

/**
 * Takes the settings of {@linkcode setCopyStart}.
 *
 * @returns The worker's start delay and the open's wait, in ms (null: unset).
 */
export function takeCopyStart(): {
  delayMs: number | null;
  timeoutMs: number | null;
} {
  const taken = { delayMs: startDelayMs, timeoutMs: startTimeoutMs };
  startDelayMs = null;
  startTimeoutMs = null;
  return taken;
}
