/**
 * Diagnostic hooks for benchmarks and tests: overrides of how the next
 * listener copies ({@linkcode setCopyOverrides}). When a trace buffer is
 * set, the next listener's copy worker logs every copy pass into it (`CLOCK_MONOTONIC`
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

/**
 * Where the next listener's copy workers run (benchmarks compare them):
 * `"writer"` pinned to the CPUs whose rings they copy (the default),
 * `"other"` pinned to every other CPU, `"any"` not pinned.
 */
export type CopyPlacement = "writer" | "other" | "any";

/**
 * What a benchmark or test overrides in the next listener; each field is
 * taken (read and reset to its default) once, by the part of the listener
 * that uses it.
 */
export interface CopyOverrides {
  /** The buffer the next copy worker logs its passes into (default null: none). */
  trace: SharedArrayBuffer | null;
  /** How the next copy worker raises its priority (default null: the listener's). */
  priority: "fifo" | "nice" | "none" | null;
  /** Where the next copy workers run (default null: `"writer"`). */
  placement: CopyPlacement | null;
  /**
   * The ring's wake-up point: a ring wakes its worker at `ring size >> shift`
   * bytes, or, for a shift below 1, at that fraction of the ring (default
   * null: the listener's).
   */
  wakeupShift: number | null;
  /**
   * Bytes of each queue the next copy workers touch before the rings can
   * fill (default null: the listener's).
   */
  prefault: number | null;
  /** How long the next copy workers' polls wait, in ms (default null: the listener's). */
  pollMs: number | null;
  /**
   * Count samples without decoding them (and hand none over): benchmarks
   * see what the decoding itself costs a writer running next to the
   * listener (default false).
   */
  skipDecode: boolean;
  /**
   * Tests start a worker late or never (`Infinity`) and check that this
   * thread keeps copying meanwhile: the copy workers wait this long, in ms,
   * before they report ready (default null: no delay)...
   */
  startDelayMs: number | null;
  /** ...and the listener's open waits at most this long for them (default null: 20 s). */
  startTimeoutMs: number | null;
}

const DEFAULTS: Readonly<CopyOverrides> = {
  trace: null,
  priority: null,
  placement: null,
  wakeupShift: null,
  prefault: null,
  pollMs: null,
  skipDecode: false,
  startDelayMs: null,
  startTimeoutMs: null,
};

const overrides: CopyOverrides = { ...DEFAULTS };

/**
 * Sets overrides for the next listener; fields not given keep what was set
 * before (pass a field's default to clear it).
 *
 * @param set The fields to override.
 */
export function setCopyOverrides(set: Partial<CopyOverrides>): void {
  Object.assign(overrides, set);
}

/**
 * Takes one override: returns it and resets it to its default.
 *
 * @param key The override.
 * @returns Its value (the default when unset).
 */
export function takeCopyOverride<K extends keyof CopyOverrides>(
  key: K,
): CopyOverrides[K] {
  const value = overrides[key];
  overrides[key] = DEFAULTS[key];
  return value;
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
