// What to build, resolved from the environment (_from_env.ts) or from a
// configuration file (_config_file.ts) before anything is built, so that a bad
// configuration never leaves a half-built pipeline.

import type {
  AnyValue,
  AttributeLimits,
  EnvSource,
  PropagatorName,
  SamplerName,
  SpanLimits,
} from "../mod.ts";
import type {
  ExemplarFilter,
  TemporalityPreference,
} from "../pipeline/metrics/mod.ts";

/** The instrumentations this library can install. */
export type InstrumentationName = "http" | "fetch" | "otel-api" | "console";

export const INSTRUMENTATION_NAMES: readonly InstrumentationName[] = [
  "http",
  "fetch",
  "otel-api",
  "console",
];

export interface OtlpPlan {
  readonly kind: "otlp";
  readonly endpoint?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMillis?: number;
  readonly compression?: "gzip" | "none";
  readonly protocol?: "http/protobuf" | "http/json";
  readonly temporalityPreference?: TemporalityPreference;
}

export type ExporterPlan = OtlpPlan | { readonly kind: "console" };

export interface BatchPlan {
  readonly scheduledDelayMillis?: number;
  readonly exportTimeoutMillis?: number;
  readonly maxQueueSize?: number;
  readonly maxExportBatchSize?: number;
}

export interface OsPlan {
  readonly kind: "user_events" | "etw";
  /** Set: the name as given; unset: derived from service.name. */
  readonly providerName?: string;
  readonly resourceAttributes?: readonly string[];
  readonly maxEventSize?: number;
  /** Picked by default (not asked for): dropped with one diagnostic when unavailable. */
  readonly optional?: boolean;
}

export type ProcessorPlan =
  | {
    readonly kind: "batch";
    readonly exporter: ExporterPlan;
    readonly batch: BatchPlan;
  }
  | { readonly kind: "simple"; readonly exporter: ExporterPlan }
  | OsPlan;

export interface ReaderPlan {
  readonly exporter: ExporterPlan | OsPlan;
  readonly intervalMillis?: number;
  readonly timeoutMillis?: number;
}

export interface Plan {
  /** "environment", or the configuration file's path, or "options". */
  readonly source: string;
  readonly disabled: boolean;
  /** What components read for OTEL_* defaults: the process's in env mode, nothing in file mode. */
  readonly componentEnv: EnvSource;
  /** File mode: the resource attributes (SDK attributes are added); env mode: undefined. */
  readonly resource?: {
    readonly attributes: Readonly<Record<string, AnyValue>>;
    readonly schemaUrl?: string;
  };
  readonly propagators?: readonly PropagatorName[];
  readonly traces: {
    readonly processors: readonly ProcessorPlan[];
    readonly limits?: SpanLimits;
    readonly sampler?: SamplerName;
    readonly samplerRatio?: number;
  };
  readonly logs: {
    readonly processors: readonly ProcessorPlan[];
    readonly limits?: AttributeLimits;
  };
  readonly metrics: {
    readonly readers: readonly ReaderPlan[];
    readonly exemplarFilter?: ExemplarFilter;
  };
  readonly instrumentations: readonly InstrumentationName[];
  readonly shutdownTimeoutMillis: number;
  /** Reported once the plan is built (e.g. variables a file uses that are not set). */
  readonly warnings?: readonly string[];
  /** Explicit provider name for the OS back-ends (SEED_TELEMETRY_PROVIDER_NAME). */
  readonly providerName?: string;
}
