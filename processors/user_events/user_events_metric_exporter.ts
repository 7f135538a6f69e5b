/**
 * The Linux `user_events` metric exporter: each data point of a collection
 * as one `ExportMetricsServiceRequest` on the `otlp_metrics` tracepoint, the
 * layout of the OpenTelemetry Rust contrib crate
 * `opentelemetry-user-events-metrics`, so the agents that read that crate's
 * events read these.
 *
 * @module
 */

import { FfiUnavailableError } from "../../ffi/errors.ts";
import type { LibcBinding, NativeMemory } from "../../ffi/libc.ts";
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
  POINT_NOT_ENABLED,
  POINT_WRITE_ERROR,
  POINT_WRITTEN,
} from "../_metric_points.ts";
import { ProtoBuffer } from "../../exporters/_proto_writer.ts";
import {
  DEFAULT_USER_EVENTS_DATA,
  DIAG_IOCSREG,
  DIAG_IOCSUNREG,
  errnoName,
  loadLibc,
} from "./_tracepoints.ts";

/**
 * The tracepoint's registration command (the Rust crate's, byte for byte).
 *
 * @example
 * ```ts
 * import { OTLP_METRICS_TRACEPOINT } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * assert.equal(OTLP_METRICS_TRACEPOINT, "otlp_metrics u32 protocol;char[8] version;__rel_loc u8[] buffer;");
 * ```
 */
export const OTLP_METRICS_TRACEPOINT =
  "otlp_metrics u32 protocol;char[8] version;__rel_loc u8[] buffer;";

/**
 * The largest protobuf payload written by default: what perf can hand to a
 * listener (8184 bytes after the write index, `user-events.md` §3.4) less
 * the 16 bytes of fixed fields.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_METRIC_EVENT_BYTES } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_METRIC_EVENT_BYTES, 8168);
 * ```
 */
export const DEFAULT_MAX_METRIC_EVENT_BYTES = 8184 - 16;

const O_WRONLY = 0o1;
const O_CLOEXEC = 0o2000000;
const VERSION = "v0.19.00";
// write_index, protocol, version[8], rel_loc, then the buffer.
const HEADER = 4 + 4 + 8 + 4;
const MAX_BUFFER = 65535;

/**
 * Options of {@linkcode UserEventsMetricExporter}.
 *
 * @example
 * ```ts
 * import type { UserEventsMetricExporterOptions } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const options: UserEventsMetricExporterOptions = { maxEventBytes: 4000 };
 * assert.equal(options.maxEventBytes, 4000);
 * ```
 */
export interface UserEventsMetricExporterOptions {
  /**
   * `user_events_data` path.
   * @default {"/sys/kernel/tracing/user_events_data"}
   */
  readonly userEventsDataPath?: string;
  /**
   * The largest protobuf payload of one event; a data point whose request
   * is larger is dropped and counted. At most 65535 (the `__rel_loc` size);
   * keep the default for perf listeners.
   * @default {DEFAULT_MAX_METRIC_EVENT_BYTES}
   */
  readonly maxEventBytes?: number;
  /**
   * The temporality asked of the reader (the Rust crate uses delta).
   * @default {"delta"}
   */
  readonly temporalityPreference?: TemporalityPreference;
  /**
   * Where the one diagnostic of an unavailable kernel goes.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

/**
 * Counters of a {@linkcode UserEventsMetricExporter}.
 *
 * @example
 * ```ts
 * import type { UserEventsMetricStats } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const s: UserEventsMetricStats = { dataPoints: 2, written: 2, notEnabled: 0, droppedTooLarge: 0, droppedWriteError: 0, registered: true };
 * assert.equal(s.written, 2);
 * ```
 */
export interface UserEventsMetricStats {
  /** Data points handed to `export`. */
  readonly dataPoints: number;
  /** Events written. */
  readonly written: number;
  /** Data points not written because no listener had the tracepoint enabled (or it is not registered). */
  readonly notEnabled: number;
  /** Data points whose request exceeded `maxEventBytes`. */
  readonly droppedTooLarge: number;
  /** Data points whose `write` failed. */
  readonly droppedWriteError: number;
  /** Whether the tracepoint is registered. */
  readonly registered: boolean;
}

/**
 * Writes each data point of a collection as an `ExportMetricsServiceRequest`
 * to the `otlp_metrics` user_events tracepoint (protocol 0, version
 * `v0.19.00`), synchronously: every write is done when `export` returns.
 * Without a listener an export costs one read of the enable word. Where the
 * kernel lacks user_events, it reports one diagnostic and counts every
 * point as not enabled; it never throws.
 *
 * @example With a fake libc (see `openUserEventsMetricExporter` for the real one)
 * ```ts
 * import { ManualMetricReader, MeterProvider } from "@seed/telemetry/metrics";
 * import { UserEventsMetricExporter } from "@seed/telemetry/user-events";
 * import { FfiUnavailableError } from "@seed/telemetry/user-events";
 * import assert from "node:assert/strict";
 *
 * const exporter = new UserEventsMetricExporter(new FfiUnavailableError("no FFI here"), { diagnostics: () => {} });
 * const reader = new ManualMetricReader({ temporalityPreference: exporter.temporalityPreference });
 * const provider = new MeterProvider({ readers: [reader] });
 * provider.getMeter("app").createCounter("c").add(1);
 * await exporter.export((await reader.collect()).resourceMetrics, new AbortController().signal);
 * assert.equal(exporter.stats.notEnabled, 1);
 * exporter[Symbol.dispose]();
 * ```
 */
export class UserEventsMetricExporter implements MetricExporter, Disposable {
  /** The temporality asked of the reader. */
  readonly temporalityPreference: TemporalityPreference;
  /** The largest protobuf payload written. */
  readonly maxEventBytes: number;
  /** Why the exporter writes nothing, if it does not. */
  readonly unavailableReason: string | undefined;
  readonly #libc: LibcBinding | undefined;
  readonly #diagnostics: DiagnosticSink;
  readonly #proto = new ProtoBuffer(16 * 1024);
  #fd = -1;
  #word: Int32Array = new Int32Array(1);
  #wordMemory: NativeMemory | null = null;
  #event: NativeMemory | null = null;
  #eventBytes: Uint8Array = new Uint8Array(0);
  #eventView: DataView = new DataView(new ArrayBuffer(4));
  #writeIndex = 0;
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
   * Registers the tracepoint (use `openUserEventsMetricExporter` to load libc).
   *
   * @param libc The binding, or why it could not be opened.
   * @param options Path, size limit, temporality, diagnostics.
   * @throws {RangeError} When `maxEventBytes` is not an integer from 64 to 65535.
   */
  constructor(
    libc: LibcBinding | FfiUnavailableError,
    options: UserEventsMetricExporterOptions = {},
  ) {
    this.temporalityPreference = options.temporalityPreference ?? "delta";
    const max = options.maxEventBytes ?? DEFAULT_MAX_METRIC_EVENT_BYTES;
    if (!Number.isInteger(max) || max < 64 || max > MAX_BUFFER) {
      throw new RangeError(
        `Cannot use maxEventBytes ${max}: expected an integer from 64 to 65535`,
      );
    }
    this.maxEventBytes = max;
    this.#diagnostics = options.diagnostics ?? consoleDiagnosticSink;
    if (libc instanceof FfiUnavailableError) {
      this.#libc = undefined;
      this.unavailableReason = libc.message;
    } else {
      this.#libc = libc;
      this.unavailableReason = this.#register(
        libc,
        options.userEventsDataPath ?? DEFAULT_USER_EVENTS_DATA,
      );
    }
    if (this.unavailableReason !== undefined) {
      reportDiagnostic(
        this.#diagnostics,
        "UserEventsMetricExporter",
        "warn",
        `${this.unavailableReason}; UserEventsMetricExporter disabled`,
      );
    }
  }

  #register(libc: LibcBinding, path: string): string | undefined {
    const fd = libc.open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      return `Cannot open ${path}: ${errnoName(-fd)}` +
        (-fd === 2
          ? "; this kernel has no user_events (needs Linux >= 6.4 with CONFIG_USER_EVENTS=y)"
          : -fd === 13 || -fd === 1
          ? "; grant write access to user_events_data or run as root"
          : "");
    }
    this.#fd = fd;
    const word = libc.alloc(8);
    const event = word === null ? null : libc.alloc(HEADER + MAX_BUFFER + 4);
    const reg = event === null ? null : libc.alloc(32);
    const command = reg === null
      ? null
      : libc.alloc(OTLP_METRICS_TRACEPOINT.length + 1);
    if (word === null || event === null || reg === null || command === null) {
      for (const m of [word, event, reg]) if (m !== null) libc.free(m);
      this.#close();
      return "Cannot allocate native memory for user_events: ENOMEM (12)";
    }
    this.#wordMemory = word;
    this.#event = event;
    this.#word = new Int32Array(word.buffer, 0, 1);
    this.#word[0] = 0;
    this.#eventBytes = new Uint8Array(event.buffer, 0, HEADER + MAX_BUFFER);
    this.#eventView = new DataView(event.buffer, 0, HEADER + MAX_BUFFER);
    // The fixed fields after the write index never change.
    this.#eventView.setUint32(4, 0, true); // protocol 0: protobuf
    for (let i = 0; i < 8; i++) this.#eventBytes[8 + i] = VERSION.charCodeAt(i);
    const text = new Uint8Array(command.buffer, 0, command.size);
    for (let i = 0; i < OTLP_METRICS_TRACEPOINT.length; i++) {
      text[i] = OTLP_METRICS_TRACEPOINT.charCodeAt(i);
    }
    text[OTLP_METRICS_TRACEPOINT.length] = 0;
    const v = new DataView(reg.buffer, 0, 32);
    v.setUint32(0, 28, true); // size
    v.setUint8(4, 0); // enable_bit
    v.setUint8(5, 4); // enable_size
    v.setUint16(6, 0, true); // flags
    v.setBigUint64(8, word.address, true); // enable_addr
    v.setBigUint64(16, command.address, true); // name_args
    v.setUint32(24, 0, true);
    const r = libc.ioctl(fd, DIAG_IOCSREG, reg);
    this.#writeIndex = v.getInt32(24, true);
    libc.free(reg);
    libc.free(command);
    if (r < 0) {
      this.#close();
      return `Cannot register the otlp_metrics tracepoint on ${path}: ${
        errnoName(-r)
      }`;
    }
    this.#registered = true;
    return undefined;
  }

  /** Whether a listener has the tracepoint enabled now (one memory read). */
  get enabled(): boolean {
    return this.#word[0] !== 0;
  }

  /** Counters, as of now. */
  get stats(): UserEventsMetricStats {
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
        () => this.#word[0] !== 0,
        (bytes, length) => this.#write(bytes, length),
        "user_events",
      ),
    );
  }

  #write(bytes: Uint8Array, length: number): number {
    if (this.#word[0] === 0) return POINT_NOT_ENABLED; // the listener left
    const view = this.#eventView;
    view.setInt32(0, this.#writeIndex, true);
    // __rel_loc: size in the high 16 bits, offset from the end of this
    // field (0: the buffer follows) in the low 16.
    view.setUint32(16, (length << 16) >>> 0, true);
    this.#eventBytes.set(bytes.subarray(0, length), HEADER);
    const r = this.#libc!.write(this.#fd, this.#event!, HEADER + length);
    if (r >= 0) return POINT_WRITTEN;
    if (r === -9) return POINT_NOT_ENABLED; // EBADF: the listener left
    if (!this.#reportedWrite) {
      this.#reportedWrite = true;
      reportDiagnostic(
        this.#diagnostics,
        "UserEventsMetricExporter",
        "warn",
        `Cannot write to user_events: ${
          errnoName(-r)
        }; the data point was dropped (counted in stats.droppedWriteError)`,
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
   * Unregisters the tracepoint and frees its memory. Idempotent.
   *
   * @returns Resolves when done.
   */
  shutdown(): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /** Unregisters the tracepoint and frees its memory. Idempotent. */
  [Symbol.dispose](): void {
    const libc = this.#libc;
    if (libc !== undefined && this.#registered && this.#wordMemory !== null) {
      this.#registered = false;
      const unreg = libc.alloc(16);
      if (unreg !== null) {
        const v = new DataView(unreg.buffer, 0, 16);
        v.setUint32(0, 16, true);
        v.setUint8(4, 0);
        v.setUint8(5, 0);
        v.setUint16(6, 0, true);
        v.setBigUint64(8, this.#wordMemory.address, true);
        const r = libc.ioctl(this.#fd, DIAG_IOCSUNREG, unreg);
        libc.free(unreg);
        if (r < 0) this.#wordMemory = null; // still registered: leak the word
      } else this.#wordMemory = null;
    }
    this.#word = new Int32Array(1);
    this.#close();
  }

  #close(): void {
    const libc = this.#libc;
    if (libc === undefined) return;
    if (this.#wordMemory !== null) libc.free(this.#wordMemory);
    this.#wordMemory = null;
    if (this.#event !== null) libc.free(this.#event);
    this.#event = null;
    if (this.#fd >= 0) libc.close(this.#fd);
    this.#fd = -1;
  }
}

/**
 * Loads libc through the runtime's FFI and creates a
 * {@linkcode UserEventsMetricExporter}; resolves to a disabled exporter
 * (with one diagnostic) where FFI or user_events is missing. Never rejects.
 *
 * @param options Path, size limit, temporality, diagnostics.
 * @returns The exporter.
 *
 * @example
 * ```ts ignore
 * import { MeterProvider, PeriodicExportingMetricReader } from "@seed/telemetry/metrics";
 * import { openUserEventsMetricExporter } from "@seed/telemetry/user-events";
 *
 * const exporter = await openUserEventsMetricExporter();
 * const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader(exporter)] });
 * provider.getMeter("app").createCounter("requests").add(1);
 * // perf record -e user_events:otlp_metrics ...
 * ```
 *
 * @tags allow-ffi
 */
export async function openUserEventsMetricExporter(
  options: UserEventsMetricExporterOptions = {},
): Promise<UserEventsMetricExporter> {
  return new UserEventsMetricExporter(await loadLibc(), options);
}
