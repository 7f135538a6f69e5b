/**
 * The ETW span processor: one TraceLogging event per ended span.
 *
 * @module
 */

import type { Advapi32Binding } from "../../ffi/advapi32.ts";
import type { AnyValue } from "../../pipeline/attributes.ts";
import type { SpanProcessor } from "../../pipeline/processor.ts";
import type { ReadableSpan } from "../../pipeline/trace/span.ts";
import {
  ReadableSpanChecker,
  type ReadableSpanCheckStats,
} from "../../pipeline/trace/span_check.ts";
import { OutType } from "../_tracelogging.ts";
import { EtwCore, openBindingOrNull } from "./_etw_core.ts";
import type { EtwProvider } from "./_etw_provider.ts";
import { writeValue } from "./_otel_values.ts";
import {
  isValidSpanId,
  SPAN_PART_B_ATTRIBUTES,
  SPAN_PART_B_NAMES,
} from "../_span_part_b.ts";
import type { EtwProcessorOptions, EtwProcessorStats } from "./options.ts";
import {
  captureEtwSpanShape,
  replayEtwSpan,
  type ResidentEtwSpanShape,
} from "./_etw_span_replay.ts";

/** Span attributes that go to PartB under Common Schema names, in this order (shared with user_events). */
const WELL_KNOWN = SPAN_PART_B_ATTRIBUTES;
const SPAN_LEVEL = 5;

/**
 * Writes each ended span to ETW as a TraceLogging event in the layout of
 * the OpenTelemetry Rust `opentelemetry-etw-traces` exporter: event "Span",
 * level 5 (verbose), keyword 1, `__csver__`, `PartA` (end time, `ext_dt`,
 * `ext_cloud`), `PartC` (attributes), `PartB` (`_typeName`, `name`, `kind`,
 * `startTime`, `parentId`, `links`, `statusMessage`, well-known attributes,
 * `success`). Never throws; drops are counted in `stats`.
 *
 * @example With a fake binding
 * ```ts
 * import { type Advapi32Binding, EtwSpanProcessor } from "@seed/telemetry/etw";
 * import { TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * let writes = 0;
 * const binding: Advapi32Binding = {
 *   runtime: "fake",
 *   eventRegister: (_id, out) => { out[0] = 7n; return 0; },
 *   eventSetInformation: () => 0,
 *   eventProviderEnabled: () => 1,
 *   eventEnabled: () => 1,
 *   eventWriteTransfer: () => { writes++; return 0; },
 *   eventUnregister: () => 0,
 *   addressOf: () => 0x10000,
 *   close: () => {},
 * };
 * const etw = new EtwSpanProcessor(binding, { providerName: "MyProvider" });
 * await using provider = new TracerProvider({ processors: [etw] });
 * provider.getTracer("app").startSpan("work").end();
 * assert.equal(writes, 1);
 * ```
 */
export class EtwSpanProcessor implements SpanProcessor, Disposable {
  readonly #core: EtwCore;
  readonly #checker = new ReadableSpanChecker();
  /** The shape of the last span event, while its metadata is in the arena (see `_etw_span_replay.ts`). */
  #resident: ResidentEtwSpanShape | undefined = undefined;
  readonly #view: DataView | undefined;
  /** Counts encodes begun, so that a replay sees a span written from inside it and gives up. */
  #epoch = 0;

  /**
   * Registers the provider.
   *
   * @param binding An open advapi32 binding, or `null` for a counted no-op.
   * @param options The provider name and the rest (`eventName` defaults to "Span").
   * @throws {RangeError} When an option is invalid.
   * @throws {TypeError} When `eventNameCallback` is set (it names log events).
   * @throws {FfiUnavailableError} When EventRegister fails.
   */
  constructor(binding: Advapi32Binding | null, options: EtwProcessorOptions) {
    if (options?.eventNameCallback !== undefined) {
      throw new TypeError(
        'Cannot use eventNameCallback on a span processor: it names log events; leave it out (spans are named by eventName, "Span" by default)',
      );
    }
    this.#core = new EtwCore(binding, options, "Span", "EtwSpanProcessor");
    const bytes = this.#core.provider?.writer.bytes;
    this.#view = bytes === undefined
      ? undefined
      : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The provider name. */
  get providerName(): string {
    return this.#core.providerName;
  }

  /** The provider GUID derived from the name, `undefined` for a no-op processor. */
  get providerId(): string | undefined {
    return this.#core.providerId;
  }

  /** A snapshot of the counters. */
  get stats(): EtwProcessorStats {
    return this.#core.stats;
  }

  /** What the check of hand-made spans (not made by this library's tracer) dropped or replaced, field by field. */
  get spanChecks(): ReadableSpanCheckStats {
    return this.#checker.stats;
  }

  /**
   * Encodes and writes one ended span, synchronously. Never throws.
   *
   * @param span The ended span.
   */
  onEnd(span: ReadableSpan): void {
    const core = this.#core;
    const provider = core.gate(SPAN_LEVEL);
    if (provider === null) return;
    // A span this library did not make is checked field by field first.
    const checker = this.#checker;
    const repaired = checker.repairedCount;
    const checked = checker.check(span);
    if (checked === undefined) {
      core.counters.invalidRecords++;
      return;
    }
    if (checker.repairedCount !== repaired) core.counters.repairedSpans++;
    span = checked;
    const shape = this.#resident;
    if (shape !== undefined) {
      // The shape of the last span again: its payload alone; anything
      // unusual takes the full path.
      let end = -1;
      const epoch = ++this.#epoch;
      try {
        end = replayEtwSpan(provider.writer, this.#view!, shape, span);
      } catch {
        end = -1;
      }
      if (end > 0 && this.#epoch === epoch) {
        provider.writer.replayedPayload(end);
        core.count(provider.write(SPAN_LEVEL, 0));
        return;
      }
    }
    // The full encoder overwrites the metadata: no shape until it is done.
    this.#resident = undefined;
    this.#epoch++;
    try {
      const dups = core.counters.duplicateFields;
      // Deferred metadata first (copied from the writer's cache per shape);
      // a span near a limit is encoded again the normal way.
      // A throw is redone too, so that its side effects (counters) are
      // those of the normal mode.
      const dropped = core.counters.droppedAttributes;
      let exact = true;
      try {
        this.#encode(provider, span, true);
        exact = !provider.writer.finish() && provider.writer.needsExact;
      } catch {
        exact = true;
      }
      if (exact) {
        core.counters.droppedAttributes = dropped;
        this.#encode(provider, span, false);
        // Over maxEventSize: written again with its longest values cut.
        if (!provider.writer.finish() && provider.writer.cutNext()) {
          core.counters.droppedAttributes = dropped;
          this.#encode(provider, span, false);
        }
      }
      if (
        core.commit(provider, SPAN_LEVEL) &&
        core.counters.droppedAttributes === dropped &&
        core.counters.duplicateFields === dups
      ) {
        this.#resident = captureEtwSpanShape(
          provider.writer,
          span,
          core.resourceKeys,
        );
      }
    } catch (error) {
      core.encodeFailed(error);
    }
  }

  #encode(provider: EtwProvider, span: ReadableSpan, deferred: boolean): void {
    const core = this.#core;
    const w = provider.writer;
    const resource = span.resource;
    w.reset(core.eventName, 0, deferred);
    // __csver__ and PartA: metadata recorded once per variant, then
    // replayed (normal mode; deferred mode caches the whole event's).
    const variant = 1 | core.cloudBits(resource);
    const cached = deferred ? undefined : core.prefixes[variant];
    const start = w.metadataPosition;
    if (cached !== undefined) w.replayMetadata(cached);
    w.u16("__csver__", 0x0400, OutType.UNSIGNED);
    // PartA: time (end), ext_dt, [ext_cloud]
    const a = w.beginStruct("PartA");
    w.setStructCount(a, 2 + ((variant & 6) !== 0 ? 1 : 0));
    w.rfc3339("time", span.endTimeUnixMs, span.endTimeNanosInMs);
    const dt = w.beginStruct("ext_dt");
    w.setStructCount(dt, 2);
    w.str8("traceId", span.traceId, 0, false);
    w.str8("spanId", span.spanId, 0, false);
    core.writeExtCloud(w, resource, variant);
    if (deferred) {
      // the prefix is part of the cached shape
    } else if (cached === undefined) {
      core.prefixes[variant] = w.metadataSince(start);
    } else w.endReplay();

    // PartC: opted-in resource attributes, then span attributes but the well-known ones.
    const mark = w.metadataPosition;
    const c = w.beginStruct("PartC");
    // The normal mode leaves out names written twice (see writtenFieldName).
    const seen = w.deferred ? undefined : new Set<string>();
    let n = core.writeResourceAttributes(w, resource, 0, seen);
    const attributes = span.attributes;
    for (const key in attributes) {
      const value: AnyValue = attributes[key];
      if (value === undefined || SPAN_PART_B_NAMES[key] !== undefined) continue;
      if (core.isDuplicate(seen, key)) continue;
      if (n >= 127) {
        core.counters.droppedAttributes++;
        continue;
      }
      writeValue(w, key, value);
      n++;
    }
    if (n === 0) w.rewindMetadata(mark);
    else w.setStructCount(c, n);

    // PartB
    const parent = isValidSpanId(span.parentSpanId)
      ? span.parentSpanId
      : undefined;
    const links = span.links;
    const status = span.status;
    const failed = status.code === 2;
    const message =
      failed && typeof status.message === "string" && status.message !== ""
        ? status.message
        : undefined;
    let known = 0;
    for (let i = 0; i < WELL_KNOWN.length; i++) {
      if (attributes[WELL_KNOWN[i][0]] !== undefined) known++;
    }
    const b = w.beginStruct("PartB");
    w.setStructCount(
      b,
      5 + (parent !== undefined ? 1 : 0) + (links.length > 0 ? 1 : 0) +
        (message !== undefined ? 1 : 0) + known,
    );
    w.str8("_typeName", "Span", 0, false);
    w.str8("name", span.name, OutType.UTF8);
    w.u8("kind", span.kind);
    w.rfc3339("startTime", span.startTimeUnixMs, span.startTimeNanosInMs);
    if (parent !== undefined) {
      w.str8("parentId", parent, OutType.UTF8, false);
    }
    if (links.length > 0) {
      let json = "[";
      for (let i = 0; i < links.length; i++) {
        json += (i === 0 ? "" : ",") + '{"toTraceId":"' + links[i].traceId +
          '","toSpanId":"' + links[i].spanId +
          '"}';
      }
      w.str8("links", json + "]", OutType.UTF8);
    }
    if (message !== undefined) w.str8("statusMessage", message, OutType.UTF8);
    if (known > 0) {
      for (let i = 0; i < WELL_KNOWN.length; i++) {
        const value = attributes[WELL_KNOWN[i][0]];
        if (value !== undefined) writeValue(w, WELL_KNOWN[i][1], value);
      }
    }
    w.u8("success", failed ? 0 : 1, OutType.BOOLEAN);
  }

  /**
   * Nothing is buffered: resolves at once.
   *
   * @returns A resolved promise.
   */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Unregisters the provider (once; later spans are dropped and counted).
   *
   * @returns A resolved promise.
   */
  shutdown(): Promise<void> {
    this.#core.close();
    return Promise.resolve();
  }

  /** Unregisters the provider, like {@linkcode EtwSpanProcessor.shutdown}. */
  [Symbol.dispose](): void {
    this.#core.close();
  }
}

/**
 * Opens advapi32 and creates an {@linkcode EtwSpanProcessor} (Windows, Deno
 * with `--allow-ffi` or Bun).
 *
 * @param options The provider name and the rest.
 * @returns The processor.
 * @throws {FfiUnavailableError} Off Windows (unless `onUnsupported: "noop"`),
 *   without FFI permission, or when EventRegister fails.
 * @throws {RangeError} When an option is invalid.
 * @tags allow-ffi
 *
 * @example On Windows
 * ```ts ignore
 * import { openEtwSpanProcessor } from "@seed/telemetry/etw";
 * import { TracerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const etw = await openEtwSpanProcessor({ providerName: "MyCompany.MyComponent" });
 * await using provider = new TracerProvider({ processors: [etw] });
 * provider.getTracer("app").startSpan("work").end();
 * assert.equal(etw.stats.writeErrors, 0);
 * ```
 */
export async function openEtwSpanProcessor(
  options: EtwProcessorOptions,
): Promise<EtwSpanProcessor> {
  const binding = await openBindingOrNull(options, "EtwSpanProcessor");
  return new EtwSpanProcessor(binding, options);
}
