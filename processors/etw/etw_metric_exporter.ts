/**
 * The Windows ETW metric exporter: each data point of a collection as one
 * `ExportMetricsServiceRequest` in the `otlp_metrics` event of the
 * `NativeMetricsExtension_Provider` provider, laid out as the OpenTelemetry
 * Rust contrib crate `opentelemetry-etw-metrics` writes it, so the agents
 * that read that crate's events read these.
 *
 * @module
 */

import type { Advapi32Binding } from "../../ffi/advapi32.ts";
import { openAdvapi32 } from "../../ffi/load_advapi32.ts";
import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  reportDiagnostic,
} from "../../pipeline/diagnostics.ts";
import type { ExportResult } from "../../pipeline/exporter.ts";
import type {
  MetricExporter,
  ResourceMetrics,
  TemporalityPreference,
} from "../../pipeline/metrics/mod.ts";
import {
  exportMetricPoints,
  type MetricPointCounts,
  POINT_WRITE_ERROR,
  POINT_WRITTEN,
} from "../_metric_points.ts";
import { ProtoBuffer } from "../../exporters/_proto_writer.ts";
import {
  DataDescriptorType,
  encodeProviderTraits,
  EVENT_DATA_DESCRIPTOR_SIZE,
  EVENT_PROVIDER_SET_TRAITS,
  parseGuid,
  TRACELOGGING_CHANNEL,
  writeDataDescriptor,
} from "../_tracelogging.ts";

/**
 * The provider the metrics agent listens to (Microsoft common schema 4.0,
 * "OTelMetrics" mapping), with its fixed GUID.
 *
 * @example
 * ```ts
 * import { ETW_METRICS_PROVIDER } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ETW_METRICS_PROVIDER.id, "edc24920-e004-40f6-a8e1-0e6e48f39d84");
 * ```
 */
export const ETW_METRICS_PROVIDER: {
  readonly name: string;
  readonly id: string;
  readonly eventName: string;
  readonly eventId: number;
  readonly eventVersion: number;
  readonly level: number;
  readonly keyword: number;
} = Object.freeze({
  name: "NativeMetricsExtension_Provider",
  id: "edc24920-e004-40f6-a8e1-0e6e48f39d84",
  eventName: "otlp_metrics",
  eventId: 81,
  eventVersion: 0,
  level: 4,
  keyword: 1,
});

const PAYLOAD_CAPACITY = 65535;

/**
 * Options of {@linkcode EtwMetricExporter}.
 *
 * @example
 * ```ts
 * import type { EtwMetricExporterOptions } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const options: EtwMetricExporterOptions = { maxEventBytes: 60000 };
 * assert.equal(options.maxEventBytes, 60000);
 * ```
 */
export interface EtwMetricExporterOptions {
  /**
   * The largest protobuf payload of one event; larger data points are
   * dropped and counted. ETW drops events over 64 KB.
   * @default {65000}
   */
  readonly maxEventBytes?: number;
  /**
   * The temporality asked of the reader (the Rust crate uses delta).
   * @default {"delta"}
   */
  readonly temporalityPreference?: TemporalityPreference;
  /**
   * Write even when `EventProviderEnabled` says no session listens. For
   * tests (Wine's ETW always answers "not enabled"); it costs a full encode
   * and write per data point.
   * @default {false}
   */
  readonly forceEnabled?: boolean;
  /**
   * Where the one diagnostic of a failed registration goes.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * Counters of an {@linkcode EtwMetricExporter}.
 *
 * @example
 * ```ts
 * import type { EtwMetricStats } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const s: EtwMetricStats = { dataPoints: 1, written: 1, notEnabled: 0, droppedTooLarge: 0, droppedWriteError: 0, registered: true };
 * assert.equal(s.written, 1);
 * ```
 */
export interface EtwMetricStats {
  /** Data points handed to `export`. */
  readonly dataPoints: number;
  /** Events written (`EventWriteTransfer` returned 0). */
  readonly written: number;
  /** Data points not written because no session enabled level 4, keyword 1 (or no provider). */
  readonly notEnabled: number;
  /** Data points whose request exceeded `maxEventBytes`. */
  readonly droppedTooLarge: number;
  /** Data points whose write returned a Win32 error. */
  readonly droppedWriteError: number;
  /** Whether the provider is registered. */
  readonly registered: boolean;
}

/**
 * Writes each data point of a collection as one ETW event, synchronously:
 * `otlp_metrics` (id 81, version 0, level 4, keyword 1) of
 * `NativeMetricsExtension_Provider` {EDC24920-E004-40F6-A8E1-0E6E48F39D84},
 * whose TraceLogging metadata names the event and declares no field, and
 * whose payload is the protobuf request itself (TraceLogging `raw_data`).
 *
 * @example With the binding's absence (see `openEtwMetricExporter`)
 * ```ts
 * import { EtwMetricExporter } from "@seed/telemetry/etw";
 * import { ManualMetricReader, MeterProvider } from "@seed/telemetry/metrics";
 * import assert from "node:assert/strict";
 *
 * const exporter = new EtwMetricExporter(null, { diagnostics: () => {} });
 * const reader = new ManualMetricReader({ temporalityPreference: exporter.temporalityPreference });
 * new MeterProvider({ readers: [reader] }).getMeter("app").createCounter("c").add(1);
 * await exporter.export((await reader.collect()).resourceMetrics, new AbortController().signal);
 * assert.equal(exporter.stats.notEnabled, 1);
 * ```
 */
export class EtwMetricExporter implements MetricExporter, Disposable {
  /** The temporality asked of the reader. */
  readonly temporalityPreference: TemporalityPreference;
  /** The largest protobuf payload written. */
  readonly maxEventBytes: number;
  readonly #binding: Advapi32Binding | null;
  readonly #diagnostics: DiagnosticSink;
  readonly #force: boolean;
  readonly #proto = new ProtoBuffer(16 * 1024);
  readonly #arena: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;
  readonly #descriptor: Uint8Array<ArrayBuffer>;
  readonly #data: Uint8Array<ArrayBuffer>;
  readonly #payloadAt: number;
  #handle = 0n;
  #registered = false;
  readonly #counts: MetricPointCounts = {
    dataPoints: 0,
    written: 0,
    notEnabled: 0,
    tooLarge: 0,
    writeError: 0,
  };
  #reportedWrite = false;

  /**
   * Registers the provider (use `openEtwMetricExporter` to load advapi32).
   *
   * @param binding The advapi32 binding, or `null` where there is none.
   * @param options Size limit, temporality, diagnostics.
   * @throws {RangeError} When `maxEventBytes` is not an integer from 64 to 65535.
   */
  constructor(
    binding: Advapi32Binding | null,
    options: EtwMetricExporterOptions = {},
  ) {
    this.temporalityPreference = options.temporalityPreference ?? "delta";
    const max = options.maxEventBytes ?? 65000;
    if (!Number.isInteger(max) || max < 64 || max > PAYLOAD_CAPACITY) {
      throw new RangeError(
        `Cannot use maxEventBytes ${max}: expected an integer from 64 to 65535`,
      );
    }
    this.maxEventBytes = max;
    this.#diagnostics = options.diagnostics ?? consoleDiagnosticSink;
    this.#force = options.forceEnabled === true;
    this.#binding = binding;
    const p = ETW_METRICS_PROVIDER;
    const traits = encodeProviderTraits(p.name);
    // Event metadata: u16 size, tags (0), the name, NUL; no fields.
    const metadata = new Uint8Array(2 + 1 + p.eventName.length + 1);
    new DataView(metadata.buffer).setUint16(0, metadata.length, true);
    metadata[2] = 0;
    for (let i = 0; i < p.eventName.length; i++) {
      metadata[3 + i] = p.eventName.charCodeAt(i);
    }
    // Layout: [0,16) EVENT_DESCRIPTOR · [16,64) 3 EVENT_DATA_DESCRIPTORs ·
    // traits · metadata · payload. Off-heap (new ArrayBuffer), never moves.
    const traitsAt = 64;
    const metaAt = traitsAt + traits.length;
    const payAt = (metaAt + metadata.length + 7) & ~7;
    const arena = new Uint8Array(new ArrayBuffer(payAt + PAYLOAD_CAPACITY));
    arena.set(traits, traitsAt);
    arena.set(metadata, metaAt);
    this.#arena = arena;
    this.#view = new DataView(arena.buffer);
    this.#descriptor = arena.subarray(0, 16);
    this.#data = arena.subarray(16, 16 + 3 * EVENT_DATA_DESCRIPTOR_SIZE);
    this.#payloadAt = payAt;
    const v = this.#view;
    v.setUint16(0, p.eventId, true); // Id
    v.setUint8(2, p.eventVersion); // Version
    v.setUint8(3, TRACELOGGING_CHANNEL);
    v.setUint8(4, p.level);
    v.setUint8(5, 0); // Opcode
    v.setUint16(6, 0, true); // Task
    v.setUint32(8, p.keyword, true); // Keyword, low half
    v.setUint32(12, 0, true);
    if (binding === null) {
      reportDiagnostic(
        this.#diagnostics,
        "EtwMetricExporter",
        "warn",
        "Cannot use ETW: no advapi32 binding (not Windows, or FFI unavailable); EtwMetricExporter disabled",
      );
      return;
    }
    const base = binding.addressOf(arena);
    writeDataDescriptor(
      v,
      16,
      base + traitsAt,
      traits.length,
      DataDescriptorType.PROVIDER_TRAITS,
    );
    writeDataDescriptor(
      v,
      32,
      base + metaAt,
      metadata.length,
      DataDescriptorType.EVENT_METADATA,
    );
    writeDataDescriptor(v, 48, base + payAt, 0, DataDescriptorType.DATA);
    const handleOut = new BigUint64Array(1);
    const status = binding.eventRegister(parseGuid(p.id), handleOut);
    if (status !== 0) {
      reportDiagnostic(
        this.#diagnostics,
        "EtwMetricExporter",
        "warn",
        `Cannot register ETW provider ${p.name} {${p.id}}: EventRegister returned Win32 error ${status}; EtwMetricExporter disabled`,
      );
      return;
    }
    this.#handle = handleOut[0];
    this.#registered = true;
    binding.eventSetInformation(
      this.#handle,
      EVENT_PROVIDER_SET_TRAITS,
      arena.subarray(traitsAt, traitsAt + traits.length),
      traits.length,
    );
  }

  /** Whether a session wants the event now (always, when forced and registered). */
  get enabled(): boolean {
    return this.#registered &&
      (this.#force || this.#binding!.eventProviderEnabled(
            this.#handle,
            ETW_METRICS_PROVIDER.level,
            BigInt(ETW_METRICS_PROVIDER.keyword),
          ) !== 0);
  }

  /** Counters, as of now. */
  get stats(): EtwMetricStats {
    const c = this.#counts;
    return {
      dataPoints: c.dataPoints,
      written: c.written,
      notEnabled: c.notEnabled,
      droppedTooLarge: c.tooLarge,
      droppedWriteError: c.writeError,
      registered: this.#registered,
    };
  }

  /**
   * Writes one event per data point, before returning.
   *
   * @param metrics The collection.
   * @param _signal Unused: the writes are synchronous.
   * @returns Success, or a failure when some points could not be written.
   */
  export(
    metrics: ResourceMetrics,
    _signal: AbortSignal,
  ): Promise<ExportResult> {
    return Promise.resolve(
      exportMetricPoints(
        metrics,
        this.#proto,
        this.maxEventBytes,
        this.#counts,
        () => this.enabled,
        (bytes, length) => this.#write(bytes, length),
        "ETW",
      ),
    );
  }

  #write(bytes: Uint8Array, length: number): number {
    this.#arena.set(bytes.subarray(0, length), this.#payloadAt);
    this.#view.setUint32(48 + 8, length, true);
    const status = this.#binding!.eventWriteTransfer(
      this.#handle,
      this.#descriptor,
      null,
      null,
      3,
      this.#data,
    );
    if (status === 0) return POINT_WRITTEN;
    if (!this.#reportedWrite) {
      this.#reportedWrite = true;
      reportDiagnostic(
        this.#diagnostics,
        "EtwMetricExporter",
        "warn",
        `EventWriteTransfer returned Win32 error ${status}; the data point was dropped (counted in stats.droppedWriteError)`,
      );
    }
    return POINT_WRITE_ERROR;
  }

  /**
   * Nothing is buffered.
   *
   * @returns Resolves at once.
   */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Unregisters the provider. Idempotent.
   *
   * @returns Resolves when done.
   */
  shutdown(): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /** Unregisters the provider. Idempotent. */
  [Symbol.dispose](): void {
    if (!this.#registered) return;
    this.#registered = false;
    this.#binding!.eventUnregister(this.#handle);
    this.#handle = 0n;
  }
}

/**
 * Loads advapi32 through the runtime's FFI and creates an
 * {@linkcode EtwMetricExporter}; off Windows it resolves to a disabled
 * exporter with one diagnostic. Never rejects.
 *
 * @param options Size limit, temporality, forced writes, diagnostics.
 * @returns The exporter.
 *
 * @example
 * ```ts
 * import { openEtwMetricExporter } from "@seed/telemetry/etw";
 * import assert from "node:assert/strict";
 *
 * const exporter = await openEtwMetricExporter({ diagnostics: () => {} });
 * assert.equal(typeof exporter.stats.registered, "boolean");
 * await exporter.shutdown();
 * ```
 *
 * @tags allow-ffi
 */
export async function openEtwMetricExporter(
  options: EtwMetricExporterOptions = {},
): Promise<EtwMetricExporter> {
  let binding: Advapi32Binding | null = null;
  try {
    binding = await openAdvapi32();
  } catch {
    binding = null; // FfiUnavailableError: not Windows, or no FFI permission
  }
  return new EtwMetricExporter(binding, options);
}
