// The queue-and-export engine behind the batch and simple processors: a
// preallocated ring, a timer armed only while items wait, a bounded number of
// exports in flight, and counters for everything accepted, dropped, exported
// and failed. Offering an item never blocks, throws or allocates a Promise.

import {
  clearImmediate as clearNodeImmediate,
  clearTimeout as clearNodeTimeout,
  setImmediate as setNodeImmediate,
  setTimeout as setNodeTimeout,
} from "node:timers";
import { type DiagnosticSink, reportDiagnostic } from "./diagnostics.ts";
import type { Exporter, ExportResult } from "./exporter.ts";

/**
 * The timer seam of the batching processors; tests pass a fake that fires on demand.
 *
 * @example
 * ```ts
 * import { BatchLogRecordProcessor, type BatchScheduler, InMemoryExporter } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const armed: number[] = [];
 * const scheduler: BatchScheduler = { setTimeout: (_fn, ms) => armed.push(ms), clearTimeout: () => {} };
 * const processor = new BatchLogRecordProcessor(new InMemoryExporter(), { scheduler, scheduledDelayMillis: 250 });
 * assert.equal(processor.stats.queued, 0);
 * assert.deepEqual(armed, []);
 * ```
 */
export interface BatchScheduler {
  /** Calls `fn` once after `ms` milliseconds; the timer must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** A zero-delay timer of {@linkcode realScheduler}: an immediate. */
class Immediate {
  readonly handle: ReturnType<typeof setNodeImmediate>;
  constructor(handle: ReturnType<typeof setNodeImmediate>) {
    this.handle = handle;
  }
}

/**
 * Real timers from `node:timers` (both runtimes have them), unref'd. A delay
 * of 0 (a batch is full) runs on the next turn of the event loop through
 * `setImmediate`: `setTimeout(fn, 0)` waits at least 1 ms in Node and Bun,
 * and 4 ms in Deno once timers nest (an export that ends starts the next
 * one), which keeps a full batch waiting with nothing to do.
 */
export const realScheduler: BatchScheduler = {
  setTimeout(fn: () => void, ms: number): unknown {
    if (ms <= 0) {
      // Not unref'd: Deno runs an unref'd immediate only when the loop has
      // nothing else to do, so a busy Deno server never exported a full
      // batch and dropped most spans. An immediate runs on the next turn
      // anyway; it cannot keep the process alive.
      return new Immediate(setNodeImmediate(fn));
    }
    const handle = setNodeTimeout(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    if (handle instanceof Immediate) clearNodeImmediate(handle.handle);
    else clearNodeTimeout(handle as ReturnType<typeof setNodeTimeout>);
  },
};

/** Counters of a batching or simple processor; see `BatchProcessorStats`. */
export interface BatcherCounters {
  accepted: number;
  dropped: number;
  droppedAfterShutdown: number;
  droppedOnShutdownTimeout: number;
  exported: number;
  failed: number;
  rejected: number;
  invalid: number;
  exportCalls: number;
  exportFailures: number;
}

export interface BatcherConfig<T> {
  readonly source: string;
  readonly exporter: Exporter<T>;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
  readonly maxConcurrentExports: number;
  /** How long `flush` waits before it returns with work left. */
  readonly forceFlushTimeoutMillis: number;
  /** How long `shutdown` waits before it aborts the exports in flight and drops the queue. */
  readonly shutdownTimeoutMillis: number;
  /** Start an export from `offer` itself once a batch is full (the simple processor). */
  readonly exportOnOffer: boolean;
  readonly scheduler: BatchScheduler;
  readonly diagnostics: DiagnosticSink;
}

interface InFlight {
  promise: Promise<void>;
  readonly controller: AbortController;
  /** Items in the batch. */
  readonly size: number;
  /** Aborted by a shutdown that ran out of time: counted, but reported in that shutdown's one diagnostic. */
  abandoned: boolean;
  /** `performance.now()` at which the export times out. */
  due: number;
  /** Ends the wait for the export with this result (the first call wins). */
  settle: (result: ExportResult) => void;
  /** Ends the wait with the exporter's rejection. */
  fail: (error: unknown) => void;
}

/** The exporter's answer to an export that was not aborted first. */
function settleWith(entry: InFlight, exported: Promise<ExportResult>): void {
  // Promise.resolve: a non-promise or thenable answer, as Promise.race took it.
  Promise.resolve(exported).then(entry.settle, entry.fail);
}

/** Aborts an export in flight: its signal, and the wait for it (a retryable failure). */
function abortExport(entry: InFlight, reason: Error): void {
  entry.controller.abort(reason);
  entry.settle({ code: "failure", retryable: true, error: reason });
}

const NO_SETTLE = (): void => {};

/** What a deadline's promise resolves to. */
const EXPIRED: unique symbol = Symbol("expired");

/** One caller waiting on {@linkcode deadline}. */
interface Wait {
  /** `performance.now()` at which it expires. */
  readonly due: number;
  readonly resolve: (value: typeof EXPIRED) => void;
}

// The longest delay node:timers keeps (a longer one fires after 1 ms).
const MAX_TIMER_MS = 2 ** 31 - 1;

// The monotonic clock of the deadlines, as the runtime made it: code that
// replaces performance.now (a fake clock) cannot move a deadline.
const monotonicNow: () => number = performance.now.bind(performance);

/**
 * The deadlines of every forceFlush and shutdown wait, on one real timer
 * (not the scheduler seam, whose fakes fire on demand). A deadline that is
 * met leaves the timer armed, unref'd, instead of clearing it; the next
 * deadline refs it again, and a timer that fires before the earliest wait is
 * due re-arms itself for the rest. On Deno, a setTimeout/clearTimeout pair
 * per forceFlush cost about 4 µs, 8 ns per record of a 512-record batch;
 * ref and unref cost 0.25 µs.
 */
const deadlines = {
  waits: new Set<Wait>(),
  timer: undefined as ReturnType<typeof setNodeTimeout> | undefined,
  /** When the armed timer fires (`performance.now()`). */
  timerDue: Infinity,
  /** The armed timer keeps the process alive (some wait is pending). */
  timerRef: false,
};

function onDeadlineTimer(): void {
  const d = deadlines;
  d.timer = undefined;
  d.timerDue = Infinity;
  d.timerRef = false;
  const now = monotonicNow();
  let next = Infinity;
  for (const wait of d.waits) {
    if (wait.due <= now) {
      d.waits.delete(wait);
      wait.resolve(EXPIRED);
    } else if (wait.due < next) next = wait.due;
  }
  if (next !== Infinity) armDeadlineTimer(next, now);
}

function armDeadlineTimer(due: number, now: number): void {
  const d = deadlines;
  if (d.timer !== undefined) {
    if (d.timerDue <= due) {
      // Fires first; it re-arms for the rest of this wait then.
      if (!d.timerRef) {
        d.timer.ref?.();
        d.timerRef = true;
      }
      return;
    }
    clearNodeTimeout(d.timer);
  }
  // Ref'd: a caller awaiting forceFlush or shutdown waits for it.
  d.timer = setNodeTimeout(
    onDeadlineTimer,
    Math.min(MAX_TIMER_MS, Math.max(0, due - now)),
  );
  d.timerDue = due;
  d.timerRef = true;
}

/**
 * The most items of one queue chunk (see Batcher): `new Array(n)` keeps fast
 * elements well beyond it in V8 (a dictionary only from about 16K), and
 * batches up to it are handed over without a copy.
 */
const MAX_CHUNK = 8192;

/**
 * A promise that resolves to EXPIRED after `ms`; `cancel` once the work is
 * done, so the process does not wait for it.
 */
function deadline(ms: number): {
  readonly expired: Promise<typeof EXPIRED>;
  cancel(): void;
} {
  const now = monotonicNow();
  let wait!: Wait;
  const expired = new Promise<typeof EXPIRED>((resolve) => {
    wait = { due: now + ms, resolve };
  });
  const d = deadlines;
  d.waits.add(wait);
  armDeadlineTimer(wait.due, now);
  return {
    expired,
    cancel: () => {
      if (!d.waits.delete(wait) || d.waits.size > 0) return;
      if (d.timer !== undefined && d.timerRef) {
        d.timer.unref?.();
        d.timerRef = false;
      }
    },
  };
}

export class Batcher<T> {
  readonly counters: BatcherCounters = {
    accepted: 0,
    dropped: 0,
    droppedAfterShutdown: 0,
    droppedOnShutdownTimeout: 0,
    exported: 0,
    failed: 0,
    rejected: 0,
    invalid: 0,
    exportCalls: 0,
    exportFailures: 0,
  };
  readonly config: BatcherConfig<T>;
  // The queue: chunks of up to #chunkSize items, oldest first, in a ring of
  // chunks (#chunks, #first, #count). A chunk is a fresh array, filled by
  // offer and handed to the exporter as the batch itself when it is one
  // (every batch when maxExportBatchSize is at most MAX_CHUNK). It replaced
  // one preallocated ring of maxQueueSize items, which was old (tenured)
  // when a young item was stored into it: every store took the
  // generational write barrier's slow path (a remembered-set insertion),
  // and every batch was copied out and cleared item by item. Same bound on
  // what is queued; the same allocation (one array per batch of items).
  #chunks: (T[] | undefined)[];
  #first = 0;
  #count = 0;
  /** The newest chunk (offer writes into it), or undefined when there is none. */
  #tail: T[] | undefined = undefined;
  /** Items in #tail. */
  #fill = 0;
  /** Items already taken from the oldest chunk (0 unless batches span chunks). */
  #head = 0;
  #size = 0;
  readonly #capacity: number;
  readonly #chunkSize: number;
  #taken = 0; // items taken out of the queue for export, in total
  #flushTarget = 0; // export regardless of batch size until #taken reaches this
  #timer: unknown = undefined;
  /** The armed timer is an "export now" one (0 ms). */
  #timerNow = false;
  #timerDue = false;
  #inFlight = new Set<InFlight>();
  #closed = false;
  #dropping = false;
  #shutdownPromise: Promise<void> | undefined;
  #onTimer: () => void;
  /** A microtask that arms the delay timer is queued (see `offer`). */
  #tickQueued = false;
  #onTick: () => void;
  /** The export timeout timer (see `#watch`), and the export it was armed for. */
  #watchdog: unknown = undefined;
  #watchdogFor: InFlight | undefined = undefined;
  #onWatchdog: () => void;

  constructor(config: BatcherConfig<T>) {
    this.config = config;
    this.#capacity = config.maxQueueSize;
    this.#chunkSize = Math.min(config.maxExportBatchSize, MAX_CHUNK);
    // Enough slots for every chunk that can hold a queued item (the oldest
    // may be partly taken, the newest partly filled). Built by push so the
    // engine keeps a packed array.
    const slots = Math.ceil(config.maxQueueSize / this.#chunkSize) + 2;
    const chunks: (T[] | undefined)[] = [];
    for (let i = 0; i < slots; i++) chunks.push(undefined);
    this.#chunks = chunks;
    this.#onTimer = () => {
      this.#timer = undefined;
      this.#timerDue = true;
      this.#pump();
    };
    this.#onWatchdog = () => this.#timeOut();
    this.#onTick = () => {
      this.#tickQueued = false;
      if (this.#closed || this.#size === 0 || this.#timer !== undefined) return;
      try {
        this.#arm(this.config.scheduledDelayMillis);
      } catch (error) {
        // No caller's stack to report to: a scheduler that throws is
        // reported, and the items wait for the next offer, flush or shutdown.
        reportDiagnostic(
          this.config.diagnostics,
          this.config.source,
          "error",
          "The scheduler's setTimeout threw; the queued items wait for the next emit, forceFlush or shutdown",
          error,
        );
      }
    };
  }

  get queued(): number {
    return this.#size;
  }
  get inFlight(): number {
    return this.#inFlight.size;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** True when `offer` would drop (queue full or shut down): lets callers skip building the item. */
  wouldDrop(): boolean {
    return this.#closed || this.#size === this.#capacity;
  }

  /** Counts one item that the caller decided not to build because `wouldDrop()` said so. */
  countDrop(): void {
    if (this.#closed) {
      this.counters.droppedAfterShutdown++;
      this.counters.dropped++;
      return;
    }
    this.counters.dropped++;
    if (!this.#dropping) {
      this.#dropping = true;
      reportDiagnostic(
        this.config.diagnostics,
        this.config.source,
        "warn",
        `Queue full (${this.#capacity} items): dropping new items until exports catch up; raise maxQueueSize or check the exporter`,
      );
    }
  }

  offer(item: T): void {
    if (this.#closed || this.#size === this.#capacity) {
      this.countDrop();
      return;
    }
    let tail = this.#tail;
    if (tail === undefined || this.#fill === this.#chunkSize) {
      tail = this.#addChunk();
    }
    tail[this.#fill++] = item;
    this.#size++;
    this.counters.accepted++;
    if (this.#size >= this.config.maxExportBatchSize) {
      if (this.config.exportOnOffer) this.#pump();
      else if (this.#inFlight.size < this.config.maxConcurrentExports) {
        this.#arm(0);
      }
    } else if (this.#timer === undefined && !this.#tickQueued) {
      // The delay timer is armed when the caller's job ends (a microtask),
      // not on its stack: a burst that fills a batch or is flushed within
      // one job (512 emits, then forceFlush) arms no delay timer at all,
      // and the queue is never left waiting without one.
      this.#tickQueued = true;
      queueMicrotask(this.#onTick);
    }
  }

  /** Starts a new newest chunk. */
  #addChunk(): T[] {
    // `new Array(n)` (n at most MAX_CHUNK): preallocated, holey but with
    // fast elements, and young, so offer's stores into it need no
    // remembered-set entry.
    const chunk = new Array<T>(this.#chunkSize);
    const chunks = this.#chunks;
    let at = this.#first + this.#count;
    if (at >= chunks.length) at -= chunks.length;
    chunks[at] = chunk;
    this.#count++;
    this.#tail = chunk;
    this.#fill = 0;
    return chunk;
  }

  /** Drops the oldest chunk from the ring (all of it has been taken). */
  #dropFirst(): void {
    const chunks = this.#chunks;
    chunks[this.#first] = undefined;
    this.#first = this.#first + 1 === chunks.length ? 0 : this.#first + 1;
    this.#head = 0;
    if (--this.#count === 0) {
      this.#tail = undefined;
      this.#fill = 0;
    }
  }

  #arm(ms: number): void {
    const scheduler = this.config.scheduler;
    if (this.#timer !== undefined) {
      // An "export now" timer already waits: re-arming it on every offer
      // past a full batch would cost a timer per item.
      if (ms !== 0 || this.#timerNow) return;
      scheduler.clearTimeout(this.#timer);
    }
    this.#timerNow = ms === 0;
    this.#timer = scheduler.setTimeout(this.#onTimer, ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) {
      this.config.scheduler.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Starts as many exports as the rules allow. */
  #pump(): void {
    const batchSize = this.config.maxExportBatchSize;
    while (
      this.#size > 0 && this.#inFlight.size < this.config.maxConcurrentExports
    ) {
      const full = this.#size >= batchSize;
      if (!full && !this.#timerDue && this.#taken >= this.#flushTarget) break;
      this.#timerDue = false;
      this.#startExport(this.#takeBatch(batchSize));
    }
    this.#timerDue = false;
    if (this.#size === 0) {
      this.#disarm();
      this.#dropping = false;
    } else if (
      this.#timer === undefined &&
      this.#inFlight.size < this.config.maxConcurrentExports
    ) {
      this.#arm(this.#size >= batchSize ? 0 : this.config.scheduledDelayMillis);
    }
  }

  #takeBatch(max: number): T[] {
    const n = Math.min(max, this.#size);
    this.#size -= n;
    this.#taken += n;
    if (this.#size < this.#capacity) this.#dropping = false;
    const oldest = this.#chunks[this.#first] as T[];
    const inOldest = (this.#count === 1 ? this.#fill : this.#chunkSize) -
      this.#head;
    if (this.#head === 0 && n === inOldest) {
      // The batch is the oldest chunk: handed over as it is (cut to its
      // items when it is the newest, partly filled one).
      this.#dropFirst();
      if (oldest.length !== n) oldest.length = n;
      return oldest;
    }
    // A batch that spans chunks or takes part of one (maxExportBatchSize
    // above MAX_CHUNK): copied out, item by item.
    const batch = new Array<T>(n);
    let k = 0;
    while (k < n) {
      const chunk = this.#chunks[this.#first] as T[];
      const end = this.#count === 1 ? this.#fill : this.#chunkSize;
      let i = this.#head;
      while (k < n && i < end) {
        batch[k++] = chunk[i];
        (chunk as (T | undefined)[])[i++] = undefined;
      }
      this.#head = i;
      if (i === end) this.#dropFirst();
    }
    return batch;
  }

  #startExport(batch: T[]): void {
    const controller = new AbortController();
    const entry: InFlight = {
      promise: undefined as unknown as Promise<void>,
      controller,
      size: batch.length,
      abandoned: false,
      due: 0,
      settle: NO_SETTLE,
      fail: NO_SETTLE,
    };
    entry.promise = this.#runExport(batch, entry).finally(() => {
      this.#inFlight.delete(entry);
      this.#pump();
    });
    this.#inFlight.add(entry);
  }

  async #runExport(batch: T[], entry: InFlight): Promise<void> {
    const controller = entry.controller;
    const { exporter, diagnostics, source } = this.config;
    this.counters.exportCalls++;
    let result: ExportResult;
    try {
      // One promise per export, settled by the exporter's answer or by an
      // abort (abortExport: only this engine holds the controller), instead
      // of an abort listener and a race: on Bun and Node, the listener with
      // its options object cost about 1 µs per export.
      const done = new Promise<ExportResult>((resolve, reject) => {
        entry.settle = resolve;
        entry.fail = reject;
      });
      this.#watch(entry);
      settleWith(entry, exporter.export(batch, controller.signal));
      result = await done;
      if (result === null || typeof result !== "object") {
        result = {
          code: "failure",
          retryable: false,
          error: new TypeError("Exporter resolved to no ExportResult"),
        };
      }
    } catch (error) {
      result = {
        code: "failure",
        retryable: false,
        error: error instanceof Error ? error : new Error(String(error)),
      };
    }
    if (result.code === "success") {
      this.counters.exported += batch.length;
      const rejected = result.rejected ?? 0;
      if (rejected > 0) {
        this.counters.rejected += rejected;
        reportDiagnostic(
          diagnostics,
          source,
          "warn",
          `Receiver rejected ${rejected} of ${batch.length} items${
            result.message ? `: ${result.message}` : ""
          }`,
        );
      }
    } else {
      this.counters.failed += batch.length;
      this.counters.exportFailures++;
      if (entry.abandoned) return; // the shutdown reports it
      reportDiagnostic(
        diagnostics,
        source,
        "error",
        `Export of ${batch.length} items failed (${
          result.retryable ? "retryable" : "not retryable"
        }): ${result.error?.message ?? "no reason given"}`,
        result.error,
      );
    }
  }

  /**
   * Gives `entry` its export timeout. One timer serves every export: it is
   * armed for the export it was armed for and left armed when exports end
   * (unref'd, through the scheduler), so an export that ends in time costs no
   * timer; when it fires it aborts what is due and re-arms for the earliest
   * export still in flight. On Deno, a setTimeout/clearTimeout pair per
   * export cost about 6 µs (node:timers), 11 ns per record of a 512-record
   * batch. A scheduler that throws here is reported; the export then runs
   * without a timeout, as it would have before the throw reached it.
   */
  #watch(entry: InFlight): void {
    const ms = this.config.exportTimeoutMillis;
    entry.due = monotonicNow() + ms;
    if (this.#watchdog !== undefined) return;
    this.#armWatchdog(entry, ms);
  }

  #armWatchdog(entry: InFlight, ms: number): void {
    this.#watchdogFor = entry;
    try {
      this.#watchdog = this.config.scheduler.setTimeout(this.#onWatchdog, ms);
    } catch (error) {
      this.#watchdogFor = undefined;
      reportDiagnostic(
        this.config.diagnostics,
        this.config.source,
        "error",
        "The scheduler's setTimeout threw; exports in flight have no timeout until the next export arms one",
        error,
      );
    }
  }

  /** The export timeout timer fired: aborts the exports that are due. */
  #timeOut(): void {
    const target = this.#watchdogFor;
    this.#watchdog = undefined;
    this.#watchdogFor = undefined;
    const now = monotonicNow();
    const ms = this.config.exportTimeoutMillis;
    let next: InFlight | undefined;
    for (const entry of this.#inFlight) {
      const signal = entry.controller.signal;
      if (signal.aborted) continue;
      if (entry === target || entry.due <= now) {
        abortExport(
          entry,
          new DOMException(`Export timed out after ${ms} ms`, "TimeoutError"),
        );
      } else if (next === undefined || entry.due < next.due) next = entry;
    }
    // Exports still in flight after a shutdown began keep their timeout too.
    if (next !== undefined) {
      this.#armWatchdog(next, Math.max(1, Math.ceil(next.due - now)));
    }
  }

  /** Clears the export timeout timer (shutdown: a closed processor leaves no timer). */
  #clearWatchdog(): void {
    if (this.#watchdog === undefined) return;
    const handle = this.#watchdog;
    this.#watchdog = undefined;
    this.#watchdogFor = undefined;
    try {
      this.config.scheduler.clearTimeout(handle);
    } catch {
      // a scheduler that throws: the timer fires and finds nothing due
    }
  }

  /**
   * Exports everything queued at the time of the call and waits for it, up
   * to forceFlushTimeoutMillis; what is not done by then stays queued or in
   * flight, reported in one diagnostic.
   */
  async flush(): Promise<void> {
    const timeout = this.config.forceFlushTimeoutMillis;
    const limit = deadline(timeout);
    try {
      if (await this.#flushWithin(limit.expired)) return;
    } finally {
      limit.cancel();
    }
    reportDiagnostic(
      this.config.diagnostics,
      this.config.source,
      "warn",
      `forceFlush did not finish within forceFlushTimeoutMillis ${timeout}: ${this.#size} items still queued and ${this.#inFlight.size} export(s) in flight; they are kept and exported later`,
    );
  }

  /** Exports everything queued at the time of the call; `false` when `expired` came first. */
  async #flushWithin(expired: Promise<typeof EXPIRED>): Promise<boolean> {
    const target = this.#taken + this.#size;
    if (target > this.#flushTarget) this.#flushTarget = target;
    this.#pump();
    while (this.#taken < target) {
      if (this.#inFlight.size === 0) break; // nothing can move the queue: should not happen
      const first = await Promise.race([
        ...Array.from(this.#inFlight, (f) => f.promise),
        expired,
      ]);
      if (first === EXPIRED) return false;
      this.#pump();
    }
    if (this.#inFlight.size === 0) return true;
    const all = Promise.all(Array.from(this.#inFlight, (f) => f.promise));
    return (await Promise.race([all, expired])) !== EXPIRED;
  }

  /**
   * Refuses new items and exports everything queued, then shuts the exporter
   * down, all within shutdownTimeoutMillis: at the deadline the exports in
   * flight are aborted (counted as failed), what is still queued is dropped
   * (counted as dropped), with one diagnostic for both.
   */
  shutdown(): Promise<void> {
    return this.#shutdownPromise ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    const timeout = this.config.shutdownTimeoutMillis;
    const limit = deadline(timeout);
    // The last tenth of the time (at most 100 ms) is kept for the exporter's
    // own shutdown, which needs a moment to release an aborted request.
    const flushLimit = deadline(
      timeout - Math.min(100, Math.floor(timeout / 10)),
    );
    try {
      let flushed = false;
      try {
        flushed = await this.#flushWithin(flushLimit.expired);
      } finally {
        flushLimit.cancel();
        this.#disarm();
        if (!flushed) await this.#abandon(timeout);
      }
      const exporterDone = Promise.resolve()
        .then(() => this.config.exporter.shutdown())
        .then(
          () => true,
          (error) => {
            reportDiagnostic(
              this.config.diagnostics,
              this.config.source,
              "error",
              "Exporter shutdown failed",
              error,
            );
            return true;
          },
        );
      if ((await Promise.race([exporterDone, limit.expired])) === EXPIRED) {
        reportDiagnostic(
          this.config.diagnostics,
          this.config.source,
          "warn",
          `Exporter shutdown did not finish within shutdownTimeoutMillis ${timeout}; not waiting for it`,
        );
      }
    } finally {
      limit.cancel();
      if (this.#inFlight.size === 0) this.#clearWatchdog();
    }
  }

  /** At the shutdown deadline: drops the queue, aborts the exports in flight, reports both once. */
  async #abandon(timeout: number): Promise<void> {
    const dropped = this.#size;
    if (dropped > 0) {
      while (this.#count > 0) this.#dropFirst();
      this.#size = 0;
      this.counters.dropped += dropped;
      this.counters.droppedOnShutdownTimeout += dropped;
    }
    const abandoned = Array.from(this.#inFlight);
    let aborted = 0;
    for (const entry of abandoned) {
      entry.abandoned = true;
      aborted += entry.size;
      abortExport(
        entry,
        new DOMException(
          `Shutdown timed out after ${timeout} ms`,
          "TimeoutError",
        ),
      );
    }
    // Each aborted export settles at once (the processor's own race).
    await Promise.all(abandoned.map((f) => f.promise));
    if (dropped === 0 && aborted === 0) return;
    reportDiagnostic(
      this.config.diagnostics,
      this.config.source,
      "error",
      `Shutdown did not finish within shutdownTimeoutMillis ${timeout}: aborted ${abandoned.length} export(s) in flight (${aborted} items, counted as failed) and dropped ${dropped} queued items (counted as dropped)`,
    );
  }
}
