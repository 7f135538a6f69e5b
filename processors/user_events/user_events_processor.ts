/**
 * The Linux `user_events` log record processor.
 *
 * @module
 */

import type { FfiUnavailableError } from "../../ffi/errors.ts";
import type { LibcBinding } from "../../ffi/libc.ts";
import { consoleDiagnosticSink } from "../../pipeline/diagnostics.ts";
import {
  type LogEmitContext,
  type LogRecord,
  toLogRecordData,
  type ToLogRecordDataOptions,
} from "../../pipeline/logs/log_record.ts";
import type { LogRecordProcessor } from "../../pipeline/processor.ts";
import { encodeLogRecord, type EncodeOptions } from "../_eventheader.ts";
import { replayRawLogRecord } from "../_replay_raw.ts";
import { eventNameFrom } from "../_event_name.ts";
import type { LogRecordData } from "../../pipeline/logs/log_record.ts";
import {
  loadLibc,
  TracepointSet,
  validateProviderName,
  WriteOutcomes,
} from "./_tracepoints.ts";
import { withoutPartAKeys } from "../_span_part_b.ts";
import {
  checkEventOptions,
  type UserEventsProcessorOptions,
  type UserEventsStats,
} from "./options.ts";

// The processors write the observed time only when a record has no timestamp.
const LAZY_OBSERVED_TIME: ToLogRecordDataOptions = { lazyObservedTime: true };

/** OpenTelemetry severity number (index) → EventHeader level; 0 = invalid. */
const SEVERITY_TO_LEVEL = new Uint8Array([
  0,
  5,
  5,
  5,
  5,
  5,
  5,
  5,
  5, // TRACE, DEBUG → verbose
  4,
  4,
  4,
  4, // INFO → information
  3,
  3,
  3,
  3, // WARN → warning
  2,
  2,
  2,
  2, // ERROR → error
  1,
  1,
  1,
  1, // FATAL → critical
]);

/**
 * Maps an OpenTelemetry severity number (1-24) to an EventHeader level:
 * TRACE/DEBUG → 5, INFO → 4, WARN → 3, ERROR → 2, FATAL → 1; anything else → 0.
 *
 * @param severityNumber The severity number.
 * @returns The level, or 0.
 *
 * @example
 * ```ts
 * import { severityToLevel } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * assert.equal(severityToLevel(9), 4);
 * assert.equal(severityToLevel(17), 2);
 * assert.equal(severityToLevel(0), 0);
 * ```
 */
export function severityToLevel(severityNumber: number): number {
  return typeof severityNumber === "number"
    ? SEVERITY_TO_LEVEL[severityNumber] | 0
    : 0;
}

const SOURCE = "UserEventsProcessor";

/**
 * A synchronous log record processor that writes each record, as one
 * EventHeader event, to the Linux `user_events` tracepoint of its level
 * (`<provider>_L1K1` … `<provider>_L5K1`), in the layout of the
 * OpenTelemetry Rust `opentelemetry-user-events-logs` exporter: event `Log`,
 * `__csver__` = 0x400, `PartA` (time, trace context, cloud role), `PartC`
 * (attributes), `PartB` (`_typeName`, body, severity, event id and name).
 *
 * When no tracer listens to a level, `onEmit` reads one enable word and
 * returns. Records without a valid `severityNumber` are not written.
 * `onEmit` never throws: every skipped or dropped record is counted in
 * {@linkcode UserEventsProcessor.stats}. Size rules: an event keeps within
 * `maxEventSize` bytes (default 8,184, what perf can receive; see
 * {@linkcode UserEventsProcessorOptions.maxEventSize} for what each consumer
 * keeps) by cutting its longest strings first (`truncatedValues`), and is
 * dropped only when that cannot make it fit (`droppedTooLarge`); `PartC`
 * keeps at most 127 attributes, first come first kept (`cappedFields`).
 * Field names containing `;` or NUL get `_` in their place.
 *
 * Use {@linkcode openUserEventsProcessor}; the constructor takes an open
 * {@linkcode LibcBinding} (tests pass a fake one).
 *
 * @example Over a fake binding without user_events
 * ```ts
 * import { UserEventsProcessor, type LibcBinding } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const noKernel = { open: () => -2 } as unknown as LibcBinding; // ENOENT
 * const seen: string[] = [];
 * using processor = new UserEventsProcessor(noKernel, {
 *   providerName: "demo", userEventsDataPath: "/nowhere", diagnostics: (d) => seen.push(d.message),
 * });
 * processor.onEmit({ severityNumber: 9, body: "hi" }, undefined as never);
 * assert.equal(processor.stats.notEnabled, 1);
 * assert.equal(seen.length, 1);
 * ```
 */
export class UserEventsProcessor implements LogRecordProcessor, Disposable {
  /** The provider name. */
  readonly providerName: string;
  readonly #set: TracepointSet;
  readonly #options: EncodeOptions;
  readonly #diagnostics: UserEventsProcessorOptions["diagnostics"];
  #words: Int32Array;
  #notEnabled = 0;
  #noSeverity = 0;
  readonly #outcomes = new WriteOutcomes();
  readonly #eventName: ((record: LogRecordData) => string) | undefined;
  /** Counts encodes begun, so that a replay sees an emit made from inside it (a getter, a Proxy trap) and gives up. */
  #epoch = 0;

  /**
   * Registers the five tracepoints. Never throws for kernel-side failures:
   * the processor then stays a counted no-op and reports one diagnostic.
   *
   * @param libc An open libc binding, or the error that kept it from
   * opening (the processor is then a no-op that reports it once).
   * @param options The provider name and options.
   * @throws {TypeError} When `providerName` is not a string, or
   * `eventNameCallback` not a function.
   * @throws {RangeError} When `providerName` or `maxEventSize` is invalid.
   */
  constructor(
    libc: LibcBinding | FfiUnavailableError,
    options: UserEventsProcessorOptions,
  ) {
    this.providerName = validateProviderName(options?.providerName);
    this.#diagnostics = options.diagnostics ?? consoleDiagnosticSink;
    const maxEventSize = checkEventOptions(options);
    this.#eventName = options.eventNameCallback;
    this.#options = {
      resourceAttributes: withoutPartAKeys(options.resourceAttributes ?? []),
      maxEventSize,
    };
    this.#set = new TracepointSet(libc, {
      provider: this.providerName,
      levels: [1, 2, 3, 4, 5],
      dataPath: options.userEventsDataPath,
      diagnostics: this.#diagnostics,
      source: SOURCE,
    });
    this.#words = this.#set.words;
  }

  /**
   * Writes one record to its level's tracepoint if someone listens.
   *
   * @param record The record.
   * @param context The logger's context.
   */
  onEmit(record: LogRecord, context: LogEmitContext): void {
    // Routed by a validated severity: only a number indexes the table (a
    // string "17" would), and a record that cannot be read has none.
    let severity: unknown;
    try {
      severity = record.severityNumber;
    } catch {
      severity = undefined;
    }
    const level = typeof severity === "number"
      ? SEVERITY_TO_LEVEL[severity] | 0
      : 0;
    // A plain read of the kernel's enable word: `Atomics.load` is a builtin
    // call in V8 (about 5 ns quiet, 20 ns on a loaded machine, against 1 ns),
    // and neither V8 nor JSC reuses a typed-array read across calls, so a
    // tracer attaching is seen at the next emit, even inside an optimized
    // loop (tests/user_events/enable_word_test.ts checks it on each runtime).
    if (this.#words[level] === 0) {
      if (level === 0) this.#noSeverity++;
      else this.#notEnabled++;
      return;
    }
    // Out of line, so that this check stays small enough for the JIT to
    // inline it into the caller (Logger.emit): measured on Deno 2.9, 9 ns
    // per no-listener onEmit with the write path inline, against 2 ns.
    this.#write(record, context, level, severity as number);
  }

  /** The enabled path of {@linkcode UserEventsProcessor.onEmit}. */
  #write(
    record: LogRecord,
    context: LogEmitContext,
    level: number,
    severity: number,
  ): void {
    const set = this.#set;
    // Shutdown from user code during the encode frees the memory only after it.
    set.enter();
    try {
      let length: number;
      if (set.buffer.resident !== undefined && this.#eventName === undefined) {
        // The shape of the last event again: its data alone, from the record
        // as given (no snapshot); anything unusual takes the full path below.
        const epoch = ++this.#epoch;
        try {
          length = replayRawLogRecord(
            set.buffer,
            record,
            context,
            level,
            severity,
            this.#options,
          );
        } catch {
          length = -1;
        }
        // A record emitted from inside this one rewrote the buffer.
        if (this.#epoch !== epoch) length = -1;
        if (length > 0) {
          this.#outcomes.writeEvent(
            set,
            level,
            length,
            this.#diagnostics!,
            SOURCE,
            "record",
          );
          return;
        }
      }
      this.#epoch++;
      try {
        // The observed time is only used without a timestamp: no clock read.
        const data = toLogRecordData(record, context, LAZY_OBSERVED_TIME);
        let name = "Log";
        const callback = this.#eventName;
        if (callback !== undefined) {
          const named = eventNameFrom(callback, data);
          if (named === undefined) this.#outcomes.nameFallback++;
          else name = named;
        }
        length = encodeLogRecord(set.buffer, data, level, this.#options, name);
      } catch {
        this.#outcomes.encodeError++;
        return;
      }
      this.#outcomes.writeEvent(
        set,
        level,
        length,
        this.#diagnostics!,
        SOURCE,
        "record",
      );
    } finally {
      set.leave();
    }
  }

  /**
   * Tells whether a record of this severity would be written now: its
   * level's enable word is set.
   *
   * @param severityNumber The severity, 1-24.
   * @returns `true` when a tracer listens to that level.
   */
  enabled(severityNumber: number | undefined): boolean {
    return this.#words[
      typeof severityNumber === "number"
        ? SEVERITY_TO_LEVEL[severityNumber] | 0
        : 0
    ] !== 0;
  }

  /** The counters. */
  get stats(): UserEventsStats {
    return this.#outcomes.stats(this.#set, this.#notEnabled, this.#noSeverity);
  }

  /** The tracepoint names registered, e.g. `["demo_L1K1", …, "demo_L5K1"]`. */
  get tracepoints(): readonly string[] {
    return this.#set.fd >= 0 ? [...this.#set.registered] : [];
  }

  /**
   * Nothing is buffered.
   *
   * @returns A resolved promise.
   */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Unregisters the tracepoints, then frees the native memory and releases
   * the fd. Idempotent.
   *
   * @returns A promise that resolves when done.
   */
  shutdown(): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /** Same as {@linkcode UserEventsProcessor.shutdown}, synchronously. */
  [Symbol.dispose](): void {
    this.#words = new Int32Array(8);
    this.#set.closeAndReport(this.#diagnostics!, SOURCE);
  }
}

/**
 * Loads libc through the runtime's FFI and builds a
 * {@linkcode UserEventsProcessor}. Never rejects for environment problems
 * (not Linux, no `--allow-ffi`, no libc, no `user_events`, no tracefs,
 * permission denied): it then resolves to a counted no-op processor and
 * reports one diagnostic.
 *
 * @tags allow-ffi
 * @param options The provider name and options.
 * @returns The processor.
 * @throws {TypeError} When `providerName` is not a string.
 * @throws {RangeError} When `providerName` is invalid.
 *
 * @example Write logs to user_events (Linux, Deno with --allow-ffi or Bun)
 * ```ts ignore
 * import { LoggerProvider } from "@seed/telemetry";
 * import { openUserEventsProcessor } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const processor = await openUserEventsProcessor({ providerName: "myservice" });
 * await using provider = new LoggerProvider({ processors: [processor] });
 * provider.getLogger("app").emit({ severityNumber: 9, body: "hello" });
 * assert.ok(processor.stats.emitted >= 1);
 * ```
 */
export async function openUserEventsProcessor(
  options: UserEventsProcessorOptions,
): Promise<UserEventsProcessor> {
  validateProviderName(options?.providerName);
  return new UserEventsProcessor(await loadLibc(), options);
}
