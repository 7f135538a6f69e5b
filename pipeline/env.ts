/**
 * The one module that reads `OTEL_*` environment variables and turns them
 * into options. Nothing else in the library reads the environment, and an
 * explicit option always wins over a variable.
 *
 * Bad values never throw: each falls back to its documented default and
 * reports one diagnostic naming the variable and what it expects.
 *
 * Every reader takes an {@linkcode EnvSource}, so tests and embedders can pass
 * a fixed environment instead of the process's.
 *
 * @module
 */

import { env as processEnv } from "node:process";
import {
  consoleDiagnosticSink,
  type DiagnosticSink,
  reportDiagnostic,
} from "./diagnostics.ts";

/**
 * Looks up one environment variable; returns `undefined` when it is unset.
 *
 * @example A fixed environment for tests
 * ```ts
 * import type { EnvSource } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const vars: Record<string, string> = { OTEL_SERVICE_NAME: "checkout" };
 * const env: EnvSource = (name) => vars[name];
 * assert.equal(env("OTEL_SERVICE_NAME"), "checkout");
 * ```
 */
export type EnvSource = (name: string) => string | undefined;

/**
 * Reads the process environment (`process.env`, which Deno and Bun both
 * provide). Without permission to read it (Deno without `--allow-env`), every
 * variable reads as unset.
 *
 * @param name The variable's name.
 * @returns Its value, or `undefined`.
 *
 * @example
 * ```ts
 * import { processEnvSource } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(processEnvSource("SEED_TELEMETRY_SURELY_UNSET"), undefined);
 * ```
 */
export function processEnvSource(name: string): string | undefined {
  try {
    return processEnv[name];
  } catch {
    return undefined;
  }
}

/**
 * Options of the environment readers.
 *
 * @example
 * ```ts
 * import { type EnvReadOptions, readStringEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const options: EnvReadOptions = { env: () => "svc", diagnostics: () => {} };
 * assert.equal(readStringEnv("OTEL_SERVICE_NAME", options), "svc");
 * ```
 */
export interface EnvReadOptions {
  /**
   * Where variables come from.
   * @default {processEnvSource}
   */
  readonly env?: EnvSource;
  /**
   * Where a bad value is reported.
   * @default {consoleDiagnosticSink}
   */
  readonly diagnostics?: DiagnosticSink;
}

function get(options: EnvReadOptions, name: string): string | undefined {
  const value = (options.env ?? processEnvSource)(name);
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function bad(
  options: EnvReadOptions,
  name: string,
  value: string,
  expected: string,
  fallback: string,
): void {
  reportDiagnostic(
    options.diagnostics ?? consoleDiagnosticSink,
    "env",
    "warn",
    `Ignoring ${name}=${
      JSON.stringify(value)
    }: expected ${expected}; using ${fallback}`,
  );
}

/**
 * Reads a boolean variable: `true`/`false`, case-insensitive; anything else
 * is reported and reads as `false`, as the specification requires.
 *
 * @param name The variable.
 * @param options Where to read and report.
 * @returns The value; `false` when unset or invalid.
 *
 * @example
 * ```ts
 * import { readBooleanEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(readBooleanEnv("OTEL_SDK_DISABLED", { env: () => "TRUE" }), true);
 * ```
 */
export function readBooleanEnv(
  name: string,
  options: EnvReadOptions = {},
): boolean {
  const value = get(options, name);
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower !== "false") bad(options, name, value, "true or false", "false");
  return false;
}

/**
 * Reads a non-negative integer variable; a bad value is reported and reads
 * as `undefined` (so the caller's default applies).
 *
 * @param name The variable.
 * @param options Where to read and report; `min` is the least valid value (default 0).
 * @returns The integer, or `undefined`.
 *
 * @example
 * ```ts
 * import { readIntegerEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(readIntegerEnv("OTEL_BLRP_MAX_QUEUE_SIZE", { env: () => "4096" }), 4096);
 * assert.equal(readIntegerEnv("OTEL_BLRP_MAX_QUEUE_SIZE", { env: () => "lots", diagnostics: () => {} }), undefined);
 * ```
 */
export function readIntegerEnv(
  name: string,
  options: EnvReadOptions & { readonly min?: number } = {},
): number | undefined {
  const value = get(options, name);
  if (value === undefined) return undefined;
  const min = options.min ?? 0;
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n) && n >= min) return n;
  }
  bad(options, name, value, `an integer >= ${min}`, "the default");
  return undefined;
}

/**
 * Reads a comma-separated `key=value` list (`OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_EXPORTER_OTLP_HEADERS`) with percent-decoded keys and values. A
 * malformed entry is reported (by key only, never by value, since these may
 * be secrets) and skipped.
 *
 * @param name The variable.
 * @param options Where to read and report.
 * @returns The entries, in order; empty when unset.
 *
 * @example
 * ```ts
 * import { readKeyValueListEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const env = () => "service.namespace=shop,team=a%20b";
 * assert.deepEqual(readKeyValueListEnv("OTEL_RESOURCE_ATTRIBUTES", { env }), [["service.namespace", "shop"], ["team", "a b"]]);
 * ```
 */
export function readKeyValueListEnv(
  name: string,
  options: EnvReadOptions = {},
): [string, string][] {
  const value = get(options, name);
  const out: [string, string][] = [];
  if (value === undefined) return out;
  const entries = value.split(",");
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i].trim();
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    const rawKey = eq < 0 ? entry : entry.slice(0, eq).trim();
    try {
      if (eq <= 0) throw new Error("no key=value");
      out.push([
        decodeURIComponent(rawKey),
        decodeURIComponent(entry.slice(eq + 1).trim()),
      ]);
    } catch {
      reportDiagnostic(
        options.diagnostics ?? consoleDiagnosticSink,
        "env",
        "warn",
        `Ignoring entry ${
          i + 1
        } of ${name}: expected key=value with percent-encoding; skipping that entry`,
      );
    }
  }
  return out;
}

/**
 * Reads a string variable that must be one of `allowed` (compared
 * case-insensitively); anything else is reported and reads as `undefined`.
 *
 * @param name The variable.
 * @param allowed The valid values, lowercase.
 * @param options Where to read and report.
 * @returns The lowercase value, or `undefined`.
 *
 * @example
 * ```ts
 * import { readChoiceEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(readChoiceEnv("OTEL_EXPORTER_OTLP_COMPRESSION", ["gzip", "none"], { env: () => "GZIP" }), "gzip");
 * ```
 */
export function readChoiceEnv<T extends string>(
  name: string,
  allowed: readonly T[],
  options: EnvReadOptions = {},
): T | undefined {
  const value = get(options, name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase() as T;
  if (allowed.includes(lower)) return lower;
  bad(options, name, value, `one of ${allowed.join(", ")}`, "the default");
  return undefined;
}

/**
 * Reads a string variable as it is (trimmed), or `undefined` when unset.
 *
 * @param name The variable.
 * @param options Where to read.
 * @returns The value, or `undefined`.
 *
 * @example
 * ```ts
 * import { readStringEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.equal(readStringEnv("OTEL_SERVICE_NAME", { env: () => " api " }), "api");
 * ```
 */
export function readStringEnv(
  name: string,
  options: EnvReadOptions = {},
): string | undefined {
  return get(options, name);
}

/**
 * Attribute limits and span limits read from the environment, per signal.
 *
 * @example
 * ```ts
 * import type { LimitsFromEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const limits: LimitsFromEnv = { attributeCountLimit: 64 };
 * assert.equal(limits.attributeCountLimit, 64);
 * ```
 */
export interface LimitsFromEnv {
  /** `OTEL_{LOGRECORD,SPAN}_ATTRIBUTE_COUNT_LIMIT`, else `OTEL_ATTRIBUTE_COUNT_LIMIT`. */
  readonly attributeCountLimit?: number;
  /** `OTEL_{LOGRECORD,SPAN}_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`. */
  readonly attributeValueLengthLimit?: number;
  /** `OTEL_SPAN_EVENT_COUNT_LIMIT` (spans only). */
  readonly eventCountLimit?: number;
  /** `OTEL_SPAN_LINK_COUNT_LIMIT` (spans only). */
  readonly linkCountLimit?: number;
  /** `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT` (spans only). */
  readonly eventAttributeCountLimit?: number;
  /** `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT` (spans only). */
  readonly linkAttributeCountLimit?: number;
}

/**
 * Reads the attribute (and, for spans, event and link) limits of one
 * signal; the signal-specific variable wins over the general one.
 *
 * @param signal `"logs"` or `"traces"`.
 * @param options Where to read and report.
 * @returns The limits that are set.
 *
 * @example
 * ```ts
 * import { readLimitsEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const vars: Record<string, string> = { OTEL_ATTRIBUTE_COUNT_LIMIT: "10", OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: "5" };
 * assert.equal(readLimitsEnv("logs", { env: (n) => vars[n] }).attributeCountLimit, 5);
 * ```
 */
export function readLimitsEnv(
  signal: "logs" | "traces",
  options: EnvReadOptions = {},
): LimitsFromEnv {
  const prefix = signal === "logs" ? "OTEL_LOGRECORD_" : "OTEL_SPAN_";
  const out: {
    attributeCountLimit?: number;
    attributeValueLengthLimit?: number;
    eventCountLimit?: number;
    linkCountLimit?: number;
    eventAttributeCountLimit?: number;
    linkAttributeCountLimit?: number;
  } = {};
  const count = readIntegerEnv(`${prefix}ATTRIBUTE_COUNT_LIMIT`, options) ??
    readIntegerEnv("OTEL_ATTRIBUTE_COUNT_LIMIT", options);
  if (count !== undefined) out.attributeCountLimit = count;
  const length =
    readIntegerEnv(`${prefix}ATTRIBUTE_VALUE_LENGTH_LIMIT`, options) ??
      readIntegerEnv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", options);
  if (length !== undefined) out.attributeValueLengthLimit = length;
  if (signal === "traces") {
    const events = readIntegerEnv("OTEL_SPAN_EVENT_COUNT_LIMIT", options);
    if (events !== undefined) out.eventCountLimit = events;
    const links = readIntegerEnv("OTEL_SPAN_LINK_COUNT_LIMIT", options);
    if (links !== undefined) out.linkCountLimit = links;
    const eventAttrs = readIntegerEnv(
      "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
      options,
    );
    if (eventAttrs !== undefined) out.eventAttributeCountLimit = eventAttrs;
    const linkAttrs = readIntegerEnv(
      "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
      options,
    );
    if (linkAttrs !== undefined) out.linkAttributeCountLimit = linkAttrs;
  }
  return out;
}

/**
 * Batch processor settings read from the environment.
 *
 * @example
 * ```ts
 * import type { BatchFromEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const fromEnv: BatchFromEnv = { maxQueueSize: 4096 };
 * assert.equal(fromEnv.maxQueueSize, 4096);
 * ```
 */
export interface BatchFromEnv {
  /** `OTEL_BLRP_MAX_QUEUE_SIZE` / `OTEL_BSP_MAX_QUEUE_SIZE`. */
  readonly maxQueueSize?: number;
  /** `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE` / `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`. */
  readonly maxExportBatchSize?: number;
  /** `OTEL_BLRP_SCHEDULE_DELAY` / `OTEL_BSP_SCHEDULE_DELAY`, in milliseconds. */
  readonly scheduledDelayMillis?: number;
  /** `OTEL_BLRP_EXPORT_TIMEOUT` / `OTEL_BSP_EXPORT_TIMEOUT`, in milliseconds. */
  readonly exportTimeoutMillis?: number;
}

/**
 * Reads the batch processor variables of one signal: `OTEL_BLRP_*` for logs,
 * `OTEL_BSP_*` for spans. Sizes must be at least 1.
 *
 * @param signal `"logs"` or `"traces"`.
 * @param options Where to read and report.
 * @returns The settings that are set.
 *
 * @example
 * ```ts
 * import { readBatchEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const vars: Record<string, string> = { OTEL_BSP_SCHEDULE_DELAY: "200" };
 * assert.equal(readBatchEnv("traces", { env: (n) => vars[n] }).scheduledDelayMillis, 200);
 * ```
 */
export function readBatchEnv(
  signal: "logs" | "traces",
  options: EnvReadOptions = {},
): BatchFromEnv {
  const prefix = signal === "logs" ? "OTEL_BLRP_" : "OTEL_BSP_";
  const out: {
    maxQueueSize?: number;
    maxExportBatchSize?: number;
    scheduledDelayMillis?: number;
    exportTimeoutMillis?: number;
  } = {};
  const queue = readIntegerEnv(`${prefix}MAX_QUEUE_SIZE`, {
    ...options,
    min: 1,
  });
  if (queue !== undefined) out.maxQueueSize = queue;
  const batch = readIntegerEnv(`${prefix}MAX_EXPORT_BATCH_SIZE`, {
    ...options,
    min: 1,
  });
  if (batch !== undefined) out.maxExportBatchSize = batch;
  const delay = readIntegerEnv(`${prefix}SCHEDULE_DELAY`, options);
  if (delay !== undefined) out.scheduledDelayMillis = delay;
  const timeout = readIntegerEnv(`${prefix}EXPORT_TIMEOUT`, options);
  if (timeout !== undefined) out.exportTimeoutMillis = timeout;
  return out;
}

/**
 * OTLP exporter settings read from the environment for one signal, before
 * path rules are applied.
 *
 * @example
 * ```ts
 * import type { OtlpFromEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const fromEnv: OtlpFromEnv = { headers: [], signalEndpoint: "http://collector:4318/v1/logs" };
 * assert.ok(fromEnv.signalEndpoint);
 * ```
 */
export interface OtlpFromEnv {
  /** `OTEL_EXPORTER_OTLP_{LOGS,TRACES,METRICS}_ENDPOINT`: used as is. */
  readonly signalEndpoint?: string;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: a base URL to which `/v1/logs` or `/v1/traces` is appended. */
  readonly baseEndpoint?: string;
  /** `OTEL_EXPORTER_OTLP_HEADERS`, then the signal-specific headers (later entries win). */
  readonly headers: readonly (readonly [string, string])[];
  /** Signal-specific timeout, else the general one, in milliseconds. */
  readonly timeoutMillis?: number;
  /** Signal-specific compression, else the general one. */
  readonly compression?: "gzip" | "none";
  /** Signal-specific protocol, else the general one. */
  readonly protocol?: "http/protobuf" | "http/json" | "grpc";
}

/**
 * Reads the `OTEL_EXPORTER_OTLP_*` variables for one signal, with the
 * signal-specific variable winning over the general one. Header values are
 * never included in diagnostics.
 *
 * @param signal `"logs"` or `"traces"`.
 * @param options Where to read and report.
 * @returns The settings that are set.
 *
 * @example
 * ```ts
 * import { readOtlpEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const vars: Record<string, string> = {
 *   OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
 *   OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: "gzip",
 * };
 * const fromEnv = readOtlpEnv("logs", { env: (n) => vars[n] });
 * assert.equal(fromEnv.baseEndpoint, "http://collector:4318");
 * assert.equal(fromEnv.compression, "gzip");
 * ```
 */
export function readOtlpEnv(
  signal: "logs" | "traces" | "metrics",
  options: EnvReadOptions = {},
): OtlpFromEnv {
  const s = signal.toUpperCase();
  const out: {
    signalEndpoint?: string;
    baseEndpoint?: string;
    headers: (readonly [string, string])[];
    timeoutMillis?: number;
    compression?: "gzip" | "none";
    protocol?: "http/protobuf" | "http/json" | "grpc";
  } = { headers: [] };
  const signalEndpoint = get(options, `OTEL_EXPORTER_OTLP_${s}_ENDPOINT`);
  if (signalEndpoint !== undefined) out.signalEndpoint = signalEndpoint;
  const baseEndpoint = get(options, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (baseEndpoint !== undefined) out.baseEndpoint = baseEndpoint;
  out.headers.push(
    ...readKeyValueListEnv("OTEL_EXPORTER_OTLP_HEADERS", options),
  );
  out.headers.push(
    ...readKeyValueListEnv(`OTEL_EXPORTER_OTLP_${s}_HEADERS`, options),
  );
  const timeout = readIntegerEnv(`OTEL_EXPORTER_OTLP_${s}_TIMEOUT`, options) ??
    readIntegerEnv("OTEL_EXPORTER_OTLP_TIMEOUT", options);
  if (timeout !== undefined) out.timeoutMillis = timeout;
  const compressions = ["gzip", "none"] as const;
  const compression = readChoiceEnv(
    `OTEL_EXPORTER_OTLP_${s}_COMPRESSION`,
    compressions,
    options,
  ) ??
    readChoiceEnv("OTEL_EXPORTER_OTLP_COMPRESSION", compressions, options);
  if (compression !== undefined) out.compression = compression;
  const protocols = ["http/protobuf", "http/json", "grpc"] as const;
  const protocol =
    readChoiceEnv(`OTEL_EXPORTER_OTLP_${s}_PROTOCOL`, protocols, options) ??
      readChoiceEnv("OTEL_EXPORTER_OTLP_PROTOCOL", protocols, options);
  if (protocol !== undefined) out.protocol = protocol;
  return out;
}

/**
 * The samplers `OTEL_TRACES_SAMPLER` may name.
 *
 * @example
 * ```ts
 * import type { SamplerName } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const name: SamplerName = "parentbased_traceidratio";
 * assert.ok(name.startsWith("parentbased"));
 * ```
 */
export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

/**
 * Reads `OTEL_TRACES_SAMPLER` and, for the ratio samplers,
 * `OTEL_TRACES_SAMPLER_ARG` (a number in [0, 1]; default 1). An unknown
 * sampler or a bad ratio is reported and ignored.
 *
 * @param options Where to read and report.
 * @returns The sampler and ratio that are set.
 *
 * @example
 * ```ts
 * import { readSamplerEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const vars: Record<string, string> = { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" };
 * assert.deepEqual(readSamplerEnv({ env: (n) => vars[n] }), { sampler: "traceidratio", ratio: 0.25 });
 * ```
 */
export function readSamplerEnv(
  options: EnvReadOptions = {},
): { sampler?: SamplerName; ratio?: number } {
  const names = [
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
  ] as const;
  const sampler = readChoiceEnv("OTEL_TRACES_SAMPLER", names, options);
  if (sampler === undefined) return {};
  if (!sampler.endsWith("traceidratio")) return { sampler };
  const arg = get(options, "OTEL_TRACES_SAMPLER_ARG");
  if (arg === undefined) return { sampler, ratio: 1 };
  const ratio = Number(arg);
  if (/^[0-9.eE+-]+$/.test(arg) && ratio >= 0 && ratio <= 1) {
    return { sampler, ratio };
  }
  bad(options, "OTEL_TRACES_SAMPLER_ARG", arg, "a number from 0 to 1", "1");
  return { sampler, ratio: 1 };
}

/**
 * The propagators `OTEL_PROPAGATORS` may name that this library provides.
 *
 * @example
 * ```ts
 * import type { PropagatorName } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const names: PropagatorName[] = ["tracecontext", "baggage"];
 * assert.equal(names.length, 2);
 * ```
 */
export type PropagatorName = "tracecontext" | "baggage";

const KNOWN_ELSEWHERE = ["b3", "b3multi", "jaeger", "xray", "ottrace"];

/**
 * Reads `OTEL_PROPAGATORS`, a comma-separated list. `tracecontext` and
 * `baggage` are provided; `none` means no propagation; the other names of the
 * specification (`b3`, `b3multi`, `jaeger`, `xray`, `ottrace`) and unknown
 * names are reported once each and skipped. Duplicates are kept once.
 *
 * @param options Where to read and report.
 * @returns The propagators in order, `[]` for `none`, or `undefined` when unset
 *   (the caller's default, `tracecontext,baggage`, applies).
 *
 * @example
 * ```ts
 * import { readPropagatorsEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(readPropagatorsEnv({ env: () => "baggage, tracecontext" }), ["baggage", "tracecontext"]);
 * assert.deepEqual(readPropagatorsEnv({ env: () => "none" }), []);
 * assert.equal(readPropagatorsEnv({ env: () => undefined }), undefined);
 * ```
 */
export function readPropagatorsEnv(
  options: EnvReadOptions = {},
): PropagatorName[] | undefined {
  const value = get(options, "OTEL_PROPAGATORS");
  if (value === undefined) return undefined;
  const out: PropagatorName[] = [];
  let none = false;
  for (const part of value.split(",")) {
    const name = part.trim().toLowerCase();
    if (name === "") continue;
    if (name === "tracecontext" || name === "baggage") {
      if (!out.includes(name)) out.push(name);
    } else if (name === "none") {
      none = true;
    } else {
      reportDiagnostic(
        options.diagnostics ?? consoleDiagnosticSink,
        "env",
        "warn",
        `Ignoring ${JSON.stringify(name.slice(0, 64))} in OTEL_PROPAGATORS: ${
          KNOWN_ELSEWHERE.includes(name)
            ? "this propagator is not provided by @seed/telemetry"
            : "unknown propagator"
        }; supported: tracecontext, baggage, none`,
      );
    }
  }
  return none ? [] : out;
}

/**
 * Metrics settings read from the environment.
 *
 * @example
 * ```ts
 * import type { MetricsFromEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const fromEnv: MetricsFromEnv = { exportIntervalMillis: 10000 };
 * assert.equal(fromEnv.exportIntervalMillis, 10000);
 * ```
 */
export interface MetricsFromEnv {
  /** `OTEL_METRIC_EXPORT_INTERVAL`, in milliseconds (at least 1). */
  readonly exportIntervalMillis?: number;
  /** `OTEL_METRIC_EXPORT_TIMEOUT`, in milliseconds. */
  readonly exportTimeoutMillis?: number;
  /** `OTEL_METRICS_EXEMPLAR_FILTER`. */
  readonly exemplarFilter?: "trace_based" | "always_on" | "always_off";
  /** `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`. */
  readonly temporalityPreference?: "cumulative" | "delta" | "lowmemory";
}

/**
 * Reads the metrics variables: `OTEL_METRIC_EXPORT_INTERVAL`,
 * `OTEL_METRIC_EXPORT_TIMEOUT`, `OTEL_METRICS_EXEMPLAR_FILTER` and
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`. Bad values are
 * reported and ignored.
 *
 * @param options Where to read and report.
 * @returns The settings that are set.
 *
 * @example
 * ```ts
 * import { readMetricsEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const vars: Record<string, string> = { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "Delta" };
 * assert.equal(readMetricsEnv({ env: (n) => vars[n] }).temporalityPreference, "delta");
 * ```
 */
export function readMetricsEnv(options: EnvReadOptions = {}): MetricsFromEnv {
  const out: {
    exportIntervalMillis?: number;
    exportTimeoutMillis?: number;
    exemplarFilter?: "trace_based" | "always_on" | "always_off";
    temporalityPreference?: "cumulative" | "delta" | "lowmemory";
  } = {};
  const interval = readIntegerEnv("OTEL_METRIC_EXPORT_INTERVAL", {
    ...options,
    min: 1,
  });
  if (interval !== undefined) out.exportIntervalMillis = interval;
  const timeout = readIntegerEnv("OTEL_METRIC_EXPORT_TIMEOUT", options);
  if (timeout !== undefined) out.exportTimeoutMillis = timeout;
  const filter = readChoiceEnv(
    "OTEL_METRICS_EXEMPLAR_FILTER",
    ["trace_based", "always_on", "always_off"] as const,
    options,
  );
  if (filter !== undefined) out.exemplarFilter = filter;
  const temporality = readChoiceEnv(
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
    ["cumulative", "delta", "lowmemory"] as const,
    options,
  );
  if (temporality !== undefined) out.temporalityPreference = temporality;
  return out;
}

/**
 * Reads a comma-separated list of names (`OTEL_TRACES_EXPORTER`,
 * `OTEL_LOGS_EXPORTER`, `OTEL_METRICS_EXPORTER`, this library's
 * `SEED_TELEMETRY_INSTRUMENTATIONS`), compared case-insensitively, with
 * duplicates kept once. All or nothing: one unknown name, or `none` next to
 * another name, makes the whole variable ignored with one diagnostic naming
 * the variable, the name and the valid ones, so a typo never leaves a signal
 * half-configured.
 *
 * @param name The variable.
 * @param allowed The valid names, lowercase (`none` is always valid and reads as `[]`).
 * @param options Where to read and report.
 * @returns The names in order, `[]` for `none`, or `undefined` when unset or invalid.
 *
 * @example
 * ```ts
 * import { readNameListEnv } from "@seed/telemetry";
 * import assert from "node:assert/strict";
 *
 * const allowed = ["otlp", "console"] as const;
 * assert.deepEqual(readNameListEnv("OTEL_TRACES_EXPORTER", allowed, { env: () => "OTLP, console" }), ["otlp", "console"]);
 * assert.deepEqual(readNameListEnv("OTEL_TRACES_EXPORTER", allowed, { env: () => "none" }), []);
 * assert.equal(readNameListEnv("OTEL_TRACES_EXPORTER", allowed, { env: () => "otlp,zipkin", diagnostics: () => {} }), undefined);
 * ```
 */
export function readNameListEnv<T extends string>(
  name: string,
  allowed: readonly T[],
  options: EnvReadOptions = {},
): T[] | undefined {
  const value = get(options, name);
  if (value === undefined) return undefined;
  const out: T[] = [];
  let none = false;
  for (const part of value.split(",")) {
    const item = part.trim().toLowerCase();
    if (item === "") continue;
    if (item === "none") {
      none = true;
    } else if ((allowed as readonly string[]).includes(item)) {
      if (!out.includes(item as T)) out.push(item as T);
    } else {
      bad(
        options,
        name,
        value,
        `a comma-separated list of ${allowed.join(", ")} or none (${
          JSON.stringify(item.slice(0, 64))
        } is not one)`,
        "the default",
      );
      return undefined;
    }
  }
  if (none && out.length > 0) {
    bad(
      options,
      name,
      value,
      "none alone, or a list without none",
      "the default",
    );
    return undefined;
  }
  return out;
}
