/**
 * The Linux `user_events` span processor.
 *
 * @module
 */

import type { FfiUnavailableError } from "../../ffi/errors.ts";
import type { LibcBinding } from "../../ffi/libc.ts";
import {
  consoleDiagnosticSink,
  type DiagnosticSink,
} from "../../pipeline/diagnostics.ts";
import type { SpanProcessor } from "../../pipeline/processor.ts";
import type { ReadableSpan } from "../../pipeline/trace/span.ts";
import {
  ReadableSpanChecker,
  type ReadableSpanCheckStats,
} from "../../pipeline/trace/span_check.ts";
import type { EncodeOptions } from "../_eventheader.ts";
import { writeSpanEvent } from "../_span_replay.ts";
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

const SOURCE = "UserEventsSpanProcessor";
const LEVEL = 4;

/**
 * A synchronous span processor that writes each ended span, as one
 * EventHeader event, to the Linux `user_events` tracepoint
 * `<provider>_L4K1`, in the layout of the OpenTelemetry Rust
 * `opentelemetry-user-events-trace` exporter: event `Span`, `__csver__`,
 * `PartA` (end time, trace and span id, cloud role), `PartB` (`_typeName`,
 * name, start time, success, kind, parent id, links as JSON, well-known
 * attributes renamed, status message), `PartC` (other attributes).
 *
 * `onEnd` reads one enable word and returns when nobody listens; it never
 * throws, and counts every skipped or dropped span in
 * {@linkcode UserEventsSpanProcessor.stats}. Size rules: an event whose
 * metadata plus data exceed 65,467 bytes is not written (`droppedTooLarge`);
 * `PartC` keeps at most 127 attributes (`cappedFields`). Renamed attributes
 * go to `PartB` in the order of the rename table, not the span's.
 *
 * @example Over a fake binding without user_events
 * ```ts
 * import { UserEventsSpanProcessor, type LibcBinding } from "@seed/telemetry/user-events";
 * import type { ReadableSpan } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const noKernel = { open: () => -13 } as unknown as LibcBinding; // EACCES
 * const seen: string[] = [];
 * using processor = new UserEventsSpanProcessor(noKernel, {
 *   providerName: "demo", userEventsDataPath: "/nowhere", diagnostics: (d) => seen.push(d.message),
 * });
 * processor.onEnd({ name: "work" } as ReadableSpan);
 * assert.equal(processor.stats.notEnabled, 1);
 * assert.match(seen[0], /EACCES/);
 * ```
 */
export class UserEventsSpanProcessor implements SpanProcessor, Disposable {
  /** The provider name. */
  readonly providerName: string;
  readonly #set: TracepointSet;
  readonly #options: EncodeOptions;
  readonly #diagnostics: DiagnosticSink;
  #words: Int32Array;
  #notEnabled = 0;
  readonly #outcomes = new WriteOutcomes();
  readonly #checker = new ReadableSpanChecker();

  /**
   * Registers `<provider>_L4K1`. Never throws for kernel-side failures: the
   * processor then stays a counted no-op and reports one diagnostic.
   *
   * @param libc An open libc binding, or the error that kept it from
   * opening (the processor is then a no-op that reports it once).
   * @param options The provider name and options.
   * @throws {TypeError} When `providerName` is not a string.
   * @throws {RangeError} When `providerName` is invalid.
   */
  constructor(
    libc: LibcBinding | FfiUnavailableError,
    options: UserEventsProcessorOptions,
  ) {
    this.providerName = validateProviderName(options?.providerName);
    this.#diagnostics = options.diagnostics ?? consoleDiagnosticSink;
    const maxEventSize = checkEventOptions(options);
    if (options.eventNameCallback !== undefined) {
      throw new TypeError(
        'Cannot use eventNameCallback on a span processor: it names log events; leave it out (spans are named "Span")',
      );
    }
    this.#options = {
      resourceAttributes: withoutPartAKeys(options.resourceAttributes ?? []),
      maxEventSize,
    };
    this.#set = new TracepointSet(libc, {
      provider: this.providerName,
      levels: [LEVEL],
      dataPath: options.userEventsDataPath,
      diagnostics: this.#diagnostics,
      source: SOURCE,
    });
    this.#words = this.#set.words;
  }

  /**
   * Writes one ended span if someone listens.
   *
   * @param span The ended span.
   */
  onEnd(span: ReadableSpan): void {
    // A plain read, as in UserEventsProcessor.onEmit.
    if (this.#words[LEVEL] === 0) {
      this.#notEnabled++;
      return;
    }
    const set = this.#set;
    // The checker and the encode run user code (getters, toString); a
    // shutdown from there frees the event buffer only after this emit.
    set.enter();
    try {
      // A span this library did not make is checked field by field first.
      const checker = this.#checker;
      const repaired = checker.repairedCount;
      const checked = checker.check(span);
      if (checked === undefined) {
        this.#outcomes.invalidSpan++;
        return;
      }
      if (checker.repairedCount !== repaired) this.#outcomes.repairedSpans++;
      let length: number;
      try {
        // The shape of the last span again: its data alone (_span_replay.ts).
        length = writeSpanEvent(set.buffer, checked, this.#options);
      } catch {
        this.#outcomes.encodeError++;
        return;
      }
      this.#outcomes.writeEvent(
        set,
        LEVEL,
        length,
        this.#diagnostics,
        SOURCE,
        "span",
      );
    } finally {
      set.leave();
    }
  }

  /**
   * Tells whether a span would be written now.
   *
   * @returns `true` when a tracer listens to `<provider>_L4K1`.
   */
  enabled(): boolean {
    return this.#words[LEVEL] !== 0;
  }

  /** What the check of hand-made spans (not made by this library's tracer) dropped or replaced, field by field. */
  get spanChecks(): ReadableSpanCheckStats {
    return this.#checker.stats;
  }

  /** The counters (`droppedNoSeverity` is always 0). */
  get stats(): UserEventsStats {
    return this.#outcomes.stats(this.#set, this.#notEnabled, 0);
  }

  /** The tracepoint names registered: `["<provider>_L4K1"]`, or none. */
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
   * Unregisters the tracepoint, then frees the native memory and releases
   * the fd. Idempotent.
   *
   * @returns A promise that resolves when done.
   */
  shutdown(): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /** Same as {@linkcode UserEventsSpanProcessor.shutdown}, synchronously. */
  [Symbol.dispose](): void {
    this.#words = new Int32Array(8);
    this.#set.closeAndReport(this.#diagnostics, SOURCE);
  }
}

/**
 * Loads libc through the runtime's FFI and builds a
 * {@linkcode UserEventsSpanProcessor}. Never rejects for environment
 * problems: it then resolves to a counted no-op processor and reports one
 * diagnostic.
 *
 * @tags allow-ffi
 * @param options The provider name and options.
 * @returns The processor.
 * @throws {TypeError} When `providerName` is not a string.
 * @throws {RangeError} When `providerName` is invalid.
 *
 * @example Write spans to user_events (Linux, Deno with --allow-ffi or Bun)
 * ```ts ignore
 * import { TracerProvider } from "@seed/telemetry";
 * import { openUserEventsSpanProcessor } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const processor = await openUserEventsSpanProcessor({ providerName: "myservice" });
 * await using provider = new TracerProvider({ processors: [processor] });
 * provider.getTracer("app").startSpan("work").end();
 * assert.ok(processor.stats.emitted >= 1);
 * ```
 */
export async function openUserEventsSpanProcessor(
  options: UserEventsProcessorOptions,
): Promise<UserEventsSpanProcessor> {
  validateProviderName(options?.providerName);
  return new UserEventsSpanProcessor(await loadLibc(), options);
}
