/**
 * A diagnostic hook for the benchmark: when a trace buffer is set, the next
 * listener's copy worker logs every copy pass into it (`CLOCK_MONOTONIC`
 * times), so a benchmark can line the passes up with the writer's events
 * and the kernel's losses. Not part of the public API.
 *
 * Layout (a Float64Array over the buffer): `[0]` entries written (the log
 * wraps: entry `i` is at `1 + (i % capacity) * TRACE_FIELDS`); each entry is
 * `[pollCalledMs, pollReturnedMs, copiedMs, mostWaitingBytes, ready]`.
 *
 * @module
 */

/** Numbers per trace entry. */
export const TRACE_FIELDS = 5;

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
