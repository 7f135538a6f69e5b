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
import type { TraceLoggingWriter } from "../_tracelogging.ts";
import {
  checkMaxEventSize,
  checkProviderName,
  EtwProvider,
} from "./_etw_provider.ts";
import { writeValue } from "./_otel_values.ts";
import type { EtwProcessorOptions, EtwProcessorStats } from "./options.ts";

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
}

/** The shared part of the ETW processors (held, not inherited). */
export class EtwCore {
  readonly providerName: string;
  readonly providerId: string | undefined;
  readonly provider: EtwProvider | null;
  readonly counters: Counters = new Counters();
  readonly eventName: string;
  readonly resourceKeys: readonly string[];
  readonly diagnostics: DiagnosticSink;
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
    this.resourceKeys = options.resourceAttributes ?? [];
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
    };
  }

  /**
   * The provider if records should be encoded now (open, enabled at
   * `level`), else `null` after counting why.
   */
  gate(level: number): EtwProvider | null {
    const provider = this.provider;
    if (this.#shutdown) {
      this.counters.afterShutdown++;
      return null;
    }
    if (provider === null) {
      this.counters.unsupported++;
      return null;
    }
    if (!provider.enabled(level)) {
      this.counters.notEnabled++;
      return null;
    }
    return provider;
  }

  /** Finishes and writes the writer's event, counting the outcome. */
  commit(provider: EtwProvider, level: number): void {
    if (!provider.writer.finish()) {
      this.counters.oversize++;
      return;
    }
    const status = provider.write(level, 0);
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

  /** `PartA.ext_cloud` (role ← service.name, roleInstance ← service.instance.id), if either is set. */
  writeExtCloud(w: TraceLoggingWriter, resource: Resource | undefined): void {
    const role = resource?.attributes["service.name"];
    const instance = resource?.attributes["service.instance.id"];
    const hasRole = role !== undefined && role !== null;
    const hasInstance = instance !== undefined && instance !== null;
    if (!hasRole && !hasInstance) return;
    const at = w.beginStruct("ext_cloud");
    w.setStructCount(at, (hasRole ? 1 : 0) + (hasInstance ? 1 : 0));
    if (hasRole) {
      w.str8("role", typeof role === "string" ? role : String(role), -1);
    }
    if (hasInstance) {
      w.str8(
        "roleInstance",
        typeof instance === "string" ? instance : String(instance),
        -1,
      );
    }
  }

  /** Whether `PartA.ext_cloud` will be written. */
  hasExtCloud(resource: Resource | undefined): boolean {
    const a = resource?.attributes;
    return a !== undefined &&
      ((a["service.name"] ?? null) !== null ||
        (a["service.instance.id"] ?? null) !== null);
  }

  /** Writes the opted-in resource attributes into PartC; returns the count written. */
  writeResourceAttributes(
    w: TraceLoggingWriter,
    resource: Resource | undefined,
    written: number,
  ): number {
    const keys = this.resourceKeys;
    if (keys.length === 0 || resource === undefined) return written;
    const attrs = resource.attributes;
    for (let i = 0; i < keys.length; i++) {
      const value = attrs[keys[i]];
      if (value === undefined) continue;
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
