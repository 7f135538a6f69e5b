// The environment (OTEL_* and this library's SEED_TELEMETRY_* variables) as a
// Plan. Every variable is read through pipeline/env.ts; bad values never throw:
// each is reported once and its documented default applies. Settings the
// components read themselves (OTEL_EXPORTER_OTLP_*, OTEL_BSP_*, OTEL_BLRP_*,
// OTEL_*_LIMIT, OTEL_TRACES_SAMPLER*, OTEL_METRIC_EXPORT_*, the resource) are
// left to them: the plan hands them the same environment.

import process from "node:process";
import {
  type EnvReadOptions,
  type EnvSource,
  processEnvSource,
  readBooleanEnv,
  readIntegerEnv,
  readNameListEnv,
  readPropagatorsEnv,
  readStringEnv,
} from "../mod.ts";
import {
  INSTRUMENTATION_NAMES,
  type InstrumentationName,
  type OsPlan,
  type Plan,
  type ProcessorPlan,
  type ReaderPlan,
} from "./_plan.ts";

/** The exporter names of OTEL_{TRACES,LOGS,METRICS}_EXPORTER this library provides. */
export const EXPORTER_NAMES = [
  "otlp",
  "console",
  "user_events",
  "etw",
] as const;
export type ExporterName = typeof EXPORTER_NAMES[number];

/** The default deadline of the flush at exit or on a signal, in ms. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 5000;

/** The OS back-end of this platform, if it has one. */
export function platformBackend(): "user_events" | "etw" | undefined {
  if (process.platform === "linux") return "user_events";
  if (process.platform === "win32") return "etw";
  return undefined;
}

function hasEndpoint(
  signal: "TRACES" | "LOGS" | "METRICS",
  options: EnvReadOptions,
): boolean {
  return readStringEnv("OTEL_EXPORTER_OTLP_ENDPOINT", options) !== undefined ||
    readStringEnv(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`, options) !==
      undefined;
}

/** The back-ends of one signal: the variable's list, else the defaults. */
function backends(
  signal: "TRACES" | "LOGS" | "METRICS",
  options: EnvReadOptions,
): { names: ExporterName[]; optional: boolean } {
  const asked = readNameListEnv(
    `OTEL_${signal}_EXPORTER`,
    EXPORTER_NAMES,
    options,
  );
  if (asked !== undefined) return { names: asked, optional: false };
  const names: ExporterName[] = [];
  if (hasEndpoint(signal, options)) names.push("otlp");
  const os = platformBackend();
  if (os !== undefined) names.push(os);
  return { names, optional: true };
}

function osPlan(kind: "user_events" | "etw", optional: boolean): OsPlan {
  return optional ? { kind, optional: true } : { kind };
}

function processors(
  signal: "TRACES" | "LOGS",
  options: EnvReadOptions,
): ProcessorPlan[] {
  const { names, optional } = backends(signal, options);
  return names.map((name): ProcessorPlan => {
    switch (name) {
      case "otlp":
        return { kind: "batch", exporter: { kind: "otlp" }, batch: {} };
      case "console":
        return { kind: "simple", exporter: { kind: "console" } };
      default:
        return osPlan(name, optional);
    }
  });
}

function readers(options: EnvReadOptions): ReaderPlan[] {
  const { names, optional } = backends("METRICS", options);
  return names.map((name): ReaderPlan => {
    switch (name) {
      case "otlp":
        return { exporter: { kind: "otlp" } };
      case "console":
        return { exporter: { kind: "console" } };
      default:
        return { exporter: osPlan(name, optional) };
    }
  });
}

/**
 * The instrumentations asked for by SEED_TELEMETRY_INSTRUMENTATIONS (default
 * `http`), and the library's other variables; shared by both modes, since the
 * configuration file has no place for them.
 */
export function readLibraryEnv(options: EnvReadOptions): {
  instrumentations: InstrumentationName[];
  shutdownTimeoutMillis: number;
  providerName?: string;
} {
  const instrumentations = readNameListEnv(
    "SEED_TELEMETRY_INSTRUMENTATIONS",
    INSTRUMENTATION_NAMES,
    options,
  ) ?? ["http"];
  const shutdownTimeoutMillis =
    readIntegerEnv("SEED_TELEMETRY_SHUTDOWN_TIMEOUT", options) ??
      DEFAULT_SHUTDOWN_TIMEOUT_MILLIS;
  const providerName = readStringEnv("SEED_TELEMETRY_PROVIDER_NAME", options);
  return providerName === undefined
    ? { instrumentations, shutdownTimeoutMillis }
    : { instrumentations, shutdownTimeoutMillis, providerName };
}

/** Reads the plan from the environment; never throws. */
export function planFromEnv(options: EnvReadOptions): Plan {
  const env: EnvSource = options.env ?? processEnvSource;
  const propagators = readPropagatorsEnv(options);
  return {
    source: "environment",
    disabled: readBooleanEnv("OTEL_SDK_DISABLED", options),
    componentEnv: env,
    ...(propagators === undefined ? {} : { propagators }),
    traces: { processors: processors("TRACES", options) },
    logs: { processors: processors("LOGS", options) },
    metrics: { readers: readers(options) },
    ...readLibraryEnv(options),
  };
}
