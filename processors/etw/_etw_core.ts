/**
 * What the ETW log and span processors share: registration, counters,
 * the enabled check, shutdown.
 *
 * @module
 */

import type { Advapi32Binding } from "../../ffi/advapi32.ts";
import type { FfiUnavailableError } from "../../ffi/errors.ts";
import { openAdvapi32 } from "../../ffi/load_advapi32.ts";
import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  reportDiagnostic,
} from "../../pipeline/diagnostics.ts";
import type { Resource } from "../../pipeline/resource.ts";
import type { LogRecordData } from "../../pipeline/logs/log_record.ts";
import { withoutPartAKeys } from "../_span_part_b.ts";
import {
  OutType,
  type TraceLoggingWriter,
  writtenFieldName,
} from "../_tracelogging.ts";
import {
  checkMaxEventSize,
  checkProviderName,
  EtwProvider,
} from "./_etw_provider.ts";
import { writeValue } from "./_otel_values.ts";
import type { EtwProcessorOptions, EtwProcessorStats } from "./options.ts";

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) >= 0x80) return false;
  }
  return true;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : String(value);
}

/** Mutable counters behind `stats`. */
export class Counters {
  written = 0;
  notEnabled = 0;
  writeErrors = 0;
  lastWriteError = 0;
  oversize = 0;
  droppedAttributes = 0;
  encodeErrors = 0;
  afterShutdown = 0;
  unsupported = 0;
  eventNameFallbacks = 0;
  invalidRecords = 0;
  duplicateFields = 0;
  repairedSpans = 0;
}

/** The shared part of the ETW processors (held, not inherited). */
export class EtwCore {
  readonly providerName: string;
  readonly providerId: string | undefined;
  readonly provider: EtwProvider | null;
  readonly counters: Counters = new Counters();
  readonly eventName: string;
  readonly resourceKeys: readonly string[];
  readonly eventNameCallback: ((record: LogRecordData) => string) | undefined;
  readonly diagnostics: DiagnosticSink;
  /** Recorded `__csver__` + `PartA` metadata per PartA variant (trace context / role / instance bits). */
  readonly prefixes: (Uint8Array | undefined)[] = new Array<
    Uint8Array | undefined
  >(32).fill(undefined);
  #lastResource: Resource | undefined = undefined;
  #lastBits = 0;
  readonly #source: string;
  #reportedEncodeError = false;
  #shutdown = false;

  constructor(
    binding: Advapi32Binding | null,
    options: EtwProcessorOptions,
    defaultEventName: string,
    source: string,
  ) {
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        "Cannot create an ETW processor: options with a providerName are required",
      );
    }
    this.providerName = checkProviderName(options.providerName);
    const maxEventSize = checkMaxEventSize(options.maxEventSize);
    this.eventName = options.eventName ?? defaultEventName;
    if (typeof this.eventName !== "string" || this.eventName === "") {
      throw new RangeError(
        `Cannot use eventName ${
          JSON.stringify(this.eventName)
        }: expected a non-empty string`,
      );
    }
    // service.name / service.instance.id go to PartA.ext_cloud only.
    this.resourceKeys = withoutPartAKeys(options.resourceAttributes ?? []);
    const callback = options.eventNameCallback;
    if (callback !== undefined && typeof callback !== "function") {
      throw new TypeError(
        `Cannot use eventNameCallback ${
          callback === null ? "null" : typeof callback
        }: expected a function (record) => string, or leave it out for eventName ("Log")`,
      );
    }
    this.eventNameCallback = callback;
    this.diagnostics = options.diagnostics ?? consoleDiagnosticSink;
    this.#source = source;
    this.provider = binding === null ? null : new EtwProvider(
      binding,
      this.providerName,
      options.providerGroup,
      maxEventSize,
      options.forceEnabled === true,
    );
    this.providerId = this.provider?.id;
  }

  /** A snapshot of the counters. */
  get stats(): EtwProcessorStats {
    const c = this.counters;
    return {
      written: c.written,
      notEnabled: c.notEnabled,
      writeErrors: c.writeErrors,
      lastWriteError: c.lastWriteError,
      oversize: c.oversize,
      truncatedValues: this.provider?.writer.truncated ?? 0,
      droppedAttributes: c.droppedAttributes,
      encodeErrors: c.encodeErrors,
      afterShutdown: c.afterShutdown,
      unsupported: c.unsupported,
      eventNameFallbacks: c.eventNameFallbacks,
      invalidRecords: c.invalidRecords,
      duplicateFields: c.duplicateFields,
      repairedSpans: c.repairedSpans,
    };
  }

  /**
   * The provider if records should be encoded now (open, enabled at
   * `level`: a recent "enabled" answer is reused, see
   * `EtwProvider.enabledForWrite`), else `null` after counting why.
   */
  gate(level: number): EtwProvider | null {
    const provider = this.provider;
    if (provider !== null && !this.#shutdown) {
      if (provider.enabledForWrite(level)) return provider;
      this.counters.notEnabled++;
      return null;
    }
    if (this.#shutdown) this.counters.afterShutdown++;
    else this.counters.unsupported++;
    return null;
  }

  /**
   * Finishes and writes the writer's event, counting the outcome.
   *
   * @returns Whether the event was complete (then written, or counted as a write error).
   */
  commit(provider: EtwProvider, level: number): boolean {
    if (!provider.writer.finish()) {
      this.counters.oversize++;
      return false;
    }
    this.count(provider.write(level, 0));
    return true;
  }

  /** Counts what EventWriteTransfer returned. */
  count(status: number): void {
    if (status === 0) {
      this.counters.written++;
    } else {
      this.counters.writeErrors++;
      this.counters.lastWriteError = status;
    }
  }

  /** Counts an exception thrown while encoding; reports the first one. */
  encodeFailed(error: unknown): void {
    this.counters.encodeErrors++;
    if (this.#reportedEncodeError) return;
    this.#reportedEncodeError = true;
    reportDiagnostic(
      this.diagnostics,
      this.#source,
      "error",
      `Cannot encode an ETW event for provider ${this.providerName}: ${
        error instanceof Error ? error.message : String(error)
      }; the record was dropped (stats.encodeErrors counts further ones)`,
      error,
    );
  }

  /**
   * The PartA variant of a resource: bit 1 `service.name`, bit 2
   * `service.instance.id`, bits 3/4 when those have non-ASCII characters
   * (written with OutType UTF8). Bit 0 (trace context) is the caller's.
   * Computed once per resource object.
   */
  cloudBits(resource: Resource | undefined): number {
    if (resource === this.#lastResource) return this.#lastBits;
    let bits = 0;
    const a = resource?.attributes;
    if (a !== undefined) {
      const role = a["service.name"];
      const instance = a["service.instance.id"];
      if (role !== undefined && role !== null) {
        bits |= 2 | (isAscii(text(role)) ? 0 : 8);
      }
      if (instance !== undefined && instance !== null) {
        bits |= 4 | (isAscii(text(instance)) ? 0 : 16);
      }
    }
    this.#lastResource = resource;
    this.#lastBits = bits;
    return bits;
  }

  /**
   * `PartA.ext_cloud` (role ← service.name, roleInstance ← service.instance.id)
   * for the bits of {@linkcode EtwCore.cloudBits}. The OutTypes depend only
   * on the bits, so PartA's metadata can be replayed per variant.
   */
  writeExtCloud(
    w: TraceLoggingWriter,
    resource: Resource | undefined,
    bits: number,
  ): void {
    if ((bits & 6) === 0) return;
    const a = resource!.attributes;
    const at = w.beginStruct("ext_cloud");
    w.setStructCount(at, (bits & 2 ? 1 : 0) + (bits & 4 ? 1 : 0));
    if (bits & 2) {
      w.str8("role", text(a["service.name"]), bits & 8 ? OutType.UTF8 : 0);
    }
    if (bits & 4) {
      w.str8(
        "roleInstance",
        text(a["service.instance.id"]),
        bits & 16 ? OutType.UTF8 : 0,
      );
    }
  }

  /**
   * In the normal mode (`seen` given): whether `key`'s written name was
   * already written in this struct (then counted in `duplicateFields` and
   * to be skipped); else records it.
   */
  isDuplicate(seen: Set<string> | undefined, key: string): boolean {
    if (seen === undefined) return false;
    const name = writtenFieldName(key);
    if (seen.has(name)) {
      this.counters.duplicateFields++;
      return true;
    }
    seen.add(name);
    return false;
  }

  /** Writes the opted-in resource attributes into PartC; returns the count written. */
  writeResourceAttributes(
    w: TraceLoggingWriter,
    resource: Resource | undefined,
    written: number,
    seen?: Set<string>,
  ): number {
    const keys = this.resourceKeys;
    if (keys.length === 0 || resource === undefined) return written;
    const attrs = resource.attributes;
    for (let i = 0; i < keys.length; i++) {
      const value = attrs[keys[i]];
      if (value === undefined) continue;
      if (this.isDuplicate(seen, keys[i])) continue;
      if (written >= 127) {
        this.counters.droppedAttributes++;
        continue;
      }
      writeValue(w, keys[i], value);
      written++;
    }
    return written;
  }

  /** Unregisters the provider (once). */
  close(): void {
    if (this.#shutdown) return;
    this.#shutdown = true;
    const status = this.provider?.unregister() ?? 0;
    if (status !== 0) {
      reportDiagnostic(
        this.diagnostics,
        this.#source,
        "warn",
        `Cannot unregister ETW provider ${this.providerName}: EventUnregister returned Win32 error ${status}`,
      );
    }
  }
}

/**
 * Opens advapi32, or returns `null` (after one diagnostic) when that fails
 * and `onUnsupported` is `"noop"`.
 */
export async function openBindingOrNull(
  options: EtwProcessorOptions,
  source: string,
): Promise<Advapi32Binding | null> {
  const mode = options?.onUnsupported ?? "throw";
  if (mode !== "throw" && mode !== "noop") {
    throw new RangeError(
      `Cannot use onUnsupported ${
        JSON.stringify(mode)
      }: expected "throw" or "noop"`,
    );
  }
  try {
    return await openAdvapi32();
  } catch (error) {
    if (mode === "throw") throw error as FfiUnavailableError;
    reportDiagnostic(
      options.diagnostics ?? consoleDiagnosticSink,
      source,
      "warn",
      `${error instanceof Error ? error.message : String(error)}; ` +
        `this processor drops every record (counted in stats.unsupported)`,
      error,
    );
    return null;
  }
}
