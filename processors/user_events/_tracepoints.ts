/**
 * Registration of a provider's EventHeader tracepoints: the shared
 * `user_events_data` fd, the enable words in native memory, the event
 * buffer, and the write path. Used by both user_events processors.
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
import {
  type DiagnosticSink,
  reportDiagnostic,
} from "../../pipeline/diagnostics.ts";
import {
  ERANGE,
  EVENT_BUFFER_SIZE,
  EventBuffer,
  EVENTHEADER_FIELDS,
} from "../_eventheader.ts";
import type { UserEventsStats } from "./options.ts";

/** `DIAG_IOCSREG`: `_IOWR('*', 0, struct user_reg *)`. */
export const DIAG_IOCSREG = 0xc0082a00;
/** `DIAG_IOCSUNREG`: `_IOW('*', 2, struct user_unreg *)`. */
export const DIAG_IOCSUNREG = 0x40082a02;
/** The default path of `user_events_data`. */
export const DEFAULT_USER_EVENTS_DATA = "/sys/kernel/tracing/user_events_data";

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  9: "EBADF",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  19: "ENODEV",
  22: "EINVAL",
  24: "EMFILE",
  25: "ENOTTY",
  34: "ERANGE",
  95: "ENOTSUP",
  98: "EADDRINUSE",
};

/**
 * Names an errno: `EACCES (13)`.
 *
 * @param errno The errno.
 * @returns Its name and number.
 */
export function errnoName(errno: number): string {
  return `${ERRNO_NAMES[errno] ?? "errno"} (${errno})`;
}

/**
 * Checks a provider name as the Rust exporters do.
 *
 * @param name The provider name.
 * @returns The name.
 * @throws {TypeError} When it is not a string.
 * @throws {RangeError} When it is empty, 234 characters or longer, or has
 * characters other than ASCII letters, digits and `_`.
 */
export function validateProviderName(name: unknown): string {
  if (typeof name !== "string") {
    throw new TypeError(
      `Cannot use providerName ${String(name)}: expected a string`,
    );
  }
  if (
    name.length === 0 || name.length >= 234 || !/^[A-Za-z0-9_]+$/.test(name)
  ) {
    throw new RangeError(
      `Cannot use providerName "${name}": expected 1-233 ASCII letters, digits or '_'`,
    );
  }
  return name;
}

/**
 * The tracepoint name of a provider, level and keyword: `<provider>_L<level>K<keyword>`.
 *
 * @param provider The provider name.
 * @param level The level, 1-5.
 * @param keyword The keyword.
 * @returns The name, e.g. `MyProvider_L4K1`.
 */
export function tracepointName(
  provider: string,
  level: number,
  keyword: number,
): string {
  return `${provider}_L${level.toString(16)}K${keyword.toString(16)}`;
}

interface SharedFd {
  fd: number;
  users: number;
}

const fds = new WeakMap<LibcBinding, Map<string, SharedFd>>();

function findTracefsPath(): string | undefined {
  let mounts: string;
  try {
    mounts = readFileSync("/proc/mounts", "utf8");
  } catch {
    return undefined;
  }
  let debugfs: string | undefined;
  for (const line of mounts.split("\n")) {
    const parts = line.split(" ");
    if (parts.length < 3) continue;
    const dir = parts[1].replace(/\\040/g, " ");
    if (parts[2] === "tracefs") return dir + "/user_events_data";
    if (parts[2] === "debugfs" && debugfs === undefined) {
      debugfs = dir + "/tracing/user_events_data";
    }
  }
  return debugfs;
}

/** What to register. */
export interface TracepointSetConfig {
  /** The provider name (validated). */
  readonly provider: string;
  /** The levels to register, each with keyword 1. */
  readonly levels: readonly number[];
  /** `user_events_data` path; when undefined, the default then `/proc/mounts`. */
  readonly dataPath: string | undefined;
  /** Where the one diagnostic goes. */
  readonly diagnostics: DiagnosticSink;
  /** The reporting component's name. */
  readonly source: string;
}

/**
 * A provider's registered tracepoints. `words[level]` is the enable word of
 * each level (0 when not registered); `words[0]` is always 0.
 */
export class TracepointSet {
  /** Enable words, by level; a view over native memory when registered. */
  words: Int32Array = new Int32Array(8);
  /** `write_index` by level. */
  readonly writeIndex: Int32Array = new Int32Array(8);
  /** The tracepoint names registered. */
  readonly registered: string[] = [];
  /** The event buffer (native memory when available, else a plain buffer). */
  readonly buffer: EventBuffer;
  /** Why the set is unavailable, if it is. */
  readonly unavailableReason: string | undefined;
  /** The fd, or -1. */
  fd: number = -1;

  readonly #libc: LibcBinding | undefined;
  readonly #config: TracepointSetConfig;
  #wordsMemory: NativeMemory | null = null;
  #eventMemory: NativeMemory | null = null;
  #path = "";
  #closed = false;
  /** Emits in progress (see {@linkcode TracepointSet.enter}). */
  #emitting = 0;
  /** close() ran during an emit: free the memory when the last one leaves. */
  #releasePending = false;
  #freeWordsPending = true;

  /**
   * Opens the fd, allocates native memory and registers every level. Never
   * throws for kernel-side failures: it reports one diagnostic instead.
   *
   * @param libc The binding, or why it could not be opened.
   * @param config What to register.
   */
  constructor(
    libc: LibcBinding | FfiUnavailableError,
    config: TracepointSetConfig,
  ) {
    this.#config = config;
    if (libc instanceof FfiUnavailableError) {
      this.#libc = undefined;
      this.buffer = new EventBuffer();
      this.unavailableReason = libc.message;
      this.#report(`${this.unavailableReason}; ${config.source} disabled`);
      return;
    }
    this.#libc = libc;
    const reason = this.#open(libc);
    if (reason !== undefined) {
      this.buffer = new EventBuffer();
      this.unavailableReason = reason;
      this.#release();
      this.#report(`${reason}; ${config.source} disabled`);
      return;
    }
    this.buffer = new EventBuffer(this.#eventMemory!.buffer);
    this.unavailableReason = undefined;
  }

  #report(message: string): void {
    reportDiagnostic(
      this.#config.diagnostics,
      this.#config.source,
      "warn",
      message,
    );
  }

  #open(libc: LibcBinding): string | undefined {
    const config = this.#config;
    // fd, shared per binding and path.
    let path = config.dataPath ?? DEFAULT_USER_EVENTS_DATA;
    let byPath = fds.get(libc);
    if (byPath === undefined) fds.set(libc, byPath = new Map());
    let shared = byPath.get(path);
    if (shared === undefined) {
      let fd = libc.open(path, O_WRONLY | O_CLOEXEC);
      if (fd === -2 && config.dataPath === undefined) {
        const found = findTracefsPath();
        if (found === undefined) {
          return `Cannot find user_events_data: ${path} does not exist and no tracefs or debugfs is mounted (ENOTSUP); ` +
            "mount tracefs (mount -t tracefs nodev /sys/kernel/tracing) on a kernel with CONFIG_USER_EVENTS";
        }
        if (found !== path) {
          path = found;
          shared = byPath.get(path);
          if (shared === undefined) fd = libc.open(path, O_WRONLY | O_CLOEXEC);
        }
      }
      if (shared === undefined) {
        if (fd < 0) return openFailure(path, -fd);
        shared = { fd, users: 0 };
        byPath.set(path, shared);
      }
    }
    shared.users++;
    this.#path = path;
    this.fd = shared.fd;

    // Native memory: enable words (one u32 per level, index = level) and the event buffer.
    const words = libc.alloc(32);
    const event = words === null ? null : libc.alloc(EVENT_BUFFER_SIZE);
    const reg = event === null ? null : libc.alloc(32);
    if (words === null || event === null || reg === null) {
      if (words !== null) libc.free(words);
      if (event !== null) libc.free(event);
      return "Cannot allocate native memory for user_events: ENOMEM (12)";
    }
    this.#wordsMemory = words;
    this.#eventMemory = event;
    const view = new Int32Array(words.buffer, 0, 8);
    for (let i = 0; i < 8; i++) view[i] = 0; // touch: resident and writable before the kernel needs it

    const failures: string[] = [];
    const regView = new DataView(reg.buffer, 0, 32);
    for (const level of config.levels) {
      const name = tracepointName(config.provider, level, 1);
      const command = name + EVENTHEADER_FIELDS;
      const commandMemory = libc.alloc(command.length + 1);
      if (commandMemory === null) {
        failures.push(`${name}: ENOMEM (12)`);
        continue;
      }
      const bytes = new Uint8Array(commandMemory.buffer, 0, command.length + 1);
      for (let i = 0; i < command.length; i++) bytes[i] = command.charCodeAt(i);
      bytes[command.length] = 0;
      regView.setUint32(0, 28, true); // size
      regView.setUint8(4, 0); // enable_bit
      regView.setUint8(5, 4); // enable_size
      regView.setUint16(6, 0, true); // flags
      regView.setBigUint64(8, words.address + BigInt(level * 4), true); // enable_addr
      regView.setBigUint64(16, commandMemory.address, true); // name_args
      regView.setUint32(24, 0, true);
      const r = libc.ioctl(this.fd, DIAG_IOCSREG, reg);
      libc.free(commandMemory);
      if (r < 0) {
        failures.push(`${name}: ${errnoName(-r)}`);
        continue;
      }
      this.writeIndex[level] = regView.getInt32(24, true);
      this.registered.push(name);
    }
    libc.free(reg);
    if (this.registered.length === 0) {
      return `Cannot register user_events tracepoints on ${path}: ${
        failures.join(", ")
      }`;
    }
    this.words = view;
    if (failures.length > 0) {
      this.#report(
        `Cannot register some user_events tracepoints on ${path}: ${
          failures.join(", ")
        }; records of those levels are not written`,
      );
    }
    return undefined;
  }

  /**
   * Writes `length` bytes of the event buffer for `level`.
   *
   * @param level The level whose write index to use.
   * @param length Bytes, including the 4-byte index.
   * @returns Bytes written, or `-errno`.
   */
  write(level: number, length: number): number {
    // Closed while this emit encoded (user code in a callback, getter or
    // toString shut the processor down): the tracepoints are gone, as after
    // a listener detached.
    if (this.#closed) return -9; // EBADF
    this.buffer.view.setInt32(0, this.writeIndex[level], true);
    return this.#libc!.write(this.fd, this.#eventMemory!, length);
  }

  /**
   * Marks an emit in progress, from before the encode into {@linkcode buffer}
   * to after {@linkcode write}. The encode runs user code (event name
   * callbacks, getters, `toString`), which may shut the processor down: a
   * {@linkcode close} meanwhile unregisters at once but frees the native
   * memory the encode is writing into only in the matching
   * {@linkcode leave}. Freeing it at once would let the encode write into
   * memory malloc has already handed to someone else (with Node's FFI
   * zero-copy views, into V8's own bookkeeping).
   */
  enter(): void {
    this.#emitting++;
  }

  /** Ends what {@linkcode enter} began; frees the memory of a close that came meanwhile. */
  leave(): void {
    if (--this.#emitting === 0 && this.#releasePending) {
      this.#releasePending = false;
      this.#release(this.#freeWordsPending);
    }
  }

  /**
   * {@linkcode TracepointSet.close}, reporting tracepoints that could not be
   * unregistered as one diagnostic.
   *
   * @param diagnostics Where the diagnostic goes.
   * @param source The processor reporting it.
   */
  closeAndReport(diagnostics: DiagnosticSink, source: string): void {
    const failures = this.close();
    if (failures.length > 0) {
      reportDiagnostic(
        diagnostics,
        source,
        "warn",
        `Cannot unregister user_events tracepoints: ${
          failures.join(", ")
        }; their enable memory is leaked`,
      );
    }
  }

  /**
   * Unregisters every tracepoint, then frees the enable words and the event
   * buffer and releases the fd; during an emit (see
   * {@linkcode TracepointSet.enter}) the freeing waits for its end.
   * Idempotent.
   *
   * @returns The names whose unregistration failed (their memory is leaked).
   */
  close(): string[] {
    if (this.#closed) return [];
    this.#closed = true;
    this.words = new Int32Array(8);
    const libc = this.#libc;
    const words = this.#wordsMemory;
    const failures: string[] = [];
    if (libc !== undefined && words !== null && this.registered.length > 0) {
      const unreg = libc.alloc(16);
      if (unreg === null) {
        failures.push("all: ENOMEM (12)");
      } else {
        const v = new DataView(unreg.buffer, 0, 16);
        for (const level of this.#config.levels) {
          const name = tracepointName(this.#config.provider, level, 1);
          if (!this.registered.includes(name)) continue;
          v.setUint32(0, 16, true);
          v.setUint8(4, 0);
          v.setUint8(5, 0);
          v.setUint16(6, 0, true);
          v.setBigUint64(8, words.address + BigInt(level * 4), true);
          const r = libc.ioctl(this.fd, DIAG_IOCSUNREG, unreg);
          if (r < 0) failures.push(`${name}: ${errnoName(-r)}`);
        }
        libc.free(unreg);
      }
    }
    if (this.#emitting > 0) {
      this.#releasePending = true;
      this.#freeWordsPending = failures.length === 0;
    } else {
      this.#release(failures.length === 0);
    }
    return failures;
  }

  #release(freeWords = true): void {
    const libc = this.#libc;
    if (libc === undefined) return;
    if (this.#wordsMemory !== null && freeWords) libc.free(this.#wordsMemory);
    this.#wordsMemory = null;
    if (this.#eventMemory !== null) libc.free(this.#eventMemory);
    this.#eventMemory = null;
    if (this.fd >= 0) {
      const shared = fds.get(libc)?.get(this.#path);
      if (shared !== undefined && --shared.users === 0) {
        fds.get(libc)!.delete(this.#path);
        libc.close(shared.fd);
      }
      this.fd = -1;
    }
  }
}

function openFailure(path: string, errno: number): string {
  if (errno === 13 || errno === 1) {
    return `Cannot open ${path}: ${
      errnoName(errno)
    }; grant group write access ` +
      `(e.g. chgrp tracers ${dirOf(path)} ${path}; chmod g+x ${
        dirOf(path)
      }; chmod g+w ${path}) or run as root`;
  }
  if (errno === 2) {
    return `Cannot open ${path}: ENOENT (2); this kernel has no user_events ` +
      "(needs Linux >= 6.4 built with CONFIG_USER_EVENTS=y)";
  }
  return `Cannot open ${path}: ${errnoName(errno)}`;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i > 0 ? path.slice(0, i) : "/";
}

/**
 * Opens libc through the runtime's FFI, or returns why it cannot.
 *
 * @returns The binding, or the error.
 */
export async function loadLibc(): Promise<LibcBinding | FfiUnavailableError> {
  try {
    return await openLibc();
  } catch (error) {
    return error instanceof FfiUnavailableError
      ? error
      : new FfiUnavailableError(
        `Cannot load libc: ${
          error instanceof Error ? error.message : String(error)
        }`,
        {
          cause: error,
        },
      );
  }
}

/**
 * What became of the events a processor tried to write (the enabled path),
 * shared by the log and span processors: encode errors, oversize events,
 * and each `write` result, with one diagnostic for the first unexpected
 * errno.
 */
export class WriteOutcomes {
  written = 0;
  noListener = 0;
  tooLarge = 0;
  writeError = 0;
  encodeError = 0;
  /** Spans dropped by the hand-made span check. */
  invalidSpan = 0;
  /** Spans written with fields repaired by the hand-made span check. */
  repairedSpans = 0;
  /** Events named `Log` because the event-name callback failed. */
  nameFallback = 0;
  #reported = false;

  /**
   * Counts one `write` result: bytes written, or `-errno`. `EBADF` means
   * the listener went away after the enable check; `ERANGE` that the kernel
   * found the event too large.
   */
  count(
    r: number,
    diagnostics: DiagnosticSink,
    source: string,
    what: string,
  ): void {
    if (r >= 0) this.written++;
    else if (r === -9) this.noListener++;
    else if (r === -ERANGE) this.tooLarge++;
    else {
      this.writeError++;
      if (!this.#reported) {
        this.#reported = true;
        reportDiagnostic(
          diagnostics,
          source,
          "warn",
          `Cannot write to user_events: errno ${-r}; the ${what} was dropped (counted in stats.droppedWriteError)`,
        );
      }
    }
  }

  /**
   * The tail both user_events processors share: writes an event the
   * encoder left in `set.buffer` (`length` bytes with the index) to
   * `level`'s tracepoint and counts the outcome; a negative `length` (the
   * encoder's `-ERANGE`: it could not be made to fit) counts as too large.
   */
  writeEvent(
    set: TracepointSet,
    level: number,
    length: number,
    diagnostics: DiagnosticSink,
    source: string,
    what: string,
  ): void {
    if (length < 0) this.tooLarge++;
    else this.count(set.write(level, length), diagnostics, source, what);
  }

  /** The processor's stats, given its disabled-path counters. */
  stats(
    set: TracepointSet,
    notEnabled: number,
    noSeverity: number,
  ): UserEventsStats {
    return {
      emitted: notEnabled + noSeverity + this.written + this.noListener +
        this.tooLarge + this.writeError + this.encodeError + this.invalidSpan,
      notEnabled,
      written: this.written,
      droppedNoSeverity: noSeverity,
      droppedNoListener: this.noListener,
      droppedTooLarge: this.tooLarge,
      droppedWriteError: this.writeError,
      droppedEncodeError: this.encodeError,
      droppedInvalidSpan: this.invalidSpan,
      repairedSpans: this.repairedSpans,
      truncatedValues: set.buffer.truncatedValues,
      eventNameFallbacks: this.nameFallback,
      cappedFields: set.buffer.cappedFields,
      duplicateFields: set.buffer.duplicateFields,
      registered: set.fd >= 0 ? set.registered.length : 0,
    };
  }
}
