/**
 * The Linux `user_events` listener: reads EventHeader tracepoints through
 * `perf_event_open(2)` and per-CPU ring buffers, without perf installed
 * (`shared/docs/perf-ring.md`).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { FfiUnavailableError } from "../../ffi/errors.ts";
import {
  type LibcBinding,
  type NativeMemory,
  O_CLOEXEC,
  O_WRONLY,
} from "../../ffi/libc.ts";
import { openLibc } from "../../ffi/load_libc.ts";
import { openPerf } from "../../ffi/load_perf.ts";
import {
  canStartModuleWorker,
  type ModuleWorker,
  startModuleWorker,
} from "../../ffi/worker.ts";
import { COPY_WORKER_URL } from "./_copy_worker.ts";
import {
  type CopyPlacement,
  noteWakeupBytes,
  takeCopyOverride,
} from "./_copy_trace.ts";
import type { MappedMemory, PerfBinding } from "../../ffi/perf.ts";
import { EVENTHEADER_FIELDS } from "../../processors/_eventheader.ts";
import {
  type DecodedEvent,
  EventHeaderRangeDecoder,
} from "../../processors/user_events/decode_event_header.ts";
import {
  CLOCK_MONOTONIC,
  CLOCK_REALTIME,
  parseStaged,
  PERF_ATTR_SIZE,
  PERF_EVENT_IOC_DISABLE,
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_SET_OUTPUT,
  PERF_FLAG_FD_CLOEXEC,
  queueView,
  type RecordSink,
  RingView,
  StagedRecords,
  stageRing,
  writePerfAttr,
} from "./_ring.ts";

const DIAG_IOCSREG = 0xc0082a00;
const DIAG_IOCSUNREG = 0x40082a02;
const DEFAULT_TRACEFS = "/sys/kernel/tracing";
const PROVIDER_PATTERN = /^[A-Za-z0-9_]{1,233}$/;
const TRACEPOINT_PATTERN =
  /^[A-Za-z0-9_]+_L[0-9a-f]+K[0-9a-f]+(?:[A-Z][0-9a-z]*)*$/;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  7: "E2BIG",
  9: "EBADF",
  12: "ENOMEM",
  13: "EACCES",
  16: "EBUSY",
  19: "ENODEV",
  22: "EINVAL",
  24: "EMFILE",
  98: "EADDRINUSE",
};

function errnoName(errno: number): string {
  return `${ERRNO_NAMES[errno] ?? "errno"} (${errno})`;
}

/**
 * The listener could not start: a bad option, a missing kernel feature or a
 * permission. `code` is the errno when a call failed.
 *
 * @example
 * ```ts
 * import { UserEventsListenerError } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const error = new UserEventsListenerError("Cannot open perf events: EACCES (13); run as root", 13);
 * assert.equal(error.code, 13);
 * assert.equal(error.name, "UserEventsListenerError");
 * ```
 */
export class UserEventsListenerError extends Error {
  /** The errno, when a call failed. */
  readonly code: number | undefined;

  /**
   * Creates the error.
   *
   * @param message What failed and what to change.
   * @param code The errno, if any.
   * @param cause The error behind it, if any.
   */
  constructor(message: string, code?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "UserEventsListenerError";
    this.code = code;
  }
}

/**
 * Which tracepoints to listen to.
 *
 * @example
 * ```ts
 * import type { UserEventsListenerOptions } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const options: UserEventsListenerOptions = { providers: ["myservice"], levels: [1, 2, 3] };
 * assert.equal(options.levels?.length, 3);
 * ```
 */
export interface UserEventsListenerOptions {
  /**
   * EventHeader provider names; each gets the tracepoints
   * `<provider>_L<level>K<keyword>` of every level and keyword.
   * @default {[]}
   */
  readonly providers?: readonly string[];
  /**
   * Levels to listen to (1 critical … 5 verbose). Listening turns the level
   * on in every process that writes it.
   * @default {[1, 2, 3, 4, 5]}
   */
  readonly levels?: readonly number[];
  /**
   * Keywords (the `K` part of the name, as numbers).
   * @default {[1]}
   */
  readonly keywords?: readonly number[];
  /**
   * More tracepoints by their full EventHeader name, e.g. `Other_L4K2`.
   * @default {[]}
   */
  readonly tracepoints?: readonly string[];
  /**
   * Register each tracepoint first (`DIAG_IOCSREG`, as a writer would), so
   * listening can start before any writer and no writer exit can delete it
   * mid-way. Needs write access to `user_events_data`; when that fails the
   * listener uses the tracepoints that exist.
   * @default {true}
   */
  readonly preregister?: boolean;
  /**
   * Size of each CPU's ring data area in KiB: a power of two of pages.
   * Events up to the kernel's 8 KiB limit need at least 16.
   * @default {128}
   */
  readonly bufferKiB?: number;
  /**
   * How many KiB per CPU may wait, copied out of the ring, to be decoded.
   * Each drain first copies the rings out and frees them (a memcpy), then
   * decodes, copying again every few hundred events, so a burst that comes
   * faster than decoding lands here instead of overflowing the ring. When
   * this is full, records stay in the ring; once that is full too, the
   * kernel drops and counts them (`lost`).
   * @default {8192}
   */
  readonly backlogKiB?: number;
  /**
   * Copy the rings out from a worker thread that waits in `poll(2)` on the
   * perf fds (a `SharedArrayBuffer` queue of `backlogKiB` per CPU), so the
   * kernel's rings are freed even while this thread is busy: decoding, the
   * caller's own work, a blocked event loop. Needs worker threads (`Worker`
   * on Deno and Bun, `worker_threads` on Node), `SharedArrayBuffer` and a
   * binding with `poll` (Deno, Bun, Node 26); where any is missing, or the
   * worker does not start, the listener copies from this thread, as with
   * `false` (`stats.copyThreadState` and `stats.copyThreadError` say so).
   * It also copies from this thread until the workers are ready.
   * @default {true with the runtime's own binding, false with a given `perf`}
   */
  readonly copyThread?: boolean;
  /**
   * How far the copy workers raise their scheduling priority. `"fifo"`:
   * `SCHED_FIFO` priority 1 where the process may (root or `CAP_SYS_NICE`;
   * what `perf record -r` does), else nice -20, else unchanged. `"nice"`:
   * nice -20 only. `"unchanged"`: the process's own scheduling. A worker
   * only runs when the kernel wakes it (half a ring filled; on a quieter
   * ring every `pollIntervalMs`, at most 25 ms) and
   * copies with one memcpy, so a real-time worker takes little CPU; it
   * keeps the rings drained while the machine is busy (in the VM
   * benchmark, a copier the scheduler did not run for 200-700 ms let the
   * kernel drop events). `stats.copyThreadPriority` says what was granted.
   * @default {"fifo"}
   */
  readonly copyThreadPriority?: "fifo" | "nice" | "unchanged";
  /**
   * How often {@linkcode UserEventsListener.run} drains the rings, in ms.
   * @default {50}
   */
  readonly pollIntervalMs?: number;
  /**
   * The hold-back window, in ms (`shared/docs/perf-ring.md` §5.4): a drain
   * hands over only the events recorded at least this long before the
   * rings were read, and keeps the younger ones for a later drain, where
   * they are merged in time order with what the other CPUs published
   * meanwhile. A sample is timestamped a moment before the kernel publishes
   * it, so without the window an event from one CPU can be handed over
   * before an older one from another CPU. Larger under virtualization
   * (a preempted vCPU can publish late); 0 sorts each drain on its own.
   * Events that still arrive older than one already handed over are
   * counted in `outOfOrder`. Closing (and the end of a
   * {@linkcode UserEventsListener.run}) hands over everything held.
   * @default {10}
   */
  readonly holdBackMs?: number;
  /**
   * The tracefs mount.
   * @default {"/sys/kernel/tracing", else the first tracefs in /proc/mounts}
   */
  readonly tracefsPath?: string;
  /**
   * CPUs to open a ring on.
   * @default {the list in /sys/devices/system/cpu/online}
   */
  readonly cpus?: readonly number[];
  /**
   * The perf binding (tests pass a fake one).
   * @default {the runtime's, from ffi/load_perf.ts}
   */
  readonly perf?: PerfBinding;
  /**
   * The libc binding used to pre-register (tests pass a fake one).
   * @default {the runtime's, from ffi/load_libc.ts}
   */
  readonly libc?: LibcBinding;
}

/**
 * One event read from the kernel.
 *
 * @example
 * ```ts
 * import type { ListenedEvent } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const show = (e: ListenedEvent) => `${e.cpu} ${e.event.provider}:${e.event.name}`;
 * assert.equal(typeof show, "function");
 * ```
 */
export interface ListenedEvent {
  /** The tracepoint, e.g. `MyProvider_L4K1`. */
  readonly tracepoint: string;
  /** The CPU whose ring held it. */
  readonly cpu: number;
  /** The writer's process id. */
  readonly pid: number;
  /** The writer's thread id. */
  readonly tid: number;
  /** When the kernel recorded it: `CLOCK_MONOTONIC` nanoseconds. */
  readonly monotonicNanos: bigint;
  /** The same instant as nanoseconds since the Unix epoch (wall clock). */
  readonly unixNanos: bigint;
  /** The decoded EventHeader event. */
  readonly event: DecodedEvent;
}

/**
 * Counters of a listener. `samples = events + malformed + unknown`; `lost`
 * counts samples the kernel dropped because a ring was full.
 *
 * @example
 * ```ts
 * import type { UserEventsListenerStats } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * const seen = (s: UserEventsListenerStats) => s.events + s.malformed + s.unknown;
 * assert.equal(typeof seen, "function");
 * ```
 */
export interface UserEventsListenerStats {
  /** Sample records read from the rings. */
  readonly samples: number;
  /** Samples decoded and handed over. */
  readonly events: number;
  /** Samples whose bytes were not a valid sample or EventHeader event. */
  readonly malformed: number;
  /** Samples of a tracepoint id the listener did not open. */
  readonly unknown: number;
  /**
   * Samples the kernel dropped for lack of ring space: the sum of
   * `PERF_RECORD_LOST` records while running; after
   * {@linkcode UserEventsListener.close}, the kernel's exact per-CPU counts
   * when those are larger.
   */
  readonly lost: number;
  /** `PERF_RECORD_LOST` records seen. */
  readonly lostRecords: number;
  /** Times a ring's contents were not a valid record stream (dropped). */
  readonly corrupt: number;
  /** Drains done. */
  readonly drains: number;
  /** Bytes copied out of the rings and not decoded yet (all CPUs). */
  readonly backlogBytes: number;
  /** Whether a worker thread copies the rings out (`copyThread`). */
  readonly copyThread: boolean;
  /**
   * How many copy workers run: one per CPU up to 4, each pinned to its
   * CPUs (0 without a copy worker).
   */
  readonly copyThreads: number;
  /**
   * The copy worker's scheduling: `"fifo"` (`SCHED_FIFO` priority 1),
   * `"nice"` (nice -20), `"default"` (the process lacks `CAP_SYS_NICE`, or
   * `copyThreadPriority` is `"unchanged"`), or `"none"` without a copy
   * worker.
   */
  readonly copyThreadPriority: "fifo" | "nice" | "default" | "none";
  /**
   * Who copies the rings out: `"running"` the copy workers; `"starting"`
   * this thread, until the workers are ready (opening waits up to 20 s for
   * them, then returns with this thread copying, and hands the rings over
   * whenever they are); `"failed"` this thread, for good (why:
   * `copyThreadError`); `"off"` this thread, as asked (`copyThread: false`, or a binding without `poll`).
   */
  readonly copyThreadState: "running" | "starting" | "failed" | "off";
  /**
   * Why this thread copies instead of (or did before) the copy workers: a
   * failed start, or a late one (how long this thread copied for).
   */
  readonly copyThreadError: string | undefined;
  /**
   * The most bytes ever found waiting in one ring when it was copied out
   * (by the copy worker, or by this thread without one): at
   * {@linkcode UserEventsListener.bufferBytes} the kernel was dropping.
   */
  readonly ringHighWaterBytes: number;
  /** The longest time between two copies of the rings, in ms. */
  readonly longestCopyGapMs: number;
  /** Copies that left records in a ring because the backlog was full. */
  readonly backlogFullCopies: number;
  /** Events decoded and held back for the hold-back window (`holdBackMs`). */
  readonly heldBack: number;
  /**
   * Events handed over with a time older than an event handed over before
   * them: published later than the hold-back window allowed for.
   */
  readonly outOfOrder: number;
  /** The first malformed sample's error, if any. */
  readonly firstError: string | undefined;
}

interface Ring {
  readonly cpu: number;
  readonly fd: number;
  readonly memory: MappedMemory;
  readonly view: RingView;
  readonly staged: StagedRecords;
  /** The copy worker's queue, read instead of `view` while it runs. */
  queue: RingView | null;
  /** Whether the last stage left records behind (the backlog was full). */
  partial: boolean;
  /** The time of the last event decoded from this ring. */
  lastTime: bigint;
}

/** The copy workers: one per group of CPUs (`_copy_worker.ts`). */
interface Copier {
  readonly workers: readonly ModuleWorker[];
  /** Each worker's state words. */
  readonly states: readonly Int32Array[];
  /** Each worker's CLOCK_MONOTONIC when its last whole copy pass began. */
  readonly passTimes: readonly BigInt64Array[];
}

/** Copy workers started and not handed the rings yet. */
interface StartingCopier {
  readonly workers: ModuleWorker[];
  readonly states: Int32Array[];
  /** The queues, one per ring. */
  readonly queues: RingView[];
  /** Why they cannot run, once known. */
  failure: string | undefined;
  /** `performance.now()` when they were started. */
  readonly startedAt: number;
}

/** Sums (or, with `max`, the largest of) one state word of every worker. */
function stateWord(copier: Copier | null, word: number, max = false): number {
  if (copier === null) return 0;
  let n = 0;
  for (const state of copier.states) {
    n = max ? Math.max(n, state[word]) : n + state[word];
  }
  return n;
}

/** The lowest priority any worker got (1 fifo, 2 nice, 0 default). */
function leastRaised(states: readonly Int32Array[]): number {
  let least = 1;
  for (const state of states) {
    const r = state[7];
    if (r === 0) return 0;
    if (r === 2) least = 2;
  }
  return least;
}

/**
 * Records decoded, or events delivered, between two copies of the rings.
 * Small, because a copy that finds nothing new costs one atomic load per
 * ring, while decoding can be slow (cold JIT, emulated CPUs): at 2 ms per
 * event, 8 events are 16 ms, well inside the time a fast writer needs to
 * fill a 128 KiB ring (about 50 ms at 24,000 events/s).
 */
const SLICE = 8;

/**
 * How long one drain of {@linkcode UserEventsListener.run} decodes before it
 * hands over what it has and lets the event loop run (exports, timers, the
 * caller's I/O), in ms, shared by the rings. A backlog is then decoded in
 * turns instead of in one long task: on an emulated CPU one turn over a
 * full 128 KiB ring took seconds, during which no batch could be exported.
 */
const RUN_BUDGET_MS = 20;

interface Registration {
  readonly name: string;
  readonly enableAddress: bigint;
}

function readTextFile(path: string): string | number {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") return 2;
    if (code === "EACCES") return 13;
    if (code === "EPERM") return 1;
    return 5;
  }
}

function findTracefs(): string {
  if (readTextFile(DEFAULT_TRACEFS + "/available_events") !== 2) {
    return DEFAULT_TRACEFS;
  }
  const mounts = readTextFile("/proc/mounts");
  if (typeof mounts === "string") {
    for (const line of mounts.split("\n")) {
      const parts = line.split(" ");
      if (parts.length >= 3 && parts[2] === "tracefs") {
        return parts[1].replace(/\\040/g, " ");
      }
    }
  }
  return DEFAULT_TRACEFS;
}

/**
 * Parses a kernel CPU list such as `0-3,6`.
 *
 * @param text The list.
 * @returns The CPU numbers, ascending.
 *
 * @example
 * ```ts
 * import { parseCpuList } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseCpuList("0-3,6\n"), [0, 1, 2, 3, 6]);
 * ```
 */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of String(text).trim().split(",")) {
    if (part === "") continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let c = from; c <= to && c - from < 65536; c++) cpus.push(c);
  }
  return cpus;
}

function permissionHint(): string {
  return "run as root, or give the process CAP_PERFMON (with kernel.perf_event_paranoid <= 2) " +
    "plus read access to tracefs events/user_events/*/id (e.g. CAP_DAC_OVERRIDE or group permissions), " +
    "and write access to user_events_data to pre-register";
}

function checkLevels(levels: readonly number[]): number[] {
  const out: number[] = [];
  for (const level of levels) {
    if (!Number.isInteger(level) || level < 1 || level > 255) {
      throw new UserEventsListenerError(
        `Cannot listen at level ${
          String(level)
        }: expected an integer 1-255 (1 critical … 5 verbose)`,
      );
    }
    if (!out.includes(level)) out.push(level);
  }
  return out;
}

/**
 * The tracepoint names a set of options selects, in order.
 *
 * @param options Providers, levels, keywords and extra names.
 * @returns The names.
 * @throws {UserEventsListenerError} On an invalid provider, level, keyword or name.
 *
 * @example
 * ```ts
 * import { selectTracepoints } from "@seed/telemetry/user-events/listener";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(selectTracepoints({ providers: ["app"], levels: [2, 4] }), ["app_L2K1", "app_L4K1"]);
 * ```
 */
export function selectTracepoints(
  options: Pick<
    UserEventsListenerOptions,
    "providers" | "levels" | "keywords" | "tracepoints"
  >,
): string[] {
  const levels = checkLevels(options.levels ?? [1, 2, 3, 4, 5]);
  const keywords = options.keywords ?? [1];
  const names: string[] = [];
  for (const provider of options.providers ?? []) {
    if (typeof provider !== "string" || !PROVIDER_PATTERN.test(provider)) {
      throw new UserEventsListenerError(
        `Cannot listen to provider ${
          JSON.stringify(String(provider))
        }: expected 1-233 ASCII letters, digits or '_'`,
      );
    }
    for (const level of levels) {
      for (const keyword of keywords) {
        if (!Number.isSafeInteger(keyword) || keyword < 0) {
          throw new UserEventsListenerError(
            `Cannot listen to keyword ${
              String(keyword)
            }: expected a non-negative integer`,
          );
        }
        const name = `${provider}_L${level.toString(16)}K${
          keyword.toString(16)
        }`;
        if (!names.includes(name)) names.push(name);
      }
    }
  }
  for (const name of options.tracepoints ?? []) {
    if (
      typeof name !== "string" || name.length > 255 ||
      !TRACEPOINT_PATTERN.test(name)
    ) {
      throw new UserEventsListenerError(
        `Cannot listen to tracepoint ${
          JSON.stringify(String(name))
        }: expected an EventHeader name <provider>_L<level>K<keyword>`,
      );
    }
    if (!names.includes(name)) names.push(name);
  }
  if (names.length === 0) {
    throw new UserEventsListenerError(
      "Cannot listen: no tracepoints selected; pass providers or tracepoints",
    );
  }
  return names;
}

/**
 * Reads EventHeader events from `user_events` tracepoints: one perf event
 * and ring per CPU (further tracepoints share the ring through
 * `PERF_EVENT_IOC_SET_OUTPUT`), drained by {@linkcode UserEventsListener.drain}
 * or {@linkcode UserEventsListener.run}, decoded with the library's
 * EventHeader decoder and handed over in time order across CPUs. Malformed
 * samples never throw: they are counted. Listening turns the tracepoints
 * on in every writer; {@linkcode UserEventsListener.close} (or `using`)
 * turns them off again and releases everything.
 *
 * Draining copies each ring out and frees it first, then decodes, copying
 * the rings again every 8 events, so decoding never holds a ring full
 * (see {@linkcode UserEventsListenerOptions.backlogKiB}).
 *
 * Order: within one drain events are sorted by time (ties by CPU); an event
 * published on one CPU just after a drain may be older than the last one
 * handed over from another CPU.
 *
 * Open it with {@linkcode openUserEventsListener}.
 *
 * @example
 * ```ts ignore
 * import { openUserEventsListener } from "@seed/telemetry/user-events/listener";
 *
 * using listener = await openUserEventsListener({ providers: ["myservice"] });
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 1000);
 * await listener.run((e) => console.log(e.event.name), { signal: controller.signal });
 * console.log(listener.stats);
 * ```
 */
export class UserEventsListener implements Disposable, AsyncDisposable {
  /** The tracepoints listened to. */
  readonly tracepoints: readonly string[];
  /** The tracepoint ids, by name. */
  readonly ids: ReadonlyMap<string, number>;
  /** The CPUs with a ring. */
  readonly cpus: readonly number[];
  /** Bytes of each ring's data area. */
  readonly bufferBytes: number;
  /** How often {@linkcode UserEventsListener.run} drains, in ms. */
  readonly pollIntervalMs: number;

  readonly #perf: PerfBinding;
  readonly #libc: LibcBinding | undefined;
  readonly #names: Map<number, string>;
  readonly #rings: Ring[];
  readonly #fds: { fd: number; cpu: number }[];
  readonly #registrations: Registration[];
  readonly #registerFd: number;
  readonly #enableMemory: NativeMemory | null;
  readonly #decoder = new EventHeaderRangeDecoder();
  readonly #remaining: Float64Array;
  readonly #partial: Uint8Array;
  readonly #counters = new Float64Array(9);
  readonly #holdBack: bigint;
  #lastHanded = -1n;
  readonly #pending: ListenedEvent[] = [];
  #offset = 0n;
  #cpu = 0;
  #firstError: string | undefined;
  #closed = false;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #copier: Copier | null = null;
  #starting: StartingCopier | null = null;
  #copyState: "running" | "starting" | "failed" | "off" = "off";
  #copyError: string | undefined;
  #copyThread = false;
  #copyThreads = 0;
  #highWater = 0;
  #longestGap = 0;
  #backlogFull = 0;
  #lastCopy = -1;
  #raised = 0;

  /** @internal Use {@linkcode openUserEventsListener}. */
  constructor(
    perf: PerfBinding,
    libc: LibcBinding | undefined,
    state: {
      tracepoints: string[];
      ids: Map<string, number>;
      cpus: number[];
      bufferBytes: number;
      pollIntervalMs: number;
      holdBackMs: number;
      rings: Ring[];
      fds: { fd: number; cpu: number }[];
      registrations: Registration[];
      registerFd: number;
      enableMemory: NativeMemory | null;
    },
  ) {
    this.#perf = perf;
    this.#libc = libc;
    this.tracepoints = Object.freeze(state.tracepoints);
    this.ids = state.ids;
    this.cpus = Object.freeze(state.cpus);
    this.bufferBytes = state.bufferBytes;
    this.pollIntervalMs = state.pollIntervalMs;
    this.#holdBack = BigInt(Math.round(state.holdBackMs * 1e6));
    this.#rings = state.rings;
    this.#remaining = new Float64Array(state.rings.length);
    this.#partial = new Uint8Array(state.rings.length);
    this.#fds = state.fds;
    this.#registrations = state.registrations;
    this.#registerFd = state.registerFd;
    this.#enableMemory = state.enableMemory;
    this.#names = new Map();
    for (const [name, id] of state.ids) this.#names.set(id, name);
    this.#takeOffset();
  }

  #takeOffset(): void {
    const perf = this.#perf;
    const m0 = perf.clockNanos(CLOCK_MONOTONIC);
    const real = perf.clockNanos(CLOCK_REALTIME);
    const m1 = perf.clockNanos(CLOCK_MONOTONIC);
    if (m0 >= 0n && m1 >= 0n && real >= 0n) {
      this.#offset = real - (m0 + m1) / 2n;
    }
  }

  /** The counters so far. */
  get stats(): UserEventsListenerStats {
    const c = this.#counters;
    return {
      samples: c[0],
      events: c[1],
      malformed: c[2],
      unknown: c[3],
      lost: c[4],
      lostRecords: c[5],
      corrupt: c[6] + stateWord(this.#copier, 1),
      drains: c[7],
      backlogBytes: this.#backlog(),
      copyThread: this.#copyThread,
      copyThreads: this.#copyThreads,
      copyThreadPriority: this.#priority(),
      copyThreadState: this.#copyState,
      copyThreadError: this.#copyError,
      ringHighWaterBytes: Math.max(
        this.#highWater,
        stateWord(this.#copier, 3, true),
      ),
      longestCopyGapMs: Math.max(
        this.#longestGap,
        stateWord(this.#copier, 5, true) / 1000,
      ),
      backlogFullCopies: this.#backlogFull +
        stateWord(this.#copier, 4),
      heldBack: this.#pending.length,
      outOfOrder: c[8],
      firstError: this.#firstError,
    };
  }

  readonly #sink: RecordSink = {
    sample: takeCopyOverride("skipDecode")
      ? () => {
        // Benchmarks only (skipDecode): count, decode nothing.
        this.#counters[0]++;
        this.#counters[1]++;
      }
      : (bytes, view, start, size) => this.#sample(bytes, view, start, size),
    lost: (lost) => {
      this.#counters[4] += lost;
      this.#counters[5]++;
    },
  };

  #malformed(message: string): void {
    this.#counters[2]++;
    if (this.#firstError === undefined) this.#firstError = message;
  }

  #sample(
    bytes: Uint8Array,
    view: DataView,
    start: number,
    size: number,
  ): void {
    const c = this.#counters;
    c[0]++;
    // IDENTIFIER @8, TID @16, TIME @24, CPU @32, RAW size @40, raw @44.
    if (size < 52) {
      this.#malformed(
        `sample of ${size} bytes is shorter than its fixed fields`,
      );
      return;
    }
    const rawSize = view.getUint32(start + 40, true);
    if (rawSize < 8 || 44 + rawSize > size) {
      this.#malformed(`raw size ${rawSize} does not fit a ${size}-byte sample`);
      return;
    }
    const raw = start + 44;
    const type = view.getUint16(raw, true);
    const name = this.#names.get(type);
    if (name === undefined) {
      c[3]++;
      return;
    }
    let event: DecodedEvent;
    try {
      // In place: no subarray or DataView per event.
      event = this.#decoder.decode(name, bytes, view, raw + 8, raw + rawSize);
    } catch (error) {
      this.#malformed(error instanceof Error ? error.message : String(error));
      return;
    }
    const time = view.getBigUint64(start + 24, true);
    c[1]++;
    this.#pending.push({
      tracepoint: name,
      cpu: view.getUint32(start + 32, true),
      pid: view.getUint32(start + 16, true),
      tid: view.getUint32(start + 20, true),
      monotonicNanos: time,
      unixNanos: time + this.#offset,
      event,
    });
  }

  /**
   * Reads every ring once and hands the decoded events to `onEvent`, in
   * time order. Never throws; an `onEvent` that throws stops nothing (its
   * error is swallowed after the rest are delivered).
   *
   * @param onEvent Receives each event.
   * @returns How many events were handed over.
   */
  drain(onEvent: (event: ListenedEvent) => void): number {
    if (this.#closed) return 0;
    return this.#drain(onEvent);
  }

  #backlog(): number {
    let n = 0;
    for (const ring of this.#rings) n += ring.staged.end - ring.staged.start;
    return n;
  }

  /**
   * Copies every ring out into its staging queue, freeing the ring; with a
   * copy worker, copies its queues instead (and, once it has stopped, what
   * is left in the rings after the queue, oldest first).
   */
  #stage(): void {
    const onCorrupt = this.#onCorrupt;
    const direct = this.#copier === null;
    for (const ring of this.#rings) {
      const queue = ring.queue;
      if (queue !== null) {
        stageRing(queue, ring.staged, onCorrupt);
        const left = Atomics.load(queue.control, 0) !== queue.control[1];
        if (!direct || left) {
          ring.partial = left;
          continue;
        }
      }
      const control = ring.view.control;
      const waiting = Number(Atomics.load(control, 0) - control[1]);
      const copied = stageRing(ring.view, ring.staged, onCorrupt);
      if (waiting > this.#highWater) this.#highWater = waiting;
      ring.partial = copied < waiting;
      if (ring.partial) this.#backlogFull++;
    }
    if (direct && !this.#closed) {
      const now = performance.now();
      if (this.#lastCopy >= 0 && now - this.#lastCopy > this.#longestGap) {
        this.#longestGap = now - this.#lastCopy;
      }
      this.#lastCopy = now;
      if (this.#starting !== null) this.#handOver(this.#starting);
    }
  }

  /**
   * @internal Notes copy workers just started (by
   * {@linkcode openUserEventsListener}): this thread copies the rings
   * until they are ready.
   *
   * @param starting The workers.
   */
  copierStarting(starting: StartingCopier): void {
    this.#starting = starting;
    this.#copyState = "starting";
    this.#handOver(starting);
  }

  /**
   * @internal Notes that no copy worker can start here.
   *
   * @param reason Why.
   */
  copierFailed(reason: string): void {
    this.#copyState = "failed";
    this.#copyError = reason;
  }

  /**
   * @internal Copies the rings from this thread until the copy workers have
   * taken them over or failed, or `timeoutMs` has passed; after that this
   * thread keeps copying on each drain, and hands the rings over whenever
   * the workers are ready.
   *
   * @param timeoutMs How long to wait.
   */
  async awaitCopier(timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (this.#starting !== null && !this.#closed) {
      if (performance.now() >= until) {
        this.#copyError = `copy workers not ready after ${
          Math.round(timeoutMs)
        } ms; this thread copies the rings until they are`;
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
      if (this.#starting !== null && !this.#closed) this.#stage();
    }
  }

  /**
   * Hands the rings to the copy workers once every one is ready. Called
   * right after this thread copied every ring: from here on only the
   * workers read them, into queues this thread stages after what it
   * copied itself, so the order holds and nothing is read twice.
   */
  #handOver(starting: StartingCopier): void {
    if (starting.failure === undefined) {
      for (const state of starting.states) {
        const word = Atomics.load(state, 0);
        if (word === 0) return; // still starting
        if (word !== 4) {
          starting.failure = "a copy worker stopped before it was ready";
          break;
        }
      }
    }
    this.#starting = null;
    if (starting.failure !== undefined) {
      // None of them has touched a ring (they do from state 1 on).
      for (const state of starting.states) {
        Atomics.compareExchange(state, 0, 0, 2);
        Atomics.compareExchange(state, 0, 4, 2);
        Atomics.notify(state, 0);
      }
      for (const worker of starting.workers) worker.terminate();
      this.copierFailed(`${starting.failure}; this thread copies the rings`);
      return;
    }
    for (const worker of starting.workers) worker.onmessage = null;
    this.attachCopier(starting.workers, starting.states, starting.queues);
    let all = true;
    for (const state of starting.states) {
      if (Atomics.compareExchange(state, 0, 4, 1) !== 4) all = false;
      Atomics.notify(state, 0);
    }
    if (!all) {
      // One stopped in between: stop the others; this thread copies on,
      // from their queues first.
      this.#stopCopier();
      this.copierFailed(
        "a copy worker stopped as it was handed the rings; this thread copies them",
      );
      return;
    }
    this.#copyState = "running";
    if (this.#copyError !== undefined) {
      this.#copyError = `copy workers ready after ${
        Math.round(performance.now() - starting.startedAt)
      } ms; this thread copied the rings until then`;
    }
  }

  /**
   * @internal Hands the rings to started copy workers (used by
   * {@linkcode openUserEventsListener}).
   *
   * @param workers The workers.
   * @param states Their state words.
   * @param queues The queues, one per ring.
   */
  attachCopier(
    workers: readonly ModuleWorker[],
    states: readonly Int32Array[],
    queues: RingView[],
  ): void {
    this.#copier = {
      workers,
      states,
      passTimes: states.map((state) => new BigInt64Array(state.buffer, 32, 1)),
    };
    this.#copyThread = true;
    this.#copyThreads = workers.length;
    for (let i = 0; i < this.#rings.length; i++) {
      this.#rings[i].queue = queues[i];
    }
  }

  /**
   * Stops the copy worker and waits until it no longer touches the rings.
   *
   * @returns Whether the rings may be unmapped.
   */
  #stopCopier(): boolean {
    const starting = this.#starting;
    if (starting !== null) {
      starting.failure = "closed before the copy workers were ready";
      this.#handOver(starting);
    }
    const copier = this.#copier;
    if (copier === null) return true;
    const states = copier.states;
    for (const state of states) {
      Atomics.compareExchange(state, 0, 1, 2);
      Atomics.compareExchange(state, 0, 0, 2);
    }
    const deadline = Date.now() + 5000;
    let stopped = true;
    for (const state of states) {
      while (Atomics.load(state, 0) !== 3 && Date.now() < deadline) {
        try {
          Atomics.wait(state, 0, 2, 100);
        } catch {
          // Atomics.wait not allowed on this thread: spin until the deadline.
        }
      }
      if (Atomics.load(state, 0) !== 3) stopped = false;
    }
    this.#counters[6] += stateWord(copier, 1);
    this.#highWater = Math.max(this.#highWater, stateWord(copier, 3, true));
    this.#longestGap = Math.max(
      this.#longestGap,
      stateWord(copier, 5, true) / 1000,
    );
    this.#backlogFull += stateWord(copier, 4);
    this.#raised = leastRaised(states);
    this.#copier = null;
    for (const worker of copier.workers) worker.terminate();
    return stopped;
  }

  #priority(): "fifo" | "nice" | "default" | "none" {
    if (!this.#copyThread) return "none";
    const raised = this.#copier === null
      ? this.#raised
      : leastRaised(this.#copier.states);
    return raised === 1 ? "fifo" : raised === 2 ? "nice" : "default";
  }

  readonly #onCorrupt = (): void => {
    this.#counters[6]++;
  };

  /** Whether anything is waiting, staged or still in a ring. */
  #waiting(): boolean {
    for (const ring of this.#rings) {
      if (ring.staged.end > ring.staged.start) return true;
      if (
        ring.queue !== null &&
        Atomics.load(ring.queue.control, 0) !== ring.queue.control[1]
      ) return true;
      const control = ring.view.control;
      if (Atomics.load(control, 0) !== control[1]) return true;
    }
    return false;
  }

  /**
   * The instant every record published before it is in this drain's
   * first stage: the start of the copy worker's last whole pass, or now
   * (this thread copies the rings itself). -1 when unknown.
   */
  #readInstant(): bigint {
    const copier = this.#copier;
    if (copier !== null) {
      // The oldest of the workers' last passes: each covers its own rings.
      let oldest = -1n;
      for (const times of copier.passTimes) {
        const t = Atomics.load(times, 0);
        if (t <= 0n) return 0n;
        if (oldest < 0n || t < oldest) oldest = t;
      }
      return oldest < 0n ? 0n : oldest;
    }
    const now = this.#perf.clockNanos(CLOCK_MONOTONIC);
    return now >= 0n ? now : -1n;
  }

  #drain(
    onEvent: (event: ListenedEvent) => void,
    flush = false,
    budgetMs = Infinity,
  ): number {
    this.#counters[7]++;
    if ((this.#cpu++ & 63) === 0) this.#takeOffset();
    const rings = this.#rings;
    const remaining = this.#remaining;
    const instant = this.#readInstant();
    this.#stage();
    // This drain decodes what is staged now; later copies wait for the next.
    const partial = this.#partial;
    for (let r = 0; r < rings.length; r++) {
      remaining[r] = rings[r].staged.end - rings[r].staged.start;
      partial[r] = rings[r].partial ? 1 : 0;
    }
    const pending = this.#pending;
    const held = pending.length;
    let contributors = held > 0 ? 1 : 0;
    // Hand over what was recorded before the window; everything older than
    // `instant` was published by then on every CPU, so it is staged now,
    // except on a ring whose backlog was full: it is complete only up to
    // its last decoded event.
    // instant 0: the copy workers have not finished a pass yet (just
    // handed the rings): hold everything back until they have.
    let cutoff = flush || instant < 0n || this.#holdBack === 0n
      ? -1n
      : instant === 0n
      ? 0n
      : instant - this.#holdBack;
    for (let r = 0; r < rings.length; r++) {
      const ring = rings[r];
      const staged = ring.staged;
      const before = pending.length;
      const until = budgetMs === Infinity
        ? Infinity
        : performance.now() + budgetMs / rings.length;
      while (remaining[r] > 0) {
        const from = staged.start;
        parseStaged(staged, from + remaining[r], this.#sink, SLICE);
        remaining[r] -= staged.start - from;
        if (remaining[r] > 0) this.#stage();
        if (until !== Infinity && performance.now() > until) break;
      }
      // Cut short by the time budget: the rest stays staged for the next
      // drain, so this ring is complete only up to its last decoded event.
      if (remaining[r] > 0) partial[r] = 1;
      if (pending.length > before) {
        contributors++;
        ring.lastTime = pending[pending.length - 1].monotonicNanos;
      }
      if (partial[r] === 1 && cutoff >= 0n && ring.lastTime < cutoff) {
        cutoff = ring.lastTime < 0n ? 0n : ring.lastTime;
      }
    }
    // A ring is in time order; only sort when several rings contributed.
    if (contributors > 1) pending.sort(byTime);
    let n = pending.length;
    if (cutoff >= 0n) {
      while (n > 0 && pending[n - 1].monotonicNanos > cutoff) n--;
    }
    for (let i = 0; i < n; i++) {
      const event = pending[i];
      if (event.monotonicNanos < this.#lastHanded) this.#counters[8]++;
      else this.#lastHanded = event.monotonicNanos;
      try {
        onEvent(event);
      } catch {
        // The caller's handler failed; keep delivering.
      }
      if (i % SLICE === SLICE - 1) this.#stage();
    }
    if (n === pending.length) pending.length = 0;
    else if (n > 0) pending.splice(0, n);
    return n;
  }

  /** Drains until nothing is staged and every ring is empty. */
  #drainAll(onEvent: (event: ListenedEvent) => void): void {
    // Bounded: after a disable nothing new arrives; while running, a
    // writer faster than decoding must not keep this loop going forever.
    for (let i = 0; i < 64; i++) {
      this.#drain(onEvent, true);
      if (!this.#waiting()) break;
    }
  }

  /**
   * Drains every {@linkcode UserEventsListener.pollIntervalMs} until
   * `signal` aborts or the listener closes.
   *
   * @param onEvent Receives each event.
   * @param options `signal` stops the loop (after a last drain).
   * @returns Resolves when stopped.
   */
  run(
    onEvent: (event: ListenedEvent) => void,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (this.#running !== undefined) {
      return Promise.reject(
        new UserEventsListenerError(
          "Cannot run the listener twice at once; await the first run()",
        ),
      );
    }
    const signal = options.signal;
    const loop = async () => {
      while (!this.#closed && signal?.aborted !== true) {
        this.#drain(onEvent, false, RUN_BUDGET_MS);
        // Records copied out while decoding, or left staged by the time
        // budget: drain again at once (after letting other tasks run)
        // rather than after a full interval.
        const delay = this.#backlog() > 0 ? 0 : this.pollIntervalMs;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, delay);
          function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
          }
          this.#wake = done;
          signal?.addEventListener("abort", done, { once: true });
        });
        this.#wake = undefined;
      }
      if (!this.#closed) this.#drainAll(onEvent);
    };
    this.#running = loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Stops listening: disables every perf event (writers see their
   * tracepoints off again unless someone else listens), drains the rings a
   * last time into `onEvent`, reads the kernel's exact lost counts, unmaps
   * and closes everything and unregisters the pre-registrations.
   * Idempotent.
   *
   * @param onEvent Receives the last events, if given.
   * @returns The final counters.
   */
  close(onEvent?: (event: ListenedEvent) => void): UserEventsListenerStats {
    if (this.#closed) return this.stats;
    const perf = this.#perf;
    for (const { fd } of this.#fds) perf.ioctl(fd, PERF_EVENT_IOC_DISABLE, 0n);
    const unmap = this.#stopCopier();
    this.#drainAll(onEvent ?? (() => {}));
    this.#closed = true;
    this.#wake?.();
    // read_format ID|LOST: {value, id, lost}.
    const counts = perf.alloc(32);
    let exactLost = 0;
    if (counts !== null) {
      const view = new DataView(counts.buffer, 0, 32);
      for (const { fd } of this.#fds) {
        if (perf.read(fd, counts, 24) === 24) {
          exactLost += Number(view.getBigUint64(16, true));
        }
      }
      perf.free(counts);
    }
    if (exactLost > this.#counters[4]) this.#counters[4] = exactLost;
    // A copy worker that did not stop may still read a ring: leak the
    // mappings rather than let it fault.
    if (unmap) { for (const ring of this.#rings) perf.munmap(ring.memory); }
    for (const { fd } of this.#fds) perf.close(fd);
    unregister(
      this.#libc,
      this.#registerFd,
      this.#registrations,
      this.#enableMemory,
    );
    return this.stats;
  }

  /** Same as {@linkcode UserEventsListener.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Stops a running {@linkcode UserEventsListener.run}, then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    const running = this.#running;
    this.close();
    if (running !== undefined) await running;
  }
}

function byTime(a: ListenedEvent, b: ListenedEvent): number {
  return a.monotonicNanos < b.monotonicNanos
    ? -1
    : a.monotonicNanos > b.monotonicNanos
    ? 1
    : a.cpu - b.cpu;
}

function unregister(
  libc: LibcBinding | undefined,
  fd: number,
  registrations: readonly Registration[],
  enableMemory: NativeMemory | null,
): void {
  if (libc === undefined || fd < 0) return;
  const unreg = libc.alloc(16);
  let ok = unreg !== null;
  if (unreg !== null) {
    const v = new DataView(unreg.buffer, 0, 16);
    for (const r of registrations) {
      v.setUint32(0, 16, true);
      v.setUint32(4, 0, true);
      v.setBigUint64(8, r.enableAddress, true);
      if (libc.ioctl(fd, DIAG_IOCSUNREG, unreg) < 0) ok = false;
    }
    libc.free(unreg);
  }
  // A registration that could not be undone keeps its enable word: leak it.
  if (ok && enableMemory !== null) libc.free(enableMemory);
  libc.close(fd);
}

function preregister(
  libc: LibcBinding,
  dataPath: string,
  names: readonly string[],
): {
  fd: number;
  registrations: Registration[];
  memory: NativeMemory | null;
  errno: number;
} {
  const fd = libc.open(dataPath, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return { fd: -1, registrations: [], memory: null, errno: -fd };
  const memory = libc.alloc(Math.max(8, names.length * 8));
  const reg = libc.alloc(32);
  const registrations: Registration[] = [];
  if (memory === null || reg === null) {
    if (memory !== null) libc.free(memory);
    if (reg !== null) libc.free(reg);
    libc.close(fd);
    return { fd: -1, registrations, memory: null, errno: 12 };
  }
  new Uint8Array(memory.buffer).fill(0); // resident before the kernel needs it
  const v = new DataView(reg.buffer, 0, 32);
  let errno = 0;
  for (let i = 0; i < names.length; i++) {
    const command = names[i] + EVENTHEADER_FIELDS;
    const text = libc.alloc(command.length + 1);
    if (text === null) {
      errno = 12;
      continue;
    }
    const bytes = new Uint8Array(text.buffer, 0, command.length + 1);
    for (let j = 0; j < command.length; j++) bytes[j] = command.charCodeAt(j);
    bytes[command.length] = 0;
    const enableAddress = memory.address + BigInt(i * 8);
    v.setUint32(0, 28, true); // size
    v.setUint8(4, 0); // enable_bit
    v.setUint8(5, 4); // enable_size
    v.setUint16(6, 0, true); // flags
    v.setBigUint64(8, enableAddress, true);
    v.setBigUint64(16, text.address, true);
    v.setUint32(24, 0, true);
    const r = libc.ioctl(fd, DIAG_IOCSREG, reg);
    libc.free(text);
    if (r < 0) {
      // EADDRINUSE: the tracepoint exists with other fields; listen anyway.
      errno = -r;
      continue;
    }
    registrations.push({ name: names[i], enableAddress });
  }
  libc.free(reg);
  return { fd, registrations, memory, errno };
}

/**
 * Opens a {@linkcode UserEventsListener}: pre-registers the tracepoints
 * (unless told not to), reads their ids from tracefs, opens one perf event
 * per CPU and tracepoint, maps one ring per CPU and enables them.
 *
 * @param options What to listen to and how.
 * @returns The listener, already listening.
 * @throws {UserEventsListenerError} On invalid options, a missing
 * tracepoint, no `user_events`, or a permission failure: one message that
 * names what to change.
 *
 * @example Listen for one second
 * ```ts ignore
 * import { openUserEventsListener } from "@seed/telemetry/user-events/listener";
 *
 * await using listener = await openUserEventsListener({ providers: ["myservice"], levels: [1, 2, 3, 4] });
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 1000);
 * await listener.run((e) => console.log(e.tracepoint, e.event.name), { signal: controller.signal });
 * ```
 */
export async function openUserEventsListener(
  options: UserEventsListenerOptions,
): Promise<UserEventsListener> {
  if (options === null || typeof options !== "object") {
    throw new UserEventsListenerError(
      'Cannot open a user_events listener: options must be an object such as { providers: ["myservice"] }',
    );
  }
  const names = selectTracepoints(options);
  const bufferKiB = options.bufferKiB ?? 128;
  const pollIntervalMs = options.pollIntervalMs ?? 50;
  const backlogKiB = options.backlogKiB ?? 8192;
  if (
    typeof backlogKiB !== "number" || !Number.isInteger(backlogKiB) ||
    backlogKiB < 64 || backlogKiB > 1048576
  ) {
    throw new UserEventsListenerError(
      `Cannot use backlogKiB ${
        String(backlogKiB)
      }: expected an integer 64-1048576 (KiB per CPU)`,
    );
  }
  if (
    !Number.isInteger(pollIntervalMs) || pollIntervalMs < 1 ||
    pollIntervalMs > 60000
  ) {
    throw new UserEventsListenerError(
      `Cannot use pollIntervalMs ${
        String(pollIntervalMs)
      }: expected an integer 1-60000`,
    );
  }
  const copyThreadPriority = options.copyThreadPriority ?? "fifo";
  if (
    copyThreadPriority !== "fifo" && copyThreadPriority !== "nice" &&
    copyThreadPriority !== "unchanged"
  ) {
    throw new UserEventsListenerError(
      `Cannot use copyThreadPriority ${
        // Never calls into the value: a hostile toString cannot throw here.
        typeof copyThreadPriority === "string"
          ? JSON.stringify((copyThreadPriority as string).slice(0, 40))
          : `of type ${typeof copyThreadPriority}`}: expected "fifo", "nice" or "unchanged"`,
    );
  }
  const holdBackMs = options.holdBackMs ?? 10;
  if (
    typeof holdBackMs !== "number" || !Number.isFinite(holdBackMs) ||
    holdBackMs < 0 || holdBackMs > 60000
  ) {
    throw new UserEventsListenerError(
      `Cannot use holdBackMs ${
        String(holdBackMs)
      }: expected a number of ms from 0 to 60000 (0 turns the hold-back window off)`,
    );
  }
  let perf: PerfBinding;
  let libc: LibcBinding | undefined;
  try {
    perf = options.perf ?? await openPerf();
    libc = options.libc ??
      (options.preregister === false ? undefined : await openLibc());
  } catch (error) {
    if (error instanceof FfiUnavailableError) {
      throw new UserEventsListenerError(error.message, error.code, error);
    }
    throw error;
  }
  const pageSize = perf.pageSize();
  const bufferBytes = bufferKiB * 1024;
  const pages = bufferBytes / pageSize;
  if (
    !Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0 ||
    bufferKiB > 1048576
  ) {
    throw new UserEventsListenerError(
      `Cannot use bufferKiB ${
        String(bufferKiB)
      }: expected a power of two of ${pageSize}-byte pages (e.g. 64, 128, 256)`,
    );
  }
  const tracefs = options.tracefsPath ?? findTracefs();
  let cpus: number[];
  if (options.cpus !== undefined) {
    cpus = [...options.cpus];
  } else {
    const online = readTextFile("/sys/devices/system/cpu/online");
    cpus = typeof online === "string" ? parseCpuList(online) : [0];
  }
  if (cpus.length === 0) cpus = [0];

  // Pre-register so the tracepoints exist before any writer.
  let registerFd = -1;
  let registrations: Registration[] = [];
  let enableMemory: NativeMemory | null = null;
  let registerErrno = 0;
  if (options.preregister !== false && libc !== undefined) {
    const r = preregister(libc, tracefs + "/user_events_data", names);
    registerFd = r.fd;
    registrations = r.registrations;
    enableMemory = r.memory;
    registerErrno = r.errno;
  }
  const cleanup: (() => void)[] = [
    () => unregister(libc, registerFd, registrations, enableMemory),
  ];
  const fail: (message: string, code?: number) => never = (message, code) => {
    for (let i = cleanup.length - 1; i >= 0; i--) cleanup[i]();
    throw new UserEventsListenerError(message, code);
  };

  const ids = new Map<string, number>();
  for (const name of names) {
    const idPath = `${tracefs}/events/user_events/${name}/id`;
    const text = readTextFile(idPath);
    if (typeof text === "number") {
      if (text === 13 || text === 1) {
        fail(
          `Cannot read ${idPath}: ${errnoName(text)}; ${permissionHint()}`,
          text,
        );
      }
      if (text === 2) {
        if (readTextFile(tracefs + "/user_events_status") === 2) {
          fail(
            `Cannot listen to ${name}: ${tracefs}/user_events_status does not exist; ` +
              "this kernel has no user_events (needs Linux >= 6.4 with CONFIG_USER_EVENTS=y) or tracefs is not mounted there (set tracefsPath)",
            2,
          );
        }
        if (registerErrno === 13 || registerErrno === 1) {
          fail(
            `Cannot listen to ${name}: it is not registered and pre-registering failed with ${
              errnoName(registerErrno)
            }; ${permissionHint()}`,
            registerErrno,
          );
        }
        fail(
          `Cannot listen to ${name}: the tracepoint does not exist (ENOENT) and could not be pre-registered${
            registerErrno === 0 ? "" : ` (${errnoName(registerErrno)})`
          }; start a writer first or allow pre-registration`,
          2,
        );
      }
      fail(`Cannot read ${idPath}: ${errnoName(text)}`, text);
    }
    const id = Number(String(text).trim());
    if (!Number.isInteger(id) || id <= 0 || id > 65535) {
      fail(`Cannot use tracepoint id ${JSON.stringify(text)} from ${idPath}`);
    }
    ids.set(name, id);
  }

  const attr = perf.alloc(PERF_ATTR_SIZE + 32);
  if (attr === null) fail("Cannot allocate native memory: ENOMEM (12)", 12);
  cleanup.push(() => perf.free(attr!));
  const attrView = new DataView(attr!.buffer, 0, PERF_ATTR_SIZE);
  const rings: Ring[] = [];
  const fds: { fd: number; cpu: number }[] = [];
  cleanup.push(() => {
    for (const ring of rings) perf.munmap(ring.memory);
    for (const { fd } of fds) perf.close(fd);
  });
  const length = pageSize + bufferBytes;
  // Wake-up watermark. The copy worker waits in poll(2) and is pinned to
  // the CPU whose ring it copies (at SCHED_FIFO where allowed), so each
  // wake-up preempts the very writer that filled the ring: in the VM one
  // cost that writer 1.3-3 ms of the worker's CPU time (about 40
  // preemptions per 20,000 events at half a ring left it 74-85% of its
  // writing time, its main thread idle or decoding alike; perf-collect,
  // not pinned, runs on the idle CPU and preempted it once per run). Half
  // the ring (the kernel's own default, and TracepointSession's) leaves
  // the other half for the copy. Without a worker this thread drains on a
  // timer, and the watermark only bounds how often a writer pays for a
  // wake-up: a quarter.
  //
  // Not the default yet: a ring is filled only by threads on its CPU, and
  // a pinned SCHED_FIFO copier preempts them as soon as the kernel wakes
  // it (an irq_work self-interrupt inside the write that crossed the
  // watermark), so such a copier could wake at three quarters of the ring
  // and cut the preemptions by a third. The benchmark's wake-up override
  // takes a fraction for that (LISTENER_BENCH_VARIANTS=fifo:writer:0.75);
  // it has not been measured at a usable host load.
  const copyThread = (options.copyThread ?? options.perf === undefined) &&
    typeof perf.poll === "function";
  const requestedPriority = copyThread
    ? takeCopyOverride("priority") ??
      (copyThreadPriority === "unchanged" ? "none" : copyThreadPriority)
    : "none";
  const placement = copyThread
    ? takeCopyOverride("placement") ?? "writer"
    : "writer";
  const shift = takeCopyOverride("wakeupShift");
  const wakeup = Math.max(
    pageSize,
    shift === null
      ? bufferBytes >> (copyThread ? 1 : 2)
      : shift < 1
      ? Math.floor(bufferBytes * shift / 8) * 8
      : bufferBytes >> shift,
  );
  noteWakeupBytes(wakeup);
  for (const cpu of cpus) {
    let ringFd = -1;
    for (const name of names) {
      writePerfAttr(attrView, ids.get(name)!, wakeup);
      const fd = perf.perfEventOpen(attr!, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
      if (fd < 0) {
        const errno = -fd;
        if (errno === 13 || errno === 1) {
          fail(
            `Cannot open perf events on ${name} (CPU ${cpu}): ${
              errnoName(errno)
            }; ${permissionHint()}, or set kernel.perf_event_paranoid=-1`,
            errno,
          );
        }
        fail(
          `Cannot open perf events on ${name} (CPU ${cpu}): ${
            errnoName(errno)
          }`,
          errno,
        );
      }
      fds.push({ fd, cpu });
      if (ringFd < 0) {
        const memory = perf.mmap(fd, length);
        if (typeof memory === "number") {
          fail(
            `Cannot map a ${bufferKiB} KiB perf ring on CPU ${cpu}: ${
              errnoName(-memory)
            }${
              -memory === 1
                ? "; lower bufferKiB (the locked-memory budget is kernel.perf_event_mlock_kb per CPU) or run as root"
                : ""
            }`,
            -memory,
          );
        }
        let view: RingView;
        try {
          view = new RingView(memory.buffer, pageSize);
        } catch (error) {
          perf.munmap(memory);
          fail((error as Error).message);
        }
        rings.push({
          cpu,
          fd,
          memory,
          view: view!,
          staged: new StagedRecords(bufferBytes, backlogKiB * 1024),
          queue: null,
          partial: false,
          lastTime: -1n,
        });
        ringFd = fd;
      } else {
        const r = perf.ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, BigInt(ringFd));
        if (r < 0) {
          fail(
            `Cannot share CPU ${cpu}'s ring with ${name}: ${errnoName(-r)}`,
            -r,
          );
        }
      }
    }
  }
  perf.free(attr!);
  for (const { fd } of fds) perf.ioctl(fd, PERF_EVENT_IOC_ENABLE, 0n);
  const listener = new UserEventsListener(perf, libc, {
    tracepoints: names,
    ids,
    cpus,
    bufferBytes,
    pollIntervalMs,
    holdBackMs,
    rings,
    fds,
    registrations,
    registerFd,
    enableMemory,
  });
  if (copyThread) {
    const delayMs = takeCopyOverride("startDelayMs");
    const timeoutMs = takeCopyOverride("startTimeoutMs");
    startCopier(
      listener,
      perf,
      rings,
      pageSize,
      backlogKiB,
      pollIntervalMs,
      requestedPriority,
      placement,
      delayMs,
    );
    await listener.awaitCopier(timeoutMs ?? COPY_START_TIMEOUT_MS);
  }
  return listener;
}

/** The CPUs a copy worker pins itself to (none: not pinned). */
function placementOf(
  placement: "writer" | "other" | "any",
  rings: readonly Ring[],
  members: readonly number[],
): number[] | undefined {
  const own = members.map((r) => rings[r].cpu);
  if (placement === "writer") return own;
  if (placement === "any") return undefined;
  const others = rings.map((r) => r.cpu).filter((c) => !own.includes(c));
  return others.length > 0 ? others : own;
}

/**
 * How long opening waits for the copy workers (copying the rings from this
 * thread meanwhile) before it returns with this thread still copying: a
 * worker starts in 0.1-2 s in the VM, and took over 20 s once at host load.
 */
const COPY_START_TIMEOUT_MS = 20000;

/**
 * At most this many copy workers; with more CPUs each takes a group of
 * neighbouring CPUs' rings.
 */
const MAX_COPY_WORKERS = 4;

/**
 * Starts the copy workers (`_copy_worker.ts`), one per group of CPUs, each
 * pinned to its group's CPUs. The listener copies the rings from its own
 * thread until every worker is ready, then hands them over right after a
 * copy of its own (see {@linkcode UserEventsListener}'s `#handOver`); on
 * any failure it keeps copying, and says why in `stats.copyThreadError`.
 *
 * Why per CPU: a writer fills the ring of the CPU it runs on, so a copier
 * pinned there runs whenever that ring is being filled. A single copier can
 * wait on another CPU that is busy (the caller's thread decoding) or, on a
 * virtual machine, not running at all, while the writer's CPU runs on and
 * overflows the ring: the VM benchmark showed polls with a 25 ms timeout
 * returning 200-700 ms late while the ring filled (bench/listener_rate.ts).
 * With `SCHED_FIFO` a pinned copier also runs before the writer on its CPU.
 */
function startCopier(
  listener: UserEventsListener,
  perf: PerfBinding,
  rings: readonly Ring[],
  pageSize: number,
  backlogKiB: number,
  pollIntervalMs: number,
  priority: "fifo" | "nice" | "none",
  placement: CopyPlacement,
  startDelayMs: number | null,
): void {
  if (
    !canStartModuleWorker() || typeof SharedArrayBuffer !== "function" ||
    typeof perf.poll !== "function" || typeof perf.viewMemory !== "function" ||
    rings.length === 0
  ) {
    listener.copierFailed(
      "no copy worker here (it needs Worker, SharedArrayBuffer and poll)",
    );
    return;
  }
  let data = 1;
  while (data < backlogKiB * 1024) data *= 2;
  const queues: SharedArrayBuffer[] = rings.map(() =>
    new SharedArrayBuffer(pageSize + data)
  );
  const views = queues.map((q) => queueView(q, pageSize));
  const count = Math.min(rings.length, MAX_COPY_WORKERS);
  const trace = takeCopyOverride("trace");
  // Queue bytes the worker touches before copying (null: four rings).
  // Touching all of them would spare the copies their page faults (in the
  // VM a 64 KiB copy into fresh pages took 0.5 ms, into touched ones
  // 0.05 ms), but made a worker's start too slow under emulation at load
  // (20 s timeout hit once); the benchmark compares them.
  const prefaultBytes = takeCopyOverride("prefault");
  const pollMs = takeCopyOverride("pollMs") ?? Math.min(pollIntervalMs, 25);
  const groups: number[][] = [];
  for (let g = 0; g < count; g++) {
    const from = Math.floor((g * rings.length) / count);
    const to = Math.floor(((g + 1) * rings.length) / count);
    const members: number[] = [];
    for (let r = from; r < to; r++) members.push(r);
    groups.push(members);
  }
  const starting: StartingCopier = {
    workers: [],
    states: groups.map(() => new Int32Array(new SharedArrayBuffer(48))),
    queues: views,
    failure: undefined,
    startedAt: performance.now(),
  };
  for (let g = 0; g < count; g++) {
    let worker: ModuleWorker;
    try {
      worker = startModuleWorker(COPY_WORKER_URL, "runCopyWorker");
    } catch (error) {
      starting.failure = `a copy worker did not start: ${
        error instanceof Error ? error.message : String(error)
      }`;
      break;
    }
    starting.workers.push(worker);
    const members = groups[g];
    worker.onmessage = (m) => {
      const text = String(m.data);
      if (text !== "ready" && starting.failure === undefined) {
        starting.failure = `a copy worker failed: ${text}`;
      }
    };
    worker.onerror = (e) => {
      e.preventDefault?.();
      if (starting.failure === undefined) {
        starting.failure = `a copy worker failed: ${e.message ?? "error"}`;
      }
    };
    worker.postMessage({
      state: starting.states[g].buffer,
      pageSize,
      pollMs,
      trace: g === 0 ? trace : null,
      priority,
      prefaultBytes,
      startDelayMs,
      cpus: placementOf(placement, rings, members),
      rings: members.map((r) => ({
        fd: rings[r].fd,
        address: String(rings[r].memory.address),
        length: rings[r].memory.size,
        queue: queues[r],
      })),
    });
  }
  listener.copierStarting(starting);
}
