/**
 * The ETW log processor: one TraceLogging event per log record, written
 * synchronously with `EventWriteTransfer`.
 *
 * @module
 */

import type { Advapi32Binding } from "../../ffi/advapi32.ts";
import type { AnyValue } from "../../pipeline/attributes.ts";
import {
  type LogEmitContext,
  type LogRecord,
  type LogRecordData,
  toLogRecordData,
  type ToLogRecordDataOptions,
} from "../../pipeline/logs/log_record.ts";
import type { LogRecordProcessor } from "../../pipeline/processor.ts";
import { InType, OutType } from "../_tracelogging.ts";
import { EtwCore, openBindingOrNull } from "./_etw_core.ts";
import type { EtwProvider } from "./_etw_provider.ts";
import { writeValue } from "./_otel_values.ts";
import { eventNameFrom } from "../_event_name.ts";
import { RawLogFields, readRawLogRecord } from "../_replay_raw.ts";
import { isValidSeverityNumber } from "../../pipeline/logs/severity.ts";
import {
  captureEtwLogShape,
  replayEtwLogRecord,
  type ResidentEtwLogShape,
} from "./_etw_replay.ts";
import {
  etwLevelOf,
  type EtwProcessorOptions,
  type EtwProcessorStats,
} from "./options.ts";

// The processors write the observed time only when a record has no timestamp.
const LAZY_OBSERVED_TIME: ToLogRecordDataOptions = { lazyObservedTime: true };

/**
 * Writes each log record to ETW as a TraceLogging event in the layout of
 * the OpenTelemetry Rust `opentelemetry-etw-logs` exporter (Common Schema
 * 4.0: `__csver__`, `PartA`, `PartC`, `PartB`; event "Log", keyword 1,
 * level from the severity), on the caller's stack. When no ETW session
 * listens, `onEmit` costs one `EventProviderEnabled` call. While one does,
 * an "enabled" answer is reused for the next 15 records of the same level
 * (one call per 16): after the last session stops, at most 15 more records
 * of each level are encoded and handed to EventWriteTransfer, which drops
 * them; a session that starts is seen at the next record. It never throws:
 * drops are counted in {@linkcode EtwProcessor.stats}.
 *
 * Use {@linkcode openEtwProcessor} to create one on Windows; the
 * constructor takes an open {@linkcode Advapi32Binding} (tests pass a fake)
 * or `null` for a counted no-op.
 *
 * @example With a fake binding that records writes
 * ```ts
 * import { type Advapi32Binding, EtwProcessor } from "@seed/telemetry/etw";
 * import { LogEmitContext, Resource } from "@seed/telemetry";
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
 * using processor = new EtwProcessor(binding, { providerName: "MyCompany.MyComponent" });
 * processor.onEmit({ severityNumber: 9, body: "hi" }, new LogEmitContext(new Resource({}), { name: "app" }));
 * assert.equal(writes, 1);
 * assert.equal(processor.stats.written, 1);
 * assert.equal(processor.providerId, "ce5fa4ea-ab00-5402-8b76-9f76ac858fb5");
 * ```
 */
export class EtwProcessor implements LogRecordProcessor, Disposable {
  readonly #core: EtwCore;
  /** The shape of the last event, while its metadata is in the arena (see `_etw_replay.ts`). */
  #resident: ResidentEtwLogShape | undefined = undefined;
  readonly #raw = new RawLogFields();
  readonly #view: DataView | undefined;
  /** Counts encodes begun, so that a replay sees an emit made from inside it (a getter, a Proxy trap) and gives up. */
  #epoch = 0;

  /**
   * Registers the provider (EventRegister, then EventSetInformation with
   * the traits, whose failure is ignored).
   *
   * @param binding An open advapi32 binding, or `null` for a processor that
   *   drops and counts every record (`stats.unsupported`).
   * @param options The provider name and the rest.
   * @throws {RangeError} When an option is invalid.
   * @throws {FfiUnavailableError} When EventRegister fails.
   */
  constructor(binding: Advapi32Binding | null, options: EtwProcessorOptions) {
    this.#core = new EtwCore(binding, options, "Log", "EtwProcessor");
    const bytes = this.#core.provider?.writer.bytes;
    this.#view = bytes === undefined
      ? undefined
      : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The provider name. */
  get providerName(): string {
    return this.#core.providerName;
  }

  /** The provider GUID derived from the name (registry form), `undefined` for a no-op processor. */
  get providerId(): string | undefined {
    return this.#core.providerId;
  }

  /** A snapshot of the counters. */
  get stats(): EtwProcessorStats {
    return this.#core.stats;
  }

  /**
   * Whether a record of this severity would be written: asks
   * `EventProviderEnabled` for its level and keyword 1.
   *
   * @param severityNumber The severity (1-24), if known.
   * @returns `true` when an ETW session listens.
   */
  enabled(severityNumber: number | undefined): boolean {
    const provider = this.#core.provider;
    return provider !== null && provider.enabled(etwLevelOf(severityNumber));
  }

  /**
   * Encodes and writes one record, synchronously. Never throws.
   *
   * @param record The record.
   * @param context The emitting logger's context.
   */
  onEmit(record: LogRecord, context: LogEmitContext): void {
    const core = this.#core;
    let level = -1;
    let severity: unknown;
    try {
      if (typeof record === "object" && record !== null) {
        severity = record.severityNumber;
        level = etwLevelOf(severity as number | undefined);
      }
    } catch {
      // a record whose reading throws
    }
    if (level < 0) {
      core.counters.invalidRecords++; // not a record, or unreadable
      return;
    }
    const provider = core.gate(level);
    if (provider === null) return;
    const shape = this.#resident;
    if (shape !== undefined && isValidSeverityNumber(severity)) {
      // The shape of the last event again: its payload alone, from the
      // record as given (no snapshot); anything unusual takes the full path.
      let end = -1;
      const epoch = ++this.#epoch;
      try {
        const f = this.#raw;
        if (readRawLogRecord(record, context, f)) {
          end = replayEtwLogRecord(
            provider.writer,
            this.#view!,
            shape,
            core.eventName,
            f,
            severity,
          );
        }
      } catch {
        end = -1;
      }
      // A record emitted from inside this one rewrote the arena.
      if (end > 0 && this.#epoch === epoch) {
        const w = provider.writer;
        w.replayedPayload(end);
        core.count(provider.writeReplayed(level, end - w.payloadOffset));
        return;
      }
    }
    // The full encoder overwrites the metadata: no shape until it is done.
    this.#resident = undefined;
    this.#epoch++;
    try {
      // The observed time is only used without a timestamp: no clock read.
      const data = toLogRecordData(record, context, LAZY_OBSERVED_TIME);
      let name = core.eventName;
      const callback = core.eventNameCallback;
      if (callback !== undefined) {
        const named = eventNameFrom(callback, data);
        if (named === undefined) core.counters.eventNameFallbacks++;
        else name = named;
      }
      // Deferred metadata first (copied from the writer's cache per shape);
      // an event near a limit is encoded again the normal way.
      // A throw is redone too, so that its side effects (counters) are
      // those of the normal mode.
      const dropped = core.counters.droppedAttributes;
      const dups = core.counters.duplicateFields;
      let exact = true;
      try {
        this.#encode(provider, data, true, name);
        exact = !provider.writer.finish() && provider.writer.needsExact;
      } catch {
        exact = true;
      }
      if (exact) {
        core.counters.droppedAttributes = dropped;
        this.#encode(provider, data, false, name);
        // Over maxEventSize: written again with its longest values cut.
        if (!provider.writer.finish() && provider.writer.cutNext()) {
          core.counters.droppedAttributes = dropped;
          this.#encode(provider, data, false, name);
        }
      }
      if (
        core.commit(provider, level) &&
        core.counters.droppedAttributes === dropped &&
        core.counters.duplicateFields === dups &&
        core.eventNameCallback === undefined
      ) {
        this.#resident = captureEtwLogShape(
          provider.writer,
          data,
          name,
          core.resourceKeys,
        );
      }
    } catch (error) {
      core.encodeFailed(error);
    }
  }

  #encode(
    provider: EtwProvider,
    data: LogRecordData,
    deferred: boolean,
    eventName: string,
  ): void {
    const core = this.#core;
    const w = provider.writer;
    const resource = data.resource;
    w.reset(eventName, 0, deferred);
    // __csver__ and PartA: metadata recorded once per variant, then
    // replayed (normal mode; deferred mode caches the whole event's).
    const hasTrace = data.traceId !== undefined && data.spanId !== undefined;
    const variant = (hasTrace ? 1 : 0) | core.cloudBits(resource);
    const cached = deferred ? undefined : core.prefixes[variant];
    const start = w.metadataPosition;
    if (cached !== undefined) w.replayMetadata(cached);
    w.u16("__csver__", 0x0400, OutType.UNSIGNED);
    // PartA: [ext_dt] [ext_cloud] time
    const a = w.beginStruct("PartA");
    w.setStructCount(
      a,
      1 + (hasTrace ? 1 : 0) + ((variant & 6) !== 0 ? 1 : 0),
    );
    if (hasTrace) {
      const dt = w.beginStruct("ext_dt");
      w.setStructCount(dt, 2);
      w.str8("traceId", data.traceId!, 0, false);
      w.str8("spanId", data.spanId!, 0, false);
    }
    core.writeExtCloud(w, resource, variant);
    // The timestamp when set, else the observed time.
    if (data.timeUnixMs !== 0 || data.timeNanosInMs !== 0) {
      w.rfc3339("time", data.timeUnixMs, data.timeNanosInMs);
    } else {
      w.rfc3339("time", data.observedTimeUnixMs, data.observedTimeNanosInMs);
    }
    if (deferred) {
      // the prefix is part of the cached shape
    } else if (cached === undefined) {
      core.prefixes[variant] = w.metadataSince(start);
    } else w.endReplay();

    // PartC: opted-in resource attributes, then record attributes but an int `event_id`.
    const mark = w.metadataPosition;
    const c = w.beginStruct("PartC");
    // The normal mode leaves out names written twice (see writtenFieldName).
    const seen = w.deferred ? undefined : new Set<string>();
    let n = core.writeResourceAttributes(w, resource, 0, seen);
    let eventId: number | bigint | undefined;
    const attributes = data.attributes;
    for (const key in attributes) {
      const value: AnyValue = attributes[key];
      if (value === undefined) continue;
      if (
        key === "event_id" && eventId === undefined &&
        ((typeof value === "number" && Number.isSafeInteger(value)) ||
          typeof value === "bigint")
      ) {
        eventId = value;
        continue;
      }
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

    // PartB: _typeName, [body], severityNumber, [severityText], [eventId], [name]
    const body = data.body;
    const hasBody = body !== undefined && body !== null;
    const text = data.severityText;
    const name = data.eventName;
    const b = w.beginStruct("PartB");
    w.setStructCount(
      b,
      2 + (hasBody ? 1 : 0) + (text !== undefined ? 1 : 0) +
        (eventId !== undefined ? 1 : 0) +
        (name !== undefined ? 1 : 0),
    );
    w.str8("_typeName", "Log", 0, false);
    if (hasBody) writeValue(w, "body", body);
    w.u16(
      "severityNumber",
      data.severityNumber === 0 ? 5 : data.severityNumber,
      0,
      true,
    );
    if (text !== undefined) w.str8("severityText", text, -1);
    if (eventId !== undefined) w.int64("eventId", InType.INT64, eventId);
    if (name !== undefined) w.str8("name", name, -1);
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
   * Unregisters the provider (once; later records are dropped and counted).
   *
   * @returns A resolved promise.
   */
  shutdown(): Promise<void> {
    this.#core.close();
    return Promise.resolve();
  }

  /** Unregisters the provider, like {@linkcode EtwProcessor.shutdown}. */
  [Symbol.dispose](): void {
    this.#core.close();
  }
}

/**
 * Opens advapi32 and creates an {@linkcode EtwProcessor} (Windows, Deno
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
 * import { openEtwProcessor } from "@seed/telemetry/etw";
 * import { LoggerProvider } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const etw = await openEtwProcessor({ providerName: "MyCompany.MyComponent" });
 * await using provider = new LoggerProvider({ processors: [etw] });
 * provider.getLogger("app").emit({ severityNumber: 9, body: "hello" });
 * assert.equal(etw.stats.writeErrors, 0);
 * ```
 *
 * @example Anywhere, as a no-op off Windows
 * ```ts
 * import { openEtwProcessor } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const etw = await openEtwProcessor({ providerName: "MyCompany.MyComponent", onUnsupported: "noop", diagnostics: () => {} });
 * assert.equal(typeof etw.stats.unsupported, "number");
 * await etw.shutdown();
 * ```
 */
export async function openEtwProcessor(
  options: EtwProcessorOptions,
): Promise<EtwProcessor> {
  const binding = await openBindingOrNull(options, "EtwProcessor");
  return new EtwProcessor(binding, options);
}
